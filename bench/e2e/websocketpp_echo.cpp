// An end-to-end peer: a websocketpp server (Debian libwebsocketpp-dev 0.8.2, on Boost.Asio) on one
// thread, as websocketpp's echo_server example writes it.
//
//   bench-websocketpp-echo --port P [--pubsub]
//
// Echoes each message to its sender with the sender's opcode; with --pubsub sends it to every
// connected client instead. Prints `listening on 127.0.0.1:P` once ready.
#include "peer_options.hpp"

#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string_view>

using Server = websocketpp::server<websocketpp::config::asio>;

int main(int argc, char** argv) {
  const PeerOptions options = parse_peer_options(argc, argv);
  Server server;
  server.clear_access_channels(websocketpp::log::alevel::all);
  server.clear_error_channels(websocketpp::log::elevel::all);
  server.init_asio();
  server.set_reuse_addr(true);
  server.set_max_message_size(64 * 1024 * 1024);
  std::set<websocketpp::connection_hdl, std::owner_less<websocketpp::connection_hdl>> clients;
  server.set_open_handler([&](websocketpp::connection_hdl h) {
    boost::system::error_code ignored;
    server.get_con_from_hdl(h)->get_raw_socket().set_option(boost::asio::ip::tcp::no_delay(true), ignored);
    clients.insert(h);
  });
  server.set_close_handler([&](websocketpp::connection_hdl h) { clients.erase(h); });
  server.set_fail_handler([&](websocketpp::connection_hdl h) { clients.erase(h); });
  server.set_message_handler([&](websocketpp::connection_hdl h, Server::message_ptr message) {
    websocketpp::lib::error_code ignored;  // a client gone meanwhile is not this peer's concern
    if (!options.pubsub) {
      server.send(h, message, ignored);
      return;
    }
    for (const auto& client : clients) server.send(client, message, ignored);
  });
  server.set_listen_backlog(4096);
  server.listen(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), options.port));
  server.start_accept();
  boost::system::error_code ec;
  std::printf("listening on 127.0.0.1:%u\n", server.get_local_endpoint(ec).port());
  std::fflush(stdout);
  boost::asio::signal_set signals(server.get_io_service(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { server.stop(); });
  server.run();
}
