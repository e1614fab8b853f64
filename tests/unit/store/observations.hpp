#pragma once
// Observation builders for the store tests and benchmark: one per kind, with
// plausible p0f-like values (not lines of p0f.fp).
#include <cstdint>
#include <optional>
#include <string>

#include "huginn/analyzer/observation.hpp"
#include "huginn/packet/ip_address.hpp"

namespace huginn::store::test {

inline constexpr std::int64_t kT0 = 1'795'600'800'000'000;  // 2026-11-25T10:00:00Z in µs

inline packet::IpAddress ip4(std::uint32_t n) {
  return packet::IpAddress::v4(10, static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 8),
                               static_cast<std::uint8_t>(n));
}
inline const packet::IpAddress kServer = packet::IpAddress::v4(192, 0, 2, 1);

inline analyzer::Observation base(analyzer::ObservationKind kind, const packet::IpAddress& client,
                                  std::int64_t ts_us) {
  analyzer::Observation o;
  o.kind = kind;
  o.ts_us = ts_us;
  o.client = {client, 40000};
  o.server = {kServer, 443};
  return o;
}

inline analyzer::SigMatchInfo match(std::string label, bool is_app = false, std::uint32_t line = 100) {
  analyzer::SigMatchInfo m;
  m.label = std::move(label);
  m.is_app = is_app;
  m.line = line;
  return m;
}

inline analyzer::Observation syn(const packet::IpAddress& ip, std::int64_t ts,
                                 std::optional<std::string> label = "Linux 3.11 and newer", bool is_app = false) {
  auto o = base(analyzer::ObservationKind::kSyn, ip, ts);
  // Each SYN a new connection: the store counts a repeated 4-tuple once.
  static std::uint16_t next_port = 40000;
  o.client.port = next_port++;
  o.signature = "4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0";
  if (label) o.match = match(*label, is_app, 30);
  o.dist = 0;
  o.params = "none";
  return o;
}

inline analyzer::Observation syn_ack(const packet::IpAddress& client, std::int64_t ts) {
  auto o = base(analyzer::ObservationKind::kSynAck, client, ts);
  o.subject = analyzer::Subject::kServer;
  o.signature = "4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df:0";
  o.match = match("Linux 3.x", false, 70);
  o.params = "none";
  return o;
}

inline analyzer::Observation mtu(const packet::IpAddress& ip, std::int64_t ts) {
  auto o = base(analyzer::ObservationKind::kMtu, ip, ts);
  o.mtu = 1500;
  o.link = "Ethernet or modem";
  return o;
}

inline analyzer::Observation uptime(const packet::IpAddress& ip, std::int64_t ts) {
  auto o = base(analyzer::ObservationKind::kUptime, ip, ts);
  o.uptime_min = 90;
  o.modulo_days = 49;
  o.freq_hz = 1000;
  o.raw_freq_hz = 1000.2;
  return o;
}

inline constexpr const char* kChromeLinuxUa =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
inline constexpr const char* kChromeWindowsUa =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36";

inline analyzer::Observation http_request(const packet::IpAddress& ip, std::int64_t ts,
                                          std::string ua = kChromeLinuxUa,
                                          std::optional<std::string> app = std::nullopt, bool dishonest = false) {
  auto o = base(analyzer::ObservationKind::kHttpRequest, ip, ts);
  o.signature = "1:Host,Connection=[keep-alive],User-Agent,Accept=[*/*],Accept-Encoding,Accept-Language:Accept-Charset,Keep-Alive:Chrome/";
  if (app) o.match = match(*app, true, 900);
  o.params = "none";
  o.lang = "English";
  o.dishonest = dishonest;
  o.http.method = "GET";
  o.http.path = "/index.html";
  o.http.user_agent = std::move(ua);
  o.http.accept_language = "en-US,en;q=0.9";
  o.http.header_names = {"Host", "Connection", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language"};
  return o;
}

inline analyzer::Observation http_response(const packet::IpAddress& client, std::int64_t ts) {
  auto o = base(analyzer::ObservationKind::kHttpResponse, client, ts);
  o.subject = analyzer::Subject::kServer;
  o.signature = "1:Server,Date,Content-Type,Content-Length,Connection=[keep-alive]:Keep-Alive:nginx/";
  o.match = match("nginx 1.x", true, 1000);
  o.params = "none";
  o.http.server = "nginx/1.22.1";
  o.http.header_names = {"Server", "Date", "Content-Type", "Content-Length", "Connection"};
  return o;
}

inline constexpr const char* kChromeJa4 = "t13d1516h2_8daaf6152771_02713d6af862";

inline analyzer::Observation tls(const packet::IpAddress& ip, std::int64_t ts, std::string ja4 = kChromeJa4,
                                 std::vector<std::string> alpn = {"h2", "http/1.1"}) {
  auto o = base(analyzer::ObservationKind::kTlsClient, ip, ts);
  o.tls.emplace();
  o.tls->ja4 = ja4;
  o.tls->ja4_r =
      "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,"
      "0012,0017,001b,0023,002b,002d,0033,4469,fe0d,ff01_0403,0804,0401,0503,0805,0501,0806,0601";
  o.tls->ja4_o = "t13d1516h2_acb858a92679_1a2b3c4d5e6f";
  o.tls->ja4_ro =
      "t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_0000,0017,ff01,000a,"
      "000b,0023,0010,0005,000d,0012,0033,002d,002b,001b,4469,fe0d_0403,0804,0401,0503,0805,0501,0806,0601";
  o.tls->ja4_stable = ja4;
  o.tls->sni = "www.example.com";
  o.tls->alpn = std::move(alpn);
  return o;
}

inline analyzer::Observation http2(const packet::IpAddress& ip, std::int64_t ts,
                                   std::string akamai = "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p",
                                   std::optional<std::string> ua = std::string(kChromeLinuxUa)) {
  auto o = base(analyzer::ObservationKind::kHttp2Client, ip, ts);
  o.http2.emplace();
  o.http2->akamai = std::move(akamai);
  o.http2->pseudo_header_order = "m,a,s,p";
  o.http2->user_agent = std::move(ua);
  o.http2->http_signature = "2:user-agent,accept,accept-encoding,accept-language::Chrome/";
  return o;
}

inline analyzer::Observation nat(const packet::IpAddress& ip, std::int64_t ts, bool sharing, std::uint16_t reasons) {
  auto o = base(sharing ? analyzer::ObservationKind::kIpSharing : analyzer::ObservationKind::kHostChange, ip, ts);
  o.reasons = reasons;
  return o;
}

}  // namespace huginn::store::test
