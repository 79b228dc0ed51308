// Bytes from the kernel's CSPRNG, for the protocol layer (baseline flags only).
#pragma once

#include <sys/random.h>

#include <cerrno>
#include <cstddef>

namespace wsframe::detail {

// Fills n bytes at p with getrandom(2), retrying on EINTR and short reads. False when the
// kernel cannot give them; the caller decides what that means (an error, or another source).
inline bool os_random_bytes(void* p, std::size_t n) noexcept {
  auto* out = static_cast<unsigned char*>(p);
  std::size_t filled = 0;
  while (filled < n) {
    const ssize_t got = getrandom(out + filled, n - filled, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    filled += static_cast<std::size_t>(got);
  }
  return true;
}

}  // namespace wsframe::detail
