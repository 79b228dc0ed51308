// wsframe — the byte-level kernels, run on the active backend (see backend.hpp).
//
// Each function has a second overload taking a `const Backend&` first, which runs that backend
// instead of the active one: tests and benchmarks use it to compare backends by name.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "wsframe/backend.hpp"

namespace wsframe {

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
// Inline definitions: the Backend overloads are on every hot path, so they add no call of
// their own in front of the kernel's.

namespace detail {
// The key as a 32-bit word whose memory image starts at key byte `phase` (little endian).
inline std::uint32_t mask_key_word(MaskKey key, std::size_t phase) noexcept {
  const std::uint32_t word = static_cast<std::uint32_t>(key[0]) | static_cast<std::uint32_t>(key[1]) << 8 |
                             static_cast<std::uint32_t>(key[2]) << 16 | static_cast<std::uint32_t>(key[3]) << 24;
  const unsigned shift = static_cast<unsigned>(phase & 3) * 8;
  return shift == 0 ? word : (word >> shift) | (word << (32 - shift));
}
}  // namespace detail

inline std::size_t mask(const Backend& b, std::span<std::byte> data, MaskKey key, std::size_t phase) noexcept {
  b.mask(data.data(), data.size(), detail::mask_key_word(key, phase));
  return (phase + data.size()) & 3;
}

inline std::size_t mask_copy(const Backend& b, std::span<const std::byte> src, std::span<std::byte> dst, MaskKey key,
                             std::size_t phase) noexcept {
  const std::size_t n = src.size() < dst.size() ? src.size() : dst.size();
  b.mask_copy(src.data(), dst.data(), n, detail::mask_key_word(key, phase));
  return (phase + n) & 3;
}

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

}  // namespace wsframe
