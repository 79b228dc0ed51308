// The validator's access to the opaque state a Utf8State carries between calls: the
// automaton's state of src/kernels/utf8.ipp, one byte.
#pragma once

#include <cstdint>

#include "wsframe/types.hpp"

namespace wsframe::detail {

struct Utf8StateAccess {
  static std::uint8_t& automaton(Utf8State& state) noexcept { return state.automaton_; }
  static std::uint8_t automaton(const Utf8State& state) noexcept { return state.automaton_; }
  // Between code points (0, the start state): what utf8_finish() asks, inline.
  static bool at_boundary(const Utf8State& state) noexcept { return state.automaton_ == 0; }
};

}  // namespace wsframe::detail
