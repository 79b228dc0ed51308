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
// The Backend entries: SIMD bulk (when this ISA has it), scalar for the rest.
inline std::size_t base64_encode(const std::byte* in, std::size_t n, char* out) noexcept {
  return base64_encode_scalar(in, n, out);
}

inline Base64Status base64_decode(const char* in, std::size_t n, std::byte* out, std::size_t* written) noexcept {
  return base64_decode_from(in, n, 0, out, written);
}
