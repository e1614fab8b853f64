#pragma once
// The two commands. Each returns the process exit code and reports its own
// start-up errors as one line (see fail()); neither throws for expected
// failures (bad files, capture permissions, malformed database).
#include <string>

#include "huginn/app/options.hpp"

namespace huginn::app {

inline constexpr const char* kVersion = "0.1.0";
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

int run_analyze(const Options& opts);
int run_serve(const Options& opts);

// Prints "huginn-profiler: error: MESSAGE" on stderr (and, with JSON logs,
// the same as a JSON log line) and returns kExitFailure.
int fail(const std::string& message);

}  // namespace huginn::app
