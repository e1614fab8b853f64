#pragma once
// DecodedPacket: what packet/ hands to the fingerprinting layers for one
// TCP segment. Plain data: fields as they are on the wire (host order), and
// spans into the caller's buffer for TCP options and payload.
//
// Lifetime: the spans point into the frame passed to decode_packet() and are
// valid only as long as that frame (for libpcap, until the callback returns).
// Nothing here is interpreted p0f-style: quirks, option layout and signatures
// are computed in fingerprint/tcp from these raw fields.
#include <cstdint>
#include <span>

#include "huginn/packet/ip_address.hpp"

namespace huginn::packet {

// TCP header flags, RFC 9293 §3.1 (plus ECE/CWR from RFC 3168).
namespace tcp_flags {
inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kPsh = 0x08;
inline constexpr std::uint8_t kAck = 0x10;
inline constexpr std::uint8_t kUrg = 0x20;
inline constexpr std::uint8_t kEce = 0x40;
inline constexpr std::uint8_t kCwr = 0x80;
}  // namespace tcp_flags

struct DecodedPacket {
  // Capture timestamp, microseconds since the Unix epoch (pcap header time;
  // p0f's get_unix_time() is this clock, which keeps replays deterministic).
  std::int64_t ts_us = 0;

  IpAddress src;
  IpAddress dst;

  // --- IP layer -----------------------------------------------------------
  std::uint8_t ttl = 0;        // IPv4 TTL or IPv6 hop limit
  std::uint8_t tos = 0;        // DSCP: upper 6 bits of TOS / traffic class (p0f "tos")
  std::uint8_t ecn = 0;        // lower 2 bits of TOS / traffic class (RFC 3168)
  // IPv4 only (zero for IPv6):
  std::uint16_t ip_id = 0;
  bool ip_df = false;          // don't-fragment flag
  bool ip_mbz = false;         // the reserved "must be zero" flag bit (RFC 791)
  std::uint8_t ip_opt_len = 0; // IHL*4 - 20
  // IPv6 only (zero for IPv4):
  std::uint32_t flow_label = 0;  // 20 bits
  // Bytes of IPv6 extension headers walked between the fixed header and TCP.
  std::uint16_t ip6_ext_len = 0;
  // IP header length as p0f counts it for MTU/window math: IHL*4 for IPv4,
  // 40 for IPv6 (p0f does not count extension headers; see ip6_ext_len).
  std::uint16_t ip_hdr_len = 0;

  // --- TCP layer (RFC 9293 §3.1) -------------------------------------------
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;          // tcp_flags::*
  bool tcp_ns = false;             // low bit of the data-offset byte (RFC 3540 NS / reserved)
  std::uint16_t win = 0;
  std::uint16_t urg_ptr = 0;
  std::uint16_t tcp_hdr_len = 0;   // data offset * 4, validated: 20 <= len <= segment length
  std::span<const std::uint8_t> tcp_options;  // tcp_hdr_len - 20 bytes
  // Bounded by the IP total/payload length. A frame shorter than its IP
  // length (snaplen cut, truncated file) is not decoded at all, as in p0f.
  std::span<const std::uint8_t> payload;

  [[nodiscard]] bool is_ipv6() const { return src.version == IpVersion::v6; }
};

}  // namespace huginn::packet
