// The span-based kernel API (include/wsframe/kernels.hpp) on the active backend. Baseline flags.
#include "wsframe/kernels.hpp"

namespace wsframe {

std::size_t mask(std::span<std::byte> data, MaskKey key, std::size_t phase) noexcept {
  return mask(active(), data, key, phase);
}

std::size_t mask_copy(std::span<const std::byte> src, std::span<std::byte> dst, MaskKey key,
                      std::size_t phase) noexcept {
  return mask_copy(active(), src, dst, key, phase);
}

}  // namespace wsframe
