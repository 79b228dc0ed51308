// HTTP/1.1 heads (RFC 9112) for the handshake: the start lines' pieces, the authority and
// request-target grammar, and the feed loop both sides share over HttpHead (the
// bounded buffer and line splitter declared in handshake.hpp, implemented in http_head.cpp).
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "wsframe/handshake.hpp"

namespace wsframe::detail {

// "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3) -> 10 * major + minor, or -1.
int parse_http_version(std::string_view v) noexcept;
// uri-host [ ":" port ] (RFC 9112 3.2, RFC 3986 3.2.2-3.2.3): a Host, or the authority of an
// absolute-form target.
bool is_host_and_port(std::string_view authority) noexcept;
// origin-form ("/path?query") or absolute-form ("ws://host/path"), RFC 9112 3.2.
bool is_request_target(std::string_view t) noexcept;

// The feed loop of both sides: the start line is checked as soon as it is complete, the fields
// once the head is. Accepted or rejected is final.
template <class CheckStartLine, class CheckFields>
inline HandshakeResult feed_head(HttpHead& head, HandshakeStatus& status, Error& error, std::span<const std::byte> in,
                                 CheckStartLine check_start_line, CheckFields check_fields) noexcept {
  if (status == HandshakeStatus::accept) return {status, in};
  if (status == HandshakeStatus::reject) return {status, {}};
  const std::size_t buffered_before = head.size();
  for (HttpHead::Step step = head.feed(in);; step = head.feed({})) {
    Error e = Error::ok;
    switch (step) {
      case HttpHead::Step::need_more: return {status, {}};
      case HttpHead::Step::error: e = head.error(); break;
      case HttpHead::Step::start_line:
        if ((e = check_start_line()) == Error::ok) continue;
        break;
      case HttpHead::Step::complete:
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

}  // namespace wsframe::detail
