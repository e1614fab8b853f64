#pragma once
// Loader for p0f v3's fingerprint database (p0f.fp): p0f README section 5
// and the rules p0f 3.09b enforces when it reads the file, including its
// refusal of a signature that an earlier one in the same direction already
// covers.
//
// p0f loads some malformed text silently; we reject it with a message
// instead: an empty number (p0f reads it as 0), a trailing ',' in an option,
// quirk or header list, text right after a ua_os "]", an "N-" TTL not
// followed by ':', control characters, a non-printable flavor or MTU label,
// and lines over limits::kMaxDbLineLength. Debian's p0f.fp has none of these.
// Deliberate departures from p0f on text it accepts:
//  - "N-:olen": p0f skips the first character of olen after a "-" TTL; we
//    read olen as written (the same value for the one-digit olen databases use).
//  - A trailing '\r' is stripped, so CRLF files load.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "huginn/db/p0f_db.hpp"

namespace huginn::db {

// A load failure: `line` is 1-based, or 0 for file-level errors (cannot
// open / read).
struct DbError {
  std::string file;
  std::uint32_t line = 0;
  std::string message;
  // "FILE:LINE: message", or "FILE: message" when line is 0.
  [[nodiscard]] std::string to_string() const;
};

// Parses database text; `name` is used in error messages and as P0fDb::path.
// Stops at the first error. Never throws (allocation failure is reported as
// an error too).
std::variant<P0fDb, DbError> parse_p0f_db(std::string_view text, std::string name);

// Reads and parses the file at `path`. Errors: cannot open or read the file
// (line 0, with the system's reason), or any parse error.
std::variant<P0fDb, DbError> load_p0f_db(const std::string& path);

// A label's name as p0f prints it: "Linux 3.11 and newer" (name, then
// " flavor" when the flavor is non-empty).
std::string label_display(const P0fDb& db, const Label& label);

}  // namespace huginn::db
