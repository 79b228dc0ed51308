// The HTTP/1.1 upgrade (include/wsframe/handshake.hpp): RFC 6455 section 4 on top of the
// message syntax of RFC 9112. Baseline flags; base64 and SHA-1 run through a Backend.
#include "wsframe/handshake.hpp"


#include <algorithm>
#include <cstring>

#include "os_random.hpp"
#include "wsframe/backend.hpp"
#include "wsframe/kernels.hpp"

namespace wsframe {
namespace {

// Character classes of RFC 9110 section 5.6.2 (token) and 5.5 (field value), and the visible
// characters a request-target may hold (RFC 3986 plus what browsers send unescaped).
// reg_name_char: unreserved and sub-delims of RFC 3986 (2.2, 2.3) but the comma, which joins
// repeated field lines (RFC 9110 5.3), so a Host holding one cannot be told from two Hosts.
enum : std::uint8_t { token_char = 1, value_char = 2, visible_char = 4, reg_name_char = 8 };

constexpr std::array<std::uint8_t, 256> char_classes = [] {
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

bool has_class(char c, std::uint8_t cls) noexcept { return (char_classes[static_cast<unsigned char>(c)] & cls) != 0; }

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

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_hex_digit(char c) noexcept { return is_digit(c) || (ascii_lower(c) >= 'a' && ascii_lower(c) <= 'f'); }

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

// "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3) -> 10 * major + minor, or -1.
int parse_http_version(std::string_view v) noexcept {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !is_digit(v[5]) || v[6] != '.' || !is_digit(v[7])) return -1;
  return (v[5] - '0') * 10 + (v[7] - '0');
}

// The leading digits of `s`, at most `max` of them.
std::size_t digits_size(std::string_view s, std::size_t max) noexcept {
  std::size_t n = 0;
  while (n < s.size() && n < max && is_digit(s[n])) ++n;
  return n;
}

// IPv4address = dec-octet 3( "." dec-octet ), a dec-octet 0-255 without a leading zero
// (RFC 3986 3.2.2).
bool is_ipv4_address(std::string_view s) noexcept {
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (!s.starts_with('.')) return false;
      s.remove_prefix(1);
    }
    const std::size_t n = digits_size(s, 3);
    int value = 0;
    for (std::size_t i = 0; i < n; ++i) value = value * 10 + (s[i] - '0');
    if (n == 0 || value > 255 || (n > 1 && s[0] == '0')) return false;
    s.remove_prefix(n);
  }
  return s.empty();
}

// IPv6address (RFC 3986 3.2.2): eight groups of 1-4 hex digits separated by ':', or fewer with
// one "::" standing for the missing ones; an IPv4address may take the place of the last two.
bool is_ipv6_address(std::string_view s) noexcept {
  int groups = 0;
  bool compressed = s.starts_with("::");
  if (compressed) s.remove_prefix(2);
  while (!s.empty()) {
    std::size_t n = 0;
    while (n < s.size() && n < 4 && is_hex_digit(s[n])) ++n;
    if (n < s.size() && s[n] == '.') {  // the IPv4 tail ends the address
      if (!is_ipv4_address(s)) return false;
      groups += 2;
      break;
    }
    if (n == 0) return false;
    ++groups;
    s.remove_prefix(n);
    if (s.empty()) break;
    if (s.front() != ':' || s.size() == 1) return false;  // a group ends with ':', never the address
    s.remove_prefix(1);
    if (s.front() == ':') {
      if (compressed) return false;
      compressed = true;
      s.remove_prefix(1);
    }
  }
  return compressed ? groups <= 7 : groups == 8;
}

// IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) (RFC 3986 3.2.2).
bool is_ipv_future(std::string_view s) noexcept {
  if (s.size() < 4 || ascii_lower(s[0]) != 'v') return false;
  std::size_t n = 1;
  while (n < s.size() && is_hex_digit(s[n])) ++n;
  if (n == 1 || n + 1 >= s.size() || s[n] != '.') return false;
  for (char c : s.substr(n + 1))
    if (c != ':' && c != ',' && !has_class(c, reg_name_char)) return false;
  return true;
}

// reg-name = 1*( unreserved / pct-encoded / sub-delims ), the comma excepted (see
// reg_name_char); empty is refused, as a ws URI always has a host (RFC 6455 3). A name of digits
// and dots alone must be an IPv4address: "1.2.3.256" is a mistyped address, not a DNS name
// (RFC 3696 2: no top-level domain is all-numeric).
bool is_reg_name(std::string_view s) noexcept {
  if (s.empty()) return false;
  if (s.find_first_not_of("0123456789.") == std::string_view::npos) return is_ipv4_address(s);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !is_hex_digit(s[i + 1]) || !is_hex_digit(s[i + 2])) return false;
      i += 2;
    } else if (!has_class(s[i], reg_name_char)) {
      return false;
    }
  }
  return true;
}

// uri-host [ ":" port ] (RFC 9112 3.2, RFC 3986 3.2.2-3.2.3): what Host and the authority of an
// absolute-form target may hold. No userinfo (RFC 9110 4.2.4 makes it an error in a target) and
// no path. The port is 1 to 5 digits up to 65535: RFC 3986 3.2.3 allows an empty one, but asks
// producers to omit the ":" with it, and a port above 65535 is no TCP port.
bool is_host_and_port(std::string_view authority) noexcept {
  std::string_view host = authority;
  const bool literal = authority.starts_with('[');
  const std::size_t colon = authority.find(':', literal ? std::min(authority.find(']'), authority.size()) : 0);
  if (colon != std::string_view::npos) {
    const std::string_view port = authority.substr(colon + 1);
    const std::size_t n = digits_size(port, 5);
    if (n == 0 || n != port.size() || (n == 5 && port > "65535")) return false;
    host = authority.substr(0, colon);
  }
  if (!literal) return is_reg_name(host);
  if (host.size() < 2 || host.back() != ']') return false;
  host = host.substr(1, host.size() - 2);
  return is_ipv6_address(host) || is_ipv_future(host);
}

// origin-form ("/path?query") or absolute-form ("ws://host/path"), RFC 9112 3.2.
bool is_request_target(std::string_view t) noexcept {
  if (t.empty() || !all_of_class(t, visible_char)) return false;
  if (t.front() == '/') return true;
  const std::size_t colon = t.find("://");
  if (colon == 0 || colon == std::string_view::npos) return false;
  for (std::size_t i = 0; i < colon; ++i) {  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    const char c = ascii_lower(t[i]);
    const bool alpha = c >= 'a' && c <= 'z';
    if (!alpha && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))) return false;
  }
  return true;
}

// name == lower, ASCII case-insensitively, for a field name (a token, checked when parsed) and a
// lowercase literal of letters, digits and '-': each of those has bit 0x20 set, and the only
// other byte that ORs to it (a control character) cannot be in a token. Inline and branch-light:
// the server compares every field name with the ones it knows.
bool name_is(std::string_view name, std::string_view lower) noexcept {
  if (name.size() != lower.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < name.size(); ++i)
    diff |= static_cast<unsigned char>((name[i] | 0x20) ^ lower[i]);
  return diff == 0;
}

const Backend& kernels_of(const Backend* b) noexcept { return b != nullptr ? *b : active(); }

std::string_view first_field(std::span<const HttpField> fields, std::string_view name) noexcept {
  for (const HttpField& f : fields)
    if (iequals(f.name, name)) return f.value;
  return {};
}

// The name of a Sec-WebSocket-Extensions element (RFC 6455 9.1): what precedes its parameters.
std::string_view extension_name(std::string_view element) noexcept {
  return trim_ows(element.substr(0, element.find(';')));
}

// --- permessage-deflate negotiation (RFC 7692 sections 5 and 7.1) ---

// Window bits as written in an element: absent, present without a value (client_max_window_bits
// in an offer, RFC 7692 7.1.2.2), or a value 8..15.
constexpr std::uint8_t bits_absent = 0, bits_without_value = 1;

// A permessage-deflate element of an offer or an answer: the parameters it carries.
struct DeflateElement {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  std::uint8_t server_max_window_bits = bits_absent;
  std::uint8_t client_max_window_bits = bits_absent;
};

// A window parameter's value, or the 15 that its absence means (RFC 7692 7.1.2).
std::uint8_t bits_or_15(std::uint8_t bits) noexcept { return bits >= 8 ? bits : 15; }

constexpr std::string_view deflate_name = "permessage-deflate";
constexpr std::string_view server_no_context_takeover = "server_no_context_takeover";
constexpr std::string_view client_no_context_takeover = "client_no_context_takeover";
constexpr std::string_view server_max_window_bits = "server_max_window_bits";
constexpr std::string_view client_max_window_bits = "client_max_window_bits";
// The longest element write_deflate_element produces.
constexpr std::size_t max_deflate_element_size = deflate_name.size() + 2 + server_no_context_takeover.size() + 2 +
                                                 client_no_context_takeover.size() + 2 +
                                                 server_max_window_bits.size() + 3 + 2 +
                                                 client_max_window_bits.size() + 3;

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

// One extension parameter (RFC 6455 9.1): token [ "=" ( token / quoted-string ) ], with OWS.
struct ExtensionParam {
  std::string_view name;
  std::string_view value;  // as written: a token, or a quoted-string with its quotes
  bool has_value = false;
};

enum class ParamStep : std::uint8_t { end, param, malformed };

// Takes `OWS ";" OWS param` off the front of `rest` (what follows the extension name or the
// previous parameter).
ParamStep next_extension_param(std::string_view& rest, ExtensionParam& param) noexcept {
  rest = trim_ows(rest);
  if (rest.empty()) return ParamStep::end;
  if (rest.front() != ';') return ParamStep::malformed;
  rest = trim_ows(rest.substr(1));
  param.name = rest.substr(0, token_size(rest));
  rest = trim_ows(rest.substr(param.name.size()));
  param.has_value = !rest.empty() && rest.front() == '=';
  param.value = {};
  if (param.has_value) {
    rest = trim_ows(rest.substr(1));
    param.value = rest.substr(0, !rest.empty() && rest.front() == '"' ? quoted_string_size(rest) : token_size(rest));
    rest.remove_prefix(param.value.size());
  }
  return param.name.empty() || (param.has_value && param.value.empty()) ? ParamStep::malformed : ParamStep::param;
}

// A window size 8..15 written in decimal without a leading zero; a quoted-string is unquoted
// first and must then be the same (RFC 7692 7.1: 10 or "10"). 0 when invalid.
std::uint8_t parse_window_bits(std::string_view value) noexcept {
  std::array<char, 2> digits{};
  std::size_t n = 0;
  if (value.front() == '"') {  // a whole quoted-string (next_extension_param found its end)
    for (std::size_t i = 1; i + 1 < value.size(); ++i) {
      if (value[i] == '\\') ++i;
      if (n == digits.size()) return 0;
      digits[n++] = value[i];
    }
  } else {
    if (value.size() > digits.size()) return 0;
    n = value.copy(digits.data(), digits.size());
  }
  if (n == 1 && digits[0] >= '8' && digits[0] <= '9') return static_cast<std::uint8_t>(digits[0] - '0');
  if (n == 2 && digits[0] == '1' && digits[1] >= '0' && digits[1] <= '5') return static_cast<std::uint8_t>(10 + digits[1] - '0');
  return 0;
}

enum class ElementKind : std::uint8_t { other_extension, malformed, deflate };

// A Sec-WebSocket-Extensions element read as permessage-deflate, names compared ASCII
// case-insensitively. RFC 7692 5: an unknown or repeated parameter or an invalid value makes it
// malformed (a server declines such an offer, a client fails on such an answer); 7.1.1: the
// no_context_takeover parameters have no value; 7.1.2.1: server_max_window_bits has one.
ElementKind parse_deflate_element(std::string_view element, DeflateElement& out) noexcept {
  if (!iequals(extension_name(element), deflate_name)) return ElementKind::other_extension;
  constexpr std::string_view names[] = {server_no_context_takeover, client_no_context_takeover,
                                        server_max_window_bits, client_max_window_bits};
  out = {};
  std::string_view rest = element.substr(std::min(element.find(';'), element.size()));
  bool seen[std::size(names)] = {};
  ExtensionParam p;
  ParamStep step;
  while ((step = next_extension_param(rest, p)) == ParamStep::param) {
    std::size_t which = 0;
    while (which < std::size(names) && !iequals(p.name, names[which])) ++which;
    if (which == std::size(names) || seen[which]) return ElementKind::malformed;
    seen[which] = true;
    if (which < 2) {
      if (p.has_value) return ElementKind::malformed;
      (which == 0 ? out.server_no_context_takeover : out.client_no_context_takeover) = true;
      continue;
    }
    const std::uint8_t bits = p.has_value ? parse_window_bits(p.value) : which == 3 ? bits_without_value : 0;
    if (bits == 0) return ElementKind::malformed;
    (which == 2 ? out.server_max_window_bits : out.client_max_window_bits) = bits;
  }
  return step == ParamStep::end ? ElementKind::deflate : ElementKind::malformed;
}

// Writes `e` as "permessage-deflate; param; param=value" (parameters in RFC 7692 7.1 order) at
// `out`, which has room for max_deflate_element_size characters; returns the end.
char* write_deflate_element(char* out, const DeflateElement& e) noexcept {
  const auto put = [&out](std::string_view s) { out = std::copy(s.begin(), s.end(), out); };
  const auto put_bits = [&](std::string_view name, std::uint8_t bits) {
    if (bits == bits_absent) return;
    put("; ");
    put(name);
    if (bits == bits_without_value) return;
    put(bits < 10 ? "=" : "=1");
    *out++ = static_cast<char>('0' + bits % 10);
  };
  put(deflate_name);
  if (e.server_no_context_takeover) put("; "), put(server_no_context_takeover);
  if (e.client_no_context_takeover) put("; "), put(client_no_context_takeover);
  put_bits(server_max_window_bits, e.server_max_window_bits);
  put_bits(client_max_window_bits, e.client_max_window_bits);
  return out;
}

// RFC 7692 7.1: the server's answer to a valid offer under its wishes (see deflate.hpp).
DeflateElement answer_to(const DeflateElement& offer, const DeflateParameters& wishes) noexcept {
  const auto clamp_bits = [](std::uint8_t bits) { return std::clamp<std::uint8_t>(bits, 8, 15); };
  DeflateElement answer{.server_no_context_takeover = offer.server_no_context_takeover || wishes.server_no_context_takeover,
                        .client_no_context_takeover = offer.client_no_context_takeover || wishes.client_no_context_takeover};
  // 7.1.2.1: a requested server window is answered with one no larger; a smaller one may be
  // announced unasked.
  const std::uint8_t server_bits = std::min(bits_or_15(offer.server_max_window_bits), clamp_bits(wishes.server_max_window_bits));
  if (offer.server_max_window_bits != bits_absent || server_bits < 15) answer.server_max_window_bits = server_bits;
  // 7.1.2.2: the client's window may be limited only when its offer has the parameter, and
  // never above the value it gave.
  const std::uint8_t client_bits = std::min(bits_or_15(offer.client_max_window_bits), clamp_bits(wishes.client_max_window_bits));
  if (offer.client_max_window_bits >= 8 || (offer.client_max_window_bits == bits_without_value && client_bits < 15))
    answer.client_max_window_bits = client_bits;
  return answer;
}

// RFC 7692 7.1: the parameters both endpoints use after `answer` to `offer`. A client that
// offered client_no_context_takeover has promised to drop its context (7.1.1.2).
DeflateParameters agreement(const DeflateElement& offer, const DeflateElement& answer) noexcept {
  return {.server_no_context_takeover = answer.server_no_context_takeover,
          .client_no_context_takeover = answer.client_no_context_takeover || offer.client_no_context_takeover,
          .server_max_window_bits = bits_or_15(answer.server_max_window_bits),
          .client_max_window_bits = std::min(bits_or_15(answer.client_max_window_bits), bits_or_15(offer.client_max_window_bits))};
}

// RFC 7692 7.1: whether a server's answer is one it may give to `offer`.
bool answer_fits(const DeflateElement& offer, const DeflateElement& answer) noexcept {
  if (offer.server_no_context_takeover && !answer.server_no_context_takeover) return false;  // 7.1.1.1
  if (offer.server_max_window_bits != bits_absent &&  // 7.1.2.1
      (answer.server_max_window_bits == bits_absent || answer.server_max_window_bits > offer.server_max_window_bits))
    return false;
  return answer.client_max_window_bits == bits_absent ||  // 7.1.2.2
         (offer.client_max_window_bits != bits_absent && answer.client_max_window_bits <= bits_or_15(offer.client_max_window_bits));
}

// RFC 7692 5: the first permessage-deflate offer that is valid, in the client's order; other
// extensions and malformed offers are skipped (declined).
bool first_valid_deflate_offer(const FieldList& offers, DeflateElement& offer) noexcept {
  for (std::string_view e : offers)
    if (parse_deflate_element(e, offer) == ElementKind::deflate) return true;
  return false;
}

// The element a client offers for `offer` (RFC 7692 7.1): client_max_window_bits always, as we
// honour any limit the server sets (7.1.2.2), with a value only when it asks for one.
DeflateElement offer_element(const DeflateParameters& offer) noexcept {
  return {.server_no_context_takeover = offer.server_no_context_takeover,
          .client_no_context_takeover = offer.client_no_context_takeover,
          .server_max_window_bits = offer.server_max_window_bits < 15 ? offer.server_max_window_bits : bits_absent,
          .client_max_window_bits = offer.client_max_window_bits < 15 ? offer.client_max_window_bits : bits_without_value};
}

// RFC 7692 5 and 7.1: the server's permessage-deflate answer, if any, is well formed, alone, and
// fits one of our `offers` (a list as we sent it); the first it fits, in our order, gives the
// agreement. No answer: no agreement, and no error.
Error check_deflate_answer(const FieldList& answers, std::string_view offers,
                           std::optional<DeflateParameters>& agreed) noexcept {
  DeflateElement answer;
  std::size_t count = 0;
  for (std::string_view e : answers) {
    DeflateElement parsed;
    const ElementKind kind = parse_deflate_element(e, parsed);
    if (kind == ElementKind::other_extension) continue;
    // 7.1.2.2: in an answer, client_max_window_bits has a value.
    if (kind == ElementKind::malformed || parsed.client_max_window_bits == bits_without_value || ++count > 1)
      return Error::handshake_invalid_deflate_response;
    answer = parsed;
  }
  if (count == 0) return Error::ok;
  std::size_t pos = 0;
  DeflateElement offer;
  for (std::string_view o; next_list_element(offers, pos, o);) {
    if (parse_deflate_element(o, offer) == ElementKind::deflate && answer_fits(offer, answer)) {
      agreed = agreement(offer, answer);
      return Error::ok;
    }
  }
  return Error::handshake_invalid_deflate_response;
}

// The rejections (RFC 6455 4.2.1, 4.4; RFC 9110 15.5): each closes the connection.
constexpr std::string_view response_400 =
    "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n"
    "Bad Request\n";
constexpr std::string_view response_405 =
    "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nConnection: close\r\nContent-Type: text/plain\r\n"
    "Content-Length: 19\r\n\r\nMethod Not Allowed\n";
constexpr std::string_view response_414 =
    "HTTP/1.1 414 URI Too Long\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\n"
    "URI Too Long\n";
// RFC 9110 15.5.22 and 7.8: a 426 carries Upgrade, which must be listed in Connection.
constexpr std::string_view response_426 =
    "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade, close\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n\r\nUpgrade Required\n";
constexpr std::string_view response_431 =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Type: text/plain\r\n"
    "Content-Length: 32\r\n\r\nRequest Header Fields Too Large\n";

// The feed loop of both sides: the start line is checked as soon as it is complete, the fields
// once the head is. Accepted or rejected is final.
template <class CheckStartLine, class CheckFields>
HandshakeResult feed_head(detail::HttpHead& head, HandshakeStatus& status, Error& error, std::span<const std::byte> in,
                          CheckStartLine check_start_line, CheckFields check_fields) noexcept {
  if (status == HandshakeStatus::accept) return {status, in};
  if (status == HandshakeStatus::reject) return {status, {}};
  const std::size_t buffered_before = head.size();
  for (detail::HttpHead::Step step = head.feed(in);; step = head.feed({})) {
    Error e = Error::ok;
    switch (step) {
      case detail::HttpHead::Step::need_more: return {status, {}};
      case detail::HttpHead::Step::error: e = head.error(); break;
      case detail::HttpHead::Step::start_line:
        if ((e = check_start_line()) == Error::ok) continue;
        break;
      case detail::HttpHead::Step::complete:
        if ((e = check_fields()) == Error::ok) {
          status = HandshakeStatus::accept;
          // The head ended inside this input: earlier inputs were scanned to their end.
          return {status, in.subspan(head.head_size() - buffered_before)};
        }
        break;
    }
    status = HandshakeStatus::reject;
    error = e;
    return {status, {}};
  }
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

// --- FieldList ---------------------------------------------------------------------------------

void FieldList::iterator::advance() noexcept {
  const std::span<const HttpField> fields = list_->fields_;
  for (; field_ < fields.size(); ++field_, pos_ = 0) {
    if (!iequals(fields[field_].name, list_->name_)) continue;
    if (next_list_element(fields[field_].value, pos_, element_)) return;
  }
  pos_ = 0;
  element_ = {};
}

bool FieldList::contains_token(std::string_view token) const noexcept {
  for (std::string_view e : *this)
    if (iequals(e, token)) return true;
  return false;
}

bool FieldList::contains(std::string_view value) const noexcept {
  return std::find(begin(), end(), value) != end();
}

// --- detail::HttpHead --------------------------------------------------------------------------

namespace detail {

HttpHead::HttpHead(const HandshakeLimits& limits)
    : limits_(limits),
      buffer_(std::make_unique_for_overwrite<char[]>(limits.max_head_bytes)),
      fields_(std::make_unique_for_overwrite<HttpField[]>(limits.max_fields)) {}

void HttpHead::reset() noexcept {
  size_ = scanned_ = line_start_ = head_end_ = field_count_ = 0;
  start_line_ = {};
  error_ = Error::ok;
}

HttpHead::Step HttpHead::feed(std::span<const std::byte> in) noexcept {
  if (error_ != Error::ok) return Step::error;
  const std::size_t n = std::min(in.size(), limits_.max_head_bytes - size_);
  if (n != 0) std::memcpy(buffer_.get() + size_, in.data(), n);
  size_ += n;
  return scan();
}

HttpHead::Step HttpHead::scan() noexcept {
  const char* buf = buffer_.get();
  while (scanned_ < size_) {
    const void* lf = std::memchr(buf + scanned_, '\n', size_ - scanned_);
    if (lf == nullptr) {
      scanned_ = size_;
      break;
    }
    const std::size_t end = static_cast<std::size_t>(static_cast<const char*>(lf) - buf);
    const std::size_t begin = line_start_;
    scanned_ = line_start_ = end + 1;
    // RFC 9112 2.2: lines end with CRLF; we accept no bare LF (a CR elsewhere is checked below).
    if (end == begin || buf[end - 1] != '\r') {
      error_ = Error::handshake_bad_line_ending;
      return Step::error;
    }
    const std::string_view line(buf + begin, end - 1 - begin);
    if (start_line_.data() == nullptr) {
      if (line.find('\r') != std::string_view::npos) {
        error_ = Error::handshake_bad_line_ending;
        return Step::error;
      }
      start_line_ = line;
      return Step::start_line;
    }
    if (line.empty()) {
      head_end_ = end + 1;
      return Step::complete;
    }
    if ((error_ = add_field(begin, end - 1)) != Error::ok) return Step::error;
  }
  if (size_ == limits_.max_head_bytes) {  // full, and the head is not complete
    error_ = start_line_.data() == nullptr ? Error::handshake_request_line_too_large : Error::handshake_head_too_large;
    return Step::error;
  }
  return Step::need_more;
}

// field-line = field-name ":" OWS field-value OWS (RFC 9112 section 5), in [begin, end); the
// buffer holds the CR of its CRLF at end.
Error HttpHead::add_field(std::size_t begin, std::size_t end) noexcept {
  const char* const b = buffer_.get() + begin;
  const char* e = buffer_.get() + end;
  if (is_ows(*b)) return Error::handshake_obs_fold;  // RFC 9112 5.2: obs-fold is rejected with 400
  const char* p = b;
  while (has_class(*p, token_char)) ++p;  // stops at the CR at e at the latest
  if (p == b || *p != ':') return Error::handshake_malformed_field;  // also "Name :" (RFC 9112 5.1)
  const std::string_view name(b, static_cast<std::size_t>(p - b));
  ++p;
  while (p < e && is_ows(*p)) ++p;
  const char* const value = p;
  if (p = find_invalid_value_char(p, e); p != e)
    return *p == '\r' ? Error::handshake_bad_line_ending : Error::handshake_malformed_field;
  while (e > value && is_ows(e[-1])) --e;
  if (field_count_ == limits_.max_fields) return Error::handshake_too_many_fields;
  fields_[field_count_++] = {name, std::string_view(value, static_cast<std::size_t>(e - value))};
  return Error::ok;
}

}  // namespace detail

// --- ServerHandshake ---------------------------------------------------------------------------

ServerHandshake::ServerHandshake(ServerOptions options) : options_(std::move(options)), head_(options_.limits) {}

void ServerHandshake::reset() noexcept {
  head_.reset();
  status_ = HandshakeStatus::need_more;
  error_ = Error::ok;
  request_line_checked_ = false;
  path_ = host_ = origin_ = key_ = selected_ = {};
  deflate_.reset();
  response_size_ = 0;
}

HandshakeResult ServerHandshake::feed(std::span<const std::byte> in) noexcept {
  return feed_head(head_, status_, error_, in, [this] { return check_request_line(); },
                   [this] {
                     const Error e = check_fields();
                     if (e == Error::ok) select(), answer();
                     return e;
                   });
}

// request-line = method SP request-target SP HTTP-version (RFC 9112 section 3).
Error ServerHandshake::check_request_line() noexcept {
  const std::string_view line = head_.start_line();
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return Error::handshake_malformed_request_line;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const int version = parse_http_version(line.substr(sp2 + 1));
  if (!is_token(method) || !is_request_target(target) || version < 0) return Error::handshake_malformed_request_line;
  if (method != "GET") return Error::handshake_method_not_get;  // methods are case-sensitive
  if (version < 11) return Error::handshake_http_version;
  if (target.front() == '/') {
    path_ = target;
    return Error::ok;
  }
  // absolute-form: RFC 9112 3.2.2, its authority is the host and the rest the origin-form path.
  const std::string_view after_scheme = target.substr(target.find("://") + 3);
  const std::size_t path_start = std::min(after_scheme.find_first_of("/?"), after_scheme.size());
  if (!is_host_and_port(after_scheme.substr(0, path_start))) return Error::handshake_invalid_host;
  const std::string_view path = after_scheme.substr(path_start);
  // RFC 9112 3.2.1: an empty path is "/"; one followed by a query has no view ("/?q") to give.
  if (path.starts_with('?')) return Error::handshake_malformed_request_line;
  path_ = path.empty() ? std::string_view("/") : path;
  host_ = after_scheme.substr(0, path_start);
  return Error::ok;
}

// RFC 6455 4.2.1 items 2-6, Host first (RFC 9112 3.2: exactly one, valid, even when an
// absolute-form target overrides it), then the message framing (RFC 9112 6.3: Content-Length
// or Transfer-Encoding announce a body, whose bytes would be taken for frames; a lone
// "Content-Length: 0" announces none, which is what its absence means), the version before the
// key (4.4: a client speaking another version learns ours from the 426).
Error ServerHandshake::check_fields() noexcept {
  std::size_t hosts = 0, keys = 0, versions = 0, content_lengths = 0;
  bool upgrade_websocket = false, connection_upgrade = false, transfer_encoding = false, zero_length = true;
  std::string_view host, version;
  for (const HttpField& f : head_.fields()) {
    switch (f.name.size()) {  // the length first: most fields are none of these
      case 4:
        if (name_is(f.name, "host")) ++hosts, host = f.value;
        break;
      case 14:
        if (name_is(f.name, "content-length"))
          ++content_lengths, zero_length = !f.value.empty() && f.value.find_first_not_of('0') == std::string_view::npos;
        break;
      case 6:
        if (origin_.data() == nullptr && name_is(f.name, "origin")) origin_ = f.value;
        break;
      case 7:
        if (name_is(f.name, "upgrade")) upgrade_websocket = upgrade_websocket || list_has_token(f.value, "websocket");
        break;
      case 10:
        if (name_is(f.name, "connection")) connection_upgrade = connection_upgrade || list_has_token(f.value, "upgrade");
        break;
      case 17:
        if (name_is(f.name, "sec-websocket-key")) ++keys, key_ = f.value;
        else if (name_is(f.name, "transfer-encoding")) transfer_encoding = true;
        break;
      case 21:
        if (name_is(f.name, "sec-websocket-version")) ++versions, version = f.value;
        break;
      default: break;
    }
  }
  if (hosts == 0) return Error::handshake_missing_host;
  if (hosts > 1) return Error::handshake_duplicate_host;
  if (!is_host_and_port(host)) return Error::handshake_invalid_host;
  if (host_.empty()) host_ = host;  // not set by an absolute-form target
  if (content_lengths > 1 || !zero_length) return Error::handshake_content_length;
  if (transfer_encoding) return Error::handshake_transfer_encoding;
  if (!upgrade_websocket) return Error::handshake_upgrade_not_websocket;
  if (!connection_upgrade) return Error::handshake_connection_not_upgrade;
  if (versions == 0) return Error::handshake_missing_version;
  if (versions > 1 || version != "13") return Error::handshake_unsupported_version;
  if (keys == 0) return Error::handshake_missing_key;
  if (keys > 1) return Error::handshake_duplicate_key;
  // RFC 6455 4.1: base64 of 16 bytes is exactly 24 characters.
  std::array<std::byte, 18> nonce;
  std::size_t written = 0;
  if (key_.size() != 24 || base64_decode(kernels_of(options_.backend), key_, nonce, written) != Base64Status::ok ||
      written != 16)
    return Error::handshake_invalid_key;
  return Error::ok;
}

// RFC 6455 4.2.2 item 5: at most one of the offered subprotocols, echoed exactly.
void ServerHandshake::select() noexcept {
  const FieldList offered = subprotocols();
  const auto pick = [&](std::string_view wanted) {
    for (std::string_view o : offered)
      if (o == wanted && o.size() <= max_subprotocol_size && is_token(o)) return selected_ = o, true;
    return false;
  };
  if (options_.select_subprotocol) {
    if (const std::string_view wanted = options_.select_subprotocol(*this); !wanted.empty()) pick(wanted);
    return;
  }
  for (std::string_view wanted : options_.subprotocols)
    if (pick(wanted)) return;
}

void ServerHandshake::answer() noexcept {
  constexpr std::string_view head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ";
  constexpr std::string_view protocol = "Sec-WebSocket-Protocol: ";
  constexpr std::string_view extension = "Sec-WebSocket-Extensions: ";
  static_assert(head.size() + 28 + 2 + protocol.size() + max_subprotocol_size + 2 + extension.size() +
                    max_deflate_element_size + 2 + 2 <=
                sizeof(response_));
  char* out = response_.data();
  const auto put = [&out](std::string_view s) { out = std::copy(s.begin(), s.end(), out); };
  put(head);
  const AcceptKey accept = accept_key(kernels_of(options_.backend), key_);
  put({accept.data(), accept.size()});
  put("\r\n");
  if (!selected_.empty()) {
    put(protocol);
    put(selected_);
    put("\r\n");
  }
  // Only permessage-deflate is ever accepted; other extensions are never echoed.
  if (DeflateElement offer; options_.deflate && deflate_available() && first_valid_deflate_offer(extensions(), offer)) {
    const DeflateElement reply = answer_to(offer, *options_.deflate);
    deflate_ = agreement(offer, reply);
    put(extension);
    out = write_deflate_element(out, reply);
    put("\r\n");
  }
  put("\r\n");
  response_size_ = static_cast<std::size_t>(out - response_.data());
}

int ServerHandshake::status_code() const noexcept {
  switch (status_) {
    case HandshakeStatus::accept: return 101;
    case HandshakeStatus::reject: return http_status(error_);
    case HandshakeStatus::need_more: return 0;
  }
  return 0;
}

std::string_view ServerHandshake::response() const noexcept {
  switch (status_code()) {
    case 101: return {response_.data(), response_size_};
    case 400: return response_400;
    case 405: return response_405;
    case 414: return response_414;
    case 426: return response_426;
    case 431: return response_431;
    default: return {};
  }
}

FieldList ServerHandshake::subprotocols() const noexcept { return {head_.fields(), "sec-websocket-protocol"}; }
FieldList ServerHandshake::extensions() const noexcept { return {head_.fields(), "sec-websocket-extensions"}; }
std::optional<DeflateParameters> ServerHandshake::deflate() const noexcept { return deflate_; }
std::string_view ServerHandshake::header(std::string_view name) const noexcept {
  return first_field(head_.fields(), name);
}

// --- ClientHandshake ---------------------------------------------------------------------------

Error random_nonce(HandshakeNonce& nonce) noexcept {
  return detail::os_random_bytes(nonce.data(), nonce.size()) ? Error::ok : Error::handshake_no_randomness;
}

ClientHandshake::ClientHandshake(const ClientOptions& options) : head_(options.limits) {
  HandshakeNonce nonce;
  error_ = random_nonce(nonce);
  if (error_ == Error::ok) error_ = build_request(options, nonce);
  if (error_ != Error::ok) status_ = HandshakeStatus::reject;
}

ClientHandshake::ClientHandshake(const ClientOptions& options, const HandshakeNonce& nonce) : head_(options.limits) {
  error_ = build_request(options, nonce);
  if (error_ != Error::ok) status_ = HandshakeStatus::reject;
}

// RFC 6455 4.1, the opening handshake. Every piece is checked so that no option can inject a
// line or produce a request a strict server (ours) would refuse: the Host is host [ ":" port ],
// and extra_headers may not name a field written from another option or one announcing a body.
Error ClientHandshake::build_request(const ClientOptions& o, const HandshakeNonce& nonce) {
  constexpr std::string_view reserved[] = {"host", "upgrade", "connection", "sec-websocket-key",
                                           "sec-websocket-version", "sec-websocket-protocol",
                                           "sec-websocket-extensions", "origin", "content-length",
                                           "transfer-encoding"};
  for (const HttpField& f : o.extra_headers)
    if (std::any_of(std::begin(reserved), std::end(reserved), [&f](std::string_view r) { return iequals(f.name, r); }))
      return Error::handshake_reserved_extra_header;
  const bool valid =
      is_host_and_port(o.host) && !o.path.empty() && o.path.front() == '/' &&
      all_of_class(o.path, visible_char) && all_of_class(o.origin, visible_char) &&
      std::all_of(o.subprotocols.begin(), o.subprotocols.end(), is_token) &&
      std::all_of(o.extensions.begin(), o.extensions.end(),
                  [](std::string_view e) { return is_token(extension_name(e)) && all_of_class(e, value_char); }) &&
      std::all_of(o.deflate_offers.begin(), o.deflate_offers.end(),
                  [](const DeflateParameters& p) {
                    const auto valid_bits = [](std::uint8_t bits) { return bits >= 8 && bits <= 15; };
                    return valid_bits(p.server_max_window_bits) && valid_bits(p.client_max_window_bits);
                  }) &&
      // Offers from both places would make the answer ambiguous (which one to check it against).
      (o.deflate_offers.empty() || std::none_of(o.extensions.begin(), o.extensions.end(), [](std::string_view e) {
         return iequals(extension_name(e), deflate_name);
       })) &&
      std::all_of(o.extra_headers.begin(), o.extra_headers.end(), [](const HttpField& f) {
        return is_token(f.name) && all_of_class(f.value, value_char) && trim_ows(f.value) == f.value;
      });
  if (!valid) return Error::handshake_invalid_option;

  const Backend& kernels = kernels_of(o.backend);
  std::array<char, 24> key;
  base64_encode(kernels, nonce, key);
  const std::string_view key_view(key.data(), key.size());
  expected_accept_ = accept_key(kernels, key_view);

  std::string& r = request_;
  r.reserve(160 + o.host.size() + o.path.size() + o.origin.size());
  r.append("GET ").append(o.path).append(" HTTP/1.1\r\nHost: ").append(o.host);
  r.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
  key_offset_ = r.size();
  r.append(key_view).append("\r\nSec-WebSocket-Version: 13\r\n");
  if (!o.origin.empty()) r.append("Origin: ").append(o.origin).append("\r\n");
  // A list field line (RFC 9110 5.6.1) element by element; its offset stays 0 until the first.
  const auto put_element = [&r](std::string_view name, std::string_view element, std::size_t& offset) {
    if (offset == 0) r.append(name).append(": "), offset = r.size();
    else r.append(", ");
    r.append(element);
  };
  const auto end_list = [&r](std::size_t offset, std::size_t& size) {
    if (offset != 0) size = r.size() - offset, r.append("\r\n");
  };
  for (std::string_view p : o.subprotocols) put_element("Sec-WebSocket-Protocol", p, protocols_offset_);
  end_list(protocols_offset_, protocols_size_);
  deflate_offered_ = !o.deflate_offers.empty() && deflate_available();
  for (const DeflateParameters& offer : deflate_offered_ ? o.deflate_offers : std::span<const DeflateParameters>()) {
    std::array<char, max_deflate_element_size> element;
    const char* const end = write_deflate_element(element.data(), offer_element(offer));
    put_element("Sec-WebSocket-Extensions", {element.data(), end}, extensions_offset_);
  }
  for (std::string_view e : o.extensions) put_element("Sec-WebSocket-Extensions", e, extensions_offset_);
  end_list(extensions_offset_, extensions_size_);
  for (const HttpField& f : o.extra_headers) r.append(f.name).append(": ").append(f.value).append("\r\n");
  r.append("\r\n");
  return Error::ok;
}

std::string_view ClientHandshake::key() const noexcept {
  return request_.empty() ? std::string_view() : std::string_view(request_).substr(key_offset_, 24);
}

HandshakeResult ClientHandshake::feed(std::span<const std::byte> in) noexcept {
  const HandshakeResult r =
      feed_head(head_, status_, error_, in, [this] { return check_status_line(); }, [this] { return check_fields(); });
  // A status line that does not fit is just a head that does not.
  if (error_ == Error::handshake_request_line_too_large) error_ = Error::handshake_head_too_large;
  return r;
}

// status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 section 4); the SP
// before an empty reason is optional here, as many servers omit it.
Error ClientHandshake::check_status_line() noexcept {
  const std::string_view line = head_.start_line();
  const int version = parse_http_version(line.substr(0, 8));
  if (line.size() < 12 || version < 10 || line[8] != ' ' || digits_size(line.substr(9), 3) != 3 ||
      (line.size() > 12 && line[12] != ' ') || !all_of_class(line.substr(std::min<std::size_t>(line.size(), 13)), value_char))
    return Error::handshake_malformed_status_line;
  status_code_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  // Upgrade is an HTTP/1.1 mechanism (RFC 9110 7.8), and no 1xx may go to HTTP/1.0 (RFC 9110
  // 15.2): an HTTP/1.0 server cannot have switched.
  if (status_code_ == 101 && version < 11) return Error::handshake_response_http_version;
  return Error::ok;
}

// RFC 6455 4.1, the client's checks of the server's handshake, items 1-6.
Error ClientHandshake::check_fields() noexcept {
  if (status_code_ != 101) return Error::handshake_unexpected_status;
  const std::string_view offered_protocols = std::string_view(request_).substr(protocols_offset_, protocols_size_);
  const std::string_view offered_extensions = std::string_view(request_).substr(extensions_offset_, extensions_size_);
  std::size_t accepts = 0, protocols = 0;
  bool upgrade_websocket = false, connection_upgrade = false, protocol_offered = true, extensions_offered = true;
  std::string_view accept;
  for (const HttpField& f : head_.fields()) {
    if (name_is(f.name, "upgrade")) {
      upgrade_websocket = upgrade_websocket || list_has_token(f.value, "websocket");
    } else if (name_is(f.name, "connection")) {
      connection_upgrade = connection_upgrade || list_has_token(f.value, "upgrade");
    } else if (name_is(f.name, "sec-websocket-accept")) {
      ++accepts, accept = f.value;
    } else if (name_is(f.name, "sec-websocket-protocol")) {
      // One value, exactly one of ours (RFC 6455 4.1 item 6).
      ++protocols;
      protocol_offered = protocol_offered && is_token(f.value) && list_has_value(offered_protocols, f.value);
    } else if (name_is(f.name, "sec-websocket-extensions")) {
      std::size_t pos = 0;
      for (std::string_view e; next_list_element(f.value, pos, e);) {  // RFC 6455 4.1 item 5
        const std::string_view name = extension_name(e);
        bool ours = false;
        std::size_t offered_pos = 0;
        for (std::string_view o; !ours && next_list_element(offered_extensions, offered_pos, o);)
          ours = iequals(extension_name(o), name);
        extensions_offered = extensions_offered && ours;
      }
    }
  }
  if (!upgrade_websocket) return Error::handshake_response_not_websocket;
  if (!connection_upgrade) return Error::handshake_response_not_upgrade;
  if (accepts != 1) return Error::handshake_missing_accept;
  if (accept != std::string_view(expected_accept_.data(), expected_accept_.size()))
    return Error::handshake_accept_mismatch;
  if (protocols > 1 || !protocol_offered) return Error::handshake_unoffered_subprotocol;
  if (!extensions_offered) return Error::handshake_unoffered_extension;
  return deflate_offered_ ? check_deflate_answer(extensions(), offered_extensions, deflate_) : Error::ok;
}

std::string_view ClientHandshake::subprotocol() const noexcept {
  return status_ == HandshakeStatus::accept ? header("sec-websocket-protocol") : std::string_view();
}
FieldList ClientHandshake::extensions() const noexcept { return {head_.fields(), "sec-websocket-extensions"}; }
std::optional<DeflateParameters> ClientHandshake::deflate() const noexcept { return deflate_; }
std::string_view ClientHandshake::header(std::string_view name) const noexcept {
  return first_field(head_.fields(), name);
}

}  // namespace wsframe
