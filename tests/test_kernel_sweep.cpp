// Masking, base64 and header decoding at every length around their block sizes, on every
// backend (and the unpatched tables), against the scalar oracle or the definition. Inputs sit
// at the end of exact-size heap buffers, so a read or write past them is an AddressSanitizer
// report; writes before or after the region under test show as changed guard bytes.
#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string>

#include "kernel_support.hpp"

using namespace wsframe;
using namespace wsframe::test;

namespace {

constexpr std::byte guard{0xA5};

// Room for n bytes at any alignment 0..63 from a 64-byte boundary, with at least 64 guard bytes
// on both sides.
struct Region {
  std::vector<std::byte> storage;
  std::byte* at;  // a 64-byte boundary; the bytes under test start at at + alignment
  explicit Region(std::size_t capacity) : storage(64 + 64 + 64 + capacity + 64, guard) {
    const auto base = reinterpret_cast<std::uintptr_t>(storage.data() + 64);
    at = storage.data() + 64 + (64 - base % 64) % 64;
  }
};

// The 64 bytes before and after the n bytes at `at` are guard bytes.
bool guards_intact(const std::byte* at, std::size_t n) {
  static const auto guards = std::vector<std::byte>(64, guard);
  return same_bytes(at - 64, guards.data(), 64) && same_bytes(at + n, guards.data(), 64);
}

std::vector<std::byte> pattern(std::size_t n) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>(i * 131 + 7);
  return v;
}

}  // namespace

TEST_CASE("mask sweep: every length to 300, every phase, every source and destination alignment", "[mask][sweep]") {
  const MaskKey key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};
  const std::size_t max_n = 300;
  // Under emulation every 7th alignment, and those next to a 16-byte boundary.
  const auto alignments = [] {
    std::vector<std::size_t> a;
    for (std::size_t i = 0; i < 64; ++i)
      if (!quick() || i % 7 == 0 || (i + 1) % 16 <= 2) a.push_back(i);
    return a;
  }();
  const auto input = pattern(max_n);
  for (const Backend* backend : distinct_backends(&Backend::mask, &Backend::mask_copy)) {
    const Backend& b = *backend;
    INFO("backend " << b.name);
    std::size_t cases = 0, wrong = 0;
    std::string first;
    const auto note = [&](bool ok, std::size_t n, std::size_t phase, std::size_t sa, std::size_t da, const char* what) {
      ++cases;
      if (!ok && wrong++ == 0)
        first = std::string(what) + ": n=" + std::to_string(n) + " phase " + std::to_string(phase) + " alignments " + std::to_string(sa) + "/" + std::to_string(da);
    };
    Region src_region(max_n), dst_region(max_n);
    for (std::size_t n = 0; n <= max_n; ++n)
      for (std::size_t phase = 0; phase < 4; ++phase) {
        std::vector<std::byte> want(n);
        for (std::size_t i = 0; i < n; ++i) want[i] = input[i] ^ key[(phase + i) % 4];  // the definition
        const std::uint32_t key_word = detail::mask_key_word(key, phase);
        for (std::size_t sa : alignments) {
          std::byte* src = src_region.at + sa;
          copy_bytes(src, input.data(), n);
          // In place (mask, and mask_copy with the source as destination: the exact alias).
          b.mask(src, n, key_word);
          note(same_bytes(src, want.data(), n) && guards_intact(src, n), n, phase, sa, sa, "in place");
          copy_bytes(src, input.data(), n);
          b.mask_copy(src, src, n, key_word);
          note(same_bytes(src, want.data(), n) && guards_intact(src, n), n, phase, sa, sa, "exact alias");
          copy_bytes(src, input.data(), n);
          for (std::size_t da : alignments) {
            std::byte* dst = dst_region.at + da;
            b.mask_copy(src, dst, n, key_word);
            note(same_bytes(dst, want.data(), n) && guards_intact(dst, n) &&
                     same_bytes(src, input.data(), n),
                 n, phase, sa, da, "copy");
            std::fill(dst, dst + n, guard);
          }
          std::fill(src, src + n, guard);
        }
      }
    INFO(cases << " cases; first mismatch: " << first);
    CHECK(wrong == 0);
  }
}

TEST_CASE("mask sweep: exact-size heap buffers at every length to 300", "[mask][sweep]") {
  const MaskKey key{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  for_each_backend_and_fallback([&](const Backend& b) {
    std::size_t wrong = 0;
    for (std::size_t n = 0; n <= 300; ++n)
      for (std::size_t phase = 0; phase < 4; ++phase) {
        const auto input = pattern(n);
        auto src = std::make_unique<std::byte[]>(n), dst = std::make_unique<std::byte[]>(n);
        copy_bytes(src.get(), input.data(), n);
        b.mask_copy(src.get(), dst.get(), n, detail::mask_key_word(key, phase));
        b.mask(src.get(), n, detail::mask_key_word(key, phase));
        for (std::size_t i = 0; i < n; ++i) wrong += src[i] != (input[i] ^ key[(phase + i) % 4]) || dst[i] != src[i];
      }
    CHECK(wrong == 0);
  });
}

namespace {

std::string encoded(const Backend& b, std::span<const std::byte> in) {
  std::string s(base64_encoded_size(in.size()), '\0');
  s.resize(base64_encode(b, in, std::span<char>(s.data(), s.size())));
  return s;
}

struct Decoded {
  Base64Status status;
  std::vector<std::byte> bytes;
  bool operator==(const Decoded&) const = default;
};
// Decodes from an exact-size heap copy into an exact-size output.
Decoded decoded(const Backend& b, std::string_view in) {
  auto copy = std::make_unique<char[]>(in.size());
  copy_bytes(copy.get(), in.data(), in.size());
  std::vector<std::byte> out(base64_decoded_max_size(in.size()));
  std::size_t written = 0;
  const Base64Status s = base64_decode(b, {copy.get(), in.size()}, out, written);
  out.resize(s == Base64Status::ok ? written : 0);
  return {s, out};
}

bool in_alphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

}  // namespace

// Every length through 1 KiB and two 192-byte (VBMI) blocks: every tail after every block count
// through 5 blocks + 128 bytes (a 1 KiB message) and beyond.
TEST_CASE("base64 sweep: every length to 1 KiB + 2 blocks both ways, every backend equal to scalar", "[base64][sweep]") {
  const Backend& scalar = scalar_backend();
  for_each_simd_backend_and_fallback([&](const Backend& b) {
    std::size_t wrong = 0, first = SIZE_MAX;
    for (std::size_t n = 0; n <= 1024 + 2 * 192; ++n) {
      const auto data = pattern(n);
      auto exact = std::make_unique<std::byte[]>(n);
      copy_bytes(exact.get(), data.data(), n);
      const std::string want = encoded(scalar, data);
      const bool ok = encoded(b, {exact.get(), n}) == want && decoded(b, want) == Decoded{Base64Status::ok, data};
      if (!ok && wrong++ == 0) first = n;
    }
    INFO("first wrong length " << first);
    CHECK(wrong == 0);
  });
}

TEST_CASE("base64 sweep: each invalid character at every position of short inputs", "[base64][sweep]") {
  // Every encoding of 0..48 bytes (up to 64 characters: a vector block of every backend and one
  // past it), every character outside the alphabet and '=' at every position: invalid_character,
  // as scalar says, on every backend.
  const Backend& scalar = scalar_backend();
  for_each_backend_and_fallback([&](const Backend& b) {
    std::size_t cases = 0, wrong = 0;
    std::string first;
    for (std::size_t n = 1; n <= 48; ++n) {
      const std::string valid = encoded(scalar, pattern(n));
      for (std::size_t pos = 0; pos < valid.size(); ++pos)
        for (int c = 0; c < 256; c += quick() ? 3 : 1) {
          const char ch = static_cast<char>(c);
          if (in_alphabet(ch) || ch == '=') continue;
          std::string bad = valid;
          bad[pos] = ch;
          const Decoded got = decoded(b, bad);
          ++cases;
          if ((got.status != Base64Status::invalid_character || !(got == decoded(scalar, bad))) && wrong++ == 0)
            first = "length " + std::to_string(valid.size()) + ", position " + std::to_string(pos) + ", character " + std::to_string(c);
        }
    }
    INFO(cases << " cases; first: " << first);
    CHECK(wrong == 0);
  });
}

TEST_CASE("header sweep: every truncation of every length class, and every length given after it", "[frame][sweep]") {
  // 7-bit, 16-bit and 64-bit lengths (minimal and not), masked and not, and the 64-bit length
  // with its top bit set: every prefix is need_more with the full size; the header followed by
  // 0..8 more bytes (the kernels read 8 bytes at once where they can) decodes the same.
  struct Class {
    std::uint8_t len7;
    std::uint64_t length;
  };
  const Class classes[] = {{0, 0}, {1, 1}, {125, 125}, {126, 0}, {126, 126}, {126, 65535}, {127, 0}, {127, 65536},
                           {127, (1ull << 32) + 5}, {127, (1ull << 63) - 1}, {127, 1ull << 63}, {127, ~0ull}};
  for_each_backend_and_fallback([&](const Backend& b) {
    for (const Class& c : classes)
      for (bool masked : {false, true}) {
        INFO("7-bit length " << int(c.len7) << ", length " << c.length << (masked ? ", masked" : ""));
        std::vector<std::byte> wire{std::byte{0x82}, static_cast<std::byte>((masked ? 0x80 : 0) | c.len7)};
        const std::size_t extended = c.len7 == 126 ? 2 : c.len7 == 127 ? 8 : 0;
        for (std::size_t i = extended; i-- > 0;) wire.push_back(static_cast<std::byte>(c.length >> (8 * i)));
        if (masked) wire.insert(wire.end(), {std::byte{0x11}, std::byte{0x22}, std::byte{0x33}, std::byte{0x44}});
        const std::size_t size = wire.size();
        const bool too_large = c.length >> 63 != 0;
        for (std::size_t more = 0; more <= 8; ++more) wire.push_back(static_cast<std::byte>(0xE0 + more));
        for (std::size_t n = 0; n <= size + 8; ++n) {
          INFO("bytes given " << n);
          auto exact = std::make_unique<std::byte[]>(n);
          copy_bytes(exact.get(), wire.data(), n);
          FrameHeader h;
          const HeaderResult r = b.decode_header(exact.get(), n, h);
          if (n < size) {
            CHECK(r.status == HeaderStatus::need_more);
            CHECK(r.size == (n < 2 ? 2 : size));
          } else if (too_large) {
            CHECK(r.status == HeaderStatus::length_too_large);
          } else {
            REQUIRE(r.status == HeaderStatus::complete);
            CHECK(r.size == size);
            CHECK(h.size == size);
            CHECK(h.payload_length == c.length);
            CHECK(h.opcode == Opcode::binary);
            CHECK(h.fin);
            CHECK(h.rsv == 0);
            CHECK(h.masked == masked);
            const MaskKey key = masked ? MaskKey{std::byte{0x11}, std::byte{0x22}, std::byte{0x33}, std::byte{0x44}} : MaskKey{};
            CHECK(h.mask_key == key);
          }
        }
      }
  });
}
