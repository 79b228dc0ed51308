// Shared test helpers: deterministic randomness, the backend loop, byte buffers.
#pragma once

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "wsframe/wsframe.hpp"

namespace wsframe::test {

// WSFRAME_TEST_QUICK=1 thins the exhaustive loops (used under qemu, where each instruction is
// emulated); the loops keep their shape, they only take larger steps.
inline bool quick() {
  const char* v = std::getenv("WSFRAME_TEST_QUICK");
  return v != nullptr && *v != '\0' && *v != '0';
}

// Fixed seed, overridable with WSFRAME_TEST_SEED, so a failure can be replayed.
inline std::mt19937_64& rng() {
  static std::mt19937_64 engine([] {
    const char* v = std::getenv("WSFRAME_TEST_SEED");
    return v != nullptr ? std::strtoull(v, nullptr, 10) : 0x5eed'cafe'f00dull;
  }());
  return engine;
}

inline std::vector<std::byte> random_bytes(std::size_t n) {
  std::vector<std::byte> v(n);
  for (auto& b : v) b = static_cast<std::byte>(rng()() & 0xff);
  return v;
}

// Calls body(backend) for every backend this CPU can run, except scalar (the oracle), and
// prints why any other compiled-in backend is skipped.
inline void for_each_simd_backend(const std::function<void(const Backend&)>& body) {
  for (const BackendInfo& info : backends()) {
    if (info.backend->name == "scalar") continue;
    if (!info.supported) {
      WARN("skipping backend " << info.backend->name << ": this CPU/OS lacks " << info.requirement);
      continue;
    }
    INFO("backend " << info.backend->name);
    body(*info.backend);
  }
}

inline const Backend& scalar_backend() { return *find_backend("scalar"); }

}  // namespace wsframe::test
