// asio_echo: a WebSocket echo server embedding wsframe's sans-I/O API in Boost.Asio (header-only,
// one io_context thread). wsframe does no I/O: each connection reads with async_read_some into its
// buffer, lends the bytes to a ServerHandshake and then to a Connection, echoes the messages the
// Connection hands out, and writes the Connection's output runs as one buffer sequence with
// async_write (no copy into a single buffer).
//
//   asio_echo [--host 127.0.0.1] [--port 0]
//
// Prints `listening on HOST:PORT`; SIGINT/SIGTERM stop it (exit 0). Pings are answered and the
// Close echoed by the Connection; after the close handshake (or a rejected upgrade) the server
// shuts its side down first (RFC 6455 7.1.1) and waits for the client's FIN. A client that does
// not read its echoes stops being read from while its unsent output is above high water. A real
// server adds deadlines (asio::steady_timer) for each phase; this example leaves them out.
#include <boost/asio.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wsframe/wsframe.hpp"

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

wsframe::Limits echo_limits() {
  wsframe::Limits limits;  // 16 MiB messages: an echo queues one whole message at most
  limits.high_water_bytes = 256 * 1024;
  limits.max_output_bytes = limits.max_message_size + limits.high_water_bytes + 64 * 1024;
  return limits;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : socket_(std::move(socket)) {}

  void start() { read(); }

 private:
  void read() {
    reading_ = true;
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      self->reading_ = false;
      self->on_read(ec, n);
    });
  }

  void on_read(boost::system::error_code ec, std::size_t n) {
    if (ec) {  // EOF or an error: after our shutdown that is the normal end
      if (connection_) connection_->receive_eof();
      socket_.close(ec);
      return;
    }
    std::span<std::byte> bytes(buffer_.data(), n);
    if (shut_down_) return read();  // discard until the client's FIN
    if (!connection_) {
      const wsframe::WritableHandshakeResult r = handshake_.feed(bytes);
      if (r.status == wsframe::HandshakeStatus::need_more) return read();
      answer_ = handshake_.response();  // a 101, or an HTTP error to send before closing
      if (r.status == wsframe::HandshakeStatus::reject) return write();
      connection_.emplace(wsframe::Role::server, echo_limits());
      bytes = r.leftover;  // a pipelined first frame
    }
    echo(bytes);
    write();
    // Backpressure: the next read waits until the client has taken its echoes.
    if (!shut_down_ && !connection_->above_high_water()) read();
  }

  void echo(std::span<std::byte> bytes) {
    wsframe::Connection& conn = *connection_;
    conn.receive(bytes);
    while (const wsframe::Event ev = conn.next_event()) {
      if (ev.type != wsframe::EventType::message) continue;  // pings, pongs, Close: handled by conn
      // The payload points into buffer_ (or the Connection's reassembly buffer); the send copies
      // it into the output, so buffer_ is free for the next read.
      if (ev.kind == wsframe::MessageKind::text) conn.send_text(ev.text());
      else conn.send_binary(ev.payload);
    }
  }

  // One async_write at a time, of everything pending: the handshake's answer, then the
  // Connection's output runs, which stay valid at their addresses until consumed even as more
  // output is queued meanwhile.
  void write() {
    if (writing_) return;
    runs_.clear();
    if (!answer_.empty()) runs_.emplace_back(answer_.data(), answer_.size());
    if (connection_) {
      std::array<wsframe::OutputSpan, 16> spans;
      const std::size_t count = connection_->output_spans(spans);
      for (std::size_t i = 0; i < count; ++i) runs_.emplace_back(spans[i].data, spans[i].size);
    }
    if (runs_.empty()) return finish_if_done();
    writing_ = true;
    asio::async_write(socket_, runs_, [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      self->writing_ = false;
      if (ec) {
        self->socket_.close(ec);
        return;
      }
      self->consume(n);
      self->write();
      if (!self->reading_ && !self->shut_down_ && self->connection_ && !self->connection_->above_high_water()) self->read();
    });
  }

  void consume(std::size_t n) {
    const std::size_t from_answer = std::min(n, answer_.size());
    answer_.remove_prefix(from_answer);
    if (connection_) connection_->consume_output(n - from_answer);
  }

  // All output written: after a rejection or a finished close handshake, shut our side down.
  void finish_if_done() {
    const bool rejected = !connection_ && handshake_.status() == wsframe::HandshakeStatus::reject;
    if (shut_down_ || !(rejected || (connection_ && connection_->should_close_transport()))) return;
    shut_down_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    if (!reading_) read();
  }

  tcp::socket socket_;
  wsframe::ServerHandshake handshake_;
  std::optional<wsframe::Connection> connection_;  // once the upgrade is accepted
  std::string_view answer_;                        // the unwritten rest of handshake_.response()
  std::vector<asio::const_buffer> runs_;           // what the write in flight writes
  bool reading_ = false, writing_ = false, shut_down_ = false;
  std::array<std::byte, 64 * 1024> buffer_;
};

void accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](boost::system::error_code ec, tcp::socket socket) {
    if (!ec) {
      socket.set_option(tcp::no_delay(true));
      std::make_shared<Session>(std::move(socket))->start();
    }
    accept(acceptor);
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  bool usage = argc % 2 == 0;  // flags come with a value each
  for (int i = 1; i + 1 < argc && !usage; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--host") host = argv[i + 1];
    else if (flag == "--port") port = static_cast<unsigned short>(std::atoi(argv[i + 1]));
    else usage = true;
  }
  if (usage) {
    std::fprintf(stderr, "usage: asio_echo [--host 127.0.0.1] [--port 0]\n");
    return 2;
  }

  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address(host), port));
  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&io](boost::system::error_code, int) { io.stop(); });
  accept(acceptor);
  std::printf("listening on %s:%u\n", host.c_str(), unsigned{acceptor.local_endpoint().port()});
  std::fflush(stdout);
  io.run();
  return 0;
}
