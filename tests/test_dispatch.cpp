// Runtime dispatch: the backend table, the start-up choice, and the overrides.
#include <cstdlib>
#include <string>

#include "support.hpp"

using namespace wsframe;

namespace {
std::string_view fastest_supported() {
  std::string_view best;
  for (const BackendInfo& info : backends())
    if (info.supported) best = info.backend->name;
  return best;
}

// What the start-up choice must be in this process, from the environment.
std::string expected_initial_backend() {
  if (const char* expect = std::getenv("WSFRAME_EXPECT_BACKEND"); expect != nullptr && *expect != '\0') return expect;
  if (const char* requested = std::getenv("WSFRAME_BACKEND"); requested != nullptr) {
    const Backend* b = find_backend(requested);
    if (b != nullptr && supported(*b)) return requested;
  }
  return std::string(fastest_supported());
}
}  // namespace

// Tagged [env] so that ctest can also run it alone with WSFRAME_BACKEND set. Must be the first
// thing in the process that touches active(), hence its own test case and name order.
TEST_CASE("0: the start-up choice follows WSFRAME_BACKEND, else the fastest supported backend", "[dispatch][env]") {
  const std::string expected = expected_initial_backend();
  INFO("WSFRAME_BACKEND=" << (std::getenv("WSFRAME_BACKEND") ? std::getenv("WSFRAME_BACKEND") : "(unset)"));
  CHECK(active().name == expected);
  std::printf("wsframe active backend: %.*s\n", static_cast<int>(active().name.size()), active().name.data());
}

TEST_CASE("the backend table", "[dispatch]") {
  const auto all = backends();
  REQUIRE(!all.empty());
  SECTION("scalar is first and always supported") {
    CHECK(all.front().backend->name == "scalar");
    CHECK(all.front().supported);
  }
  SECTION("names are unique, findable, and say why a backend is unsupported") {
    for (const BackendInfo& info : all) {
      CHECK(find_backend(info.backend->name) == info.backend);
      CHECK(supported(*info.backend) == info.supported);
      CHECK(!info.requirement.empty());
      CHECK(info.backend->mask != nullptr);
      CHECK(info.backend->mask_copy != nullptr);
      CHECK(info.backend->utf8_feed != nullptr);
      CHECK(info.backend->utf8_validate != nullptr);
      CHECK(info.backend->unmask_utf8_validate != nullptr);
      CHECK(info.backend->base64_encode != nullptr);
      CHECK(info.backend->base64_decode != nullptr);
      CHECK(info.backend->sha1 != nullptr);
      CHECK(info.backend->accept_key != nullptr);
      CHECK(info.backend->accept_keys != nullptr);
      CHECK(info.backend->decode_header != nullptr);
    }
  }
  SECTION("the target's backends are compiled in") {
#if defined(__x86_64__)
    for (const char* name : {"scalar", "sse42", "avx2", "avx512", "avx512vbmi"}) CHECK(find_backend(name) != nullptr);
#elif defined(__aarch64__)
    CHECK(find_backend("neon") != nullptr);
    CHECK(supported(*find_backend("neon")));
#endif
    CHECK(find_backend("no-such-isa") == nullptr);
  }
}

TEST_CASE("use_backend", "[dispatch]") {
  const Backend& before = active();
  SECTION("an unknown name is an error and changes nothing") {
    CHECK(use_backend("mmx") == Error::unknown_backend);
    CHECK(&active() == &before);
    CHECK(!message(Error::unknown_backend).empty());
  }
  SECTION("an unsupported backend is an error and changes nothing") {
    bool any = false;
    for (const BackendInfo& info : backends()) {
      if (info.supported) continue;
      any = true;
      CHECK(use_backend(info.backend->name) == Error::unsupported_backend);
      CHECK(&active() == &before);
    }
    if (!any) WARN("every compiled-in backend is supported here: the unsupported case is not exercised");
  }
  SECTION("a supported backend becomes active, for every supported backend") {
    for (const BackendInfo& info : backends()) {
      if (!info.supported) continue;
      REQUIRE(use_backend(info.backend->name) == Error::ok);
      CHECK(&active() == info.backend);
      // The kernels called without a backend run on the active one.
      std::byte b[3] = {std::byte{1}, std::byte{2}, std::byte{3}};
      CHECK(mask(b, MaskKey{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}}) == 3);
      CHECK((b[0] == std::byte{0} && b[1] == std::byte{0} && b[2] == std::byte{0}));
    }
    REQUIRE(use_backend(before.name) == Error::ok);
  }
}
