// GET /ws against a real ProfileStore, the hub driven by hand (run_once +
// a manual clock), through a fake transport at the server's seam
// (ResponseWriter::accept_websocket, WebSocket): message format against
// the SSE data bytes, live filter changes, pause/resume, resume points,
// the reset for a lost resume point, bad control messages, a slow
// subscriber, the split of a reset too big for one message, counters.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
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

// A WebSocket as the transport presents it: send_text() queues until
// drain() and refuses beyond `limit` queued bytes; close() records the
// code and reason (the closing handshake ends with peer_gone()).
class FakeWebSocket final : public server::WebSocket {
 public:
  bool send_text(std::string text) override {
    std::lock_guard l(mu_);
    if (closing_ || gone_) return false;
    if (queued_ + text.size() > limit_) return false;
    queued_ += text.size();
    sent_.push_back(std::move(text));
    return true;
  }
  void close(std::uint16_t code, std::string reason) override {
    std::lock_guard l(mu_);
    if (closing_) return;
    closing_ = true;
    close_code_ = code;
    close_reason_ = std::move(reason);
  }
  void on_message(std::function<void(std::string_view)> callback) override {
    std::lock_guard l(mu_);
    on_message_ = std::move(callback);
  }
  void on_close(std::function<void()> callback) override {
    {
      std::lock_guard l(mu_);
      if (!gone_) {
        on_close_ = std::move(callback);
        return;
      }
    }
    callback();
  }
  [[nodiscard]] bool is_open() const override {
    std::lock_guard l(mu_);
    return !closing_ && !gone_;
  }

  // --- test controls ---
  void client_sends(std::string_view text) {
    std::function<void(std::string_view)> cb;
    {
      std::lock_guard l(mu_);
      cb = on_message_;
    }
    ASSERT_TRUE(cb) << "no on_message callback";
    cb(text);
  }
  void peer_gone() {
    std::function<void()> cb;
    {
      std::lock_guard l(mu_);
      if (gone_) return;
      gone_ = true;
      cb = std::move(on_close_);
      on_message_ = nullptr;
    }
    if (cb) cb();
  }
  void drain() {
    std::lock_guard l(mu_);
    queued_ = 0;
  }
  void set_limit(std::size_t limit) {
    std::lock_guard l(mu_);
    limit_ = limit;
  }
  // Messages sent since the last take().
  std::vector<std::string> take() {
    std::lock_guard l(mu_);
    std::vector<std::string> out(sent_.begin() + static_cast<std::ptrdiff_t>(taken_), sent_.end());
    taken_ = sent_.size();
    return out;
  }
  std::vector<json> take_json() {
    std::vector<json> out;
    for (const std::string& m : take()) out.push_back(json::parse(m));
    return out;
  }
  [[nodiscard]] std::optional<std::uint16_t> close_code() const {
    std::lock_guard l(mu_);
    return close_code_;
  }
  [[nodiscard]] std::string close_reason() const {
    std::lock_guard l(mu_);
    return close_reason_;
  }

 private:
  mutable std::mutex mu_;
  std::size_t limit_ = std::numeric_limits<std::size_t>::max();
  std::size_t queued_ = 0;
  bool closing_ = false, gone_ = false;
  std::optional<std::uint16_t> close_code_;
  std::string close_reason_;
  std::vector<std::string> sent_;
  std::size_t taken_ = 0;
  std::function<void(std::string_view)> on_message_;
  std::function<void()> on_close_;
};

// The request side: a handshake or not; accept_websocket() hands out the
// FakeWebSocket once; send() records a plain answer.
class FakeUpgradeWriter final : public server::ResponseWriter {
 public:
  explicit FakeUpgradeWriter(bool websocket) : websocket_(websocket) {}
  bool send(server::Response response) override {
    if (answered_) return false;
    answered_ = true;
    sent = std::move(response);
    return true;
  }
  bool start_stream(int, server::Headers) override { return false; }
  bool write(std::string) override { return false; }
  void finish() override {}
  void on_close(std::function<void()>) override {}
  [[nodiscard]] bool push_enabled() const override { return false; }
  bool push(std::string, server::Response) override { return false; }
  [[nodiscard]] bool is_websocket_request() const override { return websocket_; }
  std::shared_ptr<server::WebSocket> accept_websocket(server::Headers) override {
    if (!websocket_ || answered_) return nullptr;
    answered_ = true;
    return ws;
  }

  std::shared_ptr<FakeWebSocket> ws = std::make_shared<FakeWebSocket>();
  std::optional<server::Response> sent;

 private:
  bool websocket_;
  bool answered_ = false;
};

struct WsFixture : HubFixture {
  static std::shared_ptr<FakeUpgradeWriter> open_ws(EventHub& hub, std::string query = {},
                                                    server::HttpVersion version = server::HttpVersion::kHttp11,
                                                    bool websocket = true) {
    auto w = std::make_shared<FakeUpgradeWriter>(websocket);
    server::Request r = get("/ws", std::move(query));
    r.conn.version = version;
    hub.ws_handler()(std::move(r), w);
    return w;
  }
};

// The ids of the messages that carry one, in order.
std::vector<std::uint64_t> ids_of(const std::vector<json>& msgs) {
  std::vector<std::uint64_t> ids;
  for (const json& m : msgs) {
    if (m.contains("id")) ids.push_back(m["id"].get<std::uint64_t>());
  }
  return ids;
}

TEST_F(WsFixture, NotAHandshakeIs426WithTheVersion) {
  EventHub hub(store, manual_config(clock));
  auto h1 = open_ws(hub, {}, server::HttpVersion::kHttp11, false);
  ASSERT_TRUE(h1->sent);
  EXPECT_EQ(h1->sent->status, 426);
  const server::Headers& hs = h1->sent->headers;
  EXPECT_NE(std::find(hs.begin(), hs.end(), std::pair<std::string, std::string>{"sec-websocket-version", "13"}),
            hs.end());
  EXPECT_NE(std::find(hs.begin(), hs.end(), std::pair<std::string, std::string>{"upgrade", "websocket"}), hs.end());
  // HTTP/2 forbids Upgrade (RFC 9113 §8.2.2).
  auto h2 = open_ws(hub, {}, server::HttpVersion::kHttp2, false);
  ASSERT_TRUE(h2->sent);
  EXPECT_EQ(h2->sent->status, 426);
  for (const auto& [n, v] : h2->sent->headers) EXPECT_NE(n, "upgrade");
  EXPECT_EQ(counter(hub, "ws_subscribers_total"), 0U);
  // A bad query parameter is a 400 before anything is accepted.
  auto bad = open_ws(hub, "ip=10.0.0.300");
  ASSERT_TRUE(bad->sent);
  EXPECT_EQ(bad->sent->status, 400);
  EXPECT_TRUE(bad->ws->take().empty());
}

TEST_F(WsFixture, MessagesCarryTheSseDataBytesAndIds) {
  for (std::uint32_t n = 1; n <= 2; ++n) store.apply(syn(ip4(n), ts += 1000));
  HubConfig cfg = manual_config(clock);
  cfg.stats_interval = 1000ms;
  EventHub hub(store, cfg);
  auto w = open_ws(hub);
  auto sse = open_sse(hub);
  EXPECT_FALSE(w->sent);  // accepted, not answered
  std::vector<std::string> m = w->ws->take();
  ASSERT_EQ(m.size(), 1U);
  EXPECT_EQ(m[0], "{\"event\":\"reset\",\"id\":2,\"data\":{\"seq\":2,\"profiles\":[" + json_of(1) + "," + json_of(2) +
                      "]}}");
  const std::size_t sse_start = sse->body().size();
  change(1);
  store.erase(ip4(2));
  clock.advance(1000ms);
  hub.run_once();
  m = w->ws->take();
  ASSERT_EQ(m.size(), 3U);
  const SseParser p = SseParser::parse(sse->body().substr(sse_start));
  ASSERT_EQ(p.events.size(), 3U);
  const char* names[] = {"profile", "deleted", "stats"};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(p.events[i].type, names[i]);
    const std::string id = p.events[i].had_id ? ",\"id\":" + p.events[i].last_event_id : "";
    EXPECT_EQ(m[i], "{\"event\":\"" + p.events[i].type + "\"" + id + ",\"data\":" + p.events[i].data + "}");
  }
  EXPECT_EQ(m[0], "{\"event\":\"profile\",\"id\":3,\"data\":" + json_of(1) + "}");
  EXPECT_EQ(m[1], "{\"event\":\"deleted\",\"id\":4,\"data\":{\"ip\":\"10.0.0.2\",\"seq\":4}}");
  EXPECT_FALSE(json::parse(m[2]).contains("id"));
  EXPECT_EQ(json::parse(m[2])["data"]["subscribers"], 2);
  EXPECT_EQ(counter(hub, "ws_subscribers_current"), 1U);
  EXPECT_EQ(counter(hub, "subscribers_current"), 2U);
}

TEST_F(WsFixture, QueryFilterAndResumePoint) {
  for (std::uint32_t n = 1; n <= 4; ++n) change(n);
  EventHub hub(store, manual_config(clock));
  // last_event_id in the URL: the journal after it, no reset.
  auto resumed = open_ws(hub, "last_event_id=2");
  EXPECT_EQ(ids_of(resumed->ws->take_json()), (std::vector<std::uint64_t>{3, 4}));
  auto filtered = open_ws(hub, "ip=10.0.0.3");
  const auto msgs = filtered->ws->take_json();
  ASSERT_EQ(msgs.size(), 1U);
  EXPECT_EQ(msgs[0]["event"], "reset");
  ASSERT_EQ(msgs[0]["data"]["profiles"].size(), 1U);
  EXPECT_EQ(msgs[0]["data"]["profiles"][0]["ip"], "10.0.0.3");
  change(1);
  change(3);
  hub.run_once();
  EXPECT_EQ(ids_of(resumed->ws->take_json()), (std::vector<std::uint64_t>{5, 6}));
  EXPECT_EQ(ids_of(filtered->ws->take_json()), (std::vector<std::uint64_t>{6}));
}

TEST_F(WsFixture, SubscribeChangesTheFilterLiveWithAResetForIt) {
  store.apply(syn(ip4(1), ts += 1000, "Windows 10"));
  store.apply(syn(ip4(2), ts += 1000, "Linux 3.11 and newer"));
  EventHub hub(store, manual_config(clock));
  auto w = open_ws(hub);
  w->ws->take();
  w->ws->client_sends(R"({"op":"subscribe","filter":{"os":"windows","ip":"::ffff:10.0.0.1"}})");
  auto msgs = w->ws->take_json();
  ASSERT_EQ(msgs.size(), 2U);
  EXPECT_EQ(msgs[0], json::parse(R"({"event":"subscribed","data":{"filter":{"ip":"10.0.0.1","os":"windows"},)"
                                 R"("paused":false,"seq":2}})"));
  EXPECT_EQ(msgs[1]["event"], "reset");
  EXPECT_EQ(msgs[1]["id"], 2);
  ASSERT_EQ(msgs[1]["data"]["profiles"].size(), 1U);
  EXPECT_EQ(msgs[1]["data"]["profiles"][0]["ip"], "10.0.0.1");
  change(2);
  change(1);
  hub.run_once();
  msgs = w->ws->take_json();
  EXPECT_EQ(ids_of(msgs), (std::vector<std::uint64_t>{4}));
  // Back to everything: a reset with both.
  w->ws->client_sends(R"({"op":"subscribe"})");
  msgs = w->ws->take_json();
  ASSERT_EQ(msgs.size(), 2U);
  EXPECT_EQ(msgs[0]["data"]["filter"], json::object());
  EXPECT_EQ(msgs[1]["data"]["profiles"].size(), 2U);
  EXPECT_EQ(counter(hub, "resets_sent"), 3U);
}

TEST_F(WsFixture, SubscribeWithLastEventIdReplaysTheJournal) {
  for (std::uint32_t n = 1; n <= 3; ++n) change(n);
  EventHub hub(store, manual_config(clock));
  auto w = open_ws(hub);
  w->ws->take();
  change(1);  // seq 4, not yet published: it reaches the client once
  w->ws->client_sends(R"({"op":"subscribe","last_event_id":"1"})");
  hub.run_once();
  auto msgs = w->ws->take_json();
  ASSERT_FALSE(msgs.empty());
  EXPECT_EQ(msgs[0]["event"], "subscribed");
  EXPECT_EQ(msgs[0]["data"]["seq"], 4);
  EXPECT_EQ(ids_of(msgs), (std::vector<std::uint64_t>{2, 3, 4}));  // 1 superseded by 4 in the journal
  change(2);
  hub.run_once();
  EXPECT_EQ(ids_of(w->ws->take_json()), (std::vector<std::uint64_t>{5}));
}

TEST_F(WsFixture, LostOrFutureResumePointGetsAReset) {
  store::ProfileStore small(store_config(/*journal=*/4));
  for (std::uint32_t n = 1; n <= 10; ++n) small.apply(mtu(ip4(n), ts += 1000));
  EventHub hub(small, manual_config(clock));
  std::vector<std::shared_ptr<FakeUpgradeWriter>> reset;
  for (const char* q : {"last_event_id=1", "last_event_id=99"}) {
    auto w = open_ws(hub, q);
    const auto msgs = w->ws->take_json();
    ASSERT_EQ(msgs.size(), 1U) << q;
    EXPECT_EQ(msgs[0]["event"], "reset") << q;
    EXPECT_EQ(msgs[0]["id"], 10) << q;
    EXPECT_EQ(msgs[0]["data"]["profiles"].size(), 10U) << q;
    reset.push_back(w);
  }
  auto w = open_ws(hub, "last_event_id=9");
  EXPECT_EQ(ids_of(w->ws->take_json()), (std::vector<std::uint64_t>{10}));
  w->ws->client_sends(R"({"op":"subscribe","last_event_id":2})");
  auto msgs = w->ws->take_json();
  ASSERT_EQ(msgs.size(), 2U);
  EXPECT_EQ(msgs[1]["event"], "reset");
  EXPECT_EQ(msgs[1]["id"], 10);
  // The same by op, from a future id; live events follow every reset.
  w->ws->client_sends(R"({"op":"subscribe","last_event_id":500})");
  msgs = w->ws->take_json();
  ASSERT_EQ(msgs.size(), 2U);
  EXPECT_EQ(msgs[1]["event"], "reset");
  small.apply(mtu(ip4(1), ts += 1000));
  hub.run_once();
  reset.push_back(w);
  for (const auto& r : reset) EXPECT_EQ(ids_of(r->ws->take_json()), (std::vector<std::uint64_t>{11}));
}

TEST_F(WsFixture, PauseThenResumeHasNoGapAndNoRepeat) {
  for (std::uint32_t n = 1; n <= 3; ++n) change(n);
  EventHub hub(store, manual_config(clock));
  auto w = open_ws(hub);
  w->ws->take();
  change(1);
  hub.run_once();
  EXPECT_EQ(ids_of(w->ws->take_json()), (std::vector<std::uint64_t>{4}));
  w->ws->client_sends(R"({"op":"pause"})");
  auto msgs = w->ws->take_json();
  ASSERT_EQ(msgs.size(), 1U);
  EXPECT_EQ(msgs[0], json::parse(R"({"event":"subscribed","data":{"filter":{},"paused":true,"seq":4}})"));
  change(2);
  change(3);
  hub.run_once();
  change(2);  // supersedes seq 5 in the journal
  hub.run_once();
  EXPECT_TRUE(w->ws->take().empty());
  w->ws->client_sends(R"({"op":"resume"})");
  change(1);  // live while resuming: once
  hub.run_once();
  msgs = w->ws->take_json();
  ASSERT_FALSE(msgs.empty());
  EXPECT_EQ(msgs[0]["event"], "subscribed");
  EXPECT_EQ(msgs[0]["data"]["paused"], false);
  EXPECT_EQ(ids_of(msgs), (std::vector<std::uint64_t>{6, 7, 8}));
  // Resume when not paused: only the answer.
  w->ws->client_sends(R"({"op":"resume"})");
  msgs = w->ws->take_json();
  ASSERT_EQ(msgs.size(), 1U);
  EXPECT_EQ(msgs[0]["data"]["seq"], 8);
}

TEST_F(WsFixture, ResumeAfterTheJournalMovedOnIsAReset) {
  store::ProfileStore small(store_config(/*journal=*/3));
  for (std::uint32_t n = 1; n <= 3; ++n) small.apply(mtu(ip4(n), ts += 1000));
  EventHub hub(small, manual_config(clock));
  auto w = open_ws(hub);
  w->ws->take();
  w->ws->client_sends(R"({"op":"pause"})");
  for (std::uint32_t n = 4; n <= 9; ++n) small.apply(mtu(ip4(n), ts += 1000));
  hub.run_once();
  w->ws->take();
  w->ws->client_sends(R"({"op":"resume"})");
  const auto msgs = w->ws->take_json();
  ASSERT_EQ(msgs.size(), 2U);
  EXPECT_EQ(msgs[1]["event"], "reset");
  EXPECT_EQ(msgs[1]["id"], 9);
  EXPECT_EQ(msgs[1]["data"]["profiles"].size(), 9U);
}

TEST_F(WsFixture, BadControlMessagesGetAnErrorAndTheSocketStays) {
  change(1);
  EventHub hub(store, manual_config(clock));
  auto w = open_ws(hub);
  w->ws->take();
  const std::string deep = R"({"op":"subscribe","filter":{"ip":[[[["x"]]]]}})";
  for (const std::string& bad :
       {std::string("not json"), std::string("[1,2]"), std::string(R"({"op":"fly"})"), std::string(R"({"op":7})"),
        std::string(R"({"nop":"ping"})"), std::string(R"({"op":"subscribe","filter":{"ip":"10.0.0.300"}})"),
        std::string(R"({"op":"subscribe","filter":{"colour":"red"}})"),
        std::string(R"({"op":"subscribe","filter":{"os":""}})"), std::string(R"({"op":"subscribe","filter":"x"})"),
        std::string(R"({"op":"subscribe","last_event_id":-1})"),
        std::string(R"({"op":"subscribe","last_event_id":"12a"})"), std::string(R"({"op":"pause","x":1})"),
        std::string(R"({"op":"subscribe","filter":{"os":")") + std::string(300, 'a') + "\"}}", deep,
        std::string(10'000, '[')}) {
    w->ws->client_sends(bad);
    const auto msgs = w->ws->take_json();
    ASSERT_EQ(msgs.size(), 1U) << bad;
    EXPECT_EQ(msgs[0]["event"], "error") << bad;
    EXPECT_TRUE(msgs[0]["data"]["message"].is_string()) << bad;
    EXPECT_FALSE(msgs[0].contains("id"));
  }
  EXPECT_TRUE(w->ws->is_open());
  w->ws->client_sends(R"({"op":"ping"})");
  EXPECT_EQ(w->ws->take(), (std::vector<std::string>{R"({"event":"pong"})"}));
  // Still subscribed as before the errors.
  change(2);
  hub.run_once();
  EXPECT_EQ(ids_of(w->ws->take_json()), (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(counter(hub, "ws_errors_sent"), 15U);
  EXPECT_EQ(counter(hub, "ws_messages_in"), 16U);
}

TEST_F(WsFixture, SlowSubscriberIsClosedAndOthersKeepReceiving) {
  change(1);
  EventHub hub(store, manual_config(clock));
  auto slow = open_ws(hub);
  auto fast = open_ws(hub);
  slow->ws->take();
  fast->ws->take();
  slow->ws->set_limit(0);
  change(2);
  hub.run_once();
  EXPECT_EQ(slow->ws->close_code(), server::WebSocket::kPolicyViolation);
  EXPECT_NE(slow->ws->close_reason().find("too slow"), std::string::npos);
  EXPECT_EQ(counter(hub, "dropped_slow"), 1U);
  slow->ws->peer_gone();
  EXPECT_EQ(counter(hub, "ws_subscribers_current"), 1U);
  change(3);
  hub.run_once();
  EXPECT_EQ(ids_of(fast->ws->take_json()), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_FALSE(fast->ws->close_code());
}

TEST_F(WsFixture, CatchupWaitsForTheTransportThenTimesOut) {
  for (std::uint32_t n = 1; n <= 3; ++n) change(n);
  HubConfig cfg = manual_config(clock);
  cfg.catchup_timeout = 1000ms;
  EventHub hub(store, cfg);
  // The transport is full: the journal replay waits, live events queue in
  // the hub and follow it in order once the transport takes them.
  auto w = std::make_shared<FakeUpgradeWriter>(true);
  w->ws->set_limit(0);
  hub.ws_handler()(get("/ws", "last_event_id=0"), w);
  EXPECT_TRUE(w->ws->take().empty());
  change(1);
  hub.run_once();
  w->ws->set_limit(std::numeric_limits<std::size_t>::max());
  clock.advance(20ms);
  hub.run_once();
  EXPECT_EQ(ids_of(w->ws->take_json()), (std::vector<std::uint64_t>{1, 2, 3, 4}));
  // One that never takes anything is cut off after catchup_timeout.
  auto stuck = std::make_shared<FakeUpgradeWriter>(true);
  stuck->ws->set_limit(0);
  hub.ws_handler()(get("/ws"), stuck);
  clock.advance(1001ms);
  hub.run_once();
  EXPECT_EQ(stuck->ws->close_code(), server::WebSocket::kPolicyViolation);
  EXPECT_EQ(counter(hub, "dropped_slow"), 1U);
}

TEST_F(WsFixture, ResetTooBigForOneMessageIsSplitIntoIdlessUpserts) {
  for (std::uint32_t n = 1; n <= 20; ++n) change(n);
  HubConfig cfg = manual_config(clock);
  cfg.ws_reset_message_bytes = 3 * store.get(ip4(1))->json.size();
  EventHub hub(store, cfg);
  auto w = open_ws(hub);
  const auto msgs = w->ws->take_json();
  ASSERT_GT(msgs.size(), 2U);
  EXPECT_EQ(msgs[0]["event"], "reset");
  EXPECT_EQ(msgs[0]["id"], 20);
  std::map<std::string, std::uint64_t> got;
  for (const auto& p : msgs[0]["data"]["profiles"]) got[p["ip"].get<std::string>()] = p["seq"].get<std::uint64_t>();
  EXPECT_LE(got.size(), 3U);
  for (std::size_t i = 1; i < msgs.size(); ++i) {
    EXPECT_EQ(msgs[i]["event"], "profile");
    EXPECT_FALSE(msgs[i].contains("id"));
    got[msgs[i]["data"]["ip"].get<std::string>()] = msgs[i]["data"]["seq"].get<std::uint64_t>();
  }
  EXPECT_EQ(got, store_state(store));
  change(5);
  hub.run_once();
  EXPECT_EQ(ids_of(w->ws->take_json()), (std::vector<std::uint64_t>{21}));
}

TEST_F(WsFixture, FullAndStoppedHub) {
  HubConfig cfg = manual_config(clock);
  cfg.max_subscribers = 1;
  EventHub hub(store, cfg);
  auto first = open_ws(hub);
  auto second = open_ws(hub);
  ASSERT_TRUE(second->sent);
  EXPECT_EQ(second->sent->status, 503);
  hub.stop();
  EXPECT_EQ(first->ws->close_code(), server::WebSocket::kGoingAway);
  auto late = open_ws(hub);
  ASSERT_TRUE(late->sent);
  EXPECT_EQ(late->sent->status, 503);
}

TEST_F(WsFixture, PeerGoneRemovesTheSubscriber) {
  EventHub hub(store, manual_config(clock));
  auto w = open_ws(hub);
  EXPECT_EQ(counter(hub, "ws_subscribers_current"), 1U);
  w->ws->peer_gone();
  EXPECT_EQ(counter(hub, "ws_subscribers_current"), 0U);
  EXPECT_EQ(counter(hub, "subscribers_current"), 0U);
  EXPECT_EQ(counter(hub, "ws_subscribers_total"), 1U);
  EXPECT_EQ(counter(hub, "dropped_slow"), 0U);
}

// Random churn with random control messages: whatever the client does,
// ids strictly increase between resets, and after a final resume its
// state equals the store's.
TEST_F(WsFixture, ChurnWithControlMessagesEndsInTheStoresState) {
  store::ProfileStore s(store_config(/*journal=*/64));
  EventHub hub(s, manual_config(clock, 50ms));
  auto w = open_ws(hub);
  Churn churn{12345, 40};
  std::map<std::string, std::uint64_t> state;
  std::uint64_t last = 0;
  bool paused = false;
  int pauses = 0, subscribes = 0;
  auto consume = [&] {
    for (const json& m : w->ws->take_json()) {
      const std::string ev = m["event"].get<std::string>();
      if (ev == "reset") {
        state.clear();
        for (const auto& p : m["data"]["profiles"]) state[p["ip"].get<std::string>()] = p["seq"].get<std::uint64_t>();
        last = m["id"].get<std::uint64_t>();
      } else if (ev == "profile" || ev == "deleted" || ev == "expired") {
        // The transport takes everything at once here, so no catch-up is
        // still being written when a pause is answered.
        ASSERT_FALSE(paused) << "delivered while paused: " << m.dump();
        const std::uint64_t id = m["id"].get<std::uint64_t>();
        ASSERT_GT(id, last) << m.dump();
        last = id;
        if (ev == "profile") state[m["data"]["ip"].get<std::string>()] = id;
        else state.erase(m["data"]["ip"].get<std::string>());
      }
    }
  };
  for (int i = 0; i < 2000; ++i) {
    const std::uint32_t r = churn.step(s);
    if (r % 7 == 0) {
      clock.advance(20ms);
      hub.run_once();
    }
    if (r % 97 == 0) {
      consume();
      w->ws->client_sends(paused ? R"({"op":"resume"})" : R"({"op":"pause"})");
      paused = !paused;
      if (paused) ++pauses;
    }
    if (r % 331 == 0) {
      paused = false;
      w->ws->client_sends(R"({"op":"subscribe","last_event_id":)" + std::to_string(last) + "}");
      ++subscribes;
    }
    consume();
    if (::testing::Test::HasFatalFailure()) return;
  }
  if (paused) {
    paused = false;
    w->ws->client_sends(R"({"op":"resume"})");
  }
  clock.advance(1000ms);
  hub.run_once();
  consume();
  EXPECT_EQ(state, store_state(s));
  EXPECT_GT(pauses, 5);
  EXPECT_GT(subscribes, 2);
}

}  // namespace
}  // namespace huginn::realtime
