#include "huginn/fingerprint/http/http1_parser.hpp"

#include <algorithm>
#include <cstring>

namespace huginn::fingerprint::http {

namespace {

// Offsets a '\n' must reach for a start line to count (p0f: "newline too
// close"): "GET / HTTP/1.x" is 14 bytes, "HTTP/1.x NNN " 13.
constexpr std::size_t kMinRequestLineEnd = 14;
constexpr std::size_t kMinStatusLineEnd = 13;
constexpr std::string_view kVersionPrefix = "HTTP/1.";

// Every read goes through here: -1 past the end, so scans stop at the
// bound the way p0f's scans stop at the NUL it appends to its buffers.
int byte_at(std::span<const std::uint8_t> buf, std::size_t i) {
  return i < buf.size() ? buf[i] : -1;
}

bool has_at(std::span<const std::uint8_t> buf, std::size_t at, std::string_view s) {
  if (at > buf.size() || buf.size() - at < s.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (buf[at + i] != static_cast<std::uint8_t>(s[i])) return false;
  }
  return true;
}

std::string text(std::span<const std::uint8_t> buf, std::size_t from, std::size_t len) {
  // Callers pass ranges inside buf.
  const auto first = buf.begin() + static_cast<std::ptrdiff_t>(from);
  return std::string(first, first + static_cast<std::ptrdiff_t>(len));
}

bool is_name_char(int c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         c == '-' || c == '_';
}

// Start lines: printable ASCII, DEL, and CR anywhere (p0f's test).
bool is_start_line_char(int c) { return c == '\r' || (c >= 0x20 && c <= 0x7f); }

ParseResult malformed(ParseError e) { return {ParseStatus::kMalformed, e, 0}; }

ParseResult need_more(bool more_possible) {
  return more_possible ? ParseResult{} : malformed(ParseError::kTruncated);
}

void split_request_line(Http1Message& out) {
  const std::string_view line = out.start_line;
  const std::size_t sp = line.find(' ');
  out.method = std::string(line.substr(0, sp));
  if (sp == std::string_view::npos) return;
  // The line ends in "HTTP/1.x", checked by the caller; the path is what
  // lies between the first space and the space before that version.
  std::string_view rest = line.substr(sp + 1);
  const std::size_t vsp = rest.rfind(' ');
  out.path = std::string(vsp == std::string_view::npos ? rest : rest.substr(0, vsp));
}

}  // namespace

std::string_view parse_error_name(ParseError e) {
  switch (e) {
    case ParseError::kNone: return "none";
    case ParseError::kNotGetOrHead: return "http_not_get_or_head";
    case ParseError::kBinaryStartLine: return "http_binary_start_line";
    case ParseError::kStartLineLength: return "http_start_line_length";
    case ParseError::kBadVersion: return "http_bad_version";
    case ParseError::kTooManyHeaders: return "http_too_many_headers";
    case ParseError::kBadHeaderName: return "http_bad_header_name";
    case ParseError::kHeaderValueTooLong: return "http_header_value_too_long";
    case ParseError::kTruncated: return "http_truncated";
  }
  return "?";
}

ParseResult read_start_line(std::span<const std::uint8_t> buf, bool request, bool more_possible,
                            std::size_t& from, Http1Message& out) {
  const std::size_t len = buf.size();
  if (len < (request ? kMinRequestBytes : kMinResponseBytes)) return need_more(more_possible);
  // Only GET and HEAD are fingerprinted (p0f README, "HTTP signatures").
  if (request && from == 0 && !has_at(buf, 0, "GET /") && !has_at(buf, 0, "HEAD /")) {
    return malformed(ParseError::kNotGetOrHead);
  }
  std::size_t off = from;
  while (off < len && off < kMaxStartLine && byte_at(buf, off) != '\n') {
    if (!is_start_line_char(byte_at(buf, off))) return malformed(ParseError::kBinaryStartLine);
    ++off;
  }
  if (off == kMaxStartLine || off < (request ? kMinRequestLineEnd : kMinStatusLineEnd)) {
    return malformed(ParseError::kStartLineLength);
  }
  if (off == len) {
    from = off;
    return need_more(more_possible);
  }
  // off >= 13 here, so the version offsets below stay inside buf.
  const bool cr = byte_at(buf, off - 1) == '\r';
  std::size_t ver_at = 0;
  if (request) {
    // "... HTTP/1.x" at the end of the line, before an optional CR.
    ver_at = off - kVersionPrefix.size() - 1 - (cr ? 1 : 0);
  }
  if (!has_at(buf, ver_at, kVersionPrefix)) return malformed(ParseError::kBadVersion);
  out.request = request;
  out.http_ver = byte_at(buf, ver_at + kVersionPrefix.size()) == '1' ? 1 : 0;
  out.start_line = text(buf, 0, off - (cr ? 1 : 0));
  out.method.clear();
  out.path.clear();
  if (request) split_request_line(out);
  from = off + 1;
  return {ParseStatus::kOk, ParseError::kNone, off};
}

ParseResult read_headers(std::span<const std::uint8_t> buf, bool more_possible, std::size_t& pos,
                         std::vector<Http1Header>& headers) {
  const std::size_t len = buf.size();
  while (pos < len) {
    std::size_t off = pos;
    const int first = byte_at(buf, off);
    if (first == '\r' || first == '\n') return {ParseStatus::kOk, ParseError::kNone, pos};
    if (headers.size() >= kMaxHeaders) return malformed(ParseError::kTooManyHeaders);

    // One byte past the limit is read, so an over-long name is told apart
    // from one that simply ends at the limit.
    std::size_t nlen = 0;
    while (off < len && is_name_char(byte_at(buf, off)) && nlen <= kMaxHeaderName) {
      ++off;
      ++nlen;
    }
    if (off == len) return need_more(more_possible);
    if (nlen == 0 || nlen > kMaxHeaderName || byte_at(buf, off) != ':') {
      return malformed(ParseError::kBadHeaderName);
    }
    ++off;
    if (byte_at(buf, off) == ' ' || byte_at(buf, off) == '\t') ++off;

    // The value runs to the '\n', looked for in at most kMaxHeaderValue + 1
    // bytes (vstart <= len here): a longer value is malformed, a shorter
    // one with no '\n' yet needs more bytes.
    const std::size_t vstart = off;
    const std::size_t limit = std::min(len, vstart + kMaxHeaderValue + 1);
    const void* nl = std::memchr(buf.data() + vstart, '\n', limit - vstart);
    off = nl == nullptr ? limit : static_cast<std::size_t>(static_cast<const std::uint8_t*>(nl) - buf.data());
    std::size_t vlen = off - vstart;
    if (vlen > kMaxHeaderValue) return malformed(ParseError::kHeaderValueTooLong);
    if (off == len) return need_more(more_possible);
    // The byte before vstart is ':' or a blank, so a CR here is the value's.
    if (vlen > 0 && byte_at(buf, off - 1) == '\r') --vlen;

    headers.push_back({text(buf, pos, nlen), text(buf, vstart, vlen)});
    pos = off + 1;
  }
  return need_more(more_possible);
}

namespace {

ParseResult parse_message(std::span<const std::uint8_t> prefix, bool request, bool more_possible,
                          Http1Message& out) {
  out = Http1Message{};
  out.request = request;
  std::size_t pos = 0;
  const ParseResult line = read_start_line(prefix, request, more_possible, pos, out);
  if (line.status != ParseStatus::kOk) return line;
  return read_headers(prefix, more_possible, pos, out.headers);
}

}  // namespace

ParseResult parse_http1_request(std::span<const std::uint8_t> prefix, bool more_possible,
                                Http1Message& out) {
  return parse_message(prefix, true, more_possible, out);
}

ParseResult parse_http1_response(std::span<const std::uint8_t> prefix, bool more_possible,
                                 Http1Message& out) {
  return parse_message(prefix, false, more_possible, out);
}

}  // namespace huginn::fingerprint::http
