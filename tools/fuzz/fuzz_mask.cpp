// Differential fuzzing of masking (RFC 6455 5.3): every backend this CPU runs, in place and as a
// copy (separate and exactly aliased buffers), in one call and split at a random point with the
// returned phase carried, against the byte-by-byte definition. Random key, phase, length and
// alignment of source and destination; buffers end exactly at their allocation (ASan).
#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz_support.hpp"

using namespace wsframe;
using wsframe::fuzz::ExactBuffer;
using wsframe::fuzz::fail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  MaskKey key;
  for (auto& k : key) k = std::byte{in.ConsumeIntegral<std::uint8_t>()};
  const auto phase = in.ConsumeIntegralInRange<std::size_t>(0, 7);  // > 3 is taken modulo 4
  const auto src_offset = in.ConsumeIntegralInRange<std::size_t>(0, 63);
  const auto dst_offset = in.ConsumeIntegralInRange<std::size_t>(0, 63);
  const auto split_seed = in.ConsumeIntegral<std::uint16_t>();
  const std::vector<std::uint8_t> raw = in.ConsumeRemainingBytes<std::uint8_t>();
  const std::span<const std::byte> payload(reinterpret_cast<const std::byte*>(raw.data()), raw.size());
  const std::size_t n = payload.size();
  const std::size_t split = split_seed % (n + 1);
  const std::size_t end_phase = (phase + n) & 3;

  std::vector<std::byte> expected(payload.begin(), payload.end());
  for (std::size_t i = 0; i < n; ++i) expected[i] ^= key[(phase + i) % 4];

  for (const Backend* backend : wsframe::fuzz::runnable_backends()) {
    const Backend& b = *backend;
    {  // in place, one call
      ExactBuffer buf(src_offset, payload);
      if (mask(b, buf.span(), key, phase) != end_phase) fail("mask: returned phase", b.name);
      if (!buf.equals(expected)) fail("mask: in place, one call", b.name);
    }
    {  // in place, split with the phase carried
      ExactBuffer buf(src_offset, payload);
      const std::size_t mid = mask(b, buf.span().first(split), key, phase);
      if (mask(b, buf.span().subspan(split), key, mid) != end_phase) fail("mask: split, returned phase", b.name);
      if (!buf.equals(expected)) fail("mask: in place, split", b.name);
    }
    {  // copy into a separate buffer; the source stays untouched
      ExactBuffer src(src_offset, payload);
      ExactBuffer dst(dst_offset, std::vector<std::byte>(n, std::byte{0xEE}));
      if (mask_copy(b, src.span(), dst.span(), key, phase) != end_phase) fail("mask_copy: returned phase", b.name);
      if (!dst.equals(expected)) fail("mask_copy: separate buffers", b.name);
      if (!src.equals(payload)) fail("mask_copy: source modified", b.name);
    }
    {  // copy onto itself (exact aliasing is allowed)
      ExactBuffer buf(src_offset, payload);
      if (mask_copy(b, buf.span(), buf.span(), key, phase) != end_phase) fail("mask_copy: aliased phase", b.name);
      if (!buf.equals(expected)) fail("mask_copy: aliased", b.name);
    }
    {  // copy into a shorter destination: only min(src, dst) bytes are written
      ExactBuffer src(src_offset, payload);
      ExactBuffer dst(dst_offset, std::vector<std::byte>(split, std::byte{0xEE}));
      if (mask_copy(b, src.span(), dst.span(), key, phase) != ((phase + split) & 3))
        fail("mask_copy: short destination phase", b.name);
      if (!dst.equals(std::span(expected).first(split))) fail("mask_copy: short destination", b.name);
    }
  }
  return 0;
}
