// Long-poll waiters and stop().
#include <gtest/gtest.h>

#include <vector>

#include "realtime_test_util.hpp"

namespace huginn::realtime {
namespace {

using namespace test;
using namespace std::chrono_literals;

struct Calls {
  std::vector<std::pair<WaitResult, std::uint64_t>> got;
  EventHub::WaitCallback cb() {
    return [this](WaitResult r, std::uint64_t seq) { got.emplace_back(r, seq); };
  }
};

TEST(ChangeWaiter, WakesOnChange) {
  store::ProfileStore store(store_config());
  ManualClock clock;
  Calls calls;  // outlives the hub, whose stop() may call back
  EventHub hub(store, manual_config(clock));
  store.apply(syn(ip4(1), kT0));
  ASSERT_EQ(hub.wait(1, 30s, calls.cb()), WaitStart::kWaiting);
  EXPECT_EQ(counter(hub, "waiters_current"), 1U);
  hub.run_once();
  EXPECT_TRUE(calls.got.empty());
  store.apply(mtu(ip4(1), kT0 + 1));
  hub.run_once();
  ASSERT_EQ(calls.got.size(), 1U);
  EXPECT_EQ(calls.got[0], std::make_pair(WaitResult::kChanged, std::uint64_t{2}));
  clock.advance(60s);
  hub.run_once();
  EXPECT_EQ(calls.got.size(), 1U);  // exactly once
  EXPECT_EQ(counter(hub, "waiters_current"), 0U);
}

TEST(ChangeWaiter, ARepublishedRevisionIsNoChange) {
  store::ProfileStore store(store_config());
  ManualClock clock;
  Calls calls;  // outlives the hub, whose stop() may call back
  EventHub hub(store, manual_config(clock, 100ms));
  store.apply(syn(ip4(1), kT0));      // 1
  hub.run_once();
  store.apply(mtu(ip4(1), kT0 + 1));  // 2: deferred
  hub.run_once();
  ASSERT_EQ(hub.wait(2, 30s, calls.cb()), WaitStart::kWaiting);
  clock.advance(100ms);
  hub.run_once();                     // 3: 2 republished, same content
  EXPECT_EQ(store.seq(), 3U);
  EXPECT_TRUE(calls.got.empty());
  store.apply(tls(ip4(2), kT0 + 2));  // 4: a change
  hub.run_once();
  ASSERT_EQ(calls.got.size(), 1U);
  EXPECT_EQ(calls.got[0], std::make_pair(WaitResult::kChanged, std::uint64_t{4}));
}

TEST(ChangeWaiter, AlreadyChangedFiresOnTheNextPass) {
  store::ProfileStore store(store_config());
  ManualClock clock;
  store.apply(syn(ip4(1), kT0));
  Calls calls;  // outlives the hub, whose stop() may call back
  EventHub hub(store, manual_config(clock));
  ASSERT_EQ(hub.wait(0, 30s, calls.cb()), WaitStart::kWaiting);
  EXPECT_TRUE(calls.got.empty());  // never on the caller's thread
  hub.run_once();
  ASSERT_EQ(calls.got.size(), 1U);
  EXPECT_EQ(calls.got[0].first, WaitResult::kChanged);
}

TEST(ChangeWaiter, TimesOut) {
  store::ProfileStore store(store_config());
  ManualClock clock;
  Calls calls;  // outlives the hub, whose stop() may call back
  EventHub hub(store, manual_config(clock));
  ASSERT_EQ(hub.wait(0, 2s, calls.cb()), WaitStart::kWaiting);
  EXPECT_EQ(hub.run_once(), *clock.now + 2s);
  clock.advance(1999ms);
  hub.run_once();
  EXPECT_TRUE(calls.got.empty());
  clock.advance(1ms);
  hub.run_once();
  ASSERT_EQ(calls.got.size(), 1U);
  EXPECT_EQ(calls.got[0], std::make_pair(WaitResult::kTimeout, std::uint64_t{0}));
}

TEST(ChangeWaiter, RefusesBeyondTheBound) {
  store::ProfileStore store(store_config());
  ManualClock clock;
  HubConfig cfg = manual_config(clock);
  cfg.max_waiters = 2;
  Calls calls;  // outlives the hub, whose stop() may call back
  EventHub hub(store, cfg);
  EXPECT_EQ(hub.wait(0, 1s, calls.cb()), WaitStart::kWaiting);
  EXPECT_EQ(hub.wait(0, 1s, calls.cb()), WaitStart::kWaiting);
  EXPECT_EQ(hub.wait(0, 1s, calls.cb()), WaitStart::kTooManyWaiters);
  EXPECT_EQ(counter(hub, "waiters_rejected"), 1U);
  clock.advance(1s);
  hub.run_once();
  EXPECT_EQ(calls.got.size(), 2U);
  EXPECT_EQ(hub.wait(0, 1s, calls.cb()), WaitStart::kWaiting);
}

TEST(EventHubStop, EndsEveryStreamAndWaiter) {
  store::ProfileStore store(store_config());
  ManualClock clock;
  Calls calls;  // outlives the hub, whose stop() may call back
  EventHub hub(store, manual_config(clock));
  auto a = open_sse(hub);
  auto b = open_sse(hub, "os=linux");
  auto c = std::make_shared<FakeWriter>(true);
  hub.stream_handler()(get("/api/profiles/stream"), c);
  ASSERT_EQ(hub.wait(0, 30s, calls.cb()), WaitStart::kWaiting);
  hub.stop();
  EXPECT_TRUE(a->finished());
  EXPECT_TRUE(b->finished());
  EXPECT_TRUE(c->finished());
  ASSERT_EQ(calls.got.size(), 1U);
  EXPECT_EQ(calls.got[0].first, WaitResult::kStopped);
  EXPECT_EQ(counter(hub, "subscribers_current"), 0U);
  EXPECT_EQ(counter(hub, "dropped_slow"), 0U);
  EXPECT_EQ(hub.wait(0, 1s, calls.cb()), WaitStart::kStopped);
  auto late = open_sse(hub);
  ASSERT_TRUE(late->sent());
  EXPECT_EQ(late->sent()->status, 503);
  store.apply(syn(ip4(1), kT0));  // no listener any more
  hub.stop();
}

TEST(EventHubStop, StopsTheDispatcherThreadPromptly) {
  store::ProfileStore store(store_config());
  HubConfig cfg;  // real thread, real clock
  EventHub hub(store, cfg);
  auto a = open_sse(hub);
  const auto t0 = std::chrono::steady_clock::now();
  hub.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_TRUE(a->finished());
}

}  // namespace
}  // namespace huginn::realtime
