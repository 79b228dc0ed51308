// The validator's access to the opaque state a Utf8State carries between calls (the
// automaton's state of src/kernels/utf8.ipp, one byte), and the one rule the kernels and the
// protocol both apply to the end of a text.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wsframe/types.hpp"

namespace wsframe::detail {

struct Utf8StateAccess {
  static std::uint8_t& automaton(Utf8State& state) noexcept { return state.automaton_; }
  static std::uint8_t automaton(const Utf8State& state) noexcept { return state.automaton_; }
  // Between code points (0, the start state): what utf8_finish() asks, inline.
  static bool at_boundary(const Utf8State& state) noexcept { return state.automaton_ == 0; }
};

// How many of a text's last bytes are a UTF-8 sequence left open (0 when none): the last lead
// byte among the last three, if its sequence (RFC 3629: the lead gives its length) needs more
// bytes than follow it. byte_from_end(k) is the k-th byte from the end (k = 1..3, k <= size).
// A template: each backend TU instantiates it with its own lambda, so no copy compiled with one
// ISA's flags is shared with code that runs on any CPU (see kernels/prelude.hpp).
template <class ByteFromEnd>
inline std::size_t utf8_open_bytes(ByteFromEnd byte_from_end, std::size_t size) noexcept {
  for (std::size_t k = 1; k <= 3 && k <= size; ++k) {
    const std::uint8_t c = byte_from_end(k);
    if (c < 0x80) return 0;  // ASCII: nothing open
    if (c < 0xc0) continue;  // a continuation: look further back
    const std::size_t length = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    return length > k ? k : 0;
  }
  return 0;
}

}  // namespace wsframe::detail
