#pragma once
// p0f 3.09b's per-flow HTTP state machine (fp_http.c process_http /
// parse_pairs): decides whether the flow still wants data, and collects the
// request and response header blocks that p0f fingerprints.
//
// Reproduces p0f as it behaves, including that it never marks a response's
// status line as consumed: each later response segment re-reads the next
// unread line as if it were the status line, so a response whose headers
// span segments loses one header line per extra segment (and may lose its
// end-of-headers line). fingerprint::http::parse_http1_response() reads
// such a response correctly; this class is for p0f-identical records.
#include <cstdint>
#include <span>

#include "huginn/fingerprint/http/http1_parser.hpp"

namespace huginn::analyzer {

class HttpGate {
 public:
  // req / resp: everything captured so far in that direction, at most
  // limits::kMaxFlowData bytes. to_srv: the segment just appended went
  // client -> server. Returns true while more data is wanted.
  bool process(bool to_srv, std::span<const std::uint8_t> req, std::span<const std::uint8_t> resp);

  // The header block the last process() call completed, or nullptr. Valid
  // until the next process() call.
  [[nodiscard]] const fingerprint::http::Http1Message* completed() const {
    return completed_ ? &msg_ : nullptr;
  }

  [[nodiscard]] bool gave_up() const { return in_http_ < 0; }

  // Why the last process() call gave up on HTTP (kNone if it did not, or
  // gave up for a reason that is not an error, such as a finished response).
  [[nodiscard]] fingerprint::http::ParseError error() const { return error_; }

 private:
  // Runs read_headers from pos_ and applies p0f's verdicts.
  bool continue_headers(bool to_srv, std::span<const std::uint8_t> buf);

  std::int8_t in_http_ = 0;    // 0 undecided, 1 HTTP, -1 not (or finished)
  bool req_done_ = false;      // request headers complete
  bool completed_ = false;     // msg_ was completed by the last call
  fingerprint::http::ParseError error_ = fingerprint::http::ParseError::kNone;
  std::uint32_t pos_ = 0;      // parse offset in the current direction's buffer
  fingerprint::http::Http1Message msg_;  // the block being collected
};

}  // namespace huginn::analyzer
