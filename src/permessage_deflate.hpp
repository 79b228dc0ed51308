// permessage-deflate (RFC 7692) as the connection's extension: RSV1, inflating received
// messages and compressing sent ones with the agreed windows and context takeover.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "extension.hpp"
#include "wsframe/deflate.hpp"
#include "zlib_stream.hpp"

namespace wsframe::detail {

class PerMessageDeflate final : public Extension {
 public:
  // The agreement seen from this side (a server compresses with the server_* parameters).
  PerMessageDeflate(const DeflateParameters& agreed, bool server, const CompressionOptions& tuning) noexcept;

  std::uint8_t rsv_bits() const noexcept override;
  Error begin_inbound() noexcept override;
  void inbound_is_empty() noexcept override { tail_unneeded_ = true; }
  InboundStep inbound(std::span<const std::byte> in, bool message_ends, std::byte* out,
                      std::size_t room) noexcept override;
  bool inbound_pending(bool message_ends) const noexcept override;
  Error finish_inbound(bool at_boundary) const noexcept override;

  bool transforms_outbound(std::size_t size, bool whole) const noexcept override;
  std::size_t outbound_bound(std::size_t n) noexcept override;
  Error outbound(std::span<const std::byte> in, bool ends, std::span<std::byte> out,
                 std::size_t& size) noexcept override;
  // Without context takeover on our side (7.1.1), the zlib settings; 0 with it.
  std::uint32_t stateless_outbound_config() const noexcept override { return stateless_config_; }

 private:
  bool tail_needed(bool message_ends) const noexcept;

  CompressionOptions tuning_;
  int send_window_bits_ = 15;             // 7.1.2: the window our compressor may use
  bool send_no_context_takeover_ = false;  // 7.1.1: reset our compressor after each message
  std::uint32_t stateless_config_;  // stateless_outbound_config(), fixed from the start
  Deflater deflater_;
  Inflater inflater_;

  // The message being inflated.
  std::uint8_t tail_fed_ = 0;     // bytes of the 00 00 FF FF tail inflated
  bool output_pending_ = false;   // zlib may hold more output: call again without input
  bool tail_unneeded_ = false;    // the data so far ends with a block with BFINAL set (7.2.3.4)
};

}  // namespace wsframe::detail
