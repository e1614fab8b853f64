#include "huginn/analyzer/http_gate.hpp"

#include "huginn/util/limits.hpp"

namespace huginn::analyzer {

namespace {

namespace fh = fingerprint::http;

}  // namespace

bool HttpGate::continue_headers(bool to_srv, std::span<const std::uint8_t> buf) {
  const bool can_get_more = buf.size() < limits::kMaxFlowData;
  std::size_t pos = pos_;
  const fh::ParseResult r = fh::read_headers(buf, can_get_more, pos, msg_.headers);
  pos_ = static_cast<std::uint32_t>(pos);
  switch (r.status) {
    case fh::ParseStatus::kNeedMore:
      return true;
    case fh::ParseStatus::kMalformed:
      in_http_ = -1;
      error_ = r.error;
      // p0f returns -1 from a u8 function for an over-long value: "want
      // more" although it has just given up; the flow goes on the next
      // data segment.
      return r.error == fh::ParseError::kHeaderValueTooLong;
    case fh::ParseStatus::kOk:
      break;
  }
  completed_ = true;
  if (to_srv) {
    // A request waits for its response; a response ends HTTP interest.
    req_done_ = true;
    pos_ = 0;
    return true;
  }
  in_http_ = -1;
  return false;
}

bool HttpGate::process(bool to_srv, std::span<const std::uint8_t> req,
                       std::span<const std::uint8_t> resp) {
  error_ = fh::ParseError::kNone;
  if (completed_) {
    // The previous call handed out a finished block; start afresh.
    completed_ = false;
    msg_ = fh::Http1Message{};
  }
  if (in_http_ < 0) return false;

  if (to_srv) {
    if (req_done_) return true;
    if (in_http_ == 0) {
      std::size_t from = pos_;
      const fh::ParseResult r =
          fh::read_start_line(req, true, req.size() < limits::kMaxFlowData, from, msg_);
      pos_ = static_cast<std::uint32_t>(from);
      if (r.status == fh::ParseStatus::kMalformed) {
        in_http_ = -1;
        error_ = r.error;
        return false;
      }
      if (r.status == fh::ParseStatus::kNeedMore) return true;
      in_http_ = 1;
    }
    return continue_headers(true, req);
  }

  // A response before a complete request is not HTTP as p0f reads it.
  if (in_http_ == 0 || !req_done_) {
    in_http_ = -1;
    return false;
  }
  std::size_t from = pos_;
  const fh::ParseResult r =
      fh::read_start_line(resp, false, resp.size() < limits::kMaxFlowData, from, msg_);
  pos_ = static_cast<std::uint32_t>(from);
  if (r.status == fh::ParseStatus::kMalformed) {
    in_http_ = -1;
    error_ = r.error;
    return false;
  }
  if (r.status == fh::ParseStatus::kNeedMore) return true;
  return continue_headers(false, resp);
}

}  // namespace huginn::analyzer
