// Scalar memory access every backend uses: unaligned loads and stores through memcpy (no
// alignment or aliasing assumptions; the builtin compiles to one mov), and the partial load that
// SIMD layers without masked loads build their short vectors from.
//
// Included by every src/simd/<isa>.hpp after the backend TU has defined WSFRAME_ISA: like the
// kernels, these functions live in wsframe::<isa> (see kernels/prelude.hpp for why).
#pragma once

#include <cstddef>
#include <cstdint>

#if !defined(WSFRAME_ISA)
#error "define WSFRAME_ISA (the backend's namespace) before including a SIMD layer header"
#endif

namespace wsframe::WSFRAME_ISA {

inline std::uint64_t load_u64(const std::byte* p) noexcept {
  std::uint64_t v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
inline void store_u64(std::byte* p, std::uint64_t v) noexcept { __builtin_memcpy(p, &v, sizeof v); }
inline std::uint32_t load_u32(const std::byte* p) noexcept {
  std::uint32_t v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
inline void store_u32(std::byte* p, std::uint32_t v) noexcept { __builtin_memcpy(p, &v, sizeof v); }
inline std::uint16_t load_u16(const std::byte* p) noexcept {
  std::uint16_t v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

// The k <= 16 bytes at p as two little-endian words (bytes 0..7, 8..15), zeros past k, read
// without touching a byte outside [p, p + k): overlapping loads whose shared bytes agree, so
// OR-ing them is exact. Built in registers, because a zeroed stack copy read back as one vector
// waits for the copy's stores (no store-to-load forwarding from several smaller stores).
struct PartialWords {
  std::uint64_t lo, hi;
};
inline PartialWords load_partial_words(const std::byte* p, std::size_t k) noexcept {
  if (k >= 8) {
    const std::uint64_t last = load_u64(p + k - 8);  // bytes k-8 .. k-1
    return {load_u64(p), k > 8 ? last >> (8 * (16 - k)) : 0};
  }
  if (k >= 4) return {load_u32(p) | std::uint64_t{load_u32(p + k - 4)} << (8 * (k - 4)), 0};
  if (k == 0) return {0, 0};
  const auto at = [p](std::size_t j) { return std::uint64_t{static_cast<std::uint8_t>(p[j])} << (8 * j); };
  return {at(0) | at(k / 2) | at(k - 1), 0};  // k = 1..3
}

}  // namespace wsframe::WSFRAME_ISA
