#include "huginn/analyzer/http_gate.hpp"

#include <string_view>

#include "huginn/util/limits.hpp"

namespace huginn::analyzer {

namespace {

// p0f config.h HTTP_MAX_URL / HTTP_MAX_HDRS / HTTP_MAX_HDR_NAME / HTTP_MAX_HDR_VAL.
constexpr std::uint32_t kMaxFirstLine = 1024;
constexpr std::uint32_t kMaxHeaders = 32;
constexpr std::uint32_t kMaxHeaderName = 32;
constexpr std::uint32_t kMaxHeaderValue = 1024;
// Shortest plausible request line ("GET / HTTP/1.x") and status line.
constexpr std::uint32_t kMinRequestBytes = 15;
constexpr std::uint32_t kMinRequestLineEnd = 14;
constexpr std::uint32_t kMinResponseBytes = 13;

bool is_alnum(std::uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool starts_with(std::span<const std::uint8_t> buf, std::size_t at, std::string_view s) {
  if (at > buf.size() || buf.size() - at < s.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (buf[at + i] != static_cast<std::uint8_t>(s[i])) return false;
  }
  return true;
}
// Request/status lines must be printable ASCII (CR allowed).
bool line_char_ok(std::uint8_t c) { return c == '\r' || (c >= 0x20 && c <= 0x7f); }

}  // namespace

bool HttpGate::parse_pairs(bool to_srv, std::span<const std::uint8_t> buf) {
  const auto plen = static_cast<std::uint32_t>(buf.size());
  const bool can_get_more = plen < limits::kMaxFlowData;

  while (pos_ < plen) {
    std::uint32_t off = pos_;
    if (buf[off] == '\r' || buf[off] == '\n') {
      // End of headers: a request waits for its response; a response ends
      // HTTP interest in the flow.
      if (to_srv) {
        req_done_ = true;
        pos_ = 0;
        hdr_cnt_ = 0;
        return true;
      }
      in_http_ = -1;
      return false;
    }
    if (hdr_cnt_ >= kMaxHeaders) {
      in_http_ = -1;
      return false;
    }

    std::uint32_t nlen = 0;
    while (off < plen && (is_alnum(buf[off]) || buf[off] == '-' || buf[off] == '_') &&
           nlen <= kMaxHeaderName) {
      ++off;
      ++nlen;
    }
    if (off == plen) {
      if (!can_get_more) in_http_ = -1;
      return can_get_more;
    }
    if (nlen == 0 || buf[off] != ':' || nlen > kMaxHeaderName) {
      in_http_ = -1;
      return false;
    }
    ++off;
    if (off < plen && (buf[off] == ' ' || buf[off] == '\t')) ++off;

    std::uint32_t vlen = 0;
    while (off < plen && vlen <= kMaxHeaderValue && buf[off] != '\n') {
      ++off;
      ++vlen;
    }
    if (vlen > kMaxHeaderValue) {
      // p0f returns -1 from a u8 function here: "want more" although it has
      // just given up; the flow goes on the next data segment.
      in_http_ = -1;
      return true;
    }
    if (off == plen) {
      if (!can_get_more) in_http_ = -1;
      return can_get_more;
    }
    ++hdr_cnt_;
    pos_ = off + 1;
  }

  if (!can_get_more) in_http_ = -1;
  return can_get_more;
}

bool HttpGate::process(bool to_srv, std::span<const std::uint8_t> req,
                       std::span<const std::uint8_t> resp) {
  if (in_http_ < 0) return false;

  if (to_srv) {
    const auto len = static_cast<std::uint32_t>(req.size());
    const bool can_get_more = len < limits::kMaxFlowData;
    if (req_done_) return true;
    if (in_http_ == 0) {
      if (len < kMinRequestBytes) return can_get_more;
      std::uint32_t off = pos_;
      // Only GET and HEAD requests are fingerprinted.
      if (off == 0 && !starts_with(req, 0, "GET /") && !starts_with(req, 0, "HEAD /")) {
        in_http_ = -1;
        return false;
      }
      while (off < len && off < kMaxFirstLine && req[off] != '\n') {
        if (!line_char_ok(req[off])) {
          in_http_ = -1;
          return false;
        }
        ++off;
      }
      if (off == kMaxFirstLine || off < kMinRequestLineEnd) {
        in_http_ = -1;
        return false;
      }
      if (off == len) {
        pos_ = off;
        if (!can_get_more) in_http_ = -1;
        return can_get_more;
      }
      // The line must end in "HTTP/1.x" (optionally followed by CR).
      std::uint32_t sig_at = off - 8;
      if (req[off - 1] == '\r') --sig_at;
      if (!starts_with(req, sig_at, "HTTP/1.")) {
        in_http_ = -1;
        return false;
      }
      in_http_ = 1;
      pos_ = off + 1;
    }
    return parse_pairs(true, req);
  }

  const auto len = static_cast<std::uint32_t>(resp.size());
  const bool can_get_more = len < limits::kMaxFlowData;
  // A response before a complete request is not HTTP as p0f reads it.
  if (in_http_ == 0 || !req_done_) {
    in_http_ = -1;
    return false;
  }
  if (len < kMinResponseBytes) return can_get_more;
  std::uint32_t off = pos_;
  while (off < len && off < kMaxFirstLine && resp[off] != '\n') {
    if (!line_char_ok(resp[off])) {
      in_http_ = -1;
      return false;
    }
    ++off;
  }
  if (off == kMaxFirstLine || off < kMinResponseBytes) {
    in_http_ = -1;
    return false;
  }
  if (off == len) {
    pos_ = off;
    if (!can_get_more) in_http_ = -1;
    return can_get_more;
  }
  if (!starts_with(resp, 0, "HTTP/1.")) {
    in_http_ = -1;
    return false;
  }
  pos_ = off + 1;
  return parse_pairs(false, resp);
}

}  // namespace huginn::analyzer
