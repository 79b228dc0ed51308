// The kernels at the sizes and placements the other programs leave out, with their ceilings:
//   utf8/<backend>/ascii/16            one 16-byte ASCII text per call (a short chat message)
//   utf8/<isa>/ascii_or_pass/<bytes>   the ceiling of the ASCII rows: one OR-reduce pass over the
//                                      bytes at that ISA's vector width (the read-once limit)
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

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

using namespace wsframe;
using wsframe::bench::Ring;

// --- the OR-reduce ceiling, one per vector width ------------------------------------------------
// Each ORs every byte once (the tail as the vector ending at n, overlapping) and checks the
// high bits at the end.
bool ascii_or_scalar(const std::byte* p, std::size_t n) noexcept {
  const auto word = [p](std::size_t at) {
    std::uint64_t w;
    std::memcpy(&w, p + at, 8);
    return w;
  };
  std::uint64_t acc = 0;
  if (n < 8) {
    for (std::size_t i = 0; i < n; ++i) acc |= static_cast<std::uint8_t>(p[i]);
  } else {
    for (std::size_t i = 0; i + 8 <= n; i += 8) acc |= word(i);
    acc |= word(n - 8);
  }
  return (acc & 0x8080808080808080ull) == 0;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) bool ascii_or_sse42(const std::byte* p, std::size_t n) noexcept {
  __m128i acc = _mm_setzero_si128();
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64)
    acc = _mm_or_si128(acc, _mm_or_si128(_mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)),
                                                      _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 16))),
                                         _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 32)),
                                                      _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 48)))));
  for (; i + 16 <= n; i += 16) acc = _mm_or_si128(acc, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)));
  if (i == n || n < 16) return _mm_movemask_epi8(acc) == 0 && ascii_or_scalar(p + i, n - i);
  return _mm_movemask_epi8(_mm_or_si128(acc, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n - 16)))) == 0;
}

__attribute__((target("avx2"))) bool ascii_or_avx2(const std::byte* p, std::size_t n) noexcept {
  __m256i acc = _mm256_setzero_si256();
  std::size_t i = 0;
  const auto* v = reinterpret_cast<const __m256i*>(p);
  for (; i + 128 <= n; i += 128, v += 4)
    acc = _mm256_or_si256(acc, _mm256_or_si256(_mm256_or_si256(_mm256_loadu_si256(v), _mm256_loadu_si256(v + 1)),
                                               _mm256_or_si256(_mm256_loadu_si256(v + 2), _mm256_loadu_si256(v + 3))));
  for (; i + 32 <= n; i += 32, ++v) acc = _mm256_or_si256(acc, _mm256_loadu_si256(v));
  if (i == n || n < 32) return _mm256_movemask_epi8(acc) == 0 && ascii_or_scalar(p + i, n - i);
  return _mm256_movemask_epi8(_mm256_or_si256(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + n - 32)))) == 0;
}

__attribute__((target("avx512bw"))) bool ascii_or_avx512(const std::byte* p, std::size_t n) noexcept {
  __m512i acc = _mm512_setzero_si512();
  std::size_t i = 0;
  for (; i + 256 <= n; i += 256)
    acc = _mm512_or_si512(acc, _mm512_or_si512(_mm512_or_si512(_mm512_loadu_si512(p + i), _mm512_loadu_si512(p + i + 64)),
                                               _mm512_or_si512(_mm512_loadu_si512(p + i + 128), _mm512_loadu_si512(p + i + 192))));
  for (; i + 64 <= n; i += 64) acc = _mm512_or_si512(acc, _mm512_loadu_si512(p + i));
  if (i == n || n < 64) return _mm512_movepi8_mask(acc) == 0 && ascii_or_scalar(p + i, n - i);
  return _mm512_movepi8_mask(_mm512_or_si512(acc, _mm512_loadu_si512(p + n - 64))) == 0;
}

#endif

using AsciiPass = bool (*)(const std::byte*, std::size_t) noexcept;
// The pass of the same width as the backend of that name (nullptr: no such width here).
AsciiPass ascii_pass_for(std::string_view backend) {
  if (backend == "scalar") return &ascii_or_scalar;
#if defined(__x86_64__)
  if (backend == "sse42") return &ascii_or_sse42;
  if (backend == "avx2") return &ascii_or_avx2;
  if (backend == "avx512") return &ascii_or_avx512;
#endif
  return nullptr;
}

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
constexpr std::size_t ascii_sizes[] = {125, 1024, 64 * 1024};
constexpr std::size_t copy_sizes[] = {1024, 4096, 16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024};

}  // namespace

int main(int argc, char** argv) {
  for (const BackendInfo& info : backends()) {
    if (!info.supported) continue;
    const Backend* b = info.backend;
    register_utf8("utf8/" + std::string(b->name) + "/ascii/16", 16,
                  [b](const std::byte* p, std::size_t len) { return is_valid_utf8(*b, {p, len}); });
  }
  for (std::size_t n : ascii_sizes)
    for (const BackendInfo& info : backends())
      if (const AsciiPass pass = ascii_pass_for(info.backend->name); info.supported && pass != nullptr)
        register_utf8("utf8/" + std::string(info.backend->name) + "/ascii_or_pass/" + std::to_string(n), n, pass);
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
