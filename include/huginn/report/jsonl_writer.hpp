#pragma once
// Writes Observations as JSON Lines: one object per record, fields
// documented in docs/formats.md ("JSONL observation log").
//
// Owner: one thread (the one calling the analyzer).
#include <cstdio>
#include <string>

#include "huginn/analyzer/analyzer.hpp"
#include "huginn/analyzer/observation.hpp"

namespace huginn::report {

// RFC 3339 UTC with microseconds: "2018-01-17T10:59:46.703072Z".
[[nodiscard]] std::string format_rfc3339_utc(std::int64_t ts_us);

class JsonlWriter : public analyzer::ObservationSink {
 public:
  // Does not take ownership of `out`. Buffering as for P0fLogWriter.
  explicit JsonlWriter(std::FILE* out, bool line_buffered = false);
  ~JsonlWriter() override;
  JsonlWriter(const JsonlWriter&) = delete;
  JsonlWriter& operator=(const JsonlWriter&) = delete;

  void on_observation(const analyzer::Observation& obs) override;
  // Returns false if the stream reported a write error (then or earlier).
  bool flush();

  // One record as compact JSON, without the trailing newline. Strings from
  // the database are escaped by the JSON library; invalid UTF-8 is replaced.
  [[nodiscard]] static std::string format_line(const analyzer::Observation& obs);

 private:
  std::FILE* out_;
  bool line_buffered_;
  bool failed_ = false;
  std::string buf_;
};

}  // namespace huginn::report
