#include "huginn/packet/decode.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "huginn/util/byte_reader.hpp"
#include "huginn/util/limits.hpp"

namespace huginn::packet {
namespace {

using util::ByteReader;
using Bytes = std::span<const std::uint8_t>;

// IEEE 802 EtherTypes.
constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherIpv6 = 0x86dd;
constexpr std::uint16_t kEtherVlan = 0x8100;     // 802.1Q C-tag
constexpr std::uint16_t kEtherQinQ = 0x88a8;     // 802.1ad S-tag
constexpr std::uint16_t kEtherQinQOld = 0x9100;  // pre-802.1ad vendor QinQ

// IANA protocol numbers.
constexpr std::uint8_t kProtoHopByHop = 0;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoRouting = 43;
constexpr std::uint8_t kProtoFragment = 44;
constexpr std::uint8_t kProtoAh = 51;
constexpr std::uint8_t kProtoDstOpts = 60;
constexpr std::uint8_t kProtoMobility = 135;

// BSD loopback address families. AF_INET is 2 everywhere; AF_INET6 is 24
// on NetBSD/OpenBSD, 28 on FreeBSD/DragonFly, 30 on Darwin, 10 on Linux.
constexpr std::uint32_t kAfInet = 2;
constexpr bool is_af_inet6(std::uint32_t af) {
  return af == 10 || af == 24 || af == 28 || af == 30;
}

constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kTcpMinHeader = 20;

// IPv4 flags/fragment-offset field (RFC 791 §3.1).
constexpr std::uint16_t kIpv4Mbz = 0x8000;
constexpr std::uint16_t kIpv4Df = 0x4000;

// Which network layer the link header announced.
enum class Net : std::uint8_t { kIpv4, kIpv6, kAnyByVersion };

constexpr DecodeResult ignored(std::string_view why) { return {DecodeStatus::kIgnored, why}; }
constexpr DecodeResult malformed(std::string_view why) { return {DecodeStatus::kMalformed, why}; }
constexpr DecodeResult ok() { return {DecodeStatus::kOk, {}}; }

// Maps an EtherType to the network layer, or nullopt for anything else.
std::optional<Net> net_from_ethertype(std::uint16_t type) {
  if (type == kEtherIpv4) return Net::kIpv4;
  if (type == kEtherIpv6) return Net::kIpv6;
  return std::nullopt;
}

bool is_vlan_tpid(std::uint16_t type) {
  return type == kEtherVlan || type == kEtherQinQ || type == kEtherQinQOld;
}

// `type` is the EtherType just read; any VLAN tags it announces (each a
// TCI and the next EtherType, IEEE 802.1Q §9.3) are walked from `in`. On
// return `in` is at the network header. libpcap re-inserts tags that the
// NIC stripped in this layout for Ethernet and SLL; a tag the NIC left in
// place reaches SLL2 the same way, right after its fixed header.
DecodeResult walk_vlan_tags(ByteReader& in, std::uint16_t type, Net& net) {
  std::size_t tags = 0;
  while (is_vlan_tpid(type)) {
    if (++tags > limits::kMaxVlanTags) return malformed(reason::kTooManyVlanTags);
    if (!in.skip(2)) return malformed(reason::kTruncatedLinkHeader);  // TCI
    const auto inner = in.be16();
    if (!inner) return malformed(reason::kTruncatedLinkHeader);
    type = *inner;
  }
  const auto n = net_from_ethertype(type);
  if (!n) return ignored(reason::kNotIp);
  net = *n;
  return ok();
}

DecodeResult net_from_af(std::uint32_t af, Net& net) {
  if (af == kAfInet) {
    net = Net::kIpv4;
    return ok();
  }
  if (is_af_inet6(af)) {
    net = Net::kIpv6;
    return ok();
  }
  return ignored(reason::kNotIp);
}

constexpr std::uint32_t byte_swap32(std::uint32_t v) {
  return ((v & 0xffu) << 24) | ((v & 0xff00u) << 8) | ((v >> 8) & 0xff00u) | (v >> 24);
}

// Consumes the link header of `dlt` and reports which network layer follows.
DecodeResult decode_link(int dlt, ByteReader& in, Net& net) {
  switch (dlt) {
    case dlt::kEn10mb: {  // destination MAC, source MAC, EtherType (IEEE 802.3 §3.1.1)
      if (!in.skip(12)) return malformed(reason::kTruncatedLinkHeader);
      const auto type = in.be16();
      if (!type) return malformed(reason::kTruncatedLinkHeader);
      return walk_vlan_tags(in, *type, net);
    }
    case dlt::kLinuxSll: {  // packet type, ARPHRD, address length, 8-byte address, protocol
      if (!in.skip(14)) return malformed(reason::kTruncatedLinkHeader);
      const auto type = in.be16();
      if (!type) return malformed(reason::kTruncatedLinkHeader);
      return walk_vlan_tags(in, *type, net);
    }
    case dlt::kLinuxSll2: {  // protocol, reserved, ifindex, ARPHRD, packet type, addr len, 8-byte address
      auto hdr = in.sub(20);
      if (!hdr) return malformed(reason::kTruncatedLinkHeader);
      return walk_vlan_tags(in, *hdr->be16(), net);  // 20 bytes present
    }

    case dlt::kRaw:
    case dlt::kLinkTypeRaw:
      net = Net::kAnyByVersion;
      return ok();
    case dlt::kIpv4:
      net = Net::kIpv4;
      return ok();
    case dlt::kIpv6:
      net = Net::kIpv6;
      return ok();

    case dlt::kNull: {
      // Host order of the machine that wrote the capture, which we do not
      // know: every valid AF is below 65536, so a value with only its high
      // half set was written by the other byte order.
      auto af = in.le32();
      if (!af) return malformed(reason::kTruncatedLinkHeader);
      std::uint32_t v = *af;
      if ((v & 0xffff0000u) != 0 && (v & 0x0000ffffu) == 0) v = byte_swap32(v);
      return net_from_af(v, net);
    }
    case dlt::kLoop: {  // always network order
      auto af = in.be32();
      if (!af) return malformed(reason::kTruncatedLinkHeader);
      return net_from_af(*af, net);
    }

    default:
      return ignored(reason::kUnsupportedLinkType);
  }
}

// Decodes the TCP header at the start of `seg`, which is exactly the IP
// payload (already bounded by the IP length).
DecodeResult decode_tcp(Bytes seg, DecodedPacket& p) {
  ByteReader in(seg);
  if (in.remaining() < kTcpMinHeader) return malformed(reason::kTruncatedTcpHeader);
  // Cannot fail below: 20 bytes are present.
  p.sport = *in.be16();
  p.dport = *in.be16();
  p.seq = *in.be32();
  p.ack = *in.be32();
  const std::uint8_t off_byte = *in.u8();
  p.flags = *in.u8();
  p.win = *in.be16();
  (void)in.skip(2);  // checksum: p0f does not verify it, neither do we
  p.urg_ptr = *in.be16();

  const std::size_t doff = static_cast<std::size_t>(off_byte >> 4) * 4;
  if (doff < kTcpMinHeader) return malformed(reason::kTcpBadDataOffset);
  if (doff > seg.size()) return malformed(reason::kTcpDataOffsetPastEnd);
  p.tcp_ns = (off_byte & 0x01) != 0;
  p.tcp_hdr_len = static_cast<std::uint16_t>(doff);
  p.tcp_options = seg.subspan(kTcpMinHeader, doff - kTcpMinHeader);
  p.payload = seg.subspan(doff);
  return ok();
}

// RFC 791. `ip` starts at the IPv4 header and runs to the end of the frame.
DecodeResult decode_ipv4(Bytes ip, DecodedPacket& p) {
  ByteReader in(ip);
  if (in.remaining() < kIpv4MinHeader) return malformed(reason::kTruncatedIpv4Header);
  const std::uint8_t ver_ihl = *in.u8();
  if ((ver_ihl >> 4) != 4) return malformed(reason::kIpVersionMismatch);
  const std::size_t ihl = static_cast<std::size_t>(ver_ihl & 0x0f) * 4;
  const std::uint8_t tos = *in.u8();
  const std::uint16_t tot_len = *in.be16();
  const std::uint16_t id = *in.be16();
  const std::uint16_t flags_off = *in.be16();
  const std::uint8_t ttl = *in.u8();
  const std::uint8_t proto = *in.u8();
  (void)in.skip(2);  // header checksum, not verified (as p0f)

  if (ihl < kIpv4MinHeader) return malformed(reason::kIpv4BadIhl);
  if (tot_len < ihl) return malformed(reason::kIpv4BadTotalLength);
  // p0f: trust a total length shorter than the frame (trailing bytes are
  // link padding or leaked memory), but never one longer than what was
  // captured.
  if (tot_len > ip.size()) return malformed(reason::kTruncatedIpv4);
  const Bytes datagram = ip.first(tot_len);

  if (proto != kProtoTcp) return ignored(reason::kNotTcp);
  if ((flags_off & ~(kIpv4Df | kIpv4Mbz)) != 0) return ignored(reason::kIpFragment);

  p.src.version = IpVersion::v4;
  p.dst.version = IpVersion::v4;
  std::copy_n(datagram.begin() + 12, 4, p.src.bytes.begin());
  std::copy_n(datagram.begin() + 16, 4, p.dst.bytes.begin());
  p.ttl = ttl;
  p.tos = static_cast<std::uint8_t>(tos >> 2);
  p.ecn = static_cast<std::uint8_t>(tos & 0x03);
  p.ip_id = id;
  p.ip_df = (flags_off & kIpv4Df) != 0;
  p.ip_mbz = (flags_off & kIpv4Mbz) != 0;
  p.ip_opt_len = static_cast<std::uint8_t>(ihl - kIpv4MinHeader);
  p.ip_hdr_len = static_cast<std::uint16_t>(ihl);
  return decode_tcp(datagram.subspan(ihl), p);
}

bool is_ipv6_ext_header(std::uint8_t nh) {
  return nh == kProtoHopByHop || nh == kProtoRouting || nh == kProtoFragment ||
         nh == kProtoDstOpts || nh == kProtoAh || nh == kProtoMobility;
}

// RFC 8200. `ip` starts at the IPv6 header and runs to the end of the frame.
DecodeResult decode_ipv6(Bytes ip, DecodedPacket& p) {
  ByteReader in(ip);
  if (in.remaining() < kIpv6Header) return malformed(reason::kTruncatedIpv6Header);
  const std::uint32_t ver_tc_flow = *in.be32();
  if ((ver_tc_flow >> 28) != 6) return malformed(reason::kIpVersionMismatch);
  const std::uint16_t pay_len = *in.be16();
  std::uint8_t nh = *in.u8();
  const std::uint8_t hop_limit = *in.u8();

  // A zero payload length with a hop-by-hop header is a jumbogram, whose
  // real length lives in an option; p0f does not take these either.
  if (pay_len == 0 && nh == kProtoHopByHop) return ignored(reason::kIpv6Jumbogram);
  const std::size_t tot_len = kIpv6Header + pay_len;
  if (tot_len > ip.size()) return malformed(reason::kTruncatedIpv6);

  // Walk extension headers inside the declared payload (RFC 8200 §4).
  ByteReader body(ip.subspan(kIpv6Header, pay_len));
  std::size_t walked = 0;
  while (is_ipv6_ext_header(nh)) {
    if (++walked > limits::kMaxIpv6ExtHeaders) return malformed(reason::kTooManyIpv6ExtHeaders);
    const auto next = body.peek(0);
    const auto len_field = body.peek(1);
    if (!next || !len_field) return malformed(reason::kTruncatedIpv6ExtHeader);
    std::size_t len = 0;
    if (nh == kProtoFragment) {
      len = 8;  // fixed size; its length byte is reserved (RFC 8200 §4.5)
      if (body.remaining() < len) return malformed(reason::kTruncatedIpv6ExtHeader);
      const auto off_m = static_cast<std::uint16_t>((*body.peek(2) << 8) | *body.peek(3));
      // Only an atomic fragment (offset 0, M clear, RFC 6946) is a whole
      // datagram; the first of several lacks the rest of the segment.
      if ((off_m & 0xfff9) != 0) return ignored(reason::kIpFragment);
    } else if (nh == kProtoAh) {
      len = (std::size_t{*len_field} + 2) * 4;  // RFC 4302 §2.2: 4-octet units, minus 2
    } else {
      len = (std::size_t{*len_field} + 1) * 8;  // RFC 8200 §4.3: 8-octet units, minus 1
    }
    if (!body.skip(len)) return malformed(reason::kTruncatedIpv6ExtHeader);
    nh = *next;
  }
  if (nh != kProtoTcp) return ignored(reason::kNotTcp);

  p.src.version = IpVersion::v6;
  p.dst.version = IpVersion::v6;
  std::copy_n(ip.begin() + 8, 16, p.src.bytes.begin());
  std::copy_n(ip.begin() + 24, 16, p.dst.bytes.begin());
  p.ttl = hop_limit;
  const auto traffic_class = static_cast<std::uint8_t>((ver_tc_flow >> 20) & 0xff);
  p.tos = static_cast<std::uint8_t>(traffic_class >> 2);
  p.ecn = static_cast<std::uint8_t>(traffic_class & 0x03);
  p.flow_label = ver_tc_flow & 0xfffff;
  p.ip6_ext_len = static_cast<std::uint16_t>(body.position());
  p.ip_hdr_len = static_cast<std::uint16_t>(kIpv6Header);
  return decode_tcp(body.rest(), p);
}

}  // namespace

DecodeResult decode_packet(int dlt, std::span<const std::uint8_t> frame, std::int64_t ts_us,
                           DecodedPacket& out) {
  ByteReader in(frame);
  Net net = Net::kAnyByVersion;
  if (const auto r = decode_link(dlt, in, net); r.status != DecodeStatus::kOk) return r;

  const Bytes ip = in.rest();
  if (net == Net::kAnyByVersion) {
    const auto first = in.peek(0);
    if (!first) return malformed(reason::kTruncatedIpv4Header);
    if ((*first >> 4) == 4) {
      net = Net::kIpv4;
    } else if ((*first >> 4) == 6) {
      net = Net::kIpv6;
    } else {
      return malformed(reason::kUnknownIpVersion);
    }
  }

  // Decode into a scratch value so that `out` changes only on success.
  DecodedPacket p;
  p.ts_us = ts_us;
  const DecodeResult r = net == Net::kIpv4 ? decode_ipv4(ip, p) : decode_ipv6(ip, p);
  if (r.status == DecodeStatus::kOk) out = p;
  return r;
}

}  // namespace huginn::packet
