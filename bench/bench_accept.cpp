// The handshake kernels against OpenSSL and Beast:
//   accept/<impl>                 one Sec-WebSocket-Accept from a 24-char key (items = keys)
//   accept_batch/<impl>/64        accept_keys over 64 keys (items = keys)
//   base64_encode/<impl>/<n>      n = 1 KiB and 16 KiB of bytes to base64 (bytes = the binary)
//   base64_decode/<impl>/16384    its 21848 chars back (bytes = the 16 KiB of binary)
// <impl> is each supported backend, "openssl", "openssl_evp" (accept only) and "beast".
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "peers_handshake.hpp"
#include "context.hpp"
#include "wsframe/wsframe.hpp"

namespace {

using namespace wsframe;

// Distinct random keys, as browsers send them (base64 of 16 random bytes), cycled through.
std::vector<std::string> make_keys(std::size_t count) {
  std::mt19937_64 gen(7);
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < count; ++i) {
    std::byte nonce[16];
    for (auto& b : nonce) b = static_cast<std::byte>(gen() & 0xff);
    std::string key(24, '\0');
    base64_encode(*find_backend("scalar"), nonce, std::span<char>(key.data(), key.size()));
    keys.push_back(std::move(key));
  }
  return keys;
}
const std::vector<std::string>& keys() {
  static const std::vector<std::string> k = make_keys(1024);
  return k;
}

template <class Fn>
void register_accept(const std::string& impl, Fn fn) {
  benchmark::RegisterBenchmark(("accept/" + impl).c_str(), [fn](benchmark::State& state) {
    const auto& k = keys();
    std::size_t i = 0;
    for (auto _ : state) {
      AcceptKey a = fn(std::string_view(k[i]));
      benchmark::DoNotOptimize(a);
      i = (i + 1) & 1023;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  });
}

void register_batch(const Backend* b) {
  constexpr std::size_t batch = 64;
  benchmark::RegisterBenchmark(("accept_batch/" + std::string(b->name) + "/" + std::to_string(batch)).c_str(),
                               [b](benchmark::State& state) {
                                 std::vector<std::string_view> views(keys().begin(), keys().end());
                                 std::vector<AcceptKey> out(batch);
                                 std::size_t i = 0;
                                 for (auto _ : state) {
                                   accept_keys(*b, std::span(views).subspan(i, batch), out);
                                   benchmark::DoNotOptimize(out.data());
                                   benchmark::ClobberMemory();
                                   i = (i + batch) & 1023;
                                 }
                                 state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
                               });
}

constexpr std::size_t base64_size = 16384;
constexpr std::size_t slots = 32;  // 32 x (16 KiB + 21 KiB): more than L2's share, consecutive calls on other data

struct Base64Data {
  std::vector<std::vector<std::byte>> binary;
  std::vector<std::string> text;
};
const Base64Data& base64_data() {
  static const Base64Data d = [] {
    Base64Data d;
    std::mt19937_64 gen(11);
    for (std::size_t s = 0; s < slots; ++s) {
      std::vector<std::byte> bin(base64_size);
      for (auto& b : bin) b = static_cast<std::byte>(gen() & 0xff);
      std::string text(base64_encoded_size(base64_size), '\0');
      base64_encode(*find_backend("scalar"), bin, std::span<char>(text.data(), text.size()));
      d.binary.push_back(std::move(bin));
      d.text.push_back(std::move(text));
    }
    return d;
  }();
  return d;
}

// fn(out, in, n) for encode: out chars; for decode: out bytes.
// Encode: of each slot's first `size` bytes (1 KiB: a message's worth; 16 KiB: the whole slot).
template <class Fn>
void register_encode(const std::string& impl, Fn fn) {
  for (const std::size_t size : {std::size_t{1024}, base64_size})
    benchmark::RegisterBenchmark(("base64_encode/" + impl + "/" + std::to_string(size)).c_str(),
                                 [fn, size](benchmark::State& state) {
                                   const Base64Data& d = base64_data();
                                   std::string out(base64_encoded_size(size) + 1, '\0');
                                   std::size_t s = 0;
                                   for (auto _ : state) {
                                     benchmark::DoNotOptimize(fn(out.data(), d.binary[s].data(), size));
                                     benchmark::ClobberMemory();
                                     s = (s + 1) % slots;
                                   }
                                   state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
                                 });
}
template <class Fn>
void register_decode(const std::string& impl, Fn fn) {
  benchmark::RegisterBenchmark(("base64_decode/" + impl + "/" + std::to_string(base64_size)).c_str(),
                               [fn](benchmark::State& state) {
                                 const Base64Data& d = base64_data();
                                 std::vector<std::byte> out(base64_size + 3);
                                 std::size_t s = 0;
                                 for (auto _ : state) {
                                   benchmark::DoNotOptimize(fn(out.data(), d.text[s].data(), d.text[s].size()));
                                   benchmark::ClobberMemory();
                                   s = (s + 1) % slots;
                                 }
                                 if (std::memcmp(out.data(), d.binary[(s + slots - 1) % slots].data(), base64_size) != 0)
                                   state.SkipWithError("decoded bytes differ");
                                 state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * base64_size));
                               });
}

}  // namespace

int main(int argc, char** argv) {
  for (const BackendInfo& info : backends()) {
    if (!info.supported) continue;
    const Backend* b = info.backend;
    register_accept(std::string(b->name), [b](std::string_view key) { return accept_key(*b, key); });
  }
  register_accept("openssl", [](std::string_view key) { return bench::openssl_accept_key(key); });
  register_accept("openssl_evp", [](std::string_view key) { return bench::openssl_evp_accept_key(key); });
  register_accept("beast", [](std::string_view key) { return bench::beast_accept_key(key); });

  for (const BackendInfo& info : backends())
    if (info.supported) register_batch(info.backend);


  for (const BackendInfo& info : backends()) {
    if (!info.supported) continue;
    const Backend* b = info.backend;
    register_encode(std::string(b->name), [b](char* out, const std::byte* in, std::size_t n) {
      return base64_encode(*b, {in, n}, {out, base64_encoded_size(n)});
    });
  }
  register_encode("openssl", [](char* out, const std::byte* in, std::size_t n) {
    return bench::openssl_base64_encode(out, in, n);
  });
  register_encode("beast", [](char* out, const std::byte* in, std::size_t n) {
    return bench::beast_base64_encode(out, in, n);
  });

  for (const BackendInfo& info : backends()) {
    if (!info.supported) continue;
    const Backend* b = info.backend;
    register_decode(std::string(b->name), [b](std::byte* out, const char* in, std::size_t n) {
      std::size_t written = 0;
      base64_decode(*b, {in, n}, {out, base64_decoded_max_size(n)}, written);
      return written;
    });
  }
  register_decode("openssl", [](std::byte* out, const char* in, std::size_t n) {
    return bench::openssl_base64_decode(out, in, n);
  });
  register_decode("beast", [](std::byte* out, const char* in, std::size_t n) {
    return bench::beast_base64_decode(out, in, n);
  });

  return wsframe::bench::run_benchmarks(argc, argv);
}
