#include "p0f_match_sim.hpp"

#include "huginn/fingerprint/tcp/tcp_signature.hpp"
#include "huginn/util/limits.hpp"

namespace huginn::test {
namespace {

namespace fp = huginn::fingerprint::tcp;

constexpr int kMinTcp4 = 40;  // IPv4 + TCP headers without options
constexpr int kMinTcp6 = 60;  // IPv6 + TCP headers without options

// p0f's distance guess for an unmatched packet: hops below the next
// common initial TTL (32, 64, 128, 255).
int guess_dist(int ttl) {
  if (ttl <= 32) return 32 - ttl;
  if (ttl <= 64) return 64 - ttl;
  if (ttl <= 128) return 128 - ttl;
  return 255 - ttl;
}

}  // namespace

std::optional<WinMulti> sim_detect_win_multi(const SimObservation& obs, std::uint16_t syn_mss) {
  const int win = obs.win;
  const int mss = obs.mss;
  if (win == 0 || mss < 100) return std::nullopt;
  const bool v6 = obs.ip_ver == packet::IpVersion::v6;

  // Candidates in p0f's order; the first divisor wins, which is what makes
  // a window like 1500*k read as "mss*N" whenever the MSS also divides it.
  struct Candidate {
    int div;
    bool use_mtu;
    bool enabled;
  };
  const Candidate order[] = {
      {mss, false, true},
      {mss - 12, false, obs.ts1 != 0},
      {1500 - kMinTcp4, false, true},
      {1500 - kMinTcp4 - 12, false, true},
      {1500 - kMinTcp6, false, v6},
      {1500 - kMinTcp6 - 12, false, v6},
      {mss + kMinTcp4, true, true},
      {mss + obs.tot_hdr, true, true},
      {mss + kMinTcp6, true, v6},
      {1500, true, true},
      {syn_mss, false, syn_mss != 0},
      {syn_mss - 12, false, syn_mss != 0},
  };
  for (const auto& c : order) {
    if (c.enabled && c.div > 0 && win % c.div == 0) return WinMulti{win / c.div, c.use_mtu};
  }
  return std::nullopt;
}

SimMatch sim_p0f_match(std::span<const db::TcpSigRecord> sigs, const SimObservation& obs,
                       std::uint16_t syn_mss) {
  const auto multi = sim_detect_win_multi(obs, syn_mss);
  const db::TcpSigRecord* fmatch = nullptr;
  const db::TcpSigRecord* gmatch = nullptr;
  const int max_dist = limits::kMaxDist;

  for (const auto& rec : sigs) {
    const auto& ref = rec.sig;
    if (ref.olayout != obs.olayout) continue;
    bool fuzzy = false;

    // A version-less signature drops the quirks that cannot occur in the
    // packet's IP version before comparing (p0f README, "ver").
    std::uint32_t ref_quirks = ref.quirks;
    if (!ref.ip_ver) {
      ref_quirks &= obs.ip_ver == packet::IpVersion::v4
                        ? ~std::uint32_t{fp::kQuirkFlow}
                        : ~std::uint32_t{fp::kQuirkDf | fp::kQuirkNzId | fp::kQuirkZeroId};
    }
    if (ref_quirks != obs.quirks) {
      const std::uint32_t deleted = (ref_quirks ^ obs.quirks) & ref_quirks;
      const std::uint32_t added = (ref_quirks ^ obs.quirks) & obs.quirks;
      if (fmatch || (deleted & ~std::uint32_t{fp::kQuirkDf | fp::kQuirkNzId}) ||
          (added & ~std::uint32_t{fp::kQuirkZeroId | fp::kQuirkEcn}))
        continue;
      fuzzy = true;
    }
    if (ref.opt_eol_pad != obs.opt_eol_pad || ref.ip_opt_len != obs.ip_opt_len) continue;

    if (ref.bad_ttl) {
      if (ref.ittl < obs.ttl) continue;
    } else if (ref.ittl < obs.ttl || ref.ittl - obs.ttl > max_dist) {
      fuzzy = true;
    }

    if (ref.mss && *ref.mss != obs.mss) continue;
    if (ref.wscale && *ref.wscale != obs.wscale) continue;
    if (ref.payload && *ref.payload != obs.payload) continue;

    switch (ref.win_type) {
      case db::WinType::kNormal:
        if (ref.win != obs.win) continue;
        break;
      case db::WinType::kMod:
        if (ref.win == 0 || obs.win % ref.win) continue;
        break;
      case db::WinType::kMss:
        if (!multi || multi->use_mtu || multi->multi != ref.win) continue;
        break;
      case db::WinType::kMtu:
        if (!multi || !multi->use_mtu || multi->multi != ref.win) continue;
        break;
      case db::WinType::kAny:
        break;
    }

    if (!fuzzy) {
      if (!rec.label->generic) return SimMatch{&rec, false, ref.ittl - obs.ttl};
      if (!gmatch) gmatch = &rec;
    } else if (!fmatch) {
      fmatch = &rec;
    }
  }

  if (gmatch) return SimMatch{gmatch, false, gmatch->sig.ittl - obs.ttl};
  // No fuzzy matches for userland tools; p0f then leaves dist at 0.
  if (fmatch && fmatch->label->is_user_app()) return SimMatch{nullptr, false, 0};
  SimMatch m{fmatch, fmatch != nullptr, 0};
  if (!fmatch || fmatch->sig.ittl < obs.ttl ||
      (!fmatch->sig.bad_ttl && fmatch->sig.ittl - obs.ttl > max_dist))
    m.dist = guess_dist(obs.ttl);
  else
    m.dist = fmatch->sig.ittl - obs.ttl;
  return m;
}

}  // namespace huginn::test
