#pragma once
// The observed TCP signature of one SYN or SYN+ACK, in p0f v3 form:
//   ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass
// (p0f README, section 5 "Signature format"; fp_tcp.c packet_to_sig()).
//
// Observed values only: the initial-TTL guess, window multipliers and the
// match against p0f.fp are derived from this by the functions declared in
// this folder and by db/tcp_matcher.
#include <array>
#include <cstdint>
#include <span>

#include "huginn/packet/decoded_packet.hpp"
#include "huginn/util/limits.hpp"

namespace huginn::fingerprint::tcp {

// Quirk bits. Values are p0f's (process.h QUIRK_*), so a bit set means the
// same thing here, in p0f's source, and in the README's quirk list.
enum Quirk : std::uint32_t {
  kQuirkEcn = 0x00000001,      // "ecn"   ECN supported (IP ECN bits, TCP ECE/CWR/NS)
  kQuirkDf = 0x00000002,       // "df"    IPv4 don't-fragment set
  kQuirkNzId = 0x00000004,     // "id+"   DF set but IPv4 ID non-zero
  kQuirkZeroId = 0x00000008,   // "id-"   DF clear but IPv4 ID zero
  kQuirkNzMbz = 0x00000010,    // "0+"    IPv4 "must be zero" bit set
  kQuirkFlow = 0x00000020,     // "flow"  IPv6 flow label non-zero
  kQuirkZeroSeq = 0x00001000,  // "seq-"  sequence number zero
  kQuirkNzAck = 0x00002000,    // "ack+"  ACK number non-zero, ACK flag clear
  kQuirkZeroAck = 0x00004000,  // "ack-"  ACK number zero, ACK flag set
  kQuirkNzUrg = 0x00008000,    // "uptr+" urgent pointer non-zero, URG clear
  kQuirkUrg = 0x00010000,      // "urgf+" URG flag set
  kQuirkPush = 0x00020000,     // "pushf+" PUSH flag set
  kQuirkOptZeroTs1 = 0x01000000,  // "ts1-" own timestamp zero
  kQuirkOptNzTs2 = 0x02000000,    // "ts2+" peer timestamp non-zero on a SYN
  kQuirkOptEolNz = 0x04000000,    // "opt+" non-zero bytes after EOL
  kQuirkOptExws = 0x08000000,     // "exws" window scale > 14
  kQuirkOptBad = 0x10000000,      // "bad"  malformed option list
};

// TCP option kinds used in olayout (RFC 9293 §3.2, RFC 7323, RFC 2018).
enum OptionKind : std::uint8_t {
  kOptEol = 0,
  kOptNop = 1,
  kOptMss = 2,
  kOptWs = 3,
  kOptSok = 4,
  kOptSack = 5,
  kOptTs = 8,
};

struct TcpSignature {
  packet::IpVersion ip_ver = packet::IpVersion::v4;
  bool syn_ack = false;           // SYN+ACK (server response) rather than SYN
  std::uint8_t ttl = 0;           // observed TTL / hop limit (not the initial one)
  std::uint8_t tos = 0;           // DSCP, reported by p0f as params "tos:0xNN"
  std::uint8_t ip_opt_len = 0;    // "olen"
  std::uint16_t mss = 0;          // MSS option value; 0 when absent
  std::uint16_t win = 0;          // raw window field
  std::uint8_t wscale = 0;        // window scale option; 0 when absent
  std::array<std::uint8_t, limits::kMaxTcpOptions> olayout{};  // option kinds in order
  std::uint8_t opt_cnt = 0;       // entries used in olayout
  std::uint8_t opt_eol_pad = 0;   // bytes after EOL ("eol+N")
  std::uint32_t quirks = 0;       // Quirk bits
  bool payload = false;           // "pclass": segment carries data
  std::uint16_t tot_hdr = 0;      // IP header + TCP header bytes (p0f tot_hdr)
  std::uint32_t ts1 = 0;          // own TCP timestamp (TSval); 0 when absent
  std::int64_t ts_us = 0;         // capture time of the packet, microseconds

  // The option kinds actually seen, in order (p0f compares layouts, not sets).
  [[nodiscard]] std::span<const std::uint8_t> layout() const {
    return std::span<const std::uint8_t>(olayout.data(), opt_cnt);
  }
};

// p0f's "tcp_type": the flags that decide how a segment is bookkept.
[[nodiscard]] constexpr std::uint8_t tcp_type(std::uint8_t flags) {
  using namespace packet::tcp_flags;
  return static_cast<std::uint8_t>(flags & (kSyn | kAck | kFin | kRst));
}

// p0f drops segments with no SYN/ACK/FIN/RST at all, SYN together with FIN
// or RST, and FIN together with RST before any flow or host bookkeeping
// (process.c, "silly combination of TCP flags"). Returns true for those.
[[nodiscard]] bool is_silly_flag_combination(std::uint8_t flags);

// p0f's per-packet feature extraction (process.c parse_packet): IP and TCP
// quirks, the TCP option walk (olayout, eol+N padding, mss, ws, ts1 and the
// option quirks), payload class, tot_hdr, tos. Never fails: malformed
// options become QUIRK "bad", exactly where p0f gives up on the option list.
// Two deliberate departures from p0f 3.09b (docs/p0f-deviations.md):
// "ack+" tests the whole ACK number and "opt+" checks every padding byte.
[[nodiscard]] TcpSignature compute_tcp_signature(const packet::DecodedPacket& pkt);

}  // namespace huginn::fingerprint::tcp
