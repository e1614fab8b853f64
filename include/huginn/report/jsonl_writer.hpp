#pragma once
// Writes Observations as JSON Lines: one object per record, fields
// documented in docs/formats.md ("JSONL observation log").
//
// Owner: one thread (the one calling the analyzer).
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "huginn/analyzer/analyzer.hpp"
#include "huginn/analyzer/observation.hpp"

namespace huginn::report {

// RFC 3339 UTC with microseconds: "2018-01-17T10:59:46.703072Z".
[[nodiscard]] std::string format_rfc3339_utc(std::int64_t ts_us);

// Appends `s` as a quoted JSON string (RFC 8259 §7), byte for byte as
// nlohmann::json's dump(-1, ' ', false, error_handler_t::replace) writes
// it: `"` `\` and \b \f \n \r \t escaped, other bytes below 0x20 as
// "\u00xx" (lowercase hex), valid UTF-8 (0x7f included) copied, and each
// invalid or truncated UTF-8 sequence replaced by one U+FFFD. The log's
// format predates this writer, so the unit tests hold the two equal.
void append_json_string(std::string& out, std::string_view s);

// Appends opaque bytes (ALPN names) as a quoted JSON string in which byte b
// is the code point U+00bb (ISO 8859-1): lossless, never replaced.
void append_json_latin1_string(std::string& out, std::string_view bytes);

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

  // One record as compact JSON, without the trailing newline. Wire strings
  // are cut to 1024 bytes; invalid UTF-8 is replaced (append_json_string).
  [[nodiscard]] static std::string format_line(const analyzer::Observation& obs);
  // The same, appended to `out` (no allocation once `out` has grown).
  static void append_line(std::string& out, const analyzer::Observation& obs);

 private:
  std::FILE* out_;
  bool line_buffered_;
  bool failed_ = false;
  std::string buf_;
};

}  // namespace huginn::report
