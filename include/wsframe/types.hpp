// wsframe — the value types of the kernel API, shared by kernels.hpp and the Backend table in
// backend.hpp (which kernels.hpp includes for its inline Backend overloads).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace wsframe {

// ---------------------------------------------------------------------------------------------
// Masking (RFC 6455 section 5.3)

// The four masking-key bytes in wire order (the bytes that follow the payload length).
using MaskKey = std::array<std::byte, 4>;

// ---------------------------------------------------------------------------------------------
// UTF-8 validation (RFC 3629)

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

namespace detail {
struct Utf8StateAccess;  // the validator's view of the state
}

// Where a text stands between calls: carries a code point split across calls (fragments, TCP
// reads), so a text is valid exactly when the concatenation of its pieces is. Default-
// constructed (`Utf8State{}`) it is the start of a text; after an invalid result it stays
// invalid. An opaque one-byte value: only the validator reads or writes it.
class Utf8State {
 public:
  constexpr Utf8State() noexcept = default;

 private:
  friend struct detail::Utf8StateAccess;
  std::uint8_t automaton_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Base64 (RFC 4648), SHA-1 (FIPS 180-4), the accept key (RFC 6455 4.2.2)

enum class Base64Status : std::uint8_t {
  ok,
  invalid_character,  // a character outside A-Z a-z 0-9 + / = (whitespace included)
  invalid_padding,    // '=' anywhere but as the last one or two characters
  invalid_length,     // length not a multiple of 4, or the output buffer is too small
  non_canonical,      // the bits the padding leaves unused are not zero (RFC 4648 3.5)
};

using Sha1Digest = std::array<std::byte, 20>;
using AcceptKey = std::array<char, 28>;  // a Sec-WebSocket-Accept value: base64 of a SHA-1

}  // namespace wsframe
