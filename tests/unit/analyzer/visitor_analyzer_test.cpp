// VisitorAnalyzer: the server's own visitors replayed through the capture
// path's Analyzer — saved SYN, cleartext prefix, ClientHello, decrypted
// prefix, placeholder SYN, and the bounds.
#include "huginn/analyzer/visitor_analyzer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "client_hello_builder.hpp"
#include "h2_frame_builder.hpp"
#include "real_db.hpp"
#include "tcp_packet_builder.hpp"

namespace huginn::analyzer {
namespace {

using Bytes = std::vector<std::uint8_t>;
namespace h2t = fingerprint::http2::test;

constexpr std::int64_t kT0 = 1700000000LL * 1000000;

class Collect : public ObservationSink {
 public:
  void on_observation(const Observation& obs) override { all.push_back(obs); }
  [[nodiscard]] std::vector<Observation> of(ObservationKind k) const {
    std::vector<Observation> out;
    for (const auto& o : all) {
      if (o.kind == k) out.push_back(o);
    }
    return out;
  }
  std::vector<Observation> all;
};

Endpoint ep(std::string_view ip, std::uint16_t port) { return Endpoint{test::parse_ip(ip), port}; }

// A SYN as a current Linux sends it: MSS, SACK permitted, timestamps,
// window scale, DF with a non-zero IP id.
Bytes linux_syn(std::string_view src, std::string_view dst, std::uint16_t sport,
                std::uint16_t dport) {
  auto b = test::TcpPacketBuilder::syn();
  if (src.find(':') != std::string_view::npos) {
    b.ipv6(src, dst);
  } else {
    b.ipv4(src, dst).ip_id(4321).df(true);
  }
  b.ports(sport, dport).seq(1000).window(65495).ttl(64);
  b.opt_mss(65495).opt_sok().opt_ts(12345, 0).opt_nop().opt_ws(7);
  return b.build_ip();
}

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

class VisitorAnalyzerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::real_p0f_db();
    if (db_ == nullptr) GTEST_SKIP() << "p0f.fp not found";
  }
  const db::P0fDb* db_ = nullptr;
};

constexpr std::string_view kCurlRequest =
    "GET /api/me HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n\r\n";

TEST_F(VisitorAnalyzerTest, SavedSynAndCleartextRequestGiveTcpAndHttpRecords) {
  Collect sink;
  VisitorAnalyzer va(*db_, {}, sink);
  const auto client = ep("127.0.0.1", 40000);
  const auto server = ep("127.0.0.1", 8080);
  va.on_saved_syn(client, server, kT0, linux_syn("127.0.0.1", "127.0.0.1", 40000, 8080));
  va.on_client_prefix(client, server, kT0 + 1000, false, text(kCurlRequest));
  va.on_closed(client, server, kT0 + 2000);

  const auto syns = sink.of(ObservationKind::kSyn);
  ASSERT_EQ(syns.size(), 1U);
  EXPECT_EQ(syns[0].client.addr, client.addr);
  EXPECT_EQ(syns[0].client.port, 40000);
  EXPECT_EQ(syns[0].server.port, 8080);
  ASSERT_TRUE(syns[0].match.has_value()) << syns[0].signature;
  EXPECT_EQ(syns[0].match->label.rfind("Linux", 0), 0U) << syns[0].match->label;
  EXPECT_EQ(syns[0].signature.substr(0, 7), "4:64+0:");

  const auto reqs = sink.of(ObservationKind::kHttpRequest);
  ASSERT_EQ(reqs.size(), 1U);
  EXPECT_EQ(reqs[0].http.user_agent, "curl/7.88.1");
  EXPECT_EQ(reqs[0].http.path, "/api/me");
  EXPECT_EQ(reqs[0].client.port, 40000);
  EXPECT_EQ(va.counters().get("visitor_saved_syns"), 1U);
}

TEST_F(VisitorAnalyzerTest, ClientHelloGivesJa4AndDecryptedH2GivesAkamai) {
  Collect sink;
  VisitorAnalyzer va(*db_, {}, sink);
  const auto client = ep("::1", 50000);
  const auto server = ep("::1", 8443);
  va.on_saved_syn(client, server, kT0, linux_syn("::1", "::1", 50000, 8443));
  const auto hello = test::ClientHelloBuilder{}
                         .ciphers({0x1301, 0x1302, 0xc02b})
                         .sni("localhost")
                         .alpn({"h2", "http/1.1"})
                         .supported_versions({0x0304, 0x0303})
                         .signature_algorithms({0x0403, 0x0804})
                         .handshake();
  va.on_client_hello(client, server, kT0 + 10, hello);
  h2t::StreamBuilder h2;
  h2.preface()
      .settings({{1, 65536}, {3, 1000}, {4, 6291456}})
      .window_update(0, 15663105)
      .headers(1, h2t::hpack(h2t::chrome_like_request()));
  va.on_client_prefix(client, server, kT0 + 20, true, h2.bytes());
  va.on_closed(client, server, kT0 + 30);

  const auto tls = sink.of(ObservationKind::kTlsClient);
  ASSERT_EQ(tls.size(), 1U);
  ASSERT_TRUE(tls[0].tls.has_value());
  EXPECT_EQ(tls[0].tls->sni, "localhost");
  EXPECT_EQ(tls[0].tls->ja4.substr(0, 10), "t13d0304h2");
  EXPECT_EQ(tls[0].client.port, 50000);

  const auto h2rec = sink.of(ObservationKind::kHttp2Client);
  ASSERT_EQ(h2rec.size(), 1U);
  ASSERT_TRUE(h2rec[0].http2.has_value());
  EXPECT_EQ(h2rec[0].http2->akamai.rfind("1:65536;3:1000;4:6291456|15663105|", 0), 0U)
      << h2rec[0].http2->akamai;
  EXPECT_EQ(h2rec[0].client.addr, client.addr);

  // The inner replay repeats the SYN; only outer's TCP record is passed on,
  // and nothing about the server side (its half is synthetic).
  EXPECT_EQ(sink.of(ObservationKind::kSyn).size(), 1U);
  for (const auto& o : sink.all) EXPECT_EQ(o.subject, Subject::kClient);
}

TEST_F(VisitorAnalyzerTest, Http1InsideTlsIsFingerprintedOnce) {
  Collect sink;
  VisitorAnalyzer va(*db_, {}, sink);
  const auto client = ep("127.0.0.1", 40010);
  const auto server = ep("127.0.0.1", 8443);
  va.on_saved_syn(client, server, kT0, linux_syn("127.0.0.1", "127.0.0.1", 40010, 8443));
  va.on_client_hello(client, server, kT0 + 1,
                     test::ClientHelloBuilder{}.sni("localhost").alpn({"http/1.1"}).handshake());
  va.on_client_prefix(client, server, kT0 + 2, true, text(kCurlRequest));
  // A second prefix for the same connection is ignored, not fingerprinted again.
  va.on_client_prefix(client, server, kT0 + 3, true, text(kCurlRequest));
  va.on_closed(client, server, kT0 + 4);
  ASSERT_EQ(sink.of(ObservationKind::kTlsClient).size(), 1U);
  const auto reqs = sink.of(ObservationKind::kHttpRequest);
  ASSERT_EQ(reqs.size(), 1U);
  EXPECT_EQ(reqs[0].http.user_agent, "curl/7.88.1");
  EXPECT_EQ(reqs[0].server.port, 8443);
  EXPECT_EQ(sink.of(ObservationKind::kSyn).size(), 1U);
}

TEST_F(VisitorAnalyzerTest, WithoutSavedSynOnlyApplicationRecordsComeOut) {
  Collect sink;
  VisitorAnalyzer va(*db_, {}, sink);
  const auto client = ep("127.0.0.1", 40001);
  const auto server = ep("127.0.0.1", 8080);
  va.on_client_prefix(client, server, kT0, false, text(kCurlRequest));
  va.on_closed(client, server, kT0 + 1);
  EXPECT_TRUE(sink.of(ObservationKind::kSyn).empty());
  EXPECT_TRUE(sink.of(ObservationKind::kMtu).empty());
  ASSERT_EQ(sink.of(ObservationKind::kHttpRequest).size(), 1U);
  for (const auto& o : sink.all) {
    EXPECT_EQ(o.client.port, 40001);
  }
}

TEST_F(VisitorAnalyzerTest, SynOfAnotherConnectionIsRejectedAndCounted) {
  Collect sink;
  VisitorAnalyzer va(*db_, {}, sink);
  const auto client = ep("127.0.0.1", 40002);
  const auto server = ep("127.0.0.1", 8080);
  va.on_saved_syn(client, server, kT0, linux_syn("127.0.0.1", "127.0.0.1", 40003, 8080));
  va.on_saved_syn(client, server, kT0, Bytes{0x45, 0x00});
  EXPECT_TRUE(sink.all.empty());
  EXPECT_EQ(va.counters().get("visitor_bad_syn"), 2U);
}

TEST_F(VisitorAnalyzerTest, ConnectionStatesAreBounded) {
  Collect sink;
  VisitorConfig cfg;
  cfg.max_connections = 4;
  VisitorAnalyzer va(*db_, cfg, sink);
  const auto server = ep("127.0.0.1", 8080);
  for (std::uint16_t p = 41000; p < 41010; ++p) {
    va.on_saved_syn(ep("127.0.0.1", p), server, kT0,
                    linux_syn("127.0.0.1", "127.0.0.1", p, 8080));
  }
  const auto c = va.counters();
  EXPECT_EQ(c.get("visitor_connections"), 10U);
  EXPECT_EQ(c.get("visitor_evicted"), 6U);
}

TEST_F(VisitorAnalyzerTest, HostileBytesNeverCrashAndGiveNoRecords) {
  Collect sink;
  VisitorAnalyzer va(*db_, {}, sink);
  const auto client = ep("127.0.0.1", 40004);
  const auto server = ep("127.0.0.1", 8443);
  Bytes junk(70000);
  for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<std::uint8_t>(i * 131 + 7);
  va.on_client_hello(client, server, kT0, junk);
  va.on_client_prefix(client, server, kT0, true, junk);
  va.on_client_hello(client, server, kT0, {});
  va.on_closed(client, server, kT0);
  EXPECT_TRUE(sink.of(ObservationKind::kTlsClient).empty());
  EXPECT_TRUE(sink.of(ObservationKind::kHttp2Client).empty());
}

}  // namespace
}  // namespace huginn::analyzer
