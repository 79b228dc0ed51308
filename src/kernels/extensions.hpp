// Kernels that need an instruction-set extension beyond their backend's baseline (SHA-NI on
// x86, the ARMv8 SHA1 instructions on aarch64). Each set lives in a TU of its own compiled with
// that extension's flags; dispatch.cpp patches them into copies of the backend tables, only on
// CPUs that have the extension.
#pragma once

#include "wsframe/backend.hpp"

namespace wsframe {

struct Sha1Kernels {
  decltype(Backend::sha1) sha1;
  decltype(Backend::accept_key) accept_key;
  decltype(Backend::accept_keys) accept_keys;
};

#if defined(__x86_64__)
namespace sha_ni { extern const Sha1Kernels kernels; }  // src/backends/sha_ni.cpp
#elif defined(__aarch64__)
namespace arm_sha1 { extern const Sha1Kernels kernels; }  // src/backends/arm_sha1.cpp
#endif

}  // namespace wsframe
