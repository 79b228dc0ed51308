#include "permessage_deflate.hpp"

#include <cstring>

#include "wsframe/frame.hpp"

namespace wsframe::detail {
namespace {

// RFC 7692 7.2.1/7.2.2: a compressed message ends with an empty stored block whose last four
// bytes, 00 00 FF FF, the sender removes and the receiver appends.
constexpr std::array<std::byte, 4> deflate_tail{std::byte{0x00}, std::byte{0x00}, std::byte{0xff}, std::byte{0xff}};

}  // namespace

PerMessageDeflate::PerMessageDeflate(const DeflateParameters& agreed, bool server,
                                     const CompressionOptions& tuning) noexcept
    : tuning_(tuning),
      send_window_bits_(server ? agreed.server_max_window_bits : agreed.client_max_window_bits),
      send_no_context_takeover_(server ? agreed.server_no_context_takeover : agreed.client_no_context_takeover),
      stateless_config_(send_no_context_takeover_
                            ? Deflater::settings_key(tuning.level, send_window_bits_, tuning.mem_level)
                            : 0) {}

std::uint8_t PerMessageDeflate::rsv_bits() const noexcept { return rsv1; }  // RFC 7692 6: "Per-Message Compressed"

// ---- inbound (RFC 7692 7.2.2) -------------------------------------------------------------------

Error PerMessageDeflate::begin_inbound() noexcept {
  if (!inflater_.ready() && !inflater_.init()) return Error::out_of_memory;
  tail_fed_ = 0;
  output_pending_ = false;
  tail_unneeded_ = false;
  return Error::ok;
}

bool PerMessageDeflate::tail_needed(bool message_ends) const noexcept {
  return message_ends && tail_fed_ < deflate_tail.size() && !tail_unneeded_;
}

bool PerMessageDeflate::inbound_pending(bool message_ends) const noexcept {
  return output_pending_ || tail_needed(message_ends);
}

// The payload first, then, after the message's last byte, the tail.
InboundStep PerMessageDeflate::inbound(std::span<const std::byte> in, bool message_ends, std::byte* out,
                                       std::size_t room) noexcept {
  const bool tail = in.empty() && tail_needed(message_ends);
  if (tail) in = std::span(deflate_tail).subspan(tail_fed_);
  if (!in.empty() && !tail) tail_unneeded_ = false;
  const ZStep z = inflater_.run(in.data(), in.size(), out, room);
  InboundStep step;
  step.produced = z.produced;
  step.at_boundary = z.block_boundary;
  if (tail)
    tail_fed_ = static_cast<std::uint8_t>(tail_fed_ + z.consumed);
  else
    step.consumed = z.consumed;
  output_pending_ = z.output_full;
  if (z.failed) {
    step.error = Error::invalid_compressed_data;
  } else if (z.stream_end) {
    // RFC 7692 7.2.3.4: a block with BFINAL set ends zlib's stream, not the message; what
    // follows (if anything) continues it with the same window, and the tail is then needed.
    if (!inflater_.restart()) step.error = Error::out_of_memory;
    output_pending_ = false;
    tail_unneeded_ = true;
    if (tail) tail_fed_ = deflate_tail.size();
  }
  return step;
}

// The tail is an empty stored block: after it the data must be between blocks, else the
// message was cut off inside one.
Error PerMessageDeflate::finish_inbound(bool at_boundary) const noexcept {
  return tail_unneeded_ || at_boundary ? Error::ok : Error::invalid_compressed_data;
}

// ---- outbound (RFC 7692 7.2.1) ------------------------------------------------------------------

// A fragmented message is always compressed, a whole one from the threshold on.
bool PerMessageDeflate::transforms_outbound(std::size_t size, bool whole) const noexcept {
  return !whole || size >= tuning_.threshold;
}

std::size_t PerMessageDeflate::outbound_bound(std::size_t n) noexcept {
  if (!deflater_.ready() && !deflater_.init(tuning_.level, send_window_bits_, tuning_.mem_level)) return 0;
  return deflater_.bound(n);
}

// `in` compressed with a sync flush, so that the peer can inflate each frame as it arrives;
// the last frame loses the 00 00 FF FF tail.
Error PerMessageDeflate::outbound(std::span<const std::byte> in, bool ends, std::span<std::byte> out,
                                  std::size_t& size) noexcept {
  const ZStep step = deflater_.compress(in.data(), in.size(), out.data(), out.size());
  if (step.failed || step.output_full) return Error::compression_failed;
  size = step.produced;
  if (!ends) return Error::ok;
  if (size >= deflate_tail.size() &&
      std::memcmp(out.data() + size - deflate_tail.size(), deflate_tail.data(), deflate_tail.size()) == 0) {
    size -= deflate_tail.size();
  } else if (size == 0) {
    // Nothing new since the last frame's flush: one 00 byte, an empty stored block once the
    // peer appends the tail (RFC 7692 7.2.3.6).
    out[0] = std::byte{0};
    size = 1;
  } else {
    return Error::compression_failed;
  }
  if (send_no_context_takeover_) deflater_.reset();
  return Error::ok;
}

}  // namespace wsframe::detail
