#include "huginn/analyzer/analyzer.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <variant>
#include <vector>

#include "segment_builder.hpp"
#include "huginn/db/p0f_db_parser.hpp"

namespace huginn::analyzer {
namespace {

using test::ipv4;
using test::SegmentBuilder;
namespace fl = packet::tcp_flags;

// Synthetic signatures (not from p0f.fp).
constexpr const char* kDb = R"(
classes = win,unix,other

[mtu]
  label = TestLink
  sig = 1498

[tcp:request]
  label = s:unix:Alpha:1.x
  sig = 4:64:0:*:mss*20,7:mss,sok,ts,nop,ws:df,id+:0

  label = s:win:Beta:
  sig = 4:128:0:*:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0

  label = s:!:Probe:
  sys = @win
  sig = 4:64:0:1024:1024,0:mss:df,id+:0

[tcp:response]
  label = s:unix:Alpha:1.x
  sig = 4:64:0:*:mss*10,7:mss,sok,ts,nop,ws:df:0
)";

class CollectingSink : public ObservationSink {
 public:
  void on_observation(const Observation& obs) override { all.push_back(obs); }
  std::vector<Observation> of(ObservationKind k) const {
    std::vector<Observation> out;
    for (const auto& o : all)
      if (o.kind == k) out.push_back(o);
    return out;
  }
  std::vector<Observation> all;
};

constexpr std::int64_t kT0 = 1700000000LL * 1000000;  // capture clock origin
constexpr std::int64_t kSec = 1000000;

class AnalyzerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = db::parse_p0f_db(kDb, "synthetic.fp");
    if (auto* err = std::get_if<db::DbError>(&r)) FAIL() << err->to_string();
    db_ = std::make_unique<db::P0fDb>(std::move(std::get<db::P0fDb>(r)));
    make({});
  }
  void make(AnalyzerConfig cfg) {
    sink_ = CollectingSink{};
    analyzer_ = std::make_unique<Analyzer>(*db_, cfg, sink_);
  }
  // Client 10.0.0.<c>:<port> -> server 10.0.0.200:80.
  static SegmentBuilder client_syn(std::uint8_t c, std::uint16_t port, std::int64_t t,
                                   std::uint32_t tsval = 500000) {
    SegmentBuilder b;
    b.src(ipv4(10, 0, 0, c), port).dst(ipv4(10, 0, 0, 200), 80).ts_us(t).seq(1000);
    b.win(1460 * 20).linux_syn_options(1460, tsval);
    return b;
  }
  static SegmentBuilder server_synack(std::uint8_t c, std::uint16_t port, std::int64_t t,
                                      std::uint32_t tsval = 900000) {
    SegmentBuilder b;
    b.src(ipv4(10, 0, 0, 200), 80).dst(ipv4(10, 0, 0, c), port).ts_us(t).syn_ack();
    b.seq(5000).ack(1001).ip_id(0).win(1460 * 10).linux_syn_options(1460, tsval);
    return b;
  }
  static SegmentBuilder client_ack(std::uint8_t c, std::uint16_t port, std::int64_t t,
                                   std::uint32_t seq, std::uint32_t tsval) {
    SegmentBuilder b;
    b.src(ipv4(10, 0, 0, c), port).dst(ipv4(10, 0, 0, 200), 80).ts_us(t);
    b.flags(fl::kAck).seq(seq).ack(5001).nop().nop().ts(tsval, 900000);
    return b;
  }
  void feed(const SegmentBuilder& b) { analyzer_->on_packet(b.build()); }

  std::unique_ptr<db::P0fDb> db_;
  CollectingSink sink_;
  std::unique_ptr<Analyzer> analyzer_;
};

TEST_F(AnalyzerTest, SynThenSynAckGiveSignatureAndMtuRecords) {
  feed(client_syn(1, 40000, kT0));
  feed(server_synack(1, 40000, kT0 + 1000));
  ASSERT_EQ(sink_.all.size(), 4u);
  const Observation& syn = sink_.all[0];
  EXPECT_EQ(syn.kind, ObservationKind::kSyn);
  EXPECT_EQ(syn.subject, Subject::kClient);
  EXPECT_EQ(syn.client.port, 40000);
  EXPECT_EQ(syn.server.port, 80);
  ASSERT_TRUE(syn.match.has_value());
  EXPECT_EQ(syn.match->label, "Alpha 1.x");
  EXPECT_FALSE(syn.match->is_app);
  EXPECT_EQ(syn.params, "none");
  EXPECT_EQ(syn.signature, "4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0");
  EXPECT_EQ(sink_.all[1].kind, ObservationKind::kMtu);
  EXPECT_EQ(sink_.all[1].mtu, 1500u);
  EXPECT_FALSE(sink_.all[1].link.has_value());  // not in [mtu]
  const Observation& sa = sink_.all[2];
  EXPECT_EQ(sa.kind, ObservationKind::kSynAck);
  EXPECT_EQ(sa.subject, Subject::kServer);
  EXPECT_EQ(sa.client.port, 40000);  // client/server keep the connection's roles
  ASSERT_TRUE(sa.match.has_value());
  EXPECT_EQ(sa.match->label, "Alpha 1.x");
  EXPECT_EQ(sink_.all[3].kind, ObservationKind::kMtu);
  EXPECT_EQ(sink_.all[3].subject, Subject::kServer);
  EXPECT_EQ(analyzer_->flow_count(), 1u);
  EXPECT_EQ(analyzer_->host_count(), 2u);
}

TEST_F(AnalyzerTest, MtuLinkFromDatabase) {
  SegmentBuilder b;
  b.src(ipv4(10, 0, 0, 9), 1234).dst(ipv4(10, 0, 0, 200), 80).mss(1458).ts_us(kT0);
  feed(b);
  const auto mtu = sink_.of(ObservationKind::kMtu);
  ASSERT_EQ(mtu.size(), 1u);
  EXPECT_EQ(mtu[0].mtu, 1498u);
  EXPECT_EQ(mtu[0].link, "TestLink");
}

TEST_F(AnalyzerTest, RetransmittedSynIgnoredNewIsnReplacesFlow) {
  feed(client_syn(1, 40000, kT0));
  feed(client_syn(1, 40000, kT0 + kSec));
  EXPECT_EQ(sink_.of(ObservationKind::kSyn).size(), 1u);
  auto other = client_syn(1, 40000, kT0 + 2 * kSec);
  other.seq(777777);
  feed(other);
  EXPECT_EQ(sink_.of(ObservationKind::kSyn).size(), 2u);
  EXPECT_EQ(analyzer_->flow_count(), 1u);
}

TEST_F(AnalyzerTest, SynAckNeedsSynAndOnlyFirstCounts) {
  feed(server_synack(1, 40000, kT0));
  EXPECT_TRUE(sink_.all.empty());
  feed(client_syn(1, 40000, kT0));
  feed(server_synack(1, 40000, kT0 + 10));
  feed(server_synack(1, 40000, kT0 + 20));
  EXPECT_EQ(sink_.of(ObservationKind::kSynAck).size(), 1u);
}

TEST_F(AnalyzerTest, SillyFlagsAreDropped) {
  auto b = client_syn(1, 40000, kT0);
  b.flags(fl::kSyn | fl::kFin);
  feed(b);
  EXPECT_TRUE(sink_.all.empty());
  EXPECT_EQ(analyzer_->counters().get("silly_flags"), 1u);
}

TEST_F(AnalyzerTest, UnknownSignatureGuessesDistanceAndSkipsMtuWithoutMss) {
  SegmentBuilder b;
  b.src(ipv4(10, 0, 0, 9), 1234).dst(ipv4(10, 0, 0, 200), 80).ttl(50).win(100).ts_us(kT0);
  feed(b);
  ASSERT_EQ(sink_.all.size(), 1u);
  EXPECT_FALSE(sink_.all[0].match.has_value());
  EXPECT_EQ(sink_.all[0].dist, 14);
  EXPECT_EQ(sink_.all[0].signature, "4:50+14:0:0:100,0::df,id+:0");
}

TEST_F(AnalyzerTest, UserlandToolIsAppAndDropsFlow) {
  SegmentBuilder b;
  b.src(ipv4(10, 0, 0, 7), 1234).dst(ipv4(10, 0, 0, 200), 80).win(1024).mss(1024).ts_us(kT0);
  feed(b);
  ASSERT_EQ(sink_.all.size(), 1u);  // no mtu record: the flow is gone
  ASSERT_TRUE(sink_.all[0].match.has_value());
  EXPECT_TRUE(sink_.all[0].match->is_app);
  EXPECT_EQ(sink_.all[0].match->label, "Probe");
  EXPECT_EQ(analyzer_->flow_count(), 0u);
}

TEST_F(AnalyzerTest, UserlandToolOnWrongOsIsHostChange) {
  // Host 10.0.0.7 first shows as a unix OS, then runs a win-only tool.
  feed(client_syn(7, 40000, kT0));
  SegmentBuilder b;
  b.src(ipv4(10, 0, 0, 7), 1234).dst(ipv4(10, 0, 0, 200), 80).win(1024).mss(1024).ts_us(kT0 + kSec);
  feed(b);
  const auto changes = sink_.of(ObservationKind::kHostChange);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].reasons, kNatAppSig);
  EXPECT_EQ(format_nat_reasons(changes[0].reasons), "app_vs_os");
}

TEST_F(AnalyzerTest, OsChangeOnSameAddressIsHostChange) {
  feed(client_syn(5, 40000, kT0));
  SegmentBuilder win;
  win.src(ipv4(10, 0, 0, 5), 40100).dst(ipv4(10, 0, 0, 200), 80).ttl(128).win(8192);
  win.mss(1460).nop().ws(8).nop().nop().sok().ts_us(kT0 + kSec);
  feed(win);
  const auto changes = sink_.of(ObservationKind::kHostChange);
  ASSERT_EQ(changes.size(), 1u);
  // A different OS already explains the TTL change, so TTL is not scored.
  EXPECT_EQ(format_nat_reasons(changes[0].reasons), "os_diff");
  EXPECT_EQ(changes[0].raw_hits, (std::array<std::uint8_t, 4>{1, 1, 1, 1}));
}

TEST_F(AnalyzerTest, SendsynProbeAndResponse) {
  SegmentBuilder probe;
  probe.src(ipv4(10, 0, 0, 3), 5555).dst(ipv4(10, 0, 0, 200), 80).win(1337).mss(1331).ts_us(kT0);
  feed(probe);
  SegmentBuilder resp;
  resp.src(ipv4(10, 0, 0, 200), 80).dst(ipv4(10, 0, 0, 3), 5555).syn_ack().ack(1001).ip_id(0);
  resp.win(1460 * 10).linux_syn_options(1460, 1).ts_us(kT0 + 100);
  feed(resp);
  ASSERT_EQ(sink_.all.size(), 2u);  // no mtu, uptime or NAT records for probes
  EXPECT_EQ(sink_.all[0].kind, ObservationKind::kSendsynProbe);
  EXPECT_EQ(sink_.all[1].kind, ObservationKind::kSendsynResponse);
  ASSERT_TRUE(sink_.all[1].match.has_value());
  EXPECT_TRUE(sink_.all[1].match->is_app);
  EXPECT_EQ(analyzer_->flow_count(), 0u);
}

TEST_F(AnalyzerTest, UptimeFromSecondSynOfSameHost) {
  // 1000 Hz clock: +2000 ticks in 2 s.
  feed(client_syn(1, 40000, kT0, 3600000));
  feed(client_syn(1, 40001, kT0 + 2 * kSec, 3602000));
  const auto up = sink_.of(ObservationKind::kUptime);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].subject, Subject::kClient);
  EXPECT_EQ(up[0].freq_hz, 1000u);
  EXPECT_DOUBLE_EQ(up[0].raw_freq_hz, 1000.0);
  EXPECT_EQ(up[0].uptime_min, 60u);
  EXPECT_EQ(up[0].modulo_days, 49u);
}

TEST_F(AnalyzerTest, UptimeFromDataSegmentOncePerDirection) {
  feed(client_syn(1, 40000, kT0, 100000));
  feed(server_synack(1, 40000, kT0 + 1000));
  feed(client_ack(1, 40000, kT0 + kSec, 1001, 100100));  // 100 ticks/s
  feed(client_ack(1, 40000, kT0 + 2 * kSec, 1001, 100200));
  const auto up = sink_.of(ObservationKind::kUptime);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].freq_hz, 100u);
}

TEST_F(AnalyzerTest, NonHttpPayloadEndsFlow) {
  feed(client_syn(1, 40000, kT0));
  feed(server_synack(1, 40000, kT0 + 1000));
  auto data = client_ack(1, 40000, kT0 + 2000, 1001, 500001);
  data.payload("\x16\x03\x01 not http at all");
  feed(data);
  EXPECT_EQ(analyzer_->flow_count(), 0u);
}

TEST_F(AnalyzerTest, HttpRequestKeepsFlowUntilResponseHeaders) {
  feed(client_syn(1, 40000, kT0));
  feed(server_synack(1, 40000, kT0 + 1000));
  auto req = client_ack(1, 40000, kT0 + 2000, 1001, 500001);
  req.payload("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  feed(req);
  EXPECT_EQ(analyzer_->flow_count(), 1u);
  SegmentBuilder resp;
  resp.src(ipv4(10, 0, 0, 200), 80).dst(ipv4(10, 0, 0, 1), 40000).flags(fl::kAck).seq(5001);
  resp.ts_us(kT0 + 3000).payload("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n");
  feed(resp);
  EXPECT_EQ(analyzer_->flow_count(), 0u);
}

TEST_F(AnalyzerTest, FinDestroysFlow) {
  feed(client_syn(1, 40000, kT0));
  auto fin = client_ack(1, 40000, kT0 + 10, 1001, 1);
  fin.flags(fl::kFin | fl::kAck);
  feed(fin);
  EXPECT_EQ(analyzer_->flow_count(), 0u);
}

TEST_F(AnalyzerTest, FlowsExpireByCaptureClock) {
  make({.flow_max_age_s = 30});
  feed(client_syn(1, 40000, kT0));
  // Expiry runs every 50 packets; feed unrelated silly packets 31 s later.
  for (int i = 0; i < 60; ++i) {
    auto b = client_syn(2, 1, kT0 + 31 * kSec);
    b.flags(0);
    feed(b);
  }
  EXPECT_EQ(analyzer_->flow_count(), 0u);
  EXPECT_EQ(analyzer_->counters().get("flows_expired"), 1u);
  feed(server_synack(1, 40000, kT0 + 32 * kSec));
  EXPECT_TRUE(sink_.of(ObservationKind::kSynAck).empty());
}

TEST_F(AnalyzerTest, FlowTableIsCapped) {
  make({.max_flows = 4});
  for (std::uint16_t p = 0; p < 40; ++p) feed(client_syn(1, static_cast<std::uint16_t>(1000 + p), kT0));
  EXPECT_LE(analyzer_->flow_count(), 5u);
  EXPECT_GT(analyzer_->counters().get("flows_evicted"), 0u);
}

// p0f 3.09b bug: nuke_hosts() drops 10% of the live flows, then walks from
// the oldest host towards *older* ones, so it frees at most one host; the
// table stays full and every new host drops live flows again. We evict idle
// hosts, oldest first, and keep live connections.
TEST_F(AnalyzerTest, HostPruningEvictsIdleHostsNotLiveFlows_P0fWrongWayPruningBug) {
  make({.max_flows = 100, .max_hosts = 20});
  // One live connection whose SYN+ACK comes after the host table overflows.
  feed(client_syn(250, 40000, kT0));
  // Many short-lived clients: each SYN then RST, leaving idle hosts behind.
  for (std::uint8_t c = 1; c <= 60; ++c) {
    feed(client_syn(c, 2000, kT0 + c));
    auto rst = client_ack(c, 2000, kT0 + c + 1, 1001, 1);
    rst.flags(fl::kRst);
    feed(rst);
  }
  EXPECT_LE(analyzer_->host_count(), 21u);
  EXPECT_GT(analyzer_->counters().get("hosts_evicted"), 0u);
  EXPECT_EQ(analyzer_->flow_count(), 1u);
  feed(server_synack(250, 40000, kT0 + 100));
  const auto sa = sink_.of(ObservationKind::kSynAck);
  ASSERT_EQ(sa.size(), 1u);
  EXPECT_EQ(sa[0].client.addr, ipv4(10, 0, 0, 250));
}

TEST_F(AnalyzerTest, HostsIdleExpire) {
  make({.host_idle_s = 60});
  feed(client_syn(1, 40000, kT0));
  auto rst = client_ack(1, 40000, kT0 + 1, 1001, 1);
  rst.flags(fl::kRst);
  feed(rst);
  EXPECT_EQ(analyzer_->host_count(), 2u);
  for (int i = 0; i < 60; ++i) {
    auto b = client_syn(2, 1, kT0 + 120 * kSec);
    b.flags(0);
    feed(b);
  }
  EXPECT_EQ(analyzer_->host_count(), 0u);
}

TEST(NatReasons, P0fWordOrder) {
  EXPECT_EQ(format_nat_reasons(kNatMss | kNatTtl | kNatAppSig | kNatPort | kNatTs),
            "app_vs_os tstamp ttl port mtu");
  EXPECT_EQ(format_nat_reasons(0), "");
}

}  // namespace
}  // namespace huginn::analyzer
