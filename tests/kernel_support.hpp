// Helpers of the SHA-1 and base64 tests.
//
// The backend tables as their TUs define them, before dispatch patches in CPU extensions
// (SHA-NI, ARMv8 SHA1): the code paths a CPU *without* the extension runs, tested
// here on one that has it. Internal symbols (src/backends/instantiate.ipp), for tests only.
#pragma once

#include <algorithm>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "support.hpp"

namespace wsframe {
#if defined(__x86_64__)
namespace sse42 { extern const Backend backend; }
namespace avx2 { extern const Backend backend; }
namespace avx512 { extern const Backend backend, backend_vbmi; }
#elif defined(__aarch64__)
namespace neon { extern const Backend backend; }
#endif
}  // namespace wsframe

namespace wsframe::test {

inline std::span<const std::byte> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// The unpatched tables of the SIMD backends this CPU supports (same names as the patched ones).
inline std::vector<const Backend*> unpatched_simd_tables() {
  std::vector<const Backend*> tables;
#if defined(__x86_64__)
  for (const Backend* b : {&sse42::backend, &avx2::backend, &avx512::backend, &avx512::backend_vbmi})
#elif defined(__aarch64__)
  for (const Backend* b : {&neon::backend})
#else
  for (const Backend* b : std::initializer_list<const Backend*>{})
#endif
    if (supported(*find_backend(b->name))) tables.push_back(b);
  return tables;
}

// body(backend) for every supported SIMD backend as dispatch made it, then for the same
// backends without the extensions dispatch patched in.
template <class Fn>
void for_each_simd_backend_and_fallback(Fn&& body) {
  for_each_simd_backend(body);
  for (const Backend* b : unpatched_simd_tables()) {
    INFO("backend " << b->name << " without CPU extensions");
    body(*b);
  }
}

// The same, scalar first.
template <class Fn>
void for_each_backend_and_fallback(Fn&& body) {
  {
    INFO("backend scalar");
    body(scalar_backend());
  }
  for_each_simd_backend_and_fallback(body);
}

// The backends of for_each_backend_and_fallback whose `kernels` (pointers to Backend members)
// differ, scalar first: a table sharing all of them with one already listed (an unpatched table
// and its patched twin, for kernels no extension replaces) is left out. For sweeps too long
// to run twice on the same code.
template <class... Kernels>
std::vector<const Backend*> distinct_backends(Kernels... kernels) {
  std::vector<const Backend*> out;
  for_each_backend_and_fallback([&](const Backend& b) {
    const auto same_kernels = [&](const Backend* o) { return ((o->*kernels == b.*kernels) && ...); };
    if (std::none_of(out.begin(), out.end(), same_kernels)) out.push_back(&b);
  });
  return out;
}

}  // namespace wsframe::test
