// Shared test helpers: deterministic randomness, the backend loop, byte buffers.
#pragma once

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "wsframe/wsframe.hpp"

namespace wsframe::test {

// WSFRAME_TEST_QUICK=1 thins the exhaustive loops (used under qemu, where each instruction is
// emulated); the loops keep their shape, they only take larger steps.
inline bool quick() {
  const char* v = std::getenv("WSFRAME_TEST_QUICK");
  return v != nullptr && *v != '\0' && *v != '0';
}

// Randomness per test case: every run through a test case (Catch2 runs it once per leaf
// SECTION) starts the engine afresh from that test case's seed, so a test run alone draws
// exactly what it draws in the full suite. The seed is a hash of the test case's name, or
// WSFRAME_TEST_SEED when set; the default reporter (test_main.cpp) reseeds the engine and
// prints the seed of a failed test case (replay: WSFRAME_TEST_SEED=<seed> test_x "<test name>").
struct TestRandom {
  std::uint64_t seed = 0;
  std::mt19937_64 engine;
};
inline TestRandom& test_random() {
  static TestRandom r;
  return r;
}

inline std::uint64_t seed_for(std::string_view test_name) {
  if (const char* v = std::getenv("WSFRAME_TEST_SEED"); v != nullptr && *v != '\0') return std::strtoull(v, nullptr, 0);
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (char c : test_name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

inline void reseed(std::string_view test_name) {
  TestRandom& r = test_random();
  r.seed = seed_for(test_name);
  r.engine.seed(r.seed);
}

// The current test case's engine.
inline std::mt19937_64& rng() { return test_random().engine; }

// memcpy and memcmp for test buffers of any length: with n == 0 an empty vector's data() may be
// null, which the C functions do not allow even for no bytes (UBSan reports it).
inline void copy_bytes(void* dst, const void* src, std::size_t n) {
  if (n != 0) std::memcpy(dst, src, n);
}
inline bool same_bytes(const void* a, const void* b, std::size_t n) { return n == 0 || std::memcmp(a, b, n) == 0; }

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
