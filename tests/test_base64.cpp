// Base64 (RFC 4648 section 4), strict decoding: known vectors, round trips, every error class,
// every backend against the scalar oracle, and OpenSSL where it is strict.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "kernel_support.hpp"

#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#if defined(WSFRAME_TEST_OPENSSL)
#include <openssl/evp.h>
#endif

using namespace wsframe;
using wsframe::test::bytes_of;
using wsframe::test::quick;
using wsframe::test::random_bytes;
using wsframe::test::rng;

namespace {

std::string encode(const Backend& b, std::span<const std::byte> in) {
  std::string s(base64_encoded_size(in.size()), '\0');
  s.resize(base64_encode(b, in, std::span<char>(s.data(), s.size())));
  return s;
}

}  // namespace

TEST_CASE("RFC 4648 section 10 vectors", "[base64]") {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  test::for_each_backend_and_fallback([&](const Backend& b) {
    for (auto [plain, coded] : vectors) {
      CHECK(encode(b, bytes_of(plain)) == coded);
      std::vector<std::byte> out(base64_decoded_max_size(coded.size()));
      std::size_t written = 99;
      REQUIRE(base64_decode(b, coded, out, written) == Base64Status::ok);
      CHECK(std::string_view(reinterpret_cast<const char*>(out.data()), written) == plain);
    }
  });
}

namespace {

struct Decoded {
  Base64Status status;
  std::vector<std::byte> bytes;
};

// Decodes into a buffer of exactly the decoded size (base64_decoded_max_size minus padding), so
// that ASan sees any write past it.
Decoded decode(const Backend& b, std::string_view in) {
  std::size_t size = base64_decoded_max_size(in.size());
  if (in.size() % 4 == 0 && !in.empty() && in.back() == '=') size -= in[in.size() - 2] == '=' ? 2 : 1;
  auto heap = std::make_unique<std::byte[]>(size + 1);  // +1: make_unique of 0 elements is fine, data() not null
  std::size_t written = 12345;
  const Base64Status status = base64_decode(b, in, std::span(heap.get(), size), written);
  if (status != Base64Status::ok) {
    CHECK(written == 0);
    return {status, {}};
  }
  return {status, std::vector<std::byte>(heap.get(), heap.get() + written)};
}

// Every backend decodes `in` exactly as scalar does; returns scalar's result.
Decoded decode_everywhere(std::string_view in) {
  Decoded expected = decode(test::scalar_backend(), in);
  test::for_each_simd_backend_and_fallback([&](const Backend& b) {
    const Decoded got = decode(b, in);
    REQUIRE(got.status == expected.status);
    REQUIRE(got.bytes == expected.bytes);
  });
  return expected;
}

bool in_alphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

#if defined(WSFRAME_TEST_OPENSSL)
// OpenSSL's EVP_DecodeBlock: -1 on what it rejects, else the 3 * n / 4 bytes (padding decoded
// as zero bytes). It tolerates leading and trailing whitespace, which we reject.
int openssl_decode(std::string_view in, std::vector<unsigned char>& out) {
  out.assign(in.size() / 4 * 3 + 3, 0);
  return EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
}
#endif

}  // namespace

TEST_CASE("round trips of every length, every backend equal to scalar", "[base64]") {
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 1024; n += (quick() && n > 200 ? 7 : 1)) lengths.push_back(n);
  for (int i = 0; i < (quick() ? 4 : 40); ++i) lengths.push_back(1025 + rng()() % 70000);
  for (std::size_t n : lengths) {
    const auto data = random_bytes(n + 3);
    const std::size_t offset = n % 4;  // a few alignments
    const std::span<const std::byte> in(data.data() + offset, n);
    INFO("length " << n);
    const std::string expected = encode(test::scalar_backend(), in);
    REQUIRE(expected.size() == base64_encoded_size(n));
#if defined(WSFRAME_TEST_OPENSSL)
    std::string openssl(expected.size() + 1, '\0');
    const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(openssl.data()),
                                    reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(n));
    openssl.resize(static_cast<std::size_t>(len));
    REQUIRE(expected == openssl);
#endif
    test::for_each_simd_backend_and_fallback([&](const Backend& b) { REQUIRE(encode(b, in) == expected); });
    const Decoded back = decode_everywhere(expected);
    REQUIRE(back.status == Base64Status::ok);
    REQUIRE(std::equal(back.bytes.begin(), back.bytes.end(), in.begin(), in.end()));
  }
}

namespace {

// RFC 4648 section 4 written out plainly, one 6-bit group at a time: the oracle of the sweeps.
std::string plain_encode(std::span<const std::byte> in) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const std::size_t k = std::min<std::size_t>(3, in.size() - i);
    std::uint32_t v = 0;
    for (std::size_t j = 0; j < 3; ++j) v = v << 8 | (j < k ? std::to_integer<std::uint32_t>(in[i + j]) : 0);
    for (std::size_t c = 0; c < 4; ++c) out += c <= k ? alphabet[v >> (18 - 6 * c) & 63] : '=';
  }
  return out;
}

// Encodes `in` into an allocation of exactly the encoded size (AddressSanitizer sees a write
// past it); returns the chars written, and "" when the count is wrong.
std::string encode_exact(const Backend& b, std::span<const std::byte> in) {
  const std::size_t size = base64_encoded_size(in.size());
  const auto out = std::make_unique<char[]>(size);
  if (b.base64_encode(in.data(), in.size(), out.get()) != size) return "";
  return std::string(out.get(), size);
}

}  // namespace

// The longest input the encode sweeps take: 1 KiB and two 192-byte (VBMI) blocks, so every tail
// length 0..191 after every block count 0..5 and more (5 blocks + 128 is a 1 KiB message's).
constexpr std::size_t sweep_max = 1024 + 2 * 192;

// The encoders take the input in 6-byte (scalar pair table), 12-, 24- and 48-byte (vector)
// steps, 192-byte blocks (VBMI), a 20-byte digest in one, and the rest in 3-byte groups and a
// 1- or 2-byte end. So every length through sweep_max at every start 0..63 in a cache line, the
// input ending where its allocation ends.
TEST_CASE("encode: every length to 1 KiB + 2 blocks at every start, every backend against RFC 4648", "[base64][sweep]") {
  constexpr std::size_t max_n = sweep_max;
  const auto data = random_bytes(max_n);
  std::size_t cases = 0;
  for (std::size_t n = 0; n <= max_n; ++n)
    for (std::size_t start = 0; start < 64; ++start) {
      // Under emulation, past 200 only the lengths next to a multiple of 48.
      if (quick() && n > 200 && (n + 3) % 48 > 6) continue;
      if (quick() && start % 8 > 1 && start % 16 != 15) continue;
      auto* base = static_cast<std::byte*>(::operator new(start + n, std::align_val_t{64}));
      std::memcpy(base + start, data.data(), n);
      const std::span<const std::byte> in(base + start, n);
      const std::string want = plain_encode(in);
      test::for_each_backend_and_fallback([&](const Backend& b) {
        INFO("length " << n << ", start " << start);
        CHECK(encode_exact(b, in) == want);
        ++cases;
      });
      ::operator delete(base, std::align_val_t{64});
    }
  CHECK(cases > 201);
}

// Encodes `in` on every backend into every output start 0..63 (every `start_step`-th) of a
// 64-byte-aligned allocation that ends where the output does, against RFC 4648.
struct OutputStartSweep {
  std::size_t cases = 0, wrong = 0;
  std::string first;

  void run(std::span<const std::byte> in, std::size_t start_step) {
    const std::string want = plain_encode(in);
    for (std::size_t start = 0; start < 64; start += start_step) {
      auto* base = static_cast<char*>(::operator new(start + want.size(), std::align_val_t{64}));
      test::for_each_backend_and_fallback([&](const Backend& b) {
        ++cases;
        const std::size_t written = b.base64_encode(in.data(), in.size(), base + start);
        if ((written != want.size() || std::memcmp(base + start, want.data(), want.size()) != 0) && wrong++ == 0)
          first = std::string(b.name) + ", length " + std::to_string(in.size()) + ", output start " + std::to_string(start);
      });
      ::operator delete(base, std::align_val_t{64});
    }
  }
  void check() const {
    CHECK(cases > 601);
    INFO("first wrong: " << first);
    CHECK(wrong == 0);
  }
};

// The vector encoders store whole vectors and a masked last one: every output start 0..63 in a
// cache line at every length from 200 through sweep_max, the output ending where its allocation
// ends.
TEST_CASE("encode: every output start at every length 200 to 1 KiB + 2 blocks, every backend against RFC 4648",
          "[base64][sweep]") {
  constexpr std::size_t max_n = sweep_max;
  const auto data = random_bytes(max_n);
  OutputStartSweep sweep;
  for (std::size_t n = 200; n <= max_n; ++n) {
    if (quick() && (n + 3) % 48 > 6) continue;
    sweep.run({data.data() + max_n - n, n}, 1);
  }
  sweep.check();
}

// From 2 KiB on, the VBMI encoder starts with a short step that aligns its later stores to 32
// bytes, when the output starts 4, 8, ..., 28 bytes past such a boundary. Every output start
// 0..63 at every length from just under 2 KiB through two blocks and a 64-byte tail past it
// (every tail length 0..191 after it, with or without that step), the output ending where its
// allocation ends, and the input ending where its own does.
TEST_CASE("encode: every output start at every length around 2 KiB + 2 blocks, every backend against RFC 4648",
          "[base64][sweep]") {
  constexpr std::size_t align_from = 2048, max_n = align_from + 2 * 192 + 64;
  const auto data = random_bytes(max_n);
  OutputStartSweep sweep;
  for (std::size_t n = align_from - 64; n <= max_n; ++n) {
    if (quick() && (n + 3) % 48 > 6) continue;
    const auto input = std::make_unique<std::byte[]>(n);
    std::memcpy(input.get(), data.data(), n);
    sweep.run({input.get(), n}, quick() ? 4 : 1);
  }
  sweep.check();
}

// Two pages, the second PROT_NONE: bytes placed to end at the first page's end make any access
// past them a crash, not only an AddressSanitizer report (masked lanes never fault).
class GuardedPage {
 public:
  GuardedPage() {
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void* p = mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    base_ = static_cast<std::byte*>(p);
    REQUIRE(mprotect(base_ + page_, page_, PROT_NONE) == 0);
  }
  ~GuardedPage() { munmap(base_, 2 * page_); }
  GuardedPage(const GuardedPage&) = delete;
  GuardedPage& operator=(const GuardedPage&) = delete;
  std::size_t size() const { return page_; }
  // Room for n bytes ending where the readable page ends.
  std::byte* ending(std::size_t n) const { return base_ + page_ - n; }

 private:
  std::size_t page_ = 0;
  std::byte* base_ = nullptr;
};

// Every length through sweep_max, the input and then the output ending at a PROT_NONE page, and
// the encoding decoded back from there: no backend reads or writes a byte past either.
TEST_CASE("encode and decode: every length to 1 KiB + 2 blocks ending at a PROT_NONE page, every backend",
          "[base64][sweep]") {
  const auto data = random_bytes(sweep_max);
  GuardedPage input, output;
  REQUIRE(base64_encoded_size(sweep_max) <= output.size());
  std::size_t cases = 0, wrong = 0;
  std::string first;
  for (std::size_t n = 0; n <= sweep_max; ++n) {
    std::byte* in = input.ending(n);
    std::memcpy(in, data.data(), n);
    const std::string want = plain_encode({in, n});
    char* out = reinterpret_cast<char*>(output.ending(want.size()));
    test::for_each_backend_and_fallback([&](const Backend& b) {
      ++cases;
      const std::size_t written = b.base64_encode(in, n, out);
      bool ok = written == want.size() && std::memcmp(out, want.data(), want.size()) == 0;
      // Decoding back: the chars end at a page end, and so does the room for the decoded bytes
      // (base64_decoded_max_size: n, or up to 2 more when the last quad is padded).
      std::byte* back = input.ending(base64_decoded_max_size(want.size()));
      std::size_t decoded = 0;
      ok = ok && b.base64_decode(out, want.size(), back, &decoded) == Base64Status::ok && decoded == n &&
           std::memcmp(back, data.data(), n) == 0;
      if (!ok && wrong++ == 0) first = std::string(b.name) + ", length " + std::to_string(n);
      std::memcpy(in, data.data(), n);
    });
  }
  CHECK(cases > sweep_max);
  INFO("first wrong: " << first);
  CHECK(wrong == 0);
}

// Every 12-bit value in both halves of a 3-byte group (4096 groups), so every entry of a
// 12-bit table, through every step of the encoders (three starts).
TEST_CASE("encode: every 12-bit value in both halves of a group, every backend against RFC 4648", "[base64][sweep]") {
  std::vector<std::byte> data;
  for (std::uint32_t k = 0; k < 4096; ++k) {
    const std::uint32_t v = k << 12 | (4095 - k);
    for (int shift : {16, 8, 0}) data.push_back(static_cast<std::byte>(v >> shift));
  }
  for (std::size_t start = 0; start < 3; ++start) {
    const std::span<const std::byte> in(data.data() + start, data.size() - start);
    const std::string want = plain_encode(in);
    test::for_each_backend_and_fallback([&](const Backend& b) {
      INFO("start " << start);
      CHECK(encode_exact(b, in) == want);
    });
  }
}

// A 20-byte digest (Sec-WebSocket-Accept) takes its own path on every backend: every 12-bit
// value at each of its 13 pair positions (bits 12 p .. 12 p + 11) and every value of its last 4
// bits, over random bytes elsewhere.
TEST_CASE("encode: a 20-byte digest with every 12-bit value at each pair position, every backend against RFC 4648",
          "[base64][sweep]") {
  const auto base = random_bytes(20);
  std::size_t cases = 0;
  for (std::size_t p = 0; p <= 13; ++p)
    for (std::uint32_t v = 0; v < (p < 13 ? 4096u : 16u); v += (quick() && p < 13 ? 7 : 1)) {
      std::vector<std::byte> in(base.begin(), base.end());
      const std::size_t bits = p < 13 ? 12 : 4;
      for (std::size_t k = 0; k < bits; ++k) {  // bit k of v is bit 12 p + bits - 1 - k, big-endian
        const std::size_t at = 12 * p + bits - 1 - k;
        const auto bit = static_cast<std::byte>(0x80 >> (at % 8));
        in[at / 8] = (v >> k & 1) ? (in[at / 8] | bit) : (in[at / 8] & ~bit);
      }
      const std::string want = plain_encode(in);
      test::for_each_backend_and_fallback([&](const Backend& b) {
        INFO("pair " << p << ", value " << v);
        CHECK(encode_exact(b, in) == want);
        ++cases;
      });
    }
  CHECK(cases > 13 * 500);
}

TEST_CASE("the encoder writes nothing when the output is too small", "[base64]") {
  const auto data = random_bytes(10);
  std::string out(base64_encoded_size(10) - 1, '#');
  test::for_each_backend_and_fallback([&](const Backend& b) {
    CHECK(base64_encode(b, data, std::span<char>(out.data(), out.size())) == 0);
    CHECK(out == std::string(out.size(), '#'));
  });
  CHECK(base64_encoded_size(0) == 0);
  CHECK(base64_encoded_size(1) == 4);
  CHECK(base64_encoded_size(3) == 4);
  CHECK(base64_encoded_size(4) == 8);
  // Every input length to 64 and every output size around its encoded size: refused exactly
  // when the output is smaller.
  const auto input = random_bytes(64);
  std::size_t wrong = 0;
  for (std::size_t n = 0; n <= 64; ++n)
    for (std::size_t size = 0; size <= base64_encoded_size(n) + 4; ++size) {
      std::string buffer(size, '#');
      const std::size_t got = base64_encode(test::scalar_backend(), std::span(input.data(), n), std::span(buffer.data(), size));
      wrong += got != (size < base64_encoded_size(n) ? 0 : base64_encoded_size(n));
    }
  CHECK(wrong == 0);
}

TEST_CASE("decoding errors", "[base64]") {
  // A valid encoding long enough for several SIMD blocks of every backend, without padding (a
  // multiple of 3 bytes) so that quads can be appended.
  const auto data = random_bytes(quick() ? 102 : 300);
  const std::string valid = encode(test::scalar_backend(), data);

  SECTION("a character outside the alphabet at any position is invalid_character") {
    const std::size_t step = quick() ? 5 : 1;
    for (std::size_t pos = 0; pos < valid.size(); pos += step) {
      for (int c = 0; c < 256; c += (pos % 17 == 0 ? 1 : 37)) {
        const char ch = static_cast<char>(c);
        if (in_alphabet(ch) || ch == '=') continue;
        std::string bad = valid;
        bad[pos] = ch;
        INFO("position " << pos << " character " << c);
        REQUIRE(decode_everywhere(bad).status == Base64Status::invalid_character);
#if defined(WSFRAME_TEST_OPENSSL)
        std::vector<unsigned char> out;
        // OpenSSL trims surrounding whitespace; inside, it rejects what we reject.
        const bool whitespace_at_edge = (pos == 0 || pos + 1 == valid.size()) && (std::isspace(c) != 0 || c == 0);
        if (!whitespace_at_edge) CHECK(openssl_decode(bad, out) == -1);
#endif
      }
    }
  }
  SECTION("an invalid character wins over misplaced padding, wherever both are") {
    std::string bad = valid;
    bad[4] = '=';
    bad[bad.size() - 6] = '*';
    CHECK(decode_everywhere(bad).status == Base64Status::invalid_character);
    bad = valid;
    bad[4] = '*';
    bad[bad.size() - 6] = '=';
    CHECK(decode_everywhere(bad).status == Base64Status::invalid_character);
  }
  SECTION("'=' anywhere but the last one or two characters is invalid_padding") {
    for (std::size_t pos = 0; pos + 2 < valid.size(); ++pos) {
      std::string bad = valid;
      bad[pos] = '=';
      INFO("position " << pos);
      REQUIRE(decode_everywhere(bad).status == Base64Status::invalid_padding);
    }
    for (std::string_view s : {"====", "A===", "AB=C", "=ABC", "AB==AB==", "ABC=ABCD", "AB==ABCD", "QQ==QQ=="})
      CHECK(decode_everywhere(s).status == Base64Status::invalid_padding);
  }
  SECTION("unused bits under the padding must be zero: non_canonical") {
    // "QQ==" is 'A'; 'Q' = 16 = 0b010000: the low four bits of the second character are unused.
    for (const char* c = "RSTUVWXYZabcdef"; *c != '\0'; ++c) {
      const std::string one_byte = valid + "Q" + *c + "==";
      CHECK(decode_everywhere(one_byte).status == Base64Status::non_canonical);
    }
    // "QUE=" is "AA"; the low two bits of the third character are unused.
    for (const char* c = "FGH"; *c != '\0'; ++c) {
      const std::string two_bytes = valid + "QU" + *c + "=";
      CHECK(decode_everywhere(two_bytes).status == Base64Status::non_canonical);
    }
    CHECK(decode_everywhere(valid + "QQ==").status == Base64Status::ok);
    CHECK(decode_everywhere(valid + "QUE=").status == Base64Status::ok);
  }
  SECTION("a length that is not a multiple of 4 is invalid_length") {
    for (std::size_t n = 0; n <= valid.size(); ++n) {
      if (n % 4 == 0) continue;
      CHECK(decode_everywhere(std::string_view(valid).substr(0, n)).status == Base64Status::invalid_length);
    }
    CHECK(decode_everywhere("QQ=").status == Base64Status::invalid_length);  // unpadded form
    CHECK(decode_everywhere("QQ").status == Base64Status::invalid_length);
  }
  SECTION("an output buffer smaller than the decoded bytes is invalid_length") {
    test::for_each_backend_and_fallback([&](const Backend& b) {
      std::vector<std::byte> out(data.size() - 1);
      std::size_t written = 7;
      CHECK(base64_decode(b, valid, out, written) == Base64Status::invalid_length);
      CHECK(written == 0);
      out.resize(data.size());
      CHECK(base64_decode(b, valid, out, written) == Base64Status::ok);
      CHECK(written == data.size());
    });
  }
  SECTION("the empty input decodes to nothing") {
    CHECK(decode_everywhere("").status == Base64Status::ok);
  }
}

#if defined(WSFRAME_TEST_OPENSSL)
TEST_CASE("what we accept, OpenSSL decodes to the same bytes", "[base64]") {
  for (std::size_t n = 0; n < 300; ++n) {
    const auto data = random_bytes(n);
    const std::string coded = encode(test::scalar_backend(), data);
    std::vector<unsigned char> out;
    REQUIRE(openssl_decode(coded, out) == static_cast<int>(coded.size() / 4 * 3));
    const Decoded ours = decode_everywhere(coded);
    REQUIRE(ours.status == Base64Status::ok);
    CHECK(std::equal(ours.bytes.begin(), ours.bytes.end(), reinterpret_cast<const std::byte*>(out.data())));
  }
}
#endif

#if defined(__x86_64__)

TEST_CASE("avx512vbmi: the avx512 kernels with VBMI base64, supported exactly when the CPU has VBMI", "[base64][dispatch]") {
  const Backend* plain = find_backend("avx512");
  const Backend* vbmi = find_backend("avx512vbmi");
  REQUIRE(plain != nullptr);
  REQUIRE(vbmi != nullptr);
  SECTION("supported with avx512 and the VBMI CPUID bit") {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    const bool has_vbmi = ((ecx >> 1) & 1) != 0;  // CPUID.(EAX=7,ECX=0):ECX bit 1
    CHECK(supported(*vbmi) == (supported(*plain) && has_vbmi));
  }
  SECTION("base64 is its own, every other kernel the avx512 one") {
    CHECK(vbmi->base64_encode != plain->base64_encode);
    CHECK(vbmi->base64_decode != plain->base64_decode);
    CHECK(vbmi->mask == plain->mask);
    CHECK(vbmi->mask_copy == plain->mask_copy);
    CHECK(vbmi->utf8_feed == plain->utf8_feed);
    CHECK(vbmi->utf8_validate == plain->utf8_validate);
    CHECK(vbmi->unmask_utf8_validate == plain->unmask_utf8_validate);
    CHECK(vbmi->sha1 == plain->sha1);
    CHECK(vbmi->accept_key == plain->accept_key);
    CHECK(vbmi->accept_keys == plain->accept_keys);
    CHECK(vbmi->decode_header == plain->decode_header);
  }
}
#endif
