// The span-based kernel API (include/wsframe/kernels.hpp): argument handling on top of the
// raw Backend entries. Baseline flags only.
#include <algorithm>

#include "kernels/prelude.hpp"
#include "wsframe/kernels.hpp"

namespace wsframe {
namespace {
#include "kernels/common.ipp"

std::uint32_t key_word_at(MaskKey key, std::size_t phase) noexcept {
  std::uint32_t word;
  __builtin_memcpy(&word, key.data(), sizeof word);
  return advance_key(word, phase);
}
}  // namespace

std::size_t mask(const Backend& b, std::span<std::byte> data, MaskKey key, std::size_t phase) noexcept {
  b.mask(data.data(), data.size(), key_word_at(key, phase));
  return (phase + data.size()) & 3;
}

std::size_t mask(std::span<std::byte> data, MaskKey key, std::size_t phase) noexcept {
  return mask(active(), data, key, phase);
}

std::size_t mask_copy(const Backend& b, std::span<const std::byte> src, std::span<std::byte> dst, MaskKey key,
                      std::size_t phase) noexcept {
  const std::size_t n = std::min(src.size(), dst.size());
  b.mask_copy(src.data(), dst.data(), n, key_word_at(key, phase));
  return (phase + n) & 3;
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
