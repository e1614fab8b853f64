#pragma once
// The query parameters of the realtime endpoints: filters and a resume
// point. Strict, like the API: an unknown, repeated, empty-named or
// malformed parameter is a 400, never a guess.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "huginn/realtime/event_hub.hpp"

namespace huginn::realtime::detail {

inline constexpr std::size_t kMaxQueryParams = 8;
inline constexpr std::size_t kMaxParamBytes = 256;  // one decoded value

struct StreamParams {
  Filter filter;
  std::optional<std::uint64_t> resume;  // the `resume_name` parameter
};

struct ParamError {
  std::string parameter;  // empty when the query as a whole is at fault
  std::string message;
};

// Parses `query` (after '?', percent-encoded, '+' as space as HTML forms
// send it) accepting ip, os, ja4 and `resume_name`. nullopt with `error`
// set on failure.
[[nodiscard]] std::optional<StreamParams> parse_stream_params(std::string_view query,
                                                              std::string_view resume_name,
                                                              ParamError& error);

// The store's key for an address: RFC 5952 text; an IPv4-mapped IPv6
// address (::ffff:a.b.c.d) is its IPv4 address. nullopt when `text` is not
// an IPv4 dotted quad or IPv6 text form (inet_pton rules).
[[nodiscard]] std::optional<std::string> normalise_ip(std::string_view text);

// A decimal sequence number without sign, spaces or overflow.
[[nodiscard]] std::optional<std::uint64_t> parse_seq(std::string_view text);

}  // namespace huginn::realtime::detail
