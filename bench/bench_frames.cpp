// frames/<impl>/parse and frames/<impl>/receive on a fixed-seed stream of 1,000,000 masked
// client frames (payload 2..125 bytes, about 3% 126..1024; text of valid UTF-8, binary,
// fragmented messages with continuations, pings). Each iteration processes the whole stream;
// items processed = frames, so ns/frame = 1e9 / items_per_second.
//   frames/<backend>/parse     decode_header + check_header over every frame (no payload work)
//   frames/plain_scalar/parse  the baseline: a straightforward byte-by-byte header parser with
//                              the same RSV/opcode/control/mask checks
//   frames/<backend>/receive   a server Connection::receive over the stream in 64 KiB reads:
//                              parse + unmask in place + UTF-8 check + events (and the pongs)
//   frames/beast/receive       Beast's server websocket::stream reading every message of the
//                              stream from an in-memory test stream (its copy into its own
//                              buffer included, as its design requires)
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "peers.hpp"
#include "context.hpp"
#include "wsframe/wsframe.hpp"

namespace {

using namespace wsframe;

constexpr int frame_count = 1'000'000;
constexpr std::size_t read_size = 64 * 1024;

struct Stream {
  std::vector<std::byte> bytes;
  std::size_t events = 0;    // events a server Connection delivers for it
  std::size_t messages = 0;  // of which messages (the rest are pings)
};

void append_frame(std::vector<std::byte>& out, Opcode op, bool fin, const std::vector<std::byte>& payload,
                  std::mt19937_64& rng) {
  FrameHeader h;
  h.opcode = op;
  h.fin = fin;
  h.masked = true;
  h.payload_length = payload.size();
  const std::uint32_t key = static_cast<std::uint32_t>(rng());
  std::memcpy(h.mask_key.data(), &key, 4);
  std::array<std::byte, max_header_size> header{};
  const std::size_t n = encode_header(h, header);
  out.insert(out.end(), header.begin(), header.begin() + static_cast<std::ptrdiff_t>(n));
  const std::size_t at = out.size();
  out.insert(out.end(), payload.begin(), payload.end());
  mask(std::span(out).subspan(at), h.mask_key);
}

// Valid UTF-8 of exactly n bytes: mostly ASCII, some 2- and 3-byte characters.
std::vector<std::byte> text_payload(std::size_t n, std::mt19937_64& rng) {
  std::vector<std::byte> t;
  while (t.size() < n) {
    const std::size_t left = n - t.size();
    const unsigned pick = static_cast<unsigned>(rng() % 16);
    if (pick == 0 && left >= 3) {
      for (unsigned c : {0xe2u, 0x82u, 0xacu}) t.push_back(static_cast<std::byte>(c));  // €
    } else if (pick == 1 && left >= 2) {
      for (unsigned c : {0xc3u, 0xa9u}) t.push_back(static_cast<std::byte>(c));  // é
    } else {
      t.push_back(static_cast<std::byte>('a' + rng() % 26));
    }
  }
  return t;
}

const Stream& stream() {
  static const Stream s = [] {
    Stream s;
    std::mt19937_64 rng(0x6672616d6573ull);
    s.bytes.reserve(96u << 20);
    const auto payload_size = [&rng] {
      return rng() % 100 < 3 ? 126 + rng() % (1024 - 126 + 1) : 2 + rng() % (125 - 2 + 1);
    };
    const auto binary = [&rng](std::size_t n) {
      std::vector<std::byte> b(n);
      for (auto& x : b) x = static_cast<std::byte>(rng());
      return b;
    };
    int frames = 0;
    while (frames < frame_count) {
      const unsigned pick = static_cast<unsigned>(rng() % 100);
      if (pick < 40) {
        append_frame(s.bytes, Opcode::text, true, text_payload(payload_size(), rng), rng);
        ++frames, ++s.events, ++s.messages;
      } else if (pick < 80) {
        append_frame(s.bytes, Opcode::binary, true, binary(payload_size()), rng);
        ++frames, ++s.events, ++s.messages;
      } else if (pick < 90) {
        append_frame(s.bytes, Opcode::ping, true, binary(2 + rng() % 124), rng);
        ++frames, ++s.events;
      } else if (frames + 4 <= frame_count) {  // a message of 2..4 frames, sometimes a ping inside
        const bool text = rng() % 2 == 0;
        const int parts = 2 + static_cast<int>(rng() % 3);
        for (int i = 0; i < parts; ++i) {
          const Opcode op = i == 0 ? (text ? Opcode::text : Opcode::binary) : Opcode::continuation;
          const std::size_t n = payload_size();
          append_frame(s.bytes, op, i == parts - 1, text ? text_payload(n, rng) : binary(n), rng);
          ++frames;
        }
        ++s.events, ++s.messages;
      }
    }
    return s;
  }();
  return s;
}

// The baseline: one byte at a time, as a first implementation would write it.
struct PlainHeader {
  std::uint64_t length;
  std::uint8_t key[4];
  std::size_t size;
};
bool plain_parse(const std::byte* p, std::size_t n, PlainHeader& h) {
  if (n < 2) return false;
  const unsigned b0 = std::to_integer<unsigned>(p[0]), b1 = std::to_integer<unsigned>(p[1]);
  const unsigned op = b0 & 0x0f;
  if (b0 & 0x70) return false;                              // RSV without extension
  if ((op >= 3 && op <= 7) || op >= 11) return false;       // reserved opcode
  if (!(b1 & 0x80)) return false;                           // clients mask
  std::size_t at = 2;
  std::uint64_t length = b1 & 0x7f;
  if (length == 126) {
    if (n < 4) return false;
    length = (std::to_integer<std::uint64_t>(p[2]) << 8) | std::to_integer<std::uint64_t>(p[3]);
    at = 4;
  } else if (length == 127) {
    if (n < 10) return false;
    length = 0;
    for (int i = 0; i < 8; ++i) length = (length << 8) | std::to_integer<std::uint64_t>(p[2 + i]);
    if (length >> 63) return false;
    at = 10;
  }
  if ((op & 8) && (!(b0 & 0x80) || length > 125)) return false;  // control frames
  if (n < at + 4) return false;
  for (int i = 0; i < 4; ++i) h.key[i] = std::to_integer<std::uint8_t>(p[at + i]);
  h.length = length;
  h.size = at + 4;
  return true;
}

// Walks the stream header to header. parse(p, n, sum) returns the frame's total size (header
// and payload) or 0 to reject, and folds the length and a key byte into sum (kept live).
template <class Parse>
void walk(benchmark::State& state, Parse parse) {
  const Stream& s = stream();
  for (auto _ : state) {
    std::uint64_t sum = 0;
    std::size_t frames = 0;
    for (std::size_t at = 0; at < s.bytes.size(); ++frames) {
      const std::uint64_t size = parse(s.bytes.data() + at, s.bytes.size() - at, sum);
      if (size == 0) {
        state.SkipWithError("the parser rejected the stream");
        return;
      }
      at += size;
    }
    benchmark::DoNotOptimize(sum);
    if (frames != frame_count) state.SkipWithError("wrong frame count");
  }
  state.SetItemsProcessed(state.iterations() * frame_count);
}

void walk_plain(benchmark::State& state) {
  walk(state, [](const std::byte* p, std::size_t n, std::uint64_t& sum) -> std::uint64_t {
    PlainHeader h;
    if (!plain_parse(p, n, h)) return 0;
    sum += h.length + h.key[0];
    return h.size + h.length;
  });
}

void walk_headers(benchmark::State& state, const Backend* b) {
  walk(state, [b](const std::byte* p, std::size_t n, std::uint64_t& sum) -> std::uint64_t {
    constexpr HeaderRules rules{.expect_masked = true, .allowed_rsv = 0};
    FrameHeader h;
    const HeaderResult r = decode_header(*b, {p, n}, h);
    if (r.status != HeaderStatus::complete || check_header(h, rules) != Error::ok) return 0;
    sum += h.payload_length + std::to_integer<unsigned>(h.mask_key[0]);
    return r.size + h.payload_length;
  });
}

void receive_stream(benchmark::State& state, const Backend* b) {
  const Stream& s = stream();
  std::vector<std::byte> work(s.bytes.size());
  ConnectionOptions options;
  options.backend = b;
  Connection server(Role::server, {}, options);
  for (auto _ : state) {
    state.PauseTiming();  // receive() unmasks in place: every iteration starts from masked bytes
    std::memcpy(work.data(), s.bytes.data(), work.size());
    state.ResumeTiming();
    std::size_t events = 0, bytes = 0;
    for (std::size_t at = 0; at < work.size(); at += read_size) {
      server.receive(std::span(work).subspan(at, std::min(read_size, work.size() - at)));
      while (Event e = server.next_event()) {
        ++events;
        bytes += e.payload.size();
      }
      server.consume_output(server.pending_output().size());  // the pongs
    }
    benchmark::DoNotOptimize(bytes);
    if (events != s.events || server.error() != Error::ok) {
      state.SkipWithError("the connection did not deliver the expected events");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * frame_count);
}

void beast_receive(benchmark::State& state) {
  const Stream& s = stream();
  bench::BeastReceiver beast;
  for (auto _ : state) {
    state.PauseTiming();  // a fresh stream (and the previous one's teardown) outside the timing
    const bool ready = beast.load(s.bytes.data(), s.bytes.size());
    state.ResumeTiming();
    if (!ready || beast.read_all() != s.messages) {
      state.SkipWithError("Beast did not read the expected messages");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * frame_count);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("frames/plain_scalar/parse", walk_plain)->Unit(benchmark::kMillisecond);
  for (const BackendInfo& info : backends()) {
    if (!info.supported) continue;
    const std::string name(info.backend->name);
    benchmark::RegisterBenchmark(("frames/" + name + "/parse").c_str(), walk_headers, info.backend)
        ->Unit(benchmark::kMillisecond);
  }
  for (const BackendInfo& info : backends()) {
    if (!info.supported) continue;
    const std::string name(info.backend->name);
    benchmark::RegisterBenchmark(("frames/" + name + "/receive").c_str(), receive_stream, info.backend)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("frames/beast/receive", beast_receive)->Unit(benchmark::kMillisecond);
  return wsframe::bench::run_benchmarks(argc, argv);
}
