// The code wsframe is compared with, each built in a TU of its own with the flags its name says
// (bench/CMakeLists.txt). Out of line on purpose: a benchmark times one call of each.
#pragma once

#include <cstddef>

#include "wsframe/kernels.hpp"

#define WSFRAME_BENCH_EXPORT __attribute__((visibility("default")))

namespace wsframe::bench {

// boost::beast::websocket::detail::mask_inplace, with the library's default flags.
void beast_mask_inplace(std::byte* p, std::size_t n, MaskKey key) noexcept;
// The same Beast code compiled with -O3 -march=native (in its own shared library, so the
// linker cannot merge its inline Beast functions with the default-flags copy).
WSFRAME_BENCH_EXPORT void beast_native_mask_inplace(std::byte* p, std::size_t n, MaskKey key) noexcept;
// One plain XOR pass with a constant at the widest vector width this machine has: the
// ceiling for in-place masking (-O3 -march=native).
WSFRAME_BENCH_EXPORT void xor_pass(std::byte* p, std::size_t n) noexcept;
// p[i] ^= key[i & 3], compiled without vectorisation: the naive baseline.
void bytes_loop_mask(std::byte* p, std::size_t n, MaskKey key) noexcept;

// boost::beast::websocket::detail::check_utf8 (one-shot utf8_checker), default flags.
bool beast_check_utf8(const std::byte* p, std::size_t n) noexcept;

}  // namespace wsframe::bench
