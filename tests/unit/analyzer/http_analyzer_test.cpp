// HTTP records from the analyzer: p0f 3.09b's fingerprint_http / score_nat
// behaviour on whole connections built segment by segment.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "huginn/analyzer/analyzer.hpp"
#include "huginn/db/p0f_db_parser.hpp"
#include "segment_builder.hpp"

namespace huginn::analyzer {
namespace {

using test::ipv4;
using test::SegmentBuilder;
namespace fl = packet::tcp_flags;

// Synthetic signatures (not from p0f.fp).
constexpr const char* kDb = R"(
classes = win,unix,other

[tcp:request]
  label = s:unix:Linux:9.x
  sig = 4:64:0:*:mss*20,7:mss,sok,ts,nop,ws:df,id+:0

[tcp:response]
  label = s:unix:Linux:9.x
  sig = 4:64:0:*:mss*10,7:mss,sok,ts,nop,ws:df:0

[http:request]
ua_os = Linux,Windows

  label = s:!:Firefox:
  sys = @unix
  sig = 1:Host,User-Agent,Accept-Language:Keep-Alive:Firefox/

  label = s:unix:Linux:http
  sig = 1:Host,X-Os-Probe::

[http:response]
  label = s:!:Apache:
  sys = @unix
  sig = *:Server,X-Apache:Keep-Alive:Apache

  label = s:!:nginx:
  sys = @unix
  sig = *:Server:Keep-Alive:nginx
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

constexpr std::int64_t kT0 = 1700000000LL * 1000000;
constexpr std::int64_t kSec = 1000000;

class HttpAnalyzerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = db::parse_p0f_db(kDb, "synthetic.fp");
    if (auto* err = std::get_if<db::DbError>(&r)) FAIL() << err->to_string();
    db_ = std::make_unique<db::P0fDb>(std::move(std::get<db::P0fDb>(r)));
    analyzer_ = std::make_unique<Analyzer>(*db_, AnalyzerConfig{}, sink_);
  }

  // A connection from client 10.0.0.<c>:<port> to 10.0.0.200:<srv_port>:
  // handshake, then each request segment, then each response segment.
  void connection(std::uint8_t c, std::uint16_t port, const std::vector<std::string>& req,
                  const std::vector<std::string>& resp, std::uint16_t srv_port = 80,
                  bool with_syn = true) {
    const auto cli = ipv4(10, 0, 0, c);
    const auto srv = ipv4(10, 0, 0, 200);
    if (with_syn) {
      SegmentBuilder syn;
      syn.src(cli, port).dst(srv, srv_port).ts_us(now_).seq(1000);
      syn.win(1460 * 20).linux_syn_options(1460, 500000);
      feed(syn);
      SegmentBuilder sa;
      sa.src(srv, srv_port).dst(cli, port).ts_us(now_).syn_ack().seq(5000).ack(1001).ip_id(0);
      sa.win(1460 * 10).linux_syn_options(1460, 900000);
      feed(sa);
    }
    std::uint32_t cseq = 1001;
    for (const auto& r : req) {
      SegmentBuilder d;
      d.src(cli, port).dst(srv, srv_port).ts_us(now_).flags(fl::kAck | fl::kPsh).seq(cseq);
      d.ack(5001).payload(r);
      feed(d);
      cseq += static_cast<std::uint32_t>(r.size());
    }
    std::uint32_t sseq = 5001;
    for (const auto& r : resp) {
      SegmentBuilder d;
      d.src(srv, srv_port).dst(cli, port).ts_us(now_).flags(fl::kAck | fl::kPsh).seq(sseq);
      d.ack(cseq).ip_id(0).payload(r);
      feed(d);
      sseq += static_cast<std::uint32_t>(r.size());
    }
  }
  void feed(const SegmentBuilder& b) {
    analyzer_->on_packet(b.build());
    now_ += 1000;
  }
  std::vector<std::string> reasons(ObservationKind k = ObservationKind::kHostChange) const {
    std::vector<std::string> out;
    for (const auto& o : sink_.of(k)) out.push_back(format_nat_reasons(o.reasons));
    return out;
  }

  static std::string firefox_request(const std::string& ua =
                                         "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0") {
    return "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nUser-Agent: " + ua +
           "\r\nAccept-Language: en-US,en;q=0.5\r\n\r\n";
  }
  static std::string nginx_response(const std::string& extra = "") {
    return "HTTP/1.1 200 OK\r\nServer: nginx/1.24\r\n" + extra + "\r\n";
  }

  std::unique_ptr<db::P0fDb> db_;
  CollectingSink sink_;
  std::unique_ptr<Analyzer> analyzer_;
  std::int64_t now_ = kT0;
};

TEST_F(HttpAnalyzerTest, RequestAndResponseRecords) {
  connection(1, 40000, {firefox_request()}, {nginx_response()});
  const auto req = sink_.of(ObservationKind::kHttpRequest);
  const auto resp = sink_.of(ObservationKind::kHttpResponse);
  ASSERT_EQ(req.size(), 1u);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(req[0].subject, Subject::kClient);
  ASSERT_TRUE(req[0].match.has_value());
  EXPECT_EQ(req[0].match->label, "Firefox");
  EXPECT_TRUE(req[0].match->is_app);
  EXPECT_EQ(req[0].lang, "English");
  EXPECT_EQ(req[0].params, "none");
  EXPECT_FALSE(req[0].dishonest);
  EXPECT_EQ(req[0].signature,
            "1:Host,User-Agent,Accept-Language=[en-US,en;q=0.5]:Connection,Accept,"
            "Accept-Encoding,Accept-Charset,Keep-Alive:Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0");
  EXPECT_EQ(req[0].http.method, "GET");
  EXPECT_EQ(req[0].http.path, "/a?b=c");
  EXPECT_EQ(req[0].http.header_names,
            (std::vector<std::string>{"Host", "User-Agent", "Accept-Language"}));
  EXPECT_EQ(resp[0].subject, Subject::kServer);
  ASSERT_TRUE(resp[0].match.has_value());
  EXPECT_EQ(resp[0].match->label, "nginx");
  EXPECT_EQ(resp[0].lang, "none");
  EXPECT_EQ(resp[0].http.server, "nginx/1.24");
  // The UA names Linux, which the SYN said: no host change.
  EXPECT_TRUE(reasons().empty());
  EXPECT_EQ(analyzer_->counters().get("http_requests"), 1u);
  EXPECT_EQ(analyzer_->counters().get("http_responses"), 1u);
  // A response ends HTTP interest: the flow is gone.
  EXPECT_EQ(analyzer_->flow_count(), 0u);
}

TEST_F(HttpAnalyzerTest, NoFlowWithoutSyn) {
  // p0f creates flows only on SYNs, so mid-stream HTTP is never seen.
  connection(1, 40000, {firefox_request()}, {nginx_response()}, 80, false);
  EXPECT_TRUE(sink_.all.empty());
}

TEST_F(HttpAnalyzerTest, ResponseNeedsARequestFirstAndOnlyGetOrHead) {
  connection(1, 40000, {}, {nginx_response()});
  connection(2, 40001, {"POST / HTTP/1.1\r\nHost: e\r\n\r\n"}, {nginx_response()});
  EXPECT_TRUE(sink_.of(ObservationKind::kHttpRequest).empty());
  EXPECT_TRUE(sink_.of(ObservationKind::kHttpResponse).empty());
  EXPECT_EQ(analyzer_->counters().get("http_not_get_or_head"), 1u);
}

TEST_F(HttpAnalyzerTest, RequestAcrossSegments) {
  const std::string r = firefox_request();
  connection(1, 40000, {r.substr(0, 7), r.substr(7, 30), r.substr(37)}, {});
  const auto req = sink_.of(ObservationKind::kHttpRequest);
  ASSERT_EQ(req.size(), 1u);
  EXPECT_EQ(req[0].match->label, "Firefox");
}

// p0f never marks a response's status line as read: every later response
// segment skips its first unread line as if it were one.
TEST_F(HttpAnalyzerTest, P0fQuirk_ResponseSegmentDropsItsFirstLine) {
  connection(1, 40000, {firefox_request()},
             {"HTTP/1.1 200 OK\r\nServer: nginx\r\n", "X-Lost: 1\r\nX-Kept: 2\r\n\r\n"});
  const auto resp = sink_.of(ObservationKind::kHttpResponse);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(resp[0].http.header_names, (std::vector<std::string>{"Server", "X-Kept"}));
}

TEST_F(HttpAnalyzerTest, DishonestAndAnonymous) {
  connection(1, 40000,
             {"GET / HTTP/1.1\r\nHost: e\r\nUser-Agent: Chrome/1\r\nAccept-Language: de\r\n\r\n"},
             {"HTTP/1.1 200 OK\r\nServer: Apache\r\nX-Apache: 1\r\n\r\n"});
  const auto req = sink_.of(ObservationKind::kHttpRequest);
  ASSERT_EQ(req.size(), 1u);
  EXPECT_EQ(req[0].match->label, "Firefox");
  EXPECT_TRUE(req[0].dishonest);
  EXPECT_EQ(req[0].params, "dishonest");
  EXPECT_EQ(req[0].lang, "German");
  connection(2, 40001, {"GET / HTTP/1.1\r\nHost: e\r\nAccept-Language: xx\r\n\r\n"}, {});
  const auto anon = sink_.of(ObservationKind::kHttpRequest);
  ASSERT_EQ(anon.size(), 2u);
  EXPECT_FALSE(anon[1].match.has_value());
  EXPECT_EQ(anon[1].params, "anonymous");
  EXPECT_FALSE(anon[1].lang.has_value());  // p0f "???"
}

TEST_F(HttpAnalyzerTest, UserAgentNamingAnotherOsIsUaVsOs) {
  connection(1, 40000, {firefox_request("Mozilla/5.0 (Windows NT 10.0) Firefox/120.0")}, {});
  EXPECT_EQ(reasons(), (std::vector<std::string>{"ua_vs_os"}));
}

TEST_F(HttpAnalyzerTest, ViaIsReported) {
  connection(1, 40000,
             {"GET / HTTP/1.1\r\nHost: e\r\nVia: 1.1 proxy\r\nUser-Agent: curl\r\n\r\n"}, {});
  EXPECT_EQ(reasons(), (std::vector<std::string>{"via"}));
}

TEST_F(HttpAnalyzerTest, ServerSignatureChangeIsSrvSigLb) {
  connection(1, 40000, {firefox_request()}, {nginx_response()});
  connection(2, 40001, {firefox_request()},
             {"HTTP/1.1 200 OK\r\nServer: Apache\r\nX-Apache: 1\r\n\r\n"});
  EXPECT_EQ(reasons(), (std::vector<std::string>{"srv_sig_lb"}));
  // On another port the earlier answer is not compared.
  connection(3, 40002, {firefox_request()}, {nginx_response()}, 8080);
  EXPECT_EQ(reasons().size(), 1u);
}

TEST_F(HttpAnalyzerTest, DateGoingBackIsReported) {
  auto dated = [](const std::string& d) { return nginx_response("Date: " + d + "\r\n"); };
  connection(1, 40000, {firefox_request()}, {dated("Tue, 14 Nov 2023 22:13:20 GMT")});
  now_ += 5 * kSec;
  connection(2, 40001, {firefox_request()}, {dated("Tue, 14 Nov 2023 22:13:25 GMT")});
  EXPECT_TRUE(reasons().empty());
  now_ += 5 * kSec;
  connection(3, 40002, {firefox_request()}, {dated("Tue, 14 Nov 2023 21:13:25 GMT")});
  EXPECT_EQ(reasons(), (std::vector<std::string>{"date"}));
}

// docs/p0f-deviations.md, "HTTP OS label change": p0f compares the old
// record's name id with the new record's label id, so a host matching the
// same OS-labelled HTTP record twice would be scored as changed. No such
// record exists in p0f 3.09b's database; with one, we compare labels.
TEST_F(HttpAnalyzerTest, P0fDeviation_SameHttpOsLabelIsNoChange) {
  const std::string probe = "GET / HTTP/1.1\r\nHost: e\r\nX-Os-Probe: 1\r\n\r\n";
  connection(1, 40000, {probe}, {});
  connection(1, 40001, {probe}, {});
  const auto req = sink_.of(ObservationKind::kHttpRequest);
  ASSERT_EQ(req.size(), 2u);
  ASSERT_TRUE(req[1].match.has_value());
  EXPECT_FALSE(req[1].match->is_app);
  EXPECT_EQ(req[1].match->label, "Linux http");
  EXPECT_TRUE(reasons().empty());
}

}  // namespace
}  // namespace huginn::analyzer
