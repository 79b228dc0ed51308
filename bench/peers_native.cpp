// Peers built with -O3 -march=native, into a shared library with hidden visibility so that its
// copies of Beast's inline functions stay its own.
#include "beast_mask.ipp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "peers.hpp"

namespace wsframe::bench {

void beast_native_mask_inplace(std::byte* p, std::size_t n, MaskKey key) noexcept { beast_mask(p, n, key); }

void xor_pass(std::byte* p, std::size_t n) noexcept {
  std::size_t i = 0;
#if defined(__AVX512BW__)
  const __m512i k = _mm512_set1_epi8(0x5a);
  for (; i + 256 <= n; i += 256)
    for (int j = 0; j < 4; ++j) {
      const __m512i v = _mm512_loadu_si512(p + i + 64 * j);
      _mm512_storeu_si512(p + i + 64 * j, _mm512_xor_si512(v, k));
    }
  for (; i + 64 <= n; i += 64) _mm512_storeu_si512(p + i, _mm512_xor_si512(_mm512_loadu_si512(p + i), k));
  if (i < n) {
    const __mmask64 live = _bzhi_u64(~0ull, static_cast<unsigned>(n - i));
    _mm512_mask_storeu_epi8(p + i, live, _mm512_xor_si512(_mm512_maskz_loadu_epi8(live, p + i), k));
  }
#else
  for (; i < n; ++i) p[i] ^= std::byte{0x5a};  // auto-vectorised at -O3 -march=native
#endif
}

}  // namespace wsframe::bench
