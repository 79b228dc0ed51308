// CPU detection and the choice of the active backend (include/wsframe/backend.hpp).
// Compiled with the target's baseline flags only: this code runs before we know what the CPU has.
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "kernels/extensions.hpp"
#include "wsframe/backend.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#endif

namespace wsframe {

// Constant tables defined by src/backends/<isa>.cpp.
namespace scalar { extern const Backend backend; }
#if defined(__x86_64__)
namespace sse42 { extern const Backend backend; }
namespace avx2 { extern const Backend backend; }
namespace avx512 { extern const Backend backend, backend_vbmi; }
#elif defined(__aarch64__)
namespace neon { extern const Backend backend; }
#endif

namespace {

struct CpuFeatures {
  bool sse42 = false;   // SSE4.2 + SSSE3 + POPCNT
  bool avx2 = false;    // AVX + AVX2 + BMI1 + BMI2, and the OS saves YMM state
  bool avx512 = false;  // AVX-512 F/CD/DQ/BW/VL, and the OS saves opmask and ZMM state
  bool neon = false;    // Advanced SIMD (always present on aarch64)
  bool avx512_vbmi = false;  // avx512, and AVX-512 VBMI (vpermb, vpermi2b, vpmultishiftqb)
  // Extensions patched into the backends above (src/kernels/extensions.hpp).
  bool sha_ni = false;       // x86 SHA extensions (and SSE4.2, which their TU is compiled for)
  bool arm_sha1 = false;     // ARMv8 SHA1 instructions
};

#if defined(__x86_64__)
// XGETBV(0): which register states the OS saves on context switch. Only valid when CPUID says
// OSXSAVE; executed with inline asm so this file needs no -mxsave.
std::uint64_t xgetbv0() noexcept {
  std::uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}
#endif

CpuFeatures detect_cpu() noexcept {
  CpuFeatures f;
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const auto bit = [](unsigned reg, int n) { return ((reg >> n) & 1u) != 0; };
  const bool ssse3 = bit(ecx, 9), sse41 = bit(ecx, 19), sse42 = bit(ecx, 20), popcnt = bit(ecx, 23);
  const bool osxsave = bit(ecx, 27), avx = bit(ecx, 28);
  f.sse42 = ssse3 && sse41 && sse42 && popcnt;

  unsigned ebx7 = 0, ecx7 = 0;
  if (__get_cpuid_max(0, nullptr) >= 7) __cpuid_count(7, 0, eax, ebx7, ecx7, edx);
  const std::uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool os_ymm = (xcr0 & 0x6) == 0x6;      // SSE and AVX state
  const bool os_zmm = (xcr0 & 0xE6) == 0xE6;    // plus opmask, ZMM_Hi256, Hi16_ZMM
  const bool bmi1 = bit(ebx7, 3), avx2 = bit(ebx7, 5), bmi2 = bit(ebx7, 8);
  f.avx2 = f.sse42 && avx && avx2 && bmi1 && bmi2 && os_ymm;
  const bool avx512f = bit(ebx7, 16), avx512dq = bit(ebx7, 17), avx512cd = bit(ebx7, 28);
  const bool avx512bw = bit(ebx7, 30), avx512vl = bit(ebx7, 31);
  f.avx512 = f.avx2 && avx512f && avx512dq && avx512cd && avx512bw && avx512vl && os_zmm;
  f.sha_ni = f.sse42 && bit(ebx7, 29);
  f.avx512_vbmi = f.avx512 && bit(ecx7, 1);
#elif defined(__aarch64__)
  const unsigned long hwcap = getauxval(AT_HWCAP);
  f.neon = (hwcap & HWCAP_ASIMD) != 0;
  f.arm_sha1 = f.neon && (hwcap & HWCAP_SHA1) != 0;
#endif
  return f;
}

const CpuFeatures& cpu() noexcept {
  static const CpuFeatures features = detect_cpu();
  return features;
}

// Which SHA-1 kernels of the CPU's extension (SHA-NI, ARMv8 SHA1) a backend takes, said by its
// registry entry. Scalar stays the portable oracle. avx2 and avx512 keep their multi-buffer
// accept_keys (8 and 16 keys per vector): measured faster than SHA-NI on 4 interleaved keys
// (AMD EPYC, Zen 4: 19.8 and 25.1 against 19.3 M keys/s); sse42 and neon have no multi-buffer form.
enum class Sha1Extension { none, single_key, all };

// A backend's table with the extension kernels this CPU has put in. The tables of the backend
// TUs are constants; these copies are made once, before any kernel runs.
Backend with_extensions(const Backend& base, const Sha1Kernels* extension, Sha1Extension use) noexcept {
  Backend b = base;
  if (extension == nullptr || use == Sha1Extension::none) return b;
  b.sha1 = extension->sha1;
  b.accept_key = extension->accept_key;
  if (use == Sha1Extension::all) b.accept_keys = extension->accept_keys;
  return b;
}

// Slowest first; the choice at start-up takes the last supported one.
std::span<const BackendInfo> registry() noexcept {
  static const auto table = [] {
    const CpuFeatures& f = cpu();
    using enum Sha1Extension;
#if defined(__x86_64__)
    const Sha1Kernels* sha1 = f.sha_ni ? &sha_ni::kernels : nullptr;
    static const std::array<Backend, 5> tables{
        with_extensions(scalar::backend, sha1, none), with_extensions(sse42::backend, sha1, all),
        with_extensions(avx2::backend, sha1, single_key), with_extensions(avx512::backend, sha1, single_key),
        with_extensions(avx512::backend_vbmi, sha1, single_key)};
    return std::array<BackendInfo, 5>{{
        {&tables[0], true, "nothing (x86-64 baseline)"},
        {&tables[1], f.sse42, "SSE4.2, SSSE3 and POPCNT"},
        {&tables[2], f.avx2, "AVX2, BMI1, BMI2 and OS support for YMM state"},
        {&tables[3], f.avx512, "AVX-512 F/CD/DQ/BW/VL and OS support for ZMM state"},
        {&tables[4], f.avx512_vbmi, "AVX-512 F/CD/DQ/BW/VL and VBMI, and OS support for ZMM state"},
    }};
#elif defined(__aarch64__)
    const Sha1Kernels* sha1 = f.arm_sha1 ? &arm_sha1::kernels : nullptr;
    static const std::array<Backend, 2> tables{with_extensions(scalar::backend, sha1, none),
                                               with_extensions(neon::backend, sha1, all)};
    return std::array<BackendInfo, 2>{{
        {&tables[0], true, "nothing (armv8-a baseline)"},
        {&tables[1], f.neon, "Advanced SIMD (HWCAP_ASIMD)"},
    }};
#else
    (void)f;
    return std::array<BackendInfo, 1>{{{&scalar::backend, true, "nothing"}}};
#endif
  }();
  return table;
}

const BackendInfo* find_info(std::string_view name) noexcept {
  for (const BackendInfo& info : registry())
    if (info.backend->name == name) return &info;
  return nullptr;
}

const Backend& fastest_supported() noexcept {
  const Backend* best = registry().front().backend;
  for (const BackendInfo& info : registry())
    if (info.supported) best = info.backend;
  return *best;
}

// The start-up choice: WSFRAME_BACKEND if usable, else the fastest supported backend.
const Backend& initial_choice() noexcept {
  const Backend& best = fastest_supported();
  const char* requested = std::getenv("WSFRAME_BACKEND");
  if (requested == nullptr || *requested == '\0') return best;
  const BackendInfo* info = find_info(requested);
  if (info == nullptr) {
    std::fprintf(stderr, "wsframe: WSFRAME_BACKEND=%s is not a compiled-in backend; using %.*s\n", requested,
                 static_cast<int>(best.name.size()), best.name.data());
    return best;
  }
  if (!info->supported) {
    std::fprintf(stderr, "wsframe: WSFRAME_BACKEND=%s needs %.*s, which this CPU/OS lacks; using %.*s\n", requested,
                 static_cast<int>(info->requirement.size()), info->requirement.data(),
                 static_cast<int>(best.name.size()), best.name.data());
    return best;
  }
  return *info->backend;
}

std::atomic<const Backend*> active_backend{nullptr};

}  // namespace

std::span<const BackendInfo> backends() noexcept { return registry(); }

const Backend* find_backend(std::string_view name) noexcept {
  const BackendInfo* info = find_info(name);
  return info != nullptr ? info->backend : nullptr;
}

bool supported(const Backend& b) noexcept {
  const BackendInfo* info = find_info(b.name);
  return info != nullptr && info->backend == &b && info->supported;
}

const Backend& active() noexcept {
  if (const Backend* b = active_backend.load(std::memory_order_acquire)) [[likely]]
    return *b;
  // First use: decide once (the function-local static runs the environment check only once),
  // unless use_backend() got here first.
  static const Backend& initial = initial_choice();
  const Backend* expected = nullptr;
  active_backend.compare_exchange_strong(expected, &initial, std::memory_order_acq_rel);
  return *active_backend.load(std::memory_order_acquire);
}

Error use_backend(std::string_view name) noexcept {
  const BackendInfo* info = find_info(name);
  if (info == nullptr) return Error::unknown_backend;
  if (!info->supported) return Error::unsupported_backend;
  active_backend.store(info->backend, std::memory_order_release);
  return Error::ok;
}

}  // namespace wsframe
