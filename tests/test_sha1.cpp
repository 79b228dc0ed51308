// SHA-1 (FIPS 180-4) and the WebSocket accept key (RFC 6455 4.2.2): known vectors, OpenSSL as
// an independent oracle (when it is available for the target), every backend against scalar.
#include <string>
#include <string_view>

#include "support.hpp"

#if defined(WSFRAME_TEST_OPENSSL)
#include <openssl/sha.h>
#endif

using namespace wsframe;
using wsframe::test::quick;
using wsframe::test::random_bytes;
using wsframe::test::rng;

namespace {

std::span<const std::byte> bytes_of(std::string_view s) { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }

std::string hex(const Sha1Digest& d) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (std::byte b : d) {
    s += digits[static_cast<unsigned>(b) >> 4];
    s += digits[static_cast<unsigned>(b) & 15];
  }
  return s;
}

std::string str(const AcceptKey& a) { return std::string(a.data(), a.size()); }

// Every backend this machine runs, scalar included.
template <class Fn>
void for_each_backend(Fn&& body) {
  INFO("backend scalar");
  body(test::scalar_backend());
  test::for_each_simd_backend(body);
}

}  // namespace

TEST_CASE("RFC 6455 4.2.2 and 1.3: accept key vectors", "[sha1][accept]") {
  for_each_backend([](const Backend& b) {
    CHECK(str(accept_key(b, "dGhlIHNhbXBsZSBub25jZQ==")) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK(str(accept_key(b, "x3JJHMbDL1EzLkh9GBhXDw==")) == "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
  });
}

TEST_CASE("FIPS 180 SHA-1 vectors", "[sha1]") {
  for_each_backend([](const Backend& b) {
    CHECK(hex(sha1(b, bytes_of(""))) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    CHECK(hex(sha1(b, bytes_of("abc"))) == "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(hex(sha1(b, bytes_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))) ==
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    CHECK(hex(sha1(b, bytes_of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"))) ==
          "a49b2446a02c645bf419f995b67091253a04a259");
    const std::string million_a(1000000, 'a');
    CHECK(hex(sha1(b, bytes_of(million_a))) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  });
}
