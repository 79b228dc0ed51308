// SHA-1 (FIPS 180-4) and the WebSocket accept key (RFC 6455 4.2.2): known vectors, OpenSSL as
// an independent oracle (when it is available for the target), every backend against scalar.
#include <string>
#include <string_view>

#include "kernel_support.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#endif

#if defined(WSFRAME_TEST_OPENSSL)
#include <openssl/sha.h>
#endif

using namespace wsframe;
using wsframe::test::bytes_of;
using wsframe::test::quick;
using wsframe::test::random_bytes;
using wsframe::test::rng;

namespace {

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

}  // namespace

TEST_CASE("RFC 6455 4.2.2 and 1.3: accept key vectors", "[sha1][accept]") {
  test::for_each_backend_and_fallback([](const Backend& b) {
    CHECK(str(accept_key(b, "dGhlIHNhbXBsZSBub25jZQ==")) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK(str(accept_key(b, "x3JJHMbDL1EzLkh9GBhXDw==")) == "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
  });
}

TEST_CASE("FIPS 180 SHA-1 vectors", "[sha1]") {
  test::for_each_backend_and_fallback([](const Backend& b) {
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

TEST_CASE("every backend computes the scalar SHA-1 on random inputs of 0..4 KiB", "[sha1]") {
  // Scalar is the portable code; on a CPU with SHA-NI (or ARMv8 SHA1) the other backends run
  // the hardware path, so this compares the two.
  const std::size_t step = quick() ? 13 : 1;
  for (std::size_t n = 0; n <= 4096; n += (n < 300 ? 1 : step * 7)) {
    const auto data = random_bytes(n);
    const Sha1Digest expected = sha1(test::scalar_backend(), data);
    INFO("length " << n);
#if defined(WSFRAME_TEST_OPENSSL)
    Sha1Digest openssl;
    SHA1(reinterpret_cast<const unsigned char*>(data.data()), n, reinterpret_cast<unsigned char*>(openssl.data()));
    REQUIRE(hex(expected) == hex(openssl));
#endif
    test::for_each_simd_backend_and_fallback([&](const Backend& b) { REQUIRE(hex(sha1(b, data)) == hex(expected)); });
  }
}

TEST_CASE("the active backend's SHA-1 is the one of its table", "[sha1]") {
  const auto data = random_bytes(1000);
  CHECK(hex(sha1(data)) == hex(sha1(active(), data)));
  CHECK(str(accept_key("dGhlIHNhbXBsZSBub25jZQ==")) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

namespace {
// A random printable key of n characters.
std::string random_key(std::size_t n) {
  std::string key(n, '\0');
  for (char& c : key) c = static_cast<char>(33 + rng()() % 94);
  return key;
}

// The accept key by its definition, through the generic SHA-1 of the scalar backend.
std::string accept_by_definition(const std::string& key) {
  const std::string joined = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  const Sha1Digest digest = sha1(test::scalar_backend(), bytes_of(joined));
  std::string out(28, '\0');
  base64_encode(test::scalar_backend(), digest, std::span<char>(out.data(), out.size()));
  return out;
}
}  // namespace

TEST_CASE("accept_key equals base64(SHA-1(key + GUID)) for every key length", "[sha1][accept]") {
  // 24 characters takes the specialised two-block path; the others the general one (lengths
  // around the 55/56/64-byte padding edges of key + 36 GUID bytes included).
  for (std::size_t n = 0; n <= 100; ++n) {
    const std::string key = random_key(n);
    const std::string expected = accept_by_definition(key);
    INFO("key length " << n);
    CHECK(str(accept_key(test::scalar_backend(), key)) == expected);
    test::for_each_simd_backend_and_fallback([&](const Backend& b) { CHECK(str(accept_key(b, key)) == expected); });
  }
}

TEST_CASE("accept_keys equals accept_key for each key", "[sha1][accept]") {
  std::vector<std::string> storage;
  for (int i = 0; i < 67; ++i) storage.push_back(random_key(24));  // not a multiple of any lane count
  SECTION("batches of usual 24-character keys, every count up to 67") {}
  SECTION("a batch mixing other lengths among them") {
    for (std::size_t i = 0; i < storage.size(); i += 5) storage[i] = random_key(i % 40);
  }
  std::vector<std::string_view> keys(storage.begin(), storage.end());
  test::for_each_backend_and_fallback([&](const Backend& b) {
    for (std::size_t count = 0; count <= keys.size(); count += (quick() ? 11 : 1)) {
      std::vector<AcceptKey> out(count + 1);
      out.back().fill('#');
      accept_keys(b, std::span(keys).first(count), std::span(out).first(count));
      INFO("count " << count);
      for (std::size_t i = 0; i < count; ++i) REQUIRE(str(out[i]) == str(accept_key(test::scalar_backend(), keys[i])));
      CHECK(str(out.back()) == std::string(28, '#'));  // nothing past the count
    }
  });
}

TEST_CASE("accept_keys: the shorter span bounds the count", "[sha1][accept]") {
  const std::vector<std::string> storage{random_key(24), random_key(24), random_key(24)};
  const std::vector<std::string_view> keys(storage.begin(), storage.end());
  std::vector<AcceptKey> two(2);
  accept_keys(keys, two);
  CHECK(str(two[1]) == str(accept_key(keys[1])));
  accept_keys(std::span(keys).first(1), std::span(two));
  CHECK(str(two[0]) == str(accept_key(keys[0])));
  CHECK(str(two[1]) == str(accept_key(keys[1])));  // untouched
}


TEST_CASE("dispatch uses the SHA instructions exactly when the CPU has them", "[sha1][dispatch]") {
  bool has_sha = false;
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0, nullptr) >= 7) {
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    has_sha = ((ebx >> 29) & 1) != 0;  // CPUID.(EAX=7,ECX=0):EBX bit 29
  }
#elif defined(__aarch64__)
  has_sha = (getauxval(AT_HWCAP) & HWCAP_SHA1) != 0;
#endif
  if (!has_sha) WARN("this CPU has no SHA instructions: only the portable SHA-1 runs here");
  for (const Backend* raw : test::unpatched_simd_tables()) {
    const Backend* used = find_backend(raw->name);
    INFO("backend " << raw->name);
    CHECK((used->sha1 != raw->sha1) == has_sha);
    CHECK((used->accept_key != raw->accept_key) == has_sha);
  }
  CHECK(test::scalar_backend().sha1 == find_backend("scalar")->sha1);
}
