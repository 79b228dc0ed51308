// The receive side's second layer: data frames become messages. It keeps the message kind and
// RSV bits, checks the continuation rules and the size limits, validates UTF-8 as the bytes
// come (failing fast inside a fragment), reassembles fragmented or straddling messages in its
// buffer (or hands pieces out as fragments), and runs an extension's inbound transform.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>

#include "byte_buffer.hpp"
#include "extension.hpp"
#include "frame_reader.hpp"
#include "stored_limits.hpp"
#include "utf8_state.hpp"
#include "wsframe/connection.hpp"

namespace wsframe::detail {

class MessageAssembler {
 public:
  explicit MessageAssembler(bool deliver_fragments) noexcept : fragments_(deliver_fragments) {}

  // A data frame's header (check_header() passed): the continuation rules (RFC 6455 5.4),
  // the limits, and a new message's kind when it is a first frame. `ext` is the extension
  // owning RSV bits, or null. The connection's `limits` are passed in, not kept (they would be
  // a second copy in every connection).
  Error start_frame(const FrameHeader& h, Extension* ext, const StoredLimits& limits) noexcept;
  bool in_message() const noexcept { return active_; }  // a fragmented message is not finished
  bool transformed() const noexcept { return transformed_; }
  bool check_utf8() const noexcept { return check_utf8_; }
  bool deliver_fragments() const noexcept { return fragments_; }
  // The kind and RSV bits of the message (after its first frame's start_frame()).
  MessageKind kind() const noexcept { return kind_; }
  std::uint8_t rsv() const noexcept { return rsv_; }

  // The next chunk() bytes of a plain data frame: unmasked into the reassembly buffer, or in
  // place with deliver_fragments; then checked and delivered in `ev` when there is an event.
  Error take_chunk(FrameReader& reader, const Backend& backend, const StoredLimits& limits, Event& ev) noexcept;
  // A whole plain data frame's payload (start_frame() passed) in the input, not yet unmasked,
  // with `key_word` as mask() takes it: unmasked into the reassembly buffer (a text's in place
  // first), then checked and delivered as take_chunk() does. Not with deliver_fragments.
  Error take_whole_frame(const Backend& backend, std::span<std::byte> payload, bool masked,
                         std::uint32_t key_word, bool fin, const StoredLimits& limits, Event& ev) noexcept;
  // The same for a transformed message: decoded by `ext` as far as the output may go.
  Error decode_chunk(FrameReader& reader, const Backend& backend, Extension& ext, const StoredLimits& limits,
                     Event& ev) noexcept;

  // No frame in progress: the last reassembled message (valid until the next input) is done
  // with, and its buffer need not keep a large capacity.
  void release(std::size_t keep) noexcept { message_.clear_and_trim(keep); }

 private:
  // `checked`: the piece was validated already, utf8_ is the state it ends in.
  Error deliver(const Backend& backend, std::span<std::byte> piece, bool message_done, Event& ev,
                bool checked = false) noexcept;
  Error decode_into_buffer(std::span<const std::byte> in, bool message_ends, Extension& ext, const StoredLimits& limits,
                           std::size_t& fed, bool& at_boundary) noexcept;
  // The reassembly buffer never grows past max_message_size.
  static std::size_t capacity_cap(const StoredLimits& limits) noexcept {
    return static_cast<std::size_t>(std::min<std::uint64_t>(limits.max_message_size, SIZE_MAX));
  }

  bool fragments_;                 // ConnectionOptions::deliver_fragments
  bool active_ = false;            // a fragmented message started and is not finished
  bool reported_ = false;          // deliver_fragments: its first fragment was delivered
  MessageKind kind_ = MessageKind::binary;
  std::uint8_t rsv_ = 0;
  bool check_utf8_ = false;
  bool transformed_ = false;       // an extension decodes it (its first frame had the bits)
  Utf8State utf8_{};
  std::uint64_t size_ = 0;         // payload bytes declared by its frames so far
  ByteBuffer message_;             // reassembly, or one fragment's decoded bytes
};

// Inline: it runs for every received data frame.
[[gnu::always_inline]] inline Error MessageAssembler::start_frame(const FrameHeader& h, Extension* ext,
                                                                         const StoredLimits& limits) noexcept {
  const bool continuation = h.opcode == Opcode::continuation;
  if (continuation && !active_) return Error::unexpected_continuation;  // RFC 6455 5.4
  if (!continuation && active_) return Error::expected_continuation;
  // RFC 7692 6.1: only the first frame of a message says it is transformed.
  if (continuation && ext != nullptr && (h.rsv & ext->rsv_bits()) != 0) return Error::reserved_bits_set;
  if (h.payload_length > limits.max_frame_size) return Error::frame_too_large;
  if (!continuation) {
    kind_ = h.opcode == Opcode::text ? MessageKind::text : MessageKind::binary;
    rsv_ = h.rsv;
    size_ = 0;
    reported_ = false;
    // A transformed message is checked as it is decoded; one of another extension using RSV1
    // is left to that extension.
    const bool transformed = ext != nullptr && (h.rsv & ext->rsv_bits()) != 0;
    transformed_ = transformed;
    check_utf8_ = kind_ == MessageKind::text && ((h.rsv & rsv1) == 0 || transformed);
    utf8_ = {};
    message_.clear();
    if (transformed) {  // the local, not the member: GCC then sees that ext is not null (-Wnonnull)
      ext->inbound_decoded = 0;
      if (const Error e = ext->begin_inbound(); e != Error::ok) return e;
    }
  }
  if (h.payload_length > limits.max_message_size - size_) return Error::message_too_large;
  size_ += h.payload_length;
  active_ = !h.fin;
  return Error::ok;
}

// Unmasked (and decoded) payload bytes of a data message, already appended to the message
// buffer when the message is reassembled: checked, then delivered. Inline: it runs for every
// data frame off the plain path.
[[gnu::always_inline]] inline Error MessageAssembler::deliver(const Backend& backend, std::span<std::byte> piece,
                                                              bool message_done, Event& ev, bool checked) noexcept {
  if (check_utf8_) {  // RFC 6455 8.1, failing fast inside a fragment (Autobahn 6.x)
    if (!checked && backend.utf8_feed(utf8_, piece.data(), piece.size()).status == Utf8Status::invalid)
      return Error::invalid_utf8;
    if (message_done && !utf8_finish(utf8_)) return Error::invalid_utf8;
  }
  // `ev` is left as it is when there is no event: the connection's next step may fill it.
  if (fragments_) {
    if (piece.empty() && !message_done) return Error::ok;  // an empty non-final frame says nothing
    ev.type = EventType::fragment;
    ev.first = !std::exchange(reported_, true);
    ev.last = message_done;
    ev.payload = piece;
  } else {
    if (!message_done) return Error::ok;
    ev.type = EventType::message;
    ev.payload = {message_.data(), message_.size()};
  }
  ev.kind = kind_;
  ev.rsv = rsv_;
  return Error::ok;
}

// Inline: the receive path's loop calls it for every data frame off the fast path.
[[gnu::always_inline]] inline Error MessageAssembler::take_chunk(FrameReader& reader, const Backend& backend,
                                                                        const StoredLimits& limits, Event& ev) noexcept {
  const std::size_t chunk = reader.chunk();
  std::span<std::byte> payload;
  if (!fragments_ && chunk != 0) {
    // Reassembled data: unmasked straight into the message buffer, one pass instead of
    // unmasking in place and copying.
    std::byte* dst = message_.extend(chunk, capacity_cap(limits));
    if (dst == nullptr) return Error::out_of_memory;
    reader.take_unmasked_into(backend, chunk, dst);
    payload = {dst, chunk};
  } else {
    payload = reader.take_unmasked(backend, chunk);
  }
  if (reader.frame_left() == 0) reader.end_frame();
  return deliver(backend, payload, reader.frame_left() == 0 && reader.header().fin, ev);
}

// Where a UTF-8 sequence left open at the end of the n bytes at p starts, n when none. The bytes
// are read masked with `key_word` (0: not masked).
inline std::size_t open_sequence_start(const std::byte* p, std::size_t n, std::uint32_t key_word) noexcept {
  const auto unmasked_from_end = [p, n, key_word](std::size_t k) {
    return static_cast<std::uint8_t>(std::to_integer<unsigned>(p[n - k]) ^ (key_word >> (8 * ((n - k) % 4))));
  };
  return n - utf8_open_bytes(unmasked_from_end, n);
}

// Inline: the receive path's fast case for a fragmented message's frames.
[[gnu::always_inline]] inline Error MessageAssembler::take_whole_frame(const Backend& backend,
                                                                      std::span<std::byte> payload, bool masked,
                                                                      std::uint32_t key_word, bool fin,
                                                                      const StoredLimits& limits, Event& ev) noexcept {
  std::span<std::byte> piece;
  bool checked = false;
  if (!payload.empty()) {
    std::byte* dst = message_.extend(payload.size(), capacity_cap(limits));
    if (dst == nullptr) return Error::out_of_memory;
    if (check_utf8_ && Utf8StateAccess::at_boundary(utf8_)) {
      // A text frame starting at a code-point boundary (most do): up to the sequence left open
      // at its end (the next frame completes it), a complete text, unmasked into the message and
      // checked in one pass by the one-shot validator; then the open sequence's bytes (at most 3)
      // start the state the next frame goes on from, failing here if no sequence can start so.
      // Only a frame the one-shot check fails goes through the streaming validator in deliver(),
      // from the copy, for the exact verdict. The input is only read: bytes unmasked in place
      // and then copied would wait for the AVX-512 kernels' masked stores to be written.
      const std::byte* const p = payload.data();
      const std::size_t n = payload.size();
      const std::size_t open = open_sequence_start(p, n, masked ? key_word : 0);
      if (masked) {
        checked = backend.unmask_utf8_validate(p, dst, open, key_word);
        if (open != n) backend.mask_copy(p + open, dst + open, n - open, std::rotr(key_word, static_cast<int>(8 * (open % 4))));
      } else {
        checked = backend.utf8_validate(p, open);
        std::memcpy(dst, p, n);
      }
      if (checked && open != n && backend.utf8_feed(utf8_, dst + open, n - open).status == Utf8Status::invalid)
        return Error::invalid_utf8;
    } else if (masked) {
      backend.mask_copy(payload.data(), dst, payload.size(), key_word);
    } else {
      std::memcpy(dst, payload.data(), payload.size());
    }
    piece = {dst, payload.size()};
  }
  return deliver(backend, piece, fin, ev, checked);
}

}  // namespace wsframe::detail
