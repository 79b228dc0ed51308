#include "message_assembler.hpp"

namespace wsframe::detail {
namespace {

// deliver_fragments: the most decoded bytes one fragment event carries.
constexpr std::size_t decoded_fragment_size = 16u << 10;
// Reassembly: the first room offered to a decoder (it then doubles with the message).
constexpr std::size_t min_decode_room = 4u << 10;

}  // namespace

// The chunk() payload bytes of a transformed message, unmasked in place, then decoded into the
// message buffer (with deliver_fragments, into fragments of at most decoded_fragment_size
// bytes: the input is then consumed only as far as it was decoded). Decoded bytes count
// against max_message_size.
Error MessageAssembler::decode_chunk(FrameReader& reader, const Backend& backend, Extension& ext, const StoredLimits& limits,
                                     Event& ev) noexcept {
  const std::size_t chunk = reader.chunk();
  const std::span<const std::byte> in = reader.unmask_ahead(backend, chunk);
  if (fragments_) message_.clear();  // the last fragment event is done with
  const std::size_t start = message_.size();
  const bool message_ends = reader.header().fin && chunk == reader.frame_left();  // the rest is here
  // RFC 7692 7.2.1 has a sender send at least a 00 byte, but a zlib-based one may send nothing
  // for an empty message (a sync flush right after another outputs nothing): accept it, as Node
  // ws and Python websockets do; appending the tail to nothing would not decode.
  if (message_ends && size_ == 0) ext.inbound_is_empty();
  std::size_t fed = 0;
  bool at_boundary = true;
  Error error = decode_into_buffer(in, message_ends, ext, limits, fed, at_boundary);
  reader.consume(fed);
  const bool message_done = error == Error::ok && message_ends && fed == chunk && !ext.inbound_pending(true);
  if (message_done) error = ext.finish_inbound(at_boundary);
  if (error != Error::ok) {
    // The bytes decoded before the error come first in the message: invalid UTF-8 among them
    // is the error to report, whatever the pieces the input came in.
    const std::span<const std::byte> before(message_.data() + start, message_.size() - start);
    if (check_utf8_ && utf8_feed(backend, utf8_, before).status == Utf8Status::invalid) return Error::invalid_utf8;
    return error;
  }
  if (reader.frame_left() == 0 && !ext.inbound_pending(false) && (!reader.header().fin || message_done))
    reader.end_frame();
  return deliver(backend, {message_.data() + start, message_.size() - start}, message_done, ev);
}

// Runs the decoder over `in` (then its end, when the message ends) while it has room. At
// max_message_size a one-byte probe tells whether the message goes on, so a bomb never costs
// more than the limit.
Error MessageAssembler::decode_into_buffer(std::span<const std::byte> in, bool message_ends, Extension& ext,
                                           const StoredLimits& limits, std::size_t& fed, bool& at_boundary) noexcept {
  for (;;) {
    const std::span<const std::byte> rest = in.subspan(fed);
    if (rest.empty() && !ext.inbound_pending(message_ends)) return Error::ok;
    std::byte probe;
    std::byte* out = &probe;
    std::size_t room = 1;
    const std::uint64_t budget = limits.max_message_size - ext.inbound_decoded;
    if (budget != 0) {
      if (fragments_ && message_.size() == decoded_fragment_size) return Error::ok;  // deliver these first
      room = fragments_ ? decoded_fragment_size - message_.size()
                        : std::max(message_.spare(), std::max(message_.size(), min_decode_room));
      room = static_cast<std::size_t>(std::min<std::uint64_t>(room, budget));
      out = message_.extend(room, capacity_cap(limits));
      if (out == nullptr) return Error::out_of_memory;
    }
    const InboundStep step = ext.inbound(rest, message_ends, out, room);
    if (out != &probe)
      message_.shrink_by(room - step.produced);
    else if (step.produced != 0)  // one byte beyond max_message_size
      return Error::message_too_large;
    ext.inbound_decoded += step.produced;
    fed += step.consumed;
    at_boundary = step.at_boundary;
    if (step.error != Error::ok) return step.error;
  }
}

}  // namespace wsframe::detail
