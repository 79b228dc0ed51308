// An end-to-end peer: a libwebsockets server (Debian libwebsockets-dev 4.1) on one thread, with its
// default event loop and buffer sizes, written the way its minimal examples write an echo.
//
//   bench-lws-echo --port P [--pubsub]
//
// Echoes each message to its sender with the sender's message kind; with --pubsub sends it to every
// connected client instead. Prints `listening on 127.0.0.1:P` once ready.
#include "peer_options.hpp"

#include <libwebsockets.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

namespace {

struct Message {
  std::string bytes;  // LWS_PRE bytes of room for lws's header, then the payload
  bool text;
};

struct Session {
  std::string partial;  // a message arriving in several callbacks
  std::deque<std::shared_ptr<const Message>> queue;
};

PeerOptions options;
std::unordered_set<lws*> clients;
volatile std::sig_atomic_t stopping = 0;

void queue_message(lws* wsi, const std::shared_ptr<const Message>& message) {
  auto* session = static_cast<Session*>(*static_cast<void**>(lws_wsi_user(wsi)));
  session->queue.push_back(message);
  lws_callback_on_writable(wsi);
}

void received(lws* wsi, Session& session, const void* in, std::size_t len) {
  if (lws_is_first_fragment(wsi)) session.partial.assign(LWS_PRE, '\0');
  session.partial.append(static_cast<const char*>(in), len);
  if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) != 0) return;
  auto message = std::make_shared<const Message>(Message{std::move(session.partial), !lws_frame_is_binary(wsi)});
  session.partial.clear();
  if (!options.pubsub) return queue_message(wsi, message);
  for (lws* client : clients) queue_message(client, message);
}

int write_next(lws* wsi, Session& session) {
  if (session.queue.empty()) return 0;
  const Message& m = *session.queue.front();
  auto* payload = reinterpret_cast<unsigned char*>(const_cast<char*>(m.bytes.data())) + LWS_PRE;
  const std::size_t size = m.bytes.size() - LWS_PRE;
  // lws_write sends the header into the LWS_PRE bytes before the payload; the message is shared
  // between recipients, so each write frames it the same way.
  if (lws_write(wsi, payload, size, m.text ? LWS_WRITE_TEXT : LWS_WRITE_BINARY) < static_cast<int>(size)) return -1;
  session.queue.pop_front();
  if (!session.queue.empty()) lws_callback_on_writable(wsi);
  return 0;
}

int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len) {
  auto** slot = static_cast<Session**>(user);
  switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
      *slot = new Session;
      clients.insert(wsi);
      return 0;
    case LWS_CALLBACK_CLOSED:
      clients.erase(wsi);
      delete *slot;
      *slot = nullptr;
      return 0;
    case LWS_CALLBACK_RECEIVE:
      received(wsi, **slot, in, len);
      return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return write_next(wsi, **slot);
    default:
      return 0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  options = parse_peer_options(argc, argv);
  lws_set_log_level(LLL_ERR, nullptr);
  const lws_protocols protocols[] = {
      {"echo", callback, sizeof(Session*), 0, 0, nullptr, 0},
      {nullptr, nullptr, 0, 0, 0, nullptr, 0},
  };
  lws_context_creation_info info{};
  info.port = options.port;
  info.iface = "127.0.0.1";
  info.protocols = protocols;
  info.gid = -1;
  info.uid = -1;
  info.fd_limit_per_thread = 1 + 20000;
  lws_context* context = lws_create_context(&info);
  if (context == nullptr) return 1;
  std::printf("listening on 127.0.0.1:%d\n", options.port);
  std::fflush(stdout);
  std::signal(SIGINT, [](int) { stopping = 1; });
  std::signal(SIGTERM, [](int) { stopping = 1; });
  while (!stopping && lws_service(context, 0) >= 0) {
  }
  lws_context_destroy(context);
}
