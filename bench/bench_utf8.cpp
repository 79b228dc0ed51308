// utf8/<impl>/<text>/<bytes>: UTF-8 validation of whole texts on every supported backend and
// with Beast's checker. Texts: ascii, latin (about 40% of characters 2-byte), cjk (3-byte),
// emoji (4-byte), mixed (all widths). Each benchmark rotates through many distinct valid texts
// of its kind (about 512 KiB in all), so neither the branch predictor nor L1 learns one input.
// utf8/<isa>/ascii_or_pass/<bytes>: the ceiling of the ascii rows, on the same texts: one OR-reduce
// pass over the bytes at that ISA's vector width (the read-once limit).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "peers.hpp"
#include "context.hpp"
#include "wsframe/wsframe.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

using namespace wsframe;

constexpr std::size_t sizes[] = {125, 1024, 64 * 1024};

// Appends the UTF-8 form of code point `cp` if it fits in `limit` bytes; false when it does not.
bool append_utf8(std::vector<std::byte>& out, std::uint32_t cp, std::size_t limit) {
  const std::size_t width = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  if (out.size() + width > limit) return false;
  if (width == 1) {
    out.push_back(std::byte(cp));
    return true;
  }
  const std::uint8_t lead_bits[] = {0, 0, 0xC0, 0xE0, 0xF0};
  out.push_back(std::byte(lead_bits[width] | cp >> (6 * (width - 1))));
  for (std::size_t k = width - 1; k-- > 0;) out.push_back(std::byte(0x80 | (cp >> (6 * k) & 0x3F)));
  return true;
}

struct TextKind {
  const char* name;
  std::uint32_t (*draw)(std::mt19937&);
};
std::uint32_t printable(std::mt19937& g) { return 0x20 + g() % 0x5F; }
const TextKind kinds[] = {
    {"ascii", printable},
    {"latin", [](std::mt19937& g) -> std::uint32_t { return g() % 10 < 4 ? 0xC0 + g() % 0xC0 : printable(g); }},  // U+00C0..017F
    {"cjk", [](std::mt19937& g) -> std::uint32_t { return 0x4E00 + g() % 0x5200; }},                                 // U+4E00..9FFF
    {"emoji", [](std::mt19937& g) -> std::uint32_t { return 0x1F300 + g() % 0x800; }},                               // U+1F300..1FAFF
    {"mixed",
     [](std::mt19937& g) -> std::uint32_t {
       switch (g() % 10) {
         case 0: case 1: return 0xC0 + g() % 0x700;     // 2-byte
         case 2: case 3: return 0x4E00 + g() % 0x5200;  // 3-byte
         case 4: return 0x1F300 + g() % 0x800;          // 4-byte
         default: return printable(g);
       }
     }},
};

// Distinct valid texts of exactly n bytes (ASCII fills the last bytes a wide character does
// not fit), each in its own 64-byte aligned slot.
class Texts {
 public:
  Texts(const TextKind& kind, std::size_t n) : n_(n), stride_((n + 63) / 64 * 64) {
    count_ = std::clamp<std::size_t>(512 * 1024 / stride_, 8, 4096);
    storage_.resize(count_ * stride_ + 64);
    base_ = storage_.data() + (64 - reinterpret_cast<std::uintptr_t>(storage_.data()) % 64) % 64;
    std::mt19937 g(static_cast<unsigned>(n * 31 + kind.name[0]));
    for (std::size_t t = 0; t < count_; ++t) {
      std::vector<std::byte> text;
      while (append_utf8(text, kind.draw(g), n)) {}
      while (text.size() < n) append_utf8(text, printable(g), n);
      std::copy(text.begin(), text.end(), base_ + t * stride_);
    }
  }
  const std::byte* next() noexcept {
    const std::byte* p = base_ + index_ * stride_;
    index_ = index_ + 1 == count_ ? 0 : index_ + 1;
    return p;
  }
  std::size_t count() const { return count_; }

 private:
  std::size_t n_, stride_, count_ = 0, index_ = 0;
  std::vector<std::byte> storage_;
  std::byte* base_ = nullptr;
};

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

template <class Validate>
void register_utf8(const std::string& impl, const TextKind& kind, std::size_t n, Validate validate,
                   const char* case_name = nullptr) {
  {  // every text must be valid for every implementation, or the numbers mean nothing
    Texts texts(kind, n);
    for (std::size_t t = 0; t < texts.count(); ++t)
      if (!validate(texts.next(), n)) {
        std::fprintf(stderr, "utf8/%s/%s/%zu: a generated text was judged invalid\n", impl.c_str(), kind.name, n);
        std::exit(1);
      }
  }
  benchmark::RegisterBenchmark(("utf8/" + impl + "/" + (case_name != nullptr ? case_name : kind.name) + "/" + std::to_string(n)).c_str(),
                               [&kind, n, validate](benchmark::State& state) {
                                 Texts texts(kind, n);
                                 for (auto _ : state) {
                                   bool ok = validate(texts.next(), n);
                                   benchmark::DoNotOptimize(ok);
                                 }
                                 state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
                               });
}

}  // namespace

int main(int argc, char** argv) {
  for (const TextKind& kind : kinds) {
    for (std::size_t n : sizes) {
      for (const BackendInfo& info : backends()) {
        if (!info.supported) continue;
        const Backend* b = info.backend;
        register_utf8(std::string(b->name), kind, n,
                      [b](const std::byte* p, std::size_t len) { return is_valid_utf8(*b, {p, len}); });
      }
      register_utf8("beast", kind, n, [](const std::byte* p, std::size_t len) { return bench::beast_check_utf8(p, len); });
      if (&kind != &kinds[0]) continue;  // the ceiling, on the ascii texts
      for (const BackendInfo& info : backends())
        if (const AsciiPass pass = ascii_pass_for(info.backend->name); info.supported && pass != nullptr)
          register_utf8(std::string(info.backend->name), kind, n, pass, "ascii_or_pass");
    }
  }
  return wsframe::bench::run_benchmarks(argc, argv);
}
