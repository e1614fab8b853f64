#pragma once
// Writes Observations as JSON Lines: one object per record, fields
// documented in docs/formats.md ("JSONL observation log").
//
// Owner: one thread (the one calling the analyzer).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
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

// Append-only text buffer the JSONL records are written into: the small
// appends of a record (a key, a comma, a few digits) are inline stores
// here, where std::string pays an out-of-line call and a terminator for
// each. Grows by doubling; never shrinks.
class JsonBuffer {
 public:
  JsonBuffer() = default;
  explicit JsonBuffer(std::size_t capacity) { reserve(capacity); }

  void reserve(std::size_t capacity) {
    if (capacity > cap_) regrow(capacity);
  }
  // Room for `n` more bytes; returns where they go (commit() them after).
  char* room(std::size_t n) {
    if (cap_ - len_ < n) regrow(len_ + n);
    return data_.get() + len_;
  }
  void commit(std::size_t n) { len_ += n; }

  void operator+=(char c) {
    *room(1) = c;
    ++len_;
  }
  void operator+=(std::string_view s) { append(s.data(), s.size()); }
  void append(const char* p, std::size_t n) {
    if (n == 0) return;
    std::memcpy(room(n), p, n);
    len_ += n;
  }

  [[nodiscard]] const char* data() const { return data_.get(); }
  [[nodiscard]] std::size_t size() const { return len_; }
  [[nodiscard]] bool empty() const { return len_ == 0; }
  [[nodiscard]] std::string_view view() const { return {data_.get(), len_}; }
  void clear() { len_ = 0; }

 private:
  void regrow(std::size_t need) {
    std::size_t cap = cap_ == 0 ? 256 : cap_;
    while (cap < need) cap *= 2;
    auto bigger = std::make_unique<char[]>(cap);
    if (len_ != 0) std::memcpy(bigger.get(), data_.get(), len_);
    data_ = std::move(bigger);
    cap_ = cap;
  }

  std::unique_ptr<char[]> data_;
  std::size_t len_ = 0;
  std::size_t cap_ = 0;
};

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
  static void append_line(JsonBuffer& out, const analyzer::Observation& obs);

 private:
  std::FILE* out_;
  bool line_buffered_;
  bool failed_ = false;
  JsonBuffer buf_;
};

}  // namespace huginn::report
