// Adds what BENCHMARKS.md needs to know about the run to the JSON context (CPU model, compiler,
// the backends this machine supports), and runs the registered benchmarks.
#pragma once

#include <benchmark/benchmark.h>

#include <fstream>
#include <string>

#include "wsframe/backend.hpp"

namespace wsframe::bench {

inline void add_context() {
  std::string cpu_model = "unknown";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0 || line.rfind("CPU part", 0) == 0) {
      cpu_model = line.substr(line.find(':') + 2);
      break;
    }
  }
  std::string supported;
  for (const BackendInfo& info : backends())
    if (info.supported) supported += (supported.empty() ? "" : ",") + std::string(info.backend->name);
  benchmark::AddCustomContext("cpu_model", cpu_model);
  benchmark::AddCustomContext("compiler", "g++ " __VERSION__);
  benchmark::AddCustomContext("wsframe_backends", supported);
  benchmark::AddCustomContext("wsframe_active", std::string(active().name));
}

// The end of every benchmark program's main(), after it has registered its benchmarks.
inline int run_benchmarks(int argc, char** argv) {
  add_context();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace wsframe::bench
