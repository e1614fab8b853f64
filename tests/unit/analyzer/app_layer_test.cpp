// AppLayer: TLS ClientHello and HTTP/2 client records from TCP segments
// (reassembly order, retransmissions, HelloRetryRequest, h2 prior knowledge
// and Upgrade, prefix cap, flow-table eviction), and the Analyzer hook.
#include "huginn/analyzer/app_layer.hpp"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "client_hello_builder.hpp"
#include "h2_frame_builder.hpp"
#include "huginn/analyzer/analyzer.hpp"
#include "huginn/db/p0f_db_parser.hpp"
#include "huginn/packet/decode.hpp"
#include "real_db.hpp"
#include "segment_builder.hpp"
#include "test_paths.hpp"

namespace huginn::analyzer {
namespace {

namespace fl = packet::tcp_flags;
namespace h2t = fingerprint::http2::test;
using Bytes = std::vector<std::uint8_t>;
using fingerprint::http2::Setting;
using test::ClientHelloBuilder;
using test::ipv4;
using test::SegmentBuilder;

constexpr std::int64_t kT0 = 1700000000LL * 1000000;

class CollectingSink : public ObservationSink {
 public:
  void on_observation(const Observation& obs) override { all.push_back(obs); }
  [[nodiscard]] std::vector<Observation> of(ObservationKind k) const {
    std::vector<Observation> out;
    for (const auto& o : all)
      if (o.kind == k) out.push_back(o);
    return out;
  }
  std::vector<Observation> all;
};

// One TCP connection between a client and a server, segment by segment.
class Conn {
 public:
  Conn(std::uint16_t client_port, std::uint16_t server_port, std::uint32_t cli_isn = 1000,
       std::uint32_t srv_isn = 50000)
      : cport_(client_port), sport_(server_port), cisn_(cli_isn), sisn_(srv_isn) {}

  packet::DecodedPacket syn() { return build(true, fl::kSyn, cisn_, {}); }
  packet::DecodedPacket syn_ack() { return build(false, fl::kSyn | fl::kAck, sisn_, {}); }
  // Client data at stream offset `off` (0 = first byte after the SYN).
  packet::DecodedPacket client(std::size_t off, std::span<const std::uint8_t> data) {
    return build(true, fl::kAck | fl::kPsh, cisn_ + 1 + static_cast<std::uint32_t>(off), data);
  }
  packet::DecodedPacket server(std::size_t off, std::span<const std::uint8_t> data) {
    return build(false, fl::kAck | fl::kPsh, sisn_ + 1 + static_cast<std::uint32_t>(off), data);
  }
  packet::DecodedPacket fin(bool from_client, std::size_t off) {
    return build(from_client, fl::kFin | fl::kAck,
                 (from_client ? cisn_ : sisn_) + 1 + static_cast<std::uint32_t>(off), {});
  }

 private:
  packet::DecodedPacket build(bool from_client, std::uint8_t flags, std::uint32_t seq,
                              std::span<const std::uint8_t> data) {
    auto& b = builders_.emplace_back(std::make_unique<SegmentBuilder>());
    if (from_client) {
      b->src(ipv4(10, 0, 0, 1), cport_).dst(ipv4(10, 0, 0, 2), sport_);
    } else {
      b->src(ipv4(10, 0, 0, 2), sport_).dst(ipv4(10, 0, 0, 1), cport_);
    }
    b->flags(flags).seq(seq).ts_us(kT0 + static_cast<std::int64_t>(builders_.size()) * 1000);
    b->payload(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
    return b->build();
  }

  std::uint16_t cport_;
  std::uint16_t sport_;
  std::uint32_t cisn_;
  std::uint32_t sisn_;
  std::vector<std::unique_ptr<SegmentBuilder>> builders_;
};

Bytes chrome_like_hello(std::string_view sni = "example.com") {
  return ClientHelloBuilder{}
      .ciphers({0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b})
      .sni(sni)
      .alpn({"h2", "http/1.1"})
      .supported_groups({0x1a1a, 0x001d, 0x0017})
      .supported_versions({0x2a2a, 0x0304, 0x0303})
      .signature_algorithms({0x0403, 0x0804})
      .build();
}

std::span<const std::uint8_t> part(const Bytes& b, std::size_t from, std::size_t to) {
  return std::span<const std::uint8_t>(b).subspan(from, to - from);
}

class AppLayerTest : public ::testing::Test {
 protected:
  void make(AppLayerConfig cfg = {}) { app_ = std::make_unique<AppLayer>(cfg, sink_); }
  void SetUp() override { make(); }
  void feed(const packet::DecodedPacket& p) { app_->on_packet(p); }
  [[nodiscard]] std::uint64_t counter(std::string_view name) const {
    return app_->counters().get(name);
  }

  CollectingSink sink_;
  std::unique_ptr<AppLayer> app_;
};

TEST_F(AppLayerTest, ClientHelloInOneSegment) {
  Conn c(40001, 443);
  const Bytes hello = chrome_like_hello();
  feed(c.syn());
  feed(c.syn_ack());
  feed(c.client(0, hello));
  const auto tls = sink_.of(ObservationKind::kTlsClient);
  ASSERT_EQ(tls.size(), 1u);
  const auto& o = tls[0];
  EXPECT_EQ(o.client.port, 40001);
  EXPECT_EQ(o.server.port, 443);
  EXPECT_EQ(o.client.addr, ipv4(10, 0, 0, 1));
  EXPECT_EQ(o.subject, Subject::kClient);
  EXPECT_EQ(o.tls->ja4.substr(0, 10), "t13d0405h2");  // 4 ciphers, 5 extensions, no GREASE counted
  EXPECT_EQ(o.tls->sni, "example.com");
  EXPECT_EQ(o.tls->alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(o.tls->cipher_suites.front(), 0x0a0a);  // wire list keeps GREASE
  EXPECT_EQ(o.tls->supported_versions, (std::vector<std::uint16_t>{0x2a2a, 0x0304, 0x0303}));
  EXPECT_EQ(o.tls->signature_algorithms, (std::vector<std::uint16_t>{0x0403, 0x0804}));
  EXPECT_EQ(o.tls->hello_index, 1);
  EXPECT_EQ(o.tls->legacy_version, 0x0303);
  EXPECT_FALSE(o.tls->resumption);
  EXPECT_EQ(o.tls->ja4_stable, o.tls->ja4);  // no padding / PSK / early_data here
  EXPECT_EQ(counter("tls_client_hellos"), 1u);
}

TEST_F(AppLayerTest, HelloSplitOverThreeSegmentsOutOfOrder) {
  Conn c(40002, 443);
  const Bytes hello = ClientHelloBuilder{}.sni("split.example").alpn({"h2"}).record_sizes({60}).build();
  ASSERT_GT(hello.size(), 100u);
  const std::size_t a = 40, b = 90;
  feed(c.syn());
  feed(c.syn_ack());
  feed(c.client(b, part(hello, b, hello.size())));  // last third first
  feed(c.client(a, part(hello, a, b)));
  EXPECT_TRUE(sink_.all.empty()) << "no record before the first bytes arrive";
  feed(c.client(0, part(hello, 0, a)));
  const auto tls = sink_.of(ObservationKind::kTlsClient);
  ASSERT_EQ(tls.size(), 1u);
  EXPECT_EQ(tls[0].tls->sni, "split.example");
  EXPECT_GE(counter("stream_out_of_order_held"), 2u);
}

TEST_F(AppLayerTest, RetransmittedSegmentGivesOneRecord) {
  Conn c(40003, 443);
  const Bytes hello = chrome_like_hello();
  const std::size_t half = hello.size() / 2;
  feed(c.syn());
  feed(c.client(0, part(hello, 0, half)));
  feed(c.client(0, part(hello, 0, half)));  // retransmission
  feed(c.client(half, part(hello, half, hello.size())));
  feed(c.client(half, part(hello, half, hello.size())));  // retransmission after completion
  feed(c.client(0, hello));                               // whole thing again
  EXPECT_EQ(sink_.of(ObservationKind::kTlsClient).size(), 1u);
  EXPECT_GT(counter("stream_bytes_duplicate"), 0u);
}

TEST_F(AppLayerTest, SecondClientHelloAfterHelloRetryRequest) {
  Conn c(40004, 443);
  const Bytes first = ClientHelloBuilder{}.sni("hrr.example").supported_groups({0x001d}).build();
  const Bytes second =
      ClientHelloBuilder{}.sni("hrr.example").supported_groups({0x001d, 0x0017}).build();
  // RFC 8446 Appendix D.4: a compatibility-mode client may send a
  // ChangeCipherSpec before its second ClientHello.
  const Bytes ccs = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};
  const Bytes app_data = {0x17, 0x03, 0x03, 0x00, 0x02, 0xaa, 0xbb};
  feed(c.syn());
  feed(c.syn_ack());
  feed(c.client(0, first));
  feed(c.server(0, Bytes{0x16, 0x03, 0x03, 0x00, 0x00}));  // stands in for the HRR
  feed(c.client(first.size(), ccs));
  feed(c.client(first.size() + ccs.size(), second));
  // The client's next flight: not a ClientHello, and not an anomaly.
  feed(c.client(first.size() + ccs.size() + second.size(), app_data));
  const auto tls = sink_.of(ObservationKind::kTlsClient);
  ASSERT_EQ(tls.size(), 2u);
  EXPECT_EQ(tls[0].tls->hello_index, 1);
  EXPECT_EQ(tls[1].tls->hello_index, 2);
  EXPECT_EQ(tls[0].tls->supported_groups, (std::vector<std::uint16_t>{0x001d}));
  EXPECT_EQ(tls[1].tls->supported_groups, (std::vector<std::uint16_t>{0x001d, 0x0017}));
  EXPECT_EQ(counter("tls_not_handshake"), 0u);
  EXPECT_EQ(counter("tls_interleaved_record"), 0u);
}

TEST_F(AppLayerTest, NextFlightAfterTheHelloIsNotAnAnomaly) {
  // TLS 1.3 early data (a large 0x17 record cut by the capture) and a TLS
  // 1.2 ClientKeyExchange (handshake type 16) after the hello.
  const Bytes hello = chrome_like_hello();
  const Bytes early = {0x17, 0x03, 0x03, 0x10, 0x00, 0x01, 0x02};
  const Bytes cke = {0x16, 0x03, 0x03, 0x00, 0x46, 0x10, 0x00};
  for (const Bytes* next : {&early, &cke}) {
    Conn c(next == &early ? 40030 : 40031, 443);
    feed(c.syn());
    feed(c.client(0, hello));
    feed(c.client(hello.size(), *next));
    feed(c.fin(true, hello.size() + next->size()));
    feed(c.fin(false, 0));
  }
  app_->finish();
  EXPECT_EQ(sink_.of(ObservationKind::kTlsClient).size(), 2u);
  const util::Counters counters = app_->counters();
  for (const auto& [name, n] : counters.all()) {
    if (name.rfind("tls_", 0) == 0 && name != "tls_client_hellos") ADD_FAILURE() << name << "=" << n;
  }
}

TEST_F(AppLayerTest, TwoHellosInOneSegment) {
  Conn c(40005, 443);
  Bytes both = ClientHelloBuilder{}.sni("a.example").build();
  const Bytes second = ClientHelloBuilder{}.sni("b.example").build();
  both.insert(both.end(), second.begin(), second.end());
  feed(c.syn());
  feed(c.client(0, both));
  const auto tls = sink_.of(ObservationKind::kTlsClient);
  ASSERT_EQ(tls.size(), 2u);
  EXPECT_EQ(tls[1].tls->sni, "b.example");
}

TEST_F(AppLayerTest, MalformedHelloCountsItsReason) {
  Conn c(40006, 443);
  Bytes bad = chrome_like_hello();
  bad[3] = 0x40;  // record length 16 KiB + : over RFC 8446 §5.1's limit
  feed(c.syn());
  feed(c.client(0, bad));
  EXPECT_TRUE(sink_.of(ObservationKind::kTlsClient).empty());
  EXPECT_EQ(counter("tls_record_too_large"), 1u);
}

TEST_F(AppLayerTest, HelloBeyondPrefixCapIsCountedNotEmitted) {
  AppLayerConfig cfg;
  cfg.client_prefix_bytes = 512;
  make(cfg);
  Conn c(40007, 443);
  // One 1200-byte padding extension: a valid hello larger than the prefix.
  const Bytes hello = ClientHelloBuilder{}.sni("big.example").extension(0x0015, Bytes(1200, 0)).build();
  ASSERT_GT(hello.size(), 512u);
  feed(c.syn());
  for (std::size_t off = 0; off < hello.size(); off += 300) {
    feed(c.client(off, part(hello, off, std::min(hello.size(), off + 300))));
  }
  EXPECT_TRUE(sink_.of(ObservationKind::kTlsClient).empty());
  EXPECT_EQ(counter("tls_hello_beyond_prefix"), 1u);
  EXPECT_GT(counter("stream_bytes_beyond_prefix"), 0u);
}

TEST_F(AppLayerTest, DefaultPrefixHoldsAHelloLargerThanEightKiB) {
  Conn c(40008, 443);
  const Bytes hello = ClientHelloBuilder{}
                          .sni("pq.example")
                          .extension(0x0015, Bytes(9000, 0))
                          .record_sizes({4000, 4000})
                          .build();
  ASSERT_GT(hello.size(), 9000u);
  feed(c.syn());
  for (std::size_t off = 0; off < hello.size(); off += 1400) {
    feed(c.client(off, part(hello, off, std::min(hello.size(), off + 1400))));
  }
  const auto tls = sink_.of(ObservationKind::kTlsClient);
  ASSERT_EQ(tls.size(), 1u);
  EXPECT_NE(tls[0].tls->ja4, tls[0].tls->ja4_stable);  // padding left out of the stable form
}

TEST_F(AppLayerTest, EvictionDuringHandshakeLosesOnlyThatFlow) {
  AppLayerConfig cfg;
  cfg.max_flows = 1;
  make(cfg);
  Conn a(40010, 443);
  Conn b(40011, 443);
  const Bytes hello_a = chrome_like_hello("a.example");
  const Bytes hello_b = chrome_like_hello("b.example");
  const std::size_t half = hello_a.size() / 2;
  feed(a.syn());
  feed(a.client(0, part(hello_a, 0, half)));
  feed(b.syn());  // table full: a (open, least recent) is evicted mid-hello
  EXPECT_EQ(counter("flow_evicted_cap"), 1u);
  EXPECT_EQ(counter("tls_hello_incomplete"), 1u);
  // a's rest is picked up mid-stream: it does not start a record, so no
  // record (and no bogus one) for a.
  feed(a.client(half, part(hello_a, half, hello_a.size())));
  feed(b.client(0, hello_b));
  const auto tls = sink_.of(ObservationKind::kTlsClient);
  ASSERT_EQ(tls.size(), 1u);
  EXPECT_EQ(tls[0].tls->sni, "b.example");
  EXPECT_EQ(tls[0].client.port, 40011);
  EXPECT_LE(app_->flow_count(), 1u);
}

TEST_F(AppLayerTest, MidstreamFlowStartingWithAHelloIsFingerprinted) {
  Conn c(40012, 443);
  feed(c.client(0, chrome_like_hello()));  // no SYN captured
  const auto tls = sink_.of(ObservationKind::kTlsClient);
  ASSERT_EQ(tls.size(), 1u);
  EXPECT_EQ(tls[0].client.port, 40012);  // ephemeral port rule
  EXPECT_EQ(counter("flow_created_midstream"), 1u);
}

// on_unrouted_packet() is `tracks(pkt) || may_start(first byte)` then
// on_packet(), in one lookup: what it ignores moves no counter at all.
TEST_F(AppLayerTest, UnroutedSegmentsAreFedOnlyIfTrackedOrStartable) {
  Conn tls(40020, 443);
  const Bytes hello = chrome_like_hello();
  const Bytes app_data = {0x17, 0x03, 0x03, 0x00, 0x01, 0x00};
  // Untracked and not startable (server TLS records, a bare ACK): ignored.
  app_->on_unrouted_packet(tls.server(0, app_data));
  app_->on_unrouted_packet(tls.fin(true, 0));
  EXPECT_EQ(app_->flow_count(), 0u);
  EXPECT_TRUE(app_->counters().all().empty());
  // A segment that may start a parsed stream creates the flow.
  app_->on_unrouted_packet(tls.client(0, hello));
  EXPECT_EQ(app_->flow_count(), 1u);
  ASSERT_EQ(sink_.of(ObservationKind::kTlsClient).size(), 1u);
  EXPECT_EQ(counter("flow_created_midstream"), 1u);
  // Tracked: fed although its first byte could start nothing.
  const auto untracked_before = counter("flow_untracked_segment");
  app_->on_unrouted_packet(tls.server(0, app_data));
  EXPECT_EQ(counter("stream_bytes_ignored"), app_data.size());
  app_->on_unrouted_packet(tls.fin(true, hello.size()));
  app_->on_unrouted_packet(tls.fin(false, app_data.size()));
  EXPECT_EQ(counter("flow_untracked_segment"), untracked_before);
  EXPECT_TRUE(app_->tracks(tls.fin(true, hello.size())));
  EXPECT_EQ(sink_.all.size(), 1u);
  // The same segments through tracks() + on_packet() count the same.
  CollectingSink other_sink;
  AppLayer other(AppLayerConfig{}, other_sink);
  Conn same(40020, 443);
  for (const auto& p : {same.server(0, app_data), same.fin(true, 0), same.client(0, hello),
                        same.server(0, app_data), same.fin(true, hello.size()),
                        same.fin(false, app_data.size())}) {
    if (other.tracks(p) || (!p.payload.empty() && AppLayer::may_start(p.payload.front()))) {
      other.on_packet(p);
    }
  }
  EXPECT_EQ(other.counters().all(), app_->counters().all());
  EXPECT_EQ(other_sink.all.size(), sink_.all.size());
}

TEST_F(AppLayerTest, OtherProtocolsStopAtTheFirstClientByte) {
  Conn ssh(40013, 22);
  const std::string banner = "SSH-2.0-OpenSSH_9.2\r\n";
  const Bytes b(banner.begin(), banner.end());
  feed(ssh.syn());
  feed(ssh.client(0, b));
  feed(ssh.client(b.size(), b));  // later bytes are not copied
  EXPECT_TRUE(sink_.all.empty());
  // 'S' could start an HTTP method: decided once the line is not HTTP.
  EXPECT_EQ(counter("app_other_protocol"), 1u);
  EXPECT_EQ(counter("h2_bad_preface"), 0u) << "only a stream that began with \"PRI \"";
  Conn bin(40014, 5000);
  feed(bin.syn());
  feed(bin.client(0, Bytes{0x00, 0x01, 0x02}));
  feed(bin.client(3, Bytes{0x16, 0x03, 0x01}));
  EXPECT_EQ(counter("app_other_protocol"), 2u);
  EXPECT_GT(counter("stream_bytes_ignored"), 0u);
  EXPECT_TRUE(sink_.all.empty());
}

TEST_F(AppLayerTest, Http2PriorKnowledgeClient) {
  Conn c(40020, 80);
  const auto block = h2t::hpack(h2t::chrome_like_request());
  fingerprint::http2::PrioritySpec prio;
  prio.exclusive = true;
  prio.dependency = 0;
  prio.weight = 256;
  h2t::StreamBuilder::HeadersOptions opts;
  opts.priority = prio;
  const Bytes stream = h2t::StreamBuilder{}
                           .preface()
                           .settings({{1, 65536}, {2, 0}, {4, 6291456}, {6, 262144}})
                           .window_update(0, 15663105)
                           .headers(1, block, opts)
                           .bytes();
  feed(c.syn());
  feed(c.syn_ack());
  feed(c.client(0, part(stream, 0, 30)));
  EXPECT_TRUE(sink_.all.empty());
  feed(c.client(30, part(stream, 30, stream.size())));
  const auto h2 = sink_.of(ObservationKind::kHttp2Client);
  ASSERT_EQ(h2.size(), 1u);
  const auto& d = *h2[0].http2;
  EXPECT_EQ(d.akamai, "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p");
  EXPECT_TRUE(d.complete);
  EXPECT_FALSE(d.upgrade);
  ASSERT_EQ(d.settings.size(), 4u);
  EXPECT_EQ(d.settings[3], (std::pair<std::uint16_t, std::uint32_t>{6, 262144}));
  EXPECT_EQ(d.window_update, 15663105u);
  EXPECT_TRUE(d.priority.empty());
  ASSERT_TRUE(d.headers_priority.has_value());
  EXPECT_EQ(d.headers_priority->weight, 256);
  EXPECT_EQ(d.method, "GET");
  EXPECT_EQ(d.path, "/index.html");
  EXPECT_EQ(d.authority, "example.test");
  EXPECT_EQ(d.user_agent, "Mozilla/5.0 (X11; Linux x86_64) Test/1.0");
  EXPECT_EQ(d.header_names.front(), ":method");
  EXPECT_EQ(d.header_names.size(), 6u);
  EXPECT_EQ(counter("h2_clients"), 1u);
}

// curl --http2-prior-knowledge's first request (curl 8 field order).
h2t::Fields curl_like_request() {
  return {{":method", "GET"},
          {":path", "/"},
          {":scheme", "http"},
          {":authority", "example.test"},
          {"user-agent", "curl/8.5.0"},
          {"accept", "*/*"}};
}

// A Chromium navigation: pseudo-headers m,a,s,p, client hints, and the
// cookie split into crumbs (RFC 9113 §8.2.3).
h2t::Fields chromium_like_request() {
  return {{":method", "GET"},
          {":authority", "www.example.test"},
          {":scheme", "https"},
          {":path", "/"},
          {"sec-ch-ua", "\"Chromium\";v=\"120\""},
          {"sec-ch-ua-mobile", "?0"},
          {"upgrade-insecure-requests", "1"},
          {"user-agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0 Safari/537.36"},
          {"accept", "text/html,*/*;q=0.8"},
          {"sec-fetch-mode", "navigate"},
          {"accept-encoding", "gzip, deflate, br"},
          {"accept-language", "en-US,en;q=0.9"},
          {"cookie", "a=1"},
          {"cookie", "b=2"},
          {"dnt", "1"}};
}

constexpr const char* kCurlSig =
    "*:Host,User-Agent,Accept=[*/*]"
    ":Connection,Accept-Encoding,Accept-Language,Accept-Charset,Keep-Alive:curl/8.5.0";
constexpr const char* kChromiumSig =
    "*:Host,Sec-Ch-Ua=[\"Chromium\";v=\"120\"],Sec-Ch-Ua-Mobile=[?0],"
    "Upgrade-Insecure-Requests=[1],User-Agent,Accept=[text/html,*/*;q=0.8],"
    "Sec-Fetch-Mode=[navigate],Accept-Encoding=[gzip, deflate, br],"
    "Accept-Language=[en-US,en;q=0.9],?Cookie,DNT=[1]"
    ":Connection,Accept-Charset,Keep-Alive"
    ":Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0 Safari/537.36";

class AppLayerHttpSignatureTest : public AppLayerTest {
 protected:
  // The http_signature of a prior-knowledge client sending `fields`.
  std::string signature_of(const h2t::Fields& fields, std::uint16_t port) {
    Conn c(port, 80);
    const Bytes stream = h2t::StreamBuilder{}
                             .preface()
                             .settings({{3, 100}, {4, 10485760}})
                             .window_update(0, 1048510465)
                             .headers(1, h2t::hpack(fields))
                             .bytes();
    feed(c.syn());
    feed(c.client(0, stream));
    const auto h2 = sink_.of(ObservationKind::kHttp2Client);
    if (h2.empty()) return "<no record>";
    return h2.back().http2->http_signature;
  }
};

TEST_F(AppLayerHttpSignatureTest, CurlLikeRequest) {
  EXPECT_EQ(signature_of(curl_like_request(), 40030), kCurlSig);
}

TEST_F(AppLayerHttpSignatureTest, ChromiumLikeRequest) {
  EXPECT_EQ(signature_of(chromium_like_request(), 40031), kChromiumSig);
}

TEST_F(AppLayerHttpSignatureTest, KnownHeadersComeFromTheConfiguredPredicate) {
  AppLayerConfig cfg;
  // As if p0f.fp named Sec-Fetch-Mode: a known header's value also stops
  // at '|'.
  cfg.http_header_known = [](std::string_view name) {
    return name == "Host" || name == "User-Agent" || name == "Sec-Fetch-Mode";
  };
  make(cfg);
  h2t::Fields f = curl_like_request();
  f.emplace_back("sec-fetch-mode", "a|b");
  f.emplace_back("x-other", "c|d");
  EXPECT_EQ(signature_of(f, 40032),
            "*:Host,User-Agent,Accept=[*/*],Sec-Fetch-Mode=[a],X-Other=[c|d]"
            ":Connection,Accept-Encoding,Accept-Language,Accept-Charset,Keep-Alive:curl/8.5.0");
}

TEST_F(AppLayerHttpSignatureTest, NoHeadersNoSignature) {
  Conn c(40033, 80);
  const Bytes stream = h2t::StreamBuilder{}.preface().settings({{3, 100}}).bytes();
  feed(c.syn());
  feed(c.client(0, stream));
  app_->finish();
  const auto h2 = sink_.of(ObservationKind::kHttp2Client);
  ASSERT_EQ(h2.size(), 1u);
  EXPECT_FALSE(h2[0].http2->complete);
  EXPECT_EQ(h2[0].http2->http_signature, "");
}

// The form is chosen so that an observed HTTP/2 signature can be pasted
// into a p0f.fp file: our loader (which accepts p0f's 0/1/* versions only)
// reads both back.
TEST(AppLayerHttpSignature, SignaturesLoadAsP0fDatabaseLines) {
  auto load = [](const std::string& sig) {
    return db::parse_p0f_db(
        "classes = win,unix,other\n[http:request]\nlabel = s:!:H2Client:1\nsys = @unix\nsig = " +
            sig + "\n",
        "h2.fp");
  };
  for (const std::string sig : {kCurlSig, kChromiumSig}) {
    auto r = load(sig);
    const auto* err = std::get_if<db::DbError>(&r);
    EXPECT_EQ(err, nullptr) << (err != nullptr ? err->to_string() : "") << " for " << sig;
    // Version "2" would not load: why the form says "*".
    EXPECT_TRUE(std::holds_alternative<db::DbError>(load("2" + sig.substr(1))));
  }
}

TEST_F(AppLayerTest, Http2UpgradeClientEmitsPartialFingerprintAtClose) {
  Conn c(40021, 80);
  h2t::StreamBuilder req;
  req.upgrade_request({{3, 100}, {4, 33554432}, {2, 0}});
  const Bytes head = req.bytes();
  const Bytes rest = h2t::StreamBuilder{}
                         .preface()
                         .settings({{3, 100}, {4, 33554432}, {2, 0}})
                         .window_update(0, 33488897)
                         .bytes();
  const std::string resp = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
  feed(c.syn());
  feed(c.syn_ack());
  feed(c.client(0, head));
  feed(c.server(0, Bytes(resp.begin(), resp.end())));
  feed(c.client(head.size(), rest));
  EXPECT_TRUE(sink_.of(ObservationKind::kHttp2Client).empty()) << "no HEADERS yet";
  feed(c.fin(true, head.size() + rest.size()));
  feed(c.fin(false, resp.size()));
  const auto h2 = sink_.of(ObservationKind::kHttp2Client);
  ASSERT_EQ(h2.size(), 1u);
  EXPECT_EQ(h2[0].http2->akamai, "3:100;4:33554432;2:0|33488897|0|");
  EXPECT_TRUE(h2[0].http2->upgrade);
  EXPECT_FALSE(h2[0].http2->complete);
  EXPECT_FALSE(h2[0].http2->method.has_value());
  EXPECT_EQ(counter("h2_partial_at_close"), 1u);
  app_->finish();
  EXPECT_EQ(sink_.of(ObservationKind::kHttp2Client).size(), 1u) << "not emitted twice";
}

TEST_F(AppLayerTest, Http2UpgradeClientOpenAtEndOfInputIsEmittedByFinish) {
  Conn c(40022, 80);
  h2t::StreamBuilder s;
  s.upgrade_request({{3, 100}}).preface().settings({{3, 100}});
  feed(c.syn());
  feed(c.client(0, s.bytes()));
  EXPECT_TRUE(sink_.all.empty());
  app_->finish();
  ASSERT_EQ(sink_.of(ObservationKind::kHttp2Client).size(), 1u);
  EXPECT_EQ(app_->flow_count(), 0u);
}

TEST_F(AppLayerTest, PlainHttp1IsLeftToTheP0fPath) {
  Conn c(40023, 80);
  const std::string req = "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\n\r\n";
  feed(c.syn());
  feed(c.client(0, Bytes(req.begin(), req.end())));
  feed(c.fin(true, req.size()));
  feed(c.fin(false, 0));
  app_->finish();
  EXPECT_TRUE(sink_.all.empty());
  EXPECT_EQ(counter("app_not_h2_http1"), 1u);
  EXPECT_EQ(counter("h2_not_upgrade"), 0u);
}

TEST_F(AppLayerTest, BrokenHttp2CountsItsReason) {
  Conn c(40024, 80);
  const Bytes stream = h2t::StreamBuilder{}.preface().window_update(0, 1).bytes();
  feed(c.syn());
  feed(c.client(0, stream));
  EXPECT_TRUE(sink_.all.empty());
  EXPECT_EQ(counter("h2_settings_expected"), 1u);
}

TEST_F(AppLayerTest, MemoryBoundFollowsTheConfiguredPrefix) {
  AppLayerConfig small;
  small.client_prefix_bytes = 4096;
  AppLayerConfig big;
  big.client_prefix_bytes = 16384;
  CollectingSink s;
  const AppLayer a(small, s);
  const AppLayer b(big, s);
  EXPECT_GT(b.memory_bound(), a.memory_bound() + 1000 * 2 * (16384 - 4096) - 1);
  EXPECT_LT(b.memory_bound(), std::size_t{48} << 20);  // documented: about 37 MB at the defaults
}

// ---------------------------------------------------------------------------
// Through the Analyzer, on real captures (../shared/testdata).

struct CaptureRun {
  std::vector<Observation> records;
  util::Counters counters;
};

CaptureRun run_capture(const db::P0fDb& db, const std::string& name, bool app_layer,
                       bool release_when_done = false) {
  CaptureRun out;
  CollectingSink sink;
  AnalyzerConfig cfg;
  cfg.app_layer = app_layer;
  cfg.app.release_when_done = release_when_done;
  Analyzer an(db, cfg, sink);
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(test::testdata_capture(name).c_str(), err);
  if (p == nullptr) return out;
  const int dlt = pcap_datalink(p);
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(p, &hdr, &data) == 1) {
    packet::DecodedPacket pkt;
    const std::int64_t ts = std::int64_t{hdr->ts.tv_sec} * 1000000 + hdr->ts.tv_usec;
    const auto r = packet::decode_packet(dlt, std::span<const std::uint8_t>(data, hdr->caplen), ts, pkt);
    if (r.status == packet::DecodeStatus::kOk) an.on_packet(pkt);
  }
  pcap_close(p);
  an.finish();
  out.records = std::move(sink.all);
  out.counters = an.counters();
  return out;
}

class AppLayerCaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::real_p0f_db();
    if (db_ == nullptr) GTEST_SKIP() << "p0f.fp not found";
  }
  static bool have(const std::string& name) { return std::filesystem::exists(test::testdata_capture(name)); }
  static std::size_t count(const CaptureRun& r, ObservationKind k) {
    return static_cast<std::size_t>(std::count_if(r.records.begin(), r.records.end(),
                                                  [k](const Observation& o) { return o.kind == k; }));
  }
  const db::P0fDb* db_ = nullptr;
};

// The p0f records are the same, in the same order, with the app layer on.
TEST_F(AppLayerCaptureTest, P0fRecordsUnchangedByTheAppLayer) {
  for (const char* name : {"tls-handshake.pcapng", "http1.pcapng", "CVE-2018-6794.pcap",
                           "http-empty-useragent.pcap", "ipv6.pcapng"}) {
    if (!have(name)) continue;
    SCOPED_TRACE(name);
    const auto off = run_capture(*db_, name, false);
    const auto on = run_capture(*db_, name, true);
    std::vector<std::string> a;
    std::vector<std::string> b;
    for (const auto& o : off.records) a.push_back(std::to_string(o.ts_us) + o.signature + o.params);
    for (const auto& o : on.records) {
      if (o.kind == ObservationKind::kTlsClient || o.kind == ObservationKind::kHttp2Client) continue;
      b.push_back(std::to_string(o.ts_us) + o.signature + o.params);
    }
    EXPECT_EQ(a, b);
    EXPECT_EQ(count(off, ObservationKind::kTlsClient), 0u);
  }
}

TEST_F(AppLayerCaptureTest, TlsHandshakeCaptureGivesEveryClientHello) {
  if (!have("tls-handshake.pcapng")) GTEST_SKIP();
  const auto r = run_capture(*db_, "tls-handshake.pcapng", true);
  // 59 connections, 5 of them with a second ClientHello (reference file).
  EXPECT_EQ(count(r, ObservationKind::kTlsClient), 64u);
  EXPECT_EQ(r.counters.get("tls_client_hellos"), 64u);
  EXPECT_EQ(r.counters.get("tls_hello_beyond_prefix"), 0u);
  EXPECT_EQ(count(r, ObservationKind::kHttp2Client), 0u);
}

TEST_F(AppLayerCaptureTest, HostileCapturesGiveNoAppRecords) {
  for (const char* name : {"CVE-2018-6794.pcap", "ssh2-malformed.pcap"}) {
    if (!have(name)) continue;
    SCOPED_TRACE(name);
    const auto r = run_capture(*db_, name, true);
    EXPECT_EQ(count(r, ObservationKind::kTlsClient), 0u);
    EXPECT_EQ(count(r, ObservationKind::kHttp2Client), 0u);
    EXPECT_EQ(r.counters.get("tls_client_hellos"), 0u);
    EXPECT_EQ(r.counters.get("h2_clients"), 0u);
  }
}

std::string dump(const util::Counters& c) {
  std::string out;
  for (const auto& [k, v] : c.all()) out += k + "=" + std::to_string(v) + " ";
  return out;
}

TEST_F(AppLayerCaptureTest, HostileCapturesMoveTheirCounters) {
  if (have("CVE-2018-6794.pcap")) {
    const auto r = run_capture(*db_, "CVE-2018-6794.pcap", true);
    // Two HTTP/1 requests without Upgrade (the reference lists two JA4H
    // records); everything after their first bytes is ignored, not copied.
    SCOPED_TRACE(dump(r.counters));
    EXPECT_EQ(r.counters.get("app_not_h2_http1"), 2u);
    // Only the two request streams entered the app layer; p0f had already
    // let go of both (the crafted handshakes), so they were picked up at
    // their first byte rather than at the SYN.
    EXPECT_EQ(r.counters.get("flow_created_syn") + r.counters.get("flow_created_midstream"), 2u);
    EXPECT_GT(r.counters.get("stream_bytes_ignored"), 0u);
  }
  if (have("ssh2-malformed.pcap")) {
    const auto r = run_capture(*db_, "ssh2-malformed.pcap", true);
    SCOPED_TRACE(dump(r.counters));
    // The SSH banner is another protocol: the flow is dropped at once.
    EXPECT_EQ(r.counters.get("app_other_protocol"), 1u);
    EXPECT_EQ(r.counters.get("app_not_h2_http1"), 0u);
    EXPECT_EQ(r.counters.get("stream_bytes_in_prefix"), 21u) << "only the banner segment is copied";
  }
}

// Every field this file's records carry, for comparing two runs.
std::string record_key(const Observation& o) {
  std::string k = std::to_string(static_cast<int>(o.kind)) + "|" + std::to_string(o.ts_us) + "|" +
                  std::to_string(o.client.port) + ">" + std::to_string(o.server.port) + "|" +
                  o.signature + "|" + o.params;
  if (o.tls) {
    k += "|" + o.tls->ja4 + "|" + o.tls->ja4_r + "|" + o.tls->ja4_o + "|" + o.tls->ja4_stable + "|" +
         o.tls->sni + "|" + std::to_string(o.tls->hello_index);
  }
  if (o.http2) {
    k += "|" + o.http2->akamai + "|" + std::to_string(o.http2->complete) +
         std::to_string(o.http2->upgrade) + "|" + o.http2->http_signature;
    for (const auto& n : o.http2->header_names) k += "," + n;
  }
  return k;
}

std::vector<std::string> record_keys(const std::vector<Observation>& records) {
  std::vector<std::string> out;
  for (const auto& o : records) out.push_back(record_key(o));
  return out;
}

// release_when_done frees what nobody reads again: nothing else changes.
TEST_F(AppLayerCaptureTest, ReleasingDecidedFlowsChangesNoRecordAndNoCounter) {
  std::size_t app_records = 0;
  for (const char* name : {"tls-handshake.pcapng", "tls-alpn-h2.pcap", "tls-non-ascii-alpn.pcapng",
                           "badcurveball.pcap", "http1.pcapng", "CVE-2018-6794.pcap",
                           "ssh2-malformed.pcap", "ipv6.pcapng"}) {
    if (!have(name)) continue;
    SCOPED_TRACE(name);
    const auto kept = run_capture(*db_, name, true, false);
    const auto released = run_capture(*db_, name, true, true);
    EXPECT_EQ(record_keys(kept.records), record_keys(released.records));
    EXPECT_EQ(dump(kept.counters), dump(released.counters));
    app_records += count(released, ObservationKind::kTlsClient);
  }
  if (have("tls-handshake.pcapng")) {
    EXPECT_GE(app_records, 64u);
  }
}

// A scenario run twice: buffers kept, and released with the client's end
// announced by no_more_client_bytes() after its bytes (as VisitorAnalyzer
// does); records and counters must be the same. Returns the second run.
class NoMoreClientBytesTest : public ::testing::Test {
 protected:
  struct Run {
    std::vector<std::string> records;
    std::string counters;
    std::size_t flows = 0;
  };
  // scenario(app, c, end): `end` is the segment to announce the end with,
  // or null in the first run. It is built in both runs, as segment
  // timestamps count the segments built.
  template <class Scenario>
  static Run run(bool release, std::uint16_t port, Scenario scenario) {
    CollectingSink sink;
    AppLayerConfig cfg;
    cfg.release_when_done = release;
    AppLayer app(cfg, sink);
    Conn c(port, 443);
    const auto end = c.client(0, {});
    scenario(app, c, release ? &end : nullptr);
    return Run{record_keys(sink.all), dump(app.counters()), app.flow_count()};
  }
  template <class Scenario>
  static Run expect_same(std::uint16_t port, Scenario scenario) {
    const Run kept = run(false, port, scenario);
    Run released = run(true, port, scenario);
    EXPECT_EQ(kept.records, released.records);
    EXPECT_EQ(kept.counters, released.counters);
    EXPECT_EQ(kept.flows, released.flows);
    return released;
  }
  static void announce(AppLayer& app, const packet::DecodedPacket* end) {
    if (end != nullptr) app.no_more_client_bytes(*end);
  }
};

TEST_F(NoMoreClientBytesTest, TlsFlowIsDoneAtOnceAndItsCloseEmitsNothingMore) {
  const Bytes hello = chrome_like_hello();
  const Run r = expect_same(42001, [&](AppLayer& app, Conn& c, const packet::DecodedPacket* end) {
    app.on_packet(c.syn());
    app.on_packet(c.syn_ack());
    app.on_packet(c.client(0, hello));
    announce(app, end);
    app.on_packet(c.fin(true, hello.size()));
    app.on_packet(c.fin(false, 0));
  });
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_NE(r.records[0].find("example.com"), std::string::npos);
}

TEST_F(NoMoreClientBytesTest, IncompleteHelloIsStillCountedAtClose) {
  const Bytes hello = chrome_like_hello();
  const Run r = expect_same(42002, [&](AppLayer& app, Conn& c, const packet::DecodedPacket* end) {
    app.on_packet(c.syn());
    app.on_packet(c.client(0, part(hello, 0, hello.size() / 2)));
    announce(app, end);
    app.on_packet(c.fin(true, hello.size() / 2));
    app.finish();
  });
  EXPECT_TRUE(r.records.empty());
  EXPECT_NE(r.counters.find("tls_hello_incomplete=1"), std::string::npos) << r.counters;
}

TEST_F(NoMoreClientBytesTest, Http2ClientWithoutHeadersStillEmitsItsPartialFingerprintAtClose) {
  const Bytes pre = h2t::StreamBuilder{}.preface().settings({{3, 100}, {4, 65535}}).window_update(0, 1000).bytes();
  const Run r = expect_same(42003, [&](AppLayer& app, Conn& c, const packet::DecodedPacket* end) {
    app.on_packet(c.syn());
    app.on_packet(c.client(0, pre));
    announce(app, end);
    app.on_packet(c.fin(true, pre.size()));
    app.on_packet(c.fin(false, 0));
  });
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_NE(r.records[0].find("3:100;4:65535|1000|"), std::string::npos) << r.records[0];
}

TEST_F(NoMoreClientBytesTest, CompleteHttp2AndOtherProtocolsAndUnknownFlows) {
  const Bytes h2 = h2t::StreamBuilder{}
                       .preface()
                       .settings({{1, 65536}})
                       .headers(1, h2t::hpack(h2t::chrome_like_request()))
                       .bytes();
  const std::string ssh = "SSH-2.0-OpenSSH_9.2\r\n";
  const Run r = expect_same(42004, [&](AppLayer& app, Conn& a, const packet::DecodedPacket* end) {
    Conn b(42005, 22);
    Conn unknown(42006, 443);
    const auto b_end = b.client(0, {});
    const auto unknown_end = unknown.client(0, {});
    app.on_packet(a.syn());
    app.on_packet(a.client(0, h2));
    app.on_packet(b.syn());
    app.on_packet(b.client(0, Bytes(ssh.begin(), ssh.end())));
    announce(app, end);
    if (end != nullptr) {
      app.no_more_client_bytes(b_end);
      app.no_more_client_bytes(unknown_end);  // no flow: nothing happens
    }
    // Bytes after the end was announced are ignored in both runs.
    app.on_packet(a.client(h2.size(), h2));
    app.on_packet(a.fin(true, 2 * h2.size()));
    app.on_packet(b.fin(true, ssh.size()));
    app.finish();
  });
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_NE(r.counters.find("app_other_protocol=1"), std::string::npos) << r.counters;
}

// The Analyzer's gate: flows enter the app layer at their first client
// byte, handed over with the SYN's ISN.
class AnalyzerGateTest : public AppLayerCaptureTest {
 protected:
  void SetUp() override {
    AppLayerCaptureTest::SetUp();
    if (db_ != nullptr) an_ = std::make_unique<Analyzer>(*db_, AnalyzerConfig{}, sink_);
  }
  void feed(const packet::DecodedPacket& p) { an_->on_packet(p); }
  CollectingSink sink_;
  std::unique_ptr<Analyzer> an_;
};

TEST_F(AnalyzerGateTest, OutOfOrderHelloThroughTheAnalyzer) {
  Conn c(41001, 443);
  const Bytes hello = chrome_like_hello("gate.example");
  const std::size_t half = hello.size() / 2;
  feed(c.syn());
  feed(c.syn_ack());
  feed(c.client(half, part(hello, half, hello.size())));  // second half first
  feed(c.client(0, part(hello, 0, half)));
  const auto tls = sink_.of(ObservationKind::kTlsClient);
  ASSERT_EQ(tls.size(), 1u);
  EXPECT_EQ(tls[0].tls->sni, "gate.example");
  EXPECT_EQ(tls[0].client.port, 41001);
  // p0f's own records for the connection came first.
  EXPECT_EQ(sink_.all.front().kind, ObservationKind::kSyn);
  EXPECT_EQ(an_->counters().get("tls_client_hellos"), 1u);
}

TEST_F(AnalyzerGateTest, OtherProtocolsNeverEnterTheAppTable) {
  Conn c(41002, 443);
  const Bytes app_data = {0x17, 0x03, 0x03, 0x00, 0x02, 0xaa, 0xbb};
  feed(c.syn());
  feed(c.syn_ack());
  feed(c.client(0, app_data));
  feed(c.server(0, app_data));
  feed(c.fin(true, app_data.size()));
  feed(c.fin(false, app_data.size()));
  ASSERT_NE(an_->app_layer(), nullptr);
  EXPECT_EQ(an_->app_layer()->flow_count(), 0u);
  EXPECT_EQ(an_->counters().get("app_other_protocol"), 1u);
  EXPECT_EQ(an_->counters().get("flow_created_syn"), 0u);
  EXPECT_TRUE(sink_.of(ObservationKind::kTlsClient).empty());
}

TEST_F(AnalyzerGateTest, H2cUpgradeGivesHttpRequestThenHttp2Client) {
  Conn c(41003, 80);
  h2t::StreamBuilder req;
  req.upgrade_request({{3, 100}, {4, 10485760}, {2, 0}});
  const Bytes head = req.bytes();
  const Bytes rest = h2t::StreamBuilder{}.preface().settings({{3, 100}, {4, 10485760}, {2, 0}}).bytes();
  const std::string resp = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
  feed(c.syn());
  feed(c.syn_ack());
  feed(c.client(0, head));
  feed(c.server(0, Bytes(resp.begin(), resp.end())));
  feed(c.client(head.size(), rest));
  feed(c.fin(true, head.size() + rest.size()));
  feed(c.fin(false, resp.size()));
  const auto h2 = sink_.of(ObservationKind::kHttp2Client);
  ASSERT_EQ(h2.size(), 1u);
  EXPECT_EQ(h2[0].http2->akamai, "3:100;4:10485760;2:0|00|0|");
  const auto it_req = std::find_if(sink_.all.begin(), sink_.all.end(), [](const Observation& o) {
    return o.kind == ObservationKind::kHttpRequest;
  });
  const auto it_h2 = std::find_if(sink_.all.begin(), sink_.all.end(), [](const Observation& o) {
    return o.kind == ObservationKind::kHttp2Client;
  });
  ASSERT_NE(it_req, sink_.all.end()) << "the Upgrade request stays on p0f's HTTP path";
  EXPECT_LT(it_req - sink_.all.begin(), it_h2 - sink_.all.begin());
}

TEST_F(AnalyzerGateTest, PriorKnowledgeThroughTheAnalyzerAndDisabledLayer) {
  const auto block = h2t::hpack(h2t::chrome_like_request());
  const Bytes stream =
      h2t::StreamBuilder{}.preface().settings({{2, 0}, {4, 1073741823}}).headers(1, block).bytes();
  Conn c(41004, 8080);
  feed(c.syn());
  feed(c.syn_ack());
  feed(c.client(0, stream));
  ASSERT_EQ(sink_.of(ObservationKind::kHttp2Client).size(), 1u);
  EXPECT_EQ(sink_.of(ObservationKind::kHttp2Client)[0].http2->akamai, "2:0;4:1073741823|00|0|m,a,s,p");

  CollectingSink off_sink;
  AnalyzerConfig cfg;
  cfg.app_layer = false;
  Analyzer off(*db_, cfg, off_sink);
  Conn d(41005, 8080);
  off.on_packet(d.syn());
  off.on_packet(d.syn_ack());
  off.on_packet(d.client(0, stream));
  EXPECT_EQ(off.app_layer(), nullptr);
  EXPECT_TRUE(off_sink.of(ObservationKind::kHttp2Client).empty());
  EXPECT_FALSE(off_sink.all.empty());
}

}  // namespace
}  // namespace huginn::analyzer
