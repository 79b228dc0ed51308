// wsframe — the byte-level kernels, run on the active backend (see backend.hpp).
//
// Each function has a second overload taking a `const Backend&` first, which runs that backend
// instead of the active one: tests and benchmarks use it to compare backends by name.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace wsframe {

struct Backend;  // backend.hpp, which also defines the inline Backend overloads below

// ---------------------------------------------------------------------------------------------
// Masking (RFC 6455 section 5.3): byte i of the payload is XORed with key[(phase + i) % 4].

// The four masking-key bytes in wire order (the bytes that follow the payload length).
using MaskKey = std::array<std::byte, 4>;

// XOR `data` in place, starting at key byte `phase` (0..3; larger values are taken modulo 4).
// Returns the phase after the last byte, so a payload split over several reads is unmasked by
// feeding each piece with the phase the previous call returned.
std::size_t mask(std::span<std::byte> data, MaskKey key, std::size_t phase = 0) noexcept;
inline std::size_t mask(const Backend& b, std::span<std::byte> data, MaskKey key, std::size_t phase = 0) noexcept;

// Masked copy: dst[i] = src[i] ^ key[(phase + i) % 4] for i < min(src.size(), dst.size()).
// dst may alias src exactly (then it is the in-place form); partial overlap is not allowed.
// Returns the phase after the last byte written.
std::size_t mask_copy(std::span<const std::byte> src, std::span<std::byte> dst, MaskKey key,
                      std::size_t phase = 0) noexcept;
inline std::size_t mask_copy(const Backend& b, std::span<const std::byte> src, std::span<std::byte> dst,
                             MaskKey key, std::size_t phase = 0) noexcept;

// ---------------------------------------------------------------------------------------------
// UTF-8 validation (RFC 3629; RFC 6455 section 8.1 requires text messages to be valid UTF-8):
// no overlong forms, no surrogates U+D800..DFFF, nothing above U+10FFFF, no stray continuation
// bytes, no truncated sequence at the end of the text.

enum class Utf8Status : std::uint8_t {
  valid,       // every byte so far belongs to a complete code point
  incomplete,  // no error, but the input ends inside a sequence that can still be completed
  invalid,     // the bytes seen so far are not the prefix of any valid text
};

struct Utf8Result {
  Utf8Status status;
  // Only for invalid: the index, within this call's input, of the first byte that makes the text
  // impossible ("fail fast": F4 90 -> the 90; ED A0 -> the A0; C0 -> the C0; a stray
  // continuation byte -> that byte). 0 when the state was already invalid before the call.
  std::size_t offset;
};

// Where a text stands between calls: carries a code point split across calls (fragments, TCP
// reads), so a text is valid exactly when the concatenation of its pieces is. Value-initialised
// (`Utf8State{}`) it is the start of a text; after an invalid result it stays invalid.
struct Utf8State {
  std::uint8_t dfa = 0;  // the validator's automaton state (src/kernels/utf8.ipp); 0 = between code points
};

// Validates the next piece of a text. valid / incomplete say whether the text so far ends on a
// code-point boundary; the end of the text is valid when utf8_finish(state) is true.
Utf8Result utf8_feed(Utf8State& state, std::span<const std::byte> bytes) noexcept;
Utf8Result utf8_feed(const Backend& b, Utf8State& state, std::span<const std::byte> bytes) noexcept;

// True when the text fed so far is complete and valid (no sequence left open, no error).
bool utf8_finish(const Utf8State& state) noexcept;

// One-shot form: the whole text is valid UTF-8 (a truncated last sequence is invalid).
bool is_valid_utf8(std::span<const std::byte> bytes) noexcept;
bool is_valid_utf8(const Backend& b, std::span<const std::byte> bytes) noexcept;

// ---------------------------------------------------------------------------------------------
// Base64 (RFC 4648 section 4, the standard alphabet with '=' padding), as used by the
// Sec-WebSocket-Key and Sec-WebSocket-Accept headers (RFC 6455 section 4).

enum class Base64Status : std::uint8_t {
  ok,
  invalid_character,  // a character outside A-Z a-z 0-9 + / = (whitespace included)
  invalid_padding,    // '=' anywhere but as the last one or two characters
  invalid_length,     // length not a multiple of 4, or the output buffer is too small
  non_canonical,      // the bits the padding leaves unused are not zero (RFC 4648 3.5)
};

// 4 * ceil(n / 3): the padded encoded size of n bytes.
std::size_t base64_encoded_size(std::size_t n) noexcept;
// An output buffer of this size always suffices for decoding n characters (3 * (n / 4)).
std::size_t base64_decoded_max_size(std::size_t n) noexcept;

// Encodes `in` with padding. `out` must hold base64_encoded_size(in.size()) characters; if it is
// smaller, nothing is written and 0 is returned. Returns the number of characters written.
std::size_t base64_encode(std::span<const std::byte> in, std::span<char> out) noexcept;
std::size_t base64_encode(const Backend& b, std::span<const std::byte> in, std::span<char> out) noexcept;

// Strict decoding: padded form only, '=' only as the last one or two characters, no whitespace
// or any other stray character, unused trailing bits zero. On ok, `written` is the number of
// bytes stored in `out`. Checked first: the length (a multiple of 4) and that `out` can hold the
// decoded bytes (base64_decoded_max_size always does), both invalid_length. Then the content,
// and the status does not depend on where an error is: invalid_character if any character is
// outside the alphabet and '=', else invalid_padding if the '=' are misplaced, else
// non_canonical. On error `written` is 0 and the contents of `out` are unspecified. Identical on
// every backend.
Base64Status base64_decode(std::string_view in, std::span<std::byte> out, std::size_t& written) noexcept;
Base64Status base64_decode(const Backend& b, std::string_view in, std::span<std::byte> out,
                           std::size_t& written) noexcept;

// ---------------------------------------------------------------------------------------------
// SHA-1 (FIPS 180-4) and the WebSocket accept key (RFC 6455 section 4.2.2).

using Sha1Digest = std::array<std::byte, 20>;
Sha1Digest sha1(std::span<const std::byte> data) noexcept;
Sha1Digest sha1(const Backend& b, std::span<const std::byte> data) noexcept;

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")): the Sec-WebSocket-Accept value
// for a Sec-WebSocket-Key (RFC 6455 4.2.2). The key is used as given (the caller trims and
// validates it); the usual 24-character key takes a specialised two-block path.
using AcceptKey = std::array<char, 28>;
AcceptKey accept_key(std::string_view sec_websocket_key) noexcept;
AcceptKey accept_key(const Backend& b, std::string_view sec_websocket_key) noexcept;

// accept_key for many keys at once (a connection storm): out[i] = accept_key(keys[i]) for
// i < min(keys.size(), out.size()). Faster per key than one call each.
void accept_keys(std::span<const std::string_view> keys, std::span<AcceptKey> out) noexcept;
void accept_keys(const Backend& b, std::span<const std::string_view> keys, std::span<AcceptKey> out) noexcept;

}  // namespace wsframe
