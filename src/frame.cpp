// Frame header codec (include/wsframe/frame.hpp). Decoding runs on a backend (kernels/header.ipp);
// encoding and the receive-side checks are plain code. Baseline flags only.
#include "wsframe/frame.hpp"

#include <cstring>

#include "wsframe/backend.hpp"

namespace wsframe {

HeaderResult decode_header(const Backend& b, std::span<const std::byte> bytes, FrameHeader& header) noexcept {
  return b.decode_header(bytes.data(), bytes.size(), header);
}

HeaderResult decode_header(std::span<const std::byte> bytes, FrameHeader& header) noexcept {
  return decode_header(active(), bytes, header);
}

std::size_t encode_header(const FrameHeader& h, std::span<std::byte, max_header_size> out) noexcept {
  const std::uint64_t n = h.payload_length;
  if (n >> 63) return 0;
  out[0] = static_cast<std::byte>((h.fin ? 0x80 : 0) | ((h.rsv & 7) << 4) | (static_cast<unsigned>(h.opcode) & 0x0f));
  const std::byte mask_bit{static_cast<unsigned char>(h.masked ? 0x80 : 0)};
  std::size_t size = 2;
  if (n < 126) {
    out[1] = mask_bit | static_cast<std::byte>(n);
  } else if (n < 65536) {
    out[1] = mask_bit | std::byte{126};
    const std::uint16_t be = __builtin_bswap16(static_cast<std::uint16_t>(n));
    std::memcpy(&out[2], &be, sizeof be);
    size = 4;
  } else {
    out[1] = mask_bit | std::byte{127};
    const std::uint64_t be = __builtin_bswap64(n);
    std::memcpy(&out[2], &be, sizeof be);
    size = 10;
  }
  if (h.masked) {
    std::memcpy(&out[size], h.mask_key.data(), 4);
    size += 4;
  }
  return size;
}

Error check_header(const FrameHeader& h, HeaderRules rules) noexcept {
  const auto op = static_cast<unsigned>(h.opcode);
  if ((h.rsv & ~rules.allowed_rsv) != 0) return Error::reserved_bits_set;        // RFC 6455 5.2
  if ((op & 7) > 2) return Error::reserved_opcode;                                // 3-7, 11-15
  if (op & 8) {                                                                    // RFC 6455 5.5
    if (!h.fin) return Error::control_frame_fragmented;
    if (h.payload_length > max_control_payload) return Error::control_frame_too_long;
  }
  if (h.masked != rules.expect_masked) return rules.expect_masked ? Error::frame_not_masked : Error::frame_masked;
  return Error::ok;
}

}  // namespace wsframe
