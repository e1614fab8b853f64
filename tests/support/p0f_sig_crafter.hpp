#pragma once
// Turns one p0f.fp TCP signature into concrete packets that carry it.
//
// craft_shape() resolves the signature's wildcards (p0f README section 5:
// '*' ver/mss/scale/pclass, "%N", "mss*N", "mtu*N", "ttl+dist", "ttl-")
// with draws from a caller-seeded generator; apply_shape() then writes a
// shape into a TcpPacketBuilder with per-packet values (sequence numbers,
// timestamps, IP ID) that keep every quirk of the signature true, and no
// other. Used by the crafted golden corpus and the benchmark generator.
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "huginn/db/p0f_db.hpp"
#include "p0f_match_sim.hpp"
#include "tcp_packet_builder.hpp"

namespace huginn::test {

// Portable draws: std::uniform_int_distribution is implementation-defined,
// and the corpus must be byte-identical for a seed on any standard library.
class CraftRng {
 public:
  explicit CraftRng(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t next() { return engine_(); }
  // Uniform in [lo, hi] (modulo bias is irrelevant here).
  std::uint32_t uniform(std::uint32_t lo, std::uint32_t hi) {
    return lo + static_cast<std::uint32_t>(engine_() % (std::uint64_t{hi} - lo + 1));
  }
  bool chance(double p) { return static_cast<double>(engine_() >> 11) * 0x1.0p-53 < p; }

 private:
  std::mt19937_64 engine_;
};

// How an "ecn" quirk is made visible; p0f accepts any of them.
enum class EcnVia : std::uint8_t { kNone, kIpEct0, kIpEct1, kIpCe, kTcpEceCwr, kTcpEce, kTcpNs };

// One signature, resolved: everything but the per-packet values.
struct CraftedShape {
  bool syn_ack = false;
  packet::IpVersion ip_ver = packet::IpVersion::v4;
  std::uint8_t ittl = 64;        // the signature's initial TTL
  std::uint8_t ttl = 64;         // TTL on the wire: ittl - distance
  std::uint8_t ip_opt_len = 0;
  std::uint8_t tos = 0;          // DSCP; reported by p0f as "tos:0x.."
  EcnVia ecn = EcnVia::kNone;
  std::uint16_t mss = 0;         // value of the MSS option (if in olayout)
  std::uint16_t win = 0;
  std::uint8_t wscale = 0;       // value of the WS option (if in olayout)
  std::vector<std::uint8_t> olayout;
  std::uint8_t opt_eol_pad = 0;
  std::uint32_t quirks = 0;      // quirks the packets will carry (p0f bits)
  bool payload = false;
  std::size_t option_bytes = 0;  // TCP option bytes before alignment

  [[nodiscard]] bool has_ts() const;
  // The observation p0f makes of a packet of this shape (ts1 as given).
  [[nodiscard]] SimObservation observation(std::uint32_t ts1) const;
};

// Why a signature cannot be carried by any packet.
struct CraftError {
  std::string reason;
};

// Draws one concrete shape for `rec`. syn_ack selects SYN+ACK semantics
// (ACK flag set, so "ack-"/"ack+" mean different things). Fails only when no
// packet can have the signature (e.g. its options do not fit in 40 bytes or
// are not 4-byte aligned without adding an EOL the signature does not have).
std::optional<CraftedShape> craft_shape(const db::TcpSigRecord& rec, bool syn_ack, CraftRng& rng,
                                        CraftError* error = nullptr);

// Per-packet values. apply_shape() overrides them where a quirk requires:
// zero seq for "seq-", an ACK number whose first byte is odd for "ack+"
// (p0f 3.09b tests only the low bit of the first wire byte of the ACK field,
// so such a value sets the quirk under p0f's rule and the RFC reading alike),
// zero TSval for "ts1-", and so on.
struct PacketVars {
  std::uint32_t seq = 1;
  std::uint32_t ack = 0;       // SYN+ACK: the client's seq + 1
  std::uint32_t tsval = 1;
  std::uint32_t tsecr = 0;     // SYN+ACK: the client's TSval
  std::uint16_t ip_id = 1;
  std::uint8_t fill = 0x41;    // payload byte
};

// Writes the shape into b (IP version must match b's addresses): TTL, TOS,
// ECN, DF/ID/MBZ, IP options, flow label, flags, seq/ack, window, urgent
// pointer, options in olayout order, payload.
void apply_shape(const CraftedShape& shape, const PacketVars& vars, TcpPacketBuilder& b);

// The label as written in p0f.fp ("s:unix:Linux:3.11 and newer"); p0f's
// "os=" text is db::label_display().
std::string label_text(const db::P0fDb& db, const db::Label& label);

}  // namespace huginn::test
