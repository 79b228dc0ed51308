// The UTF-8 tests' independent reference: the grammar of RFC 3629 section 4 written out
// directly (not the library's automaton), fail-fast like utf8_feed.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <vector>

#include "wsframe/wsframe.hpp"

namespace wsframe::test {

using Bytes = std::vector<std::byte>;

inline Bytes bytes(std::initializer_list<int> v) {
  Bytes out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

// --- the reference --------------------------------------------------------------------------
// RFC 3629 section 4, the syntax of a UTF-8 character: after a lead byte, the range its second
// byte must be in, and the number of bytes in all.
struct LeadRule {
  int length;  // 0: never a lead byte
  int second_low, second_high;
};
inline LeadRule lead_rule(int b) {
  if (b <= 0x7F) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};  // 80..BF, C0, C1, F5..FF
}

// The expected result of feeding all of `text` to a fresh state, fail-fast.
inline Utf8Result reference(const Bytes& text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const LeadRule rule = lead_rule(std::to_integer<int>(text[i]));
    if (rule.length == 0) return {Utf8Status::invalid, i};
    for (int k = 1; k < rule.length; ++k) {
      if (i + k == text.size()) return {Utf8Status::incomplete, 0};
      const int b = std::to_integer<int>(text[i + k]);
      const int low = k == 1 ? rule.second_low : 0x80, high = k == 1 ? rule.second_high : 0xBF;
      if (b < low || b > high) return {Utf8Status::invalid, i + k};
    }
    i += rule.length;
  }
  return {Utf8Status::valid, 0};
}

}  // namespace wsframe::test
