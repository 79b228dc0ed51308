// broadcast/<mode>/<bytes>: one text message of <bytes> to 10,000 in-memory server Connections,
// each connection's output then drained as a gather-writing server drains it (its runs read
// with output_spans(), as writev would take them, and consumed). items processed = recipients,
// so ns/recipient = 1e9 / items_per_second.
//   broadcast/prepared/<bytes>   one PreparedMessage built per message, Connection::send(it) to
//                                every recipient: a reference queued, no payload copied
//   broadcast/send_loop/<bytes>  send_text(payload) to every recipient: framed and copied into
//                                each connection's own buffer
//   broadcast/prepared_deflate/<bytes>  as prepared, to connections with permessage-deflate
//                                agreed without server context takeover: the first recipient
//                                compresses the message once, every one queues a reference to
//                                that frame
#include <benchmark/benchmark.h>

#include <array>
#include <string>
#include <vector>

#include "context.hpp"
#include "wsframe/wsframe.hpp"

namespace {

using namespace wsframe;

constexpr std::size_t recipients = 10'000;

std::vector<Connection> make_connections(const ConnectionOptions& options) {
  std::vector<Connection> v;
  v.reserve(recipients);
  for (std::size_t i = 0; i < recipients; ++i) v.emplace_back(Role::server, Limits{}, options);
  return v;
}

// Each benchmark has connections of its own, so that none measures the state another left:
// after send_loop, every connection keeps its copies' blocks for reuse (retained_buffer_bytes),
// which a subscriber that only ever gets prepared messages never allocates.
std::vector<Connection>& prepared_connections() {
  static std::vector<Connection> all = make_connections({});
  return all;
}

std::vector<Connection>& send_loop_connections() {
  static std::vector<Connection> all = make_connections({});
  return all;
}

// RFC 7692 7.1.1.1: the server resets its compressor after each message.
std::vector<Connection>& stateless_deflate_connections() {
  static std::vector<Connection> all =
      make_connections({.deflate = DeflateParameters{.server_no_context_takeover = true}});
  return all;
}

// What a server's write loop does once the socket takes everything: gather, write, consume.
void drain(Connection& c) {
  std::array<OutputSpan, 16> runs;
  const std::size_t n = c.output_spans(runs);
  std::size_t written = 0;
  for (std::size_t i = 0; i < n; ++i) written += runs[i].size;
  benchmark::DoNotOptimize(runs.data());
  c.consume_output(written);
}

std::string text_of(std::size_t bytes) {
  std::string t(bytes, ' ');
  for (std::size_t i = 0; i < bytes; ++i) t[i] = static_cast<char>('a' + i % 26);
  return t;
}

void broadcast_prepared_to(benchmark::State& state, std::vector<Connection>& all) {
  const std::string text = text_of(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    const PreparedMessage m(MessageKind::text, std::as_bytes(std::span(text)));
    for (Connection& c : all) benchmark::DoNotOptimize(c.send(m).error);
    for (Connection& c : all) drain(c);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * recipients));
}

void broadcast_prepared(benchmark::State& state) { broadcast_prepared_to(state, prepared_connections()); }

void broadcast_prepared_deflate(benchmark::State& state) {
  if (!deflate_available()) return state.SkipWithError("built without zlib: no permessage-deflate");
  broadcast_prepared_to(state, stateless_deflate_connections());
}

void broadcast_send_loop(benchmark::State& state) {
  const std::string text = text_of(static_cast<std::size_t>(state.range(0)));
  std::vector<Connection>& all = send_loop_connections();
  for (auto _ : state) {
    for (Connection& c : all) benchmark::DoNotOptimize(c.send_text(text));
    for (Connection& c : all) drain(c);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * recipients));
}

}  // namespace

BENCHMARK(broadcast_prepared)->Name("broadcast/prepared")->Arg(1024)->Arg(16384);
BENCHMARK(broadcast_send_loop)->Name("broadcast/send_loop")->Arg(1024)->Arg(16384);
BENCHMARK(broadcast_prepared_deflate)->Name("broadcast/prepared_deflate")->Arg(1024)->Arg(16384);

int main(int argc, char** argv) { return wsframe::bench::run_benchmarks(argc, argv); }
