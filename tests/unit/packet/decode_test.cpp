#include "huginn/packet/decode.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "frame_builder.hpp"
#include "huginn/util/limits.hpp"

namespace huginn::packet {
namespace {

using test::Bytes;
using test::Ipv4Spec;
using test::Ipv6Spec;
using test::TcpSpec;

// Owns the frame, so the packet's spans stay valid as long as the result
// (moving a vector keeps its buffer).
struct Decoded {
  Bytes frame;
  DecodeResult result;
  DecodedPacket pkt;
};

Decoded decode(int link, Bytes frame, std::int64_t ts = 1'600'000'000'123'456) {
  Decoded d;
  d.frame = std::move(frame);
  d.result = decode_packet(link, d.frame, ts, d.pkt);
  return d;
}

// Asserts the frame is not decoded, with this status and reason.
void expect_rejected(int link, const Bytes& frame, DecodeStatus status, std::string_view why) {
  DecodedPacket out;
  out.sport = 4242;  // sentinel: must survive a failed decode
  const auto r = decode_packet(link, frame, 0, out);
  EXPECT_EQ(r.status, status) << "reason: " << r.reason;
  EXPECT_EQ(r.reason, why);
  EXPECT_EQ(out.sport, 4242) << "out must be untouched unless kOk";
}

bool same_bytes(std::span<const std::uint8_t> a, const Bytes& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// ---------------------------------------------------------------------------
// Field extraction.

TEST(DecodeIpv4, FillsEveryField) {
  Ipv4Spec ip;
  ip.src = {10, 1, 2, 3};
  ip.dst = {172, 16, 0, 9};
  ip.ttl = 57;
  ip.tos = (0x2e << 2) | 0x01;  // DSCP EF, ECT(1)
  ip.id = 0xbeef;
  ip.df = true;
  ip.mbz = true;
  TcpSpec tcp;
  tcp.sport = 51515;
  tcp.dport = 443;
  tcp.seq = 0xdeadbeef;
  tcp.ack = 0x01020304;
  tcp.flags = tcp_flags::kSyn | tcp_flags::kEce | tcp_flags::kCwr;
  tcp.ns = true;
  tcp.win = 29200;
  tcp.urg = 7;
  tcp.options = {2, 4, 0x05, 0xb4, 1, 3, 3, 7};  // MSS 1460, NOP, WS 7
  tcp.payload = {'h', 'i'};

  const auto d = decode(dlt::kEn10mb, test::ethernet(test::kEtherIpv4, test::ipv4_tcp(ip, tcp)));
  ASSERT_EQ(d.result.status, DecodeStatus::kOk) << d.result.reason;
  EXPECT_TRUE(d.result.reason.empty());
  const auto& p = d.pkt;
  EXPECT_EQ(p.ts_us, 1'600'000'000'123'456);
  EXPECT_FALSE(p.is_ipv6());
  EXPECT_EQ(p.src, IpAddress::v4(10, 1, 2, 3));
  EXPECT_EQ(p.dst, IpAddress::v4(172, 16, 0, 9));
  EXPECT_EQ(p.ttl, 57);
  EXPECT_EQ(p.tos, 0x2e);
  EXPECT_EQ(p.ecn, 0x01);
  EXPECT_EQ(p.ip_id, 0xbeef);
  EXPECT_TRUE(p.ip_df);
  EXPECT_TRUE(p.ip_mbz);
  EXPECT_EQ(p.ip_opt_len, 0);
  EXPECT_EQ(p.ip_hdr_len, 20);
  EXPECT_EQ(p.flow_label, 0u);
  EXPECT_EQ(p.ip6_ext_len, 0);
  EXPECT_EQ(p.sport, 51515);
  EXPECT_EQ(p.dport, 443);
  EXPECT_EQ(p.seq, 0xdeadbeefu);
  EXPECT_EQ(p.ack, 0x01020304u);
  EXPECT_EQ(p.flags, tcp_flags::kSyn | tcp_flags::kEce | tcp_flags::kCwr);
  EXPECT_TRUE(p.tcp_ns);
  EXPECT_EQ(p.win, 29200);
  EXPECT_EQ(p.urg_ptr, 7);
  EXPECT_EQ(p.tcp_hdr_len, 28);
  EXPECT_TRUE(same_bytes(p.tcp_options, tcp.options));
  EXPECT_TRUE(same_bytes(p.payload, tcp.payload));
}

TEST(DecodeIpv4, FlagsClearAndNoOptions) {
  Ipv4Spec ip;
  ip.df = false;
  ip.id = 0;
  const auto d = decode(dlt::kEn10mb, test::ethernet(test::kEtherIpv4, test::ipv4_tcp(ip)));
  ASSERT_EQ(d.result.status, DecodeStatus::kOk);
  EXPECT_FALSE(d.pkt.ip_df);
  EXPECT_FALSE(d.pkt.ip_mbz);
  EXPECT_EQ(d.pkt.ip_id, 0);
  EXPECT_FALSE(d.pkt.tcp_ns);
  EXPECT_EQ(d.pkt.ecn, 0);
  EXPECT_TRUE(d.pkt.tcp_options.empty());
  EXPECT_TRUE(d.pkt.payload.empty());
  EXPECT_EQ(d.pkt.tcp_hdr_len, 20);
}

TEST(DecodeIpv4, OptionsAreSkippedAndCounted) {
  Ipv4Spec ip;
  ip.options = {0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00};  // router alert, NOPs, EOL
  TcpSpec tcp;
  tcp.sport = 1234;
  tcp.payload = {1, 2, 3};
  const auto d = decode(dlt::kEn10mb, test::ethernet(test::kEtherIpv4, test::ipv4_tcp(ip, tcp)));
  ASSERT_EQ(d.result.status, DecodeStatus::kOk);
  EXPECT_EQ(d.pkt.ip_opt_len, 8);
  EXPECT_EQ(d.pkt.ip_hdr_len, 28);
  EXPECT_EQ(d.pkt.sport, 1234);
  EXPECT_TRUE(same_bytes(d.pkt.payload, tcp.payload));
}

TEST(DecodeIpv4, MaximalOptions) {
  Ipv4Spec ip;
  ip.options = Bytes(40, 1);  // IHL 15
  const auto d = decode(dlt::kRaw, test::ipv4_tcp(ip));
  ASSERT_EQ(d.result.status, DecodeStatus::kOk);
  EXPECT_EQ(d.pkt.ip_opt_len, 40);
  EXPECT_EQ(d.pkt.ip_hdr_len, 60);
}

TEST(DecodeIpv4, EcnBitsAndDscpSplit) {
  for (std::uint8_t ecn = 0; ecn < 4; ++ecn) {
    Ipv4Spec ip;
    ip.tos = static_cast<std::uint8_t>((0x0a << 2) | ecn);
    const auto d = decode(dlt::kRaw, test::ipv4_tcp(ip));
    ASSERT_EQ(d.result.status, DecodeStatus::kOk);
    EXPECT_EQ(d.pkt.tos, 0x0a);
    EXPECT_EQ(d.pkt.ecn, ecn);
  }
}

TEST(DecodeTcp, NsBitIsTheLowBitOfTheOffsetByte) {
  TcpSpec tcp;
  tcp.ns = true;
  auto d = decode(dlt::kRaw, test::ipv4_tcp({}, tcp));
  ASSERT_EQ(d.result.status, DecodeStatus::kOk);
  EXPECT_TRUE(d.pkt.tcp_ns);
  EXPECT_EQ(d.pkt.tcp_hdr_len, 20);

  // The three reserved bits above NS are not NS.
  Bytes frame = test::ipv4_tcp();
  frame[20 + 12] = 0x50 | 0x0e;
  d = decode(dlt::kRaw, frame);
  ASSERT_EQ(d.result.status, DecodeStatus::kOk);
  EXPECT_FALSE(d.pkt.tcp_ns);
}

TEST(DecodeTcp, SillyFlagCombinationsStillDecode) {
  // p0f drops these before fingerprinting; the analyzer does that here.
  for (std::uint8_t flags : {std::uint8_t{0}, std::uint8_t{tcp_flags::kSyn | tcp_flags::kFin},
                             std::uint8_t{tcp_flags::kFin | tcp_flags::kRst}, std::uint8_t{0xff}}) {
    TcpSpec tcp;
    tcp.flags = flags;
    const auto d = decode(dlt::kRaw, test::ipv4_tcp({}, tcp));
    ASSERT_EQ(d.result.status, DecodeStatus::kOk);
    EXPECT_EQ(d.pkt.flags, flags);
  }
}

TEST(DecodeTcp, FullFortyBytesOfOptions) {
  TcpSpec tcp;
  tcp.options = Bytes(40, 1);
  tcp.payload = {9};
  const auto d = decode(dlt::kRaw, test::ipv4_tcp({}, tcp));
  ASSERT_EQ(d.result.status, DecodeStatus::kOk);
  EXPECT_EQ(d.pkt.tcp_hdr_len, 60);
  EXPECT_EQ(d.pkt.tcp_options.size(), 40u);
  EXPECT_TRUE(same_bytes(d.pkt.payload, tcp.payload));
}

// ---------------------------------------------------------------------------
// Payload bounds: the IP length, not the frame, ends the segment (p0f's
// etherleak rule).

TEST(DecodePayload, EthernetPaddingIsExcluded) {
  Bytes frame = test::ethernet(test::kEtherIpv4, test::ipv4_tcp());
  ASSERT_EQ(frame.size(), 54u);
  frame.resize(60, 0xaa);  // minimum Ethernet frame, padded with leaked bytes
  const auto d = decode(dlt::kEn10mb, frame);
  ASSERT_EQ(d.result.status, DecodeStatus::kOk);
  EXPECT_TRUE(d.pkt.payload.empty());
}

TEST(DecodePayload, TrailerAfterDataIsExcluded) {
  TcpSpec tcp;
  tcp.payload = {'G', 'E', 'T'};
  Bytes frame = test::ethernet(test::kEtherIpv4, test::ipv4_tcp({}, tcp));
  frame.insert(frame.end(), {0xde, 0xad, 0xbe, 0xef});
  const auto d = decode(dlt::kEn10mb, frame);
  ASSERT_EQ(d.result.status, DecodeStatus::kOk);
  EXPECT_TRUE(same_bytes(d.pkt.payload, tcp.payload));
}

TEST(DecodePayload, Ipv6TrailerIsExcluded) {
  TcpSpec tcp;
  tcp.payload = {1, 2, 3, 4, 5};
  Bytes frame = test::ethernet(test::kEtherIpv6, test::ipv6_tcp({}, tcp));
  frame.resize(frame.size() + 6, 0x55);
  const auto d = decode(dlt::kEn10mb, frame);
  ASSERT_EQ(d.result.status, DecodeStatus::kOk);
  EXPECT_TRUE(same_bytes(d.pkt.payload, tcp.payload));
}

TEST(DecodePayload, PayloadPointsIntoTheFrame) {
  TcpSpec tcp;
  tcp.payload = {7, 7, 7};
  const Bytes frame = test::ipv4_tcp({}, tcp);
  DecodedPacket p;
  ASSERT_EQ(decode_packet(dlt::kRaw, frame, 0, p).status, DecodeStatus::kOk);
  EXPECT_EQ(p.payload.data(), frame.data() + 40);
  EXPECT_EQ(p.tcp_options.data(), frame.data() + 40);
  EXPECT_EQ(p.payload.data() + p.payload.size(), frame.data() + frame.size());
}

// ---------------------------------------------------------------------------
// Link types.

TEST(DecodeLink, EthernetIpv6) {
  Ipv6Spec ip;
  ip.hop_limit = 61;
  ip.traffic_class = (0x08 << 2) | 0x02;
  ip.flow_label = 0xabcde;
  TcpSpec tcp;
  tcp.dport = 8443;
  const auto d = decode(dlt::kEn10mb, test::ethernet(test::kEtherIpv6, test::ipv6_tcp(ip, tcp)));
  ASSERT_EQ(d.result.status, DecodeStatus::kOk) << d.result.reason;
  const auto& p = d.pkt;
  EXPECT_TRUE(p.is_ipv6());
  EXPECT_EQ(p.src, IpAddress::v6(ip.src));
  EXPECT_EQ(p.dst, IpAddress::v6(ip.dst));
  EXPECT_EQ(p.ttl, 61);
  EXPECT_EQ(p.tos, 0x08);
  EXPECT_EQ(p.ecn, 0x02);
  EXPECT_EQ(p.flow_label, 0xabcdeu);
  EXPECT_EQ(p.ip_hdr_len, 40);
  EXPECT_EQ(p.ip6_ext_len, 0);
  EXPECT_EQ(p.ip_id, 0);
  EXPECT_FALSE(p.ip_df);
  EXPECT_EQ(p.ip_opt_len, 0);
  EXPECT_EQ(p.dport, 8443);
}

TEST(DecodeLink, SingleVlanTag) {
  const auto d = decode(dlt::kEn10mb,
                        test::ethernet(test::kEtherIpv4, test::ipv4_tcp(), {{0x8100, 42}}));
  ASSERT_EQ(d.result.status, DecodeStatus::kOk);
  EXPECT_EQ(d.pkt.dport, 80);
}

TEST(DecodeLink, QinQ8021adThen8021Q) {
  const auto d = decode(dlt::kEn10mb, test::ethernet(test::kEtherIpv6, test::ipv6_tcp(),
                                                     {{0x88a8, 10}, {0x8100, 20}}));
  ASSERT_EQ(d.result.status, DecodeStatus::kOk);
  EXPECT_TRUE(d.pkt.is_ipv6());
}

TEST(DecodeLink, LegacyQinQ9100) {
  const auto d = decode(dlt::kEn10mb, test::ethernet(test::kEtherIpv4, test::ipv4_tcp(),
                                                     {{0x9100, 1}, {0x9100, 2}, {0x8100, 3}}));
  ASSERT_EQ(d.result.status, DecodeStatus::kOk);
}

TEST(DecodeLink, VlanDepthCap) {
  std::vector<test::VlanTag> tags(limits::kMaxVlanTags, test::VlanTag{});
  auto d = decode(dlt::kEn10mb, test::ethernet(test::kEtherIpv4, test::ipv4_tcp(), tags));
  EXPECT_EQ(d.result.status, DecodeStatus::kOk);
  tags.push_back({});
  expect_rejected(dlt::kEn10mb, test::ethernet(test::kEtherIpv4, test::ipv4_tcp(), tags),
                  DecodeStatus::kMalformed, reason::kTooManyVlanTags);
}

TEST(DecodeLink, VlanTagCutShort) {
  Bytes frame = test::ethernet(test::kEtherIpv4, {}, {{0x8100, 5}});
  test::drop_last(frame, 1);  // inner EtherType half there
  expect_rejected(dlt::kEn10mb, frame, DecodeStatus::kMalformed, reason::kTruncatedLinkHeader);
}

TEST(DecodeLink, LinuxSll) {
  const auto d = decode(dlt::kLinuxSll, test::sll(test::kEtherIpv4, test::ipv4_tcp()));
  ASSERT_EQ(d.result.status, DecodeStatus::kOk);
  EXPECT_EQ(d.pkt.src, IpAddress::v4(192, 0, 2, 1));
}

TEST(DecodeLink, LinuxSllWithReinsertedVlanTag) {
  // libpcap puts a stripped tag back at the SLL protocol field: TPID, TCI,
  // then the original protocol.
  Bytes inner;
  test::put16(inner, 77);  // TCI
  test::put16(inner, test::kEtherIpv6);
  test::append(inner, test::ipv6_tcp());
  const auto d = decode(dlt::kLinuxSll, test::sll(0x8100, inner));
  ASSERT_EQ(d.result.status, DecodeStatus::kOk);
  EXPECT_TRUE(d.pkt.is_ipv6());
}

TEST(DecodeLink, LinuxSll2) {
  const auto d = decode(dlt::kLinuxSll2, test::sll2(test::kEtherIpv6, test::ipv6_tcp()));
  ASSERT_EQ(d.result.status, DecodeStatus::kOk);
  EXPECT_TRUE(d.pkt.is_ipv6());
  const auto d4 = decode(dlt::kLinuxSll2, test::sll2(test::kEtherIpv4, test::ipv4_tcp()));
  ASSERT_EQ(d4.result.status, DecodeStatus::kOk);
  EXPECT_FALSE(d4.pkt.is_ipv6());
}

TEST(DecodeLink, CookedNonIp) {
  expect_rejected(dlt::kLinuxSll, test::sll(test::kEtherArp, Bytes(28, 0)), DecodeStatus::kIgnored,
                  reason::kNotIp);
  expect_rejected(dlt::kLinuxSll2, test::sll2(test::kEtherArp, Bytes(28, 0)),
                  DecodeStatus::kIgnored, reason::kNotIp);
}

TEST(DecodeLink, RawPicksVersionFromHeader) {
  for (int link : {dlt::kRaw, dlt::kLinkTypeRaw}) {
    auto d = decode(link, test::ipv4_tcp());
    ASSERT_EQ(d.result.status, DecodeStatus::kOk);
    EXPECT_FALSE(d.pkt.is_ipv6());
    d = decode(link, test::ipv6_tcp());
    ASSERT_EQ(d.result.status, DecodeStatus::kOk);
    EXPECT_TRUE(d.pkt.is_ipv6());
  }
}

TEST(DecodeLink, Ipv4AndIpv6OnlyLinks) {
  EXPECT_EQ(decode(dlt::kIpv4, test::ipv4_tcp()).result.status, DecodeStatus::kOk);
  EXPECT_EQ(decode(dlt::kIpv6, test::ipv6_tcp()).result.status, DecodeStatus::kOk);
  expect_rejected(dlt::kIpv4, test::ipv6_tcp(), DecodeStatus::kMalformed,
                  reason::kIpVersionMismatch);
  expect_rejected(dlt::kIpv6, test::ipv4_tcp(), DecodeStatus::kMalformed,
                  reason::kIpVersionMismatch);
}

TEST(DecodeLink, EthertypeVersionMismatch) {
  expect_rejected(dlt::kEn10mb, test::ethernet(test::kEtherIpv4, test::ipv6_tcp()),
                  DecodeStatus::kMalformed, reason::kIpVersionMismatch);
}

TEST(DecodeLink, BsdNullEitherByteOrder) {
  for (bool le : {true, false}) {
    auto d = decode(dlt::kNull, test::bsd_null(2, le, test::ipv4_tcp()));
    ASSERT_EQ(d.result.status, DecodeStatus::kOk) << "little endian " << le;
    EXPECT_FALSE(d.pkt.is_ipv6());
    // AF_INET6 as NetBSD/OpenBSD (24), FreeBSD (28), Darwin (30), Linux (10).
    for (std::uint32_t af : {24u, 28u, 30u, 10u}) {
      d = decode(dlt::kNull, test::bsd_null(af, le, test::ipv6_tcp()));
      ASSERT_EQ(d.result.status, DecodeStatus::kOk) << "af " << af;
      EXPECT_TRUE(d.pkt.is_ipv6());
    }
  }
  expect_rejected(dlt::kNull, test::bsd_null(7, true, test::ipv4_tcp()), DecodeStatus::kIgnored,
                  reason::kNotIp);
}

TEST(DecodeLink, BsdLoopIsNetworkOrder) {
  auto d = decode(dlt::kLoop, test::bsd_null(2, false, test::ipv4_tcp()));
  ASSERT_EQ(d.result.status, DecodeStatus::kOk);
  d = decode(dlt::kLoop, test::bsd_null(24, false, test::ipv6_tcp()));
  ASSERT_EQ(d.result.status, DecodeStatus::kOk);
  EXPECT_TRUE(d.pkt.is_ipv6());
  // Host order is not accepted on DLT_LOOP: 0x02000000 is no family.
  expect_rejected(dlt::kLoop, test::bsd_null(2, true, test::ipv4_tcp()), DecodeStatus::kIgnored,
                  reason::kNotIp);
}

// ---------------------------------------------------------------------------
// IPv6 extension headers.

TEST(DecodeIpv6Ext, WalksAChainToTcp) {
  Ipv6Spec ip;
  ip.ext = {test::hop_by_hop(8), test::dest_options(16), test::routing(24),
            test::fragment(0, false), test::auth_header(), test::mobility(8)};
  TcpSpec tcp;
  tcp.sport = 5555;
  tcp.payload = {0xab};
  const auto d = decode(dlt::kRaw, test::ipv6_tcp(ip, tcp));
  ASSERT_EQ(d.result.status, DecodeStatus::kOk) << d.result.reason;
  EXPECT_EQ(d.pkt.ip6_ext_len, 8 + 16 + 24 + 8 + 24 + 8);
  EXPECT_EQ(d.pkt.ip_hdr_len, 40);  // p0f counts the fixed header only
  EXPECT_EQ(d.pkt.sport, 5555);
  EXPECT_TRUE(same_bytes(d.pkt.payload, tcp.payload));
}

TEST(DecodeIpv6Ext, NonFirstFragmentIsIgnored) {
  Ipv6Spec ip;
  ip.ext = {test::fragment(185, false)};
  expect_rejected(dlt::kRaw, test::ipv6_tcp(ip), DecodeStatus::kIgnored, reason::kIpFragment);
}

TEST(DecodeIpv6Ext, FirstFragmentWithMoreIsIgnored) {
  Ipv6Spec ip;
  ip.ext = {test::fragment(0, true)};
  expect_rejected(dlt::kRaw, test::ipv6_tcp(ip), DecodeStatus::kIgnored, reason::kIpFragment);
}

TEST(DecodeIpv6Ext, ChainCap) {
  Ipv6Spec ip;
  ip.ext.assign(limits::kMaxIpv6ExtHeaders, test::dest_options());
  EXPECT_EQ(decode(dlt::kRaw, test::ipv6_tcp(ip)).result.status, DecodeStatus::kOk);
  ip.ext.push_back(test::dest_options());
  expect_rejected(dlt::kRaw, test::ipv6_tcp(ip), DecodeStatus::kMalformed,
                  reason::kTooManyIpv6ExtHeaders);
}

TEST(DecodeIpv6Ext, HeaderLongerThanPayload) {
  Ipv6Spec ip;
  ip.ext = {test::hop_by_hop(8)};
  Bytes frame = test::ipv6(ip, {});
  frame[41] = 4;  // hop-by-hop claims 40 bytes, 8 are there
  expect_rejected(dlt::kRaw, frame, DecodeStatus::kMalformed, reason::kTruncatedIpv6ExtHeader);
}

TEST(DecodeIpv6Ext, ExtensionLengthBoundedByPayloadLengthNotFrame) {
  // The frame carries the bytes but the IPv6 payload length ends before
  // the extension header does.
  Ipv6Spec ip;
  ip.ext = {test::dest_options(16)};
  ip.payload_length = 8;
  Bytes frame = test::ipv6(ip, test::tcp_segment({}));
  expect_rejected(dlt::kRaw, frame, DecodeStatus::kMalformed, reason::kTruncatedIpv6ExtHeader);
}

TEST(DecodeIpv6Ext, OneByteOfExtensionHeader) {
  Ipv6Spec ip;
  ip.upper_proto = 60;
  Bytes frame = test::ipv6(ip, {6});
  expect_rejected(dlt::kRaw, frame, DecodeStatus::kMalformed, reason::kTruncatedIpv6ExtHeader);
}

TEST(DecodeIpv6Ext, ChainEndingInUdpOrNoNextHeader) {
  for (std::uint8_t upper : {std::uint8_t{17}, std::uint8_t{59}, std::uint8_t{50}}) {
    Ipv6Spec ip;
    ip.ext = {test::hop_by_hop()};
    ip.upper_proto = upper;
    expect_rejected(dlt::kRaw, test::ipv6(ip, Bytes(20, 0)), DecodeStatus::kIgnored,
                    reason::kNotTcp);
  }
}

// ---------------------------------------------------------------------------
// One test per reason.

TEST(DecodeReason, UnsupportedLinkType) {
  expect_rejected(147, test::ipv4_tcp(), DecodeStatus::kIgnored, reason::kUnsupportedLinkType);
  expect_rejected(-1, test::ipv4_tcp(), DecodeStatus::kIgnored, reason::kUnsupportedLinkType);
}

TEST(DecodeReason, TruncatedLinkHeader) {
  expect_rejected(dlt::kEn10mb, Bytes(13, 0), DecodeStatus::kMalformed,
                  reason::kTruncatedLinkHeader);
  expect_rejected(dlt::kLinuxSll, Bytes(15, 0), DecodeStatus::kMalformed,
                  reason::kTruncatedLinkHeader);
  expect_rejected(dlt::kLinuxSll2, Bytes(19, 0), DecodeStatus::kMalformed,
                  reason::kTruncatedLinkHeader);
  expect_rejected(dlt::kNull, Bytes(3, 0), DecodeStatus::kMalformed, reason::kTruncatedLinkHeader);
  expect_rejected(dlt::kLoop, Bytes{}, DecodeStatus::kMalformed, reason::kTruncatedLinkHeader);
}

TEST(DecodeReason, TooManyVlanTags) {
  std::vector<test::VlanTag> tags(limits::kMaxVlanTags + 1, test::VlanTag{0x88a8, 1});
  expect_rejected(dlt::kEn10mb, test::ethernet(test::kEtherIpv4, test::ipv4_tcp(), tags),
                  DecodeStatus::kMalformed, reason::kTooManyVlanTags);
}

TEST(DecodeReason, NotIp) {
  expect_rejected(dlt::kEn10mb, test::ethernet(test::kEtherArp, Bytes(28, 0)),
                  DecodeStatus::kIgnored, reason::kNotIp);
  // 802.3 length field (LLC/SNAP frames).
  expect_rejected(dlt::kEn10mb, test::ethernet(46, Bytes(46, 0)), DecodeStatus::kIgnored,
                  reason::kNotIp);
}

TEST(DecodeReason, UnknownIpVersion) {
  Bytes frame = test::ipv4_tcp();
  frame[0] = 0x55;
  expect_rejected(dlt::kRaw, frame, DecodeStatus::kMalformed, reason::kUnknownIpVersion);
}

TEST(DecodeReason, IpVersionMismatch) {
  expect_rejected(dlt::kEn10mb, test::ethernet(test::kEtherIpv6, test::ipv4_tcp()),
                  DecodeStatus::kMalformed, reason::kIpVersionMismatch);
}

TEST(DecodeReason, TruncatedIpv4Header) {
  expect_rejected(dlt::kEn10mb, test::ethernet(test::kEtherIpv4, Bytes{0x45, 0, 0, 40}),
                  DecodeStatus::kMalformed, reason::kTruncatedIpv4Header);
  expect_rejected(dlt::kRaw, Bytes{}, DecodeStatus::kMalformed, reason::kTruncatedIpv4Header);
}

TEST(DecodeReason, Ipv4BadIhl) {
  Ipv4Spec ip;
  ip.ihl_words = 4;
  expect_rejected(dlt::kRaw, test::ipv4_tcp(ip), DecodeStatus::kMalformed, reason::kIpv4BadIhl);
}

TEST(DecodeReason, Ipv4BadTotalLength) {
  Ipv4Spec ip;
  ip.options = Bytes(4, 1);
  ip.total_length = 20;  // shorter than its own 24-byte header
  expect_rejected(dlt::kRaw, test::ipv4_tcp(ip), DecodeStatus::kMalformed,
                  reason::kIpv4BadTotalLength);
}

TEST(DecodeReason, TruncatedIpv4) {
  // A snaplen cut: total length says 44, 43 bytes were captured.
  TcpSpec tcp;
  tcp.payload = {1, 2, 3, 4};
  Bytes frame = test::ipv4_tcp({}, tcp);
  frame.pop_back();
  expect_rejected(dlt::kRaw, frame, DecodeStatus::kMalformed, reason::kTruncatedIpv4);
}

TEST(DecodeReason, NotTcp) {
  Ipv4Spec ip;
  ip.proto = 17;
  expect_rejected(dlt::kRaw, test::ipv4(ip, Bytes(8, 0)), DecodeStatus::kIgnored,
                  reason::kNotTcp);
  Ipv6Spec ip6;
  ip6.upper_proto = 58;  // ICMPv6
  expect_rejected(dlt::kRaw, test::ipv6(ip6, Bytes(8, 0)), DecodeStatus::kIgnored,
                  reason::kNotTcp);
}

TEST(DecodeReason, IpFragmentMoreFragments) {
  Ipv4Spec ip;
  ip.df = false;
  ip.mf = true;
  expect_rejected(dlt::kRaw, test::ipv4_tcp(ip), DecodeStatus::kIgnored, reason::kIpFragment);
}

TEST(DecodeReason, IpFragmentNonZeroOffset) {
  Ipv4Spec ip;
  ip.df = false;
  ip.frag_offset = 1;
  // A later fragment has no TCP header at all; the fragment check comes
  // first, so it is counted as a fragment rather than a short segment.
  expect_rejected(dlt::kRaw, test::ipv4(ip, Bytes(8, 0)), DecodeStatus::kIgnored,
                  reason::kIpFragment);
}

TEST(DecodeReason, TruncatedIpv6Header) {
  expect_rejected(dlt::kRaw, Bytes(39, 0x60), DecodeStatus::kMalformed,
                  reason::kTruncatedIpv6Header);
}

TEST(DecodeReason, TruncatedIpv6) {
  Bytes frame = test::ipv6_tcp();
  frame.pop_back();
  expect_rejected(dlt::kRaw, frame, DecodeStatus::kMalformed, reason::kTruncatedIpv6);
}

TEST(DecodeReason, Ipv6Jumbogram) {
  Ipv6Spec ip;
  ip.ext = {test::hop_by_hop()};
  ip.payload_length = 0;
  expect_rejected(dlt::kRaw, test::ipv6_tcp(ip), DecodeStatus::kIgnored, reason::kIpv6Jumbogram);
}

TEST(DecodeReason, TruncatedTcpHeaderIpv4) {
  Ipv4Spec ip;
  ip.total_length = 39;  // 19 bytes of TCP inside the datagram
  expect_rejected(dlt::kRaw, test::ipv4_tcp(ip), DecodeStatus::kMalformed,
                  reason::kTruncatedTcpHeader);
}

TEST(DecodeReason, TruncatedTcpHeaderIpv6) {
  Ipv6Spec ip;
  ip.payload_length = 19;
  expect_rejected(dlt::kRaw, test::ipv6_tcp(ip), DecodeStatus::kMalformed,
                  reason::kTruncatedTcpHeader);
}

TEST(DecodeReason, TcpBadDataOffset) {
  TcpSpec tcp;
  tcp.data_offset_words = 4;
  expect_rejected(dlt::kRaw, test::ipv4_tcp({}, tcp), DecodeStatus::kMalformed,
                  reason::kTcpBadDataOffset);
}

TEST(DecodeReason, TcpDataOffsetPastEnd) {
  TcpSpec tcp;
  tcp.data_offset_words = 6;  // 24 bytes claimed, 20 present
  expect_rejected(dlt::kRaw, test::ipv4_tcp({}, tcp), DecodeStatus::kMalformed,
                  reason::kTcpDataOffsetPastEnd);
  // Bytes past the IP length do not count as TCP header.
  Bytes frame = test::ipv4_tcp({}, tcp);
  frame.resize(frame.size() + 4, 0);
  expect_rejected(dlt::kRaw, frame, DecodeStatus::kMalformed, reason::kTcpDataOffsetPastEnd);
}

TEST(DecodeReason, ExactTotalLengthIsAccepted) {
  // Boundary of the truncation rules: exactly enough bytes decodes.
  Ipv4Spec ip;
  EXPECT_EQ(decode(dlt::kRaw, test::ipv4_tcp(ip)).result.status, DecodeStatus::kOk);
  TcpSpec tcp;
  tcp.data_offset_words = 15;
  tcp.options = Bytes(40, 1);
  EXPECT_EQ(decode(dlt::kRaw, test::ipv4_tcp(ip, tcp)).result.status, DecodeStatus::kOk);
}

}  // namespace
}  // namespace huginn::packet
