#pragma once
// The observed HTTP signature of one request or response header block, and
// its text form, as p0f 3.09b computes them (p0f README "HTTP signatures":
// ver:horder:habsent:expsw; fp_http.c parse_pairs / dump_sig / dump_flags).
//
// Pure: no database. What the text form needs from p0f.fp (which header
// names p0f "knows") is passed in as a predicate.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "huginn/fingerprint/http/http1_parser.hpp"

namespace huginn::fingerprint::http {

// p0f config.h HTTP_MAX_SHOW: header values and the software string are cut
// to this many bytes in the text signature.
inline constexpr std::size_t kMaxShow = 200;

struct HttpSignature {
  bool request = true;
  std::uint8_t http_ver = 0;         // 0 or 1, as Http1Message::http_ver
  std::vector<Http1Header> headers;  // wire order; names compared case-sensitively
  // The last non-empty value of, for requests, "User-Agent" (for
  // responses, "Server"): p0f's "sw", checked against a signature's expsw.
  std::optional<std::string> sw;
  // Requests: the last non-empty "Accept-Language".
  std::optional<std::string> lang;
  // The last non-empty "Via" or "X-Forwarded-For" (p0f's proxy hint).
  std::optional<std::string> via;
  // Responses: the last non-empty "Date", parsed (parse_http_date); nullopt
  // when absent or unparsable, as p0f's 0.
  std::optional<std::int64_t> date;
};

// Header names are matched exactly (case-sensitively), as p0f does: a
// "User-agent" header is neither the User-Agent nor an unknown header's
// twin of it.
[[nodiscard]] HttpSignature compute_http_signature(const Http1Message& msg);

// Header names p0f registers on its own, before reading p0f.fp (its
// optional / always-expected / value-skipped lists, plus User-Agent,
// Server, Accept-Language, Via, X-Forwarded-For and Date).
[[nodiscard]] std::span<const std::string_view> builtin_header_names();

// Whether p0f knows a header name: a built-in one or one named anywhere in
// p0f.fp's HTTP signatures. Known headers' values are shown only when not
// optional/skipped and stop at '|' as well as ']'.
using HeaderKnown = std::function<bool(std::string_view name)>;

// p0f's raw_sig text: "ver:horder:habsent:sw". Header values shown are cut
// at kMaxShow bytes and at the first byte outside 0x20..0x7f or ']' (known
// headers also at '|'), as p0f does; habsent lists the always-expected
// headers that are missing.
[[nodiscard]] std::string format_http_raw_sig(const HttpSignature& sig, const HeaderKnown& known);

// p0f's params: "dishonest", "anonymous" (no sw), "generic", space
// separated in that order, or "none".
[[nodiscard]] std::string format_http_params(bool dishonest, bool anonymous, bool generic);

// A Date header value: "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7
// IMF-fixdate, read as leniently as glibc strptime's "%a, %d %b %Y
// %H:%M:%S %Z") as seconds since the Unix epoch, taken as UTC. nullopt when
// it does not parse. (p0f converts with mktime() from a partly
// uninitialised struct tm; see docs/p0f-deviations.md.)
[[nodiscard]] std::optional<std::int64_t> parse_http_date(std::string_view value);

// The part of a wire value before its first NUL: what p0f's C-string
// comparisons (strstr) see.
[[nodiscard]] std::string_view c_string_view(std::string_view value);

}  // namespace huginn::fingerprint::http
