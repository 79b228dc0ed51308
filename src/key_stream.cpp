#include "key_stream.hpp"

#include <cstddef>
#include <cstring>
#include <random>

#include "os_random.hpp"

namespace wsframe::detail {
namespace {

constexpr std::uint32_t rotl(std::uint32_t v, int n) noexcept { return (v << n) | (v >> (32 - n)); }

constexpr std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Words from the kernel's CSPRNG; std::random_device (also the OS source on Linux) if
// getrandom() is unavailable.
void os_random(std::uint32_t* words, std::size_t count) {
  if (os_random_bytes(words, count * sizeof(std::uint32_t))) return;
  std::random_device device;
  for (std::size_t i = 0; i < count; ++i) words[i] = device();
}

}  // namespace

KeyStream::KeyStream(std::uint64_t seed) noexcept {
  state_ = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};  // "expand 32-byte k"
  if (seed == 0) {
    os_random(&state_[4], 8);
  } else {
    for (int i = 4; i < 12; i += 2) {
      const std::uint64_t v = splitmix64(seed);
      state_[i] = static_cast<std::uint32_t>(v);
      state_[i + 1] = static_cast<std::uint32_t>(v >> 32);
    }
  }
}

void KeyStream::refill() noexcept {
  std::array<std::uint32_t, 16> x = state_;
  const auto quarter = [&x](int a, int b, int c, int d) {
    x[a] += x[b]; x[d] = rotl(x[d] ^ x[a], 16);
    x[c] += x[d]; x[b] = rotl(x[b] ^ x[c], 12);
    x[a] += x[b]; x[d] = rotl(x[d] ^ x[a], 8);
    x[c] += x[d]; x[b] = rotl(x[b] ^ x[c], 7);
  };
  for (int round = 0; round < 10; ++round) {
    quarter(0, 4, 8, 12), quarter(1, 5, 9, 13), quarter(2, 6, 10, 14), quarter(3, 7, 11, 15);
    quarter(0, 5, 10, 15), quarter(1, 6, 11, 12), quarter(2, 7, 8, 13), quarter(3, 4, 9, 14);
  }
  for (int i = 0; i < 16; ++i) block_[i] = x[i] + state_[i];
  if (++state_[12] == 0) ++state_[13];
  used_ = 0;
}

MaskKey KeyStream::next() noexcept {
  if (used_ == 16) refill();
  MaskKey key;
  std::memcpy(key.data(), &block_[used_++], 4);
  return key;
}

}  // namespace wsframe::detail
