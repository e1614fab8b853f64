#pragma once
// Link-layer types that decode_packet() understands, as pcap_datalink()
// returns them on Linux (tcpdump.org "LINK-LAYER HEADER TYPES" registry).
// packet/ does not include <pcap.h>; capture/ static_asserts that these
// values equal libpcap's DLT_* macros.
namespace huginn::packet::dlt {

inline constexpr int kNull = 0;         // BSD loopback: 4-byte AF, host order of the writer
inline constexpr int kEn10mb = 1;       // Ethernet II, optionally 802.1Q / 802.1ad tagged
inline constexpr int kRaw = 12;         // raw IPv4/IPv6 (DLT_RAW on Linux; 14 on OpenBSD)
inline constexpr int kLinkTypeRaw = 101;  // LINKTYPE_RAW as stored in files (libpcap maps it to kRaw)
inline constexpr int kLoop = 108;       // OpenBSD loopback: 4-byte AF, network order
inline constexpr int kLinuxSll = 113;   // Linux "cooked" capture v1 (-i any, libpcap < 1.10 default)
inline constexpr int kIpv4 = 228;       // raw IPv4 only
inline constexpr int kIpv6 = 229;       // raw IPv6 only
inline constexpr int kLinuxSll2 = 276;  // Linux "cooked" capture v2

}  // namespace huginn::packet::dlt
