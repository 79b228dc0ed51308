// Beast's permessage-deflate echo for deflate/beast_*: a client and a server
// websocket::stream over a pair of connected in-memory beast::test::streams, both with
// permessage_deflate enabled (Beast's own port of zlib), default flags.
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "peers.hpp"

namespace wsframe::bench {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

struct BeastDeflateEcho::Impl {
  boost::asio::io_context ioc;
  beast::test::stream client_end{ioc}, server_end{ioc};
  websocket::stream<beast::test::stream&> client{client_end}, server{server_end};
  beast::flat_buffer server_buffer, client_buffer;
  std::size_t handshake_bytes = 0;
};

BeastDeflateEcho::BeastDeflateEcho(int level, bool no_context_takeover) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.client_end.connect(s.server_end);
  websocket::permessage_deflate pmd;
  pmd.client_enable = pmd.server_enable = true;
  pmd.compLevel = level;
  pmd.memLevel = 8;  // zlib's default, as wsframe's CompressionOptions
  pmd.msg_size_threshold = 0;
  pmd.server_no_context_takeover = pmd.client_no_context_takeover = no_context_takeover;
  s.client.set_option(pmd);
  s.server.set_option(pmd);
  // The client's handshake is asynchronous so that one thread can play both ends.
  beast::error_code client_ec = boost::asio::error::would_block, server_ec;
  s.client.async_handshake("localhost", "/", [&client_ec](beast::error_code ec) { client_ec = ec; });
  s.ioc.poll();
  s.server.accept(server_ec);
  s.ioc.run();
  ok_ = !client_ec && !server_ec;
  s.client.text(true);
  s.server.text(true);
  s.handshake_bytes = s.client_end.nwrite_bytes() + s.server_end.nwrite_bytes();
}

BeastDeflateEcho::~BeastDeflateEcho() = default;

bool BeastDeflateEcho::echo(std::string_view message) {
  Impl& s = *impl_;
  beast::error_code ec;
  s.client.write(boost::asio::buffer(message.data(), message.size()), ec);
  if (ec) return false;
  s.server.read(s.server_buffer, ec);
  if (ec) return false;
  s.server.write(s.server_buffer.data(), ec);
  s.server_buffer.consume(s.server_buffer.size());
  if (ec) return false;
  s.client.read(s.client_buffer, ec);
  const bool same = !ec && s.client_buffer.size() == message.size();
  s.client_buffer.consume(s.client_buffer.size());
  return same;
}

std::size_t BeastDeflateEcho::wire_bytes() const {
  return impl_->client_end.nwrite_bytes() + impl_->server_end.nwrite_bytes() - impl_->handshake_bytes;
}

}  // namespace wsframe::bench
