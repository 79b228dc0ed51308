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
    case Error::handshake_invalid_option: return "client handshake option would make an invalid request";
    case Error::handshake_no_randomness: return "no random bytes for Sec-WebSocket-Key (getrandom failed)";
    case Error::handshake_malformed_status_line: return "malformed HTTP status line";
    case Error::handshake_unexpected_status: return "server answered with a status other than 101";
    case Error::handshake_response_not_websocket: return "response Upgrade header lacks websocket";
    case Error::handshake_response_not_upgrade: return "response Connection header lacks Upgrade";
    case Error::handshake_missing_accept: return "response has no single Sec-WebSocket-Accept";
    case Error::handshake_accept_mismatch: return "Sec-WebSocket-Accept does not match our key";
    case Error::handshake_unoffered_subprotocol: return "server selected a subprotocol we did not offer";
    case Error::handshake_unoffered_extension: return "server accepted an extension we did not offer";
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
    case Error::handshake_invalid_option:
    case Error::handshake_no_randomness:
    case Error::handshake_malformed_status_line:
    case Error::handshake_unexpected_status:
    case Error::handshake_response_not_websocket:
    case Error::handshake_response_not_upgrade:
    case Error::handshake_missing_accept:
    case Error::handshake_accept_mismatch:
    case Error::handshake_unoffered_subprotocol:
    case Error::handshake_unoffered_extension: return 0;
  }
  return 0;
}

}  // namespace wsframe
