#pragma once
// What analyze and serve share: the database loader, the observation
// writers, capture logging and the analyzer's capture-side hooks. Private
// to app/.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "huginn/analyzer/analyzer.hpp"
#include "huginn/app/options.hpp"
#include "huginn/capture/capture_stats.hpp"
#include "huginn/capture/capture_thread.hpp"
#include "huginn/db/p0f_db.hpp"
#include "huginn/report/jsonl_writer.hpp"
#include "huginn/report/p0f_log_writer.hpp"

namespace huginn::app {

analyzer::AnalyzerConfig analyzer_config(const Options& o);

// The observation log: a file (-o), or stdout for analyze. Owns the FILE.
class OutputFile {
 public:
  // Returns an error message, or nullopt on success.
  std::optional<std::string> open(const std::optional<std::string>& path);
  ~OutputFile();
  [[nodiscard]] std::FILE* get() const { return file_; }

 private:
  std::FILE* file_ = nullptr;
  bool owned_ = false;
};

// Observation writer in the chosen format, buffered for analyze and
// line-buffered for serve (so `tail -f` and log shippers see each record).
class Writer final : public analyzer::ObservationSink {
 public:
  Writer(OutputFormat format, std::FILE* out, bool line_buffered);
  void on_observation(const analyzer::Observation& obs) override;
  bool flush();

 private:
  std::unique_ptr<report::P0fLogWriter> p0f_;
  std::unique_ptr<report::JsonlWriter> jsonl_;
};

// Loads p0f.fp; on failure reports it (fail()) and returns nullopt.
std::optional<db::P0fDb> load_db(const std::string& path);

void log_capture_stats(const std::string& name, const capture::CaptureStats& s);
// Every analyzer counter at debug level, so `--log-level debug` shows why a
// record is missing.
void log_analyzer_counters(const util::Counters& counters);

capture::PacketSink packet_sink(analyzer::Analyzer& an);
// p0f runs its table expiry every 50 frames that pass its "tcp" filter,
// decodable or not; reporting the frames we could not decode keeps our
// expiry cadence, and so our records, the same as p0f's.
capture::UndecodedSink undecoded_sink(analyzer::Analyzer& an);

}  // namespace huginn::app
