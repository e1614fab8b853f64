// GET /api/profiles/stream: HTTP/2 push of each revision when the peer
// allows pushes, NDJSON lines only when it does not.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "realtime_test_util.hpp"

namespace huginn::realtime {
namespace {

using namespace test;
using nlohmann::json;

std::vector<json> lines(const std::string& body) {
  std::vector<json> out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  EXPECT_TRUE(body.empty() || body.back() == '\n');
  return out;
}

std::shared_ptr<FakeWriter> open_stream(EventHub& hub, bool push, std::string query = {}) {
  auto w = std::make_shared<FakeWriter>(push);
  hub.stream_handler()(get("/api/profiles/stream", std::move(query)), w);
  return w;
}

TEST(StreamHandler, PushesEachRevisionAndWritesProgressLines) {
  store::ProfileStore store(store_config());
  ManualClock clock;
  store.apply(syn(ip4(1), kT0));
  EventHub hub(store, manual_config(clock));
  const std::string json1 = store.get(ip4(1))->json.str();
  auto w = open_stream(hub, true);
  EXPECT_EQ(w->status(), 200);
  const server::Headers expected{
      {"content-type", "application/x-ndjson"}, {"cache-control", "no-store"}, {"x-accel-buffering", "no"}};
  EXPECT_EQ(w->headers(), expected);
  store.apply(syn(ip4(2), kT0 + 1));
  store.erase(ip4(1));
  hub.run_once();
  const auto got = lines(w->body());
  ASSERT_EQ(got.size(), 3U);
  EXPECT_EQ(got[0]["type"], "reset");
  EXPECT_EQ(got[0]["seq"], 1);
  EXPECT_EQ(got[0]["profiles"][0], json::parse(json1));
  EXPECT_EQ(got[1], json::parse(R"({"type":"profile","ip":"10.0.0.2","seq":2})"));
  EXPECT_EQ(got[2], json::parse(R"({"type":"deleted","ip":"10.0.0.1","seq":3})"));
  const auto pushes = w->pushes();
  ASSERT_EQ(pushes.size(), 1U);
  EXPECT_EQ(pushes[0].first, "/api/profiles/10.0.0.2?rev=2");
  EXPECT_EQ(pushes[0].second.status, 200);
  EXPECT_EQ(pushes[0].second.body, store.get(ip4(2))->json.str());
  EXPECT_EQ(pushes[0].second.headers.at(0), (std::pair<std::string, std::string>{"content-type", "application/json"}));
  EXPECT_EQ(counter(hub, "pushes_sent"), 1U);
}

TEST(StreamHandler, WithoutPushEveryEventIsALineWithTheJson) {
  store::ProfileStore store(store_config());
  ManualClock clock;
  EventHub hub(store, manual_config(clock));
  auto w = open_stream(hub, false, "since=0");
  store.apply(syn(ip4(2), kT0 + 1));
  hub.run_once();
  const auto got = lines(w->body());
  ASSERT_EQ(got.size(), 1U);  // resumed from 0: no reset
  EXPECT_EQ(got[0]["type"], "profile");
  EXPECT_EQ(got[0]["seq"], 1);
  EXPECT_EQ(got[0]["profile"], json::parse(store.get(ip4(2))->json.str()));
  EXPECT_TRUE(w->pushes().empty());
  EXPECT_EQ(counter(hub, "pushes_sent"), 0U);
}

TEST(StreamHandler, ResumeAndFiltersApplyToPushesToo) {
  store::ProfileStore store(store_config());
  ManualClock clock;
  EventHub hub(store, manual_config(clock));
  store.apply(syn(ip4(1), kT0, "Windows 7 or 8"));
  store.apply(syn(ip4(2), kT0, "Linux 3.11 and newer"));
  store.apply(syn(ip4(3), kT0, "Windows XP"));
  auto w = open_stream(hub, true, "since=1&os=windows");
  hub.run_once();
  const auto got = lines(w->body());
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0], json::parse(R"({"type":"profile","ip":"10.0.0.3","seq":3})"));
  ASSERT_EQ(w->pushes().size(), 1U);
  EXPECT_EQ(w->pushes()[0].first, "/api/profiles/10.0.0.3?rev=3");
  auto bad = open_stream(hub, true, "last_event_id=1");
  ASSERT_TRUE(bad->sent());
  EXPECT_EQ(bad->sent()->status, 400);
}

}  // namespace
}  // namespace huginn::realtime
