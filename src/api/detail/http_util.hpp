#pragma once
// Request parsing and response shaping helpers for the router: query
// strings, percent-decoding, content negotiation, validators, gzip.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "huginn/packet/ip_address.hpp"
#include "huginn/server/http_types.hpp"

namespace huginn::api::detail {

// Calls f(piece) for every piece of `s` between `sep`s, empty pieces
// included, in order; stops when f returns false. True when f never did.
template <typename F>
bool for_each_piece(std::string_view s, char sep, F&& f) {
  std::size_t pos = 0;
  while (true) {
    std::size_t end = s.find(sep, pos);
    if (end == std::string_view::npos) end = s.size();
    if (!f(s.substr(pos, end - pos))) return false;
    if (end == s.size()) return true;
    pos = end + 1;
  }
}

// RFC 3986 §2.1 percent-decoding. `plus_is_space` applies the
// application/x-www-form-urlencoded rule (WHATWG URL §5.1) used by HTML
// forms and URLSearchParams for query strings. nullopt on a '%' not
// followed by two hex digits.
[[nodiscard]] std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);

struct QueryParam {
  std::string name;
  std::string value;
};
struct QueryError {
  std::string parameter;  // empty when the query as a whole is at fault
  std::string message;
};
// Splits `query` at '&' and each piece at its first '=', decoding both
// halves. Empty pieces are skipped. Fails on bad percent-encoding, more
// than `max_params` pieces, a repeated name, or a value longer than
// `max_value_bytes` after decoding.
[[nodiscard]] bool parse_query(std::string_view query, std::size_t max_params,
                               std::size_t max_value_bytes, std::vector<QueryParam>& out,
                               QueryError& error);

// Whether an Accept-Encoding field value (RFC 9110 §12.5.3) allows gzip:
// "gzip" or "x-gzip" with q > 0, or else "*" with q > 0. An explicit
// gzip;q=0 wins over "*".
[[nodiscard]] bool accepts_gzip(std::string_view accept_encoding);

// If-None-Match (RFC 9110 §13.1.2): true when the field is "*" or lists an
// entity-tag that matches `etag` or `alt_etag` by weak comparison (RFC 9110
// §8.8.3.2: "W/" ignored, opaque-tags compared octet by octet).
[[nodiscard]] bool if_none_match_hits(std::string_view field, std::string_view etag,
                                      std::string_view alt_etag);

// The validator of the gzip representation of a resource whose identity
// representation has strong ETag `etag` ("\"x\"" -> "\"x-gz\""): strong
// validators differ between representations (RFC 9110 §8.8.3).
[[nodiscard]] std::string gzip_etag(std::string_view etag);

// One-shot gzip (RFC 1952) of `in` at zlib `level`; nullopt if zlib fails.
[[nodiscard]] std::optional<std::string> gzip_compress(std::string_view in, int level);

// IPv4 dotted quad or any RFC 4291 §2.2 IPv6 text form (inet_pton); an
// IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address, as the
// store keys both families separately and a dual-stack socket reports v4
// peers that way. No zone index, no brackets, no surrounding space.
[[nodiscard]] std::optional<packet::IpAddress> parse_ip(std::string_view text);

// RFC 8259 string literal of arbitrary bytes: invalid UTF-8 becomes U+FFFD
// (nlohmann's "replace" handler), so hostile input cannot break the JSON.
[[nodiscard]] std::string json_string(std::string_view text);

// RFC 3339 UTC timestamp with second precision ("2026-11-25T23:57:06Z").
[[nodiscard]] std::string rfc3339(std::int64_t unix_seconds);

// The API's error body, {"error": <code>, "message": <text>} plus
// "parameter" when one request parameter is at fault; <code> is a fixed
// token per status ("bad_request", "not_found", ...). Cache-Control:
// no-store (an error is not a representation worth keeping).
[[nodiscard]] server::Response json_error(int status, std::string_view message,
                                          std::string_view parameter = {});

}  // namespace huginn::api::detail
