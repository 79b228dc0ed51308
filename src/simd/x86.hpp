// 128-bit store helper shared by the x86 SIMD layers (sse42.hpp, avx2.hpp): the first K bytes
// of a vector as 8- and 4-byte stores, for outputs that end inside a vector.
#pragma once

#include <immintrin.h>

#include "simd/memory.hpp"

namespace wsframe::WSFRAME_ISA::simd {

template <std::size_t K>
inline void store_prefix_xmm(void* p, __m128i v) noexcept {
  static_assert(K % 4 == 0 && K <= 16, "whole 32-bit words of one 16-byte vector");
  auto* out = static_cast<std::byte*>(p);
  if constexpr (K == 16) {
    _mm_storeu_si128(static_cast<__m128i*>(p), v);
  } else {
    if constexpr (K >= 8) _mm_storel_epi64(static_cast<__m128i*>(p), v);
    if constexpr (K % 8 == 4) store_u32(out + K - 4, static_cast<std::uint32_t>(_mm_extract_epi32(v, K / 4 - 1)));
  }
}

}  // namespace wsframe::WSFRAME_ISA::simd
