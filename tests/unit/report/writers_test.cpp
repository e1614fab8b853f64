#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "segment_builder.hpp"
#include "huginn/report/jsonl_writer.hpp"
#include "huginn/report/p0f_log_writer.hpp"

namespace huginn::report {
namespace {

using analyzer::Observation;
using analyzer::ObservationKind;

// p0f prints local time; tests pin the zone.
class UtcEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};
const auto* const kUtc = ::testing::AddGlobalTestEnvironment(new UtcEnvironment);

constexpr std::int64_t kTs = 1516186786703072;  // 2018-01-17 10:59:46.703072 UTC

Observation base(ObservationKind kind) {
  Observation o;
  o.kind = kind;
  o.ts_us = kTs;
  o.client = {test::ipv4(192, 168, 235, 1), 53649};
  o.server = {test::ipv4(192, 168, 235, 136), 8089};
  return o;
}

TEST(P0fLogWriter, SynLineWithOs) {
  Observation o = base(ObservationKind::kSyn);
  o.match = analyzer::SigMatchInfo{.label = "Windows 7 or 8", .line = 42, .sig_text = {}};
  o.params = "none";
  o.signature = "4:128+0:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0";
  EXPECT_EQ(P0fLogWriter::format_line(o),
            "[2018/01/17 10:59:46] mod=syn|cli=192.168.235.1/53649|srv=192.168.235.136/8089|"
            "subj=cli|os=Windows 7 or 8|dist=0|params=none|"
            "raw_sig=4:128+0:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0");
}

TEST(P0fLogWriter, SynAckUnknownAndAppAndRandomTtl) {
  Observation o = base(ObservationKind::kSynAck);
  o.subject = analyzer::Subject::kServer;
  o.dist = 17;
  o.params = "none";
  o.signature = "4:238+17:0:1460:26847,7:mss,sok,ts,nop,ws:df:0";
  EXPECT_EQ(P0fLogWriter::format_line(o),
            "[2018/01/17 10:59:46] mod=syn+ack|cli=192.168.235.1/53649|srv=192.168.235.136/8089|"
            "subj=srv|os=???|dist=17|params=none|raw_sig=4:238+17:0:1460:26847,7:mss,sok,ts,nop,ws:df:0");
  Observation app = base(ObservationKind::kSyn);
  app.match = analyzer::SigMatchInfo{.label = "NMap SYN scan", .is_app = true, .sig_text = {}};
  app.dist = 3;
  app.dist_is_upper_bound = true;
  app.params = "random_ttl";
  app.signature = "x";
  EXPECT_NE(P0fLogWriter::format_line(app).find("|app=NMap SYN scan|dist=<= 3|params=random_ttl|raw_sig=x"),
            std::string::npos);
}

TEST(P0fLogWriter, MtuUptimeAndNatLines) {
  Observation mtu = base(ObservationKind::kMtu);
  mtu.mtu = 1426;
  EXPECT_NE(P0fLogWriter::format_line(mtu).find("mod=mtu|"), std::string::npos);
  EXPECT_NE(P0fLogWriter::format_line(mtu).find("|subj=cli|link=???|raw_mtu=1426"), std::string::npos);
  mtu.link = "Ethernet or modem";
  EXPECT_NE(P0fLogWriter::format_line(mtu).find("|link=Ethernet or modem|raw_mtu=1426"), std::string::npos);

  Observation up = base(ObservationKind::kUptime);
  up.uptime_min = 13 * 24 * 60 + 6;
  up.modulo_days = 49;
  up.raw_freq_hz = 994.375;
  const std::string line = P0fLogWriter::format_line(up);
  EXPECT_NE(line.find("mod=uptime|"), std::string::npos);
  EXPECT_NE(line.find("|uptime=13 days 0 hrs 6 min (modulo 49 days)|raw_freq=994.38 Hz"),
            std::string::npos)
      << line;

  Observation hc = base(ObservationKind::kHostChange);
  hc.reasons = analyzer::kNatTs | analyzer::kNatPort;
  hc.raw_hits = {0, 1, 1, 1};
  EXPECT_NE(P0fLogWriter::format_line(hc).find("mod=host change|"), std::string::npos);
  EXPECT_NE(P0fLogWriter::format_line(hc).find("|reason=tstamp port|raw_hits=0,1,1,1"), std::string::npos);
  Observation ips = base(ObservationKind::kIpSharing);
  EXPECT_NE(P0fLogWriter::format_line(ips).find("mod=ip sharing|"), std::string::npos);
  EXPECT_NE(P0fLogWriter::format_line(ips).find("|reason=???|raw_hits=0,0,0,0"), std::string::npos);
}

TEST(P0fLogWriter, Ipv6AddressesUncompressedLikeP0f) {
  EXPECT_EQ(format_p0f_address(test::ipv6(0x2001, 0x100d)), "2001:0:0:0:0:0:0:100d");
  packet::IpAddress lo;
  lo.version = packet::IpVersion::v6;
  lo.bytes[15] = 1;
  EXPECT_EQ(format_p0f_address(lo), "0:0:0:0:0:0:0:1");
}

TEST(P0fLogWriter, BuffersUntilFlush) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    P0fLogWriter w(f);
    Observation o = base(ObservationKind::kMtu);
    o.mtu = 1500;
    w.on_observation(o);
    EXPECT_EQ(std::ftell(f), 0);  // still buffered
    EXPECT_TRUE(w.flush());
    EXPECT_GT(std::ftell(f), 0);
    w.on_observation(o);
  }  // destructor flushes the second line
  std::rewind(f);
  char buf[512];
  int lines = 0;
  while (std::fgets(buf, sizeof buf, f) != nullptr) ++lines;
  EXPECT_EQ(lines, 2);
  std::fclose(f);
}

TEST(JsonlWriter, Rfc3339Utc) {
  EXPECT_EQ(format_rfc3339_utc(kTs), "2018-01-17T10:59:46.703072Z");
  EXPECT_EQ(format_rfc3339_utc(0), "1970-01-01T00:00:00.000000Z");
}

TEST(JsonlWriter, SynRecord) {
  Observation o = base(ObservationKind::kSyn);
  o.match = analyzer::SigMatchInfo{.label = "Testix 1.x", .generic = false, .fuzzy = true,
                                   .line = 77, .sig_text = "*:64:0:*:mss*9,3:mss,sok,ts:df:0"};
  o.dist = 2;
  o.params = "fuzzy";
  o.signature = "4:62+2:0:1460:mss*20,7:mss,sok,ts,nop,ws:df:0";
  const auto j = nlohmann::json::parse(JsonlWriter::format_line(o));
  EXPECT_EQ(j["kind"], "syn");
  EXPECT_EQ(j["ts"], "2018-01-17T10:59:46.703072Z");
  EXPECT_EQ(j["client"], "192.168.235.1/53649");
  EXPECT_EQ(j["server"], "192.168.235.136/8089");
  EXPECT_EQ(j["subject"], "client");
  EXPECT_EQ(j["os"], "Testix 1.x");
  EXPECT_FALSE(j.contains("app"));
  EXPECT_EQ(j["match"]["line"], 77);
  EXPECT_EQ(j["match"]["fuzzy"], true);
  EXPECT_EQ(j["match"]["generic"], false);
  EXPECT_EQ(j["dist"], 2);
  EXPECT_EQ(j["params"], "fuzzy");
  EXPECT_EQ(j["signature"], o.signature);
}

TEST(JsonlWriter, UnknownOsIsNullAndAppSeparate) {
  Observation o = base(ObservationKind::kSynAck);
  o.subject = analyzer::Subject::kServer;
  auto j = nlohmann::json::parse(JsonlWriter::format_line(o));
  EXPECT_EQ(j["kind"], "syn+ack");
  EXPECT_TRUE(j["os"].is_null());
  EXPECT_TRUE(j["match"].is_null());
  EXPECT_EQ(j["subject"], "server");
  o.match = analyzer::SigMatchInfo{.label = "nmap", .is_app = true, .sig_text = {}};
  j = nlohmann::json::parse(JsonlWriter::format_line(o));
  EXPECT_TRUE(j["os"].is_null());
  EXPECT_EQ(j["app"], "nmap");
}

TEST(JsonlWriter, OtherKinds) {
  Observation up = base(ObservationKind::kUptime);
  up.uptime_min = 90;
  up.modulo_days = 49;
  up.freq_hz = 1000;
  up.raw_freq_hz = 998.5;
  auto j = nlohmann::json::parse(JsonlWriter::format_line(up));
  EXPECT_EQ(j["uptime_s"], 5400);
  EXPECT_EQ(j["freq_hz"], 1000);
  EXPECT_EQ(j["modulo_days"], 49);
  EXPECT_DOUBLE_EQ(j["raw_freq_hz"].get<double>(), 998.5);

  Observation ips = base(ObservationKind::kIpSharing);
  ips.reasons = analyzer::kNatOsSig | analyzer::kNatTtl;
  ips.raw_hits = {3, 3, 3, 3};
  j = nlohmann::json::parse(JsonlWriter::format_line(ips));
  EXPECT_EQ(j["kind"], "ip_sharing");
  EXPECT_EQ(j["reason"], nlohmann::json({"os_diff", "ttl"}));
  EXPECT_EQ(j["raw_hits"], nlohmann::json({3, 3, 3, 3}));

  Observation mtu = base(ObservationKind::kMtu);
  mtu.mtu = 1500;
  j = nlohmann::json::parse(JsonlWriter::format_line(mtu));
  EXPECT_EQ(j["mtu"], 1500);
  EXPECT_TRUE(j["link"].is_null());
}

Observation http_request() {
  Observation o = base(ObservationKind::kHttpRequest);
  o.signature = "1:Host,User-Agent:Accept:Firefox/1";
  o.params = "none";
  o.lang = "English";
  o.http.method = "GET";
  o.http.path = "/p?q=\"1\"";
  o.http.user_agent = "Firefox/1\x01\xff";
  o.http.header_names = {"Host", "User-Agent"};
  return o;
}

TEST(P0fLogWriter, HttpLines) {
  Observation req = http_request();
  req.match = analyzer::SigMatchInfo{};
  req.match->label = "Firefox 10.x or newer";
  req.match->is_app = true;
  EXPECT_EQ(P0fLogWriter::format_line(req),
            "[2018/01/17 10:59:46] mod=http request|cli=192.168.235.1/53649|"
            "srv=192.168.235.136/8089|subj=cli|app=Firefox 10.x or newer|lang=English|"
            "params=none|raw_sig=1:Host,User-Agent:Accept:Firefox/1");
  Observation resp = base(ObservationKind::kHttpResponse);
  resp.subject = analyzer::Subject::kServer;
  resp.signature = "0:Server::";
  resp.params = "anonymous";
  EXPECT_EQ(P0fLogWriter::format_line(resp),
            "[2018/01/17 10:59:46] mod=http response|cli=192.168.235.1/53649|"
            "srv=192.168.235.136/8089|subj=srv|app=???|lang=???|params=anonymous|raw_sig=0:Server::");
}

TEST(JsonlWriter, HttpRecordsEscapeAndCapWireStrings) {
  Observation req = http_request();
  req.dishonest = true;
  req.http.accept_language = std::string(5000, 'a');
  auto j = nlohmann::json::parse(JsonlWriter::format_line(req));
  EXPECT_EQ(j["kind"], "http_request");
  EXPECT_EQ(j["signature"], "1:Host,User-Agent:Accept:Firefox/1");
  EXPECT_TRUE(j["app"].is_null());
  EXPECT_TRUE(j["match"].is_null());
  EXPECT_EQ(j["lang"], "English");
  EXPECT_EQ(j["dishonest"], true);
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["path"], "/p?q=\"1\"");
  EXPECT_EQ(j["header_names"], nlohmann::json({"Host", "User-Agent"}));
  // Control bytes escaped, invalid UTF-8 replaced, lengths bounded.
  EXPECT_EQ(j["user_agent"].get<std::string>().substr(0, 10), "Firefox/1\x01");
  EXPECT_EQ(j["accept_language"].get<std::string>().size(), 1024u);

  Observation resp = base(ObservationKind::kHttpResponse);
  resp.lang = "none";
  resp.http.server = "nginx";
  resp.match = analyzer::SigMatchInfo{};
  resp.match->label = "nginx";
  resp.match->is_app = true;
  resp.match->line = 900;
  j = nlohmann::json::parse(JsonlWriter::format_line(resp));
  EXPECT_EQ(j["kind"], "http_response");
  EXPECT_EQ(j["app"], "nginx");
  EXPECT_TRUE(j["os"].is_null());
  EXPECT_EQ(j["match"]["line"], 900);
  EXPECT_TRUE(j["lang"].is_null());
  EXPECT_EQ(j["server_header"], "nginx");
  EXPECT_EQ(j["server"], "192.168.235.136/8089");  // the endpoint is not overwritten
  EXPECT_FALSE(j.contains("user_agent"));
}

}  // namespace
}  // namespace huginn::report
