// The sans-I/O connection (include/wsframe/connection.hpp). Baseline flags only: kernels are
// called through the connection's Backend.
#include "wsframe/connection.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>
#include <random>
#include <utility>

#include "os_random.hpp"
#include "wsframe/backend.hpp"
#include "zlib_stream.hpp"

namespace wsframe {
namespace {

// RFC 6455 7.4.1/7.4.2 and the IANA registry: the codes that may appear in a Close frame.
// 1005, 1006 and 1015 are reserved for reporting, 1004 and 1016-2999 are unassigned.
constexpr bool close_code_on_wire(std::uint16_t code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

constexpr std::uint16_t no_status_code = 1005;  // RFC 6455 7.4.1: "no status code was present"
constexpr std::size_t max_close_reason = max_control_payload - 2;

// RFC 7692 7.2.1/7.2.2: a compressed message ends with an empty stored block whose last four
// bytes, 00 00 FF FF, the sender removes and the receiver appends.
constexpr std::array<std::byte, 4> deflate_tail{std::byte{0x00}, std::byte{0x00}, std::byte{0xff}, std::byte{0xff}};
// deliver_fragments: the most inflated bytes one fragment event carries.
constexpr std::size_t inflate_fragment_size = 16u << 10;
// Reassembly: the first room offered to the inflater (it then doubles with the message).
constexpr std::size_t min_inflate_room = 4u << 10;

std::span<const std::byte> as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

constexpr std::uint32_t rotl(std::uint32_t v, int n) noexcept { return (v << n) | (v >> (32 - n)); }

constexpr std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Words from the kernel's CSPRNG; std::random_device (also the OS source on Linux) if
// getrandom() is unavailable.
void os_random(std::uint32_t* words, std::size_t count) {
  if (detail::os_random_bytes(words, count * sizeof(std::uint32_t))) return;
  std::random_device device;
  for (std::size_t i = 0; i < count; ++i) words[i] = device();
}

}  // namespace

// ---- Buffer ----------------------------------------------------------------------------------

Connection::Buffer::Buffer(Buffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

Connection::Buffer& Connection::Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    ::operator delete(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

Connection::Buffer::~Buffer() { ::operator delete(data_); }

std::byte* Connection::Buffer::extend(std::size_t n, std::size_t cap) noexcept {
  const std::size_t needed = size_ + n;
  if (needed > capacity_) {
    const std::size_t grown = std::min(std::max<std::size_t>(capacity_ * 2, 256), cap);
    const std::size_t capacity = std::max(needed, grown);
    auto* fresh = static_cast<std::byte*>(::operator new(capacity, std::nothrow));
    if (fresh == nullptr) return nullptr;
    if (size_ != 0) std::memcpy(fresh, data_, size_);
    ::operator delete(data_);
    data_ = fresh;
    capacity_ = capacity;
  }
  std::byte* p = data_ + size_;
  size_ = needed;
  return p;
}

bool Connection::Buffer::reserve(std::size_t n, std::size_t cap) noexcept {
  if (extend(n, cap) == nullptr) return false;
  size_ -= n;
  return true;
}

void Connection::Buffer::clear_and_trim(std::size_t keep) noexcept {
  size_ = 0;
  if (capacity_ > keep) {
    ::operator delete(data_);
    data_ = nullptr;
    capacity_ = 0;
  }
}

void Connection::Buffer::erase_front(std::size_t n) noexcept {
  n = std::min(n, size_);
  if (n != size_) std::memmove(data_, data_ + n, size_ - n);
  size_ -= n;
}

// ---- KeyStream: ChaCha20 (RFC 8439 2.3) with a zero nonce and a 64-bit block counter ----------

void Connection::KeyStream::seed(std::uint64_t seed) noexcept {
  state_ = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};  // "expand 32-byte k"
  if (seed == 0) {
    os_random(&state_[4], 8);
  } else {
    for (int i = 4; i < 12; i += 2) {
      const std::uint64_t v = splitmix64(seed);
      state_[i] = static_cast<std::uint32_t>(v);
      state_[i + 1] = static_cast<std::uint32_t>(v >> 32);
    }
  }
  used_ = 16;
}

void Connection::KeyStream::refill() noexcept {
  std::array<std::uint32_t, 16> x = state_;
  const auto quarter = [&x](int a, int b, int c, int d) {
    x[a] += x[b]; x[d] = rotl(x[d] ^ x[a], 16);
    x[c] += x[d]; x[b] = rotl(x[b] ^ x[c], 12);
    x[a] += x[b]; x[d] = rotl(x[d] ^ x[a], 8);
    x[c] += x[d]; x[b] = rotl(x[b] ^ x[c], 7);
  };
  for (int round = 0; round < 10; ++round) {
    quarter(0, 4, 8, 12), quarter(1, 5, 9, 13), quarter(2, 6, 10, 14), quarter(3, 7, 11, 15);
    quarter(0, 5, 10, 15), quarter(1, 6, 11, 12), quarter(2, 7, 8, 13), quarter(3, 4, 9, 14);
  }
  for (int i = 0; i < 16; ++i) block_[i] = x[i] + state_[i];
  if (++state_[12] == 0) ++state_[13];
  used_ = 0;
}

MaskKey Connection::KeyStream::next() noexcept {
  if (used_ == 16) refill();
  MaskKey key;
  std::memcpy(key.data(), &block_[used_++], 4);
  return key;
}

// ---- Connection ------------------------------------------------------------------------------

// permessage-deflate (RFC 7692): the agreement seen from this side, the zlib streams (each
// created when first needed) and the progress of the message being inflated.
struct Connection::Deflate {
  CompressionOptions tuning;
  int send_window_bits = 15;          // 7.1.2: the window our compressor may use
  bool send_no_context_takeover = false;     // 7.1.1: reset our compressor after each message
  detail::Deflater deflater;
  detail::Inflater inflater;
  Buffer compressed;  // a message part compressed before it is framed

  // The message being inflated.
  std::uint64_t inflated = 0;   // bytes produced, counted against max_message_size
  std::size_t unmasked = 0;     // payload bytes at in_ unmasked but not yet inflated
  std::uint8_t tail_fed = 0;    // bytes of deflate_tail inflated
  bool output_pending = false;  // zlib may hold more output: call again without input
  bool tail_unneeded = false;   // the data so far ends with a block with BFINAL set (7.2.3.4)
};

Connection::Connection(Role role, Limits limits, ConnectionOptions options)
    : backend_(options.backend != nullptr ? options.backend : &active()),
      role_(role),
      limits_(limits),
      options_(options) {
  if (role_ == Role::client) keys_.seed(options_.mask_seed);
  if (options_.deflate && deflate_available()) {
    const DeflateParameters& p = *options_.deflate;
    const bool server = role_ == Role::server;
    deflate_ = std::make_unique<Deflate>();
    deflate_->tuning = options_.compression;
    deflate_->send_window_bits = server ? p.server_max_window_bits : p.client_max_window_bits;
    deflate_->send_no_context_takeover = server ? p.server_no_context_takeover : p.client_no_context_takeover;
    options_.extension_rsv |= rsv1;  // RFC 7692 6: the "Per-Message Compressed" bit
  }
}

Connection::~Connection() = default;
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;

void Connection::receive(std::span<std::byte> bytes) noexcept {
  // No frame or message in progress: the last reassembled message (valid until this call) is
  // done with, and its buffer need not keep a large capacity.
  if (!in_payload_ && !message_active_) message_.clear_and_trim(limits_.retained_buffer_bytes);
  if (deflate_) deflate_->unmasked = 0;  // those bytes were in the previous input
  in_ = bytes.data();
  in_left_ = bytes.size();
}

// The checks that need the frame header and the connection state; prepares the frame.
[[gnu::always_inline]] inline Error Connection::start_frame() noexcept {
  const bool control = is_control(frame_.opcode);
  const HeaderRules rules{.expect_masked = role_ == Role::server,
                          .allowed_rsv = control ? std::uint8_t{0} : options_.extension_rsv};
  if (const Error e = check_header(frame_, rules); e != Error::ok) return e;
  if (!control) {
    const bool continuation = frame_.opcode == Opcode::continuation;
    if (continuation && !message_active_) return Error::unexpected_continuation;  // RFC 6455 5.4
    if (!continuation && message_active_) return Error::expected_continuation;
    // RFC 7692 6.1: only the first frame of a message says it is compressed.
    if (continuation && deflate_ && (frame_.rsv & rsv1) != 0) return Error::reserved_bits_set;
    if (frame_.payload_length > limits_.max_frame_size) return Error::frame_too_big;
    if (!continuation) {
      message_kind_ = frame_.opcode == Opcode::text ? MessageKind::text : MessageKind::binary;
      message_rsv_ = frame_.rsv;
      message_size_ = 0;
      message_reported_ = false;
      // A compressed message is checked as it is inflated; one of another extension using RSV1
      // is left to that extension.
      inflating_ = deflate_ && (frame_.rsv & rsv1) != 0;
      check_utf8_ = message_kind_ == MessageKind::text && ((frame_.rsv & rsv1) == 0 || inflating_);
      utf8_ = {};
      message_.clear();
      if (inflating_)
        if (const Error e = start_inflating(); e != Error::ok) return e;
    }
    if (frame_.payload_length > limits_.max_message_size - message_size_) return Error::message_too_big;
    message_size_ += frame_.payload_length;
    message_active_ = !frame_.fin;
  }
  frame_left_ = frame_.payload_length;
  mask_phase_ = 0;
  control_have_ = 0;
  in_payload_ = true;
  return Error::ok;
}

Event Connection::next_event() noexcept {
  for (;;) {
    if (error_ != Error::ok) {
      in_left_ = 0;
      return {};
    }
    if (close_received_ && in_left_ != 0) return fail(Error::data_after_close);  // RFC 6455 5.5.1

    if (!in_payload_) {
      if (in_left_ == 0) return {};
      HeaderResult r;
      std::size_t consumed;
      if (header_have_ == 0) [[likely]] {
        r = backend_->decode_header(in_, in_left_, frame_);
        if (r.status == HeaderStatus::need_more) {  // keep the start of a header for later
          std::memcpy(header_bytes_.data(), in_, in_left_);
          header_have_ = static_cast<std::uint8_t>(in_left_);
          in_left_ = 0;
          return {};
        }
        consumed = r.size;
      } else {  // complete the header kept from earlier calls
        const std::size_t take = std::min(in_left_, max_header_size - header_have_);
        std::memcpy(header_bytes_.data() + header_have_, in_, take);
        r = backend_->decode_header(header_bytes_.data(), header_have_ + take, frame_);
        if (r.status == HeaderStatus::need_more) {
          header_have_ = static_cast<std::uint8_t>(header_have_ + take);
          advance(take);
          return {};
        }
        consumed = r.size - header_have_;
      }
      if (r.status == HeaderStatus::length_too_large) return fail(Error::frame_length_invalid);
      advance(consumed);
      header_have_ = 0;
      if (const Error e = start_frame(); e != Error::ok) return fail(e);

      // The common case: a whole single-frame message in this buffer, delivered in place.
      const auto op = frame_.opcode;
      if (frame_.fin && (op == Opcode::text || op == Opcode::binary) && frame_left_ <= in_left_ &&
          !options_.deliver_fragments && !inflating_) [[likely]] {
        const std::span<std::byte> payload(in_, static_cast<std::size_t>(frame_left_));
        // The kernels directly: this is the hottest call of the receive path. Masked text is
        // unmasked and validated in one pass.
        const auto key_word = std::bit_cast<std::uint32_t>(frame_.mask_key);
        bool valid = true;
        if (!frame_.masked)
          valid = !check_utf8_ || backend_->utf8_validate(payload.data(), payload.size());
        else if (check_utf8_)
          valid = backend_->unmask_utf8_validate(payload.data(), payload.size(), key_word);
        else
          backend_->mask(payload.data(), payload.size(), key_word);
        if (!valid) return fail(Error::invalid_utf8);
        advance(payload.size());
        in_payload_ = false;
        Event ev;
        ev.type = EventType::message;
        ev.kind = message_kind_;
        ev.rsv = message_rsv_;
        ev.payload = payload;
        return ev;
      }
    }

    // Payload bytes of the current frame (possibly none: a zero-length frame, or no input).
    const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(frame_left_, in_left_));
    if (chunk == 0 && frame_left_ != 0) return {};
    if (inflating_ && !is_control(frame_.opcode)) {
      if (Event ev = inflate_chunk(chunk)) return ev;
      continue;
    }
    const std::span<std::byte> piece(in_, chunk);
    std::span<std::byte> payload = piece;  // where the unmasked bytes end up
    if (!is_control(frame_.opcode) && !options_.deliver_fragments && chunk != 0) {
      // Reassembled data: unmasked straight into the message buffer, one pass instead of
      // unmasking in place and copying.
      std::byte* dst = message_.extend(chunk, message_capacity_cap());
      if (dst == nullptr) return fail(Error::out_of_memory);
      payload = {dst, chunk};
      if (frame_.masked)
        mask_phase_ = mask_copy(*backend_, piece, payload, frame_.mask_key, mask_phase_);
      else
        std::memcpy(dst, piece.data(), chunk);
    } else if (frame_.masked) {
      mask_phase_ = mask(*backend_, piece, frame_.mask_key, mask_phase_);
    }
    advance(chunk);
    frame_left_ -= chunk;
    if (frame_left_ == 0) in_payload_ = false;

    if (is_control(frame_.opcode)) {
      if (frame_left_ == 0 && control_have_ == 0) return finish_control(piece);  // all here: in place
      std::memcpy(control_.data() + control_have_, piece.data(), chunk);
      control_have_ += chunk;
      if (frame_left_ != 0) return {};
      const std::size_t n = std::exchange(control_have_, 0);
      return finish_control({control_.data(), n});
    }
    if (Event ev = data_chunk(payload, frame_left_ == 0 && frame_.fin)) return ev;
  }
}

// Unmasked (and inflated) payload bytes of a data message, already appended to the message
// buffer when the message is reassembled: checked, then delivered.
Event Connection::data_chunk(std::span<std::byte> piece, bool message_done) noexcept {
  if (check_utf8_) {  // RFC 6455 8.1, failing fast inside a fragment (Autobahn 6.x)
    if (utf8_feed(*backend_, utf8_, piece).status == Utf8Status::invalid) return fail(Error::invalid_utf8);
    if (message_done && !utf8_finish(utf8_)) return fail(Error::invalid_utf8);
  }
  Event ev;
  ev.kind = message_kind_;
  ev.rsv = message_rsv_;
  if (options_.deliver_fragments) {
    if (piece.empty() && !message_done) return ev;  // an empty non-final frame says nothing
    ev.type = EventType::fragment;
    ev.first = !std::exchange(message_reported_, true);
    ev.last = message_done;
    ev.payload = piece;
    return ev;
  }
  if (!message_done) return ev;
  ev.type = EventType::message;
  ev.payload = {message_.data(), message_.size()};
  return ev;
}

// ---- permessage-deflate, receiving (RFC 7692 7.2.2) -------------------------------------------

Error Connection::start_inflating() noexcept {
  Deflate& d = *deflate_;
  if (!d.inflater.ready() && !d.inflater.init()) return Error::out_of_memory;
  d.inflated = 0;
  d.tail_fed = 0;
  d.output_pending = false;
  d.tail_unneeded = false;
  return Error::ok;
}

// `chunk` payload bytes of a compressed message at in_: unmasked in place, then inflated into
// the message buffer (with deliver_fragments, into fragments of at most inflate_fragment_size
// bytes: the input is then consumed only as far as it was inflated), followed by deflate_tail
// after the message's last byte. Inflated bytes count against max_message_size: at the limit a
// one-byte probe tells whether the message goes on, so a bomb never costs more than the limit.
Event Connection::inflate_chunk(std::size_t chunk) noexcept {
  Deflate& d = *deflate_;
  if (frame_.masked && chunk > d.unmasked) {
    mask_phase_ = mask(*backend_, std::span<std::byte>(in_ + d.unmasked, chunk - d.unmasked), frame_.mask_key,
                       mask_phase_);
    d.unmasked = chunk;
  }
  const bool fragments = options_.deliver_fragments;
  if (fragments) message_.clear();  // the last fragment event is done with
  const std::size_t start = message_.size();
  const bool message_ends = frame_.fin && chunk == frame_left_;  // the rest of the message is here
  // RFC 7692 7.2.1 has a sender send at least a 00 byte, but a zlib-based one may send nothing
  // for an empty message (a sync flush right after another outputs nothing): accept it, as Node
  // ws and Python websockets do; appending the tail to nothing would not inflate.
  if (message_ends && message_size_ == 0) d.tail_unneeded = true;
  std::size_t fed = 0;                                            // bytes of the chunk inflated
  bool block_boundary = true;
  Error error = Error::ok;
  for (;;) {
    const std::byte* in = nullptr;
    std::size_t in_n = 0;
    bool tail = false;
    if (fed < chunk) {
      in = in_ + fed;
      in_n = chunk - fed;
      d.tail_unneeded = false;
    } else if (message_ends && d.tail_fed < deflate_tail.size() && !d.tail_unneeded) {
      in = deflate_tail.data() + d.tail_fed;
      in_n = deflate_tail.size() - d.tail_fed;
      tail = true;
    } else if (!d.output_pending) {
      break;
    }
    std::byte probe;
    std::byte* out = &probe;
    std::size_t room = 1;
    const std::uint64_t budget = limits_.max_message_size - d.inflated;
    if (budget != 0) {
      if (fragments && message_.size() == inflate_fragment_size) break;  // deliver these first
      room = fragments ? inflate_fragment_size - message_.size()
                       : std::max(message_.spare(), std::max(message_.size(), min_inflate_room));
      room = static_cast<std::size_t>(std::min<std::uint64_t>(room, budget));
      out = message_.extend(room, message_capacity_cap());
      if (out == nullptr) {
        error = Error::out_of_memory;
        break;
      }
    }
    const detail::ZStep step = d.inflater.run(in, in_n, out, room);
    if (out != &probe) {
      message_.shrink_by(room - step.produced);
    } else if (step.produced != 0) {  // one byte beyond max_message_size
      error = Error::message_too_big;
      break;
    }
    d.inflated += step.produced;
    if (tail)
      d.tail_fed = static_cast<std::uint8_t>(d.tail_fed + step.consumed);
    else
      fed += step.consumed;
    d.output_pending = step.output_full;
    block_boundary = step.block_boundary;
    if (step.failed) {
      error = Error::invalid_compressed_data;
      break;
    }
    if (step.stream_end) {
      // RFC 7692 7.2.3.4: a block with BFINAL set ends zlib's stream, not the message; what
      // follows (if anything) continues it with the same window, and the tail is then needed.
      if (!d.inflater.restart()) {
        error = Error::out_of_memory;
        break;
      }
      d.output_pending = false;
      d.tail_unneeded = true;
      if (tail) d.tail_fed = deflate_tail.size();
    }
  }
  advance(fed);
  frame_left_ -= fed;
  d.unmasked -= fed;
  const bool message_done = error == Error::ok && message_ends && fed == chunk && !d.output_pending &&
                            (d.tail_fed == deflate_tail.size() || d.tail_unneeded);
  // The tail is an empty stored block: after it the data must be between blocks, else the
  // message was cut off inside one.
  if (message_done && !d.tail_unneeded && !block_boundary) error = Error::invalid_compressed_data;
  if (error != Error::ok) {
    // The bytes inflated before the error come first in the message: invalid UTF-8 among them
    // is the error to report, whatever the pieces the input came in.
    const std::span<const std::byte> before(message_.data() + start, message_.size() - start);
    if (check_utf8_ && utf8_feed(*backend_, utf8_, before).status == Utf8Status::invalid) error = Error::invalid_utf8;
    return fail(error);
  }

  if (frame_left_ == 0 && !d.output_pending && (!frame_.fin || message_done)) in_payload_ = false;
  return data_chunk({message_.data() + start, message_.size() - start}, message_done);
}

// A complete, unmasked control frame payload (RFC 6455 5.5).
Event Connection::finish_control(std::span<const std::byte> payload) noexcept {
  Event ev;
  ev.payload = payload;
  switch (frame_.opcode) {
    case Opcode::ping:
      ev.type = EventType::ping;
      if (options_.auto_pong && !close_sent_) (void)queue_frame(Opcode::pong, true, payload, false);
      return ev;
    case Opcode::pong: ev.type = EventType::pong; return ev;
    default: break;  // close: check_header() let no other opcode through
  }
  std::uint16_t code = no_status_code;
  if (payload.size() == 1) return fail(Error::close_payload_too_short);
  if (payload.size() >= 2) {
    code = static_cast<std::uint16_t>((std::to_integer<unsigned>(payload[0]) << 8) | std::to_integer<unsigned>(payload[1]));
    if (!close_code_on_wire(code)) return fail(Error::invalid_close_code);
    ev.payload = payload.subspan(2);
    if (!is_valid_utf8(*backend_, ev.payload)) return fail(Error::close_reason_invalid_utf8);
  }
  close_received_ = true;
  if (!close_sent_) {  // RFC 6455 5.5.1: reply with a Close, echoing the status code
    (void)queue_close(code, {});
    close_sent_ = true;
  }
  ev.type = EventType::close;
  ev.close_code = code;
  return ev;
}

// Fails the connection (RFC 6455 7.1.7): the error event, our Close with its code, nothing more.
Event Connection::fail(Error e) noexcept {
  error_ = e;
  in_left_ = 0;
  const std::uint16_t code = close_code(e);
  if (!close_sent_) {
    (void)queue_close(code, {});
    close_sent_ = true;
  }
  Event ev;
  ev.type = EventType::error;
  ev.error = e;
  ev.close_code = code;
  return ev;
}

// ---- output ----------------------------------------------------------------------------------

// Bytes on the wire of a frame with this much payload, as this endpoint sends it.
std::size_t Connection::frame_size(std::size_t payload) const noexcept {
  return header_size(payload, role_ == Role::client) + payload;  // RFC 6455 5.3: clients mask
}

// Whether the output may take `frame_bytes` more under Limits::max_output_bytes.
bool Connection::output_has_room(std::size_t frame_bytes) const noexcept {
  const std::size_t pending = output_.size() - output_begin_;
  return pending <= limits_.max_output_bytes && frame_bytes <= limits_.max_output_bytes - pending;
}

Error Connection::queue_frame(Opcode op, bool fin, std::span<const std::byte> payload, bool bypass_limit,
                              std::uint8_t rsv) noexcept {
  if (close_sent_) return Error::connection_closed;  // RFC 6455 5.5.1: nothing after Close
  const bool masked = role_ == Role::client;        // RFC 6455 5.3: clients mask, servers never
  const std::size_t frame_bytes = frame_size(payload.size());
  if (!bypass_limit && !output_has_room(frame_bytes)) return Error::output_full;
  const std::size_t pending = output_.size() - output_begin_;
  if (output_begin_ != 0 && output_begin_ >= pending) {  // reclaim consumed space (amortised O(1))
    output_.erase_front(output_begin_);
    output_begin_ = 0;
  }
  std::byte* dst = output_.extend(frame_bytes, limits_.max_output_bytes);
  if (dst == nullptr) return Error::out_of_memory;

  FrameHeader h;
  h.payload_length = payload.size();
  h.opcode = op;
  h.fin = fin;
  h.rsv = rsv;
  h.masked = masked;
  if (masked) h.mask_key = keys_.next();
  std::array<std::byte, max_header_size> header;
  const std::size_t header_bytes = encode_header(h, header);
  std::memcpy(dst, header.data(), header_bytes);
  if (masked)
    mask_copy(*backend_, payload, {dst + header_bytes, payload.size()}, h.mask_key);
  else if (!payload.empty())
    std::memcpy(dst + header_bytes, payload.data(), payload.size());
  return Error::ok;
}

Error Connection::queue_close(std::uint16_t code, std::span<const std::byte> reason) noexcept {
  std::array<std::byte, max_control_payload> payload;
  std::size_t n = 0;
  if (code != no_status_code) {
    payload[0] = static_cast<std::byte>(code >> 8);
    payload[1] = static_cast<std::byte>(code & 0xff);
    n = std::min(reason.size(), max_close_reason);
    if (n != 0) std::memcpy(payload.data() + 2, reason.data(), n);
    n += 2;
  }
  // Bypasses max_output_bytes: there is one Close per connection and it is small.
  return queue_frame(Opcode::close, true, {payload.data(), n}, true);
}

Error Connection::send_data(Opcode op, bool fin, std::span<const std::byte> data, bool starts, bool ends,
                            MessageKind kind) noexcept {
  if (starts && sending_message_) return Error::message_in_progress;
  if (!starts && !sending_message_) return Error::message_not_started;
  if (close_sent_) return Error::connection_closed;
  Utf8State utf8 = starts ? Utf8State{} : send_utf8_;
  if (kind == MessageKind::text) {  // RFC 6455 8.1: endpoints send valid UTF-8
    if (utf8_feed(*backend_, utf8, data).status == Utf8Status::invalid || (ends && !utf8_finish(utf8)))
      return Error::payload_invalid_utf8;
  }
  // permessage-deflate: a fragmented message is always compressed, a whole one from the threshold on.
  const bool compress = starts ? deflate_ && (!ends || data.size() >= deflate_->tuning.threshold) : sending_compressed_;
  const Error e = compress ? queue_compressed(op, fin, data, starts, ends) : queue_frame(op, fin, data, false);
  if (e != Error::ok) return e;
  sending_compressed_ = compress;
  sending_message_ = !ends;
  send_kind_ = kind;
  send_utf8_ = utf8;
  return Error::ok;
}

// One frame of a compressed message (RFC 7692 7.2.1): `data` compressed with a sync flush, so
// that the peer can inflate each frame as it arrives; RSV1 on the first frame only; the last
// frame loses the 00 00 FF FF tail. All or nothing: the room is checked against the compressor's
// bound before it sees the data, because data it has seen belongs to the peer's window.
Error Connection::queue_compressed(Opcode op, bool fin, std::span<const std::byte> data, bool starts,
                                   bool ends) noexcept {
  Deflate& d = *deflate_;
  if (!d.deflater.ready() && !d.deflater.init(d.tuning.level, d.send_window_bits, d.tuning.mem_level))
    return Error::out_of_memory;
  const std::size_t bound = d.deflater.bound(data.size());
  const std::size_t frame_bytes = frame_size(bound);
  if (!output_has_room(frame_bytes)) return Error::output_full;
  d.compressed.clear();
  std::byte* out = d.compressed.extend(bound, SIZE_MAX);
  if (out == nullptr || !output_.reserve(frame_bytes, limits_.max_output_bytes)) return Error::out_of_memory;

  const detail::ZStep step = d.deflater.compress(data.data(), data.size(), out, bound);
  if (step.failed || step.output_full) return fail_compressor();
  std::size_t size = step.produced;
  if (ends) {
    if (size >= deflate_tail.size() &&
        std::memcmp(out + size - deflate_tail.size(), deflate_tail.data(), deflate_tail.size()) == 0) {
      size -= deflate_tail.size();
    } else if (size == 0) {
      // Nothing new since the last frame's flush: one 00 byte, an empty stored block once the
      // peer appends the tail (RFC 7692 7.2.3.6).
      out[0] = std::byte{0};
      size = 1;
    } else {
      return fail_compressor();
    }
    if (d.send_no_context_takeover) d.deflater.reset();
  }
  const Error e = queue_frame(op, fin, {out, size}, false, starts ? rsv1 : std::uint8_t{0});
  d.compressed.clear_and_trim(limits_.retained_buffer_bytes);
  return e;
}

// zlib failed with room to spare: its state is unknown, so is the peer's window. The connection
// fails (1011); nothing more can be sent.
Error Connection::fail_compressor() noexcept {
  (void)fail(Error::compression_failed);
  return Error::compression_failed;
}

Error Connection::send_text(std::string_view text) noexcept {
  return send_data(Opcode::text, true, as_bytes(text), true, true, MessageKind::text);
}

Error Connection::send_binary(std::span<const std::byte> data) noexcept {
  return send_data(Opcode::binary, true, data, true, true, MessageKind::binary);
}

Error Connection::begin_message(MessageKind kind, std::span<const std::byte> data) noexcept {
  return send_data(kind == MessageKind::text ? Opcode::text : Opcode::binary, false, data, true, false, kind);
}

Error Connection::continue_message(std::span<const std::byte> data) noexcept {
  return send_data(Opcode::continuation, false, data, false, false, send_kind_);
}

Error Connection::finish_message(std::span<const std::byte> data) noexcept {
  return send_data(Opcode::continuation, true, data, false, true, send_kind_);
}

Error Connection::send_ping(std::span<const std::byte> data) noexcept {
  if (data.size() > max_control_payload) return Error::control_payload_too_long;  // RFC 6455 5.5
  return queue_frame(Opcode::ping, true, data, false);
}

Error Connection::send_pong(std::span<const std::byte> data) noexcept {
  if (data.size() > max_control_payload) return Error::control_payload_too_long;
  return queue_frame(Opcode::pong, true, data, false);
}

Error Connection::close(std::uint16_t code, std::string_view reason) noexcept {
  if (close_sent_) return Error::connection_closed;
  if (code == no_status_code ? !reason.empty() : !close_code_on_wire(code)) return Error::close_code_not_sendable;
  if (reason.size() > max_close_reason) return Error::control_payload_too_long;
  if (!is_valid_utf8(*backend_, as_bytes(reason))) return Error::payload_invalid_utf8;
  const Error e = queue_close(code, as_bytes(reason));
  if (e == Error::ok) close_sent_ = true;
  return e;
}

std::span<const std::byte> Connection::pending_output() const noexcept {
  return {output_.data() + output_begin_, output_.size() - output_begin_};
}

void Connection::consume_output(std::size_t n) noexcept {
  output_begin_ += std::min(n, output_.size() - output_begin_);
  if (output_begin_ == output_.size()) {
    output_.clear_and_trim(limits_.retained_buffer_bytes);
    output_begin_ = 0;
  }
}

ConnectionState Connection::state() const noexcept {
  if (error_ != Error::ok || (close_sent_ && close_received_)) return ConnectionState::closed;
  return close_sent_ ? ConnectionState::closing : ConnectionState::open;
}

bool Connection::should_close_transport() const noexcept {
  return state() == ConnectionState::closed && pending_output().empty() &&
         (role_ == Role::server || error_ != Error::ok);
}

}  // namespace wsframe
