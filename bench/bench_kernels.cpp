// The kernels at the sizes and placements the other programs leave out, with their ceilings:
//   utf8/<backend>/ascii/16            one 16-byte ASCII text per call (a short chat message)
//   base64_encode/<backend>/20         a 20-byte SHA-1 digest, as Sec-WebSocket-Accept needs
//   mask_copy/<impl>/<placement>/<bytes>  unmasking copy with dst at a chosen distance from src:
//       dst+4KiB, dst+8KiB, dst+64KiB  dst - src the smallest multiple of that size >= bytes
//                                      (the same offset in a page: 4 KiB aliasing can show)
//       dst+6                          dst - src 6 bytes past a multiple of 4 KiB
//       src+6                          src 6 bytes into its cache line, dst aligned (a payload
//                                      behind a 2-byte header and its 4-byte key, copied out)
// The inputs rotate through about 512 KiB of slots, as in the other programs.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "context.hpp"
#include "ring.hpp"
#include "wsframe/wsframe.hpp"

namespace {

using namespace wsframe;
using wsframe::bench::Ring;

// --- registration --------------------------------------------------------------------------------
// Ring slots hold (i * 131 + 7) & 0x7f: ASCII text.
template <class Validate>
void register_utf8(const std::string& name, std::size_t n, Validate validate) {
  benchmark::RegisterBenchmark(name.c_str(), [n, validate](benchmark::State& state) {
    Ring texts(n);
    if (!validate(texts.next(), n)) state.SkipWithError("an ASCII text was judged invalid");
    for (auto _ : state) {
      bool ok = validate(texts.next(), n);
      benchmark::DoNotOptimize(ok);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
  });
}

void register_digest(const Backend* b) {
  benchmark::RegisterBenchmark(("base64_encode/" + std::string(b->name) + "/20").c_str(), [b](benchmark::State& state) {
    Ring digests(20);
    char out[28];
    for (auto _ : state) {
      base64_encode(*b, std::span<const std::byte>(digests.next(), 20), out);
      benchmark::DoNotOptimize(out);
      benchmark::ClobberMemory();
    }
  });
}

struct Placement {
  const char* name;
  std::size_t page;    // dst - src is the smallest multiple of `page` >= n ...
  std::size_t dst_at;  // ... plus this
  std::size_t src_at;  // src this many bytes into its 64-byte line
};
constexpr Placement placements[] = {
    {"dst+4KiB", 4096, 0, 0}, {"dst+8KiB", 8192, 0, 0}, {"dst+64KiB", 65536, 0, 0}, {"dst+6", 4096, 6, 0}, {"src+6", 4096, 0, 6},
};

// Slots of src and dst at the placement's distance, 4 KiB aligned, about 1 MiB in all.
class PairRing {
 public:
  PairRing(const Placement& at, std::size_t n) {
    distance_ = (n + at.page - 1) / at.page * at.page + at.dst_at - at.src_at;
    src_at_ = at.src_at;
    stride_ = (at.src_at + distance_ + n + 4095) / 4096 * 4096 + 64;  // +64: slots not all at one page offset
    slots_ = std::max<std::size_t>(2, (1024 * 1024) / stride_);
    storage_.resize(slots_ * stride_ + 4096);
    for (std::size_t i = 0; i < storage_.size(); ++i) storage_[i] = static_cast<std::byte>((i * 131 + 7) & 0xff);
    base_ = storage_.data() + (4096 - reinterpret_cast<std::uintptr_t>(storage_.data()) % 4096) % 4096;
  }
  std::size_t distance() const { return distance_; }
  std::byte* next_src() noexcept {
    std::byte* p = base_ + index_ * stride_ + src_at_;
    index_ = index_ + 1 == slots_ ? 0 : index_ + 1;
    return p;
  }

 private:
  std::size_t distance_ = 0, src_at_ = 0, stride_ = 0, slots_ = 0, index_ = 0;
  std::vector<std::byte> storage_;
  std::byte* base_ = nullptr;
};

template <class Fn>
void register_placed_copy(const std::string& impl, const Placement& at, std::size_t n, Fn fn) {
  benchmark::RegisterBenchmark(("mask_copy/" + impl + "/" + at.name + "/" + std::to_string(n)).c_str(),
                               [&at, n, fn](benchmark::State& state) {
                                 PairRing ring(at, n);
                                 for (auto _ : state) {
                                   const std::byte* s = ring.next_src();
                                   std::byte* d = const_cast<std::byte*>(s) + ring.distance();
                                   fn(s, d, n);
                                   benchmark::DoNotOptimize(d);
                                   benchmark::ClobberMemory();
                                 }
                                 state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
                               });
}

constexpr MaskKey key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};
constexpr std::size_t copy_sizes[] = {1024, 4096, 16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024};

}  // namespace

int main(int argc, char** argv) {
  for (const BackendInfo& info : backends()) {
    if (!info.supported) continue;
    const Backend* b = info.backend;
    register_utf8("utf8/" + std::string(b->name) + "/ascii/16", 16,
                  [b](const std::byte* p, std::size_t len) { return is_valid_utf8(*b, {p, len}); });
  }
  for (const BackendInfo& info : backends())
    if (info.supported) register_digest(info.backend);
  for (const Placement& at : placements)
    for (std::size_t n : copy_sizes) {
      for (const BackendInfo& info : backends()) {
        if (!info.supported) continue;
        const Backend* b = info.backend;
        register_placed_copy(std::string(b->name), at, n,
                             [b](const std::byte* s, std::byte* d, std::size_t len) { mask_copy(*b, {s, len}, {d, len}, key); });
      }
      register_placed_copy("memcpy", at, n, [](const std::byte* s, std::byte* d, std::size_t len) { std::memcpy(d, s, len); });
    }
  return wsframe::bench::run_benchmarks(argc, argv);
}
