// RFC 9110's field grammar for the handshake (http_lists.hpp), iequals and FieldList.
#include "http_lists.hpp"

#include <algorithm>
#include <cstring>

namespace wsframe {
namespace detail {

bool all_of_class(std::string_view s, std::uint8_t cls) noexcept {
  for (char c : s)
    if (!has_class(c, cls)) return false;
  return true;
}

bool is_token(std::string_view s) noexcept { return !s.empty() && all_of_class(s, token_char); }

// The first character of [p, e) that may not appear in a field value, or e. Eight bytes at a
// time (the last word overlapping the one before) while none is a control character or DEL;
// byte by byte from the first word that has one (HTAB, the one allowed control, or an error).
const char* find_invalid_value_char(const char* p, const char* e) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  const auto has_byte_below = [](std::uint64_t w, std::uint64_t n) { return ((w - ones * n) & ~w & highs) != 0; };
  if (e - p >= 8) {
    const char* const last = e - 8;
    for (;; p += 8) {
      p = std::min(p, last);
      std::uint64_t w;
      std::memcpy(&w, p, sizeof w);
      if (has_byte_below(w, 0x20) || has_byte_below(w ^ (ones * 0x7f), 1)) break;
      if (p == last) return e;
    }
  }
  for (; p < e; ++p)
    if (!has_class(*p, value_char)) return p;
  return e;
}


std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}


// The next element of a comma-separated list (RFC 9110 5.6.1) starting at `pos`, trimmed;
// empty elements are skipped, commas inside quoted strings do not split. Returns false at the end.
bool next_list_element(std::string_view list, std::size_t& pos, std::string_view& element) noexcept {
  while (pos < list.size()) {
    const std::size_t start = pos;
    bool quoted = false;
    std::size_t i = start;
    for (; i < list.size(); ++i) {
      const char c = list[i];
      if (quoted) {
        if (c == '\\') ++i;  // quoted-pair
        else if (c == '"') quoted = false;
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        break;
      }
    }
    const std::size_t stop = std::min(i, list.size());
    pos = stop < list.size() ? stop + 1 : list.size();
    element = trim_ows(list.substr(start, stop - start));
    if (!element.empty()) return true;
  }
  return false;
}

bool list_has_token(std::string_view list, std::string_view token) noexcept {
  std::size_t pos = 0;
  for (std::string_view e; next_list_element(list, pos, e);)
    if (iequals(e, token)) return true;
  return false;
}

bool list_has_value(std::string_view list, std::string_view value) noexcept {
  std::size_t pos = 0;
  for (std::string_view e; next_list_element(list, pos, e);)
    if (e == value) return true;
  return false;
}

std::size_t digits_size(std::string_view s, std::size_t max) noexcept {
  std::size_t n = 0;
  while (n < s.size() && n < max && is_digit(s[n])) ++n;
  return n;
}

std::size_t token_size(std::string_view s) noexcept {
  std::size_t n = 0;
  while (n < s.size() && has_class(s[n], token_char)) ++n;
  return n;
}

// The length of the quoted-string (RFC 9110 5.6.4) at the start of `s`, quotes included; 0 if
// it does not end.
std::size_t quoted_string_size(std::string_view s) noexcept {
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') ++i;  // quoted-pair
    else if (s[i] == '"') return i + 1;
  }
  return 0;
}

std::string_view extension_name(std::string_view element) noexcept {
  return trim_ows(element.substr(0, element.find(';')));
}

}  // namespace detail

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (detail::ascii_lower(a[i]) != detail::ascii_lower(b[i])) return false;
  return true;
}

// --- FieldList ---------------------------------------------------------------------------------

void FieldList::iterator::advance() noexcept {
  const std::span<const HttpField> fields = list_->fields_;
  for (; field_ < fields.size(); ++field_, pos_ = 0) {
    if (!iequals(fields[field_].name, list_->name_)) continue;
    if (detail::next_list_element(fields[field_].value, pos_, element_)) return;
  }
  pos_ = 0;
  element_ = {};
}

bool FieldList::contains_token(std::string_view token) const noexcept {
  for (const HttpField& f : fields_)
    if (iequals(f.name, name_) && detail::list_has_token(f.value, token)) return true;
  return false;
}

bool FieldList::contains(std::string_view value) const noexcept {
  for (const HttpField& f : fields_)
    if (iequals(f.name, name_) && detail::list_has_value(f.value, value)) return true;
  return false;
}

}  // namespace wsframe
