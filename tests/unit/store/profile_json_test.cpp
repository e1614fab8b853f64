// What a profile's JSON holds after each kind of observation: sections and
// fields, absence of unseen sections, history, verdict and hostile bytes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "huginn/store/profile_store.hpp"
#include "observations.hpp"

namespace huginn::store {
namespace {

using nlohmann::json;
using namespace test;

json profile_json(const ProfileStore& store, const packet::IpAddress& ip) {
  const ProfilePtr p = store.get(ip);
  if (!p) return nullptr;
  return json::parse(p->json.str());  // throws on invalid JSON or UTF-8
}

TEST(StoreProfileJson, FirstSynMakesAMinimalProfile) {
  ProfileStore store({});
  store.apply(syn(ip4(1), kT0 + 123'456));
  const ProfilePtr p = store.get(ip4(1));
  ASSERT_TRUE(p);
  const json j = json::parse(p->json.str());
  EXPECT_EQ(j["ip"], "10.0.0.1");
  EXPECT_EQ(j["first_seen"], "2026-11-25T10:00:00.123Z");
  EXPECT_EQ(j["last_seen"], "2026-11-25T10:00:00.123Z");
  EXPECT_EQ(j["connections"], 1);
  EXPECT_EQ(j["seq"], p->seq);
  EXPECT_EQ(j["os"], "Linux 3.11 and newer");
  EXPECT_TRUE(j["browser"].is_null());
  const json& s = j["tcp"]["syn"];
  EXPECT_EQ(s["signature"], "4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0");
  EXPECT_EQ(s["os"], "Linux 3.11 and newer");
  EXPECT_EQ(s["params"], "none");
  EXPECT_EQ(s["dist"], 0);
  EXPECT_EQ(s["match"]["line"], 30);
  EXPECT_EQ(s["match"]["generic"], false);
  for (const char* absent : {"http", "tls", "http2"}) EXPECT_FALSE(j.contains(absent)) << absent;
  EXPECT_FALSE(j["tcp"].contains("syn_ack"));
  EXPECT_FALSE(j["tcp"].contains("mtu"));
  EXPECT_EQ(j["verdict"]["status"], "insufficient");
  EXPECT_TRUE(j["history"].empty());
  EXPECT_EQ(p->has, kHasTcp);
  EXPECT_EQ(p->ip_text, "10.0.0.1");
  EXPECT_FALSE(p->etag.empty());
  EXPECT_EQ(p->etag.front(), '"');
  EXPECT_EQ(p->etag.back(), '"');
}

TEST(StoreProfileJson, UnknownSynHasNullOsAndToolsAreApps) {
  ProfileStore store({});
  store.apply(syn(ip4(1), kT0, std::nullopt));
  json j = profile_json(store, ip4(1));
  EXPECT_TRUE(j["tcp"]["syn"]["os"].is_null());
  EXPECT_TRUE(j["tcp"]["syn"]["match"].is_null());
  EXPECT_TRUE(j["os"].is_null());
  store.apply(syn(ip4(2), kT0, "NMap SYN scan", true));
  j = profile_json(store, ip4(2));
  EXPECT_TRUE(j["tcp"]["syn"]["os"].is_null());
  EXPECT_EQ(j["tcp"]["syn"]["app"], "NMap SYN scan");
}

TEST(StoreProfileJson, FullProfileHasEverySection) {
  ProfileStore store({});
  const auto ip = ip4(7);
  store.apply(syn(ip, kT0));
  store.apply(mtu(ip, kT0 + 1));
  store.apply(uptime(ip, kT0 + 2));
  store.apply(tls(ip, kT0 + 3));
  store.apply(http_request(ip, kT0 + 4, kChromeLinuxUa, "Chrome 11 or newer"));
  store.apply(http2(ip, kT0 + 5));
  store.apply(syn(ip, kT0 + 6'000'000));
  const ProfilePtr p = store.get(ip);
  ASSERT_TRUE(p);
  const json j = json::parse(p->json.str());
  EXPECT_EQ(j["connections"], 2);
  EXPECT_EQ(j["first_seen"], "2026-11-25T10:00:00.000Z");
  EXPECT_EQ(j["last_seen"], "2026-11-25T10:00:06.000Z");
  EXPECT_EQ(j["tcp"]["mtu"]["value"], 1500);
  EXPECT_EQ(j["tcp"]["mtu"]["link"], "Ethernet or modem");
  EXPECT_EQ(j["tcp"]["uptime"]["seconds"], 90 * 60);
  EXPECT_EQ(j["tcp"]["uptime"]["freq_hz"], 1000);
  EXPECT_EQ(j["tcp"]["uptime"]["modulo_days"], 49);
  const json& req = j["http"]["request"];
  EXPECT_EQ(req["app"], "Chrome 11 or newer");
  EXPECT_EQ(req["lang"], "English");
  EXPECT_EQ(req["user_agent"], kChromeLinuxUa);
  EXPECT_EQ(req["dishonest"], false);
  EXPECT_EQ(req["method"], "GET");
  EXPECT_EQ(req["path"], "/index.html");
  ASSERT_TRUE(req["header_order"].is_array());
  EXPECT_EQ(req["header_order"][2], "User-Agent");
  EXPECT_EQ(req["match"]["line"], 900);
  EXPECT_TRUE(req["signature"].get<std::string>().starts_with("1:Host,"));
  EXPECT_FALSE(j["http"].contains("response"));
  const json& t = j["tls"];
  EXPECT_EQ(t["ja4"], kChromeJa4);
  EXPECT_TRUE(t["ja4_r"].get<std::string>().starts_with("t13d1516h2_002f"));
  EXPECT_EQ(t["ja4_o"], "t13d1516h2_acb858a92679_1a2b3c4d5e6f");
  EXPECT_TRUE(t["ja4_ro"].get<std::string>().starts_with("t13d1516h2_1301"));
  EXPECT_EQ(t["ja4_stable"], kChromeJa4);
  EXPECT_EQ(t["sni"], "www.example.com");
  EXPECT_EQ(t["alpn"], json::array({"h2", "http/1.1"}));
  EXPECT_EQ(j["http2"]["akamai"], "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p");
  EXPECT_EQ(j["http2"]["pseudo_header_order"], "m,a,s,p");
  EXPECT_EQ(j["http2"]["user_agent"], kChromeLinuxUa);
  EXPECT_EQ(j["http2"]["http_signature"], "2:user-agent,accept,accept-encoding,accept-language::Chrome/");
  EXPECT_EQ(j["verdict"]["status"], "consistent");
  EXPECT_EQ(j["browser"], "Chrome 11 or newer");  // the p0f app label wins over the UA product
  EXPECT_EQ(p->has, kHasTcp | kHasHttp | kHasTls | kHasHttp2);
  EXPECT_EQ(p->ja4, kChromeJa4);
  EXPECT_EQ(p->os, "Linux 3.11 and newer");
  EXPECT_EQ(p->connections, 2U);
}

TEST(StoreProfileJson, ServerRecordsGoToTheServerProfile) {
  ProfileStore store({});
  store.apply(syn_ack(ip4(1), kT0));
  store.apply(http_response(ip4(1), kT0 + 1));
  EXPECT_FALSE(store.get(ip4(1)));
  const json j = profile_json(store, kServer);
  EXPECT_EQ(j["ip"], "192.0.2.1");
  EXPECT_EQ(j["connections"], 0);
  EXPECT_EQ(j["tcp"]["syn_ack"]["os"], "Linux 3.x");
  EXPECT_EQ(j["os"], "Linux 3.x");
  EXPECT_EQ(j["http"]["response"]["app"], "nginx 1.x");
  EXPECT_EQ(j["http"]["response"]["server"], "nginx/1.22.1");
  EXPECT_FALSE(j["http"].contains("request"));
}

TEST(StoreProfileJson, BrowserFallsBackToUserAgentThenHttp2) {
  ProfileStore store({});
  store.apply(http_request(ip4(1), kT0, "curl/8.1.2"));
  EXPECT_EQ(store.get(ip4(1))->browser, "curl");
  store.apply(http2(ip4(2), kT0));
  EXPECT_EQ(store.get(ip4(2))->browser, "Chrome");
  EXPECT_EQ(profile_json(store, ip4(2))["browser"], "Chrome");
}

TEST(StoreProfileJson, VerdictFlagsUaOsMismatch) {
  ProfileStore store({});
  store.apply(syn(ip4(1), kT0));
  store.apply(http_request(ip4(1), kT0, kChromeWindowsUa, "Chrome 11 or newer", true));
  const json j = profile_json(store, ip4(1));
  EXPECT_EQ(j["verdict"]["status"], "inconsistent");
  EXPECT_EQ(j["verdict"]["reasons"], json::array({"ua_os_vs_tcp_os", "http_dishonest"}));
}

TEST(StoreProfileJson, HistoryRecordsChangesAndNatReasons) {
  StoreConfig config;
  config.history_limit = 4;
  ProfileStore store(config);
  const auto ip = ip4(3);
  store.apply(syn(ip, kT0));
  store.apply(syn(ip, kT0 + 1000, "Windows 7 or 8"));
  store.apply(nat(ip, kT0 + 2000, false, analyzer::kNatOsSig | analyzer::kNatTtl));
  store.apply(tls(ip, kT0 + 3000));
  store.apply(tls(ip, kT0 + 4000, "t13d1715h2_5b57614c22b0_3d5424432f57"));
  store.apply(http_request(ip, kT0 + 5000, kChromeLinuxUa));
  store.apply(http_request(ip, kT0 + 6000, ""));  // no UA: not a change
  json h = profile_json(store, ip)["history"];
  ASSERT_EQ(h.size(), 3U);
  EXPECT_EQ(h[0]["field"], "os");
  EXPECT_EQ(h[0]["from"], "Linux 3.11 and newer");
  EXPECT_EQ(h[0]["to"], "Windows 7 or 8");
  EXPECT_EQ(h[0]["time"], "2026-11-25T10:00:00.001Z");
  EXPECT_TRUE(h[0]["reasons"].empty());
  EXPECT_EQ(h[1]["field"], "host_change");
  EXPECT_TRUE(h[1]["from"].is_null());
  EXPECT_EQ(h[1]["reasons"], json::array({"os_diff", "ttl"}));
  EXPECT_EQ(h[2]["field"], "ja4");
  EXPECT_EQ(h[2]["to"], "t13d1715h2_5b57614c22b0_3d5424432f57");

  store.apply(http_request(ip, kT0 + 7000, kChromeWindowsUa));
  store.apply(http2(ip, kT0 + 8000));
  store.apply(http2(ip, kT0 + 9000, "2:0;4:131072;5:16384|12517377|3:0:0:201|m,p,a,s"));
  store.apply(nat(ip, kT0 + 10000, true, analyzer::kNatPort));
  h = profile_json(store, ip)["history"];
  ASSERT_EQ(h.size(), 4U);  // bounded: the oldest went
  EXPECT_EQ(h[0]["field"], "ja4");
  EXPECT_EQ(h[1]["field"], "user_agent");
  EXPECT_EQ(h[1]["from"], kChromeLinuxUa);
  EXPECT_EQ(h[2]["field"], "http2");
  EXPECT_EQ(h[3]["field"], "ip_sharing");
  EXPECT_EQ(h[3]["reasons"], json::array({"port"}));
}

TEST(StoreProfileJson, HostileBytesStayValidJson) {
  ProfileStore store({});
  const auto ip = ip4(9);
  std::string evil = "\"\\\n\r\t\x01\x1f\x7f ok \xff\xfe \xc3\x28 \xe2\x82 \xf0\x9f\x98\x80 \xed\xa0\x80 </script>";
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes += static_cast<char>(b);
  auto req = http_request(ip, kT0, evil + all_bytes);
  req.http.path = "/\x80\x81?q=\"x\"";
  req.http.method = std::string("G\0T", 3);
  req.http.header_names = {evil, all_bytes};
  store.apply(req);
  auto hello = tls(ip, kT0, kChromeJa4, {evil, all_bytes, std::string(300, '\xff')});
  hello.tls->sni = all_bytes;
  store.apply(hello);
  store.apply(http2(ip, kT0, "1:65536|0|0|m,a,s,p", all_bytes));
  std::string long_ua(100'000, 'A');
  store.apply(http_request(ip4(10), kT0, long_ua));

  const json j = profile_json(store, ip);  // parse succeeds: valid JSON and UTF-8
  const std::string ua = j["http"]["request"]["user_agent"];
  EXPECT_TRUE(ua.starts_with("\"\\\n\r\t\x01\x1f\x7f ok \xEF\xBF\xBD"));
  EXPECT_NE(ua.find("\xf0\x9f\x98\x80"), std::string::npos);  // valid UTF-8 kept
  EXPECT_EQ(j["http"]["request"]["method"], std::string("G\0T", 3));
  EXPECT_EQ(j["tls"]["alpn"].size(), 3U);
  EXPECT_EQ(j["http"]["request"]["header_order"].size(), 2U);
  EXPECT_TRUE(j["http2"]["user_agent"].is_string());
  // Wire strings are bounded per field.
  const json big = profile_json(store, ip4(10));
  EXPECT_EQ(big["http"]["request"]["user_agent"].get<std::string>().size(), 512U);
  EXPECT_LT(store.get(ip4(10))->json.size(), 2048U);
}

TEST(StoreProfileJson, Ipv6TextIsRfc5952) {
  ProfileStore store({});
  std::array<std::uint8_t, 16> b{};
  b[0] = 0x20;
  b[1] = 0x01;
  b[2] = 0x0d;
  b[3] = 0xb8;
  b[15] = 1;
  const auto ip = packet::IpAddress::v6(b);
  store.apply(syn(ip, kT0));
  EXPECT_EQ(store.get(ip)->ip_text, "2001:db8::1");
  EXPECT_EQ(profile_json(store, ip)["ip"], "2001:db8::1");
}

TEST(StoreProfileJson, SendsynOnlyTouchesLastSeen) {
  ProfileStore store({});
  store.apply(syn(ip4(1), kT0));
  auto probe = syn(ip4(1), kT0 + 5'000'000);
  probe.kind = analyzer::ObservationKind::kSendsynProbe;
  probe.match = match("Windows XP");
  store.apply(probe);
  const json j = profile_json(store, ip4(1));
  EXPECT_EQ(j["connections"], 1);
  EXPECT_EQ(j["tcp"]["syn"]["os"], "Linux 3.11 and newer");
  EXPECT_EQ(j["last_seen"], "2026-11-25T10:00:05.000Z");
}

}  // namespace
}  // namespace huginn::store
