#include "huginn/app/commands.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "command_support.hpp"
#include "huginn/analyzer/analyzer.hpp"
#include "huginn/app/logging.hpp"
#include "huginn/capture/pcap_source.hpp"

namespace huginn::app {
namespace {

// Runs one capture file through the analyzer on this thread. Returns the
// error that cut the file short, if any; every packet before it counts.
std::optional<std::string> analyze_file(const std::string& path, analyzer::Analyzer& an,
                                        capture::CaptureStats& stats) {
  auto opened = capture::PcapSource::open_file(path);
  if (!opened) return opened.error;
  auto err = capture::read_file(*opened.source, packet_sink(an), stats, undecoded_sink(an));
  if (err) return path + ": " + *err + " (" + std::to_string(stats.packets_received) +
                  " packets read before it were analyzed)";
  return std::nullopt;
}

}  // namespace

int fail(const std::string& message) {
  // One line either way: plain text for people and scripts, or, with
  // --log-format json, a JSON record so that log shippers see why we stopped.
  if (json_logging_enabled())
    spdlog::error("huginn-profiler: error: {}", message);
  else
    std::fprintf(stderr, "huginn-profiler: error: %s\n", message.c_str());
  return kExitFailure;
}

int run_analyze(const Options& opts) {
  auto db = load_db(opts.fp_file);
  if (!db) return kExitFailure;
  OutputFile out;
  if (auto err = out.open(opts.out_path)) return fail(*err);
  Writer writer(opts.format, out.get(), /*line_buffered=*/false);
  // One analyzer across all files, as p0f -r keeps its tables for one file:
  // files given together are treated as one continuous capture.
  analyzer::Analyzer an(*db, analyzer_config(opts), writer);

  int status = 0;
  for (const auto& path : opts.files) {
    capture::CaptureStats stats;
    auto err = analyze_file(path, an, stats);
    log_capture_stats(path, stats);
    if (err) status = fail(*err);
  }
  // End of input: flows still open may hold a partial fingerprint (an h2c
  // upgrade whose first HEADERS never came).
  an.finish();
  if (!writer.flush()) return fail("writing observations failed: " + std::string(std::strerror(errno)));
  log_analyzer_counters(an.counters());
  return status;
}

}  // namespace huginn::app
