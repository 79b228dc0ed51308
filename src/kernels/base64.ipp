// Base64, RFC 4648 section 4 (standard alphabet, '=' padding), strict decoding.
//
// Scalar code here is the oracle and the tail of every SIMD path. The SIMD bulk loops (below,
// per ISA) only ever see complete groups with no padding; anything they cannot decode (a stray
// character or a '=') makes the whole call fall back to base64_error(), which classifies the
// input exactly as the scalar path does, so every backend reports the same status.

inline constexpr char base64_alphabet[65] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Character -> 6-bit value, or 0xFF for anything outside the alphabet (including '=').
struct Base64DecodeTable {
  std::uint8_t value[256];
};
constexpr Base64DecodeTable make_base64_decode_table() noexcept {
  Base64DecodeTable t{};
  for (auto& v : t.value) v = 0xFF;
  for (unsigned i = 0; i < 64; ++i) t.value[static_cast<unsigned char>(base64_alphabet[i])] = static_cast<std::uint8_t>(i);
  return t;
}
inline constexpr Base64DecodeTable base64_decode_table = make_base64_decode_table();

inline std::uint32_t base64_value(char c) noexcept { return base64_decode_table.value[static_cast<unsigned char>(c)]; }

// Encodes n bytes; out holds 4 * ceil(n / 3) chars. Returns that count.
inline std::size_t base64_encode_scalar(const std::byte* in, std::size_t n, char* out) noexcept {
  const auto byte_at = [in](std::size_t i) { return static_cast<std::uint32_t>(in[i]); };
  std::size_t i = 0, o = 0;
  for (; i + 3 <= n; i += 3, o += 4) {
    const std::uint32_t v = byte_at(i) << 16 | byte_at(i + 1) << 8 | byte_at(i + 2);
    out[o] = base64_alphabet[v >> 18];
    out[o + 1] = base64_alphabet[(v >> 12) & 63];
    out[o + 2] = base64_alphabet[(v >> 6) & 63];
    out[o + 3] = base64_alphabet[v & 63];
  }
  if (i < n) {  // 1 or 2 bytes left: 2 or 3 chars and padding
    const std::uint32_t v = byte_at(i) << 16 | (i + 1 < n ? byte_at(i + 1) << 8 : 0);
    out[o] = base64_alphabet[v >> 18];
    out[o + 1] = base64_alphabet[(v >> 12) & 63];
    out[o + 2] = i + 1 < n ? base64_alphabet[(v >> 6) & 63] : '=';
    out[o + 3] = '=';
    o += 4;
  }
  return o;
}

#if !defined(WSFRAME_SIMD_BASE64)
// The two chars of every 12-bit value, as the 16-bit memory image of the pair (first char in the
// low byte): 3 bytes take two lookups instead of four, for an 8 KiB table (the backends without
// vector base64: scalar, neon).
// Beside it (one base address), the last two chars of an input ending 2 bytes into a group: its
// low 4 bits with two zeros below, then "=", at chars 2 and 3 of a 4-char image.
struct Base64PairTable {
  std::uint16_t pair[4096];
  std::uint32_t last[16];
};
constexpr Base64PairTable make_base64_pair_table() noexcept {
  Base64PairTable t{};
  for (unsigned v = 0; v < 4096; ++v)
    t.pair[v] = static_cast<std::uint16_t>(base64_alphabet[v >> 6] | base64_alphabet[v & 63] << 8);
  for (unsigned v = 0; v < 16; ++v)
    t.last[v] = static_cast<std::uint32_t>(base64_alphabet[v << 2]) << 16 | std::uint32_t{'='} << 24;
  return t;
}
inline constexpr Base64PairTable base64_pair_table = make_base64_pair_table();

inline std::uint64_t base64_pair(std::uint64_t twelve_bits) noexcept { return base64_pair_table.pair[twelve_bits]; }
inline void base64_store4(char* out, std::uint64_t chars) noexcept {
  store_u32(reinterpret_cast<std::byte*>(out), static_cast<std::uint32_t>(chars));
}

// The 8 chars of the 6 bytes in the top 48 bits of v: four independent lookups.
inline std::uint64_t base64_pairs_of_6(std::uint64_t v) noexcept {
  const std::uint64_t first = base64_pair(v >> 52) | base64_pair(v >> 40 & 4095) << 16;
  const std::uint64_t second = base64_pair(v >> 28 & 4095) | base64_pair(v >> 16 & 4095) << 16;
  return first | second << 32;
}
// The 6 bytes at in, byte 0 in the top 8 bits (reads 8).
inline std::uint64_t base64_load_6(const std::byte* in) noexcept { return __builtin_bswap64(load_u64(in)); }

// The 4 chars of the last 2 input bytes (the low 16 bits of v, the first in bits 8..15): 12
// bits, then 4 with "=".
inline void base64_store_last2(char* out, std::uint32_t v) noexcept {
  base64_store4(out, base64_pair(v >> 4 & 4095) | base64_pair_table.last[v & 15]);
}

// A SHA-1 digest (Sec-WebSocket-Accept, RFC 6455 4.2.2), bound by its instruction count: each
// 3-byte group from a 4-byte load (the last one ends at byte 18, inside the digest), its two
// pairs copied to their places. Joining pairs into wider stores costs a shift and an or per
// pair, more than the stores it saves. No loop and no data-dependent branch: the 13 lookups are
// all independent. Returns the 28 chars written.
inline std::size_t base64_encode_digest_pairs(const std::byte* in, char* out) noexcept {
  const auto copy_pair = [](char* to, std::uint32_t twelve_bits) {
    __builtin_memcpy(to, &base64_pair_table.pair[twelve_bits], 2);
  };
  for (std::size_t g = 0; g < 6; ++g) {
    const std::uint32_t v = __builtin_bswap32(load_u32(in + 3 * g));  // group g in the top 24 bits
    copy_pair(out + 4 * g, v >> 20);
    copy_pair(out + 4 * g + 2, v >> 8 & 4095);
  }
  base64_store_last2(out + 24, __builtin_bswap32(load_u32(in + 16)));  // bytes 18, 19 in bits 15..0
  return 28;
}

// base64_encode_scalar with the pair table, 6 bytes per step from an 8-byte load while 8 are
// left.
inline std::size_t base64_encode_pairs(const std::byte* in, std::size_t n, char* out) noexcept {
  if (n == 20) return base64_encode_digest_pairs(in, out);
  std::size_t i = 0, o = 0;
  for (; i + 8 <= n; i += 6, o += 8) store_u64(reinterpret_cast<std::byte*>(out + o), base64_pairs_of_6(base64_load_6(in + i)));
  const auto byte_at = [in](std::size_t k) { return std::uint64_t{static_cast<std::uint8_t>(in[k])}; };
  for (; i + 3 <= n; i += 3, o += 4) {
    const std::uint64_t v = byte_at(i) << 16 | byte_at(i + 1) << 8 | byte_at(i + 2);
    base64_store4(out + o, base64_pair(v >> 12) | base64_pair(v & 4095) << 16);
  }
  if (i + 1 == n) {  // 8 bits: 12 with zeros below, then "=="
    constexpr std::uint64_t pad = '=';
    base64_store4(out + o, base64_pair(byte_at(i) << 4) | pad << 16 | pad << 24);
    o += 4;
  } else if (i + 2 == n) {
    base64_store_last2(out + o, static_cast<std::uint32_t>(byte_at(i) << 8 | byte_at(i + 1)));
    o += 4;
  }
  return o;
}
#endif

// The status of an input known to be invalid in its characters or padding (the class does not
// depend on the position: see kernels.hpp).
inline Base64Status base64_error(const char* in, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    if (in[i] != '=' && base64_value(in[i]) == 0xFF) return Base64Status::invalid_character;
  return Base64Status::invalid_padding;
}

// Decodes the quads of in[0..n) (n a multiple of 4) that start at `from` (a multiple of 4, the
// SIMD paths have decoded everything before), writing the bytes of quad q at out + 3 * q.
inline Base64Status base64_decode_from(const char* in, std::size_t n, std::size_t from, std::byte* out,
                                       std::size_t* written) noexcept {
  *written = 0;
  if (n == 0) return Base64Status::ok;
  const std::size_t last = n - 4;  // the final quad, the only one that may hold padding
  std::size_t i = from, o = from / 4 * 3;
  for (; i < last; i += 4, o += 3) {
    const std::uint32_t a = base64_value(in[i]), b = base64_value(in[i + 1]);
    const std::uint32_t c = base64_value(in[i + 2]), d = base64_value(in[i + 3]);
    if ((a | b | c | d) & 0x80) return base64_error(in, n);
    const std::uint32_t v = a << 18 | b << 12 | c << 6 | d;
    out[o] = static_cast<std::byte>(v >> 16);
    out[o + 1] = static_cast<std::byte>(v >> 8);
    out[o + 2] = static_cast<std::byte>(v);
  }
  // The final quad: "xxxx", "xxx=" or "xx==".
  const std::uint32_t a = base64_value(in[last]), b = base64_value(in[last + 1]);
  const bool pad3 = in[last + 3] == '=', pad2 = pad3 && in[last + 2] == '=';
  const std::uint32_t c = pad2 ? 0 : base64_value(in[last + 2]), d = pad3 ? 0 : base64_value(in[last + 3]);
  if ((a | b | c | d) & 0x80) return base64_error(in, n);
  const std::uint32_t v = a << 18 | b << 12 | c << 6 | d;
  out[o] = static_cast<std::byte>(v >> 16);
  if (pad2) {
    if (v & 0xFFFF) return Base64Status::non_canonical;  // RFC 4648 3.5: unused bits are zero
    *written = o + 1;
    return Base64Status::ok;
  }
  out[o + 1] = static_cast<std::byte>(v >> 8);
  if (pad3) {
    if (v & 0xFF) return Base64Status::non_canonical;
    *written = o + 2;
    return Base64Status::ok;
  }
  out[o + 2] = static_cast<std::byte>(v);
  *written = o + 3;
  return Base64Status::ok;
}

// ---------------------------------------------------------------------------------------------
// pshufb bulk loops (W. Muła and D. Lemire, "Faster Base64 Encoding and Decoding Using AVX2
// Instructions", ACM TOW 2018), written once against the SIMD layers that have the operations
// (sse42, and in the SHA-NI TU for the accept key; avx2; avx512 without VBMI): the 16-entry
// lookups work within 16-byte lanes, so the tables repeat per lane.

#if defined(WSFRAME_SIMD_BASE64)
using simd::u8v;

// Per-lane tables (16 bytes each).
inline constexpr std::int8_t base64_encode_spread[16] = {1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10};
// 6-bit value -> offset to its ASCII code, indexed by the value's range (A-Z, a-z, 0-9, +, /).
inline constexpr std::int8_t base64_encode_offsets[16] = {65, 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 0, 0};
// In each 32-bit word b1 b0 b2 b1: the bits of the 6-bit fields a and c (taken out by a
// multiply-high) and of b and d (multiply-low), with their multipliers; and the last 6-bit
// values of A-Z and a-z.
inline constexpr std::uint32_t base64_ac_bits = 0x0fc0fc00, base64_ac_shifts = 0x04000040;
inline constexpr std::uint32_t base64_bd_bits = 0x003f03f0, base64_bd_shifts = 0x01000010;
inline constexpr std::uint8_t base64_last_upper = 25, base64_last_lower = 51;
// Validity by nibbles: a character is in the alphabet iff lo_bits[low nibble] & hi_bits[high nibble] == 0.
inline constexpr std::int8_t base64_decode_lo_bits[16] = {0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                                          0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A};
inline constexpr std::int8_t base64_decode_hi_bits[16] = {0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08,
                                                          0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10};
// ASCII -> 6-bit value offsets by high nibble ('/' has its own entry).
inline constexpr std::int8_t base64_decode_roll[16] = {0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0};
// The three bytes of each decoded 32-bit word, big-endian, packed to 12 bytes per lane.
inline constexpr std::int8_t base64_decode_pack[16] = {2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1};

// The constants of base64_encode_lanes, in the layer's vectors (a class template of a vector type
// would lose its attributes: -Wignored-attributes).
struct Base64EncodeConstants {
  u8v spread, offsets;                       // the tables above, in every lane
  u8v ac_bits, ac_shifts, bd_bits, bd_shifts;  // the 6-bit fields and their multipliers
  u8v above_digits, above_letters;           // base64_last_lower, base64_last_upper
};
inline Base64EncodeConstants base64_encode_constants() noexcept {
  return {simd::table(base64_encode_spread), simd::table(base64_encode_offsets),
          simd::splat32(base64_ac_bits),     simd::splat32(base64_ac_shifts),
          simd::splat32(base64_bd_bits),     simd::splat32(base64_bd_shifts),
          simd::splat(base64_last_lower),    simd::splat(base64_last_upper)};
}
#if defined(WSFRAME_SIMD_HALF)
// The same in the layer's half-width vectors.
struct Base64EncodeHalfConstants {
  simd::half spread, offsets, ac_bits, ac_shifts, bd_bits, bd_shifts, above_digits, above_letters;
};
inline Base64EncodeHalfConstants base64_encode_half_constants() noexcept {
  return {simd::half_table(base64_encode_spread), simd::half_table(base64_encode_offsets),
          simd::half_splat32(base64_ac_bits),     simd::half_splat32(base64_ac_shifts),
          simd::half_splat32(base64_bd_bits),     simd::half_splat32(base64_bd_shifts),
          simd::half_splat(base64_last_lower),    simd::half_splat(base64_last_upper)};
}
#endif

// W chars from 3 * W / 4 bytes, given as 12 bytes at the start of each 16-byte lane (W the
// width of V, the vector type of the constants K).
template <class V, class K>
inline V base64_encode_lanes(V input, const K& k) noexcept {
  const V v = simd::lookup(input, k.spread);
  // Each 32-bit word holds bytes b1 b0 b2 b1; cut out the four 6-bit fields, each into a byte.
  const V ac = simd::mulhi_u16(simd::bit_and(v, k.ac_bits), k.ac_shifts);
  const V bd = simd::mullo_u16(simd::bit_and(v, k.bd_bits), k.bd_shifts);
  const V values = simd::bit_or(ac, bd);
  // Range index: 0 for A-Z, 1 for a-z, 2..11 for digits, 12 '+', 13 '/'.
  const V range = simd::sub(simd::sub_sat(values, k.above_digits), simd::greater(values, k.above_letters));
  return simd::add(values, simd::lookup(k.offsets, range));
}

// W chars from the 3 * W / 4 bytes at `in` (reads W / 4 * 3 + 4 bytes on avx2, 16 on 16-byte vectors).
inline u8v base64_encode_vector(const std::byte* in, const Base64EncodeConstants& k) noexcept {
  return base64_encode_lanes(simd::load_encode_input(in), k);
}

// The 28 chars of the base64 of a 20-byte digest held in registers (bytes 0..15, and 16..19 in
// the low 4 bytes of the second with zeros above), with no round trip through memory. Char 27
// comes from the zero bytes and becomes the padding.
inline void base64_encode_digest(__m128i bytes0_15, __m128i bytes16_19, char* out) noexcept {
  const __m128i bytes12_27 = _mm_alignr_epi8(bytes16_19, bytes0_15, 12);  // zero after byte 19
#if defined(WSFRAME_SIMD_HALF)
  // One step on 32 bytes (two lanes used): on a CPU that runs each 512-bit operation as two
  // 256-bit halves, the full width would cost twice as much for lanes that hold nothing.
  const simd::half chars = base64_encode_lanes(simd::half_join(bytes0_15, bytes12_27), base64_encode_half_constants());
  simd::store_prefix<28>(out, simd::set_byte<27>(chars, '='));
#else
  const Base64EncodeConstants k = base64_encode_constants();
  if constexpr (simd::width == 16) {  // two steps
    const u8v low = base64_encode_lanes(simd::from_xmm(bytes0_15), k);
    const u8v high = simd::set_byte<11>(base64_encode_lanes(simd::from_xmm(bytes12_27), k), '=');
    simd::store(out, low);
    simd::store_prefix<12>(out + 16, high);
  } else {  // one step (two lanes used)
    const u8v chars = base64_encode_lanes(simd::join_halves(bytes0_15, bytes12_27), k);
    simd::store_prefix<28>(out, simd::set_byte<27>(chars, '='));
  }
#endif
}

// A SHA-1 digest (Sec-WebSocket-Accept, RFC 6455 4.2.2) at `in`, in one step of the accept key's
// own encoder: shorter than the bulk loop's step (and its over-read), and of a fixed size, so
// not even the masks of a masked tail to compute. Returns the 28 chars written.
inline std::size_t base64_encode_digest_at(const std::byte* in, char* out) noexcept {
  base64_encode_digest(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in)),
                       _mm_cvtsi32_si128(static_cast<int>(load_u32(in + 16))), out);
  return 28;
}

// Encodes the largest prefix the vector loop can take without reading past in + n; returns the
// bytes consumed (a multiple of 3; the chars written are 4/3 of it).
inline std::size_t base64_encode_bulk(const std::byte* in, std::size_t n, char* out) noexcept {
  constexpr std::size_t W = simd::width, step = W / 4 * 3;
  const Base64EncodeConstants k = base64_encode_constants();
  constexpr std::size_t over_read = simd::masked_memory ? 0 : 4;  // masked loads read their bytes only
  std::size_t i = 0, o = 0;
  for (; i + step + over_read <= n; i += step, o += W) simd::store(out + o, base64_encode_vector(in + i, k));
  if constexpr (!simd::masked_memory) {
    // One more step from the last group boundary whose reads stay inside the input, over bytes
    // partly done already (their chars come out the same): at most over_read + 2 bytes are left
    // to the scalar tail instead of up to step + over_read - 1.
    if (i != 0 && n - i > over_read + 2) {
      const std::size_t last = (n - step - over_read) / 3 * 3;
      simd::store(out + last / 3 * 4, base64_encode_vector(in + last, k));
      i = last + step;
    }
  }
  return i;
}

// With masked memory: stores the chars of the last r < 3 * W / 4 input bytes, encoded from a
// vector holding zeros after them, padded with '=' (RFC 4648 section 4); returns how many
// (4 * ceil(r / 3)), all written by one masked store.
// The two counts come from a table: computed, they take two divisions by 3 (multiplications)
// on the path to the store's masks, which is the last thing a call waits for.
struct Base64TailCounts {
  std::uint8_t written[simd::width / 4 * 3], from_input[simd::width / 4 * 3];
};
constexpr Base64TailCounts make_base64_tail_counts() noexcept {
  Base64TailCounts t{};
  for (unsigned r = 0; r < simd::width / 4 * 3; ++r) {
    t.written[r] = static_cast<std::uint8_t>((r + 2) / 3 * 4);
    t.from_input[r] = static_cast<std::uint8_t>(r / 3 * 4 + (r % 3 == 0 ? 0 : r % 3 + 1));
  }
  return t;
}
inline constexpr Base64TailCounts base64_tail_counts = make_base64_tail_counts();
inline std::size_t base64_store_last(u8v chars, std::size_t r, char* out) noexcept {
  const std::size_t written = base64_tail_counts.written[r];
  simd::store_first(out, written, simd::fill_from(chars, base64_tail_counts.from_input[r], '='));
  return written;
}

// Decodes whole vectors of non-final quads; returns the chars consumed, or n + 1 when a vector
// holds a character outside the alphabet (including '=').
inline std::size_t base64_decode_bulk(const char* in, std::size_t n, std::byte* out) noexcept {
  constexpr std::size_t W = simd::width;
  if (n < 4) return 0;
  const std::size_t body = n - 4, out_body = body / 4 * 3;  // the final quad is left to scalar
  const u8v lo_bits = simd::table(base64_decode_lo_bits), hi_bits = simd::table(base64_decode_hi_bits);
  const u8v roll_table = simd::table(base64_decode_roll), pack = simd::table(base64_decode_pack);
  const u8v slash = simd::splat(0x2f);
  std::size_t i = 0, o = 0;
  for (; i + W <= body && o + W <= out_body; i += W, o += W / 4 * 3) {  // the store writes W bytes
    const u8v v = simd::load(in + i);
    const u8v hi = simd::bit_and(simd::shift_right4_u32(v), slash), lo = simd::bit_and(v, slash);  // nibbles (bit 5 is ignored)
    if (!simd::disjoint(simd::lookup(lo_bits, lo), simd::lookup(hi_bits, hi))) return n + 1;
    const u8v values = simd::add(v, simd::lookup(roll_table, simd::add(simd::equal(v, slash), hi)));
    // Merge 4 x 6 bits into 24 bits per 32-bit word, then keep 3 bytes of each, big-endian.
    const u8v merged = simd::madd_u16(simd::maddubs(values, simd::splat32(0x01400140)), simd::splat32(0x00011000));
    simd::store(out + o, simd::join_lanes(simd::lookup(merged, pack)));
  }
  return i;
}
#endif

// ---------------------------------------------------------------------------------------------
// The Backend entries: SIMD bulk (when this ISA has it), scalar for the rest.
inline std::size_t base64_encode(const std::byte* in, std::size_t n, char* out) noexcept {
#if defined(WSFRAME_SIMD_BASE64)
  if (n == 20) return base64_encode_digest_at(in, out);
  const std::size_t done = base64_encode_bulk(in, n, out), rest = n - done, o = done / 3 * 4;
  if constexpr (simd::masked_memory) {
    if (rest == 0) return o;
    const u8v input = simd::spread_encode_input(simd::load_first(in + done, rest));
    return o + base64_store_last(base64_encode_lanes(input, base64_encode_constants()), rest, out + o);
  }
  return o + base64_encode_scalar(in + done, rest, out + o);
#else
  return base64_encode_pairs(in, n, out);
#endif
}

inline Base64Status base64_decode(const char* in, std::size_t n, std::byte* out, std::size_t* written) noexcept {
#if defined(WSFRAME_SIMD_BASE64)
  const std::size_t done = base64_decode_bulk(in, n, out);
  if (done > n) {
    *written = 0;
    return base64_error(in, n);
  }
  return base64_decode_from(in, n, done, out, written);
#else
  return base64_decode_from(in, n, 0, out, written);
#endif
}
