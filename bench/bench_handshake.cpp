// handshake_parse/<impl>: a full server handshake (parse, validate, answer with the accept key)
// of a typical browser request, on every supported backend (base64 and SHA-1 run on it).
// The ServerHandshake is reused with reset(), as a server does per connection slot; items are
// handshakes.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "context.hpp"
#include "wsframe/wsframe.hpp"

namespace {

using namespace wsframe;

// Chrome's opening handshake (headers in its order), with a permessage-deflate offer.
constexpr std::string_view browser_request =
    "GET /socket?room=42 HTTP/1.1\r\n"
    "Host: example.com:8443\r\n"
    "Connection: Upgrade\r\n"
    "Pragma: no-cache\r\n"
    "Cache-Control: no-cache\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n"
    "Upgrade: websocket\r\n"
    "Origin: https://example.com\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "\r\n";

void register_parse(const Backend& backend) {
  benchmark::RegisterBenchmark(("handshake_parse/" + std::string(backend.name)).c_str(),
                               [&backend](benchmark::State& state) {
                                 ServerOptions options;
                                 options.backend = &backend;
                                 ServerHandshake hs(options);
                                 for (auto _ : state) {
                                   hs.reset();
                                   const HandshakeResult r = hs.feed(browser_request);
                                   const std::string_view answer = hs.response();
                                   benchmark::DoNotOptimize(r);
                                   benchmark::DoNotOptimize(answer.data());
                                   benchmark::ClobberMemory();
                                 }
                                 if (hs.status() != HandshakeStatus::accept) state.SkipWithError("request rejected");
                                 state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
                               });
}

}  // namespace

int main(int argc, char** argv) {
  for (const BackendInfo& info : backends())
    if (info.supported) register_parse(*info.backend);
  return wsframe::bench::run_benchmarks(argc, argv);
}
