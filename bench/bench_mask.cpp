// mask_inplace/<impl>/<bytes> and mask_copy/<impl>/<bytes>: every supported backend through the
// public API, against the ceilings (memcpy for copy, xor_pass for in place), the naive byte loop
// and Beast (default flags and -march=native).
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "context.hpp"
#include "peers.hpp"
#include "ring.hpp"
#include "wsframe/wsframe.hpp"

namespace {

using namespace wsframe;
using wsframe::bench::Ring;

constexpr MaskKey key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};
constexpr std::size_t sizes[] = {2, 16, 64, 125, 1024, 16 * 1024, 64 * 1024, 1024 * 1024, 16 * 1024 * 1024};

template <class Fn>
void register_inplace(const std::string& impl, std::size_t n, Fn fn) {
  benchmark::RegisterBenchmark(("mask_inplace/" + impl + "/" + std::to_string(n)).c_str(),
                               [n, fn](benchmark::State& state) {
                                 Ring ring(n);
                                 for (auto _ : state) {
                                   std::byte* p = ring.next();
                                   fn(p, n);
                                   benchmark::DoNotOptimize(p);
                                   benchmark::ClobberMemory();
                                 }
                                 state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
                               });
}

template <class Fn>
void register_copy(const std::string& impl, std::size_t n, Fn fn) {
  benchmark::RegisterBenchmark(("mask_copy/" + impl + "/" + std::to_string(n)).c_str(),
                               [n, fn](benchmark::State& state) {
                                 Ring src(n), dst(n);
                                 for (auto _ : state) {
                                   const std::byte* s = src.next();
                                   std::byte* d = dst.next();
                                   fn(s, d, n);
                                   benchmark::DoNotOptimize(d);
                                   benchmark::ClobberMemory();
                                 }
                                 state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
                               });
}

}  // namespace

int main(int argc, char** argv) {
  for (std::size_t n : sizes) {
    for (const BackendInfo& info : backends()) {
      if (!info.supported) continue;
      const Backend* b = info.backend;
      register_inplace(std::string(b->name), n, [b](std::byte* p, std::size_t len) { mask(*b, {p, len}, key); });
    }
    register_inplace("xor_pass", n, [](std::byte* p, std::size_t len) { bench::xor_pass(p, len); });
    register_inplace("bytes_loop", n, [](std::byte* p, std::size_t len) { bench::bytes_loop_mask(p, len, key); });
    register_inplace("beast", n, [](std::byte* p, std::size_t len) { bench::beast_mask_inplace(p, len, key); });
    register_inplace("beast_native", n,
                     [](std::byte* p, std::size_t len) { bench::beast_native_mask_inplace(p, len, key); });

    for (const BackendInfo& info : backends()) {
      if (!info.supported) continue;
      const Backend* b = info.backend;
      register_copy(std::string(b->name), n,
                    [b](const std::byte* s, std::byte* d, std::size_t len) { mask_copy(*b, {s, len}, {d, len}, key); });
    }
    register_copy("memcpy", n, [](const std::byte* s, std::byte* d, std::size_t len) { std::memcpy(d, s, len); });
  }
  return wsframe::bench::run_benchmarks(argc, argv);
}
