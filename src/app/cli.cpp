#include "huginn/app/cli.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <string>
#include <variant>

#include "huginn/app/commands.hpp"
#include "huginn/app/logging.hpp"
#include "huginn/app/options.hpp"

namespace huginn::app {

int run_cli(int argc, char** argv) {
  // Start-up failures are reported as one line on stderr (STYLE: p0f's
  // FATAL() at start-up); nothing below may let an exception reach main.
  try {
    const ParseResult parsed = parse_command_line(argc, argv);
    if (std::holds_alternative<ShowHelp>(parsed)) {
      std::fputs(usage_text(), stdout);
      return 0;
    }
    if (std::holds_alternative<ShowVersion>(parsed)) {
      std::printf("huginn-profiler %s\n", kVersion);
      return 0;
    }
    if (const auto* err = std::get_if<UsageError>(&parsed)) {
      std::fprintf(stderr, "huginn-profiler: error: %s\nTry 'huginn-profiler --help'.\n",
                   err->message.c_str());
      return kExitUsage;
    }
    const auto& opts = std::get<Options>(parsed);
    setup_logging(opts.log_format, opts.log_level);
    return opts.command == Command::kAnalyze ? run_analyze(opts) : run_serve(opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "huginn-profiler: error: %s\n", e.what());
    return kExitFailure;
  } catch (...) {
    std::fprintf(stderr, "huginn-profiler: error: unexpected internal failure\n");
    return kExitFailure;
  }
}

}  // namespace huginn::app
