#pragma once
// p0f's duplicate check when it registers a p0f.fp signature: the new
// signature is compared, as if it were observed traffic, against the earlier
// signatures of the same direction; a match that is exact (not fuzzy) against
// a non-generic signature means the new one could never be reported, and
// p0f refuses the file ("Signature in line N is already covered by line M").
//
// Callers skip earlier signatures with generic labels: p0f keeps looking past
// a generic match, and during this check never reports one.
#include "huginn/db/p0f_db.hpp"

namespace huginn::db::detail {

// True if `earlier` matches `later` exactly under p0f 3.09b's TCP matching
// rules, with `later`'s pattern values standing in for observed values.
[[nodiscard]] bool tcp_pattern_covers(const TcpSigPattern& earlier, const TcpSigPattern& later);

// Same for HTTP, including p0f's extra rule for this check: `earlier` must
// not forbid (habsent) a header that `later` does not also forbid.
[[nodiscard]] bool http_pattern_covers(const HttpSigPattern& earlier, const HttpSigPattern& later);

}  // namespace huginn::db::detail
