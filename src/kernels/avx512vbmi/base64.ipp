// Base64 on AVX-512 VBMI: the kernels of the avx512vbmi backend (src/backends/avx512.cpp), on
// the avx512 SIMD layer (src/simd/avx512.hpp says why the maskz forms with simd::all_bytes).
// Needs kernels/base64.ipp.
//
// AVX-512 VBMI (W. Muła, D. Lemire, "Base64 encoding and decoding at almost the speed of a
// memory copy", SPE 2019): vpermb/vpermi2b do the 64-entry lookups in one instruction. Only
// called on CPUs with VBMI (dispatch.cpp); the rest of this TU does not assume it.
struct Base64VbmiTables {
  // Bytes b1 b0 b2 b1 of each 3-byte group in each 32-bit word, for the four 48-byte steps of a
  // 192-byte block held in three vectors: step s takes bytes 48 s .. 48 s + 47, indexed from the
  // start of the vector (or pair of vectors) they are in, 64 * floor(48 s / 64).
  std::uint8_t encode_spread[4][64];
  std::uint8_t decode_lookup[128];  // ASCII -> 6-bit value, 0x80 when not in the alphabet
  std::uint8_t decode_pack[64];     // the 3 bytes of each 32-bit word, big-endian, 48 in all
};
constexpr Base64VbmiTables make_base64_vbmi_tables() noexcept {
  Base64VbmiTables t{};
  for (unsigned s = 0; s < 4; ++s)
    for (unsigned k = 0; k < 16; ++k) {
      constexpr unsigned order[4] = {1, 0, 2, 1};
      for (unsigned j = 0; j < 4; ++j)
        t.encode_spread[s][4 * k + j] = static_cast<std::uint8_t>(48 * s % 64 + 3 * k + order[j]);
    }
  for (unsigned c = 0; c < 128; ++c) t.decode_lookup[c] = base64_decode_table.value[c] == 0xFF ? 0x80 : base64_decode_table.value[c];
  for (unsigned j = 0; j < 48; ++j) t.decode_pack[j] = static_cast<std::uint8_t>(4 * (j / 3) + 2 - j % 3);
  return t;
}
inline constexpr Base64VbmiTables base64_vbmi_tables = make_base64_vbmi_tables();

// The constants of the encoder, loaded once per call.
struct Base64VbmiEncoder {
  __m512i spread[4], fields, alphabet;
};
__attribute__((target("avx512vbmi"))) inline Base64VbmiEncoder base64_vbmi_encoder() noexcept {
  Base64VbmiEncoder e;
  for (unsigned s = 0; s < 4; ++s) e.spread[s] = _mm512_loadu_si512(base64_vbmi_tables.encode_spread[s]);
  // vpmultishiftqb picks the four 6-bit fields of each word (shifts 10, 4, 22, 16 in it).
  e.fields = _mm512_set1_epi64(0x3036242a1016040a);
  e.alphabet = _mm512_loadu_si512(base64_alphabet);
  return e;
}

// The 64 chars of 48 bytes, given spread to b1 b0 b2 b1 per 32-bit word.
__attribute__((target("avx512vbmi"))) inline __m512i base64_vbmi_chars(const Base64VbmiEncoder& e, __m512i spread) noexcept {
  const __m512i values = _mm512_maskz_multishift_epi64_epi8(simd::all_bytes, e.fields, spread);
  return _mm512_maskz_permutexvar_epi8(simd::all_bytes, values, e.alphabet);
}
// The 64 chars of the first 48 bytes of `bytes`.
__attribute__((target("avx512vbmi"))) inline __m512i base64_vbmi_step(const Base64VbmiEncoder& e, __m512i bytes) noexcept {
  return base64_vbmi_chars(e, _mm512_maskz_permutexvar_epi8(simd::all_bytes, e.spread[0], bytes));
}

// 192 bytes (reads exactly those) -> 256 chars. Three whole vectors, so no load splits a cache
// line more often than the input's alignment makes it; steps 1 and 2 take their bytes from two
// of them with vpermt2b.
__attribute__((target("avx512vbmi"))) inline void base64_vbmi_block(const Base64VbmiEncoder& e, const std::byte* in,
                                                                    char* out) noexcept {
  const __m512i a = _mm512_loadu_si512(in), b = _mm512_loadu_si512(in + 64), c = _mm512_loadu_si512(in + 128);
  _mm512_storeu_si512(out, base64_vbmi_step(e, a));
  _mm512_storeu_si512(out + 64, base64_vbmi_chars(e, _mm512_permutex2var_epi8(a, e.spread[1], b)));
  _mm512_storeu_si512(out + 128, base64_vbmi_chars(e, _mm512_permutex2var_epi8(b, e.spread[2], c)));
  _mm512_storeu_si512(out + 192, base64_vbmi_chars(e, _mm512_maskz_permutexvar_epi8(simd::all_bytes, e.spread[3], c)));
}

// From this many input bytes on, a first short step aligns the stores (base64_encode_vbmi).
inline constexpr std::size_t base64_vbmi_align_from = 2048;

__attribute__((target("avx512vbmi"))) inline std::size_t base64_encode_vbmi(const std::byte* in, std::size_t n,
                                                                           char* out) noexcept {
  if (n == 20) return base64_encode_digest_at(in, out);
  const Base64VbmiEncoder e = base64_vbmi_encoder();
  std::size_t i = 0, o = 0;
  // The loop is bound by its stores as much as by its shuffles, and on Zen 4 a 64-byte store
  // that does not start on a 32-byte boundary costs a fifth more. The chars advance by 64 per
  // step, so one first step of the whole groups up to out's next 32-byte boundary aligns every
  // later store, when out is 4, 8, ..., 28 bytes past one. Below 2 KiB that step costs what it
  // saves.
  const std::size_t misaligned = reinterpret_cast<std::uintptr_t>(out) % 32;
  if (n >= base64_vbmi_align_from && misaligned % 4 == 0 && misaligned != 0) {
    o = 32 - misaligned, i = o / 4 * 3;
    simd::store_first(out, o, base64_vbmi_step(e, simd::load_first(in, i)));
  }
  for (; i + 192 <= n; i += 192, o += 256) base64_vbmi_block(e, in + i, out + o);
  for (; i + 64 <= n; i += 48, o += 64) _mm512_storeu_si512(out + o, base64_vbmi_step(e, _mm512_loadu_si512(in + i)));
  // Under 64 bytes left: one masked load (nothing read past in + n, zeros after it), then one
  // step, or two when 48 or more are left.
  const std::size_t r = n - i;
  if (r == 0) return o;
  const __m512i last = simd::load_first(in + i, r);
  if (r < 48) return o + base64_store_last(base64_vbmi_step(e, last), r, out + o);
  _mm512_storeu_si512(out + o, base64_vbmi_step(e, last));
  if (r == 48) return o + 64;
  // Bytes 48..r - 1 with step 1's spread (its indices from 64 on wrap, but only in groups past r).
  const __m512i rest = _mm512_maskz_permutexvar_epi8(simd::all_bytes, e.spread[1], last);
  return o + 64 + base64_store_last(base64_vbmi_chars(e, rest), r - 48, out + o + 64);
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
