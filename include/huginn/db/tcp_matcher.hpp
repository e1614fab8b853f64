#pragma once
// Matching an observed TCP signature against p0f.fp, with p0f 3.09b's exact
// rules (fp_tcp.c tcp_find_match; README section 5).
//
// Thread-safety: immutable after construction; match() is const and may be
// called from any thread. Holds pointers into the P0fDb, which must outlive it.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "huginn/db/p0f_db.hpp"
#include "huginn/fingerprint/tcp/tcp_signature.hpp"

namespace huginn::db {

struct TcpMatch {
  const TcpSigRecord* record = nullptr;  // nullptr: no usable match ("???")
  bool fuzzy = false;
  // Hops from the sender: the matched signature's initial TTL minus the
  // observed TTL, or guess_dist(ttl) when there is no match (or the fuzzy
  // match's TTL is out of range). 0 when a userland tool matched only fuzzily,
  // as p0f reports it.
  std::uint8_t dist = 0;
};

class TcpMatcher {
 public:
  // Indexes db.tcp_request (SYN) and db.tcp_response (SYN+ACK) by option
  // layout, keeping file order within each layout.
  explicit TcpMatcher(const P0fDb& db);

  // sig.syn_ack selects the section. syn_mss is the client's SYN MSS when
  // matching a SYN+ACK (0 when unknown); it feeds detect_win_multi.
  //
  // Order (p0f): among signatures with the same option layout, in file
  // order, the first exact non-generic match wins at once; otherwise the
  // first exact generic one; otherwise the first fuzzy one, unless it is a
  // userland tool ('!' class), which p0f never reports fuzzily. A candidate
  // is fuzzy when its quirks differ only by "df"/"id+" vanishing or
  // "id-"/"ecn" appearing (only the first such candidate is considered), or
  // when its TTL is below the observed one or more than MAX_DIST above it
  // (not for "bad TTL" signatures, which instead never match a higher TTL).
  // A version-agnostic ('*') signature ignores quirks that cannot occur in
  // the packet's IP version.
  [[nodiscard]] TcpMatch match(const fingerprint::tcp::TcpSignature& sig,
                               std::uint16_t syn_mss) const;

 private:
  // Keyed by the olayout bytes; transparent so a per-packet lookup takes a
  // string_view over the signature and allocates nothing.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using Index = std::unordered_map<std::string, std::vector<const TcpSigRecord*>, KeyHash,
                                   std::equal_to<>>;
  static void build(const std::vector<TcpSigRecord>& records, Index& index);

  Index request_;
  Index response_;
};

}  // namespace huginn::db
