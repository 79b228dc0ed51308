// deflate/<mode>/<kind>/<bytes>: a compressed echo through two Connections in memory. One
// iteration = one message round trip: the client compresses, masks and queues a text message;
// the server unmasks, inflates and UTF-8-checks it and echoes it (compressing it again); the
// client inflates and checks the echo. items processed = messages echoed (M/s in BENCHMARKS.md).
// The counter `ratio` is payload bytes / bytes on the wire (frame headers included), both ways.
//   <mode>  off              permessage-deflate not negotiated (the same path, uncompressed)
//           l1, l6           zlib level 1 / 6, context takeover (the window carries across messages)
//           l1_reset, l6_reset  the same with server_ and client_no_context_takeover
//           beast_l1, beast_l6, beast_l1_reset, beast_l6_reset  Boost.Beast's websocket::stream pair
//                    (in-memory test streams, permessage_deflate, memLevel 8): the same echo
//   <kind>  chat             JSON chat events (user, room, timestamp, a sentence of common words)
//           trade            JSON market data (trades, order-book levels: digits and repeated keys)
// Each iteration takes the next of 256 distinct messages of the kind and size, so context
// takeover sees realistic repetition, not the same message again.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "context.hpp"
#include "peers.hpp"
#include "wsframe/wsframe.hpp"

namespace {

using namespace wsframe;

constexpr std::size_t pool_size = 256;

const char* const words[] = {
    "the", "a", "to", "and", "of", "in", "is", "you", "that", "it", "for", "on", "with", "this", "was", "are",
    "have", "be", "at", "or", "not", "what", "all", "we", "can", "but", "your", "so", "when", "will", "game",
    "match", "ready", "lol", "gg", "thanks", "anyone", "tonight", "server", "queue", "team", "win", "play",
    "again", "nice", "good", "see", "later", "going", "now", "just", "like", "know", "time", "there", "here"};
const char* const users[] = {"alice_42", "bob", "carol.dev", "dmitri", "eve_2000", "farah", "gus", "heidi"};
const char* const symbols[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "AAPL", "MSFT", "EURUSD"};

std::string chat_event(std::mt19937_64& rng, std::uint64_t ts) {
  std::string text;
  const std::size_t n = 4 + rng() % 14;
  for (std::size_t i = 0; i < n; ++i) text += std::string(i ? " " : "") + words[rng() % std::size(words)];
  return "{\"type\":\"message\",\"room\":\"lobby-" + std::to_string(rng() % 8) + "\",\"user\":{\"id\":" +
         std::to_string(10000 + rng() % 90000) + ",\"name\":\"" + users[rng() % std::size(users)] +
         "\"},\"ts\":" + std::to_string(ts) + ",\"text\":\"" + text + "\"}";
}

std::string price(std::mt19937_64& rng, double base) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", base * (1 + (static_cast<double>(rng() % 2001) - 1000) / 1e5));
  return buf;
}

std::string trade_event(std::mt19937_64& rng, std::uint64_t ts) {
  const std::size_t s = rng() % std::size(symbols);
  const double base = 100.0 + 431.0 * static_cast<double>(s + 1);
  if (rng() % 3 != 0)
    return "{\"e\":\"trade\",\"s\":\"" + std::string(symbols[s]) + "\",\"t\":" + std::to_string(ts * 7 + rng() % 7) +
           ",\"p\":\"" + price(rng, base) + "\",\"q\":\"0." + std::to_string(rng() % 100000) + "\",\"T\":" +
           std::to_string(ts) + ",\"m\":" + (rng() % 2 ? "true" : "false") + "}";
  std::string levels = "{\"e\":\"depthUpdate\",\"s\":\"" + std::string(symbols[s]) + "\",\"E\":" + std::to_string(ts) +
                       ",\"b\":[";
  for (int i = 0; i < 5; ++i)
    levels += std::string(i ? "," : "") + "[\"" + price(rng, base) + "\",\"" + std::to_string(rng() % 5000) + "\"]";
  return levels + "]}";
}

// n bytes of a JSON array of events (cut at n: what matters is the content, not the syntax).
std::string message(bool chat, std::size_t n, std::mt19937_64& rng, std::uint64_t& ts) {
  std::string m = "[";
  while (m.size() < n) {
    ts += 1 + rng() % 250;
    m += (m.size() > 1 ? "," : "") + (chat ? chat_event(rng, ts) : trade_event(rng, ts));
  }
  m.resize(n);
  return m;
}

// The same 256 messages for every implementation of a kind and size.
std::vector<std::string> message_pool(bool chat, std::size_t size) {
  std::mt19937_64 rng(size * 2 + chat);
  std::uint64_t ts = 1764000000000;
  std::vector<std::string> pool;
  for (std::size_t i = 0; i < pool_size; ++i) pool.push_back(message(chat, size, rng, ts));
  return pool;
}

void echo(benchmark::State& state, std::optional<DeflateParameters> deflate, int level, bool chat) {
  const std::vector<std::string> pool = message_pool(chat, static_cast<std::size_t>(state.range(0)));

  const CompressionOptions tuning{.level = level, .threshold = 0};
  Connection client(Role::client, {}, {.deflate = deflate, .compression = tuning});
  Connection server(Role::server, {}, {.deflate = deflate, .compression = tuning});
  std::vector<std::byte> wire;
  const auto transfer = [&wire](Connection& from, Connection& to) {
    const auto out = from.pending_output();
    wire.assign(out.begin(), out.end());
    from.consume_output(out.size());
    to.receive(wire);
    return wire.size();
  };
  std::size_t next = 0, payload_bytes = 0, wire_bytes = 0;
  for (auto _ : state) {
    const std::string& m = pool[next++ % pool_size];
    if (client.send_text(m) != Error::ok) return state.SkipWithError("client send failed");
    wire_bytes += transfer(client, server);
    const Event got = server.next_event();
    if (got.type != EventType::message || server.next_event()) return state.SkipWithError("server receive failed");
    if (server.send_text(got.text()) != Error::ok) return state.SkipWithError("server send failed");
    wire_bytes += transfer(server, client);
    const Event back = client.next_event();
    if (back.type != EventType::message || back.payload.size() != m.size()) return state.SkipWithError("echo lost");
    benchmark::DoNotOptimize(back.payload.data());
    payload_bytes += 2 * m.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["ratio"] = static_cast<double>(payload_bytes) / static_cast<double>(wire_bytes);
}

void beast_echo(benchmark::State& state, int level, bool no_context_takeover, bool chat) {
  const std::vector<std::string> pool = message_pool(chat, static_cast<std::size_t>(state.range(0)));
  bench::BeastDeflateEcho beast(level, no_context_takeover);
  if (!beast.ok()) return state.SkipWithError("Beast handshake failed");
  std::size_t next = 0, payload_bytes = 0;
  for (auto _ : state) {
    const std::string& m = pool[next++ % pool_size];
    if (!beast.echo(m)) return state.SkipWithError("Beast echo failed");
    payload_bytes += 2 * m.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["ratio"] = static_cast<double>(payload_bytes) / static_cast<double>(beast.wire_bytes());
}

void register_all() {
  struct Mode {
    const char* name;
    std::optional<DeflateParameters> deflate;
    int level;
  };
  const DeflateParameters takeover{}, reset{.server_no_context_takeover = true, .client_no_context_takeover = true};
  const Mode modes[] = {{"off", std::nullopt, 0}, {"l1", takeover, 1},      {"l6", takeover, 6},
                        {"l1_reset", reset, 1},   {"l6_reset", reset, 6}};
  for (const Mode& mode : modes)
    for (bool chat : {true, false})
      for (std::int64_t size : {100, 1024, 4096, 16384}) {
        const std::string name = std::string("deflate/") + mode.name + (chat ? "/chat" : "/trade");
        benchmark::RegisterBenchmark(name.c_str(), [mode, chat](benchmark::State& s) {
          echo(s, mode.deflate, mode.level, chat);
        })->Arg(size);
        if (!mode.deflate) continue;
        const std::string beast_name = std::string("deflate/beast_") + mode.name + (chat ? "/chat" : "/trade");
        const bool reset_mode = mode.deflate->server_no_context_takeover;
        benchmark::RegisterBenchmark(beast_name.c_str(), [mode, chat, reset_mode](benchmark::State& s) {
          beast_echo(s, mode.level, reset_mode, chat);
        })->Arg(size);
      }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  return wsframe::bench::run_benchmarks(argc, argv);
}
