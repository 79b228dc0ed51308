// wsframe — error codes shared by every layer.
#pragma once

#include <cstdint>
#include <string_view>

namespace wsframe {

// Every failure the library reports. Protocol errors map to the close code RFC 6455 section 7.4.1
// asks for (close_code); API misuse and configuration errors map to 0 (no close frame implied).
enum class Error : std::uint8_t {
  ok = 0,

  // Backend selection (backend.hpp).
  unknown_backend,      // no backend of that name is compiled in
  unsupported_backend,  // compiled in, but this CPU or OS cannot run it

  // --- Handshake (RFC 6455 section 4). close_code 0: no connection exists yet. ---
  // Server, HTTP syntax (RFC 9112). http_status() gives the status of the rejection.
  handshake_malformed_request_line,      // 400: not "token SP request-target SP HTTP/d.d"
  handshake_request_line_too_large,      // 414: the request line does not fit max_head_bytes
  handshake_method_not_get,              // 405: RFC 6455 4.2.1 item 1
  handshake_http_version,                // 400: older than HTTP/1.1 (RFC 6455 4.2.1 item 1)
  handshake_malformed_field,             // 400: no colon, empty name, invalid token or value char
  handshake_obs_fold,                    // 400: line folding (RFC 9112 5.2) or whitespace before a name
  handshake_bad_line_ending,             // 400: bare CR, or a line not ended by CRLF
  handshake_head_too_large,              // 431: the header section does not fit max_head_bytes
  handshake_too_many_fields,             // 431: more than max_fields header lines
  // Server, WebSocket rules (RFC 6455 section 4.2.1).
  handshake_missing_host,                // 400
  handshake_duplicate_host,              // 400
  handshake_upgrade_not_websocket,       // 400: Upgrade lacks the token "websocket"
  handshake_connection_not_upgrade,      // 400: Connection lacks the token "Upgrade"
  handshake_missing_version,             // 400: no Sec-WebSocket-Version
  handshake_unsupported_version,         // 426: Sec-WebSocket-Version is not exactly 13
  handshake_missing_key,                 // 400
  handshake_duplicate_key,               // 400
  handshake_invalid_key,                 // 400: not strict base64 of exactly 16 bytes
  // Server, message framing and Host (RFC 9112 sections 3.2 and 6.3).
  handshake_invalid_host,                // 400: Host (or an absolute-form target's authority) is not host [ ":" port ]
  handshake_content_length,              // 400: Content-Length other than one field line "0": a request body
  handshake_transfer_encoding,           // 400: any Transfer-Encoding: a request body
  // Client (RFC 6455 section 4.1).
  handshake_invalid_option,              // ClientOptions would produce an invalid request
  handshake_reserved_extra_header,       // ClientOptions::extra_headers names a field the request writes itself
  handshake_no_randomness,               // getrandom(2) failed: no nonce
  handshake_malformed_status_line,       // not "HTTP/1.x ddd reason"
  handshake_response_http_version,       // a 101 in a response older than HTTP/1.1
  handshake_unexpected_status,           // a status other than 101 (see status_code())
  handshake_response_not_websocket,      // Upgrade lacks "websocket"
  handshake_response_not_upgrade,        // Connection lacks "Upgrade"
  handshake_missing_accept,              // no Sec-WebSocket-Accept, or more than one
  handshake_accept_mismatch,             // Sec-WebSocket-Accept != accept_key(our key)
  handshake_unoffered_subprotocol,       // a subprotocol we did not offer, or several
  handshake_unoffered_extension,         // an extension we did not offer
  handshake_invalid_deflate_response,    // permessage-deflate answer malformed or matching none of our offers (RFC 7692 5)
  // --- end of handshake errors ---
  // Frames and the connection (frame.hpp, connection.hpp). Received-frame violations first
  // (close code 1002, 1007 or 1009), then misuse of the sending API (close code 0).
  length_too_large,           // 64-bit payload length with the top bit set (RFC 6455 5.2)
  reserved_bits_set,          // RSV1..3 set without a negotiated extension defining them (5.2),
                              // or RSV1 on a continuation or control frame (RFC 7692 6.1)
  reserved_opcode,            // opcode 3-7 or 11-15 (5.2)
  control_frame_fragmented,   // control frame without FIN (5.5)
  control_frame_too_large,    // control frame payload over 125 bytes (5.5)
  unexpected_continuation,    // continuation frame with no fragmented message started (5.4)
  expected_continuation,      // new text/binary frame inside a fragmented message (5.4)
  frame_not_masked,           // a client sent an unmasked frame (5.1)
  frame_masked,               // a server sent a masked frame (5.1)
  invalid_utf8,               // text message payload is not valid UTF-8 (8.1) -> 1007
  frame_too_large,            // frame payload over Limits::max_frame_size -> 1009
  message_too_large,          // message over Limits::max_message_size -> 1009 (inflated bytes when compressed)
  invalid_compressed_data,    // a compressed message does not inflate (RFC 7692 7.2.2) -> 1007
  close_payload_too_short,    // close frame with a 1-byte payload (5.5.1)
  invalid_close_code,         // close code that may not appear on the wire (7.4)
  close_reason_invalid_utf8,  // close reason is not valid UTF-8 (5.5.1) -> 1007
  data_after_close,           // bytes received after the peer's Close frame (5.5.1)
  abnormal_closure,           // the transport ended before the peer's Close (7.1.5) -> 1006,
                              // reported by receive_eof(), never sent
  out_of_memory,              // a buffer could not grow (within the limits) -> 1011
  compression_failed,         // zlib failed while compressing (an internal error) -> 1011
  output_full,                // sending would exceed Limits::max_output_bytes; nothing was queued
  connection_closed,          // sending after a Close frame was sent, or after a failure
  control_payload_too_large,  // ping/pong payload over 125 bytes, or close reason over 123
  message_not_started,        // continue/finish_message without begin_message
  message_in_progress,        // a new message while a fragmented one is being sent
  payload_invalid_utf8,       // send_text / text fragments that are not valid UTF-8
  close_code_not_sendable,    // close(code) with a code an endpoint may not send
  not_prepared,               // send() of a PreparedMessage that holds no message
  message_dropped,            // not queued: the output is full (OutputFullPolicy::drop)
  output_stalled,             // the output is full (OutputFullPolicy::close): failed, Close 1008 sent
  // Timers (Connection::on_time, ConnectionOptions::timeouts): the connection failed.
  pong_timeout,               // no bytes from the peer within pong_timeout of a keepalive ping -> 1006,
                              // reported, never sent (the peer is presumed gone)
  idle_timeout,               // no bytes from the peer for idle_timeout -> Close 1001 (going away) sent
  close_timeout,              // the close handshake (or, for a client, the server's TCP close) did not
                              // complete within close_timeout of our Close -> 1006, drop the transport
};

// Each error's message, close code and HTTP status come from one table (src/error.cpp).

// Human-readable one-line description; never empty.
std::string_view message(Error e) noexcept;

// The close code (RFC 6455 7.4.1) an endpoint sends when it fails the connection for `e`;
// 0 when `e` is not a protocol error; 1006 for abnormal_closure, which is only reported.
std::uint16_t close_code(Error e) noexcept;

// The HTTP status a server answers for a handshake error: 405 (method), 414 (request line too
// long), 426 (Sec-WebSocket-Version), 431 (header section too large or too many fields), 400
// for every other request error; 0 for errors that are not about a request.
int http_status(Error e) noexcept;

}  // namespace wsframe
