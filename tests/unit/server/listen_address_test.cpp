#include <gtest/gtest.h>

#include "huginn/server/server_config.hpp"

namespace hs = huginn::server;
using huginn::packet::IpAddress;

namespace {

std::string error_of(std::string_view text) {
  std::string err;
  EXPECT_FALSE(hs::parse_listen_address(text, &err).has_value()) << text;
  return err;
}

}  // namespace

TEST(ListenAddress, Ipv4) {
  std::string err;
  const auto ep = hs::parse_listen_address("127.0.0.1:8080", &err);
  ASSERT_TRUE(ep) << err;
  EXPECT_EQ(ep->addr, IpAddress::v4(127, 0, 0, 1));
  EXPECT_EQ(ep->port, 8080);
  EXPECT_EQ(hs::to_string(*ep), "127.0.0.1:8080");
}

TEST(ListenAddress, Ipv6InBrackets) {
  std::string err;
  const auto ep = hs::parse_listen_address("[::1]:8443", &err);
  ASSERT_TRUE(ep) << err;
  EXPECT_EQ(ep->addr.version, huginn::packet::IpVersion::v6);
  EXPECT_EQ(ep->addr.bytes[15], 1);
  EXPECT_EQ(ep->port, 8443);
  EXPECT_EQ(hs::to_string(*ep), "[::1]:8443");
  const auto any = hs::parse_listen_address("[::]:0", &err);
  ASSERT_TRUE(any) << err;
  EXPECT_EQ(any->port, 0);
  EXPECT_EQ(hs::to_string(*any), "[::]:0");
}

TEST(ListenAddress, LocalhostAndPortZero) {
  std::string err;
  const auto ep = hs::parse_listen_address("localhost:0", &err);
  ASSERT_TRUE(ep) << err;
  EXPECT_EQ(ep->addr, IpAddress::v4(127, 0, 0, 1));
  EXPECT_EQ(ep->port, 0);
  const auto any = hs::parse_listen_address("0.0.0.0:65535", &err);
  ASSERT_TRUE(any) << err;
  EXPECT_EQ(any->port, 65535);
}

TEST(ListenAddress, ClearErrors) {
  EXPECT_EQ(error_of("127.0.0.1"), "invalid listen address \"127.0.0.1\": expected HOST:PORT or [IPv6]:PORT");
  EXPECT_EQ(error_of("::1:80"),
            "invalid listen address \"::1:80\": an IPv6 address must be written in brackets, as [::1]:8080");
  EXPECT_EQ(error_of("[::1]80"), "invalid listen address \"[::1]80\": expected \":PORT\" after \"[ADDRESS]\"");
  EXPECT_EQ(error_of("[::1:80"), "invalid listen address \"[::1:80\": missing ']' after the IPv6 address");
  EXPECT_EQ(error_of("127.0.0.1:65536"),
            "invalid listen address \"127.0.0.1:65536\": the port must be a number from 0 to 65535");
  EXPECT_EQ(error_of("127.0.0.1:8o"),
            "invalid listen address \"127.0.0.1:8o\": the port must be a number from 0 to 65535");
  EXPECT_EQ(error_of("127.0.0.1:-1"),
            "invalid listen address \"127.0.0.1:-1\": the port must be a number from 0 to 65535");
  EXPECT_EQ(error_of("127.0.0.1:"), "invalid listen address \"127.0.0.1:\": the port is empty");
  EXPECT_EQ(error_of(":80"), "invalid listen address \":80\": the address is empty");
  EXPECT_EQ(error_of("example.com:80"),
            "invalid listen address \"example.com:80\": \"example.com\" is not an IPv4 address (or \"localhost\")");
  EXPECT_EQ(error_of("[1.2.3.4]:80"), "invalid listen address \"[1.2.3.4]:80\": \"1.2.3.4\" is not an IPv6 address");
  EXPECT_EQ(error_of("256.0.0.1:80"),
            "invalid listen address \"256.0.0.1:80\": \"256.0.0.1\" is not an IPv4 address (or \"localhost\")");
  EXPECT_FALSE(hs::parse_listen_address("", nullptr));  // no error sink: still no crash
}

TEST(ServerConfig, Defaults) {
  const auto c = hs::ServerConfig::defaults();
  ASSERT_EQ(c.listen.size(), 1U);
  ASSERT_EQ(c.tls_listen.size(), 1U);
  EXPECT_EQ(hs::to_string(c.listen[0]), "127.0.0.1:8080");
  EXPECT_EQ(hs::to_string(c.tls_listen[0]), "127.0.0.1:8443");
  EXPECT_EQ(c.io_threads, 2U);
  EXPECT_EQ(c.limits.max_header_bytes, 16U * 1024);
  EXPECT_EQ(c.limits.max_body_bytes, 64U * 1024);
  EXPECT_EQ(c.limits.max_concurrent_streams, 100U);
  EXPECT_EQ(c.limits.max_stream_queue_bytes, 1024U * 1024);
  EXPECT_EQ(c.limits.max_connections, 10000U);
  EXPECT_EQ(c.limits.visitor_prefix_bytes, 16384U);
  EXPECT_FALSE(c.state_dir.empty());
}
