// Differential fused unmask + UTF-8 validation (the receive path's single-frame text message):
// every backend's unmask_utf8_validate against the scalar backend's, at every key phase and a
// few alignments, in place and into another buffer, each at the end of an exact allocation. The
// verdict must be the scalar one-shot validation of the plain text, and the bytes must come out
// unmasked either way (and the source untouched when it is not the destination).
//
// Input: 4 key bytes, then the plain text (masked here, by the definition, before each call).
#include "fuzz_support.hpp"

using namespace wsframe;
using wsframe::fuzz::ExactBuffer;
using wsframe::fuzz::fail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const MaskKey key{std::byte{data[0]}, std::byte{data[1]}, std::byte{data[2]}, std::byte{data[3]}};
  const std::span<const std::byte> text(reinterpret_cast<const std::byte*>(data + 4), size - 4);
  const Backend& scalar = *wsframe::fuzz::runnable_backends().front();
  const bool valid = scalar.utf8_validate(text.data(), text.size());

  std::vector<std::byte> masked(text.size());
  for (std::size_t phase = 0; phase < 4; ++phase) {
    for (std::size_t i = 0; i < text.size(); ++i) masked[i] = text[i] ^ key[(phase + i) % 4];
    const std::uint32_t key_word = detail::mask_key_word(key, phase);
    for (const Backend* b : wsframe::fuzz::runnable_backends())
      for (std::size_t offset : {0u, 1u, 63u}) {
        ExactBuffer buf(offset, masked);
        if (b->unmask_utf8_validate(buf.data(), buf.data(), text.size(), key_word) != valid)
          fail("unmask_utf8_validate disagrees with scalar utf8_validate", b->name);
        if (!buf.equals(text)) fail("unmask_utf8_validate left the bytes not unmasked", b->name);
        ExactBuffer src(offset, masked), dst(63 - offset, std::vector<std::byte>(text.size()));
        if (b->unmask_utf8_validate(src.data(), dst.data(), text.size(), key_word) != valid)
          fail("unmask_utf8_validate into another buffer disagrees with scalar utf8_validate", b->name);
        if (!dst.equals(text) || !src.equals(masked)) fail("unmask_utf8_validate into another buffer: wrong bytes", b->name);
      }
  }
  return 0;
}
