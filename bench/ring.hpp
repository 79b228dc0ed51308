// Buffers for the benchmarks: consecutive iterations touch different bytes, so a kernel is not
// timed on data a previous iteration left hot in L1.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace wsframe::bench {

class Ring {
 public:
  // Slots of `slot_bytes`, each starting on a 64-byte boundary, at least 4 of them and at least
  // 512 KiB in all (more than L1 and L2's share for one kernel, less than L3).
  explicit Ring(std::size_t slot_bytes) : stride_((std::max<std::size_t>(slot_bytes, 1) + 63) / 64 * 64) {
    slots_ = std::max<std::size_t>(4, (512 * 1024) / stride_);
    storage_.resize(slots_ * stride_ + 64);
    for (std::size_t i = 0; i < storage_.size(); ++i) storage_[i] = static_cast<std::byte>((i * 131 + 7) & 0x7f);
    const auto addr = reinterpret_cast<std::uintptr_t>(storage_.data());
    base_ = storage_.data() + ((64 - addr % 64) % 64);
  }
  std::byte* next() noexcept {
    std::byte* p = base_ + index_ * stride_;
    index_ = index_ + 1 == slots_ ? 0 : index_ + 1;
    return p;
  }

 private:
  std::size_t stride_, slots_ = 0, index_ = 0;
  std::vector<std::byte> storage_;
  std::byte* base_ = nullptr;
};

}  // namespace wsframe::bench
