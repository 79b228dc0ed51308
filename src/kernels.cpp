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

Utf8Result utf8_feed(const Backend& b, Utf8State& state, std::span<const std::byte> bytes) noexcept {
  return b.utf8_feed(state, bytes.data(), bytes.size());
}

Utf8Result utf8_feed(Utf8State& state, std::span<const std::byte> bytes) noexcept {
  return utf8_feed(active(), state, bytes);
}

bool utf8_finish(const Utf8State& state) noexcept { return state.dfa == 0; }  // 0: between code points

bool is_valid_utf8(const Backend& b, std::span<const std::byte> bytes) noexcept {
  Utf8State state{};
  return utf8_feed(b, state, bytes).status == Utf8Status::valid;
}

bool is_valid_utf8(std::span<const std::byte> bytes) noexcept { return is_valid_utf8(active(), bytes); }

}  // namespace wsframe
