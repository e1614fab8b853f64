#include "huginn/fingerprint/tcp/tcp_signature.hpp"

#include "huginn/util/byte_reader.hpp"

namespace huginn::fingerprint::tcp {

namespace {

using packet::DecodedPacket;
namespace fl = packet::tcp_flags;

// p0f's bounds for the variable-length options it skips by their length byte.
constexpr std::uint8_t kSackMinLen = 10;
constexpr std::uint8_t kSackMaxLen = 34;
constexpr std::uint8_t kUnknownMinLen = 2;
constexpr std::uint8_t kUnknownMaxLen = 40;  // the whole TCP option space

// Walks the option list the way p0f does (process.c): every kind is recorded
// in olayout, even one whose body then turns out to be truncated; MSS, WS,
// SACKOK and TS are read at their fixed offsets whatever their length byte
// says (a wrong length byte is only a "bad" quirk); SACK and unknown options
// are skipped by their length byte, and an implausible one stops the walk.
// Leftover bytes after the walk (including options past kMaxTcpOptions) are
// also "bad".
void walk_options(std::span<const std::uint8_t> opts, bool pure_syn, TcpSignature& sig) {
  util::ByteReader r(opts);
  bool aborted = false;

  while (!r.empty() && sig.opt_cnt < limits::kMaxTcpOptions) {
    const std::uint8_t kind = *r.u8();
    sig.olayout[sig.opt_cnt++] = kind;

    switch (kind) {
      case kOptEol: {
        // RFC 9293 §3.2: everything after EOL is padding and should be zero.
        sig.opt_eol_pad = static_cast<std::uint8_t>(r.remaining());
        // Unlike p0f 3.09b, a non-zero final padding byte counts too
        // (docs/p0f-deviations.md, "opt+").
        for (auto b : r.rest()) {
          if (b != 0) {
            sig.quirks |= kQuirkOptEolNz;
            break;
          }
        }
        (void)r.skip(r.remaining());
        break;
      }
      case kOptNop:
        break;
      case kOptMss: {
        if (r.remaining() < 3) { aborted = true; break; }
        if (*r.peek(0) != 4) sig.quirks |= kQuirkOptBad;
        const std::uint8_t hi = *r.peek(1);
        const std::uint8_t lo = *r.peek(2);
        sig.mss = static_cast<std::uint16_t>((hi << 8) | lo);
        (void)r.skip(3);
        break;
      }
      case kOptWs: {
        if (r.remaining() < 2) { aborted = true; break; }
        if (*r.peek(0) != 3) sig.quirks |= kQuirkOptBad;
        sig.wscale = *r.peek(1);
        // RFC 7323 §2.3: shift counts above 14 are invalid.
        if (sig.wscale > 14) sig.quirks |= kQuirkOptExws;
        (void)r.skip(2);
        break;
      }
      case kOptSok: {
        if (r.remaining() < 1) { aborted = true; break; }
        if (*r.peek(0) != 2) sig.quirks |= kQuirkOptBad;
        (void)r.skip(1);
        break;
      }
      case kOptSack: {
        if (r.empty()) { aborted = true; break; }
        const std::uint8_t len = *r.peek(0);
        if (len < kSackMinLen || len > kSackMaxLen || len - 1u > r.remaining()) {
          aborted = true;
          break;
        }
        (void)r.skip(len - 1u);
        break;
      }
      case kOptTs: {
        if (r.remaining() < 9) { aborted = true; break; }
        if (*r.peek(0) != 10) sig.quirks |= kQuirkOptBad;
        util::ByteReader body(*r.bytes(9));
        (void)body.skip(1);
        sig.ts1 = *body.be32();
        const std::uint32_t ts2 = *body.be32();
        if (sig.ts1 == 0) sig.quirks |= kQuirkOptZeroTs1;
        // RFC 7323 §3.2: TSecr is only meaningful once the peer has sent a
        // TSval, so a non-zero echo on an initial SYN is a stack quirk.
        if (pure_syn && ts2 != 0) sig.quirks |= kQuirkOptNzTs2;
        break;
      }
      default: {
        if (r.empty()) { aborted = true; break; }
        const std::uint8_t len = *r.peek(0);
        if (len < kUnknownMinLen || len > kUnknownMaxLen || len - 1u > r.remaining()) {
          aborted = true;
          break;
        }
        (void)r.skip(len - 1u);
        break;
      }
    }
    if (aborted) break;
  }

  if (aborted || !r.empty()) sig.quirks |= kQuirkOptBad;
}

}  // namespace

bool is_silly_flag_combination(std::uint8_t flags) {
  const bool syn = flags & fl::kSyn;
  const bool fin = flags & fl::kFin;
  const bool rst = flags & fl::kRst;
  return (syn && (fin || rst)) || (fin && rst) || tcp_type(flags) == 0;
}

TcpSignature compute_tcp_signature(const DecodedPacket& pkt) {
  TcpSignature sig;
  sig.ip_ver = pkt.src.version;
  sig.syn_ack = tcp_type(pkt.flags) == (fl::kSyn | fl::kAck);
  sig.ttl = pkt.ttl;
  sig.tos = pkt.tos;
  sig.win = pkt.win;
  sig.payload = !pkt.payload.empty();
  sig.tot_hdr = static_cast<std::uint16_t>(pkt.ip_hdr_len + pkt.tcp_hdr_len);
  sig.ts_us = pkt.ts_us;

  std::uint32_t q = 0;
  // RFC 3168 §5: ECT(0), ECT(1) or CE in the IP header.
  if (pkt.ecn != 0) q |= kQuirkEcn;
  if (pkt.is_ipv6()) {
    sig.ip_opt_len = 0;
    if (pkt.flow_label != 0) q |= kQuirkFlow;
  } else {
    sig.ip_opt_len = pkt.ip_opt_len;
    if (pkt.ip_mbz) q |= kQuirkNzMbz;
    if (pkt.ip_df) {
      q |= kQuirkDf;
      if (pkt.ip_id != 0) q |= kQuirkNzId;
    } else if (pkt.ip_id == 0) {
      q |= kQuirkZeroId;
    }
  }

  // RFC 3168 §6.1 (ECE/CWR) and RFC 3540 (NS) on the TCP side.
  if ((pkt.flags & (fl::kEce | fl::kCwr)) != 0 || pkt.tcp_ns) q |= kQuirkEcn;
  if (pkt.seq == 0) q |= kQuirkZeroSeq;
  if (pkt.flags & fl::kAck) {
    if (pkt.ack == 0) q |= kQuirkZeroAck;
  } else if (pkt.ack != 0 && !(pkt.flags & fl::kRst)) {
    // RSTs commonly carry junk ACK numbers, so p0f exempts them. p0f 3.09b
    // tests only one bit of the ACK field here; we test the whole value
    // (docs/p0f-deviations.md, "ack+").
    q |= kQuirkNzAck;
  }
  if (pkt.flags & fl::kUrg) {
    q |= kQuirkUrg;
  } else if (pkt.urg_ptr != 0) {
    q |= kQuirkNzUrg;
  }
  if (pkt.flags & fl::kPsh) q |= kQuirkPush;
  sig.quirks = q;

  walk_options(pkt.tcp_options, tcp_type(pkt.flags) == fl::kSyn, sig);
  return sig;
}

}  // namespace huginn::fingerprint::tcp
