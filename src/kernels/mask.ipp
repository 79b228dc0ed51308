// Payload masking, RFC 6455 section 5.3: dst[i] = src[i] ^ key[i % 4], with the key already
// rotated to the starting phase (key_word). In place when src == dst.
//
// Shape: a vector body, unrolled four times, then the tail. With masked memory (AVX-512) the tail
// (and any input shorter than a vector) is one masked load/store. Elsewhere the tail is one
// overlapping vector loaded and masked *before* the body writes anything (so the in-place form
// never masks a byte twice), and short inputs use 64-bit words with the same overlap trick.
// Never a byte loop over more than 3 bytes, never a read or write outside [src, src + n) and
// [dst, dst + n).

// Portable form, also the short-input path of the SIMD backends that lack masked loads.
inline void mask_words(const std::byte* src, std::byte* dst, std::size_t n, std::uint32_t key_word) noexcept {
  if (n >= 8) {
    const std::uint64_t k = widen_key(key_word);
    const std::uint64_t last = load_u64(src + n - 8) ^ widen_key(advance_key(key_word, n - 8));
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
      const std::uint64_t a = load_u64(src + i), b = load_u64(src + i + 8);
      const std::uint64_t c = load_u64(src + i + 16), d = load_u64(src + i + 24);
      store_u64(dst + i, a ^ k);
      store_u64(dst + i + 8, b ^ k);
      store_u64(dst + i + 16, c ^ k);
      store_u64(dst + i + 24, d ^ k);
    }
    for (; i + 8 <= n; i += 8) store_u64(dst + i, load_u64(src + i) ^ k);
    store_u64(dst + n - 8, last);
  } else if (n >= 4) {
    const std::uint32_t first = load_u32(src) ^ key_word;
    const std::uint32_t last = load_u32(src + n - 4) ^ advance_key(key_word, n - 4);
    store_u32(dst, first);
    store_u32(dst + n - 4, last);
  } else {
    for (std::size_t i = 0; i < n; ++i)  // at most 3 bytes
      dst[i] = src[i] ^ static_cast<std::byte>(advance_key(key_word, i) & 0xff);
  }
}

#if defined(WSFRAME_SIMD)
// Short input (n < one vector): one masked load/store where the layer has them (masked-off
// bytes are neither read nor written), 64-bit words elsewhere.
inline void mask_short(const std::byte* src, std::byte* dst, std::size_t n, std::uint32_t key_word) noexcept {
  if constexpr (simd::masked_memory)
    simd::store_first(dst, n, simd::bit_xor(simd::load_first(src, n), simd::splat32(key_word)));
  else
    mask_words(src, dst, n, key_word);
}

inline void mask_simd(const std::byte* src, std::byte* dst, std::size_t n, std::uint32_t key_word) noexcept {
  using bytes = simd::bytes;
  using words = xsimd::batch<std::uint32_t, simd::arch>;
  constexpr std::size_t W = bytes::size;
  if (n < W) return mask_short(src, dst, n, key_word);

  const auto* in = reinterpret_cast<const std::uint8_t*>(src);  // byte types may alias anything
  auto* out = reinterpret_cast<std::uint8_t*>(dst);
  const bytes k = xsimd::bitwise_cast<bytes>(words(key_word));
  // Without masked stores, the tail is the vector ending at n, masked before the body writes.
  const bytes last = simd::masked_memory ? bytes(std::uint8_t{0})
                                         : bytes::load_unaligned(in + n - W) ^
                                               xsimd::bitwise_cast<bytes>(words(advance_key(key_word, n - W)));
  std::size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    const bytes a = bytes::load_unaligned(in + i), b = bytes::load_unaligned(in + i + W);
    const bytes c = bytes::load_unaligned(in + i + 2 * W), d = bytes::load_unaligned(in + i + 3 * W);
    (a ^ k).store_unaligned(out + i);
    (b ^ k).store_unaligned(out + i + W);
    (c ^ k).store_unaligned(out + i + 2 * W);
    (d ^ k).store_unaligned(out + i + 3 * W);
  }
  for (; i + W <= n; i += W) (bytes::load_unaligned(in + i) ^ k).store_unaligned(out + i);
  if constexpr (simd::masked_memory) {
    // i is a multiple of the width, so the key is still in phase: one masked step for the rest.
    if (i < n) mask_short(src + i, dst + i, n - i, key_word);
  } else {
    last.store_unaligned(out + n - W);
  }
}
#endif

// The two Backend entries.
inline void mask_copy(const std::byte* src, std::byte* dst, std::size_t n, std::uint32_t key_word) noexcept {
#if defined(WSFRAME_SIMD)
  mask_simd(src, dst, n, key_word);
#else
  mask_words(src, dst, n, key_word);
#endif
}
inline void mask(std::byte* p, std::size_t n, std::uint32_t key_word) noexcept { mask_copy(p, p, n, key_word); }
