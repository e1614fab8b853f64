#pragma once
// decode_packet(): one captured frame in, one DecodedPacket (a TCP segment
// over IPv4 or IPv6) out. Stateless and allocation-free; never throws.
//
// The acceptance rules are p0f 3.09b's (process.c parse_packet), so that a
// segment we decode is one p0f would fingerprint and vice versa:
//   - the usable length is the captured length, clamped to the IP total
//     length when the frame is longer (Ethernet padding / "etherleak");
//   - an IP total length above the captured bytes (snaplen cut, truncated
//     file) is not decoded at all;
//   - fragments (IPv4 MF set or a non-zero offset; an IPv6 fragment header
//     other than an atomic one) and non-TCP are skipped;
//   - TCP data offset < 20 or past the end of the segment is malformed.
// Where we depart from p0f, on purpose:
//   - the link header is chosen by the DLT, never guessed from the bytes,
//     and Ethernet VLAN tags (802.1Q / 802.1ad / 0x9100 QinQ) are walked;
//     p0f uses a fixed 14-byte Ethernet offset and drops tagged frames;
//   - IPv6 extension headers (hop-by-hop, routing, fragment, destination
//     options, AH, mobility) are walked to reach TCP; p0f drops every IPv6
//     packet whose first next-header is not TCP. ip6_ext_len records how
//     many bytes were walked; ip_hdr_len stays 40 as p0f counts it.
//   - p0f's "silly flags" filter (SYN+FIN, FIN+RST, no SYN/ACK/FIN/RST)
//     is not applied here: such segments decode, the analyzer decides.
#include <cstdint>
#include <span>
#include <string_view>

#include "huginn/packet/decoded_packet.hpp"
#include "huginn/packet/link_type.hpp"

namespace huginn::packet {

enum class DecodeStatus : std::uint8_t {
  kOk,         // `out` holds a TCP segment
  kIgnored,    // well-formed but not ours (ARP, UDP, fragment, unknown link)
  kMalformed,  // cannot be decoded: truncated or inconsistent headers
};

struct DecodeResult {
  DecodeStatus status = DecodeStatus::kOk;
  // A counter name from `reason::` (static storage); empty when kOk.
  std::string_view reason;
};

// Counter names, one per way a frame is not decoded.
namespace reason {
// Link layer.
inline constexpr std::string_view kUnsupportedLinkType = "unsupported_link_type";  // ignored
inline constexpr std::string_view kTruncatedLinkHeader = "truncated_link_header";  // malformed
inline constexpr std::string_view kTooManyVlanTags = "too_many_vlan_tags";         // malformed
inline constexpr std::string_view kNotIp = "not_ip";  // ignored: ethertype / AF not IPv4 or IPv6
inline constexpr std::string_view kUnknownIpVersion = "unknown_ip_version";    // malformed (raw link)
inline constexpr std::string_view kIpVersionMismatch = "ip_version_mismatch";  // malformed: link says v4, header says v6 (or back)
// IPv4 (RFC 791).
inline constexpr std::string_view kTruncatedIpv4Header = "truncated_ipv4_header";  // < 20 bytes
inline constexpr std::string_view kIpv4BadIhl = "ipv4_bad_ihl";                    // IHL < 5
inline constexpr std::string_view kIpv4BadTotalLength = "ipv4_bad_total_length";   // total < IHL*4
inline constexpr std::string_view kTruncatedIpv4 = "truncated_ipv4";  // total length > captured bytes
// IPv6 (RFC 8200).
inline constexpr std::string_view kTruncatedIpv6Header = "truncated_ipv6_header";  // < 40 bytes
inline constexpr std::string_view kTruncatedIpv6 = "truncated_ipv6";  // 40 + payload length > captured
inline constexpr std::string_view kIpv6Jumbogram = "ipv6_jumbogram";  // ignored: payload length 0 (RFC 2675)
inline constexpr std::string_view kTruncatedIpv6ExtHeader = "truncated_ipv6_ext_header";
inline constexpr std::string_view kTooManyIpv6ExtHeaders = "too_many_ipv6_ext_headers";
// Either IP version.
inline constexpr std::string_view kNotTcp = "not_tcp";          // ignored
inline constexpr std::string_view kIpFragment = "ip_fragment";  // ignored: not a whole datagram
// TCP (RFC 9293 §3.1).
inline constexpr std::string_view kTruncatedTcpHeader = "truncated_tcp_header";  // < 20 bytes left
inline constexpr std::string_view kTcpBadDataOffset = "tcp_bad_data_offset";     // offset < 5 words
inline constexpr std::string_view kTcpDataOffsetPastEnd = "tcp_data_offset_past_end";
}  // namespace reason

// Decodes `frame` (the captured bytes, already cut to min(caplen, len)) of
// link type `dlt` (pcap_datalink(); values in link_type.hpp). `ts_us` is
// the capture time, copied to out.ts_us.
//
// Fills `out` only on kOk; its spans then point into `frame`. On any other
// status `out` is left untouched and the reason names the first check
// that failed.
DecodeResult decode_packet(int dlt, std::span<const std::uint8_t> frame, std::int64_t ts_us,
                           DecodedPacket& out);

}  // namespace huginn::packet
