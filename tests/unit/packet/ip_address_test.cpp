#include "huginn/packet/ip_address.hpp"

#include <gtest/gtest.h>

#include <unordered_set>

namespace huginn::packet {
namespace {

std::array<std::uint8_t, 16> v6(std::initializer_list<std::uint16_t> groups) {
  std::array<std::uint8_t, 16> b{};
  std::size_t i = 0;
  for (auto g : groups) {
    b[i++] = static_cast<std::uint8_t>(g >> 8);
    b[i++] = static_cast<std::uint8_t>(g);
  }
  return b;
}

TEST(IpAddress, Ipv4DottedQuad) {
  EXPECT_EQ(IpAddress::v4(192, 168, 0, 1).to_string(), "192.168.0.1");
  EXPECT_EQ(IpAddress::v4(0, 0, 0, 0).to_string(), "0.0.0.0");
  EXPECT_EQ(IpAddress::v4(255, 255, 255, 255).to_string(), "255.255.255.255");
  EXPECT_EQ(IpAddress::v4(10, 0, 0, 7).to_rfc5952_string(), "10.0.0.7");
}

TEST(IpAddress, Ipv6AsP0fPrintsIt) {
  // p0f prints all eight groups, no "::" compression, no leading zeros;
  // this string appears verbatim in `p0f -r ipv6.pcapng` output.
  const auto a = IpAddress::v6(v6({0x2606, 0x4700, 0, 0, 0, 0, 0x6811, 0xd209}));
  EXPECT_EQ(a.to_string(), "2606:4700:0:0:0:0:6811:d209");
  EXPECT_EQ(a.to_rfc5952_string(), "2606:4700::6811:d209");

  EXPECT_EQ(IpAddress::v6(v6({0, 0, 0, 0, 0, 0, 0, 1})).to_string(), "0:0:0:0:0:0:0:1");
  EXPECT_EQ(IpAddress::v6(v6({0, 0, 0, 0, 0, 0, 0, 1})).to_rfc5952_string(), "::1");
  EXPECT_EQ(IpAddress::v6(v6({0xfe80, 0, 0, 0, 0x0abc, 0xdef0, 0x1234, 0xffff})).to_string(),
            "fe80:0:0:0:abc:def0:1234:ffff");
  // IPv4-mapped: p0f stays in hex, inet_ntop switches to dotted form.
  const auto mapped = IpAddress::v6(v6({0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201}));
  EXPECT_EQ(mapped.to_string(), "0:0:0:0:0:ffff:c000:201");
  EXPECT_EQ(mapped.to_rfc5952_string(), "::ffff:192.0.2.1");
}

TEST(IpAddress, HashAndEqualityFollowVersionAndBytes) {
  const auto a = IpAddress::v4(1, 2, 3, 4);
  const auto b = IpAddress::v4(1, 2, 3, 4);
  const auto c = IpAddress::v4(1, 2, 3, 5);
  auto six = IpAddress::v6({});
  six.bytes = a.bytes;  // same leading bytes, other family
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_NE(a, c);
  EXPECT_NE(a.hash(), c.hash());
  EXPECT_NE(a, six);
  EXPECT_NE(a.hash(), six.hash());
  std::unordered_set<IpAddress> set{a, b, c, six};
  EXPECT_EQ(set.size(), 3u);
}

}  // namespace
}  // namespace huginn::packet
