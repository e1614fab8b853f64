#pragma once
// Process-wide logging through spdlog: human-readable lines on stderr, or one
// JSON object per line ({"ts","level","logger","msg"}) for journald and log
// shippers. Logs go to stderr so that `analyze` can write observations to
// stdout.
#include <string>

#include "huginn/app/options.hpp"

namespace huginn::app {

void setup_logging(LogFormat format, const std::string& level);
// True after setup_logging(kJson): errors are then reported as JSON records.
bool json_logging_enabled();

}  // namespace huginn::app
