// wsframe-load: a load generator on the wsframe client (ClientHandshake + Connection in the client
// role). Linux: epoll, non-blocking sockets, one event loop per thread, the connections split
// between them. Every byte received is checked.
//
//   wsframe-load ws://HOST:PORT[/PATH] [--mode echo|broadcast] [--connections 100] [--size 20]
//                [--text] [--deflate] [--in-flight 1] [--duration 5] [--messages N]
//                [--timeout 10] [--threads 1] [--cpu LIST] [--server-pid PID] [--json]
//
// echo: --connections connections each send a message, wait for its whole echo (however many
// frames the server cut it into: the Connection reassembles), check it byte for byte, and send the
// next; --in-flight N keeps N messages outstanding per connection. Message m of connection c is a
// window of a fixed random table starting at an offset that depends on c and m, so an echo that is
// corrupted, reordered, lost or sent to the wrong connection does not match (for payloads of a few
// bytes two windows may coincide by chance).
//
// broadcast: one publisher and --connections subscribers against a server that relays every
// message to all its clients. Once every subscriber has received one of the publisher's probe
// messages (so the server knows them all), the publisher sends messages carrying a sequence number
// and its CLOCK_MONOTONIC send time, keeping at most --in-flight of them not yet delivered to every
// subscriber; what one wakeup frees goes out in one send. Each subscriber checks it receives every
// message, in order, byte for byte; latency is from send (queueing) to receipt. The publisher
// checks its own messages too if the server returns them.
//
// The run is always bounded: it measures for --duration seconds or until --messages messages
// (per connection in echo mode, published in broadcast mode) are done, whichever comes first;
// connecting, draining the outstanding messages and the close handshake each have --timeout.
// Reports messages/s, MB/s of payload, latency percentiles, errors, its own CPU time per message
// (getrusage) and, with --server-pid, the server's CPU share over the measured interval
// (/proc/PID/stat). --json adds one machine-readable line. Exit status 0 only when there was no
// error and at least one message was done.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <array>
#include <barrier>
#include <bit>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cli.hpp"
#include "wsframe/wsframe.hpp"

namespace {

std::uint64_t now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

enum class Mode : std::uint8_t { echo, broadcast };

struct Config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string path = "/";
  Mode mode = Mode::echo;
  unsigned connections = 100;  // echo: connections; broadcast: subscribers
  std::size_t size = 20;
  bool text = false;
  bool deflate = false;
  unsigned in_flight = 1;
  double duration = 5;
  std::uint64_t messages = 0;  // 0: bounded by the duration only
  double timeout = 10;
  unsigned threads = 1;
  std::vector<int> cpus;
  int server_pid = 0;
  bool json = false;
};

// Broadcast messages start with the sequence number and the send time, 16 hex digits each (so a
// text message stays ASCII). Sequence number 0 is a probe sent before the measured run.
constexpr std::size_t broadcast_header_size = 32;

// ---- latency histogram ----------------------------------------------------------------------
// Log-linear buckets (128 per power of two: under 1% error), fixed size, no allocation per sample.
class Histogram {
 public:
  void record(std::uint64_t ns) noexcept {
    ++counts_[index(ns)];
    ++total_;
    max_ = std::max(max_, ns);
    sum_ += ns;
  }
  void merge(const Histogram& other) noexcept {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    max_ = std::max(max_, other.max_);
    sum_ += other.sum_;
  }
  // The value below which a fraction q of the samples lie (a bucket's middle), 0 with none.
  double quantile(double q) const noexcept {
    if (total_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_ - 1));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen > rank) return std::min(middle(i), static_cast<double>(max_));
    }
    return static_cast<double>(max_);
  }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return total_ ? static_cast<double>(sum_) / static_cast<double>(total_) : 0; }
  std::uint64_t total() const noexcept { return total_; }

 private:
  static constexpr unsigned sub_bits = 7;
  static constexpr std::size_t sub = std::size_t{1} << sub_bits;
  static std::size_t index(std::uint64_t v) noexcept {
    if (v < sub) return static_cast<std::size_t>(v);
    const unsigned shift = static_cast<unsigned>(std::bit_width(v)) - sub_bits - 1;  // v >> shift in [128, 256)
    return sub + shift * sub + static_cast<std::size_t>((v >> shift) - sub);
  }
  static double middle(std::size_t i) noexcept {
    if (i < sub) return static_cast<double>(i);
    const std::size_t shift = (i - sub) / sub, mantissa = sub + (i - sub) % sub;
    return (static_cast<double>(mantissa) + 0.5) * static_cast<double>(std::uint64_t{1} << shift);
  }
  std::array<std::uint64_t, sub + (64 - sub_bits) * sub> counts_{};
  std::uint64_t total_ = 0, max_ = 0, sum_ = 0;
};

// ---- payloads -------------------------------------------------------------------------------
// A random table (printable ASCII for text) read as overlapping windows: the payload of message m
// is the window at an offset that changes with m (and, in echo mode, with the connection).
class Pattern {
 public:
  static constexpr std::size_t period = 4093;  // prime: consecutive offsets differ for 4093 messages

  Pattern(std::size_t size, bool text) : size_(size), table_(size + period) {
    std::mt19937_64 rng(6455);
    for (auto& b : table_)
      b = static_cast<std::byte>(text ? '!' + static_cast<int>(rng() % 94) : static_cast<int>(rng() & 0xff));
  }
  std::span<const std::byte> window(std::uint64_t offset, std::size_t size) const noexcept {
    return {table_.data() + offset % period, size};
  }
  // Echo mode: message m of connection c.
  std::span<const std::byte> echo(std::uint64_t c, std::uint64_t m) const noexcept {
    return window(c * 977 + m * 61, size_);
  }

 private:
  std::size_t size_;
  std::vector<std::byte> table_;
};

void put_hex(std::byte* out, std::uint64_t v) noexcept {
  static constexpr char digits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, v >>= 4) out[i] = static_cast<std::byte>(digits[v & 15]);
}

std::optional<std::uint64_t> get_hex(const std::byte* in) noexcept {
  std::uint64_t v = 0;
  const auto* c = reinterpret_cast<const char*>(in);
  const auto [end, ec] = std::from_chars(c, c + 16, v, 16);
  if (ec != std::errc{} || end != c + 16) return std::nullopt;
  return v;
}

// ---- counts ---------------------------------------------------------------------------------
struct Counts {
  std::uint64_t messages = 0;   // echoes, or deliveries to subscribers, within the measured interval
  std::uint64_t published = 0;  // broadcast: messages the publisher sent within it
  std::uint64_t connect_failed = 0, handshake_failed = 0, not_subscribed = 0;
  std::uint64_t protocol = 0;     // error events, unexpected closes, socket errors
  std::uint64_t mismatched = 0;   // a message that differs from the one expected
  std::uint64_t lost = 0;         // messages outstanding when draining timed out
  std::uint64_t close_failed = 0; // no clean close handshake within the timeout

  std::uint64_t errors() const noexcept {
    return connect_failed + handshake_failed + not_subscribed + protocol + mismatched + lost + close_failed;
  }
  void add(const Counts& o) noexcept {
    messages += o.messages;
    published += o.published;
    connect_failed += o.connect_failed;
    handshake_failed += o.handshake_failed;
    not_subscribed += o.not_subscribed;
    protocol += o.protocol;
    mismatched += o.mismatched;
    lost += o.lost;
    close_failed += o.close_failed;
  }
};

// ---- what the threads share -----------------------------------------------------------------
struct Shared {
  Shared(const Config& c, unsigned participants)
      : config(c), pattern(c.size, c.text), barrier(participants), delivered(c.in_flight) {}

  const Config& config;
  Pattern pattern;
  sockaddr_in address{};
  std::string host_header;
  std::barrier<> barrier;  // the workers and main: connected, subscribed, measuring
  std::atomic<bool> stop{false};  // the measured interval is over
  std::atomic<unsigned> workers_finished{0};  // echo with --messages: all their messages done

  // broadcast
  std::atomic<unsigned> subscribers_open{0}, subscribers_synced{0};
  std::atomic<bool> publisher_open{false};
  std::vector<std::atomic<unsigned>> delivered;  // per window slot: subscribers that got it
  std::atomic<std::uint64_t> completed{0};        // highest sequence number every subscriber got
  std::atomic<std::uint64_t> final_seq{0};        // the last one published, once final_known
  std::atomic<bool> final_known{false};
  int publisher_wake_fd = -1;
};

// ---- one connection -------------------------------------------------------------------------
struct Client {
  enum class Phase : std::uint8_t { connecting, handshaking, open, closing, done };
  enum class Role : std::uint8_t { echo, publisher, subscriber };

  int fd = -1;
  Phase phase = Phase::connecting;
  Role role = Role::echo;
  std::uint64_t id = 0;  // selects its payloads in echo mode
  std::optional<wsframe::ClientHandshake> handshake;
  std::size_t request_sent = 0;
  std::optional<wsframe::Connection> ws;
  bool writing = false;  // EPOLLOUT is registered
  bool finished = false; // echo: its --messages were all echoed
  std::uint64_t sent = 0, received = 0;  // echo: messages; publisher: sent is the last sequence number
  std::vector<std::uint64_t> send_times;  // echo: by message number modulo --in-flight
  std::uint64_t last_seq = 0;             // broadcast: the last sequence number received
  bool synced = false;                    // subscriber: a probe arrived
};

constexpr std::uint64_t wake_token = UINT64_MAX;  // epoll data of a worker's eventfd
constexpr std::size_t read_buffer_size = 256 * 1024;

class Worker {
 public:
  Worker(Shared& shared, unsigned index, std::uint64_t first_id, unsigned count, bool publisher)
      : shared_(shared), config_(shared.config), index_(index), buffer_(new std::byte[read_buffer_size]) {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{EPOLLIN, {.u64 = wake_token}};
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    if (publisher) shared.publisher_wake_fd = wake_fd_;
    clients_.resize(count + (publisher ? 1 : 0));
    for (unsigned i = 0; i < clients_.size(); ++i) {
      Client& c = clients_[i];
      c.id = first_id + i;
      c.role = config_.mode == Mode::echo ? Client::Role::echo
               : publisher && i == 0       ? Client::Role::publisher
                                           : Client::Role::subscriber;
      if (c.role == Client::Role::echo) c.send_times.resize(config_.in_flight);
    }
    if (publisher) publish_buffer_.resize(config_.size);
    limits_.max_message_size = limits_.max_frame_size = config_.size + 1024;
    const std::size_t frame_bytes = config_.size + wsframe::max_header_size;
    limits_.max_output_bytes = std::max<std::size_t>(limits_.max_output_bytes, 4 * frame_bytes * config_.in_flight);
    limits_.retained_buffer_bytes = std::max<std::size_t>(limits_.retained_buffer_bytes, 4 * frame_bytes * config_.in_flight);
  }
  ~Worker() {
    for (Client& c : clients_)
      if (c.fd >= 0) ::close(c.fd);
    ::close(wake_fd_);
    ::close(epoll_fd_);
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  int wake_fd() const noexcept { return wake_fd_; }
  const Counts& counts() const noexcept { return counts_; }
  const Histogram& latency() const noexcept { return latency_; }

  void run() {
    if (!config_.cpus.empty()) pin(config_.cpus[index_ % config_.cpus.size()]);
    connect_all();
    shared_.barrier.arrive_and_wait();  // everyone connected
    if (config_.mode == Mode::broadcast) subscribe();
    shared_.barrier.arrive_and_wait();  // every subscriber known to the server
    shared_.barrier.arrive_and_wait();  // main took the start of the interval
    measure();
    drain();
    close_all();
  }

 private:
  static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
      std::fprintf(stderr, "wsframe-load: cannot pin a thread to CPU %d\n", cpu);
  }

  // ---- phases ----
  void connect_all() {
    for (Client& c : clients_) start_connect(c);
    const std::uint64_t deadline = now_ns() + seconds_ns(config_.timeout);
    while (any([](const Client& c) { return c.phase == Client::Phase::connecting || c.phase == Client::Phase::handshaking; })) {
      if (now_ns() >= deadline) {
        for (Client& c : clients_)
          if (c.phase == Client::Phase::connecting || c.phase == Client::Phase::handshaking)
            fail(c, c.phase == Client::Phase::connecting ? counts_.connect_failed : counts_.handshake_failed,
                 "timed out connecting");
        break;
      }
      poll_once(10);
    }
  }

  // Broadcast: the publisher sends probes until every open subscriber has received one.
  void subscribe() {
    const unsigned target = shared_.subscribers_open.load();
    const std::uint64_t deadline = now_ns() + seconds_ns(config_.timeout);
    std::uint64_t next_probe = 0;
    while (shared_.subscribers_synced.load() < target && shared_.publisher_open.load() && now_ns() < deadline) {
      if (Client* p = publisher(); p && now_ns() >= next_probe) {
        publish(*p, 0);
        flush(*p);
        next_probe = now_ns() + 10'000'000;
      }
      poll_once(10);
    }
    for (Client& c : clients_)
      if (c.role == Client::Role::subscriber && c.phase == Client::Phase::open && !c.synced)
        fail(c, counts_.not_subscribed, "received no probe from the publisher");
  }

  void measure() {
    for (Client& c : clients_) {
      if (c.phase != Client::Phase::open) continue;
      if (c.role == Client::Role::echo) {
        const std::uint64_t now = now_ns();
        while (c.sent - c.received < config_.in_flight && may_send(c)) send_echo(c, now);
        flush(c);
      }
    }
    if (Client* p = publisher()) publish_more(*p);
    flush_publisher();
    report_if_finished();
    while (!shared_.stop.load(std::memory_order_acquire)) poll_once(-1);
    if (Client* p = publisher()) {
      shared_.final_seq.store(p->phase == Client::Phase::open ? p->sent : 0);
      shared_.final_known.store(true, std::memory_order_release);
    }
  }

  // Waits (bounded) for the messages still outstanding when the interval ended.
  void drain() {
    const std::uint64_t deadline = now_ns() + seconds_ns(config_.timeout);
    while (any([&](const Client& c) { return outstanding(c) != 0; }) && now_ns() < deadline) poll_once(10);
    for (Client& c : clients_)
      if (const std::uint64_t n = outstanding(c)) {
        counts_.lost += n;
        drop(c, "messages outstanding after the timeout");
      }
  }

  // Close handshakes, then waits (bounded) for the server to close TCP (RFC 6455 7.1.1).
  void close_all() {
    for (Client& c : clients_) {
      if (c.phase != Client::Phase::open) continue;
      c.phase = Client::Phase::closing;
      if (c.ws->close(1000) != wsframe::Error::ok) {
        fail(c, counts_.close_failed, "cannot close");
        continue;
      }
      flush(c);
    }
    const std::uint64_t deadline = now_ns() + seconds_ns(config_.timeout);
    while (any([](const Client& c) { return c.phase == Client::Phase::closing; }) && now_ns() < deadline) poll_once(10);
    for (Client& c : clients_)
      if (c.phase == Client::Phase::closing) fail(c, counts_.close_failed, "the server did not close in time");
  }

  // ---- connections ----
  void start_connect(Client& c) {
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return fail(c, counts_.connect_failed, std::strerror(errno));
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c.fd, reinterpret_cast<const sockaddr*>(&shared_.address), sizeof shared_.address) != 0 &&
        errno != EINPROGRESS)
      return fail(c, counts_.connect_failed, std::strerror(errno));
    epoll_event ev{EPOLLIN | EPOLLOUT, {.u64 = static_cast<std::uint64_t>(&c - clients_.data())}};
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev);
    c.writing = true;
  }

  void on_connected(Client& c) {
    int error = 0;
    socklen_t len = sizeof error;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) return fail(c, counts_.connect_failed, std::strerror(error));
    wsframe::ClientOptions options;
    options.host = shared_.host_header;
    options.path = config_.path;
    if (config_.deflate) options.deflate_offers = std::span(&deflate_offer_, 1);
    c.handshake.emplace(options);
    if (c.handshake->status() != wsframe::HandshakeStatus::need_more)
      return fail(c, counts_.handshake_failed, "invalid handshake options");
    c.phase = Client::Phase::handshaking;
    send_request(c);
  }

  void send_request(Client& c) {
    const std::string_view request = c.handshake->request();
    while (c.request_sent < request.size()) {
      const ssize_t n = ::send(c.fd, request.data() + c.request_sent, request.size() - c.request_sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return fail(c, counts_.handshake_failed, std::strerror(errno));
      }
      c.request_sent += static_cast<std::size_t>(n);
    }
    set_writing(c, c.request_sent < request.size());
  }

  void on_handshake_bytes(Client& c, std::span<std::byte> bytes) {
    const wsframe::HandshakeResult r = c.handshake->feed(bytes);
    if (r.status == wsframe::HandshakeStatus::need_more) return;
    if (r.status == wsframe::HandshakeStatus::reject) {
      char why[160];
      std::snprintf(why, sizeof why, "handshake failed (status %d): %.*s", c.handshake->status_code(),
                    static_cast<int>(wsframe::message(c.handshake->error()).size()),
                    wsframe::message(c.handshake->error()).data());
      return fail(c, counts_.handshake_failed, why);
    }
    const std::optional<wsframe::DeflateParameters> agreed = c.handshake->deflate();
    if (config_.deflate && !agreed) return fail(c, counts_.handshake_failed, "the server declined permessage-deflate");
    c.handshake.reset();
    c.ws.emplace(wsframe::Role::client, limits_,
                 wsframe::ConnectionOptions{.deflate = agreed, .compression = {.threshold = 0}});
    c.phase = Client::Phase::open;
    if (c.role == Client::Role::subscriber) shared_.subscribers_open.fetch_add(1);
    if (c.role == Client::Role::publisher) shared_.publisher_open.store(true);
    // Frames right behind the 101 lie in our buffer, which the Connection may unmask in place.
    const auto offset = static_cast<std::size_t>(r.leftover.data() - bytes.data());
    on_frame_bytes(c, bytes.subspan(offset, r.leftover.size()));
  }

  void on_frame_bytes(Client& c, std::span<std::byte> bytes) {
    c.ws->receive(bytes);
    while (const wsframe::Event ev = c.ws->next_event()) {
      switch (ev.type) {
        case wsframe::EventType::message:
          if (c.phase != Client::Phase::open) break;  // closing: data may still arrive
          if (c.role == Client::Role::echo ? !on_echo(c, ev) : !on_broadcast(c, ev)) return;
          break;
        case wsframe::EventType::error:
          return fail(c, counts_.protocol, wsframe::message(ev.error));
        case wsframe::EventType::close:
          if (c.phase != Client::Phase::closing) return fail(c, counts_.protocol, "the server sent a Close");
          break;
        default: break;  // pings are answered by the Connection
      }
    }
    if (c.phase == Client::Phase::open || c.phase == Client::Phase::closing) flush(c);
  }

  // The measured interval is over: nothing more is sent or counted. A relaxed load (a plain one on
  // x86) per message; the stop is published to the worker by its eventfd.
  bool stopped() const noexcept { return shared_.stop.load(std::memory_order_relaxed); }

  // ---- echo mode ----
  bool may_send(const Client& c) const noexcept {
    return !stopped() && (config_.messages == 0 || c.sent < config_.messages);
  }

  void send_echo(Client& c, std::uint64_t now) {
    const std::span<const std::byte> payload = shared_.pattern.echo(c.id, c.sent);
    const wsframe::Error e = config_.text ? c.ws->send_text({reinterpret_cast<const char*>(payload.data()), payload.size()})
                                          : c.ws->send_binary(payload);
    if (e != wsframe::Error::ok) return fail(c, counts_.protocol, wsframe::message(e));
    c.send_times[c.sent % config_.in_flight] = now;
    ++c.sent;
  }

  // False when the connection failed.
  bool on_echo(Client& c, const wsframe::Event& ev) {
    if (c.received == c.sent) {
      fail(c, counts_.mismatched, "a message we did not send");
      return false;
    }
    if (!matches(ev, shared_.pattern.echo(c.id, c.received))) {
      fail(c, counts_.mismatched, "the echo differs from the message sent");
      return false;
    }
    const std::uint64_t now = now_ns();
    if (!stopped()) {
      ++counts_.messages;
      latency_.record(now - c.send_times[c.received % config_.in_flight]);
    }
    ++c.received;
    if (may_send(c)) send_echo(c, now);
    else if (!c.finished && c.received == c.sent && !stopped()) {
      c.finished = true;
      ++finished_;
      report_if_finished();
    }
    return c.phase == Client::Phase::open;
  }

  bool matches(const wsframe::Event& ev, std::span<const std::byte> expected) const noexcept {
    return ev.kind == (config_.text ? wsframe::MessageKind::text : wsframe::MessageKind::binary) &&
           ev.payload.size() == expected.size() &&
           std::memcmp(ev.payload.data(), expected.data(), expected.size()) == 0;
  }

  // Echo with --messages: tells main once every connection here is done.
  void report_if_finished() {
    if (config_.mode != Mode::echo || config_.messages == 0 || reported_) return;
    if (finished_ + failed_ < clients_.size()) return;
    reported_ = true;
    shared_.workers_finished.fetch_add(1, std::memory_order_release);
  }

  // ---- broadcast mode ----
  Client* publisher() noexcept {
    return !clients_.empty() && clients_[0].role == Client::Role::publisher && clients_[0].phase == Client::Phase::open
               ? &clients_[0] : nullptr;
  }

  void publish(Client& p, std::uint64_t seq) {
    std::byte* m = publish_buffer_.data();
    put_hex(m, seq);
    put_hex(m + 16, now_ns());
    const std::span<const std::byte> body = shared_.pattern.window(seq * 61, config_.size - broadcast_header_size);
    std::memcpy(m + broadcast_header_size, body.data(), body.size());
    const wsframe::Error e = config_.text ? p.ws->send_text({reinterpret_cast<const char*>(m), config_.size})
                                          : p.ws->send_binary(publish_buffer_);
    if (e != wsframe::Error::ok) fail(p, counts_.protocol, wsframe::message(e));
  }

  // Keeps --in-flight messages not yet delivered to every subscriber. They are queued, and written
  // by poll_once() once it has handled all its events ("corking", as uWebSockets does): what the
  // subscribers' reads of one wakeup free goes to the server in one send, not one per message.
  void publish_more(Client& p) {
    const std::uint64_t completed = shared_.completed.load(std::memory_order_acquire);
    while (!stopped() && p.phase == Client::Phase::open && (config_.messages == 0 || p.sent < config_.messages) &&
           p.sent < completed + config_.in_flight) {
      publish(p, ++p.sent);
      ++counts_.published;
    }
  }

  void flush_publisher() {
    if (Client* p = publisher(); p && !p->ws->pending_output().empty()) flush(*p);
  }

  bool on_broadcast(Client& c, const wsframe::Event& ev) {
    const std::optional<std::uint64_t> seq = ev.payload.size() == config_.size ? get_hex(ev.payload.data()) : std::nullopt;
    const std::optional<std::uint64_t> sent_at = seq ? get_hex(ev.payload.data() + 16) : std::nullopt;
    const auto body = shared_.pattern.window(seq.value_or(0) * 61, config_.size - broadcast_header_size);
    if (!sent_at || ev.kind != (config_.text ? wsframe::MessageKind::text : wsframe::MessageKind::binary) ||
        std::memcmp(ev.payload.data() + broadcast_header_size, body.data(), body.size()) != 0) {
      fail(c, counts_.mismatched, "a message that is not the publisher's");
      return false;
    }
    if (*seq == 0) {  // a probe
      if (c.last_seq != 0) {
        fail(c, counts_.mismatched, "a probe after the run started");
        return false;
      }
      if (c.role == Client::Role::subscriber && !c.synced) {
        c.synced = true;
        shared_.subscribers_synced.fetch_add(1);
      }
      return true;
    }
    if (*seq != c.last_seq + 1) {
      char why[96];
      std::snprintf(why, sizeof why, "message %llu after %llu", static_cast<unsigned long long>(*seq),
                    static_cast<unsigned long long>(c.last_seq));
      fail(c, counts_.mismatched, why);
      return false;
    }
    c.last_seq = *seq;
    if (c.role != Client::Role::subscriber) return true;  // the publisher's own message back
    if (!stopped()) {
      ++counts_.messages;
      latency_.record(now_ns() - *sent_at);
    }
    delivered(*seq);
    return true;
  }

  // Counts a delivery; the last subscriber to receive a message lets the publisher send more.
  void delivered(std::uint64_t seq) {
    std::atomic<unsigned>& slot = shared_.delivered[seq % config_.in_flight];
    if (slot.fetch_add(1, std::memory_order_acq_rel) + 1 != shared_.subscribers_synced.load(std::memory_order_relaxed)) return;
    slot.store(0, std::memory_order_relaxed);
    std::uint64_t done = shared_.completed.load();
    while (done < seq && !shared_.completed.compare_exchange_weak(done, seq)) {
    }
    if (Client* p = publisher()) publish_more(*p);
    else if (shared_.publisher_wake_fd >= 0) {
      const std::uint64_t one = 1;
      [[maybe_unused]] const ssize_t n = ::write(shared_.publisher_wake_fd, &one, sizeof one);
    }
  }

  // Messages this client still waits for.
  std::uint64_t outstanding(const Client& c) const noexcept {
    if (c.phase != Client::Phase::open) return 0;
    if (c.role == Client::Role::echo) return c.sent - c.received;
    if (c.role == Client::Role::subscriber && shared_.final_known.load(std::memory_order_acquire)) {
      const std::uint64_t last = shared_.final_seq.load();
      return last > c.last_seq ? last - c.last_seq : 0;
    }
    return c.role == Client::Role::subscriber ? 1 : 0;  // until the publisher says how many
  }

  // ---- I/O ----
  void poll_once(int timeout_ms) {
    epoll_event events[256];
    const int n = epoll_wait(epoll_fd_, events, 256, timeout_ms);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == wake_token) {
        std::uint64_t v;
        [[maybe_unused]] const ssize_t r = ::read(wake_fd_, &v, sizeof v);
        if (Client* p = publisher()) publish_more(*p);
        continue;
      }
      Client& c = clients_[events[i].data.u64];
      const std::uint32_t what = events[i].events;
      if (c.phase == Client::Phase::connecting) {
        if (what & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(c);
        continue;
      }
      if ((what & EPOLLOUT) && c.phase == Client::Phase::handshaking) send_request(c);
      else if ((what & EPOLLOUT) && c.phase != Client::Phase::done) flush(c);
      if ((what & (EPOLLIN | EPOLLERR | EPOLLHUP)) && c.phase != Client::Phase::done) on_readable(c);
    }
    flush_publisher();
  }

  void on_readable(Client& c) {
    const ssize_t n = ::recv(c.fd, buffer_.get(), read_buffer_size, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
      if (c.phase == Client::Phase::closing && n == 0 && c.ws->state() == wsframe::ConnectionState::closed) return finish(c);
      return fail(c, c.phase == Client::Phase::handshaking ? counts_.handshake_failed
                     : c.phase == Client::Phase::closing    ? counts_.close_failed
                                                            : counts_.protocol,
                  n == 0 ? "the server closed the connection" : std::strerror(errno));
    }
    const std::span<std::byte> bytes(buffer_.get(), static_cast<std::size_t>(n));
    if (c.phase == Client::Phase::handshaking) on_handshake_bytes(c, bytes);
    else on_frame_bytes(c, bytes);
  }

  // Writes what the socket takes: one send() for everything queued since the last one.
  void flush(Client& c) {
    for (auto out = c.ws->pending_output(); !out.empty(); out = c.ws->pending_output()) {
      const ssize_t n = ::send(c.fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return fail(c, c.phase == Client::Phase::closing ? counts_.close_failed : counts_.protocol, std::strerror(errno));
      }
      c.ws->consume_output(static_cast<std::size_t>(n));
    }
    set_writing(c, !c.ws->pending_output().empty());
  }

  void set_writing(Client& c, bool writing) {
    if (c.writing == writing) return;
    c.writing = writing;
    epoll_event ev{EPOLLIN | (writing ? EPOLLOUT : 0u), {.u64 = static_cast<std::uint64_t>(&c - clients_.data())}};
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void finish(Client& c) {
    ::close(c.fd);
    c.fd = -1;
    c.phase = Client::Phase::done;
  }

  // Counts the error and drops the connection.
  void fail(Client& c, std::uint64_t& counter, std::string_view why) {
    if (c.phase == Client::Phase::done) return;
    ++counter;
    drop(c, why);
  }

  // Closes the connection; the first few reasons per thread are printed.
  void drop(Client& c, std::string_view why) {
    if (reported_errors_++ < 5)
      std::fprintf(stderr, "wsframe-load: connection %llu: %.*s\n", static_cast<unsigned long long>(c.id),
                   static_cast<int>(why.size()), why.data());
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
    c.phase = Client::Phase::done;
    if (!c.finished) {
      ++failed_;
      report_if_finished();
    }
  }

  template <class Predicate>
  bool any(Predicate p) const {
    return std::any_of(clients_.begin(), clients_.end(), p);
  }

  static std::uint64_t seconds_ns(double s) { return static_cast<std::uint64_t>(s * 1e9); }

  Shared& shared_;
  const Config& config_;
  unsigned index_;
  int epoll_fd_ = -1, wake_fd_ = -1;
  std::unique_ptr<std::byte[]> buffer_;  // one read buffer: events are drained before the next read
  std::vector<Client> clients_;
  std::vector<std::byte> publish_buffer_;
  wsframe::Limits limits_;
  const wsframe::DeflateParameters deflate_offer_{};  // with --deflate: the defaults (15-bit windows, context takeover)
  Counts counts_;
  Histogram latency_;
  bool reported_ = false;
  std::size_t finished_ = 0, failed_ = 0;
  unsigned reported_errors_ = 0;
};

// ---- CPU accounting ---------------------------------------------------------------------------
double own_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// utime + stime of a process (all its threads) from /proc/PID/stat; nullopt if unreadable.
std::optional<double> process_cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  const std::size_t paren = line.rfind(')');  // the command name may contain spaces
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // field 3 is the state; 14 utime, 15 stime
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// As far as the hard limit allows; says so when that is too few for the connections asked for.
void raise_open_file_limit(const Config& config) {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return;
  r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);
  const rlim_t needed = config.connections + 1 + 2 * config.threads + 16;  // sockets, epoll and eventfds, stdio
  if (r.rlim_cur < needed)
    std::fprintf(stderr, "wsframe-load: the open file limit is %llu: not enough for %u connections\n",
                 static_cast<unsigned long long>(r.rlim_cur), config.connections);
}

// ---- arguments ------------------------------------------------------------------------------
constexpr wsframe_tools::Program program{
    "wsframe-load",
    "usage: wsframe-load ws://HOST:PORT[/PATH] [--mode echo|broadcast] [--connections 100] [--size 20]\n"
    "                    [--text] [--deflate] [--in-flight 1] [--duration 5] [--messages N]\n"
    "                    [--timeout 10] [--threads 1] [--cpu LIST] [--server-pid PID] [--json]\n"
    "  --connections  echo: connections; broadcast: subscribers (plus one publisher)\n"
    "  --messages     echo: per connection; broadcast: published (the run ends earlier if they are done)\n"
    "  --cpu 0,2-3    pins thread i to the i-th CPU of the list (cycling)\n"};

std::vector<int> parse_cpus(std::string_view list) {
  std::vector<int> cpus;
  while (!list.empty()) {
    const std::size_t comma = std::min(list.find(','), list.size());
    const std::string_view item = list.substr(0, comma);
    list.remove_prefix(std::min(comma + 1, list.size()));
    const std::size_t dash = item.find('-');
    const int first = program.number<int>("--cpu", item.substr(0, dash));
    const int last = dash == std::string_view::npos ? first : program.number<int>("--cpu", item.substr(dash + 1));
    if (first < 0 || last < first || last >= CPU_SETSIZE) program.usage(2);
    for (int c = first; c <= last; ++c) cpus.push_back(c);
  }
  return cpus;
}

// ws://HOST:PORT[/PATH]; HOST an IPv4 address or a name.
void parse_uri(std::string_view uri, Config& config) {
  if (!uri.starts_with("ws://")) program.usage(2);
  uri.remove_prefix(5);
  const std::size_t slash = std::min(uri.find('/'), uri.size());
  const std::string_view authority = uri.substr(0, slash);
  config.path = slash < uri.size() ? std::string(uri.substr(slash)) : "/";
  const std::size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos) program.usage(2);
  config.host = std::string(authority.substr(0, colon));
  config.port = program.number<std::uint16_t>("the port", authority.substr(colon + 1));
}

Config parse_arguments(int argc, char** argv) {
  Config config;
  bool have_uri = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") program.usage(0);
    if (!flag.starts_with("--")) {
      parse_uri(flag, config);
      have_uri = true;
      continue;
    }
    if (flag == "--text") { config.text = true; continue; }
    if (flag == "--deflate") { config.deflate = true; continue; }
    if (flag == "--json") { config.json = true; continue; }
    if (i + 1 >= argc) program.usage(2);
    const std::string_view value = argv[++i];
    if (flag == "--mode") {
      if (value == "echo") config.mode = Mode::echo;
      else if (value == "broadcast") config.mode = Mode::broadcast;
      else program.usage(2);
    } else if (flag == "--connections") config.connections = program.number<unsigned>(flag, value);
    else if (flag == "--size") config.size = program.number<std::size_t>(flag, value);
    else if (flag == "--in-flight") config.in_flight = program.number<unsigned>(flag, value);
    else if (flag == "--duration") config.duration = program.number<double>(flag, value);
    else if (flag == "--messages") config.messages = program.number<std::uint64_t>(flag, value);
    else if (flag == "--timeout") config.timeout = program.number<double>(flag, value);
    else if (flag == "--threads") config.threads = program.number<unsigned>(flag, value);
    else if (flag == "--cpu") config.cpus = parse_cpus(value);
    else if (flag == "--server-pid") config.server_pid = program.number<int>(flag, value);
    else program.usage(2);
  }
  if (!have_uri || config.connections == 0 || config.in_flight == 0 || config.threads == 0 || config.threads > 256 ||
      !(config.duration > 0) || !(config.timeout > 0) || config.size > (64u << 20))
    program.usage(2);
  if (config.mode == Mode::broadcast && config.size < broadcast_header_size) {
    std::fprintf(stderr, "wsframe-load: broadcast messages carry a %zu-byte header: --size must be at least that\n",
                 broadcast_header_size);
    std::exit(2);
  }
  if (config.deflate && !wsframe::deflate_available()) {
    std::fprintf(stderr, "wsframe-load: --deflate: this wsframe was built without zlib\n");
    std::exit(2);
  }
  config.threads = std::min(config.threads, config.connections);
  return config;
}

bool resolve(const Config& config, sockaddr_in& address) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(config.host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) return false;
  std::memcpy(&address, found->ai_addr, sizeof address);
  address.sin_port = htons(config.port);
  freeaddrinfo(found);
  return true;
}

// ---- the report -----------------------------------------------------------------------------
struct Report {
  double seconds = 0;
  Counts counts;
  Histogram latency;
  double own_cpu = 0;
  std::optional<double> server_cpu;
};

void print_report(const Config& config, const Report& r) {
  const bool echo = config.mode == Mode::echo;
  const double rate = static_cast<double>(r.counts.messages) / r.seconds;
  const double mb = rate * static_cast<double>(config.size) / 1e6;
  const char* kind = config.text ? "text" : "binary";
  if (echo)
    std::printf("wsframe-load echo: %u connections x %zu B %s%s, %u in flight, %u thread(s), %.2f s\n", config.connections,
                config.size, kind, config.deflate ? " deflate" : "", config.in_flight, config.threads, r.seconds);
  else
    std::printf("wsframe-load broadcast: 1 publisher, %u subscribers, %zu B %s%s, %u in flight, %u thread(s), %.2f s\n",
                config.connections, config.size, kind, config.deflate ? " deflate" : "", config.in_flight,
                config.threads, r.seconds);
  if (echo) std::printf("  messages/s  %.0f  (%.2f MB/s of payload each way)\n", rate, mb);
  else
    std::printf("  published/s %.0f  deliveries/s %.0f  (%.2f MB/s of payload delivered)\n",
                static_cast<double>(r.counts.published) / r.seconds, rate, mb);
  std::printf("  latency (%s) us: p50 %.1f  p99 %.1f  p999 %.1f  max %.1f  mean %.1f\n", echo ? "round trip" : "send to receipt",
              r.latency.quantile(0.5) / 1e3, r.latency.quantile(0.99) / 1e3, r.latency.quantile(0.999) / 1e3,
              static_cast<double>(r.latency.max()) / 1e3, r.latency.mean() / 1e3);
  const Counts& c = r.counts;
  std::printf("  errors %llu (connect %llu, handshake %llu, not subscribed %llu, protocol %llu, mismatched %llu, lost %llu, close %llu)\n",
              static_cast<unsigned long long>(c.errors()), static_cast<unsigned long long>(c.connect_failed),
              static_cast<unsigned long long>(c.handshake_failed), static_cast<unsigned long long>(c.not_subscribed),
              static_cast<unsigned long long>(c.protocol), static_cast<unsigned long long>(c.mismatched),
              static_cast<unsigned long long>(c.lost), static_cast<unsigned long long>(c.close_failed));
  const double per_message_us = c.messages ? r.own_cpu / static_cast<double>(c.messages) * 1e6 : 0;
  std::printf("  generator CPU %.1f%% of one core, %.3f us per message", 100 * r.own_cpu / r.seconds, per_message_us);
  if (r.server_cpu)
    std::printf("; server (pid %d) CPU %.1f%% of one core, %.3f us per message", config.server_pid,
                100 * *r.server_cpu / r.seconds, c.messages ? *r.server_cpu / static_cast<double>(c.messages) * 1e6 : 0);
  std::printf("\n");
  if (!config.json) return;
  std::printf("{\"tool\":\"wsframe-load\",\"mode\":\"%s\",\"connections\":%u,\"size\":%zu,\"kind\":\"%s\",\"deflate\":%s,"
              "\"in_flight\":%u,\"threads\":%u,\"seconds\":%.4f,\"messages\":%llu,\"published\":%llu,"
              "\"messages_per_s\":%.1f,\"mb_per_s\":%.3f,"
              "\"latency_us\":{\"p50\":%.2f,\"p99\":%.2f,\"p999\":%.2f,\"max\":%.2f,\"mean\":%.2f},"
              "\"errors\":%llu,\"generator_cpu_share\":%.4f,\"generator_cpu_us_per_message\":%.4f",
              echo ? "echo" : "broadcast", config.connections, config.size, kind, config.deflate ? "true" : "false",
              config.in_flight, config.threads, r.seconds, static_cast<unsigned long long>(c.messages),
              static_cast<unsigned long long>(c.published), rate, mb, r.latency.quantile(0.5) / 1e3,
              r.latency.quantile(0.99) / 1e3, r.latency.quantile(0.999) / 1e3, static_cast<double>(r.latency.max()) / 1e3,
              r.latency.mean() / 1e3, static_cast<unsigned long long>(c.errors()), r.own_cpu / r.seconds, per_message_us);
  if (r.server_cpu)
    std::printf(",\"server_pid\":%d,\"server_cpu_share\":%.4f,\"server_cpu_us_per_message\":%.4f", config.server_pid,
                *r.server_cpu / r.seconds, c.messages ? *r.server_cpu / static_cast<double>(c.messages) * 1e6 : 0);
  std::printf("}\n");
}

}  // namespace

int main(int argc, char** argv) {
  const Config config = parse_arguments(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  raise_open_file_limit(config);
  if (!config.cpus.empty()) {  // main and every thread stay on the listed CPUs
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c : config.cpus) CPU_SET(c, &set);
    sched_setaffinity(0, sizeof set, &set);
  }

  Shared shared(config, config.threads + 1);
  if (!resolve(config, shared.address)) {
    std::fprintf(stderr, "wsframe-load: cannot resolve %s\n", config.host.c_str());
    return 2;
  }
  shared.host_header = config.host + ":" + std::to_string(config.port);

  // Connections split evenly; in broadcast mode the publisher is the first connection of thread 0.
  std::vector<std::unique_ptr<Worker>> workers;
  std::uint64_t first_id = 0;
  for (unsigned i = 0; i < config.threads; ++i) {
    const unsigned count = config.connections / config.threads + (i < config.connections % config.threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(shared, i, first_id, count, config.mode == Mode::broadcast && i == 0));
    first_id += count + (config.mode == Mode::broadcast && i == 0 ? 1 : 0);
  }
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w] { w->run(); });

  shared.barrier.arrive_and_wait();  // connected
  shared.barrier.arrive_and_wait();  // subscribed
  Report report;
  const std::uint64_t start = now_ns();
  const double own_start = own_cpu_seconds();
  const std::optional<double> server_start = config.server_pid ? process_cpu_seconds(config.server_pid) : std::nullopt;
  shared.barrier.arrive_and_wait();  // measuring

  const std::uint64_t end = start + static_cast<std::uint64_t>(config.duration * 1e9);
  const auto done = [&] {
    if (config.messages == 0) return false;
    if (config.mode == Mode::echo) return shared.workers_finished.load(std::memory_order_acquire) == config.threads;
    return shared.completed.load() >= config.messages;
  };
  // With --messages, a look every 2 ms whether they are done; else one sleep.
  const std::uint64_t step = config.messages ? 2'000'000 : UINT64_MAX;
  while (now_ns() < end && !done()) {
    const std::uint64_t left = end - std::min(end, now_ns());
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min(left, step)));
  }
  shared.stop.store(true, std::memory_order_release);
  report.seconds = static_cast<double>(now_ns() - start) / 1e9;
  report.own_cpu = own_cpu_seconds() - own_start;
  if (server_start)
    if (const std::optional<double> server_end = process_cpu_seconds(config.server_pid))
      report.server_cpu = *server_end - *server_start;
  for (auto& w : workers) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(w->wake_fd(), &one, sizeof one);
  }
  for (auto& t : threads) t.join();

  for (auto& w : workers) {
    report.counts.add(w->counts());
    report.latency.merge(w->latency());
  }
  if (config.server_pid && !report.server_cpu)
    std::fprintf(stderr, "wsframe-load: cannot read /proc/%d/stat\n", config.server_pid);
  print_report(config, report);
  if (report.counts.messages == 0) std::fprintf(stderr, "wsframe-load: no message was done\n");
  return report.counts.errors() == 0 && report.counts.messages > 0 ? 0 : 1;
}
