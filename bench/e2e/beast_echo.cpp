// An end-to-end peer: a Boost.Beast WebSocket server, asynchronous, on one thread, as Beast's own
// examples write it (one read buffer and one write queue per session).
//
//   bench-beast-echo --port P [--pubsub]
//
// Echoes each message to its sender with the sender's message kind; with --pubsub sends it to every
// connected client instead. Prints `listening on 127.0.0.1:P` once ready.
#include "peer_options.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

struct Message {
  std::string payload;
  bool text;
};

class Session;
std::unordered_set<Session*> sessions;  // the one thread's connected clients
PeerOptions options;

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : ws_(std::move(socket)) {}
  ~Session() { sessions.erase(this); }

  void start() {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(64 * 1024 * 1024);
    ws_.async_accept([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      sessions.insert(self.get());
      self->read();
    });
  }

  void send(const std::shared_ptr<const Message>& message) {
    queue_.push_back(message);
    if (queue_.size() == 1) write();
  }

 private:
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;  // closed or failed: the session ends with its last reference
      auto message = std::make_shared<const Message>(
          Message{beast::buffers_to_string(self->buffer_.data()), self->ws_.got_text()});
      self->buffer_.consume(self->buffer_.size());
      if (options.pubsub) {
        for (Session* s : sessions) s->send(message);
      } else {
        self->send(message);
      }
      self->read();
    });
  }

  void write() {
    ws_.text(queue_.front()->text);
    ws_.async_write(asio::buffer(queue_.front()->payload),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      if (ec) return;
                      self->queue_.pop_front();
                      if (!self->queue_.empty()) self->write();
                    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::shared_ptr<const Message>> queue_;
};

void accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](beast::error_code ec, tcp::socket socket) {
    if (!ec) {
      socket.set_option(tcp::no_delay(true));
      std::make_shared<Session>(std::move(socket))->start();
    }
    accept(acceptor);
  });
}

}  // namespace

int main(int argc, char** argv) {
  options = parse_peer_options(argc, argv);
  asio::io_context io(1);
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), options.port});
  acceptor.listen(asio::socket_base::max_listen_connections);
  std::printf("listening on 127.0.0.1:%u\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](beast::error_code, int) { io.stop(); });
  accept(acceptor);
  io.run();
}
