// HTTP/1.1 heads (RFC 9112) for the handshake: HttpHead (the bounded buffer and line
// splitter), the start lines' pieces, the authority and request-target grammar, and the feed
// loop both sides share over HttpHead. http_head.cpp implements them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "wsframe/handshake.hpp"

namespace wsframe::detail {

// The bounded buffer and the line splitter shared by the request and response parsers: it
// copies input up to the limit, splits it into CRLF lines, checks the syntax of each header
// field line (RFC 9112 section 5) and records it as an HttpField.
class HttpHead {
 public:
  enum class Step : std::uint8_t { need_more, start_line, complete, error };

  explicit HttpHead(const HandshakeLimits& limits);
  void reset() noexcept;

  // Copies what fits of `in` (call it once per input, then with an empty span after a
  // start_line step) and scans on: stops after the start line (to let the owner check it
  // early), at the end of the head, at an error, or when the buffer ends without one.
  Step feed(std::span<const std::byte> in) noexcept;

  std::size_t size() const noexcept { return size_; }          // bytes buffered
  std::size_t head_size() const noexcept { return head_end_; }  // valid after complete
  std::string_view start_line() const noexcept { return start_line_; }  // without CRLF
  std::span<const HttpField> fields() const noexcept { return {fields_.get(), field_count_}; }
  Error error() const noexcept { return error_; }

 private:
  Step scan() noexcept;
  Error add_field(std::size_t begin, std::size_t end) noexcept;

  HandshakeLimits limits_;
  std::unique_ptr<char[]> buffer_;
  std::unique_ptr<HttpField[]> fields_;
  std::size_t size_ = 0;        // bytes in buffer_
  std::size_t scanned_ = 0;     // bytes searched for LF
  std::size_t line_start_ = 0;  // start of the line being received
  std::size_t head_end_ = 0;
  std::size_t field_count_ = 0;
  std::string_view start_line_;
  Error error_ = Error::ok;
};

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
