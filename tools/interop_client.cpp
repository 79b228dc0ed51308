// wsframe-client: the wsframe client (ClientHandshake + Connection in the client role) against an
// echo server, the reverse direction of the interop tests (tests/interop/server.py, server.js).
//
//   wsframe-client ws://127.0.0.1:PORT [--only PREFIX]
//
// Each case opens its own connection and prints `PASS <case>` or `FAIL <case>: <why>`; the exit
// status is non-zero when any case fails. Every wait has a deadline (poll), and so has the run.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "wsframe/wsframe.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::byte>;
constexpr auto step_timeout = std::chrono::seconds(30);
constexpr unsigned run_timeout_seconds = 300;

struct Failure {
  std::string why;
};

void expect(bool condition, std::string why) {
  if (!condition) throw Failure{std::move(why)};
}

// An event with its payload copied out (event spans die at the next receive()).
struct Received {
  wsframe::EventType type;
  wsframe::MessageKind kind;
  std::uint16_t close_code;
  Bytes payload;
};

std::string host_port;  // "127.0.0.1:PORT"
sockaddr_in server_address{};

// One client connection driven by poll(): reads and writes at the same time, so a large echo
// never deadlocks against a server that applies backpressure.
class Session {
 public:
  Session() : buffer_(64 * 1024) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    expect(fd_ >= 0, "socket failed");
    expect(connect(fd_, reinterpret_cast<const sockaddr*>(&server_address), sizeof server_address) == 0,
           std::string("connect: ") + std::strerror(errno));
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
    handshake();
  }
  ~Session() { ::close(fd_); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  wsframe::Connection& connection() { return *conn_; }

  // Pumps I/O until an event arrives; returns it.
  Received next() {
    pump([&] { return !events_.empty(); }, "an event");
    Received r = std::move(events_.front());
    events_.pop_front();
    return r;
  }

  // Pumps until our output is written and the server has closed TCP (RFC 6455 7.1.1: after the
  // close handshake the server closes first).
  void wait_for_server_close() {
    pump([&] { return eof_; }, "the server closing TCP");
  }

  void send_all() {
    pump([&] { return conn_->pending_output().empty(); }, "writing our frames");
  }

 private:
  void handshake() {
    wsframe::ClientOptions options;
    options.host = host_port;
    options.path = "/";
    wsframe::ClientHandshake hs(options);
    expect(hs.status() == wsframe::HandshakeStatus::need_more, "ClientHandshake: invalid options");
    const std::string_view request = hs.request();
    std::size_t written = 0;
    const auto deadline = Clock::now() + step_timeout;
    while (hs.status() == wsframe::HandshakeStatus::need_more) {
      const bool want_write = written < request.size();
      const short ready = wait(want_write, deadline, "the handshake response");
      if ((ready & POLLOUT) && want_write) {
        const ssize_t n = ::send(fd_, request.data() + written, request.size() - written, MSG_NOSIGNAL);
        expect(n >= 0 || errno == EAGAIN, std::string("send: ") + std::strerror(errno));
        if (n > 0) written += static_cast<std::size_t>(n);
      }
      if (ready & (POLLIN | POLLHUP | POLLERR)) {
        const std::size_t n = read_some();
        if (n == SIZE_MAX) continue;  // nothing to read yet
        expect(n > 0, "the server closed the connection during the handshake");
        const wsframe::HandshakeResult r = hs.feed(std::span<const std::byte>(buffer_.data(), n));
        if (r.status == wsframe::HandshakeStatus::reject)
          throw Failure{"handshake rejected (status " + std::to_string(hs.status_code()) + "): " +
                        std::string(wsframe::message(hs.error()))};
        if (r.status == wsframe::HandshakeStatus::accept) {
          conn_.emplace(wsframe::Role::client, limits());
          // The server may have sent frames right behind its 101: they lie in our buffer.
          const auto offset = static_cast<std::size_t>(r.leftover.data() - buffer_.data());
          take(std::span(buffer_).subspan(offset, r.leftover.size()));
        }
      }
    }
  }

  static wsframe::Limits limits() {
    wsframe::Limits l;
    l.max_message_size = l.max_frame_size = 32u << 20;
    l.max_output_bytes = 64u << 20;
    return l;
  }

  std::size_t read_some() {
    const ssize_t n = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
    if (n < 0) {
      expect(errno == EAGAIN || errno == EWOULDBLOCK, std::string("recv: ") + std::strerror(errno));
      return SIZE_MAX;  // nothing yet
    }
    return static_cast<std::size_t>(n);
  }

  void take(std::span<std::byte> bytes) {
    conn_->receive(bytes);
    while (const wsframe::Event ev = conn_->next_event())
      events_.push_back({ev.type, ev.kind, ev.close_code, Bytes(ev.payload.begin(), ev.payload.end())});
  }

  short wait(bool want_write, Clock::time_point deadline, const char* what) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    expect(left > 0, std::string("timed out waiting for ") + what);
    pollfd p{fd_, static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0};
    const int n = poll(&p, 1, static_cast<int>(left));
    expect(n >= 0 || errno == EINTR, std::string("poll: ") + std::strerror(errno));
    return n > 0 ? p.revents : 0;
  }

  void pump(const std::function<bool()>& done, const char* what) {
    const auto deadline = Clock::now() + step_timeout;
    while (!done()) {
      expect(!eof_, std::string("the server closed TCP while waiting for ") + what);
      const auto out = conn_->pending_output();
      const short ready = wait(!out.empty(), deadline, what);
      if ((ready & POLLOUT) && !out.empty()) {
        const ssize_t n = ::send(fd_, out.data(), out.size(), MSG_NOSIGNAL);
        expect(n >= 0 || errno == EAGAIN, std::string("send: ") + std::strerror(errno));
        if (n > 0) conn_->consume_output(static_cast<std::size_t>(n));
      }
      if (ready & (POLLIN | POLLHUP | POLLERR)) {
        const std::size_t n = read_some();
        if (n == 0) eof_ = true;
        else if (n != SIZE_MAX) take(std::span(buffer_).first(n));
      }
    }
  }

  int fd_ = -1;
  Bytes buffer_;
  std::optional<wsframe::Connection> conn_;
  std::deque<Received> events_;
  bool eof_ = false;
};

std::mt19937_64 rng(6455);

Bytes random_bytes(std::size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::byte>(rng() & 0xff);
  return b;
}

// UTF-8 text of exactly n bytes mixing 1- to 4-byte code points.
std::string text_of_length(std::size_t n) {
  static constexpr std::string_view unit = "κόσμε-€𝄞 abc ";
  std::string s;
  s.reserve(n);
  while (s.size() + unit.size() <= n) s += unit;
  s.append(n - s.size(), 'x');
  return s;
}

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

void check(wsframe::Error e, const char* what) {
  expect(e == wsframe::Error::ok, std::string(what) + ": " + std::string(wsframe::message(e)));
}

void expect_message(Session& s, wsframe::MessageKind kind, std::span<const std::byte> sent) {
  for (;;) {
    const Received r = s.next();
    if (r.type == wsframe::EventType::pong || r.type == wsframe::EventType::ping) continue;
    expect(r.type == wsframe::EventType::message,
           "expected a message, got event type " + std::to_string(static_cast<int>(r.type)) +
               (r.type == wsframe::EventType::error || r.type == wsframe::EventType::close
                    ? " with close code " + std::to_string(r.close_code) : ""));
    expect(r.kind == kind, kind == wsframe::MessageKind::text ? "sent text, received binary" : "sent binary, received text");
    if (!std::equal(sent.begin(), sent.end(), r.payload.begin(), r.payload.end())) {
      std::size_t i = 0;
      while (i < sent.size() && i < r.payload.size() && sent[i] == r.payload[i]) ++i;
      throw Failure{"echo differs: sent " + std::to_string(sent.size()) + " bytes, received " +
                    std::to_string(r.payload.size()) + ", first difference at " + std::to_string(i)};
    }
    return;
  }
}

void close_and_expect(Session& s, std::uint16_t code, std::string_view reason) {
  check(s.connection().close(code, reason), "close");
  for (;;) {
    const Received r = s.next();
    if (r.type != wsframe::EventType::close) continue;  // e.g. a late pong
    expect(r.close_code == code, "close echo code " + std::to_string(r.close_code) + ", expected " + std::to_string(code));
    break;
  }
  expect(s.connection().state() == wsframe::ConnectionState::closed, "not closed after both Close frames");
  s.wait_for_server_close();
}

// --- cases -------------------------------------------------------------------------------------

std::function<void()> echo_text(std::size_t n) {
  return [n] {
    Session s;
    const std::string text = text_of_length(n);
    check(s.connection().send_text(text), "send_text");
    expect_message(s, wsframe::MessageKind::text, bytes_of(text));
    close_and_expect(s, 1000, "");
  };
}

std::function<void()> echo_binary(std::size_t n) {
  return [n] {
    Session s;
    const Bytes data = random_bytes(n);
    check(s.connection().send_binary(data), "send_binary");
    expect_message(s, wsframe::MessageKind::binary, data);
    close_and_expect(s, 1000, "");
  };
}

void fragmented_text() {
  Session s;
  const std::string word = "κόσμε";  // the first fragment ends inside a code point
  auto& c = s.connection();
  check(c.begin_message(wsframe::MessageKind::text, bytes_of(word).first(1)), "begin_message");
  check(c.send_ping(bytes_of("between fragments")), "send_ping");
  check(c.continue_message(bytes_of(word).subspan(1, 5)), "continue_message");
  check(c.continue_message({}), "continue_message (empty)");
  check(c.finish_message(bytes_of(word).subspan(6)), "finish_message");
  for (;;) {  // the pong comes back before the message (the server answers it at once)
    const Received r = s.next();
    expect(r.type == wsframe::EventType::pong, "expected the pong of the ping between fragments first");
    expect(r.payload == Bytes(bytes_of("between fragments").begin(), bytes_of("between fragments").end()),
           "pong payload differs");
    break;
  }
  expect_message(s, wsframe::MessageKind::text, bytes_of(word));
  close_and_expect(s, 1000, "");
}

void fragmented_binary_1000_pieces() {
  Session s;
  auto& c = s.connection();
  Bytes all;
  for (int i = 0; i < 1000; ++i) {
    const Bytes piece = random_bytes(100);
    all.insert(all.end(), piece.begin(), piece.end());
    const wsframe::Error e = i == 0 ? c.begin_message(wsframe::MessageKind::binary, piece)
                             : i == 999 ? c.finish_message(piece) : c.continue_message(piece);
    check(e, "fragment");
  }
  expect_message(s, wsframe::MessageKind::binary, all);
  close_and_expect(s, 1000, "");
}

void ping() {
  Session s;
  for (const Bytes& payload : {Bytes{}, random_bytes(5), random_bytes(125)}) {
    check(s.connection().send_ping(payload), "send_ping");
    const Received r = s.next();
    expect(r.type == wsframe::EventType::pong, "expected a pong");
    expect(r.payload == payload, "pong payload differs from the ping's");
  }
  close_and_expect(s, 1000, "");
}

void close_with_code_and_reason() {
  Session s;
  close_and_expect(s, 4000, "done here");
}

void close_going_away() {
  Session s;
  close_and_expect(s, 1001, "going away");
}

void burst_of_500_pipelined() {
  Session s;
  std::vector<std::pair<wsframe::MessageKind, Bytes>> sent;
  for (int i = 0; i < 500; ++i) {
    if (i % 2) {
      const std::string t = text_of_length(rng() % 3000);
      check(s.connection().send_text(t), "send_text");
      sent.emplace_back(wsframe::MessageKind::text, Bytes(bytes_of(t).begin(), bytes_of(t).end()));
    } else {
      Bytes b = random_bytes(rng() % 70000);
      check(s.connection().send_binary(b), "send_binary");
      sent.emplace_back(wsframe::MessageKind::binary, std::move(b));
    }
  }
  for (const auto& [kind, data] : sent) expect_message(s, kind, data);
  close_and_expect(s, 1000, "");
}

bool parse_uri(std::string_view uri) {
  constexpr std::string_view scheme = "ws://";
  if (!uri.starts_with(scheme)) return false;
  host_port = std::string(uri.substr(scheme.size()));
  if (!host_port.empty() && host_port.back() == '/') host_port.pop_back();
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos) return false;
  const std::string host = host_port.substr(0, colon);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(host_port.data() + colon + 1, host_port.data() + host_port.size(), port);
  if (ec != std::errc{} || port == 0 || port > 65535) return false;
  server_address.sin_family = AF_INET;
  server_address.sin_port = htons(static_cast<std::uint16_t>(port));
  return inet_pton(AF_INET, host.c_str(), &server_address.sin_addr) == 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> only;
  std::string_view uri;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--only" && i + 1 < argc) only.emplace_back(argv[++i]);
    else uri = arg;
  }
  if (!parse_uri(uri)) {
    std::fprintf(stderr, "usage: wsframe-client ws://IPV4:PORT [--only PREFIX]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  alarm(run_timeout_seconds);  // the whole run's deadline: SIGALRM ends the process

  std::vector<std::pair<std::string, std::function<void()>>> cases;
  for (std::size_t n : {0u, 125u, 126u, 65535u, 65536u, 16u << 20}) cases.emplace_back("echo_text_" + std::to_string(n), echo_text(n));
  for (std::size_t n : {0u, 125u, 126u, 65535u, 65536u, 16u << 20}) cases.emplace_back("echo_binary_" + std::to_string(n), echo_binary(n));
  cases.emplace_back("fragmented_text_split_code_point_ping_between", fragmented_text);
  cases.emplace_back("fragmented_1000_pieces", fragmented_binary_1000_pieces);
  cases.emplace_back("ping", ping);
  cases.emplace_back("close_with_code_and_reason", close_with_code_and_reason);
  cases.emplace_back("close_going_away", close_going_away);
  cases.emplace_back("burst_of_500_pipelined", burst_of_500_pipelined);

  int failures = 0;
  for (const auto& [name, run] : cases) {
    const std::string_view case_name = name;  // clang 14 cannot capture a structured binding
    if (!only.empty() && std::none_of(only.begin(), only.end(), [&](std::string_view p) { return case_name.starts_with(p); }))
      continue;
    const auto start = Clock::now();
    try {
      run();
      std::printf("PASS %s (%.2f s)\n", name.c_str(), std::chrono::duration<double>(Clock::now() - start).count());
    } catch (const Failure& f) {
      ++failures;
      std::printf("FAIL %s: %s\n", name.c_str(), f.why.c_str());
    }
    std::fflush(stdout);
  }
  std::printf("wsframe client (backend %.*s): %s\n", static_cast<int>(wsframe::active().name.size()),
              wsframe::active().name.data(), failures == 0 ? "all passed" : (std::to_string(failures) + " failed").c_str());
  return failures == 0 ? 0 : 1;
}
