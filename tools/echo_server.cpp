// wsframe-echo: a WebSocket echo server on the sans-I/O API (ServerHandshake + Connection), for
// interop tests, conformance suites and load tests. Linux: epoll, non-blocking sockets, one event
// loop per thread (--threads N share the port through SO_REUSEPORT).
//
//   wsframe-echo [--host 127.0.0.1] [--port 0] [--threads 1] [--max-message BYTES]
//                [--max-frame BYTES] [--max-handshake BYTES] [--high-water BYTES]
//                [--idle-timeout SECONDS] [--whole-messages] [--quiet] [--deflate [deflate options]]
//
// --deflate accepts permessage-deflate offers (RFC 7692); without it they are declined and RSV1
// is a protocol error. The server's wishes for the agreement: --deflate-server-no-context-takeover,
// --deflate-client-no-context-takeover, --deflate-server-max-window-bits N,
// --deflate-client-max-window-bits N (8..15); the compressor's tuning: --deflate-level N (0..9),
// --deflate-mem-level N (1..9), --deflate-threshold BYTES (whole messages below it go
// uncompressed). --max-message bounds a message's inflated bytes as well as its bytes on the
// wire, so a decompression bomb ends in a 1009 close. Both echo modes work compressed: data is
// inflated as it arrives, and echoed compressed (fragment by fragment by default).
//
// Prints `listening on HOST:PORT` once every thread is ready. Echoes text as text and binary as
// binary; the Connection answers pings and echoes the Close; the server then closes TCP first
// (RFC 6455 7.1.1). Bad handshakes get the HTTP status ServerHandshake chose. Memory per
// connection is bounded: a client that does not read its echoes stops being read from once its
// unsent output exceeds --high-water (TCP then pushes back on it); reading resumes when the
// output has drained. By default data is echoed as it arrives, fragment by fragment, straight
// from the read buffer (no reassembly: a connection's memory does not grow with its largest
// message); --whole-messages reassembles each message (up to --max-message) and echoes it as one
// frame. SIGINT/SIGTERM stop it cleanly (exit 0).
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
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

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
  bool whole_messages = false;
  bool quiet = false;
  bool deflate = false;                         // accept permessage-deflate offers
  wsframe::DeflateParameters deflate_wishes;    // ServerOptions::deflate
  wsframe::CompressionOptions compression;      // ConnectionOptions::compression
};

// The output buffer of a Connection keeps its largest size; echoes of one read at a time keep
// it near this size, so it is what a busy connection costs (1000 connections: ~28 MiB at 16 KiB,
// ~64 MiB at 64 KiB, same throughput in tools/load_test.py).
constexpr std::size_t read_buffer_size = 16 * 1024;
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

// One TCP connection: first the HTTP upgrade, then WebSocket frames, then a lingering close.
struct Client {
  enum class Phase : std::uint8_t {
    handshake,  // reading the upgrade request
    open,       // WebSocket frames both ways
    lingering,  // our side is shut down (after a rejection or the close handshake): wait for EOF
  };

  int fd;
  Phase phase = Phase::handshake;
  std::unique_ptr<wsframe::ServerHandshake> handshake;  // only during the handshake
  std::optional<wsframe::Connection> connection;
  std::string http_output;   // the handshake's answer, written before any frame
  std::size_t http_written = 0;
  bool reading = true;       // EPOLLIN wanted (false while backpressure holds)
  bool writing = false;      // EPOLLOUT wanted
  Clock::time_point deadline;  // handshake, lingering, or our Close awaiting its answer
  // Open phase: the last input, the idle ping sent since (if any), and when the frame or message
  // being received started (Connection::receiving()).
  Clock::time_point last_input;  // or output drained by a client we stopped reading from
  std::optional<Clock::time_point> pinged;
  std::optional<Clock::time_point> receiving_since;
  bool timed_out = false;    // we closed it (1001) for a deadline: `deadline` is for writing the Close

  std::span<const std::byte> output() const {
    if (http_written < http_output.size())
      return std::as_bytes(std::span(http_output)).subspan(http_written);
    return connection ? connection->pending_output() : std::span<const std::byte>{};
  }
  void consume(std::size_t n) {
    if (http_written < http_output.size()) http_written += n;
    else connection->consume_output(n);
  }
};

struct Totals {
  std::uint64_t connections = 0, rejected = 0, messages = 0, failed = 0;
};

class Worker {
 public:
  Worker(const Config& config, int listen_fd, int stop_fd, int signal_fd)
      : config_(config), listen_fd_(listen_fd), stop_fd_(stop_fd), signal_fd_(signal_fd),
        epoll_fd_(epoll_create1(EPOLL_CLOEXEC)), buffer_(new std::byte[read_buffer_size]) {
    limits_.max_message_size = config.max_message;
    limits_.max_frame_size = config.max_frame;
    // Output never exceeds high water + one read's echoes + one reassembled message (we stop
    // reading above high water), so this bound is never hit by an echo. Compressed, one read's
    // echoes are its inflated bytes recompressed: at most the inflated size plus the framing
    // (zlib falls back to stored blocks), and the compressor's bound is checked before each frame.
    limits_.max_output_bytes = config.high_water + read_buffer_size + config.max_message + 4096;
    if (config.deflate) limits_.max_output_bytes += max_inflation_ratio * read_buffer_size + 64 * 1024;
    connection_options_.deliver_fragments = !config.whole_messages;
    connection_options_.compression = config.compression;
    handshake_options_.limits.max_head_bytes = config.max_handshake;
    if (config.deflate) handshake_options_.deflate = config.deflate_wishes;
    tick_ = std::clamp(std::chrono::duration_cast<Clock::duration>(config.idle_timeout / 4),
                       Clock::duration(std::chrono::milliseconds(10)), Clock::duration(std::chrono::seconds(1)));
    watch(listen_fd_, EPOLLIN);
    watch(stop_fd_, EPOLLIN);
    if (signal_fd_ >= 0) watch(signal_fd_, EPOLLIN);
  }
  ~Worker() {
    for (auto& c : clients_)
      if (c) ::close(c->fd);
    ::close(epoll_fd_);
  }

  Totals run() {
    epoll_event events[256];
    auto next_sweep = Clock::now() + tick_;
    for (;;) {
      const int n = epoll_wait(epoll_fd_, events, 256, wait_ms(next_sweep));
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
      const auto now = Clock::now();
      if (accepts_paused_ && now >= accepts_resume_) resume_accepts();
      if (now >= next_sweep) {
        sweep(now);
        next_sweep = now + tick_;
      }
    }
    return totals_;
  }

 private:
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
    return static_cast<std::size_t>(fd) < clients_.size() ? clients_[static_cast<std::size_t>(fd)].get() : nullptr;
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
      if (clients_.size() <= static_cast<std::size_t>(fd)) clients_.resize(static_cast<std::size_t>(fd) + 1);
      auto c = std::make_unique<Client>();
      c->fd = fd;
      c->handshake = std::make_unique<wsframe::ServerHandshake>(handshake_options_);
      c->deadline = Clock::now() + std::min<Clock::duration>(config_.idle_timeout, max_handshake_timeout);
      clients_[static_cast<std::size_t>(fd)] = std::move(c);
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

  void drop(Client& c) {
    const auto fd = static_cast<std::size_t>(c.fd);
    trim_pending_ = trim_pending_ || c.connection.has_value();
    ::close(c.fd);  // also removes it from the epoll set
    clients_[fd].reset();
    if (accepts_paused_) accepts_resume_ = Clock::now();  // a descriptor is free
  }

  // Half-closes after the last byte was written, then waits (bounded) for the peer's FIN, so the
  // peer reads our Close or rejection before the connection goes (a close() with unread input
  // would send RST and could destroy it).
  void linger(Client& c) {
    c.phase = Client::Phase::lingering;
    trim_pending_ = trim_pending_ || c.connection.has_value();
    c.connection.reset();
    c.handshake.reset();
    c.deadline = Clock::now() + closing_timeout();
    ::shutdown(c.fd, SHUT_WR);
    c.reading = true;
    c.writing = false;
    update_interest(c);
  }

  // Writes what it can. False when the client was dropped or moved on to lingering.
  bool flush(Client& c) {
    if (c.phase == Client::Phase::lingering) return false;
    for (auto out = c.output(); !out.empty(); out = c.output()) {
      const ssize_t n = ::send(c.fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        drop(c);
        return false;
      }
      c.consume(static_cast<std::size_t>(n));
      // A client we stopped reading from (backpressure) makes progress by reading its echoes.
      if (!c.reading && c.phase == Client::Phase::open) c.last_input = Clock::now(), c.pinged.reset();
    }
    const std::size_t unsent = c.output().size();
    const bool was_reading = c.reading, was_writing = c.writing;
    c.writing = unsent != 0;
    // Backpressure: stop reading above high water, resume once drained below half of it.
    if (unsent > config_.high_water) c.reading = false;
    else if (unsent <= config_.high_water / 2) c.reading = true;

    const bool done = c.phase == Client::Phase::handshake
                          ? c.handshake->status() == wsframe::HandshakeStatus::reject && unsent == 0
                          : c.connection->should_close_transport() || (c.timed_out && unsent == 0);
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
    const wsframe::WritableHandshakeResult r = c.handshake->feed(bytes);
    if (r.status == wsframe::HandshakeStatus::need_more) return;
    c.http_output.assign(c.handshake->response());
    if (r.status == wsframe::HandshakeStatus::reject) {
      ++totals_.rejected;
      note(config_, "wsframe-echo: rejected a handshake with %d: %.*s\n", c.handshake->status_code(),
          static_cast<int>(wsframe::message(c.handshake->error()).size()), wsframe::message(c.handshake->error()).data());
      flush(c);
      return;
    }
    c.phase = Client::Phase::open;
    c.last_input = Clock::now();
    wsframe::ConnectionOptions options = connection_options_;
    options.deflate = c.handshake->deflate();  // nullopt unless --deflate and a valid offer
    c.handshake.reset();  // its buffer is not needed any more
    c.connection.emplace(wsframe::Role::server, limits_, options);
    on_frame_bytes(c, r.leftover);  // a pipelined first frame
  }

  void on_frame_bytes(Client& c, std::span<std::byte> bytes) {
    wsframe::Connection& conn = *c.connection;
    const auto now = Clock::now();
    c.last_input = now;
    c.pinged.reset();
    conn.receive(bytes);
    while (const wsframe::Event ev = conn.next_event()) {
      wsframe::Error e = wsframe::Error::ok;
      switch (ev.type) {
        case wsframe::EventType::message:
          ++totals_.messages;
          trim_pending_ = trim_pending_ || ev.payload.size() >= big_message;  // see sweep()
          e = ev.kind == wsframe::MessageKind::text ? conn.send_text(ev.text()) : conn.send_binary(ev.payload);
          break;
        case wsframe::EventType::fragment:  // the same message, in the pieces it arrived in
          totals_.messages += ev.last;
          e = ev.first && ev.last ? (ev.kind == wsframe::MessageKind::text ? conn.send_text(ev.text()) : conn.send_binary(ev.payload))
              : ev.first          ? conn.begin_message(ev.kind, ev.payload)
              : ev.last           ? conn.finish_message(ev.payload)
                                  : conn.continue_message(ev.payload);
          break;
        case wsframe::EventType::error:
          ++totals_.failed;
          note(config_, "wsframe-echo: closing with %u: %.*s\n", unsigned{ev.close_code},
              static_cast<int>(wsframe::message(ev.error).size()), wsframe::message(ev.error).data());
          break;
        default: break;  // pings are answered and Close echoed by the Connection itself
      }
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
    // progress lets the Connection shrink its buffer now, not on the client's next bytes.
    conn.receive({});
    if (!conn.receiving()) c.receiving_since.reset();
    else if (!c.receiving_since) c.receiving_since = now;
    flush(c);
  }

  Clock::duration closing_timeout() const { return std::min<Clock::duration>(config_.idle_timeout, max_closing_timeout); }

  // The deadlines (see the top of the file): drops clients stuck in the handshake, lingering or
  // not answering our Close; pings idle ones, closes those silent since the ping or stalled in
  // a frame or message.
  void sweep(Clock::time_point now) {
    // glibc keeps large freed blocks in its heap once its mmap threshold has grown past them
    // (a reassembled message of megabytes): give what was freed back, at most once per sweep.
    if (std::exchange(trim_pending_, false)) malloc_trim(0);
    const Clock::duration idle = config_.idle_timeout;
    for (auto& slot : clients_) {
      if (!slot) continue;
      Client& c = *slot;
      if (c.phase != Client::Phase::open || c.timed_out) {
        if (now >= c.deadline) drop(c);
      } else if (c.receiving_since && now - *c.receiving_since >= idle) {
        time_out(c, "frame or message incomplete");
      } else if (c.pinged && now - *c.pinged >= idle) {
        time_out(c, "no answer to ping");
      } else if (!c.pinged && now - c.last_input >= idle && !c.connection->receiving()) {
        c.pinged = now;
        c.connection->send_ping();
        flush(c);
      }
    }
  }

  // Fails the connection (RFC 6455 7.1.7) with 1001, "going away" (7.4.1): once the Close is
  // written we linger without waiting for its answer (a peer stuck inside a frame cannot give
  // one), which frees the Connection's memory now. A Close that cannot be written within
  // closing_timeout (a peer that does not read) ends with the TCP connection dropped.
  void time_out(Client& c, const char* why) {
    note(config_, "wsframe-echo: closing with 1001: %s\n", why);
    c.timed_out = true;
    c.deadline = Clock::now() + closing_timeout();
    c.connection->close(1001, why);
    flush(c);
  }

  const Config& config_;
  int listen_fd_, stop_fd_, signal_fd_, epoll_fd_;
  std::unique_ptr<std::byte[]> buffer_;  // one read buffer per thread: events are drained at once
  std::vector<std::unique_ptr<Client>> clients_;  // by file descriptor
  wsframe::Limits limits_;
  wsframe::ConnectionOptions connection_options_;
  wsframe::ServerOptions handshake_options_;
  Totals totals_;
  Clock::duration tick_;  // how often sweep() checks the deadlines
  bool trim_pending_ = false;  // a Connection or a big message was freed since the last malloc_trim
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

[[noreturn]] void usage(int status) {
  std::fprintf(status == 0 ? stdout : stderr,
               "usage: wsframe-echo [--host 127.0.0.1] [--port 0] [--threads 1] [--max-message BYTES]\n"
               "                    [--max-frame BYTES] [--max-handshake BYTES] [--high-water BYTES]\n"
               "                    [--idle-timeout SECONDS (60)] [--whole-messages] [--quiet]\n"
               "                    [--deflate [deflate options]]\n"
               "deflate options (permessage-deflate, RFC 7692; each needs --deflate):\n"
               "  the server's wishes:  --deflate-server-no-context-takeover  --deflate-client-no-context-takeover\n"
               "                        --deflate-server-max-window-bits 8..15  --deflate-client-max-window-bits 8..15\n"
               "  the compressor:       --deflate-level 0..9 (6)  --deflate-mem-level 1..9 (8)\n"
               "                        --deflate-threshold BYTES (32: smaller whole messages go uncompressed)\n");
  std::exit(status);
}

template <class T>
T parse_number(std::string_view flag, const char* text) {
  T value{};
  const std::string_view s(text);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) {
    std::fprintf(stderr, "wsframe-echo: %.*s needs a number, got '%s'\n", static_cast<int>(flag.size()), flag.data(), text);
    usage(2);
  }
  return value;
}

int parse_small_number(std::string_view flag, const char* text, int min, int max) {
  const int value = parse_number<int>(flag, text);
  if (value < min || value > max) {
    std::fprintf(stderr, "wsframe-echo: %.*s must be %d..%d\n", static_cast<int>(flag.size()), flag.data(), min, max);
    usage(2);
  }
  return value;
}

// Seconds with an optional fraction ("0.5"), at least 1 ms and at most a day.
std::chrono::milliseconds parse_seconds(std::string_view flag, const char* text) {
  const double seconds = parse_number<double>(flag, text);
  if (!(seconds >= 0.001 && seconds <= 86400)) {
    std::fprintf(stderr, "wsframe-echo: %.*s must be 0.001..86400 seconds\n", static_cast<int>(flag.size()), flag.data());
    usage(2);
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

Config parse_arguments(int argc, char** argv) {
  Config config;
  bool deflate_options_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") usage(0);
    deflate_options_given |= flag.starts_with("--deflate-");
    wsframe::DeflateParameters& wishes = config.deflate_wishes;
    bool* const switch_flag = flag == "--quiet"                                ? &config.quiet
                              : flag == "--whole-messages"                     ? &config.whole_messages
                              : flag == "--deflate"                            ? &config.deflate
                              : flag == "--deflate-server-no-context-takeover" ? &wishes.server_no_context_takeover
                              : flag == "--deflate-client-no-context-takeover" ? &wishes.client_no_context_takeover
                                                                               : nullptr;
    if (switch_flag != nullptr) {
      *switch_flag = true;
      continue;
    }
    if (i + 1 >= argc) usage(2);
    const char* value = argv[++i];
    if (flag == "--host") config.host = value;
    else if (flag == "--port") config.port = parse_number<std::uint16_t>(flag, value);
    else if (flag == "--threads") config.threads = parse_number<unsigned>(flag, value);
    else if (flag == "--max-message") config.max_message = parse_number<std::size_t>(flag, value);
    else if (flag == "--max-frame") config.max_frame = parse_number<std::size_t>(flag, value);
    else if (flag == "--max-handshake") config.max_handshake = parse_number<std::size_t>(flag, value);
    else if (flag == "--high-water") config.high_water = parse_number<std::size_t>(flag, value);
    else if (flag == "--idle-timeout") config.idle_timeout = parse_seconds(flag, value);
    else if (flag == "--deflate-server-max-window-bits")
      wishes.server_max_window_bits = static_cast<std::uint8_t>(parse_small_number(flag, value, 8, 15));
    else if (flag == "--deflate-client-max-window-bits")
      wishes.client_max_window_bits = static_cast<std::uint8_t>(parse_small_number(flag, value, 8, 15));
    else if (flag == "--deflate-level") config.compression.level = parse_small_number(flag, value, 0, 9);
    else if (flag == "--deflate-mem-level") config.compression.mem_level = parse_small_number(flag, value, 1, 9);
    else if (flag == "--deflate-threshold") config.compression.threshold = parse_number<std::size_t>(flag, value);
    else usage(2);
  }
  if (config.threads == 0 || config.threads > 256) usage(2);
  if (deflate_options_given && !config.deflate) {
    std::fprintf(stderr, "wsframe-echo: --deflate-* options need --deflate\n");
    usage(2);
  }
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
