// Every error's close code, HTTP status and message, in one table.
#include "wsframe/error.hpp"

#include <array>
#include <cstddef>

namespace wsframe {
namespace {

struct ErrorInfo {
  Error error;
  std::uint16_t close_code;  // RFC 6455 7.4.1; 0: not a protocol error, no Close implied
  int http_status;           // the server's answer to a handshake error; 0 for others
  std::string_view message;
};

// One row per Error, in declaration order (checked below). Close codes: 1002 protocol error,
// 1001 going away (idle timeout), 1007 inconsistent data, 1009 message too big, 1011 internal
// error; 1006 (abnormal closure, and the pong and close timeouts) is reported, never sent.
constexpr ErrorInfo error_table[] = {
    {Error::ok,                                    0,   0, "no error"},
    {Error::unknown_backend,                       0,   0, "no backend of that name is compiled in"},
    {Error::unsupported_backend,                   0,   0, "this CPU or OS cannot run that backend"},
    {Error::handshake_malformed_request_line,      0, 400, "malformed HTTP request line"},
    {Error::handshake_request_line_too_large,      0, 414, "HTTP request line too long"},
    {Error::handshake_method_not_get,              0, 405, "opening handshake method is not GET"},
    {Error::handshake_http_version,                0, 400, "opening handshake needs HTTP/1.1 or higher"},
    {Error::handshake_malformed_field,             0, 400, "malformed HTTP header field"},
    {Error::handshake_obs_fold,                    0, 400, "obsolete HTTP header line folding"},
    {Error::handshake_bad_line_ending,             0, 400, "bare CR or a line not ended by CRLF"},
    {Error::handshake_head_too_large,              0, 431, "HTTP header section too large"},
    {Error::handshake_too_many_fields,             0, 431, "too many HTTP header fields"},
    {Error::handshake_missing_host,                0, 400, "no Host header"},
    {Error::handshake_duplicate_host,              0, 400, "more than one Host header"},
    {Error::handshake_upgrade_not_websocket,       0, 400, "Upgrade header lacks websocket"},
    {Error::handshake_connection_not_upgrade,      0, 400, "Connection header lacks Upgrade"},
    {Error::handshake_missing_version,             0, 400, "no Sec-WebSocket-Version header"},
    {Error::handshake_unsupported_version,         0, 426, "Sec-WebSocket-Version is not 13"},
    {Error::handshake_missing_key,                 0, 400, "no Sec-WebSocket-Key header"},
    {Error::handshake_duplicate_key,               0, 400, "more than one Sec-WebSocket-Key header"},
    {Error::handshake_invalid_key,                 0, 400, "Sec-WebSocket-Key is not base64 of 16 bytes"},
    {Error::handshake_invalid_host,                0, 400, "Host is not a valid host and optional port"},
    {Error::handshake_content_length,              0, 400, "upgrade request with a Content-Length other than 0 (a body)"},
    {Error::handshake_transfer_encoding,           0, 400, "upgrade request with a Transfer-Encoding (a body)"},
    {Error::handshake_invalid_option,              0,   0, "client handshake option would make an invalid request"},
    {Error::handshake_reserved_extra_header,       0,   0, "extra header names a field the handshake request writes itself"},
    {Error::handshake_no_randomness,               0,   0, "no random bytes for Sec-WebSocket-Key (getrandom failed)"},
    {Error::handshake_malformed_status_line,       0,   0, "malformed HTTP status line"},
    {Error::handshake_response_http_version,       0,   0, "101 response older than HTTP/1.1"},
    {Error::handshake_unexpected_status,           0,   0, "server answered with a status other than 101"},
    {Error::handshake_response_not_websocket,      0,   0, "response Upgrade header lacks websocket"},
    {Error::handshake_response_not_upgrade,        0,   0, "response Connection header lacks Upgrade"},
    {Error::handshake_missing_accept,              0,   0, "response has no single Sec-WebSocket-Accept"},
    {Error::handshake_accept_mismatch,             0,   0, "Sec-WebSocket-Accept does not match our key"},
    {Error::handshake_unoffered_subprotocol,       0,   0, "server selected a subprotocol we did not offer"},
    {Error::handshake_unoffered_extension,         0,   0, "server accepted an extension we did not offer"},
    {Error::handshake_invalid_deflate_response,    0,   0, "server's permessage-deflate answer is invalid or matches none of our offers"},
    {Error::length_too_large,                   1002,   0, "frame payload length has its most significant bit set"},
    {Error::reserved_bits_set,                  1002,   0, "RSV bits set that no negotiated extension allows there"},
    {Error::reserved_opcode,                    1002,   0, "reserved opcode"},
    {Error::control_frame_fragmented,           1002,   0, "fragmented control frame"},
    {Error::control_frame_too_large,            1002,   0, "control frame payload longer than 125 bytes"},
    {Error::unexpected_continuation,            1002,   0, "continuation frame without a fragmented message"},
    {Error::expected_continuation,              1002,   0, "new data frame inside a fragmented message"},
    {Error::frame_not_masked,                   1002,   0, "unmasked frame from a client"},
    {Error::frame_masked,                       1002,   0, "masked frame from a server"},
    {Error::invalid_utf8,                       1007,   0, "text message is not valid UTF-8"},
    {Error::frame_too_large,                    1009,   0, "frame payload over the size limit"},
    {Error::message_too_large,                  1009,   0, "message over the size limit"},
    {Error::invalid_compressed_data,            1007,   0, "compressed message does not inflate"},
    {Error::close_payload_too_short,            1002,   0, "close frame payload of 1 byte"},
    {Error::invalid_close_code,                 1002,   0, "invalid close code"},
    {Error::close_reason_invalid_utf8,          1007,   0, "close reason is not valid UTF-8"},
    {Error::data_after_close,                   1002,   0, "data received after the close frame"},
    {Error::abnormal_closure,                   1006,   0, "the transport ended before the close handshake"},
    {Error::out_of_memory,                      1011,   0, "out of memory"},
    {Error::compression_failed,                 1011,   0, "the compressor failed"},
    {Error::output_full,                           0,   0, "output buffer limit reached; nothing was queued"},
    {Error::connection_closed,                     0,   0, "the connection is closed for sending"},
    {Error::control_payload_too_large,             0,   0, "control payload too long (ping/pong 125, close reason 123 bytes)"},
    {Error::message_not_started,                   0,   0, "no fragmented message is being sent"},
    {Error::message_in_progress,                   0,   0, "a fragmented message is being sent"},
    {Error::payload_invalid_utf8,                  0,   0, "text payload to send is not valid UTF-8"},
    {Error::close_code_not_sendable,               0,   0, "that close code may not be sent"},
    {Error::not_prepared,                          0,   0, "the prepared message holds no message"},
    {Error::message_dropped,                       0,   0, "output buffer limit reached; the message was dropped"},
    {Error::output_stalled,                     1008,   0, "output buffer limit reached; the connection is closed"},
    {Error::pong_timeout,                       1006,   0, "no answer from the peer within the pong timeout"},
    {Error::idle_timeout,                       1001,   0, "nothing received from the peer within the idle timeout"},
    {Error::close_timeout,                      1006,   0, "the close handshake did not complete within the close timeout"},
};

constexpr bool table_in_order() noexcept {
  for (std::size_t i = 0; i < std::size(error_table); ++i)
    if (static_cast<std::size_t>(error_table[i].error) != i) return false;
  return true;
}
static_assert(table_in_order(), "error_table: one row per Error, in declaration order");
static_assert(std::size(error_table) == static_cast<std::size_t>(Error::close_timeout) + 1,
              "error_table: a row for every Error");

const ErrorInfo* info(Error e) noexcept {
  const auto i = static_cast<std::size_t>(e);
  return i < std::size(error_table) ? &error_table[i] : nullptr;
}

}  // namespace

std::string_view message(Error e) noexcept {
  const ErrorInfo* row = info(e);
  return row != nullptr ? row->message : "unknown error";
}

std::uint16_t close_code(Error e) noexcept {
  const ErrorInfo* row = info(e);
  return row != nullptr ? row->close_code : 0;
}

int http_status(Error e) noexcept {
  const ErrorInfo* row = info(e);
  return row != nullptr ? row->http_status : 0;
}

}  // namespace wsframe
