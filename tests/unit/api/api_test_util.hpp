#pragma once
// Shared by the api unit tests: a real ProfileStore filled through real
// Observations, a StatusSource the test controls, and a ResponseWriter that
// keeps what the Router sent.
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "huginn/analyzer/observation.hpp"
#include "huginn/api/router.hpp"
#include "huginn/api/status.hpp"
#include "huginn/server/http_types.hpp"
#include "huginn/store/profile_store.hpp"

namespace huginn::api::test {

class CaptureWriter final : public server::ResponseWriter {
 public:
  bool send(server::Response r) override {
    ++sends;
    response = std::move(r);
    return true;
  }
  bool start_stream(int, server::Headers) override { return false; }
  bool write(std::string) override { return false; }
  void finish() override {}
  void on_close(std::function<void()>) override {}
  [[nodiscard]] bool push_enabled() const override { return false; }
  bool push(std::string, server::Response) override { return false; }

  int sends = 0;
  std::optional<server::Response> response;
};

class FixedStatus final : public StatusSource {
 public:
  [[nodiscard]] ServiceStatus status() const override { return value; }
  ServiceStatus value;
};

inline packet::IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return packet::IpAddress::v4(a, b, c, d);
}

inline packet::IpAddress v6(std::initializer_list<std::uint8_t> tail) {
  std::array<std::uint8_t, 16> b{};
  b[0] = 0x20;
  b[1] = 0x01;
  b[2] = 0x0d;
  b[3] = 0xb8;
  std::size_t i = 16 - tail.size();
  for (auto x : tail) b[i++] = x;
  return packet::IpAddress::v6(b);
}

inline analyzer::Observation base_obs(analyzer::ObservationKind kind, const packet::IpAddress& client,
                                      std::int64_t ts_s) {
  analyzer::Observation o;
  o.kind = kind;
  o.ts_us = ts_s * 1'000'000;
  o.client.addr = client;
  // A new source port per timestamp: each SYN is a new connection, not a
  // retransmission the store would not count.
  o.client.port = static_cast<std::uint16_t>(40000 + ts_s % 20000);
  o.server.addr = v4(192, 0, 2, 1);
  o.server.port = 443;
  o.subject = analyzer::Subject::kClient;
  return o;
}

inline analyzer::Observation syn(const packet::IpAddress& ip, std::int64_t ts_s, std::string os_label) {
  auto o = base_obs(analyzer::ObservationKind::kSyn, ip, ts_s);
  o.signature = "4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0";
  analyzer::SigMatchInfo m;
  m.label = std::move(os_label);
  m.line = 42;
  o.match = m;
  o.dist = 0;
  o.params = "none";
  return o;
}

inline analyzer::Observation http_request(const packet::IpAddress& ip, std::int64_t ts_s, std::string ua) {
  auto o = base_obs(analyzer::ObservationKind::kHttpRequest, ip, ts_s);
  o.signature = "1:Host,User-Agent,Accept=[*/*]::";
  o.params = "none";
  o.lang = "none";
  o.http.method = "GET";
  o.http.path = "/";
  o.http.user_agent = std::move(ua);
  o.http.header_names = {"Host", "User-Agent", "Accept"};
  return o;
}

inline analyzer::Observation tls(const packet::IpAddress& ip, std::int64_t ts_s, std::string ja4) {
  auto o = base_obs(analyzer::ObservationKind::kTlsClient, ip, ts_s);
  analyzer::TlsDetails t;
  t.ja4 = std::move(ja4);
  t.ja4_r = "t13d1516h2_raw";
  t.ja4_o = "t13d1516h2_o";
  t.ja4_ro = "t13d1516h2_ro";
  t.ja4_stable = t.ja4;
  t.sni = "example.test";
  t.alpn = {"h2", "http/1.1"};
  o.tls = t;
  return o;
}

inline analyzer::Observation http2(const packet::IpAddress& ip, std::int64_t ts_s, std::string akamai) {
  auto o = base_obs(analyzer::ObservationKind::kHttp2Client, ip, ts_s);
  analyzer::Http2Details h;
  h.akamai = std::move(akamai);
  h.pseudo_header_order = "m,a,s,p";
  h.user_agent = "curl/7.88.1";
  o.http2 = h;
  return o;
}

inline server::Request make_request(std::string method, std::string target,
                                    server::Headers headers = {}) {
  server::Request r;
  r.method = std::move(method);
  r.target = target;
  std::size_t q = target.find('?');
  r.path = target.substr(0, q);
  r.query = q == std::string::npos ? std::string() : target.substr(q + 1);
  r.authority = "127.0.0.1:8080";
  r.headers = std::move(headers);
  r.conn.id = 1;
  r.conn.peer.addr = v4(127, 0, 0, 1);
  r.conn.peer.port = 50000;
  r.conn.local.addr = v4(127, 0, 0, 1);
  r.conn.local.port = 8080;
  return r;
}

// Sends `request` through Router::handle (the real entry point) and
// returns what reached the writer; fails the test when nothing or more
// than one response was sent.
inline server::Response run(Router& router, server::Request request) {
  auto writer = std::make_shared<CaptureWriter>();
  router.handle(std::move(request), writer);
  EXPECT_EQ(writer->sends, 1);
  return writer->response.value_or(server::Response{599, {}, {}});
}

inline std::optional<std::string> header(const server::Response& r, std::string_view name) {
  std::optional<std::string> found;
  for (const auto& [n, v] : r.headers) {
    if (n == name) {
      EXPECT_FALSE(found.has_value()) << "duplicate header " << name;
      found = v;
    }
  }
  return found;
}

// RFC 1952 inflate through zlib, independent of the code under test.
inline std::string gunzip(std::string_view in) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  std::string out;
  std::array<char, 16384> buf{};
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf.data());
    zs.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf.data(), buf.size() - zs.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  EXPECT_EQ(zs.avail_in, 0u);
  inflateEnd(&zs);
  return out;
}

// A router over a real store holding four distinct clients.
class ApiFixture : public ::testing::Test {
 protected:
  ApiFixture() {
    status_.value.capture_state = CaptureState::kRunning;
    status_.value.capture_source = "lo";
    status_.value.packets_seen = 1234;
    status_.value.kernel_drops = 5;
    status_.value.malformed = 7;
    status_.value.db_path = "/etc/p0f/p0f.fp";
    status_.value.db_loaded = true;
    status_.value.db_signatures = 321;
    status_.value.started_at = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    status_.value.analyzer_counters = {{"syn", 10}, {"odd \"name\"\\x\n", 2}};
    status_.value.server_counters = {{"connections_accepted", 3}, {"realtime_subscribers_current", 2}};
    RouterConfig cfg;
    cfg.clock = [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'100)); };
    router_ = std::make_unique<Router>(store_, status_, cfg);
  }

  void fill() {
    store_.apply(syn(v4(10, 0, 0, 1), 1000, "Linux 3.11 and newer"));
    store_.apply(http_request(v4(10, 0, 0, 1), 1001,
                              "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0"));
    store_.apply(syn(v4(10, 0, 0, 2), 1002, "Windows 7 or 8"));
    store_.apply(syn(v4(10, 0, 0, 2), 1003, "Windows 7 or 8"));
    store_.apply(tls(v4(10, 0, 0, 2), 1004, "t13d1516h2_8daaf6152771_02713d6af862"));
    store_.apply(syn(v6({0x01}), 1005, "Mac OS X 10.x"));
    store_.apply(http2(v6({0x01}), 1006, "1:65536;4:131072;5:16384|12517377|0|m,p,a,s"));
    store_.apply(syn(v4(127, 0, 0, 1), 1007, "Linux 2.2.x-3.x"));
  }

  server::Response get(std::string target, server::Headers headers = {}) {
    return run(*router_, make_request("GET", std::move(target), std::move(headers)));
  }

  store::ProfileStore store_{store::StoreConfig{}};
  FixedStatus status_;
  std::unique_ptr<Router> router_;
};

}  // namespace huginn::api::test
