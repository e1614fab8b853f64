#pragma once
// TcpPacketBuilder: builds one complete IPv4 or IPv6 TCP segment from named
// parameters, so a test states the case it exercises ("SYN with ts1- and
// eol+3") instead of carrying a hex dump.
//
//   auto frame = TcpPacketBuilder::syn()
//                    .ipv4("192.0.2.1", "198.51.100.7").ports(40000, 80)
//                    .ttl(61).df(true).ip_id(0x1234).window(29200)
//                    .opt_mss(1460).opt_sok().opt_ts(12345, 0).opt_nop().opt_ws(7)
//                    .build_ethernet();
//
// Everything not set has a plain default: IPv4 192.0.2.1:40000 ->
// 198.51.100.1:80, TTL 64, TOS 0, ID 0, DF clear, seq 1, ack 0, window 65535,
// no options, no payload. Checksums (IPv4 header, TCP over the RFC 793 /
// RFC 8200 §8.1 pseudo-header) are always computed correctly.
//
// TCP options are emitted in call order, byte for byte as described at each
// opt_* method, so the receiver sees exactly that olayout. If the option
// bytes are not a multiple of 4 long, zero bytes are appended to reach the
// next multiple (a receiver sees them as EOL plus padding); call opt_eol()
// yourself to make that explicit.
//
// Misuse that cannot describe any packet (unparseable address text, more
// than 40 bytes of TCP options, IPv4 options not a multiple of 4) throws
// std::invalid_argument: this is test tooling, never a per-packet path.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "huginn/packet/decoded_packet.hpp"
#include "huginn/packet/ip_address.hpp"

namespace huginn::test {

// TCP flag bits: the decoder's own constants (NS is set with ns()).
namespace tcp_flag = packet::tcp_flags;

// Parses dotted-quad or RFC 4291 text; throws std::invalid_argument.
packet::IpAddress parse_ip(std::string_view text);

class TcpPacketBuilder {
 public:
  TcpPacketBuilder() = default;
  // A SYN with the defaults above.
  static TcpPacketBuilder syn() { return TcpPacketBuilder{}.flags(tcp_flag::kSyn); }
  // The answer to `request`: addresses and ports swapped, same IP version,
  // flags SYN+ACK, ack = request.seq + 1 (+ its payload length). Everything
  // else is reset to the defaults.
  static TcpPacketBuilder syn_ack_for(const TcpPacketBuilder& request);

  // --- IP layer ------------------------------------------------------------
  TcpPacketBuilder& ipv4(std::string_view src, std::string_view dst);
  TcpPacketBuilder& ipv6(std::string_view src, std::string_view dst);
  // Both must be the same version.
  TcpPacketBuilder& addresses(const packet::IpAddress& src, const packet::IpAddress& dst);
  TcpPacketBuilder& ttl(std::uint8_t v) { ttl_ = v; return *this; }  // or IPv6 hop limit
  // DSCP, the upper 6 bits of TOS / traffic class (p0f "tos").
  TcpPacketBuilder& tos(std::uint8_t dscp) { dscp_ = dscp & 0x3f; return *this; }
  // ECN field, the lower 2 bits of TOS / traffic class (RFC 3168 §5).
  TcpPacketBuilder& ecn(std::uint8_t bits) { ecn_ = bits & 0x03; return *this; }
  // IPv4 only: identification, DF and the reserved "must be zero" bit.
  TcpPacketBuilder& ip_id(std::uint16_t v) { ip_id_ = v; return *this; }
  TcpPacketBuilder& df(bool v) { df_ = v; return *this; }
  TcpPacketBuilder& mbz(bool v) { mbz_ = v; return *this; }
  // IPv4 only: bytes of IP options, a multiple of 4 up to 40: NOPs followed
  // by one EOL (RFC 791), so IHL = 5 + len/4.
  TcpPacketBuilder& ip_options_len(std::uint8_t len);
  // IPv6 only: 20-bit flow label.
  TcpPacketBuilder& flow_label(std::uint32_t v) { flow_label_ = v & 0xfffff; return *this; }
  // IPv6 only: insert a Hop-by-Hop Options header of `bytes` bytes (a
  // multiple of 8, 8..2048) filled with PadN, between the fixed header and TCP.
  TcpPacketBuilder& ipv6_hop_by_hop(std::size_t bytes);

  // --- TCP header ----------------------------------------------------------
  TcpPacketBuilder& ports(std::uint16_t sport, std::uint16_t dport) {
    sport_ = sport;
    dport_ = dport;
    return *this;
  }
  TcpPacketBuilder& seq(std::uint32_t v) { seq_ = v; return *this; }
  TcpPacketBuilder& ack(std::uint32_t v) { ack_ = v; return *this; }
  // tcp_flag::* bits, replacing the current flags.
  TcpPacketBuilder& flags(std::uint8_t v) { flags_ = v; return *this; }
  // The NS bit (RFC 3540; low bit of the data-offset byte).
  TcpPacketBuilder& ns(bool v) { ns_ = v; return *this; }
  TcpPacketBuilder& window(std::uint16_t v) { window_ = v; return *this; }
  TcpPacketBuilder& urgent_ptr(std::uint16_t v) { urg_ptr_ = v; return *this; }
  // Overrides the data-offset field (in 32-bit words) for malformed-header
  // tests; the bytes written are unchanged.
  TcpPacketBuilder& data_offset_words(std::uint8_t words) { doff_override_ = words; return *this; }

  // --- TCP options, in wire order (RFC 9293 §3.2) --------------------------
  // EOL (kind 0) followed by `pad` padding bytes; pad_byte != 0 makes them
  // non-zero ("opt+" in p0f terms). The first padding byte gets pad_byte;
  // the rest are zero unless all_pad_nonzero.
  TcpPacketBuilder& opt_eol(std::size_t pad = 0, std::uint8_t pad_byte = 0,
                            bool all_pad_nonzero = false);
  TcpPacketBuilder& opt_nop();                      // kind 1
  TcpPacketBuilder& opt_mss(std::uint16_t mss);     // kind 2, len 4
  TcpPacketBuilder& opt_ws(std::uint8_t shift);     // kind 3, len 3 (RFC 7323)
  TcpPacketBuilder& opt_sok();                      // kind 4, len 2 (RFC 2018)
  // kind 5, one (left, right) pair per block, len 2 + 8 * blocks (RFC 2018).
  TcpPacketBuilder& opt_sack(std::span<const std::pair<std::uint32_t, std::uint32_t>> blocks);
  TcpPacketBuilder& opt_sack1(std::uint32_t left = 1, std::uint32_t right = 2);
  TcpPacketBuilder& opt_ts(std::uint32_t tsval, std::uint32_t tsecr);  // kind 8, len 10
  // Any kind with a correct length byte: kind, 2 + data.size(), data.
  TcpPacketBuilder& opt_unknown(std::uint8_t kind, std::span<const std::uint8_t> data = {});
  // Raw bytes, copied as-is (malformed lengths, truncated options, ...).
  TcpPacketBuilder& opt_raw(std::span<const std::uint8_t> bytes);
  TcpPacketBuilder& clear_options() { options_.clear(); return *this; }

  // --- payload ---------------------------------------------------------------
  TcpPacketBuilder& payload(std::span<const std::uint8_t> bytes) {
    payload_.assign(bytes.begin(), bytes.end());
    return *this;
  }
  TcpPacketBuilder& payload(std::string_view text) {
    payload_.assign(text.begin(), text.end());
    return *this;
  }

  // --- link layer (build_ethernet only) --------------------------------------
  TcpPacketBuilder& macs(const std::array<std::uint8_t, 6>& src,
                         const std::array<std::uint8_t, 6>& dst) {
    src_mac_ = src;
    dst_mac_ = dst;
    return *this;
  }
  // Adds an 802.1Q tag with this VLAN id (0x8100, PCP 0).
  TcpPacketBuilder& vlan(std::uint16_t id) { vlan_ = id & 0x0fff; return *this; }

  // --- output ----------------------------------------------------------------
  // The IP packet (pcap LINKTYPE_RAW).
  [[nodiscard]] std::vector<std::uint8_t> build_ip() const;
  // Ethernet II header (+ optional 802.1Q tag) followed by build_ip().
  [[nodiscard]] std::vector<std::uint8_t> build_ethernet() const;
  // Appends build_ip() to out without allocating a temporary (the benchmark
  // generator builds millions of frames). Returns the bytes appended.
  std::size_t append_ip(std::vector<std::uint8_t>& out) const;

  // Read-back of what was set, for tests that assert decoded fields.
  [[nodiscard]] const packet::IpAddress& src() const { return src_; }
  [[nodiscard]] const packet::IpAddress& dst() const { return dst_; }
  [[nodiscard]] std::uint16_t sport() const { return sport_; }
  [[nodiscard]] std::uint16_t dport() const { return dport_; }
  [[nodiscard]] std::uint32_t seq_value() const { return seq_; }
  [[nodiscard]] std::size_t payload_size() const { return payload_.size(); }
  [[nodiscard]] bool is_ipv6() const { return src_.version == packet::IpVersion::v6; }
  // Option bytes as they will be written, before alignment padding.
  [[nodiscard]] const std::vector<std::uint8_t>& option_bytes() const { return options_; }
  // TCP header length that will be written (20 + aligned options).
  [[nodiscard]] std::size_t tcp_header_len() const;
  // IP header length as p0f counts it: IHL*4 for IPv4, 40 for IPv6.
  [[nodiscard]] std::size_t ip_header_len() const;

 private:
  packet::IpAddress src_ = parse_ip("192.0.2.1");
  packet::IpAddress dst_ = parse_ip("198.51.100.1");
  std::uint8_t ttl_ = 64;
  std::uint8_t dscp_ = 0;
  std::uint8_t ecn_ = 0;
  std::uint16_t ip_id_ = 0;
  bool df_ = false;
  bool mbz_ = false;
  std::uint8_t ip_opt_len_ = 0;
  std::uint32_t flow_label_ = 0;
  std::size_t hop_by_hop_len_ = 0;
  std::uint16_t sport_ = 40000;
  std::uint16_t dport_ = 80;
  std::uint32_t seq_ = 1;
  std::uint32_t ack_ = 0;
  std::uint8_t flags_ = 0;
  bool ns_ = false;
  std::uint16_t window_ = 65535;
  std::uint16_t urg_ptr_ = 0;
  std::optional<std::uint8_t> doff_override_;
  std::vector<std::uint8_t> options_;
  std::vector<std::uint8_t> payload_;
  std::array<std::uint8_t, 6> src_mac_{0x02, 0, 0, 0, 0, 0x01};
  std::array<std::uint8_t, 6> dst_mac_{0x02, 0, 0, 0, 0, 0x02};
  std::optional<std::uint16_t> vlan_;
};

// Shorter name used throughout the unit tests (STYLE.md "Builders").
using SynBuilder = TcpPacketBuilder;

}  // namespace huginn::test
