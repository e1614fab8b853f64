// The hub's own thread against a concurrent store writer: clients that
// drop and resume with Last-Event-ID see every change exactly once, in
// ascending order, and end with the store's state.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "realtime_test_util.hpp"

namespace huginn::realtime {
namespace {

using namespace test;
using namespace std::chrono_literals;
using nlohmann::json;

TEST(EventHubConcurrency, ResumingClientsMissNothingAndSeeNothingTwice) {
  store::ProfileStore store(store_config(100'000));
  HubConfig cfg;
  cfg.coalesce_interval = 2ms;
  cfg.heartbeat_interval = 0ms;
  cfg.stats_interval = 0ms;
  EventHub hub(store, cfg);
  auto steady = open_sse(hub);

  std::atomic<bool> done{false};
  std::thread writer([&] {
    Churn churn{99, 40};
    for (int i = 0; i < 6000; ++i) {
      churn.step(store);
      if (i % 200 == 0) std::this_thread::sleep_for(1ms);
    }
    done = true;
  });

  ClientState resumer;
  auto conn = open_sse(hub);
  std::size_t reconnects = 0;
  std::uint32_t x = 7;
  auto hop = [&] {
    conn->peer_close();  // nothing is written to it after this
    resumer.apply(SseParser::parse(conn->body()).events);
    conn = open_sse(hub, "", std::to_string(resumer.last_id));
    ++reconnects;
  };
  while (!done) {
    x = x * 1664525 + 1013904223;
    std::this_thread::sleep_for(std::chrono::microseconds(200 + (x >> 16) % 3000));
    hop();
    if (HasFatalFailure()) break;
  }
  writer.join();
  // Changes deferred by coalescing are republished under new seqs up to
  // one interval after the last write: let them all come out first.
  std::this_thread::sleep_for(cfg.coalesce_interval * 25);
  const std::uint64_t final_seq = store.seq();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  auto caught_up = [&](const FakeWriter& w) { return SseParser::parse(w.body()).last_event_id == std::to_string(final_seq); };
  hop();
  while (std::chrono::steady_clock::now() < deadline && !(caught_up(*steady) && resumer.last_id == final_seq)) {
    std::this_thread::sleep_for(5ms);
    hop();
  }
  ClientState whole;
  whole.apply(SseParser::parse(steady->body()).events);

  const auto want = store_state(store);
  EXPECT_EQ(store.seq(), final_seq);  // nothing was still deferred
  EXPECT_GT(store.counters().republished, 0U);
  EXPECT_EQ(resumer.last_id, final_seq);
  EXPECT_EQ(resumer.profiles, want);
  EXPECT_EQ(resumer.resets, 1U);  // the first connection only: the journal covers every resume
  EXPECT_EQ(whole.last_id, final_seq);
  EXPECT_EQ(whole.profiles, want);
  EXPECT_GT(reconnects, 5U);
  // Not dropped_slow == 0: a write that meets a peer closing at that very
  // moment is refused and counted like a slow one (docs/realtime.md).
  EXPECT_FALSE(steady->finished());
  hub.stop();
  EXPECT_TRUE(steady->finished());
}

}  // namespace
}  // namespace huginn::realtime
