#pragma once
// Matching an observed HTTP signature against p0f.fp's [http:request] /
// [http:response] records, with p0f 3.09b's rules (fp_http.c
// http_find_match; p0f README "HTTP signatures"), and the User-Agent -> OS
// map of "ua_os" used by its dishonest-software checks.
//
// Thread-safety: immutable after construction; every member is const and
// may be called from any thread. Holds pointers into the P0fDb, which must
// outlive it.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
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

  // Header names interned as small integers: every known header has one.
  // An observed header whose name is not known gets kUnknownHeader, which
  // no record names, so comparing ids is comparing names exactly.
  using HeaderId = std::uint32_t;
  static constexpr HeaderId kUnknownHeader = 0xffffffff;

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct HeaderRule {
    HeaderId id = kUnknownHeader;
    bool optional = false;
    const std::string* value = nullptr;  // into the P0fDb; null: any value
  };
  // A set of header ids below kMaskIds, one bit each.
  static constexpr HeaderId kMaskIds = 256;
  using IdMask = std::array<std::uint64_t, kMaskIds / 64>;
  // One record with its names replaced by ids (same order as the section).
  struct CompiledRecord {
    const HttpSigRecord* record = nullptr;
    std::vector<HeaderRule> horder;
    std::vector<HeaderId> habsent;
    // A necessary condition checked first: the non-optional horder ids
    // (`required`) must all be present and no habsent id (`absent`) may
    // be. Ids from kMaskIds on are left out, so the full test still runs.
    IdMask required{};
    IdMask absent{};
  };

  static void add_to_mask(IdMask& mask, HeaderId id);
  [[nodiscard]] HeaderId header_id(std::string_view name) const;
  [[nodiscard]] std::vector<CompiledRecord> compile(const std::vector<HttpSigRecord>& section) const;
  // p0f's http_find_match test of one record; ids[i] is the id of
  // ts.headers[i], and `present` holds every id of `ids`.
  static bool matches(const CompiledRecord& rec, const fingerprint::http::HttpSignature& ts,
                      std::span<const HeaderId> ids, const IdMask& present);

  std::unordered_map<std::string, HeaderId, StringHash, std::equal_to<>> ids_;
  std::vector<CompiledRecord> request_;
  std::vector<CompiledRecord> response_;
  std::vector<std::pair<std::string, std::uint32_t>> ua_os_;  // keyword, name id
};

}  // namespace huginn::db
