#include "wsframe/error.hpp"

namespace wsframe {

std::string_view message(Error e) noexcept {
  switch (e) {
    case Error::ok: return "no error";
    case Error::unknown_backend: return "no backend of that name is compiled in";
    case Error::unsupported_backend: return "this CPU or OS cannot run that backend";

    // --- Handshake (issue 5) ---
    case Error::handshake_malformed_request_line: return "malformed HTTP request line";
    case Error::handshake_request_line_too_long: return "HTTP request line too long";
    case Error::handshake_method_not_get: return "opening handshake method is not GET";
    case Error::handshake_http_version: return "opening handshake needs HTTP/1.1 or higher";
    case Error::handshake_malformed_field: return "malformed HTTP header field";
    case Error::handshake_obs_fold: return "obsolete HTTP header line folding";
    case Error::handshake_bad_line_ending: return "bare CR or a line not ended by CRLF";
    case Error::handshake_head_too_large: return "HTTP header section too large";
    case Error::handshake_too_many_fields: return "too many HTTP header fields";
    case Error::handshake_missing_host: return "no Host header";
    case Error::handshake_duplicate_host: return "more than one Host header";
    case Error::handshake_upgrade_not_websocket: return "Upgrade header lacks websocket";
    case Error::handshake_connection_not_upgrade: return "Connection header lacks Upgrade";
    case Error::handshake_missing_version: return "no Sec-WebSocket-Version header";
    case Error::handshake_unsupported_version: return "Sec-WebSocket-Version is not 13";
    case Error::handshake_missing_key: return "no Sec-WebSocket-Key header";
    case Error::handshake_duplicate_key: return "more than one Sec-WebSocket-Key header";
    case Error::handshake_invalid_key: return "Sec-WebSocket-Key is not base64 of 16 bytes";
    case Error::handshake_invalid_host: return "Host is not a valid host and optional port";
    case Error::handshake_content_length: return "upgrade request with a Content-Length other than 0 (a body)";
    case Error::handshake_transfer_encoding: return "upgrade request with a Transfer-Encoding (a body)";
    case Error::handshake_invalid_option: return "client handshake option would make an invalid request";
    case Error::handshake_reserved_extra_header: return "extra header names a field the handshake request writes itself";
    case Error::handshake_no_randomness: return "no random bytes for Sec-WebSocket-Key (getrandom failed)";
    case Error::handshake_malformed_status_line: return "malformed HTTP status line";
    case Error::handshake_response_http_version: return "101 response older than HTTP/1.1";
    case Error::handshake_unexpected_status: return "server answered with a status other than 101";
    case Error::handshake_response_not_websocket: return "response Upgrade header lacks websocket";
    case Error::handshake_response_not_upgrade: return "response Connection header lacks Upgrade";
    case Error::handshake_missing_accept: return "response has no single Sec-WebSocket-Accept";
    case Error::handshake_accept_mismatch: return "Sec-WebSocket-Accept does not match our key";
    case Error::handshake_unoffered_subprotocol: return "server selected a subprotocol we did not offer";
    case Error::handshake_unoffered_extension: return "server accepted an extension we did not offer";
    case Error::handshake_invalid_deflate_response: return "server's permessage-deflate answer is invalid or matches none of our offers";
    case Error::frame_length_invalid: return "frame payload length has its most significant bit set";
    case Error::reserved_bits_set: return "RSV bits set that no negotiated extension allows there";
    case Error::reserved_opcode: return "reserved opcode";
    case Error::control_frame_fragmented: return "fragmented control frame";
    case Error::control_frame_too_long: return "control frame payload longer than 125 bytes";
    case Error::unexpected_continuation: return "continuation frame without a fragmented message";
    case Error::expected_continuation: return "new data frame inside a fragmented message";
    case Error::frame_not_masked: return "unmasked frame from a client";
    case Error::frame_masked: return "masked frame from a server";
    case Error::invalid_utf8: return "text message is not valid UTF-8";
    case Error::frame_too_big: return "frame payload over the size limit";
    case Error::message_too_big: return "message over the size limit";
    case Error::invalid_compressed_data: return "compressed message does not inflate";
    case Error::close_payload_too_short: return "close frame payload of 1 byte";
    case Error::invalid_close_code: return "invalid close code";
    case Error::close_reason_invalid_utf8: return "close reason is not valid UTF-8";
    case Error::data_after_close: return "data received after the close frame";
    case Error::out_of_memory: return "out of memory";
    case Error::compression_failed: return "the compressor failed";
    case Error::output_full: return "output buffer limit reached; nothing was queued";
    case Error::connection_closed: return "the connection is closed for sending";
    case Error::control_payload_too_long: return "control payload too long (ping/pong 125, close reason 123 bytes)";
    case Error::message_not_started: return "no fragmented message is being sent";
    case Error::message_in_progress: return "a fragmented message is being sent";
    case Error::payload_invalid_utf8: return "text payload to send is not valid UTF-8";
    case Error::close_code_not_sendable: return "that close code may not be sent";
  }
  return "unknown error";
}

std::uint16_t close_code(Error e) noexcept {
  switch (e) {
    case Error::ok:
    case Error::unknown_backend:
    case Error::unsupported_backend: return 0;

    // --- Handshake (issue 5): before the connection exists, no close frame ---
    case Error::handshake_malformed_request_line:
    case Error::handshake_request_line_too_long:
    case Error::handshake_method_not_get:
    case Error::handshake_http_version:
    case Error::handshake_malformed_field:
    case Error::handshake_obs_fold:
    case Error::handshake_bad_line_ending:
    case Error::handshake_head_too_large:
    case Error::handshake_too_many_fields:
    case Error::handshake_missing_host:
    case Error::handshake_duplicate_host:
    case Error::handshake_upgrade_not_websocket:
    case Error::handshake_connection_not_upgrade:
    case Error::handshake_missing_version:
    case Error::handshake_unsupported_version:
    case Error::handshake_missing_key:
    case Error::handshake_duplicate_key:
    case Error::handshake_invalid_key:
    case Error::handshake_invalid_host:
    case Error::handshake_content_length:
    case Error::handshake_transfer_encoding:
    case Error::handshake_invalid_option:
    case Error::handshake_reserved_extra_header:
    case Error::handshake_no_randomness:
    case Error::handshake_malformed_status_line:
    case Error::handshake_response_http_version:
    case Error::handshake_unexpected_status:
    case Error::handshake_response_not_websocket:
    case Error::handshake_response_not_upgrade:
    case Error::handshake_missing_accept:
    case Error::handshake_accept_mismatch:
    case Error::handshake_unoffered_subprotocol:
    case Error::handshake_unoffered_extension:
    case Error::handshake_invalid_deflate_response: return 0;
    case Error::frame_length_invalid:
    case Error::reserved_bits_set:
    case Error::reserved_opcode:
    case Error::control_frame_fragmented:
    case Error::control_frame_too_long:
    case Error::unexpected_continuation:
    case Error::expected_continuation:
    case Error::frame_not_masked:
    case Error::frame_masked:
    case Error::close_payload_too_short:
    case Error::invalid_close_code:
    case Error::data_after_close: return 1002;  // protocol error
    case Error::invalid_utf8:
    case Error::close_reason_invalid_utf8:
    case Error::invalid_compressed_data: return 1007;  // inconsistent data
    case Error::frame_too_big:
    case Error::message_too_big: return 1009;  // message too big
    case Error::out_of_memory:
    case Error::compression_failed: return 1011;  // internal error
    case Error::output_full:
    case Error::connection_closed:
    case Error::control_payload_too_long:
    case Error::message_not_started:
    case Error::message_in_progress:
    case Error::payload_invalid_utf8:
    case Error::close_code_not_sendable: return 0;
  }
  return 0;
}

}  // namespace wsframe
