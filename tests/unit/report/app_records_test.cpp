// JSONL and p0f-style rendering of the app-layer kinds (tls_client,
// http2_client), the JSONL key order and RFC 5952 endpoints.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "huginn/report/jsonl_writer.hpp"
#include "huginn/report/p0f_log_writer.hpp"
#include "segment_builder.hpp"

namespace huginn::report {
namespace {

using analyzer::Observation;
using analyzer::ObservationKind;

Observation tls_record() {
  Observation o;
  o.kind = ObservationKind::kTlsClient;
  o.ts_us = 1675707151805776;
  o.client = {test::ipv6(0x2001, 0x1), 50112};
  o.server = {test::ipv6(0x2001, 0x2), 443};
  o.tls.emplace();
  o.tls->ja4 = "t13d1516bd_8daaf6152771_e5627efa2ab1";
  o.tls->ja4_r = "t13d1516bd_r";
  o.tls->ja4_o = "t13d1516bd_o";
  o.tls->ja4_ro = "t13d1516bd_ro";
  o.tls->ja4_stable = "t13d1515bd_s";
  o.tls->sni = "example.com";
  o.tls->alpn = {std::string("\xba\xad", 2), "http/1.1", std::string("a\x01|", 3)};
  o.tls->supported_versions = {0x2a2a, 0x0304};
  o.tls->cipher_suites = {0x1301, 0xc02b};
  o.tls->extensions = {0x0000, 0x0010};
  o.tls->supported_groups = {0x001d};
  o.tls->signature_algorithms = {0x0403};
  o.tls->record_version = 0x0301;
  o.tls->legacy_version = 0x0303;
  return o;
}

Observation h2_record() {
  Observation o;
  o.kind = ObservationKind::kHttp2Client;
  o.ts_us = 1700000000000000;
  o.client = {test::ipv4(127, 0, 0, 1), 40000};
  o.server = {test::ipv4(127, 0, 0, 1), 8080};
  auto& d = o.http2.emplace();
  d.akamai = "1:65536;2:0|15663105|0|m,a,s,p";
  d.settings = {{1, 65536}, {2, 0}};
  d.window_update = 15663105;
  d.priority = {{3, false, 0, 201}};
  d.priority_frames_total = 1;
  d.pseudo_header_order = "m,a,s,p";
  d.headers_priority = analyzer::Http2Priority{1, true, 0, 256};
  d.method = "GET";
  d.path = "/";
  d.authority = "localhost";
  d.user_agent = std::string("bad\x01|agent");
  d.header_names = {":method", ":authority", ":scheme", ":path", "user-agent"};
  return o;
}

TEST(AppRecords, JsonlKeysComeInAStableReadableOrder) {
  const std::string line = JsonlWriter::format_line(tls_record());
  const auto pos = [&](const char* key) { return line.find(std::string("\"") + key + "\":"); };
  EXPECT_EQ(pos("kind"), 1u);
  EXPECT_LT(pos("kind"), pos("ts"));
  EXPECT_LT(pos("ts"), pos("client"));
  EXPECT_LT(pos("client"), pos("server"));
  EXPECT_LT(pos("server"), pos("subject"));
  EXPECT_LT(pos("subject"), pos("ja4"));
  EXPECT_LT(pos("ja4"), pos("sni"));
  EXPECT_EQ(line, JsonlWriter::format_line(tls_record()));
}

TEST(AppRecords, JsonlEndpointsAreRfc5952) {
  const auto j = nlohmann::json::parse(JsonlWriter::format_line(tls_record()));
  EXPECT_EQ(j["client"], "2001::1/50112");
  EXPECT_EQ(j["server"], "2001::2/443");
  Observation syn;
  packet::IpAddress lo;
  lo.version = packet::IpVersion::v6;
  lo.bytes[15] = 1;
  syn.client = {lo, 57722};
  syn.server = {lo, 9200};
  const auto s = nlohmann::json::parse(JsonlWriter::format_line(syn));
  EXPECT_EQ(s["client"], "::1/57722");
  EXPECT_EQ(s["kind"], "syn");
}

TEST(AppRecords, TlsClientJsonl) {
  const auto j = nlohmann::json::parse(JsonlWriter::format_line(tls_record()));
  EXPECT_EQ(j["kind"], "tls_client");
  EXPECT_EQ(j["ts"], "2023-02-06T18:12:31.805776Z");
  EXPECT_EQ(j["subject"], "client");
  EXPECT_EQ(j["ja4"], "t13d1516bd_8daaf6152771_e5627efa2ab1");
  EXPECT_EQ(j["ja4_r"], "t13d1516bd_r");
  EXPECT_EQ(j["ja4_o"], "t13d1516bd_o");
  EXPECT_EQ(j["ja4_ro"], "t13d1516bd_ro");
  EXPECT_EQ(j["ja4_stable"], "t13d1515bd_s");
  EXPECT_EQ(j["hello"], 1);
  EXPECT_EQ(j["sni"], "example.com");
  EXPECT_EQ(j["tls_versions"], nlohmann::json::array({0x2a2a, 0x0304}));
  EXPECT_EQ(j["ciphers"], nlohmann::json::array({0x1301, 0xc02b}));
  EXPECT_EQ(j["extensions"], nlohmann::json::array({0, 16}));
  EXPECT_EQ(j["groups"], nlohmann::json::array({29}));
  EXPECT_EQ(j["sig_algs"], nlohmann::json::array({0x0403}));
  EXPECT_EQ(j["record_version"], 0x0301);
  EXPECT_EQ(j["legacy_version"], 0x0303);
  EXPECT_EQ(j["resumption"], false);
  // ALPN bytes as ISO 8859-1 code points: lossless.
  ASSERT_EQ(j["alpn"].size(), 3u);
  EXPECT_EQ(j["alpn"][0], "\u00ba\u00ad");
  EXPECT_EQ(j["alpn"][1], "http/1.1");
  EXPECT_EQ(j["alpn"][2], "a\x01|");
  const std::string line = JsonlWriter::format_line(tls_record());
  EXPECT_NE(line.find("\"a\\u0001|\""), std::string::npos) << "control bytes escaped";
  Observation none = tls_record();
  none.tls->sni.clear();
  EXPECT_TRUE(nlohmann::json::parse(JsonlWriter::format_line(none))["sni"].is_null());
}

TEST(AppRecords, Http2ClientJsonl) {
  const auto j = nlohmann::json::parse(JsonlWriter::format_line(h2_record()));
  EXPECT_EQ(j["kind"], "http2_client");
  EXPECT_EQ(j["client"], "127.0.0.1/40000");
  EXPECT_EQ(j["akamai"], "1:65536;2:0|15663105|0|m,a,s,p");
  EXPECT_EQ(j["complete"], true);
  EXPECT_EQ(j["mode"], "prior_knowledge");
  EXPECT_EQ(j["settings"], nlohmann::json::parse("[[1,65536],[2,0]]"));
  EXPECT_EQ(j["window_update"], 15663105);
  EXPECT_EQ(j["priority"], nlohmann::json::parse("[[3,0,0,201]]"));
  EXPECT_EQ(j["priority_frames"], 1);
  EXPECT_EQ(j["pseudo_header_order"], "m,a,s,p");
  EXPECT_EQ(j["headers_priority"], nlohmann::json::parse("[1,1,0,256]"));
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["path"], "/");
  EXPECT_EQ(j["authority"], "localhost");
  EXPECT_EQ(j["user_agent"], "bad\x01|agent");
  EXPECT_EQ(j["headers"].size(), 5u);
  Observation partial = h2_record();
  partial.http2->window_update.reset();
  partial.http2->headers_priority.reset();
  partial.http2->method.reset();
  partial.http2->complete = false;
  const auto p = nlohmann::json::parse(JsonlWriter::format_line(partial));
  EXPECT_TRUE(p["window_update"].is_null());
  EXPECT_TRUE(p["headers_priority"].is_null());
  EXPECT_TRUE(p["method"].is_null());
  EXPECT_EQ(p["complete"], false);
}

TEST(AppRecords, P0fFormatWritesNoAppRecords) {
  char* buf = nullptr;
  std::size_t len = 0;
  std::FILE* mem = open_memstream(&buf, &len);
  ASSERT_NE(mem, nullptr);
  {
    P0fLogWriter w(mem);
    w.on_observation(tls_record());
    w.on_observation(h2_record());
    Observation syn;
    syn.client = {test::ipv4(1, 2, 3, 4), 1};
    syn.server = {test::ipv4(5, 6, 7, 8), 2};
    syn.params = "none";
    w.on_observation(syn);
    ASSERT_TRUE(w.flush());
  }
  std::fclose(mem);
  const std::string out(buf, len);
  std::free(buf);
  EXPECT_EQ(out.find("mod=tls"), std::string::npos);
  EXPECT_EQ(out.find("mod=http2"), std::string::npos);
  EXPECT_NE(out.find("mod=syn|cli=1.2.3.4/1|srv=5.6.7.8/2|"), std::string::npos);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
}

TEST(AppRecords, HumanLogLines) {
  const std::string tls = P0fLogWriter::format_log_line(tls_record());
  EXPECT_NE(tls.find("] mod=tls|cli=2001:0:0:0:0:0:0:1/50112|srv=2001:0:0:0:0:0:0:2/443|subj=cli|"
                     "ja4=t13d1516bd_8daaf6152771_e5627efa2ab1|sni=example.com|"
                     "alpn=\\xba\\xad,http/1.1,a\\x01\\x7c|hello=1|resumption=no"),
            std::string::npos)
      << tls;
  const std::string h2 = P0fLogWriter::format_log_line(h2_record());
  EXPECT_NE(h2.find("] mod=http2|cli=127.0.0.1/40000|srv=127.0.0.1/8080|subj=cli|"
                    "akamai=1:65536;2:0|15663105|0|m,a,s,p|mode=prior_knowledge|complete=yes|"
                    "ua=bad\\x01\\x7cagent"),
            std::string::npos)
      << h2;
  EXPECT_EQ(h2.find('\n'), std::string::npos);
  Observation longsni = tls_record();
  longsni.tls->sni = std::string(300, 'a');
  const std::string cut = P0fLogWriter::format_log_line(longsni);
  EXPECT_NE(cut.find("sni=" + std::string(256, 'a') + "...|"), std::string::npos);
  // p0f's own kinds render exactly as format_line().
  Observation syn;
  syn.params = "none";
  EXPECT_EQ(P0fLogWriter::format_log_line(syn), P0fLogWriter::format_line(syn));
}

}  // namespace
}  // namespace huginn::report
