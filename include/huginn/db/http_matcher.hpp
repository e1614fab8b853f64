#pragma once
// Matching an observed HTTP signature against p0f.fp's [http:request] /
// [http:response] records, with p0f 3.09b's rules (fp_http.c
// http_find_match; p0f README "HTTP signatures"), and the User-Agent -> OS
// map of "ua_os" used by its dishonest-software checks.
//
// Thread-safety: immutable after construction; every member is const and
// may be called from any thread. Holds pointers into the P0fDb, which must
// outlive it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "huginn/db/p0f_db.hpp"
#include "huginn/fingerprint/http/http_signature.hpp"

namespace huginn::db {

struct HttpMatch {
  const HttpSigRecord* record = nullptr;  // nullptr: no match ("???")
  // The matched record names the software it expects (expsw) and the
  // observed User-Agent / Server does not contain it: p0f's "dishonest".
  bool dishonest = false;
};

class HttpMatcher {
 public:
  explicit HttpMatcher(const P0fDb& db);

  // sig.request selects the section. In file order, a record matches when
  // its version is '*' or equal; every non-optional horder header appears
  // in the traffic in that relative order (later ones after earlier ones),
  // with its value containing the record's value substring if one is given;
  // an optional ("?") header that is not found in order appears nowhere;
  // and no habsent header appears. The first matching non-generic record
  // wins; otherwise the first generic one.
  [[nodiscard]] HttpMatch match(const fingerprint::http::HttpSignature& sig) const;

  // Whether p0f knows this header name (built in, or named in any HTTP
  // signature of the database). Case-sensitive.
  [[nodiscard]] bool is_known_header(std::string_view name) const;
  // A predicate over is_known_header(), for format_http_raw_sig().
  [[nodiscard]] fingerprint::http::HeaderKnown known_header_predicate() const;

  // The OS a User-Agent names: the first "ua_os" entry (file order) whose
  // keyword occurs in `user_agent`, as an index into P0fDb::names; nullopt
  // when none does.
  [[nodiscard]] std::optional<std::uint32_t> ua_os_name_id(std::string_view user_agent) const;

 private:
  const P0fDb& db_;
  std::unordered_set<std::string> known_;
  std::vector<std::pair<std::string, std::uint32_t>> ua_os_;  // keyword, name id
};

}  // namespace huginn::db
