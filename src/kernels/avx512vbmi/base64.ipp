// Base64 on AVX-512 VBMI: the kernels of the avx512vbmi backend (src/backends/avx512.cpp), on
// the avx512 SIMD layer (src/simd/avx512.hpp says why the maskz forms with simd::all_bytes).
// Needs kernels/base64.ipp.
//
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

__attribute__((target("avx512vbmi"))) inline __m512i base64_encode_vbmi_step(__m512i bytes) noexcept {
  const __m512i spread = _mm512_maskz_permutexvar_epi8(simd::all_bytes, _mm512_loadu_si512(base64_vbmi_tables.encode_spread), bytes);
  // vpmultishiftqb picks the four 6-bit fields of each word (shifts 10, 4, 22, 16 in it).
  const __m512i values = _mm512_maskz_multishift_epi64_epi8(simd::all_bytes, _mm512_set1_epi64(0x3036242a1016040a), spread);
  return _mm512_maskz_permutexvar_epi8(simd::all_bytes, values, _mm512_loadu_si512(base64_alphabet));
}

__attribute__((target("avx512vbmi"))) inline std::size_t base64_encode_vbmi(const std::byte* in, std::size_t n,
                                                                           char* out) noexcept {
  if (n == 20) return base64_encode_digest_at(in, out);
  std::size_t i = 0, o = 0;
  for (; i + 64 <= n; i += 48, o += 64) _mm512_storeu_si512(out + o, base64_encode_vbmi_step(_mm512_loadu_si512(in + i)));
  if (i + 48 <= n) {  // one more group of 48 with a masked load: nothing read past in + n
    _mm512_storeu_si512(out + o, base64_encode_vbmi_step(simd::load_first(in + i, 48)));
    i += 48, o += 64;
  }
  if (i == n) return o;
  return o + base64_store_last(base64_encode_vbmi_step(simd::load_first(in + i, n - i)), n - i, out + o);
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
      _mm512_mask_storeu_epi8(out + o, 0xFFFFFFFFFFFFull, _mm512_maskz_permutexvar_epi8(simd::all_bytes, pack, merged));
    }
  }
  return base64_decode_from(in, n, i, out, written);
}
