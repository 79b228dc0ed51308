// The scalar "layer": no vectors, only the memory helpers and the capabilities the kernels
// test (the x86-64 / armv8-a baseline, and the fallback on every other CPU).
#pragma once

#include "simd/memory.hpp"

namespace wsframe::WSFRAME_ISA::simd {

inline constexpr bool masked_memory = false;
// Named for the kernels' discarded `if constexpr` branches (which need no definition).
std::uint64_t load_first_u64(const void* p, std::size_t k) noexcept;

}  // namespace wsframe::WSFRAME_ISA::simd
