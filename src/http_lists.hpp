// The header-field grammar of RFC 9110 that the handshake needs: character classes (5.6.2
// tokens, 5.5 field values), comma-separated lists (5.6.1), quoted strings (5.6.4), and names
// compared ASCII case-insensitively. FieldList (handshake.hpp) is the public view of a list.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "wsframe/handshake.hpp"

namespace wsframe::detail {

// Character classes of RFC 9110 section 5.6.2 (token) and 5.5 (field value), and the visible
// characters a request-target may hold (RFC 3986 plus what browsers send unescaped).
// reg_name_char: unreserved and sub-delims of RFC 3986 (2.2, 2.3) but the comma, which joins
// repeated field lines (RFC 9110 5.3), so a Host holding one cannot be told from two Hosts.
enum : std::uint8_t { token_char = 1, value_char = 2, visible_char = 4, reg_name_char = 8 };

inline constexpr std::array<std::uint8_t, 256> char_classes = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0x21; c <= 0x7e; ++c) t[c] = value_char | visible_char;
  for (int c = 0x80; c <= 0xff; ++c) t[c] = value_char;  // obs-text
  t[' '] = t['\t'] = value_char;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] |= token_char;
  for (int c = '0'; c <= '9'; ++c) t[c] |= token_char;
  for (int c = 'a'; c <= 'z'; ++c) t[c] |= token_char, t[c - 'a' + 'A'] |= token_char;
  for (char c : std::string_view("-._~!$&'()*+;=")) t[static_cast<unsigned char>(c)] |= reg_name_char;
  for (int c = '0'; c <= '9'; ++c) t[c] |= reg_name_char;
  for (int c = 'a'; c <= 'z'; ++c) t[c] |= reg_name_char, t[c - 'a' + 'A'] |= reg_name_char;
  return t;
}();

inline bool has_class(char c, std::uint8_t cls) noexcept { return (char_classes[static_cast<unsigned char>(c)] & cls) != 0; }

inline char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }
inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
inline bool is_hex_digit(char c) noexcept { return is_digit(c) || (ascii_lower(c) >= 'a' && ascii_lower(c) <= 'f'); }

inline bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

bool all_of_class(std::string_view s, std::uint8_t cls) noexcept;
bool is_token(std::string_view s) noexcept;
// The first character of [p, e) that may not appear in a field value, or e.
const char* find_invalid_value_char(const char* p, const char* e) noexcept;
std::string_view trim_ows(std::string_view s) noexcept;
// The leading digits of `s`, at most `max` of them.
std::size_t digits_size(std::string_view s, std::size_t max) noexcept;
// The length of the token at the start of `s` (0 if none).
std::size_t token_size(std::string_view s) noexcept;
// The length of the quoted-string at the start of `s`, quotes included; 0 if it does not end.
std::size_t quoted_string_size(std::string_view s) noexcept;

// The next element of a comma-separated list starting at `pos`, trimmed; empty elements are
// skipped, commas inside quoted strings do not split. Returns false at the end.
bool next_list_element(std::string_view list, std::size_t& pos, std::string_view& element) noexcept;
// An element of one field line's list equal to `token` ASCII case-insensitively, or to
// `value` byte for byte. FieldList::contains_token and contains apply them line by line.
bool list_has_token(std::string_view list, std::string_view token) noexcept;
bool list_has_value(std::string_view list, std::string_view value) noexcept;
// The name of a Sec-WebSocket-Extensions element (RFC 6455 9.1): what precedes its parameters.
std::string_view extension_name(std::string_view element) noexcept;

// name == lower, ASCII case-insensitively, for a field name (a token, checked when parsed) and a
// lowercase literal of letters, digits and '-': each of those has bit 0x20 set, and the only
// other byte that ORs to it (a control character) cannot be in a token. Inline and branch-light:
// the server compares every field name with the ones it knows.
inline bool name_is(std::string_view name, std::string_view lower) noexcept {
  if (name.size() != lower.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < name.size(); ++i)
    diff |= static_cast<unsigned char>((name[i] | 0x20) ^ lower[i]);
  return diff == 0;
}


}  // namespace wsframe::detail
