// Base64 (RFC 4648 section 4), strict decoding: known vectors, round trips, every error class,
// every backend against the scalar oracle, and OpenSSL where it is strict.
#include <string>
#include <string_view>
#include <vector>

#include "support.hpp"

#if defined(WSFRAME_TEST_OPENSSL)
#include <openssl/evp.h>
#endif

using namespace wsframe;
using wsframe::test::quick;
using wsframe::test::random_bytes;
using wsframe::test::rng;

namespace {

std::string encode(const Backend& b, std::span<const std::byte> in) {
  std::string s(base64_encoded_size(in.size()), '\0');
  s.resize(base64_encode(b, in, std::span<char>(s.data(), s.size())));
  return s;
}

std::span<const std::byte> bytes_of(std::string_view s) { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }

template <class Fn>
void for_each_backend(Fn&& body) {
  INFO("backend scalar");
  body(test::scalar_backend());
  test::for_each_simd_backend(body);
}

}  // namespace

TEST_CASE("RFC 4648 section 10 vectors", "[base64]") {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for_each_backend([&](const Backend& b) {
    for (auto [plain, coded] : vectors) {
      CHECK(encode(b, bytes_of(plain)) == coded);
      std::vector<std::byte> out(base64_decoded_max_size(coded.size()));
      std::size_t written = 99;
      REQUIRE(base64_decode(b, coded, out, written) == Base64Status::ok);
      CHECK(std::string_view(reinterpret_cast<const char*>(out.data()), written) == plain);
    }
  });
}
