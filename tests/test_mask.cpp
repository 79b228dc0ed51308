// Masking (RFC 6455 section 5.3): every backend against the scalar oracle, and the scalar
// backend against the byte-by-byte definition.
#include <algorithm>
#include <cstring>
#include <memory>

#include "support.hpp"

using namespace wsframe;
using wsframe::test::quick;
using wsframe::test::random_bytes;
using wsframe::test::rng;

namespace {

// The definition: byte i is XORed with key[(phase + i) % 4].
std::vector<std::byte> masked_by_definition(std::span<const std::byte> in, MaskKey key, std::size_t phase) {
  std::vector<std::byte> out(in.begin(), in.end());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] ^= key[(phase + i) % 4];
  return out;
}

MaskKey random_key() {
  const auto k = random_bytes(4);
  return {k[0], k[1], k[2], k[3]};
}

// A buffer with guard bytes on both sides of the region under test: a write outside it shows
// up as a changed guard. (Reads outside are caught by the exact-size cases under ASan.)
struct GuardedBuffer {
  static constexpr std::size_t guard = 64;
  static constexpr std::byte fill{0xA5};
  std::vector<std::byte> storage;
  std::size_t offset, size;
  GuardedBuffer(std::size_t alignment, std::size_t n)
      : storage(guard + 64 + n + guard, fill), offset(guard + alignment), size(n) {}
  std::byte* data() { return storage.data() + offset; }
  std::span<std::byte> span() { return {data(), size}; }
  bool guards_intact() const {
    const auto intact = [](auto first, auto last) { return std::all_of(first, last, [](std::byte b) { return b == fill; }); };
    return intact(storage.begin(), storage.begin() + offset) && intact(storage.begin() + offset + size, storage.end());
  }
};

// Lengths tested at every alignment and phase: everything up to past a few 4x-unrolled
// AVX-512 bodies, then the edges around vector multiples.
std::vector<std::size_t> dense_lengths() {
  std::vector<std::size_t> lengths;
  const std::size_t dense_end = quick() ? 300 : 1100;
  for (std::size_t n = 0; n <= dense_end; ++n) lengths.push_back(n);
  for (std::size_t base : {2048u, 4096u})
    for (std::size_t n = base - 3; n <= base + 3; ++n) lengths.push_back(n);
  return lengths;
}

}  // namespace

TEST_CASE("RFC 6455 5.7: a masked text frame containing \"Hello\"", "[mask]") {
  // 0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58
  const MaskKey key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};
  const std::byte masked[] = {std::byte{0x7f}, std::byte{0x9f}, std::byte{0x4d}, std::byte{0x51}, std::byte{0x58}};
  for (const BackendInfo& info : backends()) {
    if (!info.supported) continue;
    INFO("backend " << info.backend->name);
    std::byte buf[5];
    std::memcpy(buf, masked, 5);
    CHECK(mask(*info.backend, buf, key) == 1);
    CHECK(std::memcmp(buf, "Hello", 5) == 0);
    std::byte out[5]{};
    CHECK(mask_copy(*info.backend, masked, out, key) == 1);
    CHECK(std::memcmp(out, "Hello", 5) == 0);
  }
}

TEST_CASE("scalar backend follows the definition", "[mask]") {
  const Backend& scalar = test::scalar_backend();
  for (std::size_t n = 0; n <= 300; ++n) {
    for (std::size_t phase = 0; phase < 4; ++phase) {
      const auto input = random_bytes(n);
      const MaskKey key = random_key();
      auto buf = input;
      REQUIRE(mask(scalar, buf, key, phase) == (phase + n) % 4);
      REQUIRE(buf == masked_by_definition(input, key, phase));
    }
  }
}

TEST_CASE("phases above 3 are taken modulo 4", "[mask]") {
  const auto input = random_bytes(37);
  const MaskKey key = random_key();
  auto a = input, b = input;
  CHECK(mask(a, key, 6) == mask(b, key, 2));
  CHECK(a == b);
}

TEST_CASE("every backend matches the scalar oracle in place: every length, alignment and phase", "[mask]") {
  const Backend& scalar = test::scalar_backend();
  const std::size_t align_step = quick() ? 5 : 1;
  test::for_each_simd_backend([&](const Backend& backend) {
    for (std::size_t n : dense_lengths()) {
      const auto input = random_bytes(n);
      const MaskKey key = random_key();
      for (std::size_t phase = 0; phase < 4; ++phase) {
        auto expected = input;
        mask(scalar, expected, key, phase);
        for (std::size_t alignment = 0; alignment < 64; alignment += align_step) {
          GuardedBuffer buf(alignment, n);
          std::copy(input.begin(), input.end(), buf.data());
          REQUIRE(mask(backend, buf.span(), key, phase) == (phase + n) % 4);
          INFO("length " << n << ", phase " << phase << ", alignment " << alignment);
          REQUIRE(std::equal(expected.begin(), expected.end(), buf.data()));
          REQUIRE(buf.guards_intact());
        }
      }
    }
  });
}

TEST_CASE("every backend matches the scalar oracle copying: every src and dst alignment", "[mask]") {
  const Backend& scalar = test::scalar_backend();
  const std::size_t align_step = quick() ? 9 : 1;
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 70; ++n) lengths.push_back(n);
  for (std::size_t n : {125u, 126u, 127u, 128u, 129u, 191u, 192u, 193u, 255u, 256u, 257u, 1023u, 1024u, 1025u})
    lengths.push_back(n);
  test::for_each_simd_backend([&](const Backend& backend) {
    for (std::size_t n : lengths) {
      const auto input = random_bytes(n);
      const MaskKey key = random_key();
      for (std::size_t phase = 0; phase < 4; ++phase) {
        std::vector<std::byte> expected(n);
        mask_copy(scalar, input, expected, key, phase);
        for (std::size_t src_align = 0; src_align < 64; src_align += align_step) {
          GuardedBuffer src(src_align, n);
          std::copy(input.begin(), input.end(), src.data());
          for (std::size_t dst_align = 0; dst_align < 64; dst_align += align_step) {
            GuardedBuffer dst(dst_align, n);
            REQUIRE(mask_copy(backend, src.span(), dst.span(), key, phase) == (phase + n) % 4);
            INFO("length " << n << ", phase " << phase << ", src alignment " << src_align << ", dst alignment "
                           << dst_align);
            REQUIRE(std::equal(expected.begin(), expected.end(), dst.data()));
            REQUIRE(dst.guards_intact());
            REQUIRE(std::equal(input.begin(), input.end(), src.data()));  // source untouched
          }
        }
      }
    }
  });
}

TEST_CASE("every backend matches the scalar oracle on random lengths up to 64 KiB", "[mask]") {
  const Backend& scalar = test::scalar_backend();
  const int rounds = quick() ? 20 : 300;
  test::for_each_simd_backend([&](const Backend& backend) {
    for (int round = 0; round < rounds; ++round) {
      const std::size_t n = 4097 + rng()() % (65536 - 4096);
      const std::size_t phase = rng()() % 4, src_align = rng()() % 64, dst_align = rng()() % 64;
      const auto input = random_bytes(n);
      const MaskKey key = random_key();
      std::vector<std::byte> expected(n);
      mask_copy(scalar, input, expected, key, phase);
      INFO("length " << n << ", phase " << phase << ", alignments " << src_align << "/" << dst_align);
      GuardedBuffer src(src_align, n), dst(dst_align, n);
      std::copy(input.begin(), input.end(), src.data());
      mask_copy(backend, src.span(), dst.span(), key, phase);
      REQUIRE(std::equal(expected.begin(), expected.end(), dst.data()));
      REQUIRE(dst.guards_intact());
      mask(backend, src.span(), key, phase);
      REQUIRE(std::equal(expected.begin(), expected.end(), src.data()));
      REQUIRE(src.guards_intact());
    }
  });
}

TEST_CASE("exact-size heap buffers: no access past the end (checked by ASan)", "[mask]") {
  const auto check = [](const Backend& backend) {
    for (std::size_t n = 0; n <= 300; ++n) {
      // Separate allocations of exactly n bytes: ASan's redzone starts right after the last byte.
      auto src = std::make_unique<std::byte[]>(n);
      auto dst = std::make_unique<std::byte[]>(n);
      auto ref = std::make_unique<std::byte[]>(n);
      for (std::size_t i = 0; i < n; ++i) src[i] = static_cast<std::byte>(i * 7 + 1);
      const MaskKey key{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
      mask_copy(test::scalar_backend(), {src.get(), n}, {ref.get(), n}, key, n % 4);
      mask_copy(backend, {src.get(), n}, {dst.get(), n}, key, n % 4);
      REQUIRE(std::equal(ref.get(), ref.get() + n, dst.get()));
      mask(backend, {src.get(), n}, key, n % 4);
      REQUIRE(std::equal(ref.get(), ref.get() + n, src.get()));
    }
  };
  check(test::scalar_backend());
  test::for_each_simd_backend(check);
}

TEST_CASE("a payload unmasked in two calls, split at every point, equals one call", "[mask]") {
  const auto check = [](const Backend& backend) {
    for (std::size_t n : {0u, 1u, 5u, 64u, 125u, 300u}) {
      const auto input = random_bytes(n);
      const MaskKey key = random_key();
      for (std::size_t phase = 0; phase < 4; ++phase) {
        auto whole = input;
        mask(backend, whole, key, phase);
        for (std::size_t split = 0; split <= n; ++split) {
          INFO("length " << n << ", phase " << phase << ", split at " << split);
          auto parts = input;
          const std::size_t mid = mask(backend, std::span(parts).first(split), key, phase);
          REQUIRE(mask(backend, std::span(parts).subspan(split), key, mid) == (phase + n) % 4);
          REQUIRE(parts == whole);
          std::vector<std::byte> copied(n);
          const std::size_t mid_copy = mask_copy(backend, std::span(input).first(split), copied, key, phase);
          mask_copy(backend, std::span(input).subspan(split), std::span(copied).subspan(split), key, mid_copy);
          REQUIRE(copied == whole);
        }
      }
    }
  };
  check(test::scalar_backend());
  test::for_each_simd_backend(check);
}

TEST_CASE("mask_copy writes only min(src, dst) bytes", "[mask]") {
  const auto input = random_bytes(40);
  const MaskKey key = random_key();
  std::vector<std::byte> dst(20, std::byte{0xEE});
  CHECK(mask_copy(input, std::span(dst).first(10), key, 1) == 11 % 4);
  CHECK(std::all_of(dst.begin() + 10, dst.end(), [](std::byte b) { return b == std::byte{0xEE}; }));
  CHECK(std::equal(dst.begin(), dst.begin() + 10, masked_by_definition(std::span(input).first(10), key, 1).begin()));
}
