// Beast's whole receive path without sockets, for frames/beast/receive: a server
// websocket::stream over beast::test::stream (in-memory), default flags.
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "peers.hpp"

namespace wsframe::bench {

namespace beast = boost::beast;

struct BeastReceiver::Impl {
  boost::asio::io_context ioc;
  beast::test::stream local{ioc}, remote{ioc};
  beast::websocket::stream<beast::test::stream&> ws{local};
  beast::flat_buffer buffer;
};

BeastReceiver::BeastReceiver() = default;
BeastReceiver::~BeastReceiver() = default;

bool BeastReceiver::load(const std::byte* p, std::size_t n) {
  impl_ = std::make_unique<Impl>();
  impl_->local.connect(impl_->remote);  // the pongs Beast writes go to `remote`
  impl_->local.append(
      "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  beast::error_code ec;
  impl_->ws.accept(ec);
  if (ec) return false;
  impl_->local.append({reinterpret_cast<const char*>(p), n});
  impl_->remote.close();  // the input ends after these bytes: the last read sees end of file
  return true;
}

std::size_t BeastReceiver::read_all() {
  std::size_t messages = 0;
  beast::error_code ec;
  for (;;) {
    impl_->ws.read(impl_->buffer, ec);
    if (ec) break;
    ++messages;
    impl_->buffer.consume(impl_->buffer.size());
  }
  return messages;
}

}  // namespace wsframe::bench
