// Frame header encoding (include/wsframe/frame.hpp); decoding is a backend kernel
// (kernels/header.ipp). Baseline flags only.
#include "wsframe/frame.hpp"

#include <cstring>


namespace wsframe {

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

}  // namespace wsframe
