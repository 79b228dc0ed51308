// utf8/<impl>/<text>/<bytes>: UTF-8 validation of whole texts on every supported backend and
// with Beast's checker. Texts: ascii, latin (about 40% of characters 2-byte), cjk (3-byte),
// emoji (4-byte), mixed (all widths). Each benchmark rotates through many distinct valid texts
// of its kind (about 512 KiB in all), so neither the branch predictor nor L1 learns one input.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "peers.hpp"
#include "context.hpp"
#include "wsframe/wsframe.hpp"

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

template <class Validate>
void register_utf8(const std::string& impl, const TextKind& kind, std::size_t n, Validate validate) {
  {  // every text must be valid for every implementation, or the numbers mean nothing
    Texts texts(kind, n);
    for (std::size_t t = 0; t < texts.count(); ++t)
      if (!validate(texts.next(), n)) {
        std::fprintf(stderr, "utf8/%s/%s/%zu: a generated text was judged invalid\n", impl.c_str(), kind.name, n);
        std::exit(1);
      }
  }
  benchmark::RegisterBenchmark(("utf8/" + impl + "/" + kind.name + "/" + std::to_string(n)).c_str(),
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
    }
  }
  return wsframe::bench::run_benchmarks(argc, argv);
}
