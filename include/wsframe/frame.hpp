// wsframe — frame header codec (RFC 6455 section 5.2).
//
// decode_header() reads one header (2..14 bytes) from the bytes given and never looks past
// them; encode_header() writes the minimal encoding. Both are pure syntax: which opcodes, RSV
// bits and mask flags are acceptable depends on the connection (check_header()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wsframe/backend.hpp"
#include "wsframe/error.hpp"
#include "wsframe/kernels.hpp"

namespace wsframe {

// RFC 6455 5.2 opcodes. Values 3-7 and 11-15 are reserved; a decoded header may carry them.
enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

inline constexpr bool is_control(Opcode op) noexcept { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

inline constexpr std::size_t max_header_size = 14;       // 2 + 8 (64-bit length) + 4 (key)
inline constexpr std::size_t max_control_payload = 125;  // RFC 6455 5.5

// RSV bits as they sit in the header's first byte, shifted down: RSV1 = 4, RSV2 = 2, RSV3 = 1.
inline constexpr std::uint8_t rsv1 = 4, rsv2 = 2, rsv3 = 1;

struct FrameHeader {
  std::uint64_t payload_length = 0;
  MaskKey mask_key{};       // wire order; all zero when !masked
  Opcode opcode = Opcode::continuation;
  bool fin = true;
  bool masked = false;
  std::uint8_t rsv = 0;     // RSV1..3 (see rsv1, rsv2, rsv3)
  std::uint8_t size = 0;    // header bytes on the wire (decode: set; encode: ignored)
};

enum class HeaderStatus : std::uint8_t {
  complete,           // `header` is filled; `size` header bytes were read
  need_more,          // `size` is the number of header bytes needed in total (> bytes given)
  length_too_large,   // 64-bit length with the most significant bit set (RFC 6455 5.2)
};

struct HeaderResult {
  HeaderStatus status;
  std::uint8_t size;  // complete: header bytes read; need_more: header bytes needed
};

// Decodes the header at the start of `bytes`. Non-minimal length encodings are accepted (the
// RFC only requires minimal encoding from senders). Never reads past bytes.size().
// Inline: a header walk pays one indirect call per frame, not two.
inline HeaderResult decode_header(const Backend& b, std::span<const std::byte> bytes, FrameHeader& header) noexcept {
  return b.decode_header(bytes.data(), bytes.size(), header);
}
inline HeaderResult decode_header(std::span<const std::byte> bytes, FrameHeader& header) noexcept {
  return decode_header(active(), bytes, header);
}

// Writes the minimal encoding of `header` (fin, rsv, opcode, payload_length, and the mask key
// when masked) to `out`; returns the bytes written (2..14), or 0 when payload_length >= 2^63.
std::size_t encode_header(const FrameHeader& header, std::span<std::byte, max_header_size> out) noexcept;

// The header size encode_header() produces for this payload length and mask flag.
inline constexpr std::size_t header_size(std::uint64_t payload_length, bool masked) noexcept {
  return 2 + (payload_length < 126 ? 0 : payload_length < 65536 ? 2 : 8) + (masked ? 4 : 0);
}

// What a receiver accepts (RFC 6455 5.1, 5.2, 5.5).
struct HeaderRules {
  bool expect_masked = true;        // a server receives masked frames, a client unmasked ones
  std::uint8_t allowed_rsv = 0;     // RSV bits a negotiated extension defines (e.g. rsv1)
};

// The per-frame checks that need no connection state: RSV bits, reserved opcodes, control
// frames fragmented or over 125 bytes, the mask flag. Returns Error::ok or the first violation.
// Inline: it runs once per received frame.
inline Error check_header(const FrameHeader& h, HeaderRules rules) noexcept {
  const auto op = static_cast<unsigned>(h.opcode);
  if ((h.rsv & ~rules.allowed_rsv) != 0) [[unlikely]]
    return Error::reserved_bits_set;  // RFC 6455 5.2
  if ((op & 7) > 2) [[unlikely]]
    return Error::reserved_opcode;  // 3-7 and 11-15
  if (op & 8) {  // RFC 6455 5.5
    if (!h.fin) return Error::control_frame_fragmented;
    if (h.payload_length > max_control_payload) return Error::control_frame_too_large;
  }
  if (h.masked != rules.expect_masked) [[unlikely]]
    return rules.expect_masked ? Error::frame_not_masked : Error::frame_masked;
  return Error::ok;
}

}  // namespace wsframe
