#include "db/sig_coverage.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

#include "huginn/fingerprint/tcp/tcp_signature.hpp"
#include "huginn/util/limits.hpp"

namespace huginn::db::detail {
namespace {

namespace ftcp = huginn::fingerprint::tcp;

// Minimal IP + TCP header sizes (RFC 791, RFC 8200, RFC 9293), which p0f
// adds to an MSS to get an MTU.
constexpr int kMinTcp4 = 20 + 20;
constexpr int kMinTcp6 = 40 + 20;
constexpr int kEthernetMtu = 1500;
// p0f only looks for window multipliers when the MSS is at least this big.
constexpr int kMinMssForMultiplier = 100;

struct WinMultiplier {
  int multiplier = -1;  // -1: window is not a multiple of anything p0f tries
  bool of_mtu = false;  // multiple of an MTU rather than of an MSS
};

// p0f's window-multiplier detection applied to a database pattern standing
// in for a packet. A pattern has no timestamp option value, header length or
// peer MSS, so p0f's candidates that depend on those drop out: "MSS - 12"
// needs ts1 != 0, "MSS + actual header length" degenerates to MSS itself
// (already tried first), and the peer-MSS candidates need a SYN+ACK context.
WinMultiplier pattern_win_multiplier(const TcpSigPattern& s) {
  if (s.win_type != WinType::kNormal || s.win == 0 || !s.mss || *s.mss < kMinMssForMultiplier)
    return {};
  const int win = s.win;
  const int mss = *s.mss;
  const bool v6 = s.ip_ver == 6;
  struct Candidate {
    int divisor;
    bool of_mtu;
    bool applies;
  };
  // p0f's order; the first divisor that divides the window wins.
  const Candidate candidates[] = {
      {mss, false, true},
      {kEthernetMtu - kMinTcp4, false, true},       // MSS on a 1500-byte IPv4 link
      {kEthernetMtu - kMinTcp4 - 12, false, true},  // same, minus the timestamp option
      {kEthernetMtu - kMinTcp6, false, v6},
      {kEthernetMtu - kMinTcp6 - 12, false, v6},
      {mss + kMinTcp4, true, true},
      {mss + kMinTcp6, true, v6},
      {kEthernetMtu, true, true},
  };
  for (const auto& c : candidates) {
    if (c.applies && c.divisor != 0 && win % c.divisor == 0) return {win / c.divisor, c.of_mtu};
  }
  return {};
}

bool has_required_header(const HttpSigPattern& s, const std::string& name) {
  return std::any_of(s.horder.begin(), s.horder.end(),
                     [&](const HttpHeaderPattern& h) { return !h.optional && h.name == name; });
}

bool has_header(const HttpSigPattern& s, const std::string& name) {
  return std::any_of(s.horder.begin(), s.horder.end(),
                     [&](const HttpHeaderPattern& h) { return h.name == name; });
}

}  // namespace

bool tcp_pattern_covers(const TcpSigPattern& earlier, const TcpSigPattern& later) {
  // p0f keys signatures by a hash of the option layout; equal layouts are
  // what the hash stands for.
  if (earlier.olayout != later.olayout) return false;

  // A '*' signature drops the quirks that cannot occur in the other IP
  // version. p0f tests only for IPv4 here, so a later '*' or '6' signature
  // is compared as IPv6.
  std::uint32_t quirks = earlier.quirks;
  if (!earlier.ip_ver) {
    quirks &= later.ip_ver == 4 ? ~std::uint32_t{ftcp::kQuirkFlow}
                                : ~std::uint32_t{ftcp::kQuirkDf | ftcp::kQuirkNzId | ftcp::kQuirkZeroId};
  }
  // Any quirk difference is at best a fuzzy match, which never covers.
  if (quirks != later.quirks) return false;

  if (earlier.opt_eol_pad != later.opt_eol_pad || earlier.ip_opt_len != later.ip_opt_len)
    return false;

  // A TTL out of range is fuzzy (or, for a "-" TTL, no match at all).
  if (earlier.ittl < later.ittl) return false;
  if (!earlier.bad_ttl && earlier.ittl - later.ittl > limits::kMaxDist) return false;

  // p0f does not compare IP versions at all; only the quirk masking above
  // depends on them.
  if (earlier.mss && earlier.mss != later.mss) return false;
  if (earlier.wscale && earlier.wscale != later.wscale) return false;
  if (earlier.payload && earlier.payload != later.payload) return false;

  // Two non-literal windows are only equal if written the same way.
  if (later.win_type != WinType::kNormal)
    return earlier.win_type == later.win_type && earlier.win == later.win;

  switch (earlier.win_type) {
    case WinType::kNormal:
      return earlier.win == later.win;
    case WinType::kAny:
      return true;
    case WinType::kMod:
      return earlier.win != 0 && later.win % earlier.win == 0;
    case WinType::kMss: {
      const auto m = pattern_win_multiplier(later);
      return !m.of_mtu && m.multiplier == earlier.win;
    }
    case WinType::kMtu: {
      const auto m = pattern_win_multiplier(later);
      return m.of_mtu && m.multiplier == earlier.win;
    }
  }
  return false;
}

bool http_pattern_covers(const HttpSigPattern& earlier, const HttpSigPattern& later) {
  if (earlier.http_ver && earlier.http_ver != later.http_ver) return false;

  // p0f first tests, through a Bloom filter of non-optional headers, that
  // every required header of `earlier` is a required header of `later`. The
  // filter's hash seed is random per run, so its rare false positives are
  // not reproducible; we apply the exact set test the filter approximates.
  for (const auto& h : earlier.horder) {
    if (!h.optional && !has_required_header(later, h.name)) return false;
  }

  // Headers of `earlier` must appear in `later` in the same order. A missing
  // optional header is fine unless it appears out of order.
  std::size_t t = 0;
  for (const auto& h : earlier.horder) {
    const std::size_t resume = t;
    while (t < later.horder.size() && later.horder[t].name != h.name) ++t;
    if (t == later.horder.size()) {
      if (!h.optional || has_header(later, h.name)) return false;
      t = resume;
      continue;
    }
    if (h.value && (!later.horder[t].value || later.horder[t].value->find(*h.value) == std::string::npos))
      return false;
    ++t;
  }

  // Forbidden headers of `earlier` must not be required by `later` (p0f's
  // Bloom prefilter again limits this to non-optional headers).
  for (const auto& name : earlier.habsent) {
    if (has_required_header(later, name)) return false;
  }

  // p0f, for this check only: a signature that forbids more headers (or a
  // different set) may come before one that forbids fewer.
  if (earlier.habsent.size() > later.habsent.size()) return false;
  for (const auto& name : earlier.habsent) {
    if (std::find(later.habsent.begin(), later.habsent.end(), name) == later.habsent.end())
      return false;
  }
  return true;
}

}  // namespace huginn::db::detail
