// Replaces the global operator new/delete with counting ones: how many allocations, and how many
// heap bytes are live. Include it in exactly one source of a test program (it defines the
// replacements), and only in programs that prove allocation properties.
#pragma once

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace wsframe::test {
inline std::atomic<std::size_t> allocations{0};
inline std::atomic<std::size_t> live_bytes{0};  // allocated through operator new, not yet freed
inline std::atomic<std::size_t> peak_bytes{0};  // the most live_bytes since the last reset_peak()

inline void reset_peak() noexcept { peak_bytes.store(live_bytes.load()); }

inline void* counted(void* p) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (p != nullptr) {
    const std::size_t live = live_bytes.fetch_add(malloc_usable_size(p), std::memory_order_relaxed) + malloc_usable_size(p);
    for (std::size_t peak = peak_bytes.load(); live > peak && !peak_bytes.compare_exchange_weak(peak, live);) {
    }
  }
  return p;
}
inline void* counted_malloc(std::size_t n) noexcept { return counted(std::malloc(n == 0 ? 1 : n)); }
// The aligned forms (operator new with std::align_val_t): aligned_alloc wants a size that is a
// multiple of the alignment.
inline void* counted_aligned_malloc(std::size_t n, std::align_val_t alignment) noexcept {
  const std::size_t a = static_cast<std::size_t>(alignment);
  return counted(std::aligned_alloc(a, (std::max<std::size_t>(n, 1) + a - 1) / a * a));
}
inline void counted_free(void* p) noexcept {
  if (p != nullptr) live_bytes.fetch_sub(malloc_usable_size(p), std::memory_order_relaxed);
  std::free(p);
}
}  // namespace wsframe::test

// Every form of the replaceable operators, so that new and delete always pair up.
void* operator new(std::size_t n) {
  if (void* p = wsframe::test::counted_malloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return wsframe::test::counted_malloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return wsframe::test::counted_malloc(n); }
void operator delete(void* p) noexcept { wsframe::test::counted_free(p); }
void operator delete[](void* p) noexcept { wsframe::test::counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { wsframe::test::counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { wsframe::test::counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { wsframe::test::counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { wsframe::test::counted_free(p); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = wsframe::test::counted_aligned_malloc(n, a)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return wsframe::test::counted_aligned_malloc(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return wsframe::test::counted_aligned_malloc(n, a);
}
void operator delete(void* p, std::align_val_t) noexcept { wsframe::test::counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { wsframe::test::counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { wsframe::test::counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { wsframe::test::counted_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { wsframe::test::counted_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { wsframe::test::counted_free(p); }
