// The sans-I/O connection (include/wsframe/connection.hpp). Baseline flags only: kernels are
// called through the connection's Backend.
#include "wsframe/connection.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstring>
#include <new>
#include <utility>

#include "connection_impl.hpp"
#include "permessage_deflate.hpp"
#include "prepared_block.hpp"
#include "wsframe/backend.hpp"

namespace wsframe {
namespace {

// RFC 6455 7.4.1/7.4.2 and the IANA registry: the codes that may appear in a Close frame.
// 1005, 1006 and 1015 are reserved for reporting, 1004 and 1016-2999 are unassigned.
constexpr bool close_code_on_wire(std::uint16_t code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

constexpr std::uint16_t no_status_code = 1005;  // RFC 6455 7.4.1: "no status code was present"
constexpr std::size_t max_close_reason = max_control_payload - 2;

std::span<const std::byte> as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::unique_ptr<detail::Extension> make_extension(Role role, const ConnectionOptions& options) {
  if (!options.deflate || !deflate_available()) return nullptr;
  return std::make_unique<detail::PerMessageDeflate>(*options.deflate, role == Role::server, options.compression);
}

}  // namespace

Connection::Impl::Impl(Role role, const Limits& limits, const ConnectionOptions& options)
    : backend_(options.backend != nullptr ? options.backend : &active()),
      role_(role),
      auto_pong_(options.auto_pong),
      extension_rsv_(options.extension_rsv),
      limits_(limits),
      assembler_(options.deliver_fragments) {
  if (role_ == Role::client) rare().keys = std::make_unique<detail::KeyStream>(options.mask_seed);
  if (std::unique_ptr<detail::Extension> extension = make_extension(role, options)) {
    extension_rsv_ |= extension->rsv_bits();
    rare().extension = std::move(extension);
  }
  if (options.fragment_size != 0) rare().fragment_size = detail::StoredLimits::clamp32(options.fragment_size);
  configure_timers(options.timeouts);
}

Connection::Impl::Rare& Connection::Impl::rare() {
  if (!rare_) rare_ = std::make_unique<Rare>();
  return *rare_;
}

// ---- input -----------------------------------------------------------------------------------

void Connection::Impl::receive(std::span<std::byte> bytes) noexcept {
  release_input(limits_.retained_buffer_bytes);
  if (!bytes.empty()) traffic_ = true;  // on_time() notes when
  reader_.lend(bytes);
}

// No frame or message in progress: the last reassembled message (valid until now) is done with.
void Connection::Impl::release_input(std::size_t keep) noexcept {
  if (reader_.in_payload() || assembler_.in_message()) return;
  assembler_.release(keep);
  reader_.release(keep);
}

void Connection::Impl::release_memory() noexcept {
  release_input(0);
  output_.trim(0);  // only once nothing is pending
  if (detail::Extension* ext = extension()) ext->outbound_buffer.clear_and_trim(0);  // scratch between sends
}

// RFC 6455 7.1.5: a transport that ends before the peer's Close is closed abnormally (1006).
// Nothing is sent: there is no one to read it.
Event Connection::Impl::receive_eof() noexcept {
  reader_.drop_input();
  if (error_ != Error::ok || close_received_) return {};
  return abandon(Error::abnormal_closure);
}

// Fails the connection without a Close frame: the peer is gone, or presumed gone.
Event Connection::Impl::abandon(Error e) noexcept {
  error_ = e;
  close_sent_ = true;  // nothing more may be queued either: there is no transport to carry it
  return error_event(e);
}

Event Connection::Impl::error_event(Error e) noexcept {
  Event ev;
  ev.type = EventType::error;
  ev.error = e;
  ev.close_code = close_code(e);
  return ev;
}

// The checks that need the frame header and the connection state; prepares the frame.
[[gnu::always_inline]] inline Error Connection::Impl::start_frame() noexcept {
  const FrameHeader& h = reader_.header();
  const bool control = is_control(h.opcode);
  const HeaderRules rules{.expect_masked = role_ == Role::server,
                          .allowed_rsv = control ? std::uint8_t{0} : extension_rsv_};
  if (const Error e = check_header(h, rules); e != Error::ok) return e;
  // The extension matters only to a frame with RSV bits (check_header allowed them): the common
  // frame does not look it up.
  if (!control)
    if (const Error e = assembler_.start_frame(h, h.rsv != 0 ? extension() : nullptr, limits_); e != Error::ok)
      return e;
  reader_.start_payload();
  return Error::ok;
}

// The payload of a whole single-frame message in the caller's buffer: unmasked in place (the
// kernels directly: this is the hottest call of the receive path; masked text is unmasked and
// validated in one pass), delivered from there.
[[gnu::always_inline]] inline Event Connection::Impl::deliver_in_place(std::span<std::byte> payload, MessageKind kind,
                                                                        std::uint8_t rsv, bool check_utf8, bool masked,
                                                                        std::uint32_t key_word) noexcept {
  // The event is made first, in the caller's slot: less is kept across the kernel's call.
  Event ev;
  ev.type = EventType::message;
  ev.kind = kind;
  ev.rsv = rsv;
  ev.payload = payload;
  bool valid = true;
  if (!masked)
    valid = !check_utf8 || backend_->utf8_validate(payload.data(), payload.size());
  else if (check_utf8)
    valid = backend_->unmask_utf8_validate(payload.data(), payload.data(), payload.size(), key_word);
  else
    backend_->mask(payload.data(), payload.size(), key_word);
  if (!valid) [[unlikely]]
    ev = fail(Error::invalid_utf8);
  return ev;
}

// The common frames decided from the first 8 bytes of the input alone (peek_header_word),
// before decode_header() and the state machine: a frame with a 7- or 16-bit length (its header
// is in those 8 bytes) and the MASK bit RFC 6455 5.1 requires of the peer, all of it in the
// input, in a connection with no error and no Close received. The callers then test the first
// byte for the cases they take; a frame none takes is left to the general path, which reports
// whatever rule it breaks. A 16-bit length below 126 (not minimal) is accepted, as
// decode_header() accepts it.
template <bool masked>
[[gnu::always_inline]] inline bool Connection::Impl::whole_frame_here(WholeFrame& f) const noexcept {
  std::uint64_t word;
  if (error_ != Error::ok || close_received_ || !reader_.peek_header_word(word)) return false;
  f.first_byte = static_cast<std::uint8_t>(word);
  const unsigned length7 = static_cast<std::uint8_t>(word >> 8) ^ (masked ? 0x80u : 0u);  // >= 128: wrong MASK bit
  if (length7 > 126) return false;                                                      // 127: a 64-bit length
  const bool length16 = length7 == 126;
  f.length = length16 ? __builtin_bswap16(static_cast<std::uint16_t>(word >> 16)) : length7;
  f.header_size = 2 + (length16 ? 2 : 0) + (masked ? 4 : 0);
  f.key_word = masked ? static_cast<std::uint32_t>(word >> (length16 ? 32 : 16)) : 0;
  if constexpr (std::endian::native == std::endian::big) f.key_word = __builtin_bswap32(f.key_word);  // wire order
  return f.length <= reader_.input_left() - f.header_size;
}

// A whole single-frame message: final text or binary without RSV bits (first byte 0x81 or
// 0x82; RFC 6455 5.2, 5.4: no message in progress either) within both size limits, delivered
// whole (not as a fragment).
[[gnu::always_inline]] inline bool Connection::Impl::small_message(const WholeFrame& f) const noexcept {
  return static_cast<std::uint8_t>((f.first_byte ^ 0x80) - 1) <= 1 && !assembler_.in_message() &&
         !assembler_.deliver_fragments() && f.length <= limits_.max_frame_size && f.length <= limits_.max_message_size;
}

// The frame small_message() accepted: consumed, its payload delivered in place.
template <bool masked>
[[gnu::always_inline]] inline Event Connection::Impl::deliver_small_message(const WholeFrame& f) noexcept {
  std::byte* const frame = reader_.take_frame(f.header_size + f.length);
  const bool text = f.first_byte == 0x81;
  return deliver_in_place({frame + f.header_size, f.length}, text ? MessageKind::text : MessageKind::binary, 0, text,
                          masked, f.key_word);
}

// A frame of a fragmented message to reassemble: no RSV bits, opcode text, binary or
// continuation (either FIN), not delivered as fragments, and not continuing a transformed
// message (the extension decodes those). The assembler's start_frame() checks the rest
// (continuation rules, limits) exactly as on the general path.
[[gnu::always_inline]] inline bool Connection::Impl::plain_fragment(const WholeFrame& f) const noexcept {
  const unsigned op_rsv = f.first_byte & 0x7fu;
  return op_rsv <= 2 && !assembler_.deliver_fragments() && (op_rsv != 0 || !assembler_.transformed());
}

// Whole frames of a fragmented message, one after another while they are all in the input
// (a message's frames come back to back): each appended to the message, its UTF-8 checked
// as it comes, until the final one gives the message. Anything else goes on in the general
// path, with the same event.
template <bool masked>
[[gnu::always_inline]] inline Event Connection::Impl::next_fragment_event(WholeFrame f) noexcept {
  Event ev;
  while (fragment_step<masked>(f, ev)) {
    if (!whole_frame_here<masked>(f) || !plain_fragment(f)) {
      frame_steps(ev);
      break;
    }
  }
  return ev;
}

// One frame plain_fragment() accepted, as start_frame() and take_chunk() take it on the
// general path: false once there is an event in `ev` (the message, or the error).
template <bool masked>
[[gnu::always_inline]] inline bool Connection::Impl::fragment_step(const WholeFrame& f, Event& ev) noexcept {
  FrameHeader h;
  h.payload_length = f.length;
  h.opcode = static_cast<Opcode>(f.first_byte & 0x0f);
  h.fin = (f.first_byte & 0x80) != 0;
  h.masked = masked;
  if (const Error e = assembler_.start_frame(h, nullptr, limits_); e != Error::ok) return failed(e, ev);
  std::byte* const frame = reader_.take_frame(f.header_size + f.length);
  const Error e = assembler_.take_whole_frame(*backend_, {frame + f.header_size, f.length}, masked, f.key_word,
                                              h.fin, limits_, ev);
  if (e != Error::ok) [[unlikely]]
    return failed(e, ev);
  return !ev;
}

// A whole Ping or Pong (first byte 0x89 or 0x8A: final, no RSV bits; RFC 6455 5.5: at most 125
// bytes), allowed between a message's frames: unmasked in place and delivered from there. A
// server's automatic Pong is unmasked from the Ping's bytes into the output first: copied from
// them once unmasked in place, it would wait for the AVX-512 kernels' masked stores to be
// written (a load overlapping one in flight cannot take its bytes).
template <bool masked>
[[gnu::always_inline]] inline Event Connection::Impl::deliver_ping_or_pong(const WholeFrame& f) noexcept {
  std::byte* const frame = reader_.take_frame(f.header_size + f.length);
  const std::span<std::byte> payload(frame + f.header_size, f.length);
  const bool answer_now = masked && f.first_byte == 0x89 && auto_pong_ && !close_sent_;
  if (answer_now) (void)send_pong_reply(payload, f.key_word);
  if (masked) backend_->mask(payload.data(), payload.size(), f.key_word);
  Event ev;
  finish_control(static_cast<Opcode>(f.first_byte & 0x0f), payload, ev, answer_now);
  return ev;
}

// The common frames first, by what the header word says; every other frame and every partial
// one goes to the general path.
template <bool masked>
[[gnu::always_inline]] inline Event Connection::Impl::next_event_as() noexcept {
  WholeFrame f;
  if (whole_frame_here<masked>(f)) [[likely]] {
    if (small_message(f)) [[likely]]
      return deliver_small_message<masked>(f);
    if (plain_fragment(f)) return next_fragment_event<masked>(f);
    if ((f.first_byte == 0x89 || f.first_byte == 0x8a) && f.length <= max_control_payload)
      return deliver_ping_or_pong<masked>(f);
  }
  return next_frame_event();
}

// A server receives masked frames, a client unmasked ones (RFC 6455 5.1): each its own case.
[[gnu::always_inline]] inline Event Connection::Impl::next_event() noexcept {
  if (role_ == Role::server) [[likely]]
    return next_event_as<true>();
  return next_event_as<false>();
}

// next_event() past its fast cases: the general state machine. Its one event is written where
// the caller reads it (every return is `ev`): an event made in a local and copied out is read
// back whole right after its fields were stored one by one, a store forwarding stall on every
// frame of this path.
[[gnu::always_inline]] inline Event Connection::Impl::next_frame_event() noexcept {
  Event ev;
  frame_steps(ev);
  return ev;
}

// frame_step() until it gives an event in `ev` (or none, when the input is used up).
void Connection::Impl::frame_steps(Event& ev) noexcept {
  while (frame_step(ev)) {
  }
}

// One step of next_frame_event(): false once it returns, with its event in `ev` (or none).
[[gnu::always_inline]] inline bool Connection::Impl::frame_step(Event& ev) noexcept {
  if (error_ != Error::ok) {
    reader_.drop_input();
    return false;
  }
  if (close_received_ && reader_.input_left() != 0) return failed(Error::data_after_close, ev);  // RFC 6455 5.5.1
  if (!reader_.in_payload()) {
    if (reader_.input_left() == 0) return false;
    const detail::FrameReader::HeaderStep step = reader_.read_header(*backend_);
    if (step == detail::FrameReader::HeaderStep::need_more) return false;
    if (step == detail::FrameReader::HeaderStep::length_too_large) return failed(Error::length_too_large, ev);
    if (const Error e = start_frame(); e != Error::ok) return failed(e, ev);
    const FrameHeader& h = reader_.header();
    // A whole message with RSV bits that no transform owns (ConnectionOptions::extension_rsv).
    if (h.fin && (h.opcode == Opcode::text || h.opcode == Opcode::binary) && reader_.whole_payload_here() &&
        !assembler_.deliver_fragments() && !assembler_.transformed()) {
      const std::span<std::byte> payload = reader_.take_payload();
      reader_.end_frame();
      ev = deliver_in_place(payload, assembler_.kind(), assembler_.rsv(), assembler_.check_utf8(), h.masked,
                            std::bit_cast<std::uint32_t>(h.mask_key));
      return false;
    }
  }
  // Payload bytes of the current frame (possibly none: a zero-length frame, or no input).
  if (reader_.chunk() == 0 && reader_.frame_left() != 0) return false;
  take_payload(ev);
  return !ev;
}

bool Connection::Impl::failed(Error e, Event& ev) noexcept {
  ev = fail(e);
  return false;
}

// The payload bytes of the current frame in this input, to the control buffer or the
// assembler; an event in `ev` when they complete one.
[[gnu::always_inline]] inline void Connection::Impl::take_payload(Event& ev) noexcept {
  if (is_control(reader_.header().opcode)) return take_control(ev);
  const Error e = assembler_.transformed() ? assembler_.decode_chunk(reader_, *backend_, *extension(), limits_, ev)
                                           : assembler_.take_chunk(reader_, *backend_, limits_, ev);
  if (e != Error::ok) [[unlikely]]
    (void)failed(e, ev);
}

[[gnu::always_inline]] inline void Connection::Impl::take_control(Event& ev) noexcept {
  const std::span<const std::byte> piece = reader_.take_unmasked(*backend_, reader_.chunk());
  if (reader_.frame_left() == 0) reader_.end_frame();
  std::span<const std::byte> payload;
  bool out_of_memory = false;
  if (reader_.collect_control(piece, payload, out_of_memory))
    finish_control(reader_.header().opcode, payload, ev);
  else if (out_of_memory)
    (void)failed(Error::out_of_memory, ev);
}

// A complete, unmasked control frame payload (RFC 6455 5.5). `answered`: a Ping's automatic
// Pong was sent already.
void Connection::Impl::finish_control(Opcode op, std::span<const std::byte> payload, Event& ev, bool answered) noexcept {
  ev.payload = payload;
  switch (op) {
    case Opcode::ping:
      ev.type = EventType::ping;
      if (!answered && auto_pong_ && !close_sent_) (void)send_pong_reply(payload);
      return;
    case Opcode::pong: ev.type = EventType::pong; return;
    default: ev = finish_close(payload);  // check_header() let no other opcode through
  }
}

Event Connection::Impl::finish_close(std::span<const std::byte> payload) noexcept {
  Event ev;
  ev.payload = payload;
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
    (void)send_close(code, {});
    close_sent_ = true;
  }
  ev.type = EventType::close;
  ev.close_code = code;
  return ev;
}

// Fails the connection (RFC 6455 7.1.7): the error event, our Close with its code, nothing more.
Event Connection::Impl::fail(Error e) noexcept {
  error_ = e;
  reader_.drop_input();
  if (!close_sent_) {
    (void)send_close(close_code(e), {});
    close_sent_ = true;
  }
  return error_event(e);
}

// ---- output ----------------------------------------------------------------------------------

// Bytes on the wire of a frame with this much payload, as this endpoint sends it.
std::size_t Connection::Impl::frame_size(std::size_t payload) const noexcept {
  return header_size(payload, role_ == Role::client) + payload;  // RFC 6455 5.3: clients mask
}

// Whether the output may take `frame_bytes` more under Limits::max_output_bytes.
inline bool Connection::Impl::output_has_room(std::size_t frame_bytes) const noexcept {
  const std::size_t pending = output_.size();
  return pending <= limits_.max_output_bytes && frame_bytes <= limits_.max_output_bytes - pending;
}

// A frame that does not fit under Limits::max_output_bytes, by the policy for a stalled reader.
Error Connection::Impl::output_full() noexcept {
  switch (limits_.on_output_full) {
    case OutputFullPolicy::refuse: return Error::output_full;
    case OutputFullPolicy::drop:
      if (dropped_messages_ != UINT32_MAX) ++dropped_messages_;
      return Error::message_dropped;
    case OutputFullPolicy::close: (void)fail(Error::output_stalled); return Error::output_stalled;
  }
  return Error::output_full;
}

// A borrowed payload goes on the wire as the caller's bytes are only from a server: RFC 6455
// 5.3, a client masks, which rewrites every payload byte (into the output, as a copy).
inline bool Connection::Impl::refers_to(Payload payload_use) const noexcept {
  return payload_use == Payload::borrowed && role_ == Role::server;
}

// The callers have checked that no Close was sent (RFC 6455 5.5.1: nothing after it). A
// borrowed payload the frame carries as it is (refers_to) is queued by reference after the
// header, which is written into the output as always.
Error Connection::Impl::send_frame(Opcode op, bool fin, std::span<const std::byte> payload, std::uint8_t rsv,
                                   bool bypass_limit, Payload payload_use) noexcept {
  const bool masked = role_ == Role::client;  // RFC 6455 5.3: clients mask, servers never
  const std::size_t frame_bytes = frame_size(payload.size());
  if (!bypass_limit && !output_has_room(frame_bytes)) return output_full();
  const bool by_reference = refers_to(payload_use) && !payload.empty();
  const std::size_t written = by_reference ? frame_bytes - payload.size() : frame_bytes;
  // The header's run and the payload's are both made room for before either is queued.
  if (by_reference && !output_.reserve(written, limits_.max_output_bytes, 2)) return Error::out_of_memory;
  std::byte* dst = output_.append(written, limits_.max_output_bytes);
  if (dst == nullptr) return Error::out_of_memory;

  FrameHeader h;
  h.payload_length = payload.size();
  h.opcode = op;
  h.fin = fin;
  h.rsv = rsv;
  h.masked = masked;
  if (masked) h.mask_key = rare_->keys->next();
  std::array<std::byte, max_header_size> header;
  const std::size_t header_bytes = encode_header(h, header);
  std::memcpy(dst, header.data(), header_bytes);
  if (by_reference)
    output_.append_borrowed(payload);
  else if (masked)
    mask_copy(*backend_, payload, {dst + header_bytes, payload.size()}, h.mask_key);
  else if (!payload.empty())
    std::memcpy(dst + header_bytes, payload.data(), payload.size());
  return Error::ok;
}

// The automatic Pong (RFC 6455 5.5.2, 5.5.3: the Ping's payload, at most 125 bytes). A server's
// is two header bytes and the payload (servers never mask), unmasked with `key_word` when the
// Ping's bytes are still masked: written straight into the output, with the room and the policy
// of send_frame(). A client's is masked: send_frame().
Error Connection::Impl::send_pong_reply(std::span<const std::byte> payload, std::uint32_t key_word) noexcept {
  if (role_ == Role::client) return send_frame(Opcode::pong, true, payload);
  const std::size_t frame_bytes = 2 + payload.size();
  if (!output_has_room(frame_bytes)) return output_full();
  std::byte* dst = output_.append(frame_bytes, limits_.max_output_bytes);
  if (dst == nullptr) return Error::out_of_memory;
  dst[0] = std::byte{0x8a};  // FIN, opcode 0xA
  dst[1] = static_cast<std::byte>(payload.size());
  backend_->mask_copy(payload.data(), dst + 2, payload.size(), key_word);
  return Error::ok;
}

// Bytes on the wire of a data frame with this much payload once split at fragment_size().
std::size_t Connection::Impl::data_frames_size(std::size_t payload) const noexcept {
  const std::size_t fragment = fragment_size();
  if (fragment == 0 || payload <= fragment) return frame_size(payload);
  const std::size_t rest = payload % fragment;
  return payload / fragment * frame_size(fragment) + (rest != 0 ? frame_size(rest) : 0);
}

// A data frame, split into frames of at most fragment_size() payload bytes when it is larger
// (RFC 6455 5.4): the opcode and RSV bits on the first, FIN (when `fin`) on the last. All or
// nothing: the room for every frame is checked and reserved first. The frames of a borrowed
// payload refer to its slices: only their headers are written, each frame two runs.
Error Connection::Impl::send_data_frames(Opcode op, bool fin, std::span<const std::byte> payload,
                                         std::uint8_t rsv, Payload payload_use) noexcept {
  const std::size_t fragment = fragment_size();
  if (fragment == 0 || payload.size() <= fragment) return send_frame(op, fin, payload, rsv, false, payload_use);
  const std::size_t total = data_frames_size(payload.size());
  if (!output_has_room(total)) return output_full();
  const bool by_reference = refers_to(payload_use);
  const std::size_t frames = (payload.size() + fragment - 1) / fragment;
  if (!output_.reserve(by_reference ? total - payload.size() : total, limits_.max_output_bytes,
                       by_reference ? 2 * frames : 1))
    return Error::out_of_memory;
  for (std::size_t at = 0; at < payload.size(); at += fragment) {
    const std::span<const std::byte> piece = payload.subspan(at, std::min(fragment, payload.size() - at));
    const bool first = at == 0;
    const bool last = at + piece.size() == payload.size();
    const Error e = send_frame(first ? op : Opcode::continuation, fin && last, piece, first ? rsv : std::uint8_t{0},
                               false, payload_use);
    if (e != Error::ok) return e;  // only the first can fail (a moved-from connection): the room is reserved
  }
  return Error::ok;
}

Error Connection::Impl::send_close(std::uint16_t code, std::span<const std::byte> reason) noexcept {
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
  return send_frame(Opcode::close, true, {payload.data(), n}, 0, true);
}

// One frame of a message; `starts` and `ends` say which (a whole message is both). A borrowed
// payload the extension transforms is copied: its output is the extension's own bytes.
Error Connection::Impl::send_data(MessageKind kind, std::span<const std::byte> data, bool starts, bool ends,
                                  Payload payload_use) noexcept {
  if (starts && sending_message_) return Error::message_in_progress;
  if (!starts && !sending_message_) return Error::message_not_started;
  if (close_sent_) return Error::connection_closed;
  Utf8State utf8 = starts ? Utf8State{} : send_utf8_;
  if (kind == MessageKind::text) {  // RFC 6455 8.1: endpoints send valid UTF-8
    if (utf8_feed(*backend_, utf8, data).status == Utf8Status::invalid || (ends && !utf8_finish(utf8)))
      return Error::payload_invalid_utf8;
  }
  const Opcode op = !starts ? Opcode::continuation : kind == MessageKind::text ? Opcode::text : Opcode::binary;
  const bool transform =
      starts ? extension() != nullptr && extension()->transforms_outbound(data.size(), ends) : sending_transformed_;
  const Error e =
      transform ? send_transformed(op, ends, data, starts) : send_data_frames(op, ends, data, 0, payload_use);
  if (e != Error::ok) return e;
  sending_transformed_ = transform;
  sending_message_ = !ends;
  send_kind_ = kind;
  send_utf8_ = utf8;
  return Error::ok;
}

// A whole prepared message (its UTF-8 was checked when it was built). Shared by reference
// only where the shared frame is exactly what this connection would write: a server's
// (unmasked) frame, of a message its extension leaves alone or compresses without context
// takeover.
inline SendResult Connection::Impl::send_prepared(detail::PreparedBlock& block) noexcept {
  const Error e = queue_prepared(block);
  if (e != Error::ok) return {SendStatus::refused, e};
  return {above_high_water() ? SendStatus::backpressure : SendStatus::ok, Error::ok};
}

inline Error Connection::Impl::queue_prepared(detail::PreparedBlock& block) noexcept {
  if (sending_message_) return Error::message_in_progress;
  if (close_sent_) return Error::connection_closed;
  const Opcode op = block.kind == MessageKind::text ? Opcode::text : Opcode::binary;
  if (extension() != nullptr && extension()->transforms_outbound(block.payload_size, true))
    return queue_prepared_transformed(op, block);
  if (role_ == Role::client) return send_data_frames(op, true, block.payload());  // RFC 6455 5.3: it masks
  return queue_shared(block, op, 0, block.wire_span(), block.payload());
}

// A frame of a prepared message (`wire`, `payload` its payload part) by reference. A frame this
// connection splits (fragment_size()) is not the shared one: it is copied into frames of its own.
inline Error Connection::Impl::queue_shared(detail::PreparedBlock& block, Opcode op, std::uint8_t rsv,
                                            std::span<const std::byte> wire,
                                            std::span<const std::byte> payload) noexcept {
  if (fragment_size() != 0 && payload.size() > fragment_size()) return send_data_frames(op, true, payload, rsv);
  if (!output_has_room(wire.size())) return output_full();
  return output_.append_shared(block, wire) ? Error::ok : Error::out_of_memory;
}

// RFC 7692 7.1.1: a server's compressor without context takeover starts every message from an
// empty window, so what it writes for a message depends only on its settings: the compressed
// frame is made once per distinct settings (by the first connection that needs it) and shared.
// With context takeover, for a client (which masks), or when the message holds variants for
// PreparedBlock::max_variants other settings already, the message goes through this
// connection's own compressor, exactly as send_text would send it, keeping its window in sync
// with the peer's (RFC 7692 7.2.1).
Error Connection::Impl::queue_prepared_transformed(Opcode op, detail::PreparedBlock& block) noexcept {
  const std::uint32_t config = role_ == Role::server ? extension()->stateless_outbound_config() : 0;
  const detail::PreparedVariant* variant = config != 0 ? block.find_variant(config) : nullptr;
  if (variant == nullptr && config != 0 && block.variant_slot_free())
    if (const Error e = make_variant(block, config, variant); e != Error::ok) return e;
  if (variant == nullptr) return send_transformed(op, true, block.payload(), true);
  return queue_shared(block, op, extension()->rsv_bits(), variant->wire_span(), variant->payload());
}

// The message compressed by this connection's compressor, which holds no state between messages
// (no context takeover), published as the variant for `config`; `variant` is the one published
// (or null: the slots were taken by other settings meanwhile).
Error Connection::Impl::make_variant(detail::PreparedBlock& block, std::uint32_t config,
                                     const detail::PreparedVariant*& variant) noexcept {
  detail::Extension& ext = *extension();
  const std::size_t bound = ext.outbound_bound(block.payload_size);
  if (bound == 0) return Error::out_of_memory;
  std::span<const std::byte> compressed;
  if (const Error e = transform(block.payload(), true, bound, compressed); e != Error::ok) return e;
  detail::PreparedVariant* made = detail::PreparedVariant::create(config, block.kind, ext.rsv_bits(), compressed);
  ext.outbound_buffer.clear_and_trim(limits_.retained_buffer_bytes);
  if (made == nullptr) return Error::out_of_memory;
  variant = block.publish_variant(made);
  return Error::ok;
}

// One frame of a transformed message, the extension's bits on the first frame only (RFC 7692
// 6.1). All or nothing: the room is checked against the transform's bound before it sees the
// data, because data a compressor has seen belongs to the peer's window.
Error Connection::Impl::send_transformed(Opcode op, bool fin, std::span<const std::byte> data, bool starts) noexcept {
  detail::Extension& ext = *extension();
  const std::size_t bound = ext.outbound_bound(data.size());
  if (bound == 0) return Error::out_of_memory;
  const std::size_t frame_bytes = data_frames_size(bound);
  if (!output_has_room(frame_bytes)) return output_full();
  if (!output_.reserve(frame_bytes, limits_.max_output_bytes)) return Error::out_of_memory;
  std::span<const std::byte> transformed;
  if (const Error e = transform(data, fin, bound, transformed); e != Error::ok) return e;
  const Error e = send_data_frames(op, fin, transformed, starts ? ext.rsv_bits() : std::uint8_t{0});
  ext.outbound_buffer.clear_and_trim(limits_.retained_buffer_bytes);
  return e;
}

// `data` through the extension into its outbound_buffer (`bound` bytes from outbound_bound()).
Error Connection::Impl::transform(std::span<const std::byte> data, bool fin, std::size_t bound,
                                  std::span<const std::byte>& transformed) noexcept {
  detail::Extension& ext = *extension();
  detail::ByteBuffer& buffer = ext.outbound_buffer;
  buffer.clear();
  std::byte* out = buffer.extend(bound, SIZE_MAX);
  if (out == nullptr) return Error::out_of_memory;
  std::size_t size = 0;
  if (const Error e = ext.outbound(data, fin, {out, bound}, size); e != Error::ok) {
    // Its state is unknown, so is the peer's: the connection fails (1011), nothing more is sent.
    (void)fail(e);
    return e;
  }
  transformed = {out, size};
  return Error::ok;
}

Error Connection::Impl::send_control(Opcode op, std::span<const std::byte> data) noexcept {
  if (data.size() > max_control_payload) return Error::control_payload_too_large;  // RFC 6455 5.5
  if (close_sent_) return Error::connection_closed;
  return send_frame(op, true, data);
}

Error Connection::Impl::close(std::uint16_t code, std::string_view reason) noexcept {
  if (close_sent_) return Error::connection_closed;
  if (code == no_status_code ? !reason.empty() : !close_code_on_wire(code)) return Error::close_code_not_sendable;
  if (reason.size() > max_close_reason) return Error::control_payload_too_large;
  if (!is_valid_utf8(*backend_, as_bytes(reason))) return Error::payload_invalid_utf8;
  const Error e = send_close(code, as_bytes(reason));
  if (e == Error::ok) close_sent_ = true;
  return e;
}

ConnectionState Connection::Impl::state() const noexcept {
  if (error_ != Error::ok || (close_sent_ && close_received_)) return ConnectionState::closed;
  return close_sent_ ? ConnectionState::closing : ConnectionState::open;
}

bool Connection::Impl::should_close_transport() const noexcept {
  // The peer does not read (not even our Close), or the close took too long.
  if (error_ == Error::output_stalled || (timers_on() && rare_->timers->expired)) return true;
  return state() == ConnectionState::closed && buffered_amount() == 0 && (role_ == Role::server || error_ != Error::ok);
}

// ---- Connection: the public API over its Impl --------------------------------------------------

// Inline: one call per event, not two (the library is built position-independent, and GCC does
// not inline a function another module could interpose).
inline Connection::Impl& Connection::impl() noexcept { return *std::launder(reinterpret_cast<Impl*>(storage_)); }
inline const Connection::Impl& Connection::impl() const noexcept {
  return *std::launder(reinterpret_cast<const Impl*>(storage_));
}

Connection::Connection(Role role, Limits limits, ConnectionOptions options) {
  static_assert(sizeof(Impl) == storage_size, "Connection::storage_size is not the size of its state");
  static_assert(alignof(Impl) == alignof(Connection));
  new (storage_) Impl(role, limits, options);
}
Connection::~Connection() { impl().~Impl(); }
Connection::Connection(Connection&& other) noexcept {
  new (storage_) Impl(std::move(other.impl()));
  other.impl().close_after_move();
}
Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    impl() = std::move(other.impl());
    other.impl().close_after_move();
  }
  return *this;
}

// The state, the masking keys and the extension went with the move; what stays is closed
// (Error::connection_closed) with no input, no output and no frame or message in progress, so
// that every call on it is valid: sends are refused, nothing is received.
void Connection::Impl::close_after_move() noexcept {
  reader_ = {};
  assembler_ = detail::MessageAssembler(false);
  sending_message_ = sending_transformed_ = false;
  close_sent_ = close_received_ = true;
  error_ = Error::connection_closed;
  dropped_messages_ = 0;
}

void Connection::receive(std::span<std::byte> bytes) noexcept { impl().receive(bytes); }
Event Connection::receive_eof() noexcept { return impl().receive_eof(); }
Event Connection::next_event() noexcept { return impl().next_event(); }

Error Connection::send_text(std::string_view text) noexcept {
  return impl().send_data(MessageKind::text, as_bytes(text), true, true);
}
Error Connection::send_binary(std::span<const std::byte> data) noexcept {
  return impl().send_data(MessageKind::binary, data, true, true);
}
Error Connection::send_text(std::string_view text, Borrowed) noexcept {
  return impl().send_data(MessageKind::text, as_bytes(text), true, true, Impl::Payload::borrowed);
}
Error Connection::send_binary(std::span<const std::byte> data, Borrowed) noexcept {
  return impl().send_data(MessageKind::binary, data, true, true, Impl::Payload::borrowed);
}
Error Connection::own_output() noexcept { return impl().own_output(); }
Error Connection::begin_message(MessageKind kind, std::span<const std::byte> data) noexcept {
  return impl().send_data(kind, data, true, false);
}
Error Connection::continue_message(std::span<const std::byte> data) noexcept {
  return impl().send_data(impl().send_kind(), data, false, false);
}
Error Connection::finish_message(std::span<const std::byte> data) noexcept {
  return impl().send_data(impl().send_kind(), data, false, true);
}
Error Connection::send_ping(std::span<const std::byte> data) noexcept { return impl().send_control(Opcode::ping, data); }
Error Connection::send_pong(std::span<const std::byte> data) noexcept { return impl().send_control(Opcode::pong, data); }
Error Connection::close(std::uint16_t code, std::string_view reason) noexcept { return impl().close(code, reason); }
SendResult Connection::send(const PreparedMessage& message) noexcept {
  if (message.block_ == nullptr) return {SendStatus::refused, message.error()};
  return impl().send_prepared(*message.block_);
}

std::span<const std::byte> Connection::pending_output() const noexcept { return impl().pending_output(); }
void Connection::consume_output(std::size_t n) noexcept { impl().consume_output(n); }
void Connection::release_memory() noexcept { impl().release_memory(); }
std::size_t Connection::output_spans(std::span<OutputSpan> out) const noexcept { return impl().output_spans(out); }
std::size_t Connection::output_span_count() const noexcept { return impl().output_span_count(); }
std::size_t Connection::buffered_amount() const noexcept { return impl().buffered_amount(); }
bool Connection::above_high_water() const noexcept { return impl().above_high_water(); }
std::uint64_t Connection::dropped_messages() const noexcept { return impl().dropped_messages(); }

ConnectionState Connection::state() const noexcept { return impl().state(); }
Error Connection::error() const noexcept { return impl().error(); }
Role Connection::role() const noexcept { return impl().role(); }
bool Connection::receiving() const noexcept { return impl().receiving(); }

bool Connection::should_close_transport() const noexcept { return impl().should_close_transport(); }
std::optional<TimePoint> Connection::next_deadline() const noexcept { return impl().next_deadline(); }
Event Connection::on_time(TimePoint now) noexcept { return impl().on_time(now); }

}  // namespace wsframe
