// The neon SIMD layer: 16-byte vectors (AArch64 Advanced SIMD, part of armv8-a). Used by the
// neon backend and by the ARMv8 SHA1 kernels; xsimd for the mask kernel's batches (`bytes`). See docs/architecture.md. No base64 operations
// here: the neon backend encodes and decodes base64 with the scalar code.
#pragma once

#include <arm_neon.h>

#include <xsimd/xsimd.hpp>

#include "simd/memory.hpp"

#define WSFRAME_SIMD 1  // a vector layer: the kernels' SIMD forms

namespace wsframe::WSFRAME_ISA::simd {

using arch = xsimd::neon64;
using bytes = xsimd::batch<std::uint8_t, arch>;
using u8v = uint8x16_t;
inline constexpr std::size_t width = 16;
inline constexpr bool masked_memory = false;  // no masked loads: overlapping or word-built ones

// Loads and stores.
inline u8v load(const void* p) noexcept { return vld1q_u8(static_cast<const std::uint8_t*>(p)); }
inline void store(void* p, u8v v) noexcept { vst1q_u8(static_cast<std::uint8_t*>(p), v); }
// The first min(k, 16) bytes at p, zeros above, reading nothing past them.
inline u8v load_first(const void* p, std::size_t k) noexcept {
  if (k >= width) return load(p);
  const PartialWords w = load_partial_words(static_cast<const std::byte*>(p), k);
  return vreinterpretq_u8_u64(vcombine_u64(vcreate_u64(w.lo), vcreate_u64(w.hi)));
}
// Masked memory exists on other layers only; named here for the kernels' `if constexpr`
// branches that are discarded on this one (which need no definition).
void store_first(void* p, std::size_t k, u8v v) noexcept;
u8v keep_first(u8v v, std::size_t k) noexcept;
std::uint64_t load_first_u64(const void* p, std::size_t k) noexcept;

// Constants.
inline u8v splat(std::uint8_t b) noexcept { return vdupq_n_u8(b); }
inline u8v splat32(std::uint32_t v) noexcept { return vreinterpretq_u8_u32(vdupq_n_u32(v)); }
// A 16-byte table (for lookup()).
inline u8v table(const void* t16) noexcept { return load(t16); }

// Bitwise and arithmetic, per byte. Intrinsics, not xsimd_ops.hpp: through xsimd's neon
// operators GCC schedules the UTF-8 block loop differently (not measurable here, so the code
// stays as it was measured).
inline u8v bit_and(u8v a, u8v b) noexcept { return vandq_u8(a, b); }
inline u8v bit_or(u8v a, u8v b) noexcept { return vorrq_u8(a, b); }
inline u8v bit_xor(u8v a, u8v b) noexcept { return veorq_u8(a, b); }
inline u8v sub_sat(u8v a, u8v b) noexcept { return vqsubq_u8(a, b); }  // unsigned, saturating
// Each byte's high nibble (0..15).
inline u8v high_nibbles(u8v v) noexcept { return vshrq_n_u8(v, 4); }

// table[index] per byte (tbl; an index >= 16 gives 0).
inline u8v lookup(u8v table, u8v index) noexcept { return vqtbl1q_u8(table, index); }
// cur shifted by N bytes towards higher lanes, filled with the last N bytes of prev.
template <int N>
inline u8v prev(u8v cur, u8v prev) noexcept { return vextq_u8(prev, cur, 16 - N); }

// Reductions.
inline bool any(u8v v) noexcept { return vmaxvq_u8(v) != 0; }
inline bool ascii(u8v v) noexcept { return vmaxvq_u8(v) < 0x80; }  // no byte >= 0x80

}  // namespace wsframe::WSFRAME_ISA::simd
