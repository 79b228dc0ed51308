// The state behind wsframe::Connection: the frame reader and the message assembler on the
// receive side, the close handshake, and the one send path. connection.cpp implements it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "byte_buffer.hpp"
#include "extension.hpp"
#include "frame_reader.hpp"
#include "key_stream.hpp"
#include "message_assembler.hpp"
#include "output_queue.hpp"
#include "stored_limits.hpp"
#include "wsframe/connection.hpp"

namespace wsframe {
namespace detail {
struct PreparedVariant;
}

class Connection::Impl {
 public:
  Impl(Role role, const Limits& limits, const ConnectionOptions& options);

  void receive(std::span<std::byte> bytes) noexcept;
  Event receive_eof() noexcept;
  Event next_event() noexcept;

  // Whether a data frame's payload is copied into the output or, where the frame carries the
  // caller's bytes as they are, queued by reference (the borrowing sends).
  enum class Payload : bool { copied, borrowed };

  Error send_data(MessageKind kind, std::span<const std::byte> data, bool starts, bool ends,
                  Payload payload_use = Payload::copied) noexcept;
  Error send_control(Opcode op, std::span<const std::byte> data) noexcept;
  SendResult send_prepared(detail::PreparedBlock& block) noexcept;
  Error close(std::uint16_t code, std::string_view reason) noexcept;
  // Joining the runs leaves the same pending bytes: logically const.
  std::span<const std::byte> pending_output() const noexcept {
    return output_.join(limits_.max_output_bytes, limits_.retained_buffer_bytes);
  }
  std::size_t output_spans(std::span<OutputSpan> out) const noexcept { return output_.runs(out); }
  std::size_t output_span_count() const noexcept { return output_.run_count(); }
  Error own_output() noexcept {
    return output_.own_borrowed(limits_.max_output_bytes) ? Error::ok : Error::out_of_memory;
  }
  std::size_t buffered_amount() const noexcept { return output_.size(); }
  void release_memory() noexcept;
  bool above_high_water() const noexcept { return output_.size() > limits_.high_water_bytes; }
  std::uint64_t dropped_messages() const noexcept { return dropped_messages_; }
  void consume_output(std::size_t n) noexcept {
    output_.consume(n, limits_.retained_buffer_bytes);
    output_.trim(limits_.retained_buffer_bytes);
  }
  MessageKind send_kind() const noexcept { return send_kind_; }

  std::optional<TimePoint> next_deadline() const noexcept;  // connection_timers.cpp
  Event on_time(TimePoint now) noexcept;

  ConnectionState state() const noexcept;
  bool should_close_transport() const noexcept;
  Error error() const noexcept { return error_; }
  bool receiving() const noexcept { return reader_.in_frame() || assembler_.in_message(); }
  Role role() const noexcept { return role_; }
  // What a move leaves behind: a closed connection with nothing in progress.
  void close_after_move() noexcept;

 private:
  static Event error_event(Error e) noexcept;
  Event fail(Error e) noexcept;
  Event abandon(Error e) noexcept;
  // Between frames and messages: the input buffers shrink to `keep` bytes.
  void release_input(std::size_t keep) noexcept;
  Error start_frame() noexcept;
  // A whole frame with a 7- or 16-bit length at the input's start, as whole_frame_here() read
  // it from the header word.
  struct WholeFrame {
    std::size_t header_size, length;
    std::uint32_t key_word;  // the masking key as mask() takes it
    std::uint8_t first_byte;  // FIN, RSV and opcode
  };
  template <bool masked>
  bool whole_frame_here(WholeFrame& f) const noexcept;
  template <bool masked>
  Event next_event_as() noexcept;
  bool small_message(const WholeFrame& f) const noexcept;
  template <bool masked>
  Event deliver_small_message(const WholeFrame& f) noexcept;
  bool plain_fragment(const WholeFrame& f) const noexcept;
  template <bool masked>
  Event next_fragment_event(WholeFrame f) noexcept;
  template <bool masked>
  bool fragment_step(const WholeFrame& f, Event& ev) noexcept;
  template <bool masked>
  Event deliver_ping_or_pong(const WholeFrame& f) noexcept;
  Event next_frame_event() noexcept;
  void frame_steps(Event& ev) noexcept;
  bool frame_step(Event& ev) noexcept;
  bool failed(Error e, Event& ev) noexcept;  // fail() into ev; false
  Event deliver_in_place(std::span<std::byte> payload, MessageKind kind, std::uint8_t rsv, bool check_utf8,
                         bool masked, std::uint32_t key_word) noexcept;
  void take_payload(Event& ev) noexcept;
  void take_control(Event& ev) noexcept;
  void finish_control(Opcode op, std::span<const std::byte> payload, Event& ev, bool answered = false) noexcept;
  Event finish_close(std::span<const std::byte> payload) noexcept;
  // The one way a frame reaches the output: every check, the room, the header, the mask.
  Error send_frame(Opcode op, bool fin, std::span<const std::byte> payload, std::uint8_t rsv = 0,
                   bool bypass_limit = false, Payload payload_use = Payload::copied) noexcept;
  Error send_pong_reply(std::span<const std::byte> payload, std::uint32_t key_word = 0) noexcept;  // the automatic Pong
  Error send_data_frames(Opcode op, bool fin, std::span<const std::byte> payload, std::uint8_t rsv = 0,
                         Payload payload_use = Payload::copied) noexcept;
  bool refers_to(Payload payload_use) const noexcept;
  std::size_t data_frames_size(std::size_t payload) const noexcept;
  Error send_transformed(Opcode op, bool fin, std::span<const std::byte> data, bool starts) noexcept;
  Error transform(std::span<const std::byte> data, bool fin, std::size_t bound,
                  std::span<const std::byte>& transformed) noexcept;
  Error queue_prepared(detail::PreparedBlock& block) noexcept;
  Error queue_shared(detail::PreparedBlock& block, Opcode op, std::uint8_t rsv, std::span<const std::byte> wire,
                     std::span<const std::byte> payload) noexcept;
  Error queue_prepared_transformed(Opcode op, detail::PreparedBlock& block) noexcept;
  Error make_variant(detail::PreparedBlock& block, std::uint32_t config,
                     const detail::PreparedVariant*& variant) noexcept;
  Error send_close(std::uint16_t code, std::span<const std::byte> reason) noexcept;
  std::size_t frame_size(std::size_t payload) const noexcept;
  bool output_has_room(std::size_t frame_bytes) const noexcept;
  Error output_full() noexcept;
  void configure_timers(const Timeouts& timeouts);
  bool timers_on() const noexcept;
  TimePoint keepalive_due() const noexcept;
  Event close_timer(TimePoint now) noexcept;

  // ConnectionOptions::timeouts in milliseconds, and when things happened on the caller's clock.
  struct Timers {
    std::uint32_t ping_interval = 0, pong_timeout = 0, idle_timeout = 0, close_timeout = 0;
    TimePoint last_traffic{};  // when traffic was last noted (first: the first on_time())
    TimePoint mark{};          // our last keepalive Ping; once our Close is queued, its start
    bool started = false;          // on_time() was called
    bool ping_outstanding = false;  // a keepalive Ping and no traffic since
    bool close_started = false;     // mark is the close timeout's start
    bool expired = false;           // the close timeout passed: drop the transport
  };
  // What only some connections need, behind one pointer (null for a server without timers,
  // compression or automatic fragmentation): a client's masking keys (RFC 6455 5.3), the
  // extension, the fragment size and the timers.
  struct Rare {
    std::optional<Timers> timers;
    std::unique_ptr<detail::KeyStream> keys;  // its own: a server's timers do not carry it
    std::unique_ptr<detail::Extension> extension;  // null without one
    std::uint32_t fragment_size = 0;  // ConnectionOptions::fragment_size, clamped (0: never split)
  };
  detail::Extension* extension() const noexcept { return rare_ ? rare_->extension.get() : nullptr; }
  std::size_t fragment_size() const noexcept { return rare_ ? rare_->fragment_size : 0; }
  Rare& rare();  // allocated when first needed

  // Laid out for size (an idle connection's footprint) with the small fields together, and so
  // that a broadcast touches little of each connection: the send path's state (the flags,
  // rare_, the output queue and the output limits) is in the first 56 bytes, one or two cache
  // lines.
  const Backend* backend_;
  Role role_;
  bool auto_pong_;
  std::uint8_t extension_rsv_;  // RSV bits a negotiated extension defines
  bool sending_message_ = false;  // a fragmented message is being sent
  bool sending_transformed_ = false;  // the extension transforms the message being sent
  MessageKind send_kind_ = MessageKind::binary;
  Utf8State send_utf8_{};
  bool close_sent_ = false;
  bool close_received_ = false;
  bool traffic_ = false;  // receive() saw bytes since the last on_time()
  Error error_ = Error::ok;
  std::uint32_t dropped_messages_ = 0;  // saturates
  std::unique_ptr<Rare> rare_;
  mutable detail::OutputQueue output_;  // mutable for pending_output()'s join
  detail::StoredLimits limits_;

  detail::FrameReader reader_;
  detail::MessageAssembler assembler_;
};

}  // namespace wsframe
