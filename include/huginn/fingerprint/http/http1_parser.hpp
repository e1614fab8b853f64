#pragma once
// HTTP/1.x request and response header blocks, read the way p0f 3.09b reads
// them (fp_http.c process_http / parse_pairs; p0f config.h HTTP_MAX_*).
//
// This is deliberately not an RFC 9112 parser: it accepts what p0f
// fingerprints and rejects what p0f rejects, so that our signatures are
// p0f's. In particular:
//   - requests must start with "GET /" or "HEAD /" (p0f fingerprints no
//     other method) and the request line must end in "HTTP/1.x";
//   - start lines may hold only printable ASCII, DEL and CR, and their '\n'
//     must lie between offsets 14 (13 for responses) and 1023;
//   - header names are [A-Za-z0-9_-]{1,32} followed directly by ':'; one
//     space or tab after ':' is skipped; values run to '\n' (a CR before it
//     is dropped) and hold at most 1024 bytes; at most 32 headers;
//   - the block ends at the first line that starts with CR or LF.
// Bytes after the header block are not looked at.
//
// All functions are pure and bounds-checked over the given bytes; none
// throws for any input, and none keeps a pointer into it.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace huginn::fingerprint::http {

// p0f config.h HTTP_MAX_URL: the '\n' of a start line must come before
// this offset (it limits request and status lines alike).
inline constexpr std::size_t kMaxStartLine = 1024;
inline constexpr std::size_t kMaxHeaders = 32;       // HTTP_MAX_HDRS
inline constexpr std::size_t kMaxHeaderName = 32;    // HTTP_MAX_HDR_NAME
inline constexpr std::size_t kMaxHeaderValue = 1024; // HTTP_MAX_HDR_VAL
// p0f looks at a request only once it has 15 bytes ("GET / HTTP/1.1" plus
// a newline), and at a response once it has 13.
inline constexpr std::size_t kMinRequestBytes = 15;
inline constexpr std::size_t kMinResponseBytes = 13;

enum class ParseStatus : std::uint8_t {
  kNeedMore,   // a longer prefix may still parse
  kMalformed,  // not HTTP as p0f reads it; `error` says why
  kOk,         // complete; `end` is the offset of the terminating empty line
};

enum class ParseError : std::uint8_t {
  kNone,
  kNotGetOrHead,        // request does not start with "GET /" or "HEAD /"
  kBinaryStartLine,     // control or non-ASCII byte in the start line
  kStartLineLength,     // '\n' too close (< 14 / 13) or too far (>= 1024)
  kBadVersion,          // request line does not end in, or status line start with, "HTTP/1."
  kTooManyHeaders,      // a 33rd header line
  kBadHeaderName,       // empty, longer than 32, or not followed by ':'
  kHeaderValueTooLong,  // more than 1024 bytes before '\n'
  kTruncated,           // the prefix can grow no more and the block is unfinished
};
[[nodiscard]] std::string_view parse_error_name(ParseError e);

// One header line. `value` excludes the skipped blank after ':' and the
// trailing CR; an empty value is what p0f treats as "no value".
struct Http1Header {
  std::string name;
  std::string value;
};

struct Http1Message {
  bool request = true;
  // 1 when the version digit after "HTTP/1." is '1', else 0 (p0f's http_ver;
  // "HTTP/1.9" counts as 0).
  std::uint8_t http_ver = 0;
  std::string start_line;  // without CR/LF
  std::string method;      // requests: "GET" or "HEAD"
  std::string path;        // requests: between the method and " HTTP/1.x"
  std::vector<Http1Header> headers;  // wire order, at most kMaxHeaders
};

struct ParseResult {
  ParseStatus status = ParseStatus::kNeedMore;
  ParseError error = ParseError::kNone;
  std::size_t end = 0;  // kOk: offset of the empty line that ends the block
};

// Whole header block of a request / response from the start of `prefix`.
// more_possible: the caller may still append bytes (p0f stops at 8 KiB per
// direction); when false, an unfinished block is kMalformed/kTruncated.
// `out` is overwritten; on kNeedMore/kMalformed it holds what was read.
[[nodiscard]] ParseResult parse_http1_request(std::span<const std::uint8_t> prefix,
                                              bool more_possible, Http1Message& out);
[[nodiscard]] ParseResult parse_http1_response(std::span<const std::uint8_t> prefix,
                                               bool more_possible, Http1Message& out);

// Resumable steps, for callers that must re-enter at p0f's offsets.
//
// read_start_line: scans the start line from `from` (p0f resumes where the
// last scan stopped; the method check runs only when from == 0). On kOk
// fills out.http_ver / start_line / method / path and sets `from` to the
// offset after '\n'; on kNeedMore sets `from` to where scanning stopped.
[[nodiscard]] ParseResult read_start_line(std::span<const std::uint8_t> buf, bool request,
                                          bool more_possible, std::size_t& from,
                                          Http1Message& out);
// read_headers: appends header lines starting at `pos` until the empty
// line (kOk, `pos` left on it), the end of `buf` (kNeedMore, `pos` at the
// first unfinished line) or an error.
[[nodiscard]] ParseResult read_headers(std::span<const std::uint8_t> buf, bool more_possible,
                                       std::size_t& pos, std::vector<Http1Header>& headers);

}  // namespace huginn::fingerprint::http
