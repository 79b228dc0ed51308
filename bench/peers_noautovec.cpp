// The naive baseline, compiled with -fno-tree-vectorize -fno-tree-slp-vectorize.
#include "peers.hpp"

namespace wsframe::bench {

void bytes_loop_mask(std::byte* p, std::size_t n, MaskKey key) noexcept {
  for (std::size_t i = 0; i < n; ++i) p[i] ^= key[i & 3];
}

}  // namespace wsframe::bench
