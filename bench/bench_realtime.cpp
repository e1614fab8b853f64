// Real-time fan-out (docs/realtime.md): the hub's cost to deliver one
// store change to N SSE subscribers, measured on the dispatcher pass alone
// (run_once) with writers that only count bytes, so the figure is the
// hub's share: dedup, filter, one shared wire form, one write() per
// subscriber. The transport's own cost (a post to the connection's strand,
// the socket write) comes on top.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "huginn/realtime/event_hub.hpp"
#include "huginn/store/profile_store.hpp"
#include "observations.hpp"

namespace {

namespace rt = huginn::realtime;
namespace server = huginn::server;
namespace store = huginn::store;
namespace st = huginn::store::test;

class CountingWriter final : public server::ResponseWriter {
 public:
  bool send(server::Response) override { return true; }
  bool start_stream(int, server::Headers) override { return true; }
  bool write(std::string chunk) override {
    bytes += chunk.size();
    return true;
  }
  void finish() override {}
  void on_close(std::function<void()>) override {}
  [[nodiscard]] bool push_enabled() const override { return false; }
  bool push(std::string, server::Response) override { return false; }
  std::size_t bytes = 0;
};

// range(0): subscribers; range(1): 1 when each subscriber filters on one
// IP of 1,000 (the per-subscriber path), 0 for unfiltered subscribers (the
// shared-batch path); range(2): store changes per dispatcher pass (1: an
// idle store, each change alone; 10: a burst, delivered as one write per
// subscriber).
void BM_FanOut(benchmark::State& state) {
  const auto subscribers = static_cast<std::size_t>(state.range(0));
  const bool filtered = state.range(1) != 0;
  const auto per_pass = static_cast<std::uint32_t>(state.range(2));
  store::StoreConfig sc;
  sc.max_profiles = 10'000;
  store::ProfileStore s(sc);
  std::int64_t ts = st::kT0;
  for (std::uint32_t n = 0; n < 1000; ++n) s.apply(st::http_request(st::ip4(n), ts += 1000));
  rt::HubConfig hc;
  hc.start_thread = false;
  hc.coalesce_interval = std::chrono::milliseconds{0};
  hc.heartbeat_interval = std::chrono::milliseconds{0};
  hc.stats_interval = std::chrono::milliseconds{0};
  rt::EventHub hub(s, hc);
  const auto handler = hub.sse_handler();
  std::vector<std::shared_ptr<CountingWriter>> writers;
  for (std::size_t i = 0; i < subscribers; ++i) {
    server::Request req;
    req.method = "GET";
    req.path = "/events";
    req.query = filtered ? "ip=" + st::ip4(static_cast<std::uint32_t>(i % 1000)).to_rfc5952_string() : "";
    req.headers.emplace_back("last-event-id", std::to_string(s.seq()));
    writers.push_back(std::make_shared<CountingWriter>());
    handler(req, writers.back());
  }
  hub.run_once();
  std::uint32_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (std::uint32_t i = 0; i < per_pass; ++i) s.apply(st::mtu(st::ip4(n++ % 1000), ts += 1000));
    state.ResumeTiming();
    hub.run_once();
  }
  std::size_t bytes = 0;
  for (const auto& w : writers) bytes += w->bytes;
  const double events = static_cast<double>(state.iterations()) * per_pass;
  state.counters["events/s"] = benchmark::Counter(events, benchmark::Counter::kIsRate);
  // Per subscriber the event was offered to: a delivery when unfiltered,
  // a filter check (and 1 in 1,000 a delivery) when filtered.
  state.counters["ns/subscriber"] = benchmark::Counter(
      events * static_cast<double>(subscribers) / 1e9,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["bytes/event"] = static_cast<double>(bytes) / events;
}
BENCHMARK(BM_FanOut)
    ->ArgsProduct({{1000, 10000}, {0, 1}, {1, 10}})
    ->ArgNames({"subscribers", "filtered", "per_pass"})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
