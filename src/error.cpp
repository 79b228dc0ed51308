#include "wsframe/error.hpp"

namespace wsframe {

std::string_view message(Error e) noexcept {
  switch (e) {
    case Error::ok: return "no error";
    case Error::unknown_backend: return "no backend of that name is compiled in";
    case Error::unsupported_backend: return "this CPU or OS cannot run that backend";
    case Error::frame_length_invalid: return "frame payload length has its most significant bit set";
    case Error::reserved_bits_set: return "RSV bits set without a negotiated extension";
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
    case Error::close_payload_too_short: return "close frame payload of 1 byte";
    case Error::invalid_close_code: return "invalid close code";
    case Error::close_reason_invalid_utf8: return "close reason is not valid UTF-8";
    case Error::data_after_close: return "data received after the close frame";
    case Error::out_of_memory: return "out of memory";
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
    case Error::close_reason_invalid_utf8: return 1007;  // inconsistent data
    case Error::frame_too_big:
    case Error::message_too_big: return 1009;  // message too big
    case Error::out_of_memory: return 1011;    // internal error
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
