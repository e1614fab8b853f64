#include "huginn/flow/flow_key.hpp"

#include <gtest/gtest.h>

#include <unordered_set>
#include <vector>

#include "tcp_packet_builder.hpp"

namespace huginn::flow {
namespace {

using test::parse_ip;

packet::DecodedPacket segment(std::string_view src, std::uint16_t sport, std::string_view dst,
                              std::uint16_t dport, std::uint8_t flags) {
  packet::DecodedPacket p;
  p.src = parse_ip(src);
  p.dst = parse_ip(dst);
  p.sport = sport;
  p.dport = dport;
  p.flags = flags;
  return p;
}

TEST(FlowKeyTest, BothDirectionsGiveTheSameKeyAndHash) {
  const auto out = segment("192.0.2.1", 40000, "198.51.100.7", 443, packet::tcp_flags::kSyn);
  const auto back = segment("198.51.100.7", 443, "192.0.2.1", 40000, packet::tcp_flags::kAck);
  const FlowKey a = FlowKey::from_packet(out);
  const FlowKey b = FlowKey::from_packet(back);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_EQ(a.hash(7), b.hash(7));
  EXPECT_EQ(a.low().addr, parse_ip("192.0.2.1"));
  EXPECT_EQ(a.high().port, 443);
}

TEST(FlowKeyTest, EveryFieldSeparatesKeys) {
  const FlowKey base({parse_ip("192.0.2.1"), 40000}, {parse_ip("198.51.100.7"), 80});
  const FlowKey other_sport({parse_ip("192.0.2.1"), 40001}, {parse_ip("198.51.100.7"), 80});
  const FlowKey other_dport({parse_ip("192.0.2.1"), 40000}, {parse_ip("198.51.100.7"), 81});
  const FlowKey other_addr({parse_ip("192.0.2.2"), 40000}, {parse_ip("198.51.100.7"), 80});
  // Same ports, the addresses swapped between the two ports.
  const FlowKey crossed({parse_ip("192.0.2.1"), 80}, {parse_ip("198.51.100.7"), 40000});
  std::unordered_set<FlowKey> keys{base, other_sport, other_dport, other_addr, crossed};
  EXPECT_EQ(keys.size(), 5u);
  EXPECT_NE(base.hash(), other_sport.hash());
  EXPECT_NE(base.hash(), crossed.hash());
}

TEST(FlowKeyTest, Ipv4AndIpv6WithEqualLeadingBytesDiffer) {
  const auto v4 = parse_ip("1.2.3.4");
  const auto v6 = parse_ip("102:304::");
  const FlowKey a({v4, 1}, {v4, 2});
  const FlowKey b({v6, 1}, {v6, 2});
  EXPECT_FALSE(a == b);
  EXPECT_NE(a.hash(), b.hash());
}

// endpoint_less() and Endpoint's == are word-wise rewrites of the
// defaulted comparisons: they must agree with <=> on every pair, including
// addresses that differ in a single byte anywhere and in the version only.
TEST(FlowKeyTest, FastComparisonsAgreeWithThreeWayOrder) {
  std::vector<Endpoint> eps;
  for (auto version : {packet::IpVersion::v4, packet::IpVersion::v6}) {
    for (std::size_t byte = 0; byte < 16; ++byte) {
      for (int v : {0, 1, 0x80, 0xff}) {
        const auto value = static_cast<std::uint8_t>(v);
        packet::IpAddress a;
        a.version = version;
        a.bytes[byte] = value;
        for (std::uint16_t port : {std::uint16_t{0}, std::uint16_t{443}, std::uint16_t{65535}}) {
          eps.push_back(Endpoint{a, port});
        }
      }
    }
  }
  for (const auto& a : eps) {
    for (const auto& b : eps) {
      const auto order = a <=> b;
      ASSERT_EQ(endpoint_less(a, b), order < 0);
      ASSERT_EQ(a == b, order == 0);
      const FlowKey k(a, b);
      ASSERT_FALSE(endpoint_less(k.high(), k.low()));
      ASSERT_EQ(k, FlowKey(b, a));
    }
  }
}

TEST(FlowKeyTest, SeedChangesTheHash) {
  const FlowKey k({parse_ip("2001:db8::1"), 1}, {parse_ip("2001:db8::2"), 2});
  EXPECT_NE(k.hash(0), k.hash(1));
}

TEST(FlowKeyTest, ClientRule) {
  namespace tf = packet::tcp_flags;
  EXPECT_TRUE(client_is_sender(segment("192.0.2.1", 1, "192.0.2.2", 2, tf::kSyn)));
  EXPECT_FALSE(client_is_sender(segment("192.0.2.1", 1, "192.0.2.2", 2, tf::kSyn | tf::kAck)));
  EXPECT_TRUE(client_is_sender(segment("192.0.2.1", 1, "192.0.2.2", 2, tf::kAck | tf::kPsh)));
  // Mid-stream: an ephemeral port on exactly one side marks the client...
  const auto response = segment("192.0.2.1", 8080, "192.0.2.2", 48456, tf::kAck | tf::kPsh);
  EXPECT_FALSE(client_is_sender(response));
  EXPECT_TRUE(client_is_sender(response, /*use_ports=*/false));
  const auto request = segment("192.0.2.2", 48456, "192.0.2.1", 8080, tf::kAck | tf::kPsh);
  EXPECT_TRUE(client_is_sender(request));
  // ...else the sender is taken to be the client.
  EXPECT_TRUE(client_is_sender(segment("192.0.2.1", 50000, "192.0.2.2", 60000, tf::kAck)));
  EXPECT_TRUE(client_is_sender(segment("192.0.2.1", 80, "192.0.2.2", 8080, tf::kAck)));
  // A SYN's flags win over ports.
  EXPECT_TRUE(client_is_sender(segment("192.0.2.1", 80, "192.0.2.2", 50000, tf::kSyn)));
  EXPECT_EQ(reverse(Direction::kToServer), Direction::kToClient);
}

}  // namespace
}  // namespace huginn::flow
