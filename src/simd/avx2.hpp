// The avx2 SIMD layer: 32-byte vectors, two 16-byte lanes (pshufb and alignr work within each
// lane). Used by the avx2 backend (-mavx2 -mbmi -mbmi2 -mpopcnt). See docs/architecture.md.
#pragma once

#include <immintrin.h>

#include <xsimd/xsimd.hpp>

#include "simd/memory.hpp"
#include "simd/x86.hpp"

#define WSFRAME_SIMD 1             // a vector layer: the kernels' SIMD forms
#define WSFRAME_SIMD_BASE64 1      // the pshufb base64 operations (kernels/base64.ipp)
#define WSFRAME_SIMD_SHA1_LANES 1  // 32-bit lanes worth a multi-buffer SHA-1 (kernels/sha1.ipp)

namespace wsframe::WSFRAME_ISA::simd {

using arch = xsimd::avx2;
using bytes = xsimd::batch<std::uint8_t, arch>;
using u32_lanes = xsimd::batch<std::uint32_t, arch>;
using u8v = __m256i;
inline constexpr std::size_t width = 32;
inline constexpr bool masked_memory = false;  // no masked loads: overlapping or word-built ones

}  // namespace wsframe::WSFRAME_ISA::simd

#include "simd/xsimd_ops.hpp"  // splat, bit_and, bit_or, bit_xor, add, sub

namespace wsframe::WSFRAME_ISA::simd {

// Loads and stores.
inline u8v load(const void* p) noexcept { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline void store(void* p, u8v v) noexcept { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }
// The first min(k, 32) bytes at p, zeros above, reading nothing past them.
inline u8v load_first(const void* p, std::size_t k) noexcept {
  const auto* b = static_cast<const std::byte*>(p);
  if (k >= width) return load(p);
  if (k < 16) {
    const PartialWords w = load_partial_words(b, k);
    return _mm256_set_epi64x(0, 0, static_cast<long long>(w.hi), static_cast<long long>(w.lo));
  }
  const PartialWords w = load_partial_words(b + 16, k - 16);
  return _mm256_set_m128i(_mm_set_epi64x(static_cast<long long>(w.hi), static_cast<long long>(w.lo)),
                          _mm_loadu_si128(static_cast<const __m128i*>(p)));
}
// The first K (17..32, whole 32-bit words) bytes of v.
template <std::size_t K>
inline void store_prefix(void* p, u8v v) noexcept {
  static_assert(K > 16 && K <= 32);
  const __m128i low = _mm256_castsi256_si128(v), high = _mm256_extracti128_si256(v, 1);
  _mm_storeu_si128(static_cast<__m128i*>(p), low);
  store_prefix_xmm<K - 16>(static_cast<std::byte*>(p) + 16, high);
}
// Masked memory exists on other layers only; named here for the kernels' `if constexpr`
// branches that are discarded on this one (which need no definition).
void store_first(void* p, std::size_t k, u8v v) noexcept;
u8v keep_first(u8v v, std::size_t k) noexcept;
std::uint64_t load_first_u64(const void* p, std::size_t k) noexcept;
u8v fill_from(u8v v, std::size_t k, char c) noexcept;
u8v spread_encode_input(u8v v) noexcept;
// Two 16-byte vectors as lanes 0 and 1.
inline u8v join_halves(__m128i low, __m128i high) noexcept { return _mm256_set_m128i(high, low); }

// A 16-byte vector as one: on 16-byte layers only (named in discarded branches here).
u8v from_xmm(__m128i v) noexcept;

// Constants (splat: xsimd_ops.hpp).
inline u8v splat32(std::uint32_t v) noexcept { return _mm256_set1_epi32(static_cast<int>(v)); }
// A 16-byte table (for lookup()) in every lane.
inline u8v table(const void* t16) noexcept { return _mm256_broadcastsi128_si256(_mm_loadu_si128(static_cast<const __m128i*>(t16))); }

// Arithmetic, per byte unless named otherwise (bitwise, add, sub: xsimd_ops.hpp).
inline u8v sub_sat(u8v a, u8v b) noexcept { return _mm256_subs_epu8(a, b); }  // unsigned, saturating
inline u8v greater(u8v a, u8v b) noexcept { return _mm256_cmpgt_epi8(a, b); }  // signed; 0xFF where a > b
inline u8v equal(u8v a, u8v b) noexcept { return _mm256_cmpeq_epi8(a, b); }
inline u8v mulhi_u16(u8v a, u8v b) noexcept { return _mm256_mulhi_epu16(a, b); }
inline u8v mullo_u16(u8v a, u8v b) noexcept { return _mm256_mullo_epi16(a, b); }
inline u8v shift_right4_u32(u8v a) noexcept { return _mm256_srli_epi32(a, 4); }
inline u8v maddubs(u8v a, u8v b) noexcept { return _mm256_maddubs_epi16(a, b); }
inline u8v madd_u16(u8v a, u8v b) noexcept { return _mm256_madd_epi16(a, b); }
// Each byte's high nibble (0..15).
inline u8v high_nibbles(u8v v) noexcept { return _mm256_and_si256(_mm256_srli_epi16(v, 4), splat(0x0f)); }

// table[index & 15] per byte within each lane (an index with bit 7 set gives 0).
inline u8v lookup(u8v table, u8v index) noexcept { return _mm256_shuffle_epi8(table, index); }
// cur shifted by N bytes towards higher lanes, filled with the last N bytes of prev.
template <int N>
inline u8v prev(u8v cur, u8v prev) noexcept {
  const u8v shifted_lanes = _mm256_permute2x128_si256(prev, cur, 0x21);  // prev's high half, cur's low half
  return _mm256_alignr_epi8(cur, shifted_lanes, 16 - N);
}
// Byte I replaced by c.
template <int I>
inline u8v set_byte(u8v v, char c) noexcept {
  const auto select = [](int word) { return word == I / 4 ? static_cast<int>(0x80u << (8 * (I % 4))) : 0; };
  return _mm256_blendv_epi8(v, _mm256_set1_epi8(c), _mm256_setr_epi32(select(0), select(1), select(2), select(3), select(4),
                                                                      select(5), select(6), select(7)));
}

// Reductions.
inline bool any(u8v v) noexcept { return _mm256_testz_si256(v, v) == 0; }
inline bool ascii(u8v v) noexcept { return _mm256_movemask_epi8(v) == 0; }  // no byte >= 0x80
inline bool disjoint(u8v a, u8v b) noexcept { return _mm256_testz_si256(a, b) != 0; }

// Base64 lane shapes: encode input is 12 bytes per 16-byte lane, decoded bytes are packed to the
// first 12 of each lane and joined here.
inline u8v load_encode_input(const std::byte* p) noexcept {  // 24 bytes used, reads p[0..28)
  return _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 12)), _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline u8v join_lanes(u8v v) noexcept { return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7)); }

// 32-bit lanes rotated left by R (SHA-1).
template <int R>
inline u32_lanes rotl32(u32_lanes x) noexcept { return _mm256_or_si256(_mm256_slli_epi32(x, R), _mm256_srli_epi32(x, 32 - R)); }

}  // namespace wsframe::WSFRAME_ISA::simd
