// The client's masking keys (RFC 6455 5.3: unpredictable, one per frame) from a ChaCha20
// keystream (RFC 8439 2.3 block function, zero nonce, 64-bit block counter).
#pragma once

#include <array>
#include <cstdint>

#include "wsframe/types.hpp"

namespace wsframe::detail {

class KeyStream {
 public:
  // 0 seeds from the operating system's CSPRNG; any other value gives a fixed sequence (tests).
  explicit KeyStream(std::uint64_t seed) noexcept;
  MaskKey next() noexcept;

 private:
  void refill() noexcept;
  std::array<std::uint32_t, 16> state_{};
  std::array<std::uint32_t, 16> block_{};
  unsigned used_ = 16;
};

}  // namespace wsframe::detail
