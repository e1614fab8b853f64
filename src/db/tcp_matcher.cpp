#include "huginn/db/tcp_matcher.hpp"

#include "huginn/fingerprint/tcp/ttl.hpp"
#include "huginn/fingerprint/tcp/win_multi.hpp"
#include "huginn/util/limits.hpp"

namespace huginn::db {

namespace {

namespace ft = fingerprint::tcp;

std::string layout_key(std::span<const std::uint8_t> layout) {
  return std::string(layout.begin(), layout.end());
}

// Quirks a signature written for both IP versions cannot require of a
// packet of the other version.
constexpr std::uint32_t kIpv4OnlyQuirks = ft::kQuirkDf | ft::kQuirkNzId | ft::kQuirkZeroId;
constexpr std::uint32_t kIpv6OnlyQuirks = ft::kQuirkFlow;
// Differences p0f tolerates as fuzzy: a middlebox may clear DF (and with it
// the non-zero ID), zero the ID, or add ECN.
constexpr std::uint32_t kMayVanish = ft::kQuirkDf | ft::kQuirkNzId;
constexpr std::uint32_t kMayAppear = ft::kQuirkZeroId | ft::kQuirkEcn;

bool window_matches(const TcpSigPattern& p, const ft::TcpSignature& sig, const ft::WinMulti& wm) {
  switch (p.win_type) {
    case WinType::kNormal: return p.win == sig.win;
    case WinType::kAny: return true;
    case WinType::kMod: return p.win != 0 && sig.win % p.win == 0;
    case WinType::kMss: return !wm.use_mtu && static_cast<int>(p.win) == wm.multi;
    case WinType::kMtu: return wm.use_mtu && static_cast<int>(p.win) == wm.multi;
  }
  return false;
}

}  // namespace

TcpMatcher::TcpMatcher(const P0fDb& db) {
  build(db.tcp_request, request_);
  build(db.tcp_response, response_);
}

void TcpMatcher::build(const std::vector<TcpSigRecord>& records, Index& index) {
  for (const auto& rec : records) {
    index[layout_key(rec.sig.olayout)].push_back(&rec);
  }
}

TcpMatch TcpMatcher::match(const ft::TcpSignature& sig, std::uint16_t syn_mss) const {
  TcpMatch out;
  const Index& index = sig.syn_ack ? response_ : request_;
  const TcpSigRecord* fmatch = nullptr;
  const TcpSigRecord* gmatch = nullptr;

  const auto layout = sig.layout();
  const auto it = index.find(
      std::string_view(reinterpret_cast<const char*>(layout.data()), layout.size()));

  if (it != index.end()) {
    const ft::WinMulti wm = ft::detect_win_multi(sig, syn_mss);
    const bool v4 = sig.ip_ver == packet::IpVersion::v4;

    for (const TcpSigRecord* rec : it->second) {
      const TcpSigPattern& p = rec->sig;
      bool fuzzy = false;

      std::uint32_t ref_quirks = p.quirks;
      if (!p.ip_ver) ref_quirks &= v4 ? ~kIpv6OnlyQuirks : ~kIpv4OnlyQuirks;
      if (ref_quirks != sig.quirks) {
        const std::uint32_t diff = ref_quirks ^ sig.quirks;
        const std::uint32_t deleted = diff & ref_quirks;
        const std::uint32_t added = diff & sig.quirks;
        if (fmatch != nullptr || (deleted & ~kMayVanish) != 0 || (added & ~kMayAppear) != 0) {
          continue;
        }
        fuzzy = true;
      }

      if (p.opt_eol_pad != sig.opt_eol_pad || p.ip_opt_len != sig.ip_opt_len) continue;

      if (p.bad_ttl) {
        if (p.ittl < sig.ttl) continue;
      } else if (p.ittl < sig.ttl || p.ittl - sig.ttl > limits::kMaxDist) {
        fuzzy = true;
      }

      if (p.mss && *p.mss != sig.mss) continue;
      if (p.wscale && *p.wscale != sig.wscale) continue;
      if (p.payload && *p.payload != sig.payload) continue;
      if (!window_matches(p, sig, wm)) continue;

      if (!fuzzy) {
        if (!rec->label->generic) {
          out.record = rec;
          out.dist = static_cast<std::uint8_t>(p.ittl - sig.ttl);
          return out;
        }
        if (gmatch == nullptr) gmatch = rec;
      } else if (fmatch == nullptr) {
        fmatch = rec;
      }
    }
  }

  if (gmatch != nullptr) {
    out.record = gmatch;
    out.dist = static_cast<std::uint8_t>(gmatch->sig.ittl - sig.ttl);
    return out;
  }
  // A userland tool (nmap and friends) is only named on an exact match; p0f
  // then reports nothing, and leaves the distance at 0.
  if (fmatch != nullptr && fmatch->label->is_user_app()) return out;

  if (fmatch == nullptr || fmatch->sig.ittl < sig.ttl ||
      (!fmatch->sig.bad_ttl && fmatch->sig.ittl - sig.ttl > limits::kMaxDist)) {
    out.dist = ft::guess_dist(sig.ttl);
  } else {
    out.dist = static_cast<std::uint8_t>(fmatch->sig.ittl - sig.ttl);
  }
  out.record = fmatch;
  out.fuzzy = fmatch != nullptr;
  return out;
}

}  // namespace huginn::db
