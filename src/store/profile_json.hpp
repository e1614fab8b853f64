#pragma once
// A profile revision's JSON (docs/store.md, "Profile JSON"), built once per
// revision on the writer side and shared by every reader.
#include <cstdint>
#include <string>
#include <string_view>

#include "huginn/store/profile_store.hpp"
#include "store/profile_aggregate.hpp"

namespace huginn::store::detail {

// Appends `s` as a quoted JSON string (RFC 8259 §7). Any bytes are
// accepted: invalid UTF-8 becomes U+FFFD, control characters are escaped,
// so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view s);

// RFC 3339 UTC with milliseconds, "2026-11-25T10:00:00.123Z".
void append_rfc3339_ms(std::string& out, std::int64_t ts_us);

// The revision of `agg` made by change `seq`. `etag_prefix` makes ETags
// unique across store instances (sequence numbers restart at 1).
[[nodiscard]] ProfileRevision build_revision(const Aggregate& agg, std::uint64_t seq, std::string_view etag_prefix);

}  // namespace huginn::store::detail
