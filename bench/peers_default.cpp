// Peers built with the project's default flags.
#include "beast_mask.ipp"
#include "peers.hpp"

namespace wsframe::bench {

void beast_mask_inplace(std::byte* p, std::size_t n, MaskKey key) noexcept { beast_mask(p, n, key); }

}  // namespace wsframe::bench
