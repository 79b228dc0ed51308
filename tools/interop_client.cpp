// wsframe-client: the wsframe client (ClientHandshake + Connection in the client role) against an
// echo server, the reverse direction of the interop tests (tests/interop/server.py, server.js).
//
//   wsframe-client ws://127.0.0.1:PORT [--only PREFIX] [--skip PREFIX]
//                  [--deflate] [--deflate-offer PARAMS]... [--deflate-expect PARAMS]
//
// Each case opens its own connection and prints `PASS <case>` or `FAIL <case>: <why>`; the exit
// status is non-zero when any case fails. Every wait has a deadline (poll), and so has the run.
//
// --deflate: every connection offers permessage-deflate (RFC 7692) and fails unless the server
// accepts; we compress every message (threshold 0) and the echo cases check that large
// compressible echoes arrive compressed. The deflate_* cases follow: the agreement for each
// offer variation (window bits 8..15 both ways, no_context_takeover flags, two offers), context
// takeover over 1000 messages, and a bomb the server echoes back to us (our limit ends it in
// 1009). --deflate-offer "client_max_window_bits=10;server_no_context_takeover" replaces the
// default offer of the echo cases (repeat it for several offers, in order of preference);
// --deflate-expect PARAMS names parameters every agreement must carry (window bits at most the
// value): the server's wishes.
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
  std::uint8_t rsv = 0;  // message: RSV bits of its first frame (RSV1: it came compressed)
  wsframe::Error error = wsframe::Error::ok;
};

std::string host_port;  // "127.0.0.1:PORT"
sockaddr_in server_address{};

// --deflate: the offers of the echo cases (empty: no compression) and what every agreement must
// carry (flags set, window bits at most these).
std::vector<wsframe::DeflateParameters> deflate_offers;
wsframe::DeflateParameters deflate_expect;

// "server_no_context_takeover;client_max_window_bits=10" -> DeflateParameters; nullopt if invalid.
std::optional<wsframe::DeflateParameters> parse_deflate_parameters(std::string_view spec) {
  wsframe::DeflateParameters p;
  while (!spec.empty()) {
    const std::size_t end = std::min(spec.find(';'), spec.size());
    std::string_view item = spec.substr(0, end);
    spec.remove_prefix(std::min(end + 1, spec.size()));
    const std::size_t eq = item.find('=');
    const std::string_view name = item.substr(0, eq);
    unsigned bits = 0;
    if (eq != std::string_view::npos) {
      const std::string_view value = item.substr(eq + 1);
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), bits);
      if (ec != std::errc{} || ptr != value.data() + value.size() || bits < 8 || bits > 15) return std::nullopt;
    }
    const bool flag = eq == std::string_view::npos;
    if (name == "server_no_context_takeover" && flag) p.server_no_context_takeover = true;
    else if (name == "client_no_context_takeover" && flag) p.client_no_context_takeover = true;
    else if (name == "server_max_window_bits" && !flag) p.server_max_window_bits = static_cast<std::uint8_t>(bits);
    else if (name == "client_max_window_bits" && !flag) p.client_max_window_bits = static_cast<std::uint8_t>(bits);
    else if (!name.empty()) return std::nullopt;
  }
  return p;
}

std::string describe(const wsframe::DeflateParameters& p) {
  std::string s;
  if (p.server_no_context_takeover) s += "server_no_context_takeover ";
  if (p.client_no_context_takeover) s += "client_no_context_takeover ";
  s += "server_max_window_bits=" + std::to_string(p.server_max_window_bits);
  s += " client_max_window_bits=" + std::to_string(p.client_max_window_bits);
  return s;
}

// `agreed` carries every flag `wanted` has and windows no larger than its.
bool carries(const wsframe::DeflateParameters& agreed, const wsframe::DeflateParameters& wanted) {
  return (agreed.server_no_context_takeover || !wanted.server_no_context_takeover) &&
         (agreed.client_no_context_takeover || !wanted.client_no_context_takeover) &&
         agreed.server_max_window_bits <= wanted.server_max_window_bits &&
         agreed.client_max_window_bits <= wanted.client_max_window_bits;
}

struct SessionOptions {
  std::span<const wsframe::DeflateParameters> offers = deflate_offers;  // empty: no compression
  std::uint64_t max_message = 32u << 20;
};

// One client connection driven by poll(): reads and writes at the same time, so a large echo
// never deadlocks against a server that applies backpressure.
class Session {
 public:
  explicit Session(SessionOptions options = {}) : buffer_(64 * 1024), options_(options) {
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
  // The permessage-deflate agreement (nullopt without) and the server's extensions header.
  const std::optional<wsframe::DeflateParameters>& agreement() const { return agreement_; }
  const std::string& extensions_header() const { return extensions_header_; }
  // Frame bytes read from the server so far (after its 101).
  std::uint64_t bytes_received() const { return bytes_received_; }

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
    options.deflate_offers = options_.offers;
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
        const wsframe::WritableHandshakeResult r = hs.feed(std::span(buffer_).first(n));
        if (r.status == wsframe::HandshakeStatus::reject)
          throw Failure{"handshake rejected (status " + std::to_string(hs.status_code()) + "): " +
                        std::string(wsframe::message(hs.error()))};
        if (r.status == wsframe::HandshakeStatus::accept) {
          check_agreement(hs);
          conn_.emplace(wsframe::Role::client, limits(),
                        wsframe::ConnectionOptions{.deflate = agreement_, .compression = {.threshold = 0}});
          take(r.leftover);  // frames the server sent right behind its 101
        }
      }
    }
  }

  // With offers, the server must have accepted one (the handshake checked that its answer fits
  // them) under the --deflate-expect wishes; checked again here from the agreement itself.
  void check_agreement(const wsframe::ClientHandshake& hs) {
    agreement_ = hs.deflate();
    extensions_header_ = hs.header("Sec-WebSocket-Extensions");
    if (options_.offers.empty()) return;
    expect(agreement_.has_value(), "compression not agreed (Sec-WebSocket-Extensions: '" + extensions_header_ + "')");
    expect(std::any_of(options_.offers.begin(), options_.offers.end(),
                       [&](const wsframe::DeflateParameters& offer) { return carries(*agreement_, offer); }),
           "the agreement " + describe(*agreement_) + " honours none of our offers");
    expect(carries(*agreement_, deflate_expect),
           "the agreement " + describe(*agreement_) + " lacks what --deflate-expect wants: " + describe(deflate_expect));
  }

  wsframe::Limits limits() const {
    wsframe::Limits l;
    l.max_message_size = l.max_frame_size = options_.max_message;
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
    bytes_received_ += bytes.size();
    conn_->receive(bytes);
    while (const wsframe::Event ev = conn_->next_event())
      events_.push_back({ev.type, ev.kind, ev.close_code, Bytes(ev.payload.begin(), ev.payload.end()), ev.rsv, ev.error});
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
  SessionOptions options_;
  std::optional<wsframe::Connection> conn_;
  std::optional<wsframe::DeflateParameters> agreement_;
  std::string extensions_header_;
  std::uint64_t bytes_received_ = 0;
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

Received expect_message(Session& s, wsframe::MessageKind kind, std::span<const std::byte> sent) {
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
    return r;
  }
}

// A note the running case adds to its PASS line.
std::string case_note;

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
    const std::size_t sent = s.connection().pending_output().size();
    const Received echo = expect_message(s, wsframe::MessageKind::text, bytes_of(text));
    // text_of_length repeats a short unit: compressed both ways, it shrinks (random binary may not)
    if (s.agreement() && n >= 1024) {
      expect(sent * 10 <= n, "we sent " + std::to_string(n) + " compressible bytes in " + std::to_string(sent));
      expect((echo.rsv & wsframe::rsv1) != 0, "the echo of " + std::to_string(n) + " compressible bytes arrived uncompressed");
      expect(s.bytes_received() * 10 <= n, "the echo of " + std::to_string(n) + " compressible bytes took " +
                                               std::to_string(s.bytes_received()) + " bytes on the wire");
    }
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

// --- permessage-deflate cases (--deflate) --------------------------------------------------------

// A typical small trading message: similar to its neighbours, as context takeover likes.
std::string json_message(unsigned i) {
  char price[16];
  std::snprintf(price, sizeof price, "%.4f", 1.0842 + i * 1e-4);
  return R"({"type":"trade","seq":)" + std::to_string(i) + R"(,"symbol":"EURUSD","price":")" + price +
         R"(","qty":)" + std::to_string((i * 37) % 1000) + R"(,"side":")" + (i % 2 ? "buy" : "sell") + R"("})";
}

using Message = std::pair<wsframe::MessageKind, Bytes>;

Message text_message(std::string_view t) { return {wsframe::MessageKind::text, Bytes(bytes_of(t).begin(), bytes_of(t).end())}; }

// Sends them all, then expects their echoes in order; returns the echoes.
std::vector<Received> exchange(Session& s, const std::vector<Message>& messages) {
  for (const auto& [kind, data] : messages)
    check(kind == wsframe::MessageKind::text ? s.connection().send_text({reinterpret_cast<const char*>(data.data()), data.size()})
                                             : s.connection().send_binary(data),
          "send");
  std::vector<Received> echoes;
  for (const auto& [kind, data] : messages) echoes.push_back(expect_message(s, kind, data));
  return echoes;
}

// One agreement: echoes of every kind of message under it, then a fragmented one.
std::function<void()> deflate_variation(std::vector<wsframe::DeflateParameters> offers) {
  return [offers] {
    Session s({.offers = offers});
    const std::string big_text = text_of_length(100000);
    std::string joined;
    for (unsigned i = 0; i < 500; ++i) joined += json_message(i);
    std::vector<Message> messages{text_message(""), text_message("a"), text_message(big_text),
                                  {wsframe::MessageKind::binary, random_bytes(70000)},
                                  {wsframe::MessageKind::binary, text_message(joined).second}};
    for (unsigned i = 0; i < 100; ++i) messages.push_back(text_message(json_message(i)));
    const std::vector<Received> echoes = exchange(s, messages);
    expect((echoes[2].rsv & wsframe::rsv1) != 0, "the echo of 100000 compressible bytes arrived uncompressed");

    auto& c = s.connection();  // fragmented: the first fragment ends inside a code point
    const std::string word = "κόσμε", tail = text_of_length(20000);
    check(c.begin_message(wsframe::MessageKind::text, bytes_of(word).first(1)), "begin_message");
    check(c.continue_message(bytes_of(word).subspan(1)), "continue_message");
    check(c.continue_message({}), "continue_message (empty)");
    check(c.finish_message(bytes_of(tail)), "finish_message");
    expect_message(s, wsframe::MessageKind::text, bytes_of(word + tail));
    close_and_expect(s, 1000, "");
    case_note = "agreed " + s.extensions_header();
  };
}

std::vector<std::pair<std::string, std::vector<wsframe::DeflateParameters>>> deflate_variations() {
  using P = wsframe::DeflateParameters;
  std::vector<std::pair<std::string, std::vector<P>>> v{
      {"default", {P{}}},
      {"client_no_context_takeover", {P{.client_no_context_takeover = true}}},
      {"server_no_context_takeover", {P{.server_no_context_takeover = true}}},
      {"both_no_context_takeover", {P{.server_no_context_takeover = true, .client_no_context_takeover = true}}},
  };
  // 8: our compressor uses 9 bits (zlib's smallest), whose distances stay within 256 bytes
  for (std::uint8_t b = 8; b <= 15; ++b)
    v.push_back({"client_max_window_bits_" + std::to_string(b), {P{.client_max_window_bits = b}}});
  for (std::uint8_t b = 8; b <= 15; ++b)
    v.push_back({"server_max_window_bits_" + std::to_string(b), {P{.server_max_window_bits = b}}});
  v.push_back({"smallest_windows_no_context_takeover",
               {P{.server_no_context_takeover = true, .client_no_context_takeover = true,
                  .server_max_window_bits = 9, .client_max_window_bits = 9}}});
  return v;
}

void deflate_agreement() {
  Session s;
  expect(s.agreement().has_value(), "no agreement");
  case_note = "agreed " + s.extensions_header() + " = " + describe(*s.agreement());
  close_and_expect(s, 1000, "");
}

void deflate_two_offers_first_chosen() {
  const wsframe::DeflateParameters first{.server_no_context_takeover = true, .server_max_window_bits = 10,
                                         .client_max_window_bits = 11};
  const std::vector<wsframe::DeflateParameters> offers{first, {}};
  Session s({.offers = offers});
  expect(carries(*s.agreement(), first), "the server chose the second offer: " + describe(*s.agreement()));
  exchange(s, {text_message(text_of_length(30000)), {wsframe::MessageKind::binary, random_bytes(30000)},
               text_message(json_message(1)), text_message(json_message(2))});
  close_and_expect(s, 1000, "");
  case_note = "agreed " + s.extensions_header();
}

// Many similar messages in a row: with context takeover each refers to the ones before.
void deflate_context_takeover_1000_messages() {
  Session s;
  std::vector<Message> messages;
  std::size_t size = 0;
  for (unsigned i = 0; i < 1000; ++i) {
    messages.push_back(text_message(json_message(i)));
    size += messages.back().second.size();
  }
  const std::vector<Received> echoes = exchange(s, messages);
  const auto compressed = std::count_if(echoes.begin(), echoes.end(), [](const Received& r) { return (r.rsv & wsframe::rsv1) != 0; });
  const std::uint64_t wire = s.bytes_received();
  const bool takeover = !s.agreement()->server_no_context_takeover;
  if (takeover) {
    expect(compressed == 1000, "only " + std::to_string(compressed) + " of 1000 echoes arrived compressed");
    expect(wire * 2 < size, std::to_string(size) + " bytes took " + std::to_string(wire) + " on the wire despite context takeover");
  }
  close_and_expect(s, 1000, "");
  case_note = std::to_string(compressed) + " echoes compressed, " + std::to_string(size) + " bytes in " +
              std::to_string(wire) + " on the wire (frames included, " + (takeover ? "with" : "without") + " context takeover)";
}

// We send 4 MiB of zeros (~4 KiB compressed); the server echoes it compressed, and our limit of
// 1 MiB must end the echo in 1009 as it inflates.
void deflate_bomb_echoed_to_us() {
  constexpr std::uint64_t limit = 1u << 20;
  Session s({.max_message = limit});
  const Bytes zeros(4 * limit);
  check(s.connection().send_binary(zeros), "send_binary");
  const std::size_t sent = s.connection().pending_output().size();
  Received r = s.next();
  while (r.type == wsframe::EventType::ping || r.type == wsframe::EventType::pong) r = s.next();
  expect(r.type == wsframe::EventType::error && r.error == wsframe::Error::message_too_large && r.close_code == 1009,
         "expected our 1009 (message_too_large), got event type " + std::to_string(static_cast<int>(r.type)) +
             " close code " + std::to_string(r.close_code));
  case_note = std::to_string(zeros.size() >> 20) + " MiB sent in " + std::to_string(sent) + " bytes; 1009 after " +
              std::to_string(s.bytes_received()) + " bytes of the echo read, limit " + std::to_string(limit >> 20) + " MiB";
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
  std::vector<std::string_view> only, skip;
  std::string_view uri;
  bool deflate = false, usage = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--only" && has_value) only.emplace_back(argv[++i]);
    else if (arg == "--skip" && has_value) skip.emplace_back(argv[++i]);
    else if (arg == "--deflate") deflate = true;
    else if ((arg == "--deflate-offer" || arg == "--deflate-expect") && has_value) {
      const std::optional<wsframe::DeflateParameters> p = parse_deflate_parameters(argv[++i]);
      usage |= !p;
      if (p && arg == "--deflate-offer") deflate_offers.push_back(*p);
      if (p && arg == "--deflate-expect") deflate_expect = *p;
      deflate = true;
    } else if (uri.empty() && !arg.starts_with("--")) uri = arg;
    else usage = true;
  }
  if (usage || !parse_uri(uri)) {
    std::fprintf(stderr,
                 "usage: wsframe-client ws://IPV4:PORT [--only PREFIX] [--skip PREFIX]\n"
                 "                      [--deflate] [--deflate-offer PARAMS]... [--deflate-expect PARAMS]\n"
                 "PARAMS: permessage-deflate parameters, e.g. \"server_no_context_takeover;client_max_window_bits=10\"\n");
    return 2;
  }
  if (deflate && !wsframe::deflate_available()) {
    std::fprintf(stderr, "wsframe-client: --deflate: this wsframe was built without zlib\n");
    return 2;
  }
  if (deflate && deflate_offers.empty()) deflate_offers.emplace_back();
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
  if (deflate) {
    cases.emplace_back("deflate_agreement", deflate_agreement);
    for (auto& [name, offers] : deflate_variations()) cases.emplace_back("deflate_offer_" + name, deflate_variation(offers));
    cases.emplace_back("deflate_two_offers_first_chosen", deflate_two_offers_first_chosen);
    cases.emplace_back("deflate_context_takeover_1000_messages", deflate_context_takeover_1000_messages);
    cases.emplace_back("deflate_bomb_echoed_to_us", deflate_bomb_echoed_to_us);
  }

  int failures = 0;
  for (const auto& [name, run] : cases) {
    const std::string_view case_name = name;  // clang 14 cannot capture a structured binding
    const auto matches = [&](std::string_view p) { return case_name.starts_with(p); };
    if ((!only.empty() && std::none_of(only.begin(), only.end(), matches)) || std::any_of(skip.begin(), skip.end(), matches))
      continue;
    const auto start = Clock::now();
    try {
      case_note.clear();
      run();
      std::printf("PASS %s (%.2f s%s%s)\n", name.c_str(), std::chrono::duration<double>(Clock::now() - start).count(),
                  case_note.empty() ? "" : "; ", case_note.c_str());
    } catch (const Failure& f) {
      ++failures;
      std::printf("FAIL %s: %s\n", name.c_str(), f.why.c_str());
    }
    std::fflush(stdout);
  }
  std::printf("wsframe client (backend %.*s%s): %s\n", static_cast<int>(wsframe::active().name.size()),
              wsframe::active().name.data(), deflate ? ", permessage-deflate" : "",
              failures == 0 ? "all passed" : (std::to_string(failures) + " failed").c_str());
  return failures == 0 ? 0 : 1;
}
