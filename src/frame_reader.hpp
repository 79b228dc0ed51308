// The receive side's first layer: frame headers (one straddling receive() calls is kept and
// completed), payload unmasking with the key phase carried from piece to piece, and the
// buffering of a control frame's payload that straddles calls. It knows nothing of messages:
// the message assembler and the connection decide what the frames mean.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>

#include "wsframe/backend.hpp"
#include "wsframe/frame.hpp"
#include "wsframe/kernels.hpp"

namespace wsframe::detail {

class FrameReader {
 public:
  enum class HeaderStep : std::uint8_t { need_more, ready, length_too_large };

  // Lends the next input; bytes left from the previous one are dropped.
  void lend(std::span<std::byte> bytes) noexcept {
    in_ = bytes.data();
    in_left_ = bytes.size();
    unmasked_ahead_ = 0;  // those bytes were in the previous input
    word_ahead_ = false;
  }
  std::size_t input_left() const noexcept { return in_left_; }
  void drop_input() noexcept {
    in_left_ = 0;
    word_ahead_ = false;
  }

  // Between frames: reads the next header (completing one kept from earlier inputs). ready:
  // header() is the new frame's, its header bytes consumed; payload bytes then follow.
  HeaderStep read_header(const Backend& backend) noexcept;
  // Between frames, with no header kept and 8 bytes of input or more: the input's first 8
  // bytes as a little-endian word. They hold every header with a 7- or 16-bit length, key
  // included, for a caller that decodes the common frame itself (then take_frame()).
  bool peek_header_word(std::uint64_t& word) const noexcept {
    if (word_ahead_) [[likely]] {
      std::memcpy(&word, header_bytes_.data(), sizeof word);
    } else {
      if (in_left_ < sizeof word || in_frame()) return false;
      std::memcpy(&word, in_, sizeof word);
    }
    if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
    return true;
  }
  // A whole frame of `frame_size` (<= input_left()) bytes at the input's start, decoded by the
  // caller: consumed, its first byte returned. header() is not set (the frame is done with).
  // The next 8 bytes are read now, for peek_header_word(): before the caller unmasks the frame
  // in place. Read after it, they would overlap the 64 bytes of the AVX-512 kernels' last
  // masked store, which a load cannot take its bytes from: it waits until the store is written
  // to the cache (on AMD Zen 4, about 4 ns per frame).
  std::byte* take_frame(std::size_t frame_size) noexcept {
    std::byte* frame = in_;
    in_ += frame_size;
    in_left_ -= frame_size;
    word_ahead_ = in_left_ >= sizeof(std::uint64_t);
    if (word_ahead_) std::memcpy(header_bytes_.data(), in_, sizeof(std::uint64_t));
    return frame;
  }
  // Its payload_length counts down as the payload is consumed (frame_left()).
  const FrameHeader& header() const noexcept { return frame_; }
  bool in_payload() const noexcept { return in_payload_; }
  // A frame is partly received: some of its header, or its payload is not complete.
  bool in_frame() const noexcept { return header_have_ != 0 || in_payload_; }
  // The header passed the connection's checks: its payload follows.
  void start_payload() noexcept {
    word_ahead_ = false;
    mask_phase_ = 0;
    in_payload_ = true;
  }
  // Payload bytes of the frame not yet consumed, and those of them in this input.
  std::uint64_t frame_left() const noexcept { return frame_.payload_length; }
  std::size_t chunk() const noexcept {
    return static_cast<std::size_t>(std::min<std::uint64_t>(frame_.payload_length, in_left_));
  }
  bool whole_payload_here() const noexcept { return frame_.payload_length <= in_left_; }
  // A new frame's whole payload, still masked, consumed (the caller unmasks it in place).
  std::span<std::byte> take_payload() noexcept {
    const std::span<std::byte> payload(in_, static_cast<std::size_t>(frame_.payload_length));
    skip(payload.size());  // nothing of a new frame was unmasked ahead
    return payload;
  }

  // The next n (<= chunk()) payload bytes, unmasked in place and consumed.
  std::span<std::byte> take_unmasked(const Backend& backend, std::size_t n) noexcept {
    const std::span<std::byte> piece = unmask_ahead(backend, n);
    consume(n);
    return piece;
  }
  // The next n (<= chunk()) payload bytes unmasked into dst (one pass: no in-place unmask and
  // copy) and consumed. Not after unmask_ahead() in the same input.
  void take_unmasked_into(const Backend& backend, std::size_t n, std::byte* dst) noexcept {
    if (frame_.masked)
      mask_phase_ = static_cast<std::uint8_t>(
          mask_copy(backend, std::span<const std::byte>(in_, n), {dst, n}, frame_.mask_key, mask_phase_));
    else if (n != 0)
      std::memcpy(dst, in_, n);
    consume(n);
  }
  // The next n (<= chunk()) payload bytes unmasked in place but not consumed (a transform may
  // take only some of them); bytes already unmasked are not unmasked again.
  std::span<std::byte> unmask_ahead(const Backend& backend, std::size_t n) noexcept {
    if (frame_.masked && n > unmasked_ahead_) {
      mask_phase_ = static_cast<std::uint8_t>(mask(
          backend, std::span<std::byte>(in_ + unmasked_ahead_, n - unmasked_ahead_), frame_.mask_key, mask_phase_));
      unmasked_ahead_ = n;
    }
    return {in_, n};
  }
  // Consumes n (<= chunk()) payload bytes.
  void consume(std::size_t n) noexcept {
    skip(n);
    unmasked_ahead_ -= std::min(n, unmasked_ahead_);
  }
  // The frame ends here (its payload was consumed, or a transform has nothing left of it).
  void end_frame() noexcept { in_payload_ = false; }

  // A control frame's unmasked payload piece: the whole payload once it is complete (in place
  // when it came in one piece, else from the internal copy), an empty span with false before.
  // False also when memory for the internal copy runs out (`out_of_memory` is then set).
  bool collect_control(std::span<const std::byte> piece, std::span<const std::byte>& payload,
                       bool& out_of_memory) noexcept;
  // Between frames: the internal copy of a control payload is returned unless `keep` bytes
  // hold it (it is rarely needed: only for a control frame straddling inputs).
  void release(std::size_t keep) noexcept {
    if (keep < sizeof(ControlBuffer)) control_.reset();
  }

 private:
  void advance(std::size_t n) noexcept {
    in_ += n;
    in_left_ -= n;
    word_ahead_ = false;
  }
  void skip(std::size_t n) noexcept {
    advance(n);
    frame_.payload_length -= n;
  }

  // Input lent by lend().
  std::byte* in_ = nullptr;
  std::size_t in_left_ = 0;
  std::size_t unmasked_ahead_ = 0;  // bytes at in_ unmasked but not yet consumed

  // The frame being received; once its header is read, payload_length is what is left of it.
  FrameHeader frame_{};
  // A header straddling inputs; between frames, while word_ahead_, the input's first 8 bytes.
  std::array<std::byte, max_header_size> header_bytes_{};
  std::uint8_t header_have_ = 0;
  bool in_payload_ = false;
  std::uint8_t mask_phase_ = 0;  // the key byte the next payload byte is masked with
  // take_frame() read the next 8 bytes, and since then the input has not moved nor a frame
  // begun: every other function that changes in_, in_left_, header_have_ or in_payload_ clears it.
  bool word_ahead_ = false;
  struct ControlBuffer {  // a control payload straddling inputs
    std::array<std::byte, max_control_payload> bytes;
    std::uint8_t have;  // 0 between frames: collect_control() empties it when the payload completes
  };
  std::unique_ptr<ControlBuffer> control_;  // allocated when first needed

  HeaderStep header_decoded(HeaderResult r) noexcept;  // read_header() of a header not kept
};

[[gnu::always_inline]] inline FrameReader::HeaderStep FrameReader::header_decoded(HeaderResult r) noexcept {
  if (r.status == HeaderStatus::need_more) {  // keep the start of a header for later
    std::memcpy(header_bytes_.data(), in_, in_left_);
    header_have_ = static_cast<std::uint8_t>(in_left_);
    drop_input();
    return HeaderStep::need_more;
  }
  if (r.status == HeaderStatus::length_too_large) return HeaderStep::length_too_large;
  advance(r.size);
  return HeaderStep::ready;
}

[[gnu::always_inline]] inline FrameReader::HeaderStep FrameReader::read_header(const Backend& backend) noexcept {
  if (header_have_ == 0) [[likely]]
    return header_decoded(backend.decode_header(in_, in_left_, frame_));
  // Complete the header kept from earlier inputs.
  const std::size_t take = std::min(in_left_, max_header_size - header_have_);
  std::memcpy(header_bytes_.data() + header_have_, in_, take);
  const HeaderResult r = backend.decode_header(header_bytes_.data(), header_have_ + take, frame_);
  if (r.status == HeaderStatus::need_more) {
    header_have_ = static_cast<std::uint8_t>(header_have_ + take);
    advance(take);
    return HeaderStep::need_more;
  }
  if (r.status == HeaderStatus::length_too_large) return HeaderStep::length_too_large;
  const std::size_t consumed = r.size - header_have_;
  advance(consumed);
  header_have_ = 0;
  return HeaderStep::ready;
}

inline bool FrameReader::collect_control(std::span<const std::byte> piece, std::span<const std::byte>& payload,
                                         bool& out_of_memory) noexcept {
  const std::size_t have = control_ ? control_->have : 0;
  if (frame_.payload_length == 0 && have == 0) {  // all here: in place
    payload = piece;
    return true;
  }
  if (!control_) {
    control_.reset(new (std::nothrow) ControlBuffer);
    if (!control_) {
      out_of_memory = true;
      return false;
    }
    control_->have = 0;
  }
  if (!piece.empty()) std::memcpy(control_->bytes.data() + have, piece.data(), piece.size());
  control_->have = static_cast<std::uint8_t>(have + piece.size());  // <= 125 (check_header)
  if (frame_.payload_length != 0) return false;
  payload = {control_->bytes.data(), control_->have};
  control_->have = 0;
  return true;
}

}  // namespace wsframe::detail
