// HTTP/1.1 heads for the handshake (http_head.hpp): start-line pieces, hosts and targets, and
// the HttpHead buffer and line splitter.
#include "http_head.hpp"

#include <algorithm>
#include <cstring>

#include "http_lists.hpp"

namespace wsframe::detail {

int parse_http_version(std::string_view v) noexcept {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !is_digit(v[5]) || v[6] != '.' || !is_digit(v[7])) return -1;
  return (v[5] - '0') * 10 + (v[7] - '0');
}


namespace {

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

}  // namespace

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

// --- HttpHead --------------------------------------------------------------------------------


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


}  // namespace wsframe::detail
