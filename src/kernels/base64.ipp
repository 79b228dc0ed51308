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
// Instructions", ACM TOW 2018), written once over the vector width: 16 bytes on sse42 (and in
// the SHA-NI TU, for the accept key), 32 on avx2, 64 on avx512 without VBMI (vpshufb works
// within 16-byte lanes, so the tables repeat per lane).

#if defined(WSFRAME_ARCH_SIMD) && defined(__AVX512BW__)
#define WSFRAME_BASE64_VEC 1
// The maskz forms with a full mask are the plain instructions; they avoid GCC 12's false
// -Wmaybe-uninitialized on some unmasked AVX-512 intrinsics (GCC PR 105593).
struct Base64Vec {
  using V = __m512i;
  static constexpr std::size_t W = 64;
  static V table(const std::int8_t* t16) noexcept {
    return _mm512_maskz_broadcast_i32x4(0xFFFF, _mm_loadu_si128(reinterpret_cast<const __m128i*>(t16)));
  }
  static V set1_32(std::uint32_t v) noexcept { return _mm512_set1_epi32(static_cast<int>(v)); }
  static V set1_8(std::uint8_t v) noexcept { return _mm512_set1_epi8(static_cast<char>(v)); }
  static V load(const void* p) noexcept { return _mm512_loadu_si512(p); }
  static void store(void* p, V v) noexcept { _mm512_storeu_si512(p, v); }
  // 48 input bytes as 12 per lane; reads exactly p[0..48).
  static V load_encode_input(const std::byte* p) noexcept {
    const V spread = _mm512_setr_epi32(0, 1, 2, 0, 3, 4, 5, 0, 6, 7, 8, 0, 9, 10, 11, 0);
    return _mm512_maskz_permutexvar_epi32(0xFFFF, spread, _mm512_maskz_loadu_epi8(0xFFFFFFFFFFFFull, p));
  }
  static V shuffle(V table, V index) noexcept { return _mm512_shuffle_epi8(table, index); }
  static V band(V a, V b) noexcept { return _mm512_and_si512(a, b); }
  static V bor(V a, V b) noexcept { return _mm512_or_si512(a, b); }
  static V add8(V a, V b) noexcept { return _mm512_add_epi8(a, b); }
  static V sub8(V a, V b) noexcept { return _mm512_sub_epi8(a, b); }
  static V subs_u8(V a, V b) noexcept { return _mm512_subs_epu8(a, b); }
  static V gt8(V a, V b) noexcept { return _mm512_movm_epi8(_mm512_cmpgt_epi8_mask(a, b)); }
  static V eq8(V a, V b) noexcept { return _mm512_movm_epi8(_mm512_cmpeq_epi8_mask(a, b)); }
  static V mulhi16(V a, V b) noexcept { return _mm512_mulhi_epu16(a, b); }
  static V mullo16(V a, V b) noexcept { return _mm512_mullo_epi16(a, b); }
  static V srl32_4(V a) noexcept { return _mm512_maskz_srli_epi32(0xFFFF, a, 4); }
  static V maddubs(V a, V b) noexcept { return _mm512_maddubs_epi16(a, b); }
  static V madd16(V a, V b) noexcept { return _mm512_madd_epi16(a, b); }
  static bool disjoint(V a, V b) noexcept { return _mm512_test_epi8_mask(a, b) == 0; }
  static V join_lanes(V v) noexcept {
    return _mm512_maskz_permutexvar_epi32(0xFFFF, _mm512_setr_epi32(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 3, 7, 11, 15), v);
  }
};
#elif defined(WSFRAME_ARCH_SIMD) && defined(__AVX2__)
#define WSFRAME_BASE64_VEC 1
struct Base64Vec {
  using V = __m256i;
  static constexpr std::size_t W = 32;
  static V table(const std::int8_t* t16) noexcept {  // a 16-byte table in every lane
    return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t16)));
  }
  static V set1_32(std::uint32_t v) noexcept { return _mm256_set1_epi32(static_cast<int>(v)); }
  static V set1_8(std::uint8_t v) noexcept { return _mm256_set1_epi8(static_cast<char>(v)); }
  static V load(const void* p) noexcept { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
  static void store(void* p, V v) noexcept { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }
  // 24 input bytes as 12 per lane; reads p[0..28).
  static V load_encode_input(const std::byte* p) noexcept {
    return _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 12)),
                            _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static V shuffle(V table, V index) noexcept { return _mm256_shuffle_epi8(table, index); }
  static V band(V a, V b) noexcept { return _mm256_and_si256(a, b); }
  static V bor(V a, V b) noexcept { return _mm256_or_si256(a, b); }
  static V add8(V a, V b) noexcept { return _mm256_add_epi8(a, b); }
  static V sub8(V a, V b) noexcept { return _mm256_sub_epi8(a, b); }
  static V subs_u8(V a, V b) noexcept { return _mm256_subs_epu8(a, b); }
  static V gt8(V a, V b) noexcept { return _mm256_cmpgt_epi8(a, b); }
  static V eq8(V a, V b) noexcept { return _mm256_cmpeq_epi8(a, b); }
  static V mulhi16(V a, V b) noexcept { return _mm256_mulhi_epu16(a, b); }
  static V mullo16(V a, V b) noexcept { return _mm256_mullo_epi16(a, b); }
  static V srl32_4(V a) noexcept { return _mm256_srli_epi32(a, 4); }
  static V maddubs(V a, V b) noexcept { return _mm256_maddubs_epi16(a, b); }
  static V madd16(V a, V b) noexcept { return _mm256_madd_epi16(a, b); }
  static bool disjoint(V a, V b) noexcept { return _mm256_testz_si256(a, b) != 0; }
  // The 12 decoded bytes at the start of each lane (after the in-lane shuffle) made contiguous.
  static V join_lanes(V v) noexcept { return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7)); }
};
#elif defined(__SSSE3__) && defined(__SSE4_1__)
#define WSFRAME_BASE64_VEC 1
struct Base64Vec {
  using V = __m128i;
  static constexpr std::size_t W = 16;
  static V table(const std::int8_t* t16) noexcept { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(t16)); }
  static V set1_32(std::uint32_t v) noexcept { return _mm_set1_epi32(static_cast<int>(v)); }
  static V set1_8(std::uint8_t v) noexcept { return _mm_set1_epi8(static_cast<char>(v)); }
  static V load(const void* p) noexcept { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
  static void store(void* p, V v) noexcept { _mm_storeu_si128(static_cast<__m128i*>(p), v); }
  static V load_encode_input(const std::byte* p) noexcept { return load(p); }  // 12 used, reads p[0..16)
  static V shuffle(V table, V index) noexcept { return _mm_shuffle_epi8(table, index); }
  static V band(V a, V b) noexcept { return _mm_and_si128(a, b); }
  static V bor(V a, V b) noexcept { return _mm_or_si128(a, b); }
  static V add8(V a, V b) noexcept { return _mm_add_epi8(a, b); }
  static V sub8(V a, V b) noexcept { return _mm_sub_epi8(a, b); }
  static V subs_u8(V a, V b) noexcept { return _mm_subs_epu8(a, b); }
  static V gt8(V a, V b) noexcept { return _mm_cmpgt_epi8(a, b); }
  static V eq8(V a, V b) noexcept { return _mm_cmpeq_epi8(a, b); }
  static V mulhi16(V a, V b) noexcept { return _mm_mulhi_epu16(a, b); }
  static V mullo16(V a, V b) noexcept { return _mm_mullo_epi16(a, b); }
  static V srl32_4(V a) noexcept { return _mm_srli_epi32(a, 4); }
  static V maddubs(V a, V b) noexcept { return _mm_maddubs_epi16(a, b); }
  static V madd16(V a, V b) noexcept { return _mm_madd_epi16(a, b); }
  static bool disjoint(V a, V b) noexcept { return _mm_testz_si128(a, b) != 0; }
  static V join_lanes(V v) noexcept { return v; }
};
#endif

#if defined(WSFRAME_BASE64_VEC)

// Per-lane tables (16 bytes each).
inline constexpr std::int8_t base64_encode_spread[16] = {1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10};
// 6-bit value -> offset to its ASCII code, indexed by the value's range (A-Z, a-z, 0-9, +, /).
inline constexpr std::int8_t base64_encode_offsets[16] = {65, 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 0, 0};
// Validity by nibbles: a character is in the alphabet iff lo_bits[low nibble] & hi_bits[high nibble] == 0.
inline constexpr std::int8_t base64_decode_lo_bits[16] = {0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                                          0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A};
inline constexpr std::int8_t base64_decode_hi_bits[16] = {0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08,
                                                          0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10};
// ASCII -> 6-bit value offsets by high nibble ('/' has its own entry).
inline constexpr std::int8_t base64_decode_roll[16] = {0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0};
// The three bytes of each decoded 32-bit word, big-endian, packed to 12 bytes per lane.
inline constexpr std::int8_t base64_decode_pack[16] = {2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1};

// W chars from 3 * W / 4 bytes, given as 12 bytes at the start of each 16-byte lane.
inline Base64Vec::V base64_encode_lanes(Base64Vec::V input, Base64Vec::V spread, Base64Vec::V offsets) noexcept {
  using S = Base64Vec;
  const S::V v = S::shuffle(input, spread);
  // Each 32-bit word holds bytes b1 b0 b2 b1; cut out the four 6-bit fields, each into a byte.
  const S::V ac = S::mulhi16(S::band(v, S::set1_32(0x0fc0fc00)), S::set1_32(0x04000040));
  const S::V bd = S::mullo16(S::band(v, S::set1_32(0x003f03f0)), S::set1_32(0x01000010));
  const S::V values = S::bor(ac, bd);
  // Range index: 0 for A-Z, 1 for a-z, 2..11 for digits, 12 '+', 13 '/'.
  const S::V range = S::sub8(S::subs_u8(values, S::set1_8(51)), S::gt8(values, S::set1_8(25)));
  return S::add8(values, S::shuffle(offsets, range));
}

// W chars from the 3 * W / 4 bytes at `in` (reads W / 4 * 3 + 4 bytes on avx2, 16 on 16-byte vectors).
inline Base64Vec::V base64_encode_vector(const std::byte* in, Base64Vec::V spread, Base64Vec::V offsets) noexcept {
  return base64_encode_lanes(Base64Vec::load_encode_input(in), spread, offsets);
}

// The 28 chars of the base64 of a 20-byte digest held in registers (bytes 0..15, and 16..19 in
// the low 4 bytes of the second with zeros above), with no round trip through memory.
inline void base64_encode_digest(__m128i bytes0_15, __m128i bytes16_19, char* out) noexcept {
  const Base64Vec::V spread = Base64Vec::table(base64_encode_spread), offsets = Base64Vec::table(base64_encode_offsets);
  const __m128i bytes12_27 = _mm_alignr_epi8(bytes16_19, bytes0_15, 12);  // zero after byte 19
#if defined(WSFRAME_ARCH_SIMD) && defined(__AVX512BW__)
  // One step (two of the four lanes used); char 27 comes from the zero bytes and becomes the padding.
  __m512i chars = base64_encode_lanes(_mm512_inserti32x4(_mm512_castsi128_si512(bytes0_15), bytes12_27, 1), spread, offsets);
  chars = _mm512_mask_blend_epi8(1ull << 27, chars, _mm512_set1_epi8('='));
  _mm512_mask_storeu_epi8(out, 0x0FFFFFFF, chars);  // exactly the 28 chars
#else
#if defined(WSFRAME_ARCH_SIMD) && defined(__AVX2__)
  // One 32-char step; char 27 comes from the zero bytes and becomes the padding.
  __m256i chars = base64_encode_lanes(_mm256_set_m128i(bytes12_27, bytes0_15), spread, offsets);
  chars = _mm256_blendv_epi8(chars, _mm256_set1_epi8('='), _mm256_setr_epi32(0, 0, 0, 0, 0, 0, static_cast<int>(0x80000000u), 0));
  const __m128i low = _mm256_castsi256_si128(chars), high = _mm256_extracti128_si256(chars, 1);
#else
  const __m128i low = base64_encode_lanes(bytes0_15, spread, offsets);
  const __m128i high = _mm_insert_epi8(base64_encode_lanes(bytes12_27, spread, offsets), '=', 11);
#endif
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), low);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out + 16), high);
  const int last4 = _mm_extract_epi32(high, 2);
  __builtin_memcpy(out + 24, &last4, 4);
#endif
}

// Encodes the largest prefix the vector loop can take without reading past in + n; returns the
// bytes consumed (the chars written are 4/3 of it).
inline std::size_t base64_encode_bulk(const std::byte* in, std::size_t n, char* out) noexcept {
  using S = Base64Vec;
  constexpr std::size_t W = S::W, step = W / 4 * 3;
  const S::V spread = S::table(base64_encode_spread), offsets = S::table(base64_encode_offsets);
  std::size_t i = 0, o = 0;
  for (; i + step + 4 <= n; i += step, o += W) S::store(out + o, base64_encode_vector(in + i, spread, offsets));
  return i;
}

// Decodes whole vectors of non-final quads; returns the chars consumed, or n + 1 when a vector
// holds a character outside the alphabet (including '=').
inline std::size_t base64_decode_bulk(const char* in, std::size_t n, std::byte* out) noexcept {
  using S = Base64Vec;
  constexpr std::size_t W = S::W;
  if (n < 4) return 0;
  const std::size_t body = n - 4, out_body = body / 4 * 3;  // the final quad is left to scalar
  const S::V lo_bits = S::table(base64_decode_lo_bits), hi_bits = S::table(base64_decode_hi_bits);
  const S::V roll_table = S::table(base64_decode_roll), pack = S::table(base64_decode_pack);
  const S::V slash = S::set1_8(0x2f);
  std::size_t i = 0, o = 0;
  for (; i + W <= body && o + W <= out_body; i += W, o += W / 4 * 3) {  // the store writes W bytes
    const S::V v = S::load(in + i);
    const S::V hi = S::band(S::srl32_4(v), slash), lo = S::band(v, slash);  // nibbles (bit 5 is ignored)
    if (!S::disjoint(S::shuffle(lo_bits, lo), S::shuffle(hi_bits, hi))) return n + 1;
    const S::V values = S::add8(v, S::shuffle(roll_table, S::add8(S::eq8(v, slash), hi)));
    // Merge 4 x 6 bits into 24 bits per 32-bit word, then keep 3 bytes of each, big-endian.
    const S::V merged = S::madd16(S::maddubs(values, S::set1_32(0x01400140)), S::set1_32(0x00011000));
    S::store(out + o, S::join_lanes(S::shuffle(merged, pack)));
  }
  return i;
}
#endif

#if defined(__AVX512BW__)
// ---------------------------------------------------------------------------------------------
// AVX-512 VBMI (W. Muła, D. Lemire, "Base64 encoding and decoding at almost the speed of a
// memory copy", SPE 2019): vpermb/vpermi2b do the 64-entry lookups in one instruction. Only
// called on CPUs with VBMI (dispatch.cpp); the rest of this TU does not assume it.
struct Base64VbmiTables {
  std::uint8_t encode_spread[64];   // bytes b1 b0 b2 b1 of each 3-byte group in each 32-bit word
  std::uint8_t decode_lookup[128];  // ASCII -> 6-bit value, 0x80 when not in the alphabet
  std::uint8_t decode_pack[64];     // the 3 bytes of each 32-bit word, big-endian, 48 in all
};
constexpr Base64VbmiTables make_base64_vbmi_tables() noexcept {
  Base64VbmiTables t{};
  for (unsigned k = 0; k < 16; ++k) {
    t.encode_spread[4 * k] = static_cast<std::uint8_t>(3 * k + 1);
    t.encode_spread[4 * k + 1] = static_cast<std::uint8_t>(3 * k);
    t.encode_spread[4 * k + 2] = static_cast<std::uint8_t>(3 * k + 2);
    t.encode_spread[4 * k + 3] = static_cast<std::uint8_t>(3 * k + 1);
  }
  for (unsigned c = 0; c < 128; ++c) t.decode_lookup[c] = base64_decode_table.value[c] == 0xFF ? 0x80 : base64_decode_table.value[c];
  for (unsigned j = 0; j < 48; ++j) t.decode_pack[j] = static_cast<std::uint8_t>(4 * (j / 3) + 2 - j % 3);
  return t;
}
inline constexpr Base64VbmiTables base64_vbmi_tables = make_base64_vbmi_tables();

// The maskz forms with a full mask are the plain instructions; they avoid GCC 12's false
// -Wmaybe-uninitialized on the unmasked intrinsics (GCC PR 105593).
constexpr __mmask64 all_bytes = ~0ull;

__attribute__((target("avx512vbmi"))) inline __m512i base64_encode_vbmi_step(__m512i bytes) noexcept {
  const __m512i spread = _mm512_maskz_permutexvar_epi8(all_bytes, _mm512_loadu_si512(base64_vbmi_tables.encode_spread), bytes);
  // vpmultishiftqb picks the four 6-bit fields of each word (shifts 10, 4, 22, 16 in it).
  const __m512i values = _mm512_maskz_multishift_epi64_epi8(all_bytes, _mm512_set1_epi64(0x3036242a1016040a), spread);
  return _mm512_maskz_permutexvar_epi8(all_bytes, values, _mm512_loadu_si512(base64_alphabet));
}

__attribute__((target("avx512vbmi"))) inline std::size_t base64_encode_vbmi(const std::byte* in, std::size_t n,
                                                                           char* out) noexcept {
  std::size_t i = 0, o = 0;
  for (; i + 64 <= n; i += 48, o += 64) _mm512_storeu_si512(out + o, base64_encode_vbmi_step(_mm512_loadu_si512(in + i)));
  if (i + 48 <= n) {  // one more group of 48 with a masked load: nothing read past in + n
    _mm512_storeu_si512(out + o, base64_encode_vbmi_step(_mm512_maskz_loadu_epi8(0xFFFFFFFFFFFFull, in + i)));
    i += 48, o += 64;
  }
  return o + base64_encode_scalar(in + i, n - i, out + o);
}

__attribute__((target("avx512vbmi"))) inline Base64Status base64_decode_vbmi(const char* in, std::size_t n, std::byte* out,
                                                                            std::size_t* written) noexcept {
  std::size_t i = 0;
  if (n >= 4) {
    const __m512i lookup_lo = _mm512_loadu_si512(base64_vbmi_tables.decode_lookup);
    const __m512i lookup_hi = _mm512_loadu_si512(base64_vbmi_tables.decode_lookup + 64);
    const __m512i pack = _mm512_loadu_si512(base64_vbmi_tables.decode_pack);
    for (std::size_t o = 0; i + 64 <= n - 4; i += 64, o += 48) {  // the final quad is left to scalar
      const __m512i v = _mm512_loadu_si512(in + i);
      const __m512i values = _mm512_permutex2var_epi8(lookup_lo, v, lookup_hi);  // bit 7 of v is ignored
      if (_mm512_movepi8_mask(_mm512_or_si512(values, v)) != 0) {  // non-ASCII, or 0x80 from the table
        *written = 0;
        return base64_error(in, n);
      }
      const __m512i merged = _mm512_madd_epi16(_mm512_maddubs_epi16(values, _mm512_set1_epi32(0x01400140)),
                                               _mm512_set1_epi32(0x00011000));
      _mm512_mask_storeu_epi8(out + o, 0xFFFFFFFFFFFFull, _mm512_maskz_permutexvar_epi8(all_bytes, pack, merged));
    }
  }
  return base64_decode_from(in, n, i, out, written);
}
#endif

// ---------------------------------------------------------------------------------------------
// The Backend entries: SIMD bulk (when this ISA has it), scalar for the rest.
inline std::size_t base64_encode(const std::byte* in, std::size_t n, char* out) noexcept {
#if defined(WSFRAME_ARCH_SIMD) && defined(WSFRAME_BASE64_VEC)
#if !defined(__AVX512BW__)
  // A SHA-1 digest (Sec-WebSocket-Accept, RFC 6455 4.2.2): too short for the bulk loop's
  // over-read, so in one step of the accept key's own encoder instead of seven scalar groups.
  if (n == 20) {
    base64_encode_digest(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in)),
                         _mm_cvtsi32_si128(static_cast<int>(load_u32(in + 16))), out);
    return 28;
  }
#endif
  const std::size_t done = base64_encode_bulk(in, n, out);
  return done / 3 * 4 + base64_encode_scalar(in + done, n - done, out + done / 3 * 4);
#else
  return base64_encode_scalar(in, n, out);
#endif
}

inline Base64Status base64_decode(const char* in, std::size_t n, std::byte* out, std::size_t* written) noexcept {
#if defined(WSFRAME_ARCH_SIMD) && defined(WSFRAME_BASE64_VEC)
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
