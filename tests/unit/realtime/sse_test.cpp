// GET /events against a real ProfileStore, with the hub driven by hand
// (run_once + a manual clock): framing byte for byte, ids, resume, reset,
// coalescing, filters, backpressure, heartbeat, stats, errors.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "realtime_test_util.hpp"

namespace huginn::realtime {
namespace {

using namespace test;
using namespace std::chrono_literals;
using nlohmann::json;

struct SseFixture : HubFixture {
  // A stream that was sent 10.0.0.1's seq 1, whose change 2 is then
  // deferred (inside 1's coalescing interval).
  std::shared_ptr<FakeWriter> open_with_ip1_deferred(EventHub& hub) {
    auto w = open_sse(hub);
    store.apply(syn(ip4(1), ts += 1000));  // 1
    hub.run_once();
    change(1);  // 2: deferred
    hub.run_once();
    return w;
  }
};

TEST_F(SseFixture, FreshStreamIsRetryThenResetSnapshotByteForByte) {
  for (std::uint32_t n = 1; n <= 3; ++n) store.apply(syn(ip4(n), ts += 1000));
  EventHub hub(store, manual_config(clock));
  auto w = open_sse(hub);
  EXPECT_EQ(w->status(), 200);
  const server::Headers expected{{"content-type", "text/event-stream; charset=utf-8"},
                                 {"cache-control", "no-store"},
                                 {"x-accel-buffering", "no"}};
  EXPECT_EQ(w->headers(), expected);
  EXPECT_EQ(w->body(), "retry: 3000\n\nevent: reset\nid: 3\ndata: {\"seq\":3,\"profiles\":[" + json_of(1) + "," +
                           json_of(2) + "," + json_of(3) + "]}\n\n");
  const SseParser p = SseParser::parse(w->body());
  ASSERT_EQ(p.retry, 3000U);
  ASSERT_EQ(p.events.size(), 1U);
  EXPECT_EQ(p.events[0].type, "reset");
  EXPECT_EQ(p.events[0].last_event_id, "3");
  const json data = json::parse(p.events[0].data);
  EXPECT_EQ(data["seq"], 3);
  ASSERT_EQ(data["profiles"].size(), 3U);
  EXPECT_EQ(data["profiles"][1], json::parse(json_of(2)));
  EXPECT_EQ(counter(hub, "resets_sent"), 1U);
}

TEST_F(SseFixture, LiveEventsAreFramedPerTheStandard) {
  auto now = std::make_shared<std::chrono::system_clock::time_point>(std::chrono::sys_days{std::chrono::November / 25 / 2026});
  store::StoreConfig cfg = store_config();
  cfg.ttl = 60s;
  store::ProfileStore s(cfg, [now] { return *now; });
  EventHub hub(s, manual_config(clock));
  auto w = open_sse(hub);
  EXPECT_EQ(w->body(), "retry: 3000\n\nevent: reset\nid: 0\ndata: {\"seq\":0,\"profiles\":[]}\n\n");
  const std::size_t start = w->body().size();
  s.apply(syn(ip4(1), kT0));
  s.apply(syn(ip4(2), kT0));
  s.erase(ip4(1));
  hub.run_once();
  const std::string json2 = s.get(ip4(2))->json.str();
  *now += 61s;
  s.expire_now();
  hub.run_once();
  EXPECT_EQ(w->body().substr(start), "event: profile\nid: 2\ndata: " + json2 + "\n\n" +
                                         "event: deleted\nid: 3\ndata: {\"ip\":\"10.0.0.1\",\"seq\":3}\n\n" +
                                         "event: expired\nid: 4\ndata: {\"ip\":\"10.0.0.2\",\"seq\":4}\n\n");
  EXPECT_EQ(counter(hub, "events_published"), 3U);  // seq 1 was superseded by the deletion
  EXPECT_EQ(counter(hub, "events_coalesced"), 1U);
}

TEST_F(SseFixture, ResumeGetsExactlyTheMissedEventsThenLiveOnes) {
  for (std::uint32_t n = 1; n <= 3; ++n) store.apply(syn(ip4(n), ts += 1000));
  EventHub hub(store, manual_config(clock));
  auto first = open_sse(hub);
  change(1);
  hub.run_once();
  const std::string last = SseParser::parse(first->body()).last_event_id;
  ASSERT_EQ(last, "4");
  first->peer_close();
  EXPECT_EQ(counter(hub, "subscribers_current"), 0U);

  change(2);           // 5
  change(1);           // 6
  store.erase(ip4(3)); // 7
  hub.run_once();      // published while nobody listened
  change(4);           // 8, still pending in the hub when the client comes back
  auto again = open_sse(hub, "", last);
  hub.run_once();  // 8 is in the journal replay and in the hub's batch: sent once
  change(2);       // 9, live
  hub.run_once();
  const SseParser p = SseParser::parse(again->body());
  std::vector<std::pair<std::string, std::string>> got;
  for (const SseEvent& e : p.events) got.emplace_back(e.type, e.last_event_id);
  const std::vector<std::pair<std::string, std::string>> want{
      {"profile", "5"}, {"profile", "6"}, {"deleted", "7"}, {"profile", "8"}, {"profile", "9"}};
  EXPECT_EQ(got, want);
  EXPECT_EQ(p.events[1].data, json_of(1));
  EXPECT_EQ(p.retry, 3000U);
  EXPECT_EQ(counter(hub, "resets_sent"), 1U);  // only the first connection's

  // The same through the query parameter, for clients that cannot set headers.
  auto q = open_sse(hub, "last_event_id=8");
  const SseParser pq = SseParser::parse(q->body());
  ASSERT_EQ(pq.events.size(), 1U);
  EXPECT_EQ(pq.events[0].last_event_id, "9");
}

TEST_F(SseFixture, LiveEventsDuringTheCatchUpComeAfterItAndOnce) {
  store.apply(syn(ip4(1), ts += 1000));
  EventHub hub(store, manual_config(clock));
  for (const bool resume : {false, true}) {
    SCOPED_TRACE(resume);
    auto w = std::make_shared<FakeWriter>();
    const std::uint32_t n = resume ? 3 : 2;
    // A change published by the hub between registration and catch-up.
    w->on_start_stream = [&] {
      change(n);
      hub.run_once();
    };
    server::Request req = get("/events", "", resume ? std::optional<std::string>("2") : std::nullopt);
    hub.sse_handler()(req, w);
    hub.run_once();
    const SseParser p = SseParser::parse(w->body());
    ASSERT_EQ(p.events.size(), 1U);
    EXPECT_EQ(p.events[0].type, resume ? "profile" : "reset");
    EXPECT_EQ(p.events[0].last_event_id, std::to_string(n));
  }
}

TEST_F(SseFixture, IdTooOldOrAheadOrForeignGetsAResetSnapshot) {
  store::ProfileStore small(store_config(4));
  for (std::uint32_t n = 1; n <= 10; ++n) small.apply(syn(ip4(n), ts += 1000));
  EventHub hub(small, manual_config(clock));
  for (const char* id : {"1", "999", "abc"}) {
    SCOPED_TRACE(id);
    auto w = open_sse(hub, "", std::string(id));
    const SseParser p = SseParser::parse(w->body());
    ASSERT_EQ(p.events.size(), 1U);
    EXPECT_EQ(p.events[0].type, "reset");
    EXPECT_EQ(p.events[0].last_event_id, "10");
    const json data = json::parse(p.events[0].data);
    EXPECT_EQ(data["seq"], 10);
    EXPECT_EQ(data["profiles"].size(), 10U);
  }
  // Still within the journal: no reset.
  auto w = open_sse(hub, "", "7");
  const SseParser p = SseParser::parse(w->body());
  ASSERT_EQ(p.events.size(), 3U);
  EXPECT_EQ(p.events[0].type, "profile");
  EXPECT_EQ(p.events[0].last_event_id, "8");
}

TEST_F(SseFixture, BurstToOneProfileIsOneEventWithTheLastRevision) {
  EventHub hub(store, manual_config(clock, 100ms));
  store.apply(syn(ip4(1), ts += 1000));
  auto w = open_sse(hub);
  hub.run_once();
  const std::size_t start = w->body().size();
  for (int i = 0; i < 100; ++i) change(1);  // seqs 2..101 within one interval
  hub.run_once();
  clock.advance(99ms);
  hub.run_once();
  EXPECT_EQ(w->body().size(), start);
  clock.advance(1ms);
  hub.run_once();
  // The newest revision (101) again under a new seq above every one sent.
  const SseParser p = SseParser::parse(w->body().substr(start));
  ASSERT_EQ(p.events.size(), 1U);
  EXPECT_EQ(p.events[0].last_event_id, "102");
  EXPECT_EQ(seq_of(1), 102U);
  EXPECT_EQ(p.events[0].data, json_of(1));
  EXPECT_EQ(counter(hub, "events_coalesced"), 99U);
  EXPECT_EQ(store.counters().republished, 1U);
  EXPECT_EQ(store.counters().updated, 100U);
}

// HubConfig::fanout_cost_per_subscriber: after a pass, the next waits
// subscribers x cost (capped); events arriving meanwhile go out together in
// one write per subscriber, in order, none lost.
TEST_F(SseFixture, PacedPassesCarryWhatArrivedMeanwhileInOneWrite) {
  HubConfig cfg = manual_config(clock);
  cfg.fanout_cost_per_subscriber = 1ms;
  cfg.max_fanout_delay = 5ms;
  EventHub hub(store, cfg);
  std::vector<std::shared_ptr<FakeWriter>> ws;
  for (int i = 0; i < 3; ++i) ws.push_back(open_sse(hub));
  hub.run_once();
  std::vector<std::size_t> writes;
  for (const auto& w : ws) writes.push_back(w->write_calls());

  store.apply(syn(ip4(1), ts += 1000));  // 1: the first pass goes at once
  hub.run_once();
  for (std::size_t i = 0; i < ws.size(); ++i) {
    EXPECT_EQ(ws[i]->write_calls(), writes[i] + 1);
    writes[i] = ws[i]->write_calls();
  }
  store.apply(syn(ip4(2), ts += 1000));  // 2 and 3 arrive inside the pause
  store.apply(syn(ip4(3), ts += 1000));
  EXPECT_EQ(hub.run_once(), *clock.now + 3ms);  // 3 subscribers x 1 ms
  clock.advance(2ms);
  EXPECT_EQ(hub.run_once(), *clock.now + 1ms);
  for (std::size_t i = 0; i < ws.size(); ++i) EXPECT_EQ(ws[i]->write_calls(), writes[i]) << "paced";
  clock.advance(1ms);
  hub.run_once();
  for (std::size_t i = 0; i < ws.size(); ++i) {
    EXPECT_EQ(ws[i]->write_calls(), writes[i] + 1) << "both events in one write";
    const SseParser p = SseParser::parse(ws[i]->body());
    ASSERT_EQ(p.events.size(), 4U);  // reset, 1, 2, 3
    EXPECT_EQ(p.events[1].last_event_id, "1");
    EXPECT_EQ(p.events[2].last_event_id, "2");
    EXPECT_EQ(p.events[3].last_event_id, "3");
  }

  // The pause is capped: 10 subscribers x 1 ms, but at most 5 ms.
  for (int i = 0; i < 7; ++i) ws.push_back(open_sse(hub));
  clock.advance(10ms);
  store.apply(syn(ip4(4), ts += 1000));
  hub.run_once();
  store.apply(syn(ip4(5), ts += 1000));
  EXPECT_EQ(hub.run_once(), *clock.now + 5ms);
}

TEST_F(SseFixture, AHeldProfileDoesNotDelayOtherProfiles) {
  EventHub hub(store, manual_config(clock, 100ms));
  auto w = open_sse(hub);
  store.apply(syn(ip4(1), ts += 1000));  // 1: published at once
  hub.run_once();
  clock.advance(10ms);
  change(1);                             // 2: inside 1's interval: deferred
  store.apply(syn(ip4(2), ts += 1000));  // 3: another IP: not held by 2
  const std::string newest1 = json_of(1);
  const auto next = hub.run_once();
  EXPECT_EQ(next, *clock.now + 90ms);  // 1's interval ends 100 ms after it went out
  SseParser p = SseParser::parse(w->body());
  ASSERT_EQ(p.events.size(), 3U);  // reset, 1, 3
  EXPECT_EQ(p.events[1].last_event_id, "1");
  EXPECT_EQ(p.events[2].last_event_id, "3");
  clock.advance(89ms);
  hub.run_once();
  EXPECT_EQ(SseParser::parse(w->body()).events.size(), 3U);
  clock.advance(1ms);
  hub.run_once();
  p = SseParser::parse(w->body());
  ASSERT_EQ(p.events.size(), 4U);
  EXPECT_EQ(p.events[3].type, "profile");
  EXPECT_EQ(p.events[3].last_event_id, "4");  // 2 is never sent: 3 went out first
  const json d = json::parse(p.events[3].data);
  EXPECT_EQ(d["seq"], 4);
  EXPECT_EQ(d["connections"], json::parse(newest1)["connections"]);
  EXPECT_EQ(p.events[3].data, json_of(1));
  EXPECT_EQ(counter(hub, "events_published"), 3U);
  EXPECT_EQ(counter(hub, "events_coalesced"), 0U);
  // Nothing more is due.
  EXPECT_EQ(hub.run_once(), std::chrono::steady_clock::time_point::max());
}

TEST_F(SseFixture, ResumeAcrossADeferralMissesNothingAndRepeatsNothing) {
  EventHub hub(store, manual_config(clock, 100ms));
  auto live = open_with_ip1_deferred(hub);
  store.apply(syn(ip4(2), ts += 1000));  // 3
  hub.run_once();
  // Reconnects while 2 is deferred, from before it (1) and after it (3).
  auto from1 = open_sse(hub, "", "1");
  auto from3 = open_sse(hub, "", "3");
  change(2);                             // 4: 2 was published at once: deferred
  hub.run_once();
  clock.advance(100ms);
  hub.run_once();                        // 5, 6: 2 and 4 republished
  // And one that reconnects after the republish, from between 2 and 5.
  auto from3_late = open_sse(hub, "", "3");
  EXPECT_EQ(store.counters().republished, 2U);
  for (const auto& w : {live, from1, from3, from3_late}) {
    const SseParser p = SseParser::parse(w->body());
    ClientState c;
    c.last_id = w == live ? 0 : w == from1 ? 1 : 3;
    c.events = w == live ? 0 : 1;  // ids after a resume must exceed the resume point
    if (w != live) c.profiles = w == from1 ? std::map<std::string, std::uint64_t>{{ip_text(1), 1}}
                                            : std::map<std::string, std::uint64_t>{{ip_text(1), 1}, {ip_text(2), 3}};
    c.apply(p.events);
    EXPECT_EQ(c.profiles, store_state(store));
    std::set<std::string> ids;
    for (const SseEvent& e : p.events) EXPECT_TRUE(ids.insert(e.last_event_id).second) << e.last_event_id;
  }
  // The live stream saw 1 and 3, then the republished 5 and 6; never 2 or 4.
  std::vector<std::string> ids;
  for (const SseEvent& e : SseParser::parse(live->body()).events) ids.push_back(e.last_event_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"0", "1", "3", "5", "6"}));
}

TEST_F(SseFixture, DeletionDuringADeferralGoesOutAtOnceAndEndsIt) {
  EventHub hub(store, manual_config(clock, 100ms));
  auto w = open_with_ip1_deferred(hub);
  store.erase(ip4(1));                   // 3: final, not deferred
  hub.run_once();
  SseParser p = SseParser::parse(w->body());
  ASSERT_EQ(p.events.size(), 3U);
  EXPECT_EQ(p.events[2].type, "deleted");
  EXPECT_EQ(p.events[2].last_event_id, "3");
  EXPECT_EQ(counter(hub, "events_coalesced"), 1U);  // the deferred 2
  clock.advance(100ms);
  EXPECT_EQ(hub.run_once(), std::chrono::steady_clock::time_point::max());
  EXPECT_EQ(SseParser::parse(w->body()).events.size(), 3U);
  EXPECT_EQ(store.counters().republished, 0U);
  EXPECT_EQ(store.seq(), 3U);
}

TEST_F(SseFixture, ChangeAfterTheDeferralEndsIsPublishedOnce) {
  EventHub hub(store, manual_config(clock, 100ms));
  auto w = open_with_ip1_deferred(hub);
  clock.advance(100ms);
  change(1);                             // 3: before the hub's next pass: the newest, already sent on
  hub.run_once();
  // republish(ip, 2) declines (3 is newer); 3 is queued and goes out.
  const SseParser p = SseParser::parse(w->body());
  ASSERT_EQ(p.events.size(), 3U);
  EXPECT_EQ(p.events[2].last_event_id, "3");
  EXPECT_EQ(store.counters().republished, 0U);
}

TEST_F(SseFixture, IdsStrictlyIncreaseAndNoRevisionTwiceUnderChurn) {
  EventHub hub(store, manual_config(clock, 20ms));
  auto w = open_sse(hub);
  Churn churn{12345, 20};
  for (int i = 0; i < 2000; ++i) {
    const std::uint32_t r = churn.step(store);
    if (i % 7 == 0) {
      clock.advance(std::chrono::milliseconds(r % 9));
      hub.run_once();
    }
  }
  clock.advance(1s);
  hub.run_once();
  ClientState client;
  client.apply(SseParser::parse(w->body()).events);
  EXPECT_EQ(client.last_id, store.seq());
  EXPECT_EQ(client.profiles, store_state(store));
  EXPECT_GT(counter(hub, "events_coalesced"), 0U);
}

TEST_F(SseFixture, FiltersByIpOsAndJa4) {
  store.apply(syn(ip4(1), ts += 1000, "Linux 3.11 and newer"));
  store.apply(syn(ip4(2), ts += 1000, "Windows 7 or 8"));
  store.apply(tls(ip4(2), ts += 1000, "t13d1516h2_aaaaaaaaaaaa_bbbbbbbbbbbb"));
  const packet::IpAddress v6 = packet::IpAddress::v6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  store.apply(syn(v6, ts += 1000, "Windows NT kernel"));
  EventHub hub(store, manual_config(clock));
  auto by_os = open_sse(hub, "os=WINDOWS");
  auto by_ja4 = open_sse(hub, "ja4=t13d1516h2_aaaaaaaaaaaa_bbbbbbbbbbbb");
  auto by_ip6 = open_sse(hub, "ip=2001%3ADB8%3A%3A0001");
  auto by_mapped = open_sse(hub, "ip=::ffff:10.0.0.1");
  auto ips_in_reset = [](const FakeWriter& w) {
    std::set<std::string> ips;
    const SseParser p = SseParser::parse(w.body());
    const json data = json::parse(p.events.at(0).data);
    for (const auto& prof : data["profiles"]) ips.insert(prof["ip"].get<std::string>());
    return ips;
  };
  EXPECT_EQ(ips_in_reset(*by_os), (std::set<std::string>{"10.0.0.2", "2001:db8::1"}));
  EXPECT_EQ(ips_in_reset(*by_ja4), (std::set<std::string>{"10.0.0.2"}));
  EXPECT_EQ(ips_in_reset(*by_ip6), (std::set<std::string>{"2001:db8::1"}));
  EXPECT_EQ(ips_in_reset(*by_mapped), (std::set<std::string>{"10.0.0.1"}));

  store.apply(syn(ip4(3), ts += 1000, "Windows XP"));  // 5: os only
  change(1);                                           // 6: ip only
  hub.run_once();  // else the deletion below would replace it (coalescing)
  store.erase(ip4(2));                                 // 7: was sent to os and ja4
  store.erase(ip4(1));                                 // 8: sent to mapped only
  store.erase(ip4(9));                                 // no such profile: no event
  hub.run_once();
  auto ids = [](const FakeWriter& w) {
    std::vector<std::string> out;
    const SseParser p = SseParser::parse(w.body());
    for (std::size_t i = 1; i < p.events.size(); ++i) out.push_back(p.events[i].type + ":" + p.events[i].last_event_id);
    return out;
  };
  EXPECT_EQ(ids(*by_os), (std::vector<std::string>{"profile:5", "deleted:7"}));
  EXPECT_EQ(ids(*by_ja4), (std::vector<std::string>{"deleted:7"}));
  EXPECT_EQ(ids(*by_ip6), (std::vector<std::string>{}));
  EXPECT_EQ(ids(*by_mapped), (std::vector<std::string>{"profile:6", "deleted:8"}));
}

TEST_F(SseFixture, BadQueryGets400AndNoStream) {
  EventHub hub(store, manual_config(clock));
  for (const char* q : {"foo=1", "ip=10.0.0.300", "last_event_id=-1", "os=a&os=b", "os=%zz", "ip=", "ja4=%4"}) {
    SCOPED_TRACE(q);
    auto w = open_sse(hub, q);
    const auto r = w->sent();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    const json body = json::parse(r->body);
    EXPECT_EQ(body["error"], "bad_request");
    EXPECT_FALSE(body["message"].get<std::string>().empty());
  }
  EXPECT_EQ(counter(hub, "subscribers_total"), 0U);
}

TEST_F(SseFixture, SlowSubscriberIsCutOffWhileOthersKeepReceiving) {
  EventHub hub(store, manual_config(clock));
  auto slow = open_sse(hub);
  auto fast = open_sse(hub);
  change(1);
  hub.run_once();
  slow->set_limit(0);  // it stopped reading: the transport refuses more
  change(2);
  hub.run_once();
  EXPECT_TRUE(slow->finished());
  EXPECT_EQ(counter(hub, "dropped_slow"), 1U);
  EXPECT_EQ(counter(hub, "subscribers_current"), 1U);
  change(3);
  hub.run_once();
  EXPECT_FALSE(fast->finished());
  EXPECT_EQ(SseParser::parse(fast->body()).events.size(), 4U);
  EXPECT_EQ(SseParser::parse(slow->body()).events.size(), 2U);
}

TEST_F(SseFixture, HeartbeatAndStatsOnTheirIntervals) {
  HubConfig cfg = manual_config(clock);
  cfg.heartbeat_interval = 15s;
  cfg.stats_interval = 5s;
  store.apply(syn(ip4(1), ts += 1000));
  EventHub hub(store, cfg);
  auto w = open_sse(hub);
  clock.advance(4999ms);
  hub.run_once();
  SseParser p = SseParser::parse(w->body());
  EXPECT_EQ(p.events.size(), 1U);
  clock.advance(1ms);
  hub.run_once();
  p = SseParser::parse(w->body());
  ASSERT_EQ(p.events.size(), 2U);
  EXPECT_EQ(p.events[1].type, "stats");
  EXPECT_FALSE(p.events[1].had_id);
  EXPECT_EQ(p.last_event_id, "1");  // stats do not move Last-Event-ID
  const json stats = json::parse(p.events[1].data);
  EXPECT_EQ(stats["seq"], 1);
  EXPECT_EQ(stats["profiles"], 1);
  EXPECT_EQ(stats["subscribers"], 1);
  EXPECT_TRUE(p.comments.empty());
  clock.advance(10s);
  hub.run_once();
  p = SseParser::parse(w->body());
  EXPECT_EQ(p.comments, std::vector<std::string>{"hb"});
  EXPECT_EQ(p.events.size(), 3U);
  EXPECT_NE(w->body().find("\n\n: hb\n\n"), std::string::npos);
}

TEST_F(SseFixture, SnapshotLargerThanTheTransportQueueWaitsForTheReader) {
  for (std::uint32_t n = 1; n <= 200; ++n) store.apply(http_request(ip4(n), ts += 1000));
  HubConfig cfg = manual_config(clock);
  cfg.catchup_chunk_bytes = 4096;
  EventHub hub(store, cfg);
  auto w = open_sse(hub, "", std::nullopt, 16 * 1024);
  ASSERT_LT(w->body().size(), 16U * 1024);
  change(7);  // live during the catch-up: after the snapshot, once
  int rounds = 0;
  while (SseParser::parse(w->body()).events.size() < 2 && rounds++ < 1000) {
    w->drain();
    clock.advance(10ms);
    hub.run_once();
  }
  const SseParser p = SseParser::parse(w->body());
  ASSERT_EQ(p.events.size(), 2U);
  EXPECT_EQ(json::parse(p.events[0].data)["profiles"].size(), 200U);
  EXPECT_EQ(p.events[0].last_event_id, "200");
  EXPECT_EQ(p.events[1].last_event_id, "201");
  EXPECT_GT(rounds, 5);
  EXPECT_EQ(counter(hub, "dropped_slow"), 0U);

  // A reader that never takes anything is cut off after catchup_timeout.
  auto stuck = open_sse(hub, "", std::nullopt, 16 * 1024);
  clock.advance(cfg.catchup_timeout);
  hub.run_once();
  EXPECT_FALSE(stuck->finished());
  clock.advance(1ms);
  hub.run_once();
  EXPECT_TRUE(stuck->finished());
  EXPECT_EQ(counter(hub, "dropped_slow"), 1U);
}

TEST_F(SseFixture, TooManySubscribersGet503) {
  HubConfig cfg = manual_config(clock);
  cfg.max_subscribers = 2;
  EventHub hub(store, cfg);
  auto a = open_sse(hub);
  auto b = open_sse(hub);
  auto c = open_sse(hub);
  ASSERT_TRUE(c->sent());
  EXPECT_EQ(c->sent()->status, 503);
  a->peer_close();
  auto d = open_sse(hub);
  EXPECT_EQ(d->status(), 200);
  EXPECT_FALSE(d->sent());
}

}  // namespace
}  // namespace huginn::realtime
