#pragma once
// A profile revision's JSON (docs/store.md, "Profile JSON"), built once per
// revision on the writer side and shared by every reader.
#include <cstdint>
#include <string>
#include <string_view>

#include "huginn/store/profile_store.hpp"
#include "store/profile_aggregate.hpp"
#include "store/string_pool.hpp"

namespace huginn::store::detail {

// RFC 3339 UTC with milliseconds, "2026-11-25T10:00:00.123Z".
void append_rfc3339_ms(std::string& out, std::int64_t ts_us);

// The revision of `agg` made by change `seq`. `etag_prefix` makes ETags
// unique across store instances (sequence numbers restart at 1). The
// shared pieces of its JSON are interned in `pool`.
[[nodiscard]] ProfileRevision build_revision(const Aggregate& agg, std::uint64_t seq, std::string_view etag_prefix,
                                             StringPool& pool);

}  // namespace huginn::store::detail
