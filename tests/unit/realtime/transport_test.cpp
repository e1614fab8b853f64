// The hub behind the real server on 127.0.0.1 (port 0), read by real
// clients: curl over HTTP/1.1 and h2c for /events, nghttp for the pushes of
// /api/profiles/stream. Skipped when a client is not installed.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "huginn/server/server.hpp"
#include "huginn/server/server_config.hpp"
#include "realtime_test_util.hpp"

namespace huginn::realtime {
namespace {

using namespace test;
using namespace std::chrono_literals;
using nlohmann::json;

// stdout of `command` (run by /bin/sh).
std::string run(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  pclose(p);
  return out;
}

bool have(const char* tool) { return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0; }

struct LiveServer {
  explicit LiveServer(HubConfig cfg) : hub(store, std::move(cfg)) {
    server::ServerConfig sc;
    std::string err;
    sc.listen.push_back(*server::parse_listen_address("127.0.0.1:0", &err));
    sc.io_threads = 2;
    auto sse = hub.sse_handler();
    auto stream = hub.stream_handler();
    srv = std::make_unique<server::Server>(sc, [sse, stream](server::Request r, std::shared_ptr<server::ResponseWriter> w) {
      if (r.path == "/events") {
        sse(std::move(r), std::move(w));
      } else if (r.path == "/api/profiles/stream") {
        stream(std::move(r), std::move(w));
      } else {
        server::Response resp;
        resp.status = 404;
        w->send(std::move(resp));
      }
    });
    srv->start();
    base = "http://127.0.0.1:" + std::to_string(srv->cleartext_endpoints().at(0).port);
  }
  ~LiveServer() {
    hub.stop();
    srv->stop();
  }
  // Five changes to three profiles, then a deletion, over ~300 ms: seqs
  // 1..6; 10.0.0.0 ends at 4, 10.0.0.2 at 3, 10.0.0.1 deleted at 6.
  void churn() {
    std::int64_t ts = kT0;
    for (std::uint32_t i = 0; i < 5; ++i) {
      std::this_thread::sleep_for(50ms);
      store.apply(syn(ip4(i % 3), ts += 1000));
    }
    std::this_thread::sleep_for(50ms);  // else the deletion may replace seq 5 (coalescing)
    store.erase(ip4(1));
  }

  store::ProfileStore store{store_config()};
  EventHub hub;
  std::unique_ptr<server::Server> srv;
  std::string base;
};

HubConfig live_config() {
  HubConfig cfg;
  cfg.coalesce_interval = 0ms;
  cfg.heartbeat_interval = 300ms;
  cfg.stats_interval = 0ms;
  return cfg;
}

TEST(RealTransport, CurlReceivesEventsOverHttp11AndH2cAndResumes) {
  if (!have("curl")) GTEST_SKIP() << "curl not installed";
  LiveServer live(live_config());
  auto h1 = std::async(std::launch::async, [&] { return run("curl -sN --max-time 3 " + live.base + "/events"); });
  auto h2 = std::async(std::launch::async, [&] {
    return run("curl -sN --http2-prior-knowledge --max-time 3 '" + live.base + "/events?ip=10.0.0.2'");
  });
  // Both connected before the first change, so each starts with an empty
  // reset (curl may take a while to start on a loaded machine).
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (counter(live.hub, "subscribers_current") < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(counter(live.hub, "subscribers_current"), 2U);
  live.churn();
  const std::uint64_t final_seq = live.store.seq();
  ASSERT_EQ(final_seq, 6U);

  const SseParser p1 = SseParser::parse(h1.get());
  EXPECT_EQ(p1.retry, 3000U);
  ASSERT_EQ(p1.events.size(), 7U);
  EXPECT_EQ(p1.events[0].type, "reset");
  EXPECT_EQ(p1.events[0].last_event_id, "0");
  std::map<std::string, std::uint64_t> state;
  for (std::size_t i = 1; i < p1.events.size(); ++i) {
    EXPECT_EQ(p1.events[i].last_event_id, std::to_string(i));
    const json d = json::parse(p1.events[i].data);
    if (p1.events[i].type == "profile") state[d["ip"].get<std::string>()] = d["seq"].get<std::uint64_t>();
    if (p1.events[i].type == "deleted") state.erase(d["ip"].get<std::string>());
  }
  EXPECT_EQ(state, (std::map<std::string, std::uint64_t>{{"10.0.0.0", 4}, {"10.0.0.2", 3}}));
  EXPECT_GE(p1.comments.size(), 3U);  // ": hb" every 300 ms

  const SseParser p2 = SseParser::parse(h2.get());
  ASSERT_EQ(p2.events.size(), 2U);
  EXPECT_EQ(p2.events[1].type, "profile");
  EXPECT_EQ(p2.events[1].last_event_id, "3");

  // A reconnect with Last-Event-ID gets exactly what came after it.
  const SseParser p3 =
      SseParser::parse(run("curl -sN --max-time 1.5 -H 'Last-Event-ID: 3' " + live.base + "/events"));
  // Seq 5 is not replayed: the journal skips a revision its profile no
  // longer has (the deletion follows).
  ASSERT_EQ(p3.events.size(), 2U);
  EXPECT_EQ(p3.events[0].last_event_id, "4");
  EXPECT_EQ(p3.events[1].type, "deleted");
  EXPECT_EQ(p3.events[1].data, R"({"ip":"10.0.0.1","seq":6})");

  // A query the handler refuses is a complete 400 response.
  EXPECT_EQ(run("curl -s -o /dev/null -w '%{http_code}' '" + live.base + "/events?nope=1'"), "400");
}

TEST(RealTransport, NghttpReceivesAPushPerRevision) {
  if (!have("nghttp")) GTEST_SKIP() << "nghttp not installed";
  LiveServer live(live_config());
  live.churn();
  // nghttp allows pushes by default; the stream never ends, so a timeout
  // ends the client once everything has arrived.
  const std::string out = run("timeout 3 nghttp -v '" + live.base + "/api/profiles/stream?since=0' 2>&1");
  std::size_t promises = 0;
  for (std::size_t at = out.find("recv PUSH_PROMISE"); at != std::string::npos;
       at = out.find("recv PUSH_PROMISE", at + 1)) {
    ++promises;
  }
  // Revisions 1, 2 and 5 were superseded before the stream opened (the
  // journal keeps newest revisions); 3, 4 and the deletion remain.
  EXPECT_EQ(promises, 2U);
  EXPECT_NE(out.find(":path: /api/profiles/10.0.0.0?rev=4"), std::string::npos);
  EXPECT_NE(out.find(":path: /api/profiles/10.0.0.2?rev=3"), std::string::npos);
  EXPECT_NE(out.find(R"({"type":"deleted","ip":"10.0.0.1","seq":6})"), std::string::npos);
  EXPECT_EQ(counter(live.hub, "pushes_sent"), 2U);
}

}  // namespace
}  // namespace huginn::realtime
