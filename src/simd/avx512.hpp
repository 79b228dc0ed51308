// The avx512 SIMD layer: 64-byte vectors (four 16-byte lanes for pshufb and alignr) and masked
// loads and stores. Used by the avx512 backend (-mavx512f -mavx512cd -mavx512dq -mavx512bw
// -mavx512vl -mbmi -mbmi2 -mpopcnt) and its avx512vbmi variant. See docs/architecture.md.
//
// GCC 12 warns, wrongly, -Wmaybe-uninitialized / -Wuninitialized on some unmasked AVX-512
// intrinsics (GCC PR 105593). Where this layer and the AVX-512-only kernels use a maskz form with
// every lane selected (all_bytes, 0xFFFF), that is the plain instruction without the warning.
#pragma once

#include <immintrin.h>

#include <xsimd/xsimd.hpp>

#include "simd/memory.hpp"

#define WSFRAME_SIMD 1             // a vector layer: the kernels' SIMD forms
#define WSFRAME_SIMD_BASE64 1      // the pshufb base64 operations (kernels/base64.ipp)
#define WSFRAME_SIMD_SHA1_LANES 1  // 32-bit lanes worth a multi-buffer SHA-1 (kernels/sha1.ipp)
#define WSFRAME_SIMD_HALF 1        // `half`: 32-byte vectors for the base64 digest (kernels/base64.ipp)

namespace wsframe::WSFRAME_ISA::simd {

using arch = xsimd::avx512bw;
using bytes = xsimd::batch<std::uint8_t, arch>;
using u32_lanes = xsimd::batch<std::uint32_t, arch>;
using u8v = __m512i;
inline constexpr std::size_t width = 64;
inline constexpr bool masked_memory = true;  // short inputs and tails are one masked access
inline constexpr __mmask64 all_bytes = ~0ull;

}  // namespace wsframe::WSFRAME_ISA::simd

#include "simd/xsimd_ops.hpp"  // splat, bit_and, bit_or, bit_xor, add, sub

namespace wsframe::WSFRAME_ISA::simd {

// Loads and stores.
inline u8v load(const void* p) noexcept { return _mm512_loadu_si512(p); }
inline void store(void* p, u8v v) noexcept { _mm512_storeu_si512(p, v); }
// The mask of the first k bytes (k >= 64: all).
inline __mmask64 first_bytes(std::size_t k) noexcept { return _bzhi_u64(~0ull, static_cast<unsigned>(k)); }
// The first min(k, 64) bytes at p, zeros above; masked-off bytes are not read.
inline u8v load_first(const void* p, std::size_t k) noexcept { return _mm512_maskz_loadu_epi8(first_bytes(k), p); }
// Stores the first min(k, 64) bytes of v; nothing else is written.
inline void store_first(void* p, std::size_t k, u8v v) noexcept { _mm512_mask_storeu_epi8(p, first_bytes(k), v); }
// v with the bytes from k on zeroed.
inline u8v keep_first(u8v v, std::size_t k) noexcept { return _mm512_maskz_mov_epi8(first_bytes(k), v); }
// The k (< 8) bytes at p as a little-endian word, bytes k..7 zero; masked-off bytes are not read.
inline std::uint64_t load_first_u64(const void* p, std::size_t k) noexcept {
  const __mmask16 live = static_cast<__mmask16>(_bzhi_u32(0xffu, static_cast<unsigned>(k)));
  return static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_maskz_loadu_epi8(live, p)));
}
// The first K bytes of v.
template <std::size_t K>
inline void store_prefix(void* p, u8v v) noexcept {
  static_assert(K < 64);
  _mm512_mask_storeu_epi8(p, (1ull << K) - 1, v);
}
// Two 16-byte vectors as lanes 0 and 1 (lanes 2 and 3 undefined).
inline u8v join_halves(__m128i low, __m128i high) noexcept { return _mm512_inserti32x4(_mm512_castsi128_si512(low), high, 1); }

// A 16-byte vector as one: on 16-byte layers only (named in discarded branches here).
u8v from_xmm(__m128i v) noexcept;

// Constants (splat: xsimd_ops.hpp).
inline u8v splat32(std::uint32_t v) noexcept { return _mm512_set1_epi32(static_cast<int>(v)); }
// A 16-byte table (for lookup()) in every lane.
inline u8v table(const void* t16) noexcept { return _mm512_maskz_broadcast_i32x4(0xffff, _mm_loadu_si128(static_cast<const __m128i*>(t16))); }

// Arithmetic, per byte unless named otherwise (bitwise, add, sub: xsimd_ops.hpp).
inline u8v sub_sat(u8v a, u8v b) noexcept { return _mm512_subs_epu8(a, b); }  // unsigned, saturating
inline u8v greater(u8v a, u8v b) noexcept { return _mm512_movm_epi8(_mm512_cmpgt_epi8_mask(a, b)); }  // signed
inline u8v equal(u8v a, u8v b) noexcept { return _mm512_movm_epi8(_mm512_cmpeq_epi8_mask(a, b)); }
inline u8v mulhi_u16(u8v a, u8v b) noexcept { return _mm512_mulhi_epu16(a, b); }
inline u8v mullo_u16(u8v a, u8v b) noexcept { return _mm512_mullo_epi16(a, b); }
inline u8v shift_right4_u32(u8v a) noexcept { return _mm512_maskz_srli_epi32(0xffff, a, 4); }
inline u8v maddubs(u8v a, u8v b) noexcept { return _mm512_maddubs_epi16(a, b); }
inline u8v madd_u16(u8v a, u8v b) noexcept { return _mm512_madd_epi16(a, b); }
// Each byte's high nibble (0..15).
inline u8v high_nibbles(u8v v) noexcept { return _mm512_and_si512(_mm512_srli_epi16(v, 4), splat(0x0f)); }

// table[index & 15] per byte within each lane (an index with bit 7 set gives 0).
inline u8v lookup(u8v table, u8v index) noexcept { return _mm512_shuffle_epi8(table, index); }
// cur shifted by N bytes towards higher lanes, filled with the last N bytes of prev.
template <int N>
inline u8v prev(u8v cur, u8v prev) noexcept {
  const u8v shifted_lanes = _mm512_maskz_alignr_epi64(0xff, cur, prev, 6);  // prev's last 16 bytes, then cur's first 48
  return _mm512_alignr_epi8(cur, shifted_lanes, 16 - N);
}
// Byte I replaced by c.
template <int I>
inline u8v set_byte(u8v v, char c) noexcept { return _mm512_mask_blend_epi8(1ull << I, v, _mm512_set1_epi8(c)); }
// The bytes from k on replaced by c.
inline u8v fill_from(u8v v, std::size_t k, char c) noexcept { return _mm512_mask_blend_epi8(first_bytes(k), _mm512_set1_epi8(c), v); }

// Reductions.
inline bool any(u8v v) noexcept { return _mm512_test_epi8_mask(v, v) != 0; }
inline bool ascii(u8v v) noexcept { return _mm512_movepi8_mask(v) == 0; }  // no byte >= 0x80
inline bool disjoint(u8v a, u8v b) noexcept { return _mm512_test_epi8_mask(a, b) == 0; }

// Base64 lane shapes: encode input is 12 bytes per 16-byte lane, decoded bytes are packed to the
// first 12 of each lane and joined here.
// Bytes 0..47 of v as 12 bytes per lane.
inline u8v spread_encode_input(u8v v) noexcept {
  return _mm512_maskz_permutexvar_epi32(0xffff, _mm512_setr_epi32(0, 1, 2, 0, 3, 4, 5, 0, 6, 7, 8, 0, 9, 10, 11, 0), v);
}
inline u8v load_encode_input(const std::byte* p) noexcept { return spread_encode_input(load_first(p, 48)); }  // reads exactly p[0..48)
inline u8v join_lanes(u8v v) noexcept {
  return _mm512_maskz_permutexvar_epi32(0xffff, _mm512_setr_epi32(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 3, 7, 11, 15), v);
}

// The half-width vector: the base64 arithmetic on 32 bytes (ymm, with AVX-512VL masks), for a
// job of two lanes. Zen 4 runs each 512-bit operation as two 256-bit halves, so the digest on
// full vectors took twice the issue slots it needs.
using half = __m256i;
inline half half_splat(std::uint8_t b) noexcept { return _mm256_set1_epi8(static_cast<char>(b)); }
inline half half_splat32(std::uint32_t v) noexcept { return _mm256_set1_epi32(static_cast<int>(v)); }
inline half half_table(const void* t16) noexcept { return _mm256_broadcastsi128_si256(_mm_loadu_si128(static_cast<const __m128i*>(t16))); }
inline half half_join(__m128i low, __m128i high) noexcept { return _mm256_inserti128_si256(_mm256_castsi128_si256(low), high, 1); }
inline half bit_and(half a, half b) noexcept { return _mm256_and_si256(a, b); }
inline half bit_or(half a, half b) noexcept { return _mm256_or_si256(a, b); }
inline half add(half a, half b) noexcept { return _mm256_add_epi8(a, b); }
inline half sub(half a, half b) noexcept { return _mm256_sub_epi8(a, b); }
inline half sub_sat(half a, half b) noexcept { return _mm256_subs_epu8(a, b); }
inline half greater(half a, half b) noexcept { return _mm256_cmpgt_epi8(a, b); }  // signed
inline half mulhi_u16(half a, half b) noexcept { return _mm256_mulhi_epu16(a, b); }
inline half mullo_u16(half a, half b) noexcept { return _mm256_mullo_epi16(a, b); }
inline half lookup(half table, half index) noexcept { return _mm256_shuffle_epi8(table, index); }
template <int I>
inline half set_byte(half v, char c) noexcept { return _mm256_mask_blend_epi8(1u << I, v, _mm256_set1_epi8(c)); }
template <std::size_t K>
inline void store_prefix(void* p, half v) noexcept {
  static_assert(K < 32);
  _mm256_mask_storeu_epi8(p, (1u << K) - 1, v);
}

// 32-bit lanes rotated left by R (SHA-1): vprold.
template <int R>
inline u32_lanes rotl32(u32_lanes x) noexcept { return _mm512_maskz_rol_epi32(0xffff, x, R); }

}  // namespace wsframe::WSFRAME_ISA::simd
