// wsframe-echo: a WebSocket echo server on the sans-I/O API (ServerHandshake + Connection), for
// interop tests, conformance suites and load tests. Linux: epoll, non-blocking sockets, one event
// loop per thread (--threads N share the port through SO_REUSEPORT).
//
//   wsframe-echo [--host 127.0.0.1] [--port 0] [--threads 1] [--max-message BYTES]
//                [--max-frame BYTES] [--max-handshake BYTES] [--high-water BYTES]
//                [--idle-timeout SECONDS] [--fragments] [--pubsub [--max-output BYTES]
//                [--on-output-full drop|close]] [--quiet] [--deflate [deflate options]]
//
// --deflate accepts permessage-deflate offers (RFC 7692); without it they are declined and RSV1
// is a protocol error. The server's wishes for the agreement: --deflate-server-no-context-takeover,
// --deflate-client-no-context-takeover, --deflate-server-max-window-bits N,
// --deflate-client-max-window-bits N (8..15); the compressor's tuning: --deflate-level N (0..9),
// --deflate-mem-level N (1..9), --deflate-threshold BYTES (whole messages below it go
// uncompressed). --max-message bounds a message's inflated bytes as well as its bytes on the
// wire, so a decompression bomb ends in a 1009 close. Both echo modes work compressed: data is
// inflated as it arrives, and echoed compressed (fragment by fragment with --fragments).
//
// Prints `listening on HOST:PORT` once every thread is ready. Echoes text as text and binary as
// binary; the Connection answers pings and echoes the Close; the server then closes TCP first
// (RFC 6455 7.1.1). Bad handshakes get the HTTP status ServerHandshake chose. Memory per
// connection is bounded: a client that does not read its echoes stops being read from once its
// unsent output exceeds --high-water (TCP then pushes back on it); reading resumes when the
// output has drained. By default each message is echoed whole, as one frame (reassembled, up to
// --max-message, when it came in several frames or reads; --whole-messages says so explicitly);
// --fragments echoes data as it arrives instead, fragment by fragment, straight from the read
// buffer (no reassembly: a connection's memory does not grow with its largest message).
// SIGINT/SIGTERM stop it cleanly (exit 0).
//
// --pubsub (one thread): every message a client sends goes to every open client, the sender
// included, in the order received, framed once for all of them (a PreparedMessage). A subscriber
// whose unsent output would pass --max-output (4 MiB) has the message dropped, or is failed with
// a Close 1008 (--on-output-full, default close); one above --high-water is not read from.
//
// Reads go to one 512 KiB buffer per thread and are delivered in place; output is written with
// send (one run) or sendmsg straight from the Connection's runs (frames and prepared messages, no
// joining copy). Echoes of up to 16 KiB are written once all the reads of a wakeup are done
// (as Redis writes its replies before it waits again): the clients find them together, and on
// loopback sleep about ten times less often per message. A busy connection reuses its buffers
// (Limits::retained_buffer_bytes), so an echo allocates nothing; one quiet for a sweep's tick (at
// most 100 ms) returns them, so an idle one holds no buffer.
//
// Every phase has a deadline, T = --idle-timeout (60 s; fractions allowed): the request head
// must arrive within min(T, 10 s); an open connection silent for T gets a ping, and if it then
// stays silent for another T it is failed with a Close 1001; a frame or a fragmented message
// must be complete T after its first byte, however slowly its bytes trickle in (memory held for
// it is bounded by --max-message, time by this), else the connection is failed with 1001 too.
// After our last bytes (a Close, a rejection) the peer has min(T, 5 s) to close before the TCP
// connection is dropped. Memory a connection held goes back to the system once it is closed
// or its message echoed (malloc_trim).
//
// At the file descriptor limit (EMFILE, ENFILE) new connections wait in the listen backlog: the
// listening socket is not watched for 100 ms (or until a connection ends), instead of spinning
// on a level-triggered accept that keeps failing, and the failure is reported at most every 10 s.
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cli.hpp"
#include "wsframe/wsframe.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  unsigned threads = 1;
  std::size_t max_message = 16u << 20;
  std::size_t max_frame = 16u << 20;
  std::size_t max_handshake = 8 * 1024;
  std::size_t high_water = 256 * 1024;  // unsent output above which we stop reading a client
  std::chrono::milliseconds idle_timeout{60'000};
  bool fragments = false;  // echo data as it arrives, fragment by fragment
  bool pubsub = false;     // every message to every client
  std::size_t max_output = 4u << 20;  // --pubsub: a subscriber's unsent output
  wsframe::OutputFullPolicy on_output_full = wsframe::OutputFullPolicy::close;  // --pubsub
  bool quiet = false;
  bool deflate = false;                         // accept permessage-deflate offers
  wsframe::DeflateParameters deflate_wishes;    // ServerOptions::deflate
  wsframe::CompressionOptions compression;      // ConnectionOptions::compression
};

// One read buffer per thread, shared by its connections: a read takes whatever a socket holds
// (a 16 KiB frame normally arrives whole and is delivered in place); only a frame cut by the
// end of a read is kept per connection, by its Connection, until the rest arrives.
constexpr std::size_t read_buffer_size = 512 * 1024;
constexpr std::size_t max_write_runs = 64;  // output runs per sendmsg (IOV_MAX is 1024)
// Output up to this size waits for the end of the wakeup (write_due_output()); more is written
// at once, so what one wakeup holds back stays below 256 events x 16 KiB.
constexpr std::size_t max_deferred_write = 16 * 1024;
constexpr auto max_handshake_timeout = std::chrono::milliseconds(10'000);
constexpr auto max_closing_timeout = std::chrono::milliseconds(5'000);  // for the peer's Close or FIN after ours
constexpr auto accept_pause = std::chrono::milliseconds(100);            // at the fd limit
constexpr auto accept_note_interval = std::chrono::seconds(10);
// A reassembled message this large leaves a block in the heap when its buffer shrinks (sweep()).
constexpr std::size_t big_message = 1u << 20;
// DEFLATE's densest code: a 258-byte match in 2 bits, so a read inflates to at most this many
// times its size (RFC 1951 3.2.5: length code 285 and distance code 0 carry no extra bits).
constexpr std::size_t max_inflation_ratio = 1032;

void note(const Config& config, const char* fmt, auto... args) {
  if (!config.quiet) std::fprintf(stderr, fmt, args...);
}

// Milliseconds on a worker's clock, 32 bits to keep idle connections small: times are only
// compared by their difference, which stays far below the 49 days after which they wrap.
using Millis = std::uint32_t;
inline bool reached(Millis now, Millis when) { return static_cast<std::int32_t>(now - when) >= 0; }

// One TCP connection: first the HTTP upgrade, then WebSocket frames, then a lingering close.
// Idle, it holds nothing but this (the Connection's buffers are released once empty), so it
// keeps to what every connection needs: the handshake's state is in Worker's table meanwhile.
struct Client {
  enum class Phase : std::uint8_t {
    handshake,  // reading the upgrade request
    open,       // WebSocket frames both ways
    lingering,  // our side is shut down (after a rejection or the close handshake): wait for EOF
  };

  Client() : connection(wsframe::Role::server) {}  // a free slot (ClientTable)
  Client(int fd, wsframe::Connection&& unused) : connection(std::move(unused)), fd(fd) {}

  // Valid in the open phase (replaced by the agreed one when the handshake succeeds).
  wsframe::Connection connection;
  int fd = -1;
  // One time, whose meaning follows the state (sweep() checks it). handshake, lingering, or
  // timed_out (our Close being written): when to drop it. open: while receiving, since when a
  // frame or message has been arriving; once pinged, when the idle ping was sent; otherwise when
  // input last came (or output drained, for a client we stopped reading from). Receiving and
  // pinged exclude each other: input ends the wait for a pong, and no ping goes out mid-frame.
  Millis when = 0;
  Phase phase = Phase::handshake;
  bool reading : 1 = true;    // EPOLLIN wanted (false while backpressure holds)
  bool writing : 1 = false;   // EPOLLOUT wanted
  bool pinged : 1 = false;
  bool receiving : 1 = false;
  bool timed_out : 1 = false;  // we closed it (1001) for a deadline: `when` is for writing the Close
  bool upgrading : 1 = false;  // it has an Upgrade (Worker::upgrades_)
  bool holds_buffers : 1 = false;  // input came or output went since the Connection last released its memory
  bool write_due : 1 = false;      // echoes queued in this wakeup, written after its last event
};

// What an idle connection costs beyond its Connection (and the kernel's socket).
static_assert(sizeof(Client) <= sizeof(wsframe::Connection) + 16);

// A handshake in progress: until its answer (which leads the output) is written, the upgrade
// request and the answer.
struct Upgrade {
  explicit Upgrade(const wsframe::ServerOptions& options) : handshake(options) {}
  wsframe::ServerHandshake handshake;
  std::size_t answer_written = 0;
};

// The clients by file descriptor, in blocks of 64 allocated once descriptors reach them: a
// connection costs its Client and nothing more (no allocation or pointer of its own). A free slot
// has fd -1 and an unused Connection, which holds no memory either.
class ClientTable {
 public:
  Client* find(int fd) {
    const auto i = static_cast<std::size_t>(fd);
    if (i / block_size >= blocks_.size() || !blocks_[i / block_size]) return nullptr;
    Client& c = blocks_[i / block_size][i % block_size];
    return c.fd == fd ? &c : nullptr;
  }
  Client& add(int fd, wsframe::Connection&& connection) {
    const auto i = static_cast<std::size_t>(fd);
    if (blocks_.size() <= i / block_size) blocks_.resize(i / block_size + 1);
    std::unique_ptr<Client[]>& block = blocks_[i / block_size];
    if (!block) block = std::make_unique<Client[]>(block_size);
    return block[i % block_size] = Client(fd, std::move(connection));
  }
  void remove(Client& c) { c = Client(); }  // frees what its Connection held
  // f(client) for every client; f may remove it.
  void for_each(auto&& f) {
    for (const std::unique_ptr<Client[]>& block : blocks_)
      for (std::size_t j = 0; block && j < block_size; ++j)
        if (block[j].fd >= 0) f(block[j]);
  }

 private:
  static constexpr std::size_t block_size = 64;
  std::vector<std::unique_ptr<Client[]>> blocks_;
};

struct Totals {
  std::uint64_t connections = 0, rejected = 0, messages = 0, failed = 0;
};

class Worker {
 public:
  Worker(const Config& config, int listen_fd, int stop_fd, int signal_fd)
      : config_(config), listen_fd_(listen_fd), stop_fd_(stop_fd), signal_fd_(signal_fd),
        epoll_fd_(epoll_create1(EPOLL_CLOEXEC)), buffer_(new std::byte[read_buffer_size]), start_(Clock::now()),
        now_(start_) {
    limits_.max_message_size = config.max_message;
    limits_.max_frame_size = config.max_frame;
    limits_.high_water_bytes = config.high_water;
    if (config.pubsub) {
      // A subscriber that reads more slowly than messages are published gets its messages
      // dropped, or is failed with 1008, once this much is unsent.
      limits_.max_output_bytes = config.max_output;
      limits_.on_output_full = config.on_output_full;
    } else {
      // Output never exceeds high water + one read's echoes + one reassembled message (we stop
      // reading above high water), so this bound is never hit by an echo. Compressed, one read's
      // echoes are its inflated bytes recompressed: at most the inflated size plus the framing
      // (zlib falls back to stored blocks), and the compressor's bound is checked before each frame.
      limits_.max_output_bytes = config.high_water + read_buffer_size + config.max_message + 4096;
      if (config.deflate) limits_.max_output_bytes += max_inflation_ratio * read_buffer_size + 64 * 1024;
    }
    connection_options_.deliver_fragments = config.fragments;
    connection_options_.compression = config.compression;
    handshake_options_.limits.max_head_bytes = config.max_handshake;
    if (config.deflate) handshake_options_.deflate = config.deflate_wishes;
    idle_ = static_cast<Millis>(config.idle_timeout.count());
    closing_timeout_ = static_cast<Millis>(std::min(config.idle_timeout, max_closing_timeout).count());
    tick_ = std::clamp(std::chrono::duration_cast<Clock::duration>(config.idle_timeout / 4),
                       Clock::duration(std::chrono::milliseconds(10)), Clock::duration(std::chrono::milliseconds(100)));
    watch(listen_fd_, EPOLLIN);
    watch(stop_fd_, EPOLLIN);
    if (signal_fd_ >= 0) watch(signal_fd_, EPOLLIN);
  }
  ~Worker() {
    clients_.for_each([](Client& c) { ::close(c.fd); });
    ::close(epoll_fd_);
  }

  Totals run() {
    epoll_event events[256];
    auto next_sweep = Clock::now() + tick_;
    for (;;) {
      const int n = epoll_wait(epoll_fd_, events, 256, wait_ms(next_sweep));
      now_ = Clock::now();
      if (n < 0 && errno != EINTR) {
        std::perror("epoll_wait");
        break;
      }
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == stop_fd_) return totals_;
        if (fd == signal_fd_) {
          const std::uint64_t one = 1;  // wake every worker through the shared eventfd
          if (::write(stop_fd_, &one, sizeof one) < 0) std::perror("write(eventfd)");
          return totals_;
        }
        if (fd == listen_fd_) {
          accept_all();
          continue;
        }
        Client* c = find(fd);
        if (c == nullptr) continue;  // closed earlier in this batch
        if (events[i].events & (EPOLLERR | EPOLLHUP) && !(events[i].events & EPOLLIN)) {
          drop(*c);
          continue;
        }
        if (events[i].events & EPOLLOUT) {
          if (!flush(*c)) continue;
        }
        if (events[i].events & EPOLLIN) on_readable(*c);
      }
      write_due_output();
      if (accepts_paused_ && now_ >= accepts_resume_) resume_accepts();
      if (now_ >= next_sweep) {
        sweep(now_ms());
        next_sweep = now_ + tick_;
      }
    }
    return totals_;
  }

 private:
  Millis millis(Clock::time_point t) const {
    return static_cast<Millis>(std::chrono::duration_cast<std::chrono::milliseconds>(t - start_).count());
  }
  // The time of this wakeup: one clock read stamps all the events epoll_wait returned together.
  Millis now_ms() const { return millis(now_); }

  void watch(int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }

  // Interest follows the state: read unless backpressure holds, write while output waits.
  void update_interest(Client& c) { set_interest(c.fd, (c.reading ? EPOLLIN : 0u) | (c.writing ? EPOLLOUT : 0u)); }

  // Milliseconds until the next sweep or the end of an accept pause, rounded up.
  int wait_ms(Clock::time_point next_sweep) const {
    const auto until = accepts_paused_ ? std::min(next_sweep, accepts_resume_) : next_sweep;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
    return static_cast<int>(std::clamp<decltype(ms)>(ms, 0, 1000));
  }

  Client* find(int fd) {
    return clients_.find(fd);
  }

  wsframe::Connection new_connection(std::optional<wsframe::DeflateParameters> deflate = std::nullopt) const {
    wsframe::ConnectionOptions options = connection_options_;
    options.deflate = deflate;
    return wsframe::Connection(wsframe::Role::server, limits_, options);
  }

  void accept_all() {
    for (;;) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        // Out of descriptors or memory: the listening socket stays readable, so pause it.
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) pause_accepts(errno);
        return;  // EAGAIN: all taken (another thread may have won the race)
      }
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      Client& c = clients_.add(fd, new_connection());
      upgrades_.try_emplace(fd, handshake_options_);
      c.upgrading = true;
      c.when = now_ms() + std::min(idle_, static_cast<Millis>(max_handshake_timeout.count()));
      watch(fd, EPOLLIN);
      ++totals_.connections;
    }
  }

  // Stops watching the listening socket for accept_pause; a connection ending resumes it sooner.
  void pause_accepts(int error) {
    const auto now = Clock::now();
    ++accept_failures_;
    if (now >= next_accept_note_) {
      note(config_, "wsframe-echo: accept: %s; new connections wait (%llu failures since the last report)\n",
           std::strerror(error), static_cast<unsigned long long>(accept_failures_));
      accept_failures_ = 0;
      next_accept_note_ = now + accept_note_interval;
    }
    accepts_paused_ = true;
    accepts_resume_ = now + accept_pause;
    set_interest(listen_fd_, 0);
  }

  void resume_accepts() {
    accepts_paused_ = false;
    set_interest(listen_fd_, EPOLLIN);
  }

  void set_interest(int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
  }

  Upgrade& upgrade(const Client& c) { return upgrades_.find(c.fd)->second; }  // c.upgrading
  void end_upgrade(Client& c) {
    if (c.upgrading) upgrades_.erase(c.fd);
    c.upgrading = false;
  }
  std::string_view unsent_answer(const Client& c) {
    if (!c.upgrading) return {};
    const Upgrade& u = upgrade(c);
    return u.handshake.response().substr(u.answer_written);
  }
  std::size_t unsent(const Client& c) {
    return unsent_answer(c).size() + (c.phase == Client::Phase::open ? c.connection.buffered_amount() : 0);
  }

  void drop(Client& c) {
    trim_pending_ = trim_pending_ || c.phase == Client::Phase::open;
    end_upgrade(c);
    ::close(c.fd);  // also removes it from the epoll set
    clients_.remove(c);
    if (accepts_paused_) accepts_resume_ = Clock::now();  // a descriptor is free
  }

  // Half-closes after the last byte was written, then waits (bounded) for the peer's FIN, so the
  // peer reads our Close or rejection before the connection goes (a close() with unread input
  // would send RST and could destroy it).
  void linger(Client& c) {
    trim_pending_ = trim_pending_ || c.phase == Client::Phase::open;
    c.phase = Client::Phase::lingering;
    c.connection = new_connection();  // frees what the old one held
    end_upgrade(c);
    c.when = now_ms() + closing_timeout_;
    ::shutdown(c.fd, SHUT_WR);
    c.reading = true;
    c.writing = false;
    update_interest(c);
  }

  // Writes the handshake's answer, then the Connection's output runs in place with one send or
  // sendmsg each time (no copy into one buffer), until all is written or the kernel takes no more.
  // False on an error (the caller drops the client).
  bool write_out(Client& c) {
    if (const std::string_view answer = unsent_answer(c); !answer.empty()) {
      const ssize_t n = ::send(c.fd, answer.data(), answer.size(), MSG_NOSIGNAL);
      if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
      upgrade(c).answer_written += static_cast<std::size_t>(n);
      if (static_cast<std::size_t>(n) < answer.size()) return true;  // the kernel is full
      if (c.phase == Client::Phase::open) end_upgrade(c);
    }
    if (c.phase != Client::Phase::open) return true;
    wsframe::Connection& conn = c.connection;
    while (conn.buffered_amount() != 0) {
      c.holds_buffers = true;
      std::array<wsframe::OutputSpan, max_write_runs> runs;
      std::array<iovec, max_write_runs> iov;
      const std::size_t count = conn.output_spans(runs);
      std::size_t total = 0;
      for (std::size_t i = 0; i < count; ++i) {
        iov[i] = {const_cast<std::byte*>(runs[i].data), runs[i].size};  // the kernel only reads them
        total += runs[i].size;
      }
      const ssize_t n = send_runs(c.fd, std::span(iov.data(), count));
      if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
      conn.consume_output(static_cast<std::size_t>(n));
      // A client we stopped reading from (backpressure) makes progress by reading its echoes.
      if (!c.reading && !c.receiving && !c.timed_out) c.when = now_ms(), c.pinged = false;
      if (static_cast<std::size_t>(n) < total) break;  // the kernel is full
    }
    return true;
  }

  // One run (a small echo, as a rule) goes out with send(), which spares the kernel copying in
  // a msghdr and an iovec array; several with one sendmsg.
  static ssize_t send_runs(int fd, std::span<iovec> iov) {
    if (iov.size() == 1) return ::send(fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
    msghdr message{};
    message.msg_iov = iov.data();
    message.msg_iovlen = iov.size();
    return ::sendmsg(fd, &message, MSG_NOSIGNAL);
  }

  // Writes what it can. False when the client was dropped or moved on to lingering.
  bool flush(Client& c) {
    if (c.phase == Client::Phase::lingering) return false;
    if (!write_out(c)) {
      drop(c);
      return false;
    }
    const std::size_t unsent = this->unsent(c);
    const bool was_reading = c.reading, was_writing = c.writing;
    c.writing = unsent != 0;
    // Backpressure: stop reading above high water, resume once drained below half of it.
    if (unsent > config_.high_water) c.reading = false;
    else if (unsent <= config_.high_water / 2) c.reading = true;

    const bool done = c.phase == Client::Phase::handshake
                          ? upgrade(c).handshake.status() == wsframe::HandshakeStatus::reject && unsent == 0
                          : c.connection.should_close_transport() || (c.timed_out && unsent == 0);
    if (done) {
      linger(c);
      return false;
    }
    if (c.reading != was_reading || c.writing != was_writing) update_interest(c);
    return true;
  }

  void on_readable(Client& c) {
    const ssize_t n = ::recv(c.fd, buffer_.get(), read_buffer_size, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      drop(c);  // EOF or reset: after lingering that is the normal end; otherwise the peer left
      return;
    }
    if (n < 0) return;
    const std::span<std::byte> bytes(buffer_.get(), static_cast<std::size_t>(n));
    switch (c.phase) {
      case Client::Phase::lingering: return;  // discard until EOF
      case Client::Phase::handshake: return on_handshake_bytes(c, bytes);
      case Client::Phase::open: return on_frame_bytes(c, bytes);
    }
  }

  void on_handshake_bytes(Client& c, std::span<std::byte> bytes) {
    wsframe::ServerHandshake& handshake = upgrade(c).handshake;
    const wsframe::WritableHandshakeResult r = handshake.feed(bytes);
    if (r.status == wsframe::HandshakeStatus::need_more) return;
    if (r.status == wsframe::HandshakeStatus::reject) {
      ++totals_.rejected;
      note(config_, "wsframe-echo: rejected a handshake with %d: %.*s\n", handshake.status_code(),
          static_cast<int>(wsframe::message(handshake.error()).size()), wsframe::message(handshake.error()).data());
      flush(c);
      return;
    }
    c.phase = Client::Phase::open;
    c.connection = new_connection(handshake.deflate());  // nullopt unless --deflate and a valid offer
    on_frame_bytes(c, r.leftover);  // a pipelined first frame
  }

  // Echoes (or publishes) the messages in `bytes`, then writes.
  void on_frame_bytes(Client& c, std::span<std::byte> bytes) {
    wsframe::Connection& conn = c.connection;
    const Millis now = now_ms();
    c.pinged = false;
    conn.receive(bytes);
    c.holds_buffers = true;
    bool published = false;
    while (const wsframe::Event ev = conn.next_event()) {
      published |= config_.pubsub && ev.type == wsframe::EventType::message;
      const wsframe::Error e = on_event(conn, ev);
      // After our Close nothing more may be sent (connection_closed): the echo is dropped, as the
      // RFC allows. Anything else means the limits above are wrong: give up on this client.
      if (e != wsframe::Error::ok && e != wsframe::Error::connection_closed) {
        note(config_, "wsframe-echo: cannot echo: %.*s\n", static_cast<int>(wsframe::message(e).size()),
            wsframe::message(e).data());
        drop(c);
        return;
      }
    }
    // The echoes are queued: a reassembled message is done with, and receive() with no frame in
    // progress lets the Connection free its buffer now, not on the client's next bytes.
    conn.receive({});
    if (!(c.receiving && conn.receiving())) c.when = now;  // a frame or message started, or input came
    c.receiving = conn.receiving();
    if (published) flush_subscribers(c);
    if (conn.buffered_amount() > max_deferred_write) {
      flush(c);
    } else if (!c.write_due) {
      c.write_due = true;
      due_.push_back(c.fd);
    }
  }

  // The echoes of one wakeup go out after all its reads, as Redis writes its replies before it
  // waits again: the clients get them in one burst, not one wakeup each. Same syscalls.
  void write_due_output() {
    for (const int fd : due_) {
      Client* c = find(fd);
      if (c == nullptr || !c->write_due) continue;  // dropped (its descriptor maybe taken again)
      c->write_due = false;
      flush(*c);
    }
    due_.clear();
  }

  // Queues the answer to one event: the message or fragment back as it came (or published).
  wsframe::Error on_event(wsframe::Connection& conn, const wsframe::Event& ev) {
    switch (ev.type) {
      case wsframe::EventType::message:
        ++totals_.messages;
        trim_pending_ = trim_pending_ || ev.payload.size() >= big_message;  // see sweep()
        if (config_.pubsub) return publish(ev);
        return ev.kind == wsframe::MessageKind::text ? conn.send_text(ev.text()) : conn.send_binary(ev.payload);
      case wsframe::EventType::fragment:  // the same message, in the pieces it arrived in
        totals_.messages += ev.last;
        return ev.first && ev.last ? (ev.kind == wsframe::MessageKind::text ? conn.send_text(ev.text()) : conn.send_binary(ev.payload))
               : ev.first          ? conn.begin_message(ev.kind, ev.payload)
               : ev.last           ? conn.finish_message(ev.payload)
                                   : conn.continue_message(ev.payload);
      case wsframe::EventType::error:
        ++totals_.failed;
        note(config_, "wsframe-echo: closing with %u: %.*s\n", unsigned{ev.close_code},
            static_cast<int>(wsframe::message(ev.error).size()), wsframe::message(ev.error).data());
        return wsframe::Error::ok;
      default: return wsframe::Error::ok;  // pings are answered and Close echoed by the Connection itself
    }
  }

  // --pubsub: the message to every open client of this thread, the sender included, framed once
  // (a PreparedMessage: each connection queues a reference to the same bytes). A subscriber over
  // --max-output has it dropped or is failed (--on-output-full); its output is written by
  // flush_subscribers().
  wsframe::Error publish(const wsframe::Event& ev) {
    const wsframe::PreparedMessage message(ev.kind, ev.payload);
    if (message.error() != wsframe::Error::ok) return message.error();
    clients_.for_each([&](Client& subscriber) {
      if (subscriber.phase != Client::Phase::open || subscriber.timed_out) return;
      const wsframe::SendResult r = subscriber.connection.send(message);
      // Dropped or failed by the --on-output-full policy, or closing: nothing to do here.
      if (!r.queued() && r.error != wsframe::Error::message_dropped && r.error != wsframe::Error::output_stalled &&
          r.error != wsframe::Error::connection_closed) {
        note(config_, "wsframe-echo: cannot publish: %.*s\n", static_cast<int>(wsframe::message(r.error).size()),
             wsframe::message(r.error).data());
      }
    });
    return wsframe::Error::ok;
  }

  // Writes the subscribers' new output (the publisher's own is written by its caller).
  void flush_subscribers(const Client& publisher) {
    clients_.for_each([&](Client& c) {
      if (&c != &publisher && c.phase == Client::Phase::open && unsent(c) != 0) flush(c);
    });
  }

  // The deadlines (see the top of the file): drops clients stuck in the handshake, lingering or
  // not answering our Close; pings idle ones, closes those silent since the ping or stalled in
  // a frame or message.
  void sweep(Millis now) {
    const auto tick = static_cast<Millis>(std::chrono::duration_cast<std::chrono::milliseconds>(tick_).count());
    clients_.for_each([&](Client& c) {
      if (c.phase != Client::Phase::open || c.timed_out) {
        if (reached(now, c.when)) drop(c);
        return;
      }
      if (c.holds_buffers && reached(now, c.when + tick)) {  // quiet since the last sweep
        c.connection.release_memory();
        c.holds_buffers = false;
        trim_pending_ = true;  // what it returned, returned to the system
      }
      if (c.receiving && reached(now, c.when + idle_)) {
        time_out(c, "frame or message incomplete");
      } else if (c.pinged && reached(now, c.when + idle_)) {
        time_out(c, "no answer to ping");
      } else if (!c.pinged && reached(now, c.when + idle_) && !c.connection.receiving()) {
        c.pinged = true;
        c.when = now;
        c.connection.send_ping();
        flush(c);
      }
    });
    // glibc keeps freed blocks in its heap (large ones too, once its mmap threshold has grown past
    // them, as a reassembled message of megabytes makes it): give what was freed back, at most
    // once per sweep.
    if (std::exchange(trim_pending_, false)) malloc_trim(0);
  }

  // Fails the connection (RFC 6455 7.1.7) with 1001, "going away" (7.4.1): once the Close is
  // written we linger without waiting for its answer (a peer stuck inside a frame cannot give
  // one), which frees the Connection's memory now. A Close that cannot be written within
  // closing_timeout (a peer that does not read) ends with the TCP connection dropped.
  void time_out(Client& c, const char* why) {
    note(config_, "wsframe-echo: closing with 1001: %s\n", why);
    c.timed_out = true;
    c.when = now_ms() + closing_timeout_;
    c.connection.close(1001, why);
    flush(c);
  }

  const Config& config_;
  int listen_fd_, stop_fd_, signal_fd_, epoll_fd_;
  std::unique_ptr<std::byte[]> buffer_;  // the thread's read buffer: events are drained at once
  ClientTable clients_;
  std::unordered_map<int, Upgrade> upgrades_;  // by descriptor: the clients with c.upgrading
  wsframe::Limits limits_;
  wsframe::ConnectionOptions connection_options_;
  wsframe::ServerOptions handshake_options_;
  Totals totals_;
  Clock::time_point start_;  // Millis count from here
  Clock::time_point now_;    // when epoll_wait last returned (now_ms())
  Millis idle_ = 0, closing_timeout_ = 0;
  Clock::duration tick_;  // how often sweep() checks the deadlines and releases quiet connections' buffers
  // Memory was freed since the last malloc_trim: a Connection, a big message, or the buffers of
  // connections gone quiet.
  bool trim_pending_ = false;
  std::vector<int> due_;  // descriptors of the clients with write_due
  bool accepts_paused_ = false;
  Clock::time_point accepts_resume_, next_accept_note_;
  std::uint64_t accept_failures_ = 0;
};

int listen_on(const Config& config, std::uint16_t port, bool reuse_port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, config.host.c_str(), &addr.sin_addr) != 1) {
    std::fprintf(stderr, "wsframe-echo: --host must be an IPv4 address: %s\n", config.host.c_str());
    return -1;
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, SOMAXCONN) != 0) {
    std::fprintf(stderr, "wsframe-echo: cannot listen on %s:%u: %s\n", config.host.c_str(), unsigned{port},
                 std::strerror(errno));
    ::close(fd);
    return -1;
  }
  return fd;
}

std::uint16_t bound_port(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

constexpr wsframe_tools::Program program{
    "wsframe-echo",
    "usage: wsframe-echo [--host 127.0.0.1] [--port 0] [--threads 1] [--max-message BYTES]\n"
    "                    [--max-frame BYTES] [--max-handshake BYTES] [--high-water BYTES]\n"
    "                    [--idle-timeout SECONDS (60)] [--whole-messages (default) | --fragments]\n"
    "                    [--pubsub [--max-output BYTES] [--on-output-full drop|close]] [--quiet]\n"
    "                    [--deflate [deflate options]]\n"
    "deflate options (permessage-deflate, RFC 7692; each needs --deflate):\n"
    "  the server's wishes:  --deflate-server-no-context-takeover  --deflate-client-no-context-takeover\n"
    "                        --deflate-server-max-window-bits 8..15  --deflate-client-max-window-bits 8..15\n"
    "  the compressor:       --deflate-level 0..9 (6)  --deflate-mem-level 1..9 (8)\n"
    "                        --deflate-threshold BYTES (32: smaller whole messages go uncompressed)\n"};

// Seconds with an optional fraction ("0.5"), at least 1 ms and at most a day.
std::chrono::milliseconds parse_seconds(std::string_view flag, const char* text) {
  const double seconds = program.number<double>(flag, text);
  if (!(seconds >= 0.001 && seconds <= 86400)) program.bad_argument(flag, "must be 0.001..86400 seconds");
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

wsframe::OutputFullPolicy parse_output_full_policy(std::string_view flag, std::string_view policy) {
  if (policy == "drop") return wsframe::OutputFullPolicy::drop;
  if (policy != "close") program.bad_argument(flag, "must be drop or close");
  return wsframe::OutputFullPolicy::close;
}

Config parse_arguments(int argc, char** argv) {
  Config config;
  bool deflate_options_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") program.usage(0);
    deflate_options_given |= flag.starts_with("--deflate-");
    wsframe::DeflateParameters& wishes = config.deflate_wishes;
    bool whole_messages = false;  // the default
    bool* const switch_flag = flag == "--quiet"                                ? &config.quiet
                              : flag == "--whole-messages"                     ? &whole_messages
                              : flag == "--fragments"                          ? &config.fragments
                              : flag == "--pubsub"                             ? &config.pubsub
                              : flag == "--deflate"                            ? &config.deflate
                              : flag == "--deflate-server-no-context-takeover" ? &wishes.server_no_context_takeover
                              : flag == "--deflate-client-no-context-takeover" ? &wishes.client_no_context_takeover
                                                                               : nullptr;
    if (switch_flag != nullptr) {
      *switch_flag = true;
      continue;
    }
    if (i + 1 >= argc) program.usage(2);
    const char* value = argv[++i];
    if (flag == "--host") config.host = value;
    else if (flag == "--port") config.port = program.number<std::uint16_t>(flag, value);
    else if (flag == "--threads") config.threads = program.number<unsigned>(flag, value);
    else if (flag == "--max-message") config.max_message = program.number<std::size_t>(flag, value);
    else if (flag == "--max-frame") config.max_frame = program.number<std::size_t>(flag, value);
    else if (flag == "--max-handshake") config.max_handshake = program.number<std::size_t>(flag, value);
    else if (flag == "--high-water") config.high_water = program.number<std::size_t>(flag, value);
    else if (flag == "--idle-timeout") config.idle_timeout = parse_seconds(flag, value);
    else if (flag == "--max-output") config.max_output = program.number<std::size_t>(flag, value);
    else if (flag == "--on-output-full") config.on_output_full = parse_output_full_policy(flag, value);
    else if (flag == "--deflate-server-max-window-bits")
      wishes.server_max_window_bits = static_cast<std::uint8_t>(program.number_in(flag, value, 8, 15));
    else if (flag == "--deflate-client-max-window-bits")
      wishes.client_max_window_bits = static_cast<std::uint8_t>(program.number_in(flag, value, 8, 15));
    else if (flag == "--deflate-level") config.compression.level = program.number_in(flag, value, 0, 9);
    else if (flag == "--deflate-mem-level") config.compression.mem_level = program.number_in(flag, value, 1, 9);
    else if (flag == "--deflate-threshold") config.compression.threshold = program.number<std::size_t>(flag, value);
    else program.usage(2);
  }
  if (config.threads == 0 || config.threads > 256) program.usage(2);
  if (config.pubsub && (config.threads != 1 || config.fragments))
    program.bad_argument("--pubsub", "relays whole messages within one thread: no --threads, no --fragments");
  if (deflate_options_given && !config.deflate) program.bad_argument("--deflate-*", "options need --deflate");
  if (config.deflate && !wsframe::deflate_available()) {
    std::fprintf(stderr, "wsframe-echo: --deflate: this wsframe was built without zlib\n");
    std::exit(2);
  }
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  const Config config = parse_arguments(argc, argv);

  // SIGINT/SIGTERM arrive through a signalfd in the first loop, which wakes the others through an
  // eventfd. Blocked before any thread starts, so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  const int signal_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
  const int stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

  // One listening socket per thread; with several, they share the port (SO_REUSEPORT), the
  // first one picking it when --port is 0.
  const bool reuse_port = config.threads > 1;
  std::vector<int> listeners;
  std::uint16_t port = config.port;
  for (unsigned i = 0; i < config.threads; ++i) {
    const int fd = listen_on(config, port, reuse_port);
    if (fd < 0) return 1;
    port = bound_port(fd);
    listeners.push_back(fd);
  }

  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned i = 0; i < config.threads; ++i)
    workers.push_back(std::make_unique<Worker>(config, listeners[i], stop_fd, i == 0 ? signal_fd : -1));
  std::printf("listening on %s:%u\n", config.host.c_str(), unsigned{port});
  std::fflush(stdout);

  std::vector<Totals> totals(config.threads);
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < config.threads; ++i) threads.emplace_back([&, i] { totals[i] = workers[i]->run(); });
  totals[0] = workers[0]->run();
  for (auto& t : threads) t.join();

  Totals sum;
  for (const Totals& t : totals) {
    sum.connections += t.connections;
    sum.rejected += t.rejected;
    sum.messages += t.messages;
    sum.failed += t.failed;
  }
  workers.clear();
  for (int fd : listeners) ::close(fd);
  ::close(stop_fd);
  ::close(signal_fd);
  note(config, "wsframe-echo: stopped; %llu connections (%llu handshakes rejected, %llu failed), %llu messages echoed\n",
      static_cast<unsigned long long>(sum.connections), static_cast<unsigned long long>(sum.rejected),
      static_cast<unsigned long long>(sum.failed), static_cast<unsigned long long>(sum.messages));
  return 0;
}
