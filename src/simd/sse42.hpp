// The sse42 SIMD layer: 16-byte vectors. Used by the sse42 backend (-msse4.2 -mpopcnt) and by
// the SHA-NI kernels (which need SSSE3 and SSE4.1 of it). See docs/architecture.md for the
// operations every layer defines.
#pragma once

#include <immintrin.h>

#include <xsimd/xsimd.hpp>

#include "simd/memory.hpp"
#include "simd/x86.hpp"

#define WSFRAME_SIMD 1         // a vector layer: the kernels' SIMD forms
#define WSFRAME_SIMD_BASE64 1  // the pshufb base64 operations (kernels/base64.ipp)

namespace wsframe::WSFRAME_ISA::simd {

using arch = xsimd::sse4_2;
using bytes = xsimd::batch<std::uint8_t, arch>;
using u8v = __m128i;
inline constexpr std::size_t width = 16;
inline constexpr bool masked_memory = false;  // no masked loads: overlapping or word-built ones

}  // namespace wsframe::WSFRAME_ISA::simd

#include "simd/xsimd_ops.hpp"  // splat, bit_and, bit_or, bit_xor, add, sub

namespace wsframe::WSFRAME_ISA::simd {

// Loads and stores.
inline u8v load(const void* p) noexcept { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
inline void store(void* p, u8v v) noexcept { _mm_storeu_si128(static_cast<__m128i*>(p), v); }
// The first min(k, 16) bytes at p, zeros above, reading nothing past them.
inline u8v load_first(const void* p, std::size_t k) noexcept {
  if (k >= width) return load(p);
  const PartialWords w = load_partial_words(static_cast<const std::byte*>(p), k);
  return _mm_set_epi64x(static_cast<long long>(w.hi), static_cast<long long>(w.lo));
}
template <std::size_t K>
inline void store_prefix(void* p, u8v v) noexcept { store_prefix_xmm<K>(p, v); }
// Masked memory and lane joins exist on other layers only; named here for the kernels'
// `if constexpr` branches that are discarded on this one (which need no definition).
void store_first(void* p, std::size_t k, u8v v) noexcept;
u8v keep_first(u8v v, std::size_t k) noexcept;
std::uint64_t load_first_u64(const void* p, std::size_t k) noexcept;
u8v fill_from(u8v v, std::size_t k, char c) noexcept;
u8v spread_encode_input(u8v v) noexcept;
u8v join_halves(__m128i low, __m128i high) noexcept;
inline u8v from_xmm(__m128i v) noexcept { return v; }

// Constants (splat: xsimd_ops.hpp).
inline u8v splat32(std::uint32_t v) noexcept { return _mm_set1_epi32(static_cast<int>(v)); }
// A 16-byte table (for lookup()).
inline u8v table(const void* t16) noexcept { return load(t16); }

// Arithmetic, per byte unless named otherwise (bitwise, add, sub: xsimd_ops.hpp).
inline u8v sub_sat(u8v a, u8v b) noexcept { return _mm_subs_epu8(a, b); }  // unsigned, saturating
inline u8v greater(u8v a, u8v b) noexcept { return _mm_cmpgt_epi8(a, b); }  // signed; 0xFF where a > b
inline u8v equal(u8v a, u8v b) noexcept { return _mm_cmpeq_epi8(a, b); }
inline u8v mulhi_u16(u8v a, u8v b) noexcept { return _mm_mulhi_epu16(a, b); }
inline u8v mullo_u16(u8v a, u8v b) noexcept { return _mm_mullo_epi16(a, b); }
inline u8v shift_right4_u32(u8v a) noexcept { return _mm_srli_epi32(a, 4); }
inline u8v maddubs(u8v a, u8v b) noexcept { return _mm_maddubs_epi16(a, b); }
inline u8v madd_u16(u8v a, u8v b) noexcept { return _mm_madd_epi16(a, b); }
// Each byte's high nibble (0..15).
inline u8v high_nibbles(u8v v) noexcept { return _mm_and_si128(_mm_srli_epi16(v, 4), splat(0x0f)); }

// table[index & 15] per byte (pshufb; an index with bit 7 set gives 0).
inline u8v lookup(u8v table, u8v index) noexcept { return _mm_shuffle_epi8(table, index); }
// cur shifted by N bytes towards higher lanes, filled with the last N bytes of prev.
template <int N>
inline u8v prev(u8v cur, u8v prev) noexcept { return _mm_alignr_epi8(cur, prev, 16 - N); }
// Byte I replaced by c.
template <int I>
inline u8v set_byte(u8v v, char c) noexcept { return _mm_insert_epi8(v, c, I); }

// Reductions.
inline bool any(u8v v) noexcept { return _mm_testz_si128(v, v) == 0; }
inline bool ascii(u8v v) noexcept { return _mm_movemask_epi8(v) == 0; }  // no byte >= 0x80
inline bool disjoint(u8v a, u8v b) noexcept { return _mm_testz_si128(a, b) != 0; }

// Base64 lane shapes: encode input is 12 bytes per 16-byte lane, decoded bytes are packed to the
// first 12 of each lane (one lane here).
inline u8v load_encode_input(const std::byte* p) noexcept { return load(p); }  // 12 used, reads p[0..16)
inline u8v join_lanes(u8v v) noexcept { return v; }

}  // namespace wsframe::WSFRAME_ISA::simd
