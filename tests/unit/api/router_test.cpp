// The Router driven through its real entry point (handle + a writer) over a
// real ProfileStore: every route, parameters, errors, validators, gzip,
// caching rules and hostile input.
#include "huginn/api/router.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "api_test_util.hpp"
#include "huginn/api/assets.hpp"

namespace huginn::api::test {
namespace {

using nlohmann::json;

std::vector<std::string> ips_of(const server::Response& r) {
  std::vector<std::string> out;
  json j = json::parse(r.body);
  for (const auto& p : j.at("profiles")) out.push_back(p.at("ip").get<std::string>());
  return out;
}

class RouterTest : public ApiFixture {};

TEST_F(RouterTest, ListsProfilesSplicedFromStoredJson) {
  fill();
  auto r = get("/api/profiles");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(header(r, "content-type"), "application/json");
  EXPECT_EQ(header(r, "cache-control"), "no-cache");
  auto j = json::parse(r.body);
  EXPECT_EQ(j.at("total"), 4);
  EXPECT_EQ(j.at("seq"), store_.seq());
  ASSERT_EQ(j.at("profiles").size(), 4u);
  // Default order: last_seen descending; 127.0.0.1 was seen last.
  EXPECT_EQ(j["profiles"][0]["ip"], "127.0.0.1");
  // The bytes are the store's own JSON, not a re-serialisation.
  auto p = store_.get(v4(127, 0, 0, 1));
  ASSERT_NE(p, nullptr);
  EXPECT_NE(r.body.find(p->json.str()), std::string::npos);
}

TEST_F(RouterTest, EmptyStoreListsNothing) {
  auto r = get("/api/profiles");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"profiles":[],"total":0,"seq":)" +
                                             std::to_string(store_.seq()) + "}"));
}

TEST_F(RouterTest, FiltersByOsBrowserJa4QueryAndSections) {
  fill();
  EXPECT_EQ(ips_of(get("/api/profiles?os=windows")), std::vector<std::string>{"10.0.0.2"});
  EXPECT_EQ(ips_of(get("/api/profiles?browser=firefox")), std::vector<std::string>{"10.0.0.1"});
  EXPECT_EQ(ips_of(get("/api/profiles?ja4=t13d1516h2_8daaf6152771_02713d6af862")),
            std::vector<std::string>{"10.0.0.2"});
  EXPECT_EQ(ips_of(get("/api/profiles?has=h2")), std::vector<std::string>{"2001:db8::1"});
  EXPECT_EQ(ips_of(get("/api/profiles?has=tcp,tls")), std::vector<std::string>{"10.0.0.2"});
  EXPECT_TRUE(ips_of(get("/api/profiles?has=tls,h2")).empty());
  // Percent-encoding and '+' for space, as URLSearchParams writes them.
  EXPECT_EQ(ips_of(get("/api/profiles?os=Mac%20OS+X")), std::vector<std::string>{"2001:db8::1"});
  EXPECT_EQ(ips_of(get("/api/profiles?q=example.test")), std::vector<std::string>{"10.0.0.2"});
  // An empty filter box filters nothing.
  EXPECT_EQ(json::parse(get("/api/profiles?os=&q=").body).at("total"), 4);
}

TEST_F(RouterTest, SortsAndPages) {
  fill();
  EXPECT_EQ(ips_of(get("/api/profiles?sort=ip")),
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "127.0.0.1", "2001:db8::1"}));
  EXPECT_EQ(ips_of(get("/api/profiles?sort=ip&order=desc")),
            (std::vector<std::string>{"2001:db8::1", "127.0.0.1", "10.0.0.2", "10.0.0.1"}));
  EXPECT_EQ(ips_of(get("/api/profiles?sort=first_seen&order=asc"))[0], "10.0.0.1");
  EXPECT_EQ(ips_of(get("/api/profiles?sort=connections"))[0], "10.0.0.2");
  EXPECT_EQ(ips_of(get("/api/profiles?sort=os&order=asc"))[0], "127.0.0.1");  // "Linux 2.2..."

  auto page = get("/api/profiles?sort=ip&limit=2&offset=1");
  EXPECT_EQ(ips_of(page), (std::vector<std::string>{"10.0.0.2", "127.0.0.1"}));
  EXPECT_EQ(json::parse(page.body).at("total"), 4);
  EXPECT_TRUE(ips_of(get("/api/profiles?offset=10")).empty());
  EXPECT_TRUE(ips_of(get("/api/profiles?limit=0")).empty());
  EXPECT_EQ(get("/api/profiles?limit=1000").status, 200);
}

TEST_F(RouterTest, BadParametersAreNamedIn400) {
  struct Case {
    const char* target;
    const char* parameter;
  };
  for (const Case& c : {Case{"/api/profiles?limit=1001", "limit"}, Case{"/api/profiles?limit=-1", "limit"},
                        Case{"/api/profiles?limit=abc", "limit"}, Case{"/api/profiles?limit=", "limit"},
                        Case{"/api/profiles?limit=99999999999999999999999", "limit"},
                        Case{"/api/profiles?offset=1e3", "offset"}, Case{"/api/profiles?sort=name", "sort"},
                        Case{"/api/profiles?order=up", "order"}, Case{"/api/profiles?has=tcp,udp", "has"},
                        Case{"/api/profiles?has=", "has"}, Case{"/api/profiles?since=3&os=x", "os"},
                        Case{"/api/profiles?os=a&os=b", "os"}, Case{"/api/profiles?os=%zz", "os"},
                        Case{"/api/profiles?os=%4", "os"}, Case{"/api/profiles/10.0.0.1?x=1", "x"},
                        Case{"/api/stats?pretty", "pretty"}, Case{"/metrics?x=", "x"}}) {
    SCOPED_TRACE(c.target);
    auto r = get(c.target);
    ASSERT_EQ(r.status, 400);
    auto j = json::parse(r.body);
    EXPECT_EQ(j.at("error"), "bad_request");
    EXPECT_EQ(j.at("parameter"), c.parameter);
    EXPECT_FALSE(j.at("message").get<std::string>().empty());
    EXPECT_EQ(header(r, "content-type"), "application/json");
  }
}

TEST_F(RouterTest, SingleProfileByAnyAddressForm) {
  fill();
  for (const char* path : {"/api/profiles/10.0.0.2", "/api/profiles/::ffff:10.0.0.2",
                           "/api/profiles/%3A%3Affff%3A10.0.0.2"}) {
    SCOPED_TRACE(path);
    auto r = get(path);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, store_.get(v4(10, 0, 0, 2))->json.str());
  }
  for (const char* path : {"/api/profiles/2001:db8::1", "/api/profiles/2001:DB8:0:0:0:0:0:1",
                           "/api/profiles/2001:0db8:0000::0001"}) {
    SCOPED_TRACE(path);
    auto r = get(path);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(json::parse(r.body).at("ip"), "2001:db8::1");
  }
  EXPECT_EQ(get("/api/profiles/10.9.9.9").status, 404);
  EXPECT_EQ(json::parse(get("/api/profiles/10.9.9.9").body).at("error"), "not_found");
}

TEST_F(RouterTest, InvalidAddressesAre400) {
  for (const char* path :
       {"/api/profiles/", "/api/profiles/10.0.0", "/api/profiles/10.0.0.256", "/api/profiles/010.0.0.1x",
        "/api/profiles/ 10.0.0.1", "/api/profiles/10.0.0.1%00", "/api/profiles/fe80::1%25eth0",
        "/api/profiles/[::1]", "/api/profiles/::1/", "/api/profiles/10.0.0.1/x", "/api/profiles/%",
        "/api/profiles/..%2F..%2Fetc%2Fpasswd", "/api/profiles/1:2:3:4:5:6:7:8:9",
        "/api/profiles/0x0a.0.0.1", "/api/profiles/4294967295"}) {
    SCOPED_TRACE(path);
    auto r = get(path);
    ASSERT_EQ(r.status, 400);
    EXPECT_EQ(json::parse(r.body).at("parameter"), "ip");
  }
  std::string long_ip = "/api/profiles/" + std::string(5000, '1');
  EXPECT_EQ(get(long_ip).status, 400);
}

TEST_F(RouterTest, MeIsTheConnectionsPeer) {
  auto none = get("/api/me");
  ASSERT_EQ(none.status, 404);
  auto j = json::parse(none.body);
  EXPECT_EQ(j.at("error"), "not_found");
  EXPECT_EQ(j.at("ip"), "127.0.0.1");
  EXPECT_NE(j.at("message").get<std::string>().find("127.0.0.1"), std::string::npos);

  fill();
  auto me = get("/api/me");
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(json::parse(me.body).at("ip"), "127.0.0.1");
  EXPECT_EQ(header(me, "cache-control"), "private, no-cache");

  // A v4 peer seen through a dual-stack socket as ::ffff:a.b.c.d.
  auto req = make_request("GET", "/api/me");
  std::array<std::uint8_t, 16> mapped{};
  mapped[10] = 0xff;
  mapped[11] = 0xff;
  mapped[12] = 10;
  mapped[15] = 2;
  req.conn.peer.addr = packet::IpAddress::v6(mapped);
  auto r = run(*router_, req);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body).at("ip"), "10.0.0.2");
}

TEST_F(RouterTest, DeletesOneAndAll) {
  fill();
  auto d = run(*router_, make_request("DELETE", "/api/profiles/10.0.0.1"));
  EXPECT_EQ(d.status, 204);
  EXPECT_TRUE(d.body.empty());
  EXPECT_EQ(store_.get(v4(10, 0, 0, 1)), nullptr);
  EXPECT_EQ(run(*router_, make_request("DELETE", "/api/profiles/10.0.0.1")).status, 404);
  EXPECT_EQ(run(*router_, make_request("DELETE", "/api/profiles/nope")).status, 400);

  auto all = run(*router_, make_request("DELETE", "/api/profiles"));
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(json::parse(all.body), json::parse(R"({"deleted":3})"));
  EXPECT_EQ(header(all, "cache-control"), "no-store");
  EXPECT_EQ(store_.counters().profiles, 0u);
  EXPECT_EQ(run(*router_, make_request("DELETE", "/api/profiles?all=1")).status, 400);
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  struct Case {
    const char* method;
    const char* target;
    const char* allow;
    bool json_body;
  };
  for (const Case& c : {Case{"POST", "/api/profiles", "GET, HEAD, DELETE", true},
                        Case{"PUT", "/api/profiles/10.0.0.1", "GET, HEAD, DELETE", true},
                        Case{"DELETE", "/api/me", "GET, HEAD", true},
                        Case{"DELETE", "/api/stats", "GET, HEAD", true},
                        Case{"PATCH", "/api/health", "GET, HEAD", true},
                        Case{"POST", "/api/openapi.json", "GET, HEAD", true},
                        Case{"POST", "/metrics", "GET, HEAD", false},
                        Case{"OPTIONS", "/", "GET, HEAD", false},
                        Case{"DELETE", "/app.js", "GET, HEAD", false}}) {
    SCOPED_TRACE(std::string(c.method) + " " + c.target);
    auto r = run(*router_, make_request(c.method, c.target));
    ASSERT_EQ(r.status, 405);
    EXPECT_EQ(header(r, "allow"), c.allow);
    if (c.json_body) {
      EXPECT_EQ(json::parse(r.body).at("error"), "method_not_allowed");
    }
  }
}

TEST_F(RouterTest, GateRefusesBeforeAnyRoute) {
  auto unknown = run(*router_, make_request("BREW", "/api/profiles"));
  EXPECT_EQ(unknown.status, 501);
  EXPECT_EQ(json::parse(unknown.body).at("error"), "not_implemented");
  EXPECT_EQ(run(*router_, make_request("G(T", "/api/profiles")).status, 400);
  EXPECT_EQ(run(*router_, make_request("", "/")).status, 400);

  auto big_body = make_request("DELETE", "/api/profiles");
  big_body.body.assign(2000, 'x');
  EXPECT_EQ(run(*router_, big_body).status, 413);
  EXPECT_EQ(store_.counters().deleted, 0u);  // refused before the route ran

  auto long_target = make_request("GET", "/api/profiles?q=" + std::string(9000, 'a'));
  auto r414 = run(*router_, long_target);
  EXPECT_EQ(r414.status, 414);
  EXPECT_EQ(json::parse(r414.body).at("error"), "uri_too_long");

  server::Headers many;
  for (int i = 0; i < 150; ++i) many.emplace_back("x-h" + std::to_string(i), "v");
  EXPECT_EQ(run(*router_, make_request("GET", "/api/profiles", many)).status, 431);
  EXPECT_EQ(run(*router_, make_request("GET", "/", {{"cookie", std::string(20000, 'c')}})).status, 431);

  auto asterisk = make_request("OPTIONS", "*");
  EXPECT_EQ(run(*router_, asterisk).status, 400);
}

TEST_F(RouterTest, UnknownPaths) {
  auto api = get("/api/nothing");
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(json::parse(api.body).at("error"), "not_found");
  EXPECT_EQ(get("/api").status, 404);
  for (const char* path : {"/nothing", "/../etc/passwd", "/..%2f..%2fetc%2fpasswd", "/web/app.js",
                           "//app.js", "/app.js/", "/APP.JS", "/index.html%00", "/%2e%2e/CMakeLists.txt",
                           "/./app.js"}) {
    SCOPED_TRACE(path);
    auto r = get(path);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(header(r, "content-type"), "text/plain; charset=utf-8");
  }
}

TEST_F(RouterTest, ListEtagAnd304UntilTheStoreChanges) {
  fill();
  auto first = get("/api/profiles?sort=ip");
  auto etag = header(first, "etag");
  ASSERT_TRUE(etag.has_value());
  EXPECT_EQ(etag->front(), '"');

  auto again = get("/api/profiles?sort=ip", {{"if-none-match", *etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(header(again, "etag"), etag);
  EXPECT_EQ(header(again, "cache-control"), "no-cache");
  // Weak comparison (RFC 9110 §13.1.2), lists, and "*".
  EXPECT_EQ(get("/api/profiles?sort=ip", {{"if-none-match", "W/" + *etag}}).status, 304);
  EXPECT_EQ(get("/api/profiles?sort=ip", {{"if-none-match", "\"x\", " + *etag}}).status, 304);
  EXPECT_EQ(get("/api/profiles?sort=ip", {{"if-none-match", "*"}}).status, 304);
  // Another query is another resource.
  EXPECT_EQ(get("/api/profiles?sort=os", {{"if-none-match", *etag}}).status, 200);
  EXPECT_EQ(get("/api/profiles?sort=ip", {{"if-none-match", "\"garbage"}}).status, 200);

  store_.apply(syn(v4(10, 0, 0, 9), 2000, "Linux 3.11 and newer"));
  auto changed = get("/api/profiles?sort=ip", {{"if-none-match", *etag}});
  EXPECT_EQ(changed.status, 200);
  EXPECT_NE(header(changed, "etag"), etag);
}

TEST_F(RouterTest, ProfileEtagFollowsTheRevision) {
  fill();
  auto r = get("/api/profiles/10.0.0.1");
  auto etag = header(r, "etag");
  ASSERT_TRUE(etag.has_value());
  EXPECT_EQ(get("/api/profiles/10.0.0.1", {{"if-none-match", *etag}}).status, 304);
  EXPECT_EQ(get("/api/me", {{"if-none-match", *header(get("/api/me"), "etag")}}).status, 304);
  // An update to another profile leaves this one's validator alone.
  store_.apply(syn(v4(10, 0, 0, 2), 3000, "Windows 7 or 8"));
  EXPECT_EQ(get("/api/profiles/10.0.0.1", {{"if-none-match", *etag}}).status, 304);
  store_.apply(syn(v4(10, 0, 0, 1), 3001, "Linux 3.11 and newer"));
  EXPECT_EQ(get("/api/profiles/10.0.0.1", {{"if-none-match", *etag}}).status, 200);
}

TEST_F(RouterTest, ValidatorsDifferAcrossRouterInstances) {
  // A restarted process starts its sequence numbers again; a copy cached
  // from the previous run must not be confirmed.
  fill();
  auto etag = *header(get("/api/profiles"), "etag");
  Router other(store_, status_);
  EXPECT_EQ(run(other, make_request("GET", "/api/profiles", {{"if-none-match", etag}})).status, 200);
}

TEST_F(RouterTest, GzipRoundTripOnlyWhenAcceptedAndLarge) {
  for (int i = 1; i <= 30; ++i) {
    store_.apply(syn(v4(10, 1, 0, static_cast<std::uint8_t>(i)), 100 + i, "Linux 3.11 and newer"));
  }
  auto plain = get("/api/profiles");
  ASSERT_GT(plain.body.size(), 1024u);
  EXPECT_FALSE(header(plain, "content-encoding").has_value());
  EXPECT_EQ(header(plain, "vary"), "accept-encoding");

  auto gz = get("/api/profiles", {{"accept-encoding", "br;q=1.0, gzip;q=0.5"}});
  ASSERT_EQ(gz.status, 200);
  EXPECT_EQ(header(gz, "content-encoding"), "gzip");
  EXPECT_EQ(header(gz, "vary"), "accept-encoding");
  EXPECT_LT(gz.body.size(), plain.body.size() / 3);
  EXPECT_EQ(gunzip(gz.body), plain.body);
  // The gzip representation has its own strong validator, and either one
  // revalidates.
  EXPECT_NE(header(gz, "etag"), header(plain, "etag"));
  EXPECT_EQ(get("/api/profiles", {{"accept-encoding", "gzip"}, {"if-none-match", *header(gz, "etag")}}).status,
            304);

  for (const char* ae : {"gzip;q=0", "identity", "br, deflate", "*;q=0", "gzip;q=0, *", "gzip;q=2",
                         "gzip;q=0.", ""}) {
    SCOPED_TRACE(ae);
    EXPECT_FALSE(header(get("/api/profiles", {{"accept-encoding", ae}}), "content-encoding").has_value());
  }
  for (const char* ae : {"*", "GZIP", "x-gzip", "deflate, gzip ; q=0.001", "gzip;q=1.000"}) {
    SCOPED_TRACE(ae);
    EXPECT_EQ(header(get("/api/profiles", {{"accept-encoding", ae}}), "content-encoding"), "gzip");
  }
  // A second client gets the same compressed bytes (cached by validator);
  // after a change, the new list and not the cached one.
  auto gz2 = get("/api/profiles", {{"accept-encoding", "gzip"}});
  EXPECT_EQ(gz2.body, gz.body);
  store_.apply(syn(v4(10, 1, 0, 99), 999, "Windows 7 or 8"));
  auto plain3 = get("/api/profiles");
  auto gz3 = get("/api/profiles", {{"accept-encoding", "gzip"}});
  EXPECT_NE(gz3.body, gz.body);
  EXPECT_EQ(gunzip(gz3.body), plain3.body);
  // A single profile is compressed too when large enough.
  auto one_plain = get("/api/profiles/10.1.0.99");
  auto one_gz = get("/api/profiles/10.1.0.99", {{"accept-encoding", "gzip"}});
  if (one_plain.body.size() >= 1024) {
    EXPECT_EQ(header(one_gz, "content-encoding"), "gzip");
    EXPECT_EQ(gunzip(one_gz.body), one_plain.body);
  } else {
    EXPECT_EQ(one_gz.body, one_plain.body);
  }
  // Small responses stay as they are.
  auto small = get("/api/profiles?limit=1", {{"accept-encoding", "gzip"}});
  ASSERT_LT(small.body.size(), 1024u);
  EXPECT_FALSE(header(small, "content-encoding").has_value());
}

TEST_F(RouterTest, HeadAnswersAsGet) {
  // The transports send a HEAD response's Content-Length from the body and
  // drop the bytes (RFC 9110 §9.3.2), so the Router answers HEAD as GET.
  fill();
  for (const char* target : {"/api/profiles", "/", "/api/profiles/10.0.0.1", "/api/openapi.json"}) {
    SCOPED_TRACE(target);
    auto head = run(*router_, make_request("HEAD", target));
    auto body = get(target);
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.headers, body.headers);
    EXPECT_EQ(head.body, body.body);
  }
}

TEST_F(RouterTest, StatsCountsEverything) {
  fill();
  auto r = get("/api/stats");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(header(r, "cache-control"), "no-cache");
  auto j = json::parse(r.body);
  EXPECT_EQ(j.at("profiles"), 4);
  EXPECT_EQ(j.at("sections").at("tcp"), 4);
  EXPECT_EQ(j.at("sections").at("tls"), 1);
  EXPECT_EQ(j.at("sections").at("http2"), 1);
  EXPECT_EQ(j.at("sections").at("http"), 1);
  std::set<std::string> oses;
  for (const auto& e : j.at("by_os")) oses.insert(e.at("os").get<std::string>());
  EXPECT_TRUE(oses.count("Windows 7 or 8"));
  EXPECT_FALSE(j.at("by_browser").empty());
  EXPECT_EQ(j.at("store").at("created"), 4);
  EXPECT_EQ(j.at("capture").at("state"), "running");
  EXPECT_EQ(j.at("capture").at("packets"), 1234);
  EXPECT_EQ(j.at("capture").at("kernel_drops"), 5);
  EXPECT_EQ(j.at("capture").at("malformed"), 7);
}

TEST_F(RouterTest, HealthOkAnd503WithReason) {
  auto ok = get("/api/health");
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(header(ok, "cache-control"), "no-store");
  auto j = json::parse(ok.body);
  EXPECT_EQ(j.at("status"), "ok");
  EXPECT_EQ(j.at("uptime_seconds"), 100);
  EXPECT_EQ(j.at("started_at"), "2023-11-14T22:13:20Z");
  EXPECT_EQ(j.at("database").at("loaded"), true);
  EXPECT_FALSE(j.contains("reason"));

  status_.value.capture_state = CaptureState::kDisabled;
  EXPECT_EQ(get("/api/health").status, 200);  // serving own visitors only is a choice

  status_.value.capture_state = CaptureState::kUnavailable;
  status_.value.capture_error = "eth9: No such device";
  auto bad = get("/api/health");
  ASSERT_EQ(bad.status, 503);
  EXPECT_EQ(header(bad, "cache-control"), "no-store");
  auto b = json::parse(bad.body);
  EXPECT_EQ(b.at("status"), "unavailable");
  EXPECT_NE(b.at("reason").get<std::string>().find("eth9: No such device"), std::string::npos);

  status_.value.capture_state = CaptureState::kRunning;
  status_.value.db_loaded = false;
  auto nodb = get("/api/health");
  ASSERT_EQ(nodb.status, 503);
  EXPECT_NE(json::parse(nodb.body).at("reason").get<std::string>().find("p0f database"), std::string::npos);
}

TEST_F(RouterTest, DashboardAssetsEmbeddedWithValidators) {
  auto index = get("/");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(header(index, "content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(header(index, "cache-control"), "no-cache");
  ASSERT_TRUE(header(index, "content-security-policy").has_value());
  EXPECT_NE(header(index, "content-security-policy")->find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(index.body, get("/index.html").body);
  const Asset* a = find_asset("/index.html");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(index.body, a->body);
  EXPECT_EQ(header(index, "etag"), a->etag);
  EXPECT_EQ(get("/", {{"if-none-match", std::string(a->etag)}}).status, 304);

  auto js = get("/app.js?v=1");  // query ignored for assets
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(header(js, "content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(header(get("/app.css"), "content-type"), "text/css; charset=utf-8");

  auto gz = get("/app.js", {{"accept-encoding", "gzip"}});
  if (js.body.size() >= 1024) {
    EXPECT_EQ(header(gz, "content-encoding"), "gzip");
    EXPECT_EQ(gunzip(gz.body), js.body);
  }

  auto api = get("/api/openapi.json");
  ASSERT_EQ(api.status, 200);
  EXPECT_EQ(header(api, "content-type"), "application/json");
  EXPECT_EQ(json::parse(api.body).at("openapi"), "3.1.0");
}

TEST_F(RouterTest, EveryEmbeddedAssetHasTypeAndStrongEtag) {
  std::set<std::string_view> paths;
  for (const Asset& a : embedded_assets()) {
    SCOPED_TRACE(std::string(a.path));
    EXPECT_TRUE(paths.insert(a.path).second);
    EXPECT_EQ(a.path.front(), '/');
    EXPECT_FALSE(a.content_type.empty());
    ASSERT_EQ(a.etag.size(), 34u);  // quotes around 128 bits of SHA-256 in hex
    EXPECT_EQ(a.etag.front(), '"');
    EXPECT_EQ(a.etag.back(), '"');
    EXPECT_FALSE(a.body.empty());
    EXPECT_EQ(find_asset(a.path), &a);
  }
  for (const char* p : {"/index.html", "/app.js", "/app.css", "/api/openapi.json"}) EXPECT_TRUE(paths.count(p)) << p;
}

TEST_F(RouterTest, HostileQueriesNeverCrash) {
  fill();
  std::string many = "/api/profiles?";
  for (int i = 0; i < 40; ++i) many += "a" + std::to_string(i) + "=1&";
  EXPECT_EQ(get(many).status, 400);
  EXPECT_EQ(get("/api/profiles?&&&&").status, 200);
  EXPECT_EQ(get("/api/profiles?=").status, 400);
  EXPECT_EQ(get("/api/profiles?q=" + std::string(300, 'x')).status, 400);
  EXPECT_EQ(get("/api/profiles?q=%FF%FE%00%22%5C").status, 200);  // any bytes are a valid needle
  EXPECT_EQ(get("/api/profiles?" + std::string(100, '%')).status, 400);
  EXPECT_EQ(get("/api/profiles?%zz=1").status, 400);
  EXPECT_EQ(get("/api/profiles?limit=%31%30").status, 200);
  // The error message never breaks the JSON even with hostile names.
  auto r = get("/api/profiles?%22%5C%FF%0A=1");
  ASSERT_EQ(r.status, 400);
  json parsed;
  EXPECT_NO_THROW(parsed = json::parse(r.body));
  EXPECT_EQ(parsed.value("error", ""), "bad_request");
}

TEST_F(RouterTest, MountedHandlersGetThroughTheGateFirst) {
  int calls = 0;
  router_->mount("/events", {"GET"}, [&calls](server::Request, std::shared_ptr<server::ResponseWriter> w) {
    ++calls;
    w->send(server::Response{200, {{"content-type", "text/plain"}}, "mounted"});
  });
  EXPECT_EQ(get("/events").body, "mounted");
  EXPECT_EQ(calls, 1);
  auto post = run(*router_, make_request("POST", "/events"));
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(header(post, "allow"), "GET");
  EXPECT_EQ(run(*router_, make_request("GET", "/events?" + std::string(9000, 'x'))).status, 414);
  EXPECT_EQ(calls, 1);
}

TEST_F(RouterTest, HandlerThatThrowsBecomes500) {
  router_->mount("/boom", {"GET"}, [](server::Request, std::shared_ptr<server::ResponseWriter>) {
    throw std::runtime_error("boom");
  });
  auto r = get("/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(json::parse(r.body).at("error"), "internal_error");
}

TEST_F(RouterTest, ResponseCountsByRouteAndClass) {
  fill();
  (void)get("/api/profiles");
  (void)get("/api/profiles?limit=x");
  (void)get("/nothing");
  std::map<std::string, std::uint64_t> counts;
  for (const auto& c : router_->response_counts()) {
    counts[std::string(c.route) + "/" + std::string(c.status_class)] = c.count;
  }
  EXPECT_EQ(counts["profiles/2xx"], 1u);
  EXPECT_EQ(counts["profiles/4xx"], 1u);
  EXPECT_EQ(counts["other/4xx"], 1u);
}

TEST_F(RouterTest, RouteTableMatchesWhatTheRouterAnswers) {
  fill();
  for (const auto& route : Router::routes()) {
    std::string path(route.path);
    if (auto at = path.find("{ip}"); at != std::string::npos) path.replace(at, 4, "10.0.0.1");
    SCOPED_TRACE(path);
    auto r = get(path);
    EXPECT_TRUE(r.status == 200 || r.status == 503) << r.status;
    auto wrong = run(*router_, make_request("PATCH", path));
    EXPECT_EQ(wrong.status, 405);
    EXPECT_EQ(header(wrong, "allow"), std::string(route.methods));
  }
}

}  // namespace
}  // namespace huginn::api::test

namespace huginn::api::test {
namespace {

// GET /api/profiles?since=: the polling fallback (docs/realtime.md).
TEST_F(RouterTest, SinceReturnsTheChangesAfterASequenceNumber) {
  fill();
  const std::uint64_t mid = store_.seq();
  store_.apply(syn(v4(10, 0, 0, 9), 2000, "Linux 3.11 and newer"));
  ASSERT_TRUE(store_.erase(v4(10, 0, 0, 1)));
  auto r = get("/api/profiles?since=" + std::to_string(mid));
  ASSERT_EQ(r.status, 200);
  auto j = json::parse(r.body);
  EXPECT_EQ(j.at("reset"), false);
  EXPECT_EQ(j.at("seq"), store_.seq());
  ASSERT_EQ(j.at("changes").size(), 2u);
  EXPECT_EQ(j["changes"][0]["type"], "profile");
  EXPECT_EQ(j["changes"][0]["profile"]["ip"], "10.0.0.9");
  EXPECT_EQ(j["changes"][1]["type"], "deleted");
  EXPECT_EQ(j["changes"][1]["ip"], "10.0.0.1");
  EXPECT_GT(j["changes"][1]["seq"].get<std::uint64_t>(), j["changes"][0]["seq"].get<std::uint64_t>());

  // Up to date: no changes, and the ETag turns a repeat into 304.
  auto now = get("/api/profiles?since=" + std::to_string(store_.seq()));
  ASSERT_EQ(now.status, 200);
  EXPECT_TRUE(json::parse(now.body).at("changes").empty());
  auto again = get("/api/profiles?since=" + std::to_string(store_.seq()),
                   server::Headers{{"if-none-match", header(now, "etag").value_or("")}});
  EXPECT_EQ(again.status, 304);

  // From the future (another run of the server): a reset with everything.
  auto reset = get("/api/profiles?since=999999");
  auto rj = json::parse(reset.body);
  EXPECT_EQ(rj.at("reset"), true);
  EXPECT_EQ(rj.at("profiles").size(), 4u);
}

TEST_F(RouterTest, SinceRejectsOtherParametersAndBadWaits) {
  EXPECT_EQ(get("/api/profiles?since=x").status, 400);
  EXPECT_EQ(get("/api/profiles?since=1&wait=61").status, 400);
  EXPECT_EQ(get("/api/profiles?since=1&os=linux").status, 400);
}

// Polling is chosen by a parameter whose decoded name is `since`, not by
// the text "since=" anywhere in the query.
TEST_F(RouterTest, SinceIsAParameterNameNotAnySubstring) {
  fill();
  auto text = get("/api/profiles?q=since=");
  ASSERT_EQ(text.status, 200) << text.body;
  EXPECT_TRUE(json::parse(text.body).contains("profiles"));
  EXPECT_FALSE(json::parse(text.body).contains("changes"));
  auto encoded = get("/api/profiles?%73ince=" + std::to_string(store_.seq()));
  ASSERT_EQ(encoded.status, 200) << encoded.body;
  EXPECT_TRUE(json::parse(encoded.body).contains("changes"));
}

TEST(RouterLongPoll, WaitsUntilTheStoreMovesThenAnswers) {
  store::ProfileStore store{store::StoreConfig{}};
  FixedStatus status;
  std::function<void()> pending;
  std::uint64_t asked_since = 99;
  RouterConfig cfg;
  cfg.waiter = [&](std::uint64_t since, std::chrono::milliseconds wait, std::function<void()> ready) {
    asked_since = since;
    EXPECT_EQ(wait, std::chrono::seconds(5));
    pending = std::move(ready);
    return true;
  };
  Router router(store, status, cfg);
  auto writer = std::make_shared<CaptureWriter>();
  router.handle(make_request("GET", "/api/profiles?since=0&wait=5", {}), writer);
  EXPECT_EQ(writer->sends, 0);  // held: nothing after seq 0 yet
  EXPECT_EQ(asked_since, 0u);
  ASSERT_TRUE(pending);
  store.apply(syn(v4(10, 0, 0, 3), 1000, "Linux 3.11 and newer"));
  pending();
  ASSERT_EQ(writer->sends, 1);
  auto j = json::parse(writer->response->body);
  ASSERT_EQ(j.at("changes").size(), 1u);
  EXPECT_EQ(j["changes"][0]["profile"]["ip"], "10.0.0.3");

  // Something newer than `since` already: answered at once, no wait.
  auto now = std::make_shared<CaptureWriter>();
  pending = nullptr;
  router.handle(make_request("GET", "/api/profiles?since=0&wait=5", {}), now);
  EXPECT_EQ(now->sends, 1);
  EXPECT_FALSE(pending);
}

}  // namespace
}  // namespace huginn::api::test
