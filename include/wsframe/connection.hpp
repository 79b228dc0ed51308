// wsframe — the sans-I/O WebSocket connection (RFC 6455 sections 5-7).
//
// The embedding server owns the socket. Input is pull-style:
//
//   std::span<std::byte> got = read_some(fd);     // bytes just read from the socket
//   if (got.empty()) handle(conn.receive_eof());  // the end of the stream: 1006 if early
//   conn.receive(got);                            // lend them to the connection
//   while (wsframe::Event ev = conn.next_event()) // then drain every event they hold
//     handle(ev);                                 // a switch on ev.type
//   write(fd, conn.pending_output()); conn.consume_output(bytes_written);
//   if (conn.should_close_transport()) close(fd);
//
// Why pull rather than a callback: no template or virtual call in the API, no re-entrancy
// (a handler may call send_* between events freely), and the event loop stays in the caller's
// code. Zero copies: payloads are unmasked in place in the caller's buffer, so the buffer must
// stay valid and untouched until next_event() has returned an event of type none. A
// single-frame message that lies entirely in one receive() buffer is handed out as a span into
// that buffer. A message that is fragmented, or whose frame straddles two receive() calls, is
// reassembled in an internal buffer (unmasked straight into it, in one pass) that grows only as
// data actually arrives and is bounded by Limits::max_message_size (its capacity is kept up to
// Limits::retained_buffer_bytes, so steady state allocates nothing). With
// ConnectionOptions::deliver_fragments the connection never reassembles: every piece of data is
// delivered as it arrives, as a fragment event.
//
// A compressed message (permessage-deflate, deflate.hpp) is never delivered in place: it is
// inflated into the internal buffer (with deliver_fragments, into fragments of at most 16 KiB).
//
// Every span in an event stays valid until the next call to receive() or next_event().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "wsframe/deflate.hpp"
#include "wsframe/error.hpp"
#include "wsframe/frame.hpp"
#include "wsframe/kernels.hpp"

namespace wsframe {

struct Backend;

enum class Role : std::uint8_t { server, client };

// What a send does when the output would exceed Limits::max_output_bytes: the peer reads more
// slowly than it is sent to, or not at all. Memory stays bounded by max_output_bytes (plus one
// Close frame) in every case.
enum class OutputFullPolicy : std::uint8_t {
  refuse,  // the send returns Error::output_full and queues nothing; the caller decides
  drop,    // the message is dropped: the send returns Error::message_dropped (dropped_messages())
  close,   // the connection fails: a Close with 1008 (policy violation) is queued, the send
           // returns Error::output_stalled, and should_close_transport() is true at once
};

// Memory bounds; nothing is ever sized by a length the peer declared.
struct Limits {
  std::uint64_t max_frame_size = 16u << 20;    // payload bytes of one frame (1009 beyond)
  std::uint64_t max_message_size = 16u << 20;  // payload bytes of one message, all fragments (1009)
  std::size_t max_output_bytes = 16u << 20;    // queued, not yet consumed output (Error::output_full)
  // Queued output above this is backpressure: sends still queue, and send(prepared) says so.
  std::size_t high_water_bytes = 1u << 20;
  OutputFullPolicy on_output_full = OutputFullPolicy::refuse;
  // Buffer capacity a connection keeps once a buffer is empty again; beyond it the memory is
  // returned, so one large message does not pin its size for the connection's lifetime (the
  // reassembly buffer on the next receive() with no frame in progress, the output buffer when
  // it is drained). 0 keeps nothing, not even the output's run ring once it is drained: an idle
  // connection then holds no heap at all, at the price of allocating again for each message;
  // SIZE_MAX keeps everything. Connection::release_memory() returns what is kept, for a server
  // that lets busy connections reuse their buffers and idle ones hold none.
  std::size_t retained_buffer_bytes = 64u << 10;
  // max_output_bytes, high_water_bytes and retained_buffer_bytes are kept in 32 bits per
  // connection: values above 4 GiB - 1 act as 4 GiB - 1.
};

// The caller's clock. The library never reads a clock, starts a thread or sets a timer: the
// embedder passes the time to Connection::on_time and asks next_deadline() when to call next.
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// Timers (Connection::on_time); each is off at 0, and all are off by default. Milliseconds,
// stored in 32 bits (longer values are clamped to about 49 days). "Traffic" below is any byte
// received: receive() only notes that bytes came, and the next on_time(now) takes `now` as the
// moment they came, so a quiet period is measured from the on_time call after the last
// receive() (call on_time after each read for exact intervals, or only at next_deadline(): then
// a period may last up to one more interval). Each expiry fails the connection: on_time returns
// an error event with the Error below and its close code, state() is closed, error() says why,
// and should_close_transport() is true once the output (if any) is consumed.
// A server connection with any timeout set allocates 72 bytes (64-bit) for the timers' state.
struct Timeouts {
  // Keepalive (RFC 6455 5.5.2): after this long without traffic, on_time queues an empty Ping.
  // Without a pong timeout, it pings again each interval while the silence lasts.
  std::chrono::milliseconds ping_interval{0};
  // A keepalive Ping unanswered by any traffic (its Pong, RFC 6455 5.5.3, or anything else)
  // for this long: Error::pong_timeout, close code 1006, nothing sent (the peer is presumed
  // gone, so the transport should be dropped at once).
  std::chrono::milliseconds pong_timeout{0};
  // No traffic for this long (pongs count): Error::idle_timeout, a Close 1001 (going away) is
  // queued, then the transport should be closed.
  std::chrono::milliseconds idle_timeout{0};
  // Our Close was queued (by close(), an echo, or a failure) and the close did not finish in
  // this long: Error::close_timeout (1006), and should_close_transport() is true at once, even
  // with output pending. Finished means: for a server, both Close frames exchanged and the
  // output consumed; for a client, the server closed TCP (RFC 6455 7.1.1: the server closes
  // first, the client waits, but only so long), which the embedder sees and the connection does
  // not: a client that still exists when the timeout passes gets it.
  std::chrono::milliseconds close_timeout{0};
};

struct ConnectionOptions {
  // Deliver data as fragment events as it arrives instead of whole messages.
  bool deliver_fragments = false;
  // Answer every valid ping with a pong carrying its payload (skipped, not queued, when the
  // output is full: RFC 6455 5.5.3 allows answering only the latest ping).
  bool auto_pong = true;
  // RSV bits defined by a negotiated extension (e.g. rsv1 for permessage-deflate). Frames of a
  // data message may then carry them; the event reports them in Event::rsv and the UTF-8 check
  // of a text message whose first frame has RSV1 is left to the extension (it sees compressed
  // bytes). Control frames never may (RFC 7692 6.1).
  std::uint8_t extension_rsv = 0;
  // permessage-deflate as agreed in the handshake (ServerHandshake::deflate() or
  // ClientHandshake::deflate()); nullopt: no compression. It owns RSV1 (see deflate.hpp).
  std::optional<DeflateParameters> deflate = std::nullopt;
  CompressionOptions compression = {};  // used when deflate is set
  // Client role: 0 seeds the masking-key generator (ChaCha20) from getrandom(); any other
  // value gives a deterministic key sequence, for tests only.
  std::uint64_t mask_seed = 0;
  // The kernels to use; nullptr means active() at construction.
  const Backend* backend = nullptr;
  // Automatic fragmentation: a data frame of more than this many payload bytes is sent as
  // frames of at most this many (RFC 6455 5.4), the first with the opcode (and the extension's
  // RSV bits), the others continuations, FIN on the last. It applies to every data send: a
  // whole message, each begin/continue/finish_message piece (which then becomes several frames)
  // and a prepared message (which then is copied and framed for this connection, not shared;
  // a shared compressed frame is split as its compressed bytes, not compressed again).
  // With permessage-deflate the compressed bytes are split. UTF-8 is still checked once, over
  // what the caller passed. 0: never split.
  std::size_t fragment_size = 0;
  Timeouts timeouts = {};
};

enum class EventType : std::uint8_t {
  none,      // no complete event in the bytes received so far: receive() more
  message,   // a whole text or binary message
  fragment,  // a piece of a message (deliver_fragments only); first/last mark its ends
  ping,      // payload: the ping's application data (a pong is already queued, see auto_pong)
  pong,
  close,     // the peer's Close: close_code (1005 when it had none) and payload = reason
  error,     // the peer broke the protocol: error and close_code (sent in our Close frame)
};

enum class MessageKind : std::uint8_t { text, binary };

namespace detail {
struct PreparedBlock;  // src/prepared_block.hpp
}

// A message framed once for many connections (fan-out). Building it validates the UTF-8 of a
// text once and writes its frame once: a server sends frames unmasked, so every uncompressed
// server connection can queue the same wire bytes by reference (Connection::send), with no
// copy and no allocation per recipient. Copies share the message by an atomic reference count;
// destroying the last PreparedMessage while connections still have it queued is safe (they hold
// references until the bytes are consumed). Immutable once built, so it may be sent from
// several threads at once.
//
// Compressed variants (permessage-deflate, deflate.hpp): a server connection whose compressor
// has no context takeover (server_no_context_takeover, RFC 7692 7.1.1.1) starts every message
// from an empty window, so its compressed frame depends only on its compressor's settings
// (window bits, CompressionOptions::level and mem_level). The first such connection to send
// the message compresses it and publishes the frame in the message; every connection with the
// same settings then queues a reference to it, as uncompressed ones do. Up to
// max_compressed_variants distinct settings per message get one; a connection with yet another
// compresses the message itself (the same bytes, copied). Publishing is lock-free (one atomic
// slot per variant, set once); sending without compression never looks at the variants.
// Connections with context takeover always compress through their own window, as send_text
// would: their compressed bytes depend on what each sent before, and bytes that went through a
// window are never sent as if they had not (the peer's window would fall out of step).
//
//   const wsframe::PreparedMessage m(wsframe::MessageKind::text, bytes);  // m.error() says why not
//   for (wsframe::Connection* subscriber : {&conn, &connection})
//     if (subscriber->send(m).status != wsframe::SendStatus::ok) { /* a slow reader */ }
class PreparedMessage {
 public:
  // Distinct compressor settings a message keeps a shared compressed frame for.
  static constexpr std::size_t max_compressed_variants = 4;

  PreparedMessage() noexcept = default;  // holds no message: error() is Error::not_prepared
  // Error::payload_invalid_utf8 (a text that is not UTF-8) or Error::out_of_memory leave it
  // empty with that error().
  PreparedMessage(MessageKind kind, std::span<const std::byte> payload) noexcept;
  PreparedMessage(const PreparedMessage& other) noexcept;
  PreparedMessage(PreparedMessage&& other) noexcept;
  PreparedMessage& operator=(const PreparedMessage& other) noexcept;
  PreparedMessage& operator=(PreparedMessage&& other) noexcept;
  ~PreparedMessage();

  Error error() const noexcept { return error_; }
  MessageKind kind() const noexcept;
  std::span<const std::byte> payload() const noexcept;
  // The whole frame as a server sends it uncompressed: header and payload (empty when error()).
  std::span<const std::byte> wire() const noexcept;

 private:
  friend class Connection;
  detail::PreparedBlock* block_ = nullptr;
  Error error_ = Error::not_prepared;
};

// What a send did.
enum class SendStatus : std::uint8_t {
  ok,            // queued
  backpressure,  // queued, and the output is now above Limits::high_water_bytes: slow down
  refused,       // not queued: SendResult::error says why (Error::output_full over
                 // max_output_bytes, message_dropped, output_stalled, connection_closed, ...)
};

struct SendResult {
  SendStatus status = SendStatus::ok;
  Error error = Error::ok;  // Error::ok unless refused
  bool queued() const noexcept { return status != SendStatus::refused; }
};

// Selects the borrowing sends: conn.send_binary(data, wsframe::borrowed) queues a reference to
// `data` rather than a copy (see Connection::send_binary).
struct Borrowed {
  explicit Borrowed() = default;
};
inline constexpr Borrowed borrowed{};

// One contiguous run of pending output, shaped like POSIX struct iovec (base, length) so an
// array of them converts for writev / sendmsg / io_uring (see Connection::output_spans).
struct OutputSpan {
  const std::byte* data;
  std::size_t size;
};

struct Event {
  EventType type = EventType::none;
  MessageKind kind = MessageKind::binary;  // message, fragment
  bool first = false;                      // fragment: the message's first bytes
  bool last = false;                       // fragment: the message's last bytes
  std::uint8_t rsv = 0;                    // message, fragment: RSV bits of the first frame
  std::uint16_t close_code = 0;            // close, error
  Error error = Error::ok;                 // error
  std::span<const std::byte> payload;      // message, fragment, ping, pong; close: the reason

  explicit operator bool() const noexcept { return type != EventType::none; }
  std::string_view text() const noexcept {
    return {reinterpret_cast<const char*>(payload.data()), payload.size()};
  }
};

enum class ConnectionState : std::uint8_t {
  open,     // data flows both ways
  closing,  // we sent Close and wait for the peer's; data received meanwhile is still delivered
  closed,   // both Close frames exchanged, or the connection failed: nothing more in or out
};

class Connection {
 public:
  explicit Connection(Role role, Limits limits = {}, ConnectionOptions options = {});
  ~Connection();
  // A moved-from connection is closed: state() closed, error() Error::connection_closed, sends
  // refused with that error (as on any closed connection), no events, no output. It may be
  // destroyed or assigned to.
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // ---- input ----
  // Lends `bytes` (any amount, any split of the stream) to the connection; next_event() then
  // consumes them. Bytes still undrained from a previous receive() are dropped: drain first.
  void receive(std::span<std::byte> bytes) noexcept;
  // The next event from the lent bytes; type none once they are all consumed (any partial
  // header or payload is then held internally, bounded by the limits).
  Event next_event() noexcept;
  // The transport reached the end of its input (read() returned 0, or it failed). Before the
  // peer's Close frame that is an abnormal closure (RFC 6455 7.1.5): an error event with
  // Error::abnormal_closure and close code 1006, and the connection is closed (nothing is sent).
  // After the peer's Close, or once the connection failed, it returns an event of type none.
  // Bytes still undrained from receive() are dropped: drain first.
  Event receive_eof() noexcept;

  // ---- output ---- (each returns Error::ok, or an error and queues nothing)
  Error send_text(std::string_view text) noexcept;
  Error send_binary(std::span<const std::byte> data) noexcept;
  // Borrowing sends (zero copy): the same message, checks, results (above_high_water() tells
  // backpressure) and wire bytes as send_text / send_binary, but a server queues only the
  // frame's header and a reference to the caller's bytes (an output run pointing into them;
  // with fragment_size, one per frame, into their slices), which count in buffered_amount() and
  // max_output_bytes like copied ones. Where the wire bytes are not the caller's, the send
  // copies as send_text / send_binary do: a client masks (RFC 6455 5.3), and permessage-deflate
  // compresses into the connection's own buffer (a message it leaves uncompressed, under
  // CompressionOptions::threshold, is borrowed). A borrowed frame takes up to two output runs, the
  // header's and the payload's (64 bytes of bookkeeping on a 64-bit target, not counted in
  // max_output_bytes): lending is for payloads larger than that, small ones cost less copied.
  //
  // The contract: the bytes must stay valid and unchanged until the output has been consumed
  // past them (consume_output), or until own_output() returns Error::ok, whichever is first.
  // pending_output() copies them too (it joins every run). A text is checked for UTF-8 when it
  // is sent; changing it afterwards would put other bytes on the wire. An event's payload may
  // be lent back (an echo) only when it lies in the buffer given to receive(), and only until
  // that buffer is reused: a reassembled or inflated payload is the connection's own and
  // changes at the next next_event() or receive() (see above): send that one copied.
  //
  //   (void)conn.send_binary(bytes, wsframe::borrowed);  // queued: a header and a reference
  //   // writev() the output_spans(), consume_output(written); a partial write leaves part of
  //   // `bytes` queued, so before that buffer is reused (the next read into it) or freed:
  //   if (conn.own_output() != wsframe::Error::ok) { /* out of memory: keep the buffer or drop the peer */ }
  Error send_text(std::string_view text, Borrowed) noexcept;
  Error send_binary(std::span<const std::byte> data, Borrowed) noexcept;
  // Copies every still-borrowed payload byte into the connection's own buffers: afterwards the
  // caller may reuse or free what it lent. The output runs holding them move (output_spans()
  // gives the new addresses); the pending bytes are the same. Error::out_of_memory leaves
  // everything as it was, still borrowed. Nothing borrowed and pending: returns at once.
  Error own_output() noexcept;
  // A message sent as several frames; control frames may be sent in between.
  Error begin_message(MessageKind kind, std::span<const std::byte> data) noexcept;
  Error continue_message(std::span<const std::byte> data) noexcept;
  Error finish_message(std::span<const std::byte> data) noexcept;
  Error send_ping(std::span<const std::byte> data = {}) noexcept;  // <= 125 bytes
  Error send_pong(std::span<const std::byte> data = {}) noexcept;  // <= 125 bytes
  // A prepared message, whole. A server without compression queues a reference to its wire
  // bytes (no copy). A client must mask (RFC 6455 5.3), so it copies and masks the payload as
  // send_text / send_binary would (the UTF-8 check is not repeated). With permessage-deflate, a
  // server without context takeover queues a reference to the message's compressed frame for
  // its settings (made by the first connection that needs it: see PreparedMessage), and
  // otherwise the payload goes through this connection's own compressor, as send_text would
  // send it: shared bytes never bypass a compression window, so the peer's stays in sync (RFC
  // 7692 7.2.1). A frame longer than ConnectionOptions::fragment_size (after compression) is
  // copied into this connection's frames instead of shared. The wire bytes are the same as
  // send_text / send_binary with the same payload.
  SendResult send(const PreparedMessage& message) noexcept;
  // Starts the close handshake. code 1005 sends a Close without a status code; otherwise the
  // code must be one an endpoint may send (1000-1003, 1007-1014, 3000-4999), reason <= 123 bytes
  // of UTF-8.
  Error close(std::uint16_t code = 1000, std::string_view reason = {}) noexcept;

  // Output comes in two forms; consume_output(n) after writing n bytes of either.
  //
  // pending_output(): every pending byte in one span, oldest first (the simple default). When
  // output is held in several runs (prepared messages, or frames queued while earlier ones were
  // unconsumed) it first joins them into one buffer of this connection's, copying; that
  // invalidates spans output_spans() gave. The span stays valid until the next call to
  // pending_output(), consume_output() or a send.
  //
  // output_spans(out): the pending runs, oldest first, without copying: up to out.size() of them
  // are written to `out` and their number returned (fewer than output_span_count() when out is
  // short). Each run stays valid, at the same address, until consumed, however much is queued
  // after it (as long as pending_output() or own_output() is not called); a later call may show
  // the last run longer, when frames were written right after its end. Runs are this
  // connection's header and control bytes, the wire bytes of queued prepared messages, or the
  // caller's bytes of borrowing sends.
  //
  //   std::array<wsframe::OutputSpan, 16> runs;
  //   const std::size_t count = conn.output_spans(runs);
  //   written = count != 0 ? runs[0].size : 0;  // writev(fd, (const iovec*)runs.data(), count)
  //   conn.consume_output(written);
  std::span<const std::byte> pending_output() const noexcept;
  std::size_t output_spans(std::span<OutputSpan> out) const noexcept;
  std::size_t output_span_count() const noexcept;
  void consume_output(std::size_t n) noexcept;
  // Output bytes queued and not yet consumed.
  std::size_t buffered_amount() const noexcept;
  // Returns the buffers kept for reuse (Limits::retained_buffer_bytes) that hold nothing in
  // progress: the drained output's memory, and the reassembly buffer between messages. What a
  // server calls for a connection that went quiet, so that busy connections allocate nothing
  // per message and idle ones cost their object alone. As receive() does, it ends the last
  // message event's payload.
  void release_memory() noexcept;
  // buffered_amount() is above Limits::high_water_bytes (what send(prepared) reports as
  // SendStatus::backpressure; the other sends return Error::ok then and leave it to this).
  bool above_high_water() const noexcept;
  // Messages dropped under OutputFullPolicy::drop (counted up to 2^32 - 1).
  std::uint64_t dropped_messages() const noexcept;

  // ---- timers ---- (ConnectionOptions::timeouts; the caller's clock, see Timeouts)
  // The time to call on_time next; nullopt when no timer runs (all off, or the connection is
  // closed). TimePoint::min() asks for a call now: the timers start at the first on_time(), and
  // a Close queued since the last call starts the close timeout at the next one.
  std::optional<TimePoint> next_deadline() const noexcept;
  // Tells the connection the time: it notes the traffic seen since the last call, queues a
  // keepalive Ping when one is due (write the output), and reports an expiry as an error event
  // (type none otherwise). Calling it early or often is harmless.
  //
  //   const wsframe::TimePoint now = wsframe::Clock::now();     // the embedder's clock read
  //   if (auto due = conn.next_deadline(); due && *due <= now)
  //     if (wsframe::Event ev = conn.on_time(now)) handle(ev);  // a timeout: close the socket
  //   // then sleep in epoll_wait / io_uring until the earliest deadline of all connections
  Event on_time(TimePoint now) noexcept;

  // ---- state ----
  ConnectionState state() const noexcept;
  Error error() const noexcept;  // why it failed, or Error::ok
  // True when the embedding server should now close the TCP connection: the close handshake is
  // complete (or the connection failed) and all output was consumed. RFC 6455 7.1.1: the server
  // closes first, so for a client after a clean close handshake this stays false (wait for the
  // server to close, bounded by Timeouts::close_timeout); a failed client connection may close.
  // True at once, output pending or not, after Error::output_stalled or Error::close_timeout.
  bool should_close_transport() const noexcept;
  // True while a frame (its header or payload) or a fragmented message is partly received: the
  // peer owes the rest. The connection sets no deadline; an embedder bounds how long this may
  // last, as memory (a reassembled message up to max_message_size) may be held meanwhile.
  bool receiving() const noexcept;
  Role role() const noexcept;

 private:
  class Impl;  // src/connection_impl.hpp
  Impl& impl() noexcept;
  const Impl& impl() const noexcept;

  // The state lives in place, with no allocation or indirection on the hot path; its layout
  // is private to the library. Exactly its size: an idle server connection costs this object
  // and no heap (with Limits::retained_buffer_bytes 0, or after release_memory()), which is
  // what a server with many idle connections pays for each.
  static constexpr std::size_t storage_size = 200;
  alignas(void*) std::byte storage_[storage_size];
};

}  // namespace wsframe
