#include "p0f_sig_crafter.hpp"

#include <algorithm>
#include <array>

#include "huginn/fingerprint/tcp/tcp_signature.hpp"
#include "huginn/util/limits.hpp"

namespace huginn::test {
namespace {

namespace fp = huginn::fingerprint::tcp;

constexpr std::uint32_t kIpv4OnlyQuirks = fp::kQuirkDf | fp::kQuirkNzId | fp::kQuirkZeroId |
                                          fp::kQuirkNzMbz;
// MSS values seen in practice (Ethernet, PPPoE, VPN and tunnel MTUs, the
// RFC 879 default); a wildcard MSS draws from these or from a range.
constexpr std::array<std::uint16_t, 12> kCommonMss{1460, 1460, 1460, 1452, 1440, 1400,
                                                   1380, 1360, 1420, 1430, 1220, 536};

std::size_t option_size(std::uint8_t kind, std::uint8_t eol_pad) {
  switch (kind) {
    case fp::kOptEol: return 1u + eol_pad;
    case fp::kOptNop: return 1;
    case fp::kOptMss: return 4;
    case fp::kOptWs: return 3;
    case fp::kOptSok: return 2;
    case fp::kOptSack: return 10;
    case fp::kOptTs: return 10;
    default: return 2;  // unknown kind with an empty body
  }
}

bool has_kind(const std::vector<std::uint8_t>& layout, std::uint8_t kind) {
  return std::find(layout.begin(), layout.end(), kind) != layout.end();
}

std::optional<CraftedShape> fail(CraftError* error, std::string reason) {
  if (error) error->reason = std::move(reason);
  return std::nullopt;
}

std::uint16_t draw_mss(CraftRng& rng) {
  if (rng.chance(0.5)) return kCommonMss[rng.uniform(0, kCommonMss.size() - 1)];
  return static_cast<std::uint16_t>(rng.uniform(536, 1460));
}

}  // namespace

bool CraftedShape::has_ts() const { return has_kind(olayout, fp::kOptTs); }

SimObservation CraftedShape::observation(std::uint32_t ts1) const {
  SimObservation o;
  o.ip_ver = ip_ver;
  o.ttl = ttl;
  o.ip_opt_len = ip_opt_len;
  o.mss = has_kind(olayout, fp::kOptMss) ? mss : 0;
  o.win = win;
  o.wscale = has_kind(olayout, fp::kOptWs) ? wscale : 0;
  o.olayout = olayout;
  o.opt_eol_pad = opt_eol_pad;
  o.quirks = quirks;
  o.payload = payload;
  const std::size_t ip_hdr = ip_ver == packet::IpVersion::v6 ? 40 : 20u + ip_opt_len;
  o.tot_hdr = static_cast<std::uint16_t>(ip_hdr + 20 + (option_bytes + 3) / 4 * 4);
  o.ts1 = has_ts() ? ts1 : 0;
  return o;
}

std::optional<CraftedShape> craft_shape(const db::TcpSigRecord& rec, bool syn_ack, CraftRng& rng,
                                        CraftError* error) {
  const auto& sig = rec.sig;
  CraftedShape s;
  s.syn_ack = syn_ack;
  s.olayout = sig.olayout;
  s.opt_eol_pad = sig.opt_eol_pad;
  s.ip_opt_len = sig.ip_opt_len;

  // IP version: IP options exist only in IPv4; otherwise a version-less
  // signature gets IPv6 about a third of the time.
  if (sig.ip_ver) {
    s.ip_ver = *sig.ip_ver == 6 ? packet::IpVersion::v6 : packet::IpVersion::v4;
  } else {
    s.ip_ver = (sig.ip_opt_len == 0 && rng.chance(0.3)) ? packet::IpVersion::v6
                                                        : packet::IpVersion::v4;
  }
  const bool v6 = s.ip_ver == packet::IpVersion::v6;
  if (v6 && sig.ip_opt_len) return fail(error, "IP options on IPv6");
  if (sig.ip_opt_len % 4) return fail(error, "IP option length not a multiple of 4");

  // Options must fill the header exactly: any alignment padding would show
  // up as an extra EOL that the signature does not have.
  for (auto kind : s.olayout) s.option_bytes += option_size(kind, s.opt_eol_pad);
  if (s.option_bytes > 40) return fail(error, "options longer than 40 bytes");
  if (s.option_bytes % 4) return fail(error, "options not 4-byte aligned");

  // Quirks: a version-less signature loses the quirks of the other version,
  // as in p0f's matching.
  s.quirks = sig.quirks;
  if (!sig.ip_ver) s.quirks &= v6 ? ~kIpv4OnlyQuirks : ~std::uint32_t{fp::kQuirkFlow};
  if (v6 && (s.quirks & kIpv4OnlyQuirks)) return fail(error, "IPv4 quirk on IPv6");
  if (!v6 && (s.quirks & fp::kQuirkFlow)) return fail(error, "flow quirk on IPv4");
  if (syn_ack && (s.quirks & (fp::kQuirkNzAck | fp::kQuirkOptNzTs2)))
    return fail(error, "ack+/ts2+ cannot occur on a SYN+ACK");
  if (!syn_ack && (s.quirks & fp::kQuirkZeroAck)) return fail(error, "ack- needs the ACK flag");
  if ((s.quirks & (fp::kQuirkOptZeroTs1 | fp::kQuirkOptNzTs2)) && !has_kind(s.olayout, fp::kOptTs))
    return fail(error, "timestamp quirk without timestamp option");
  if (s.quirks & fp::kQuirkOptBad) return fail(error, "'bad' options are not crafted");
  // p0f notices non-zero EOL padding only before the last byte.
  if ((s.quirks & fp::kQuirkOptEolNz) && (!has_kind(s.olayout, fp::kOptEol) || s.opt_eol_pad < 2))
    return fail(error, "opt+ needs at least two bytes of EOL padding");

  if (s.quirks & fp::kQuirkEcn) {
    constexpr std::array<EcnVia, 6> kVias{EcnVia::kIpEct0,     EcnVia::kIpEct1, EcnVia::kIpCe,
                                          EcnVia::kTcpEceCwr, EcnVia::kTcpEce, EcnVia::kTcpNs};
    s.ecn = kVias[rng.uniform(0, kVias.size() - 1)];
  }

  // TTL: a random distance within p0f's MAX_DIST, never reaching zero.
  s.ittl = sig.ittl;
  const int max_dist = std::min<int>(limits::kMaxDist, sig.ittl - 1);
  s.ttl = static_cast<std::uint8_t>(sig.ittl - static_cast<int>(rng.uniform(0, max_dist)));
  if (rng.chance(0.15)) s.tos = static_cast<std::uint8_t>(rng.uniform(1, 63));

  // Window scale.
  const bool has_ws = has_kind(s.olayout, fp::kOptWs);
  if (sig.wscale) {
    if (!has_ws && *sig.wscale) return fail(error, "window scale without WS option");
    s.wscale = *sig.wscale;
  } else if (has_ws) {
    s.wscale = (s.quirks & fp::kQuirkOptExws) ? static_cast<std::uint8_t>(rng.uniform(15, 255))
                                               : static_cast<std::uint8_t>(rng.uniform(0, 14));
  }
  if (has_ws && ((s.wscale > 14) != ((s.quirks & fp::kQuirkOptExws) != 0)))
    return fail(error, "window scale and exws quirk disagree");

  // MSS.
  const bool has_mss = has_kind(s.olayout, fp::kOptMss);
  if (sig.mss) {
    if (!has_mss && *sig.mss) return fail(error, "MSS value without MSS option");
    s.mss = *sig.mss;
  } else if (has_mss) {
    s.mss = draw_mss(rng);
  }

  // Window.
  const std::uint32_t n = sig.win;
  switch (sig.win_type) {
    case db::WinType::kNormal:
      s.win = sig.win;
      break;
    case db::WinType::kAny:
      s.win = static_cast<std::uint16_t>(rng.uniform(1, 65535));
      break;
    case db::WinType::kMod:
      if (n == 0) return fail(error, "window modulus 0");
      s.win = static_cast<std::uint16_t>(n * rng.uniform(1, 65535 / n));
      break;
    case db::WinType::kMss:
      if (n == 0) return fail(error, "window multiplier 0");
      if (std::uint32_t{s.mss} * n > 65535) {
        if (sig.mss || !has_mss) return fail(error, "mss*N exceeds 65535");
        s.mss = static_cast<std::uint16_t>(rng.uniform(100, 65535 / n));
      }
      s.win = static_cast<std::uint16_t>(s.mss * n);
      break;
    case db::WinType::kMtu: {
      if (n == 0) return fail(error, "window multiplier 0");
      // p0f reads a window as MTU-based when it divides by MSS+40, by
      // MSS+(actual header length), by MSS+60 (IPv6) or by 1500; draw one.
      const auto obs = s.observation(0);
      std::vector<std::uint32_t> mtus{std::uint32_t{s.mss} + 40, std::uint32_t{s.mss} + obs.tot_hdr,
                                      1500};
      if (v6) mtus.push_back(std::uint32_t{s.mss} + 60);
      std::erase_if(mtus, [n](std::uint32_t m) { return m * n > 65535; });
      if (mtus.empty()) return fail(error, "mtu*N exceeds 65535");
      s.win = static_cast<std::uint16_t>(mtus[rng.uniform(0, mtus.size() - 1)] * n);
      break;
    }
  }

  if (sig.payload) {
    s.payload = *sig.payload;
  } else {
    s.payload = rng.chance(0.25);
  }
  return s;
}

void apply_shape(const CraftedShape& shape, const PacketVars& vars, TcpPacketBuilder& b) {
  const std::uint32_t q = shape.quirks;
  const bool v6 = shape.ip_ver == packet::IpVersion::v6;
  b.ttl(shape.ttl).tos(shape.tos);

  std::uint8_t flags = tcp_flag::kSyn;
  if (shape.syn_ack) flags |= tcp_flag::kAck;
  if (q & fp::kQuirkUrg) flags |= tcp_flag::kUrg;
  if (q & fp::kQuirkPush) flags |= tcp_flag::kPsh;
  std::uint8_t ecn_bits = 0;
  bool ns = false;
  switch (shape.ecn) {
    case EcnVia::kNone: break;
    case EcnVia::kIpEct0: ecn_bits = 0x02; break;
    case EcnVia::kIpEct1: ecn_bits = 0x01; break;
    case EcnVia::kIpCe: ecn_bits = 0x03; break;
    case EcnVia::kTcpEceCwr: flags |= tcp_flag::kEce | tcp_flag::kCwr; break;
    case EcnVia::kTcpEce: flags |= tcp_flag::kEce; break;
    case EcnVia::kTcpNs: ns = true; break;
  }
  b.ecn(ecn_bits).ns(ns).flags(flags);

  const std::uint16_t nz_id = vars.ip_id ? vars.ip_id : 1;
  if (!v6) {
    const bool df = (q & fp::kQuirkDf) != 0;
    b.df(df).mbz((q & fp::kQuirkNzMbz) != 0).ip_options_len(shape.ip_opt_len);
    if (df)
      b.ip_id((q & fp::kQuirkNzId) ? nz_id : 0);
    else
      b.ip_id((q & fp::kQuirkZeroId) ? 0 : nz_id);
  } else {
    b.flow_label((q & fp::kQuirkFlow) ? (std::uint32_t{nz_id} << 4 | 1) : 0);
  }

  b.seq((q & fp::kQuirkZeroSeq) ? 0 : (vars.seq ? vars.seq : 1));
  if (shape.syn_ack) {
    b.ack((q & fp::kQuirkZeroAck) ? 0 : (vars.ack ? vars.ack : 1));
  } else {
    // See PacketVars: odd first (and last) wire byte, so the quirk holds
    // whichever byte of the field a reader tests.
    b.ack((q & fp::kQuirkNzAck) ? (vars.ack | 0x01000001u) : 0);
  }
  b.window(shape.win);
  if (q & fp::kQuirkNzUrg)
    b.urgent_ptr(static_cast<std::uint16_t>(nz_id | 1));
  else
    b.urgent_ptr(0);

  b.clear_options();
  const std::uint32_t tsval = (q & fp::kQuirkOptZeroTs1) ? 0 : (vars.tsval ? vars.tsval : 1);
  std::uint32_t tsecr = vars.tsecr;
  if (!shape.syn_ack) tsecr = (q & fp::kQuirkOptNzTs2) ? (vars.tsecr ? vars.tsecr : 1) : 0;
  for (auto kind : shape.olayout) {
    switch (kind) {
      case fp::kOptEol:
        b.opt_eol(shape.opt_eol_pad, (q & fp::kQuirkOptEolNz) ? 0x01 : 0);
        break;
      case fp::kOptNop: b.opt_nop(); break;
      case fp::kOptMss: b.opt_mss(shape.mss); break;
      case fp::kOptWs: b.opt_ws(shape.wscale); break;
      case fp::kOptSok: b.opt_sok(); break;
      case fp::kOptSack: b.opt_sack1(vars.seq, vars.seq + 100); break;
      case fp::kOptTs: b.opt_ts(tsval, tsecr); break;
      default: b.opt_unknown(kind); break;
    }
  }

  if (shape.payload) {
    std::vector<std::uint8_t> data(16 + vars.seq % 48, vars.fill);
    b.payload(data);
  } else {
    b.payload(std::span<const std::uint8_t>{});
  }
}

std::string label_text(const db::P0fDb& db, const db::Label& label) {
  std::string out = label.generic ? "g:" : "s:";
  out += label.class_id ? db.classes.at(*label.class_id) : std::string("!");
  out += ':';
  out += db.names.at(label.name_id);
  out += ':';
  out += label.flavor;
  return out;
}

}  // namespace huginn::test
