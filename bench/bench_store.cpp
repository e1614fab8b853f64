// The profile store (docs/store.md): updates/s, reads/s while a writer
// applies, and resident bytes per full profile at 100k profiles.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "huginn/store/profile_store.hpp"
#include "observations.hpp"

namespace {

namespace store = huginn::store;
namespace st = huginn::store::test;
using huginn::analyzer::Observation;

constexpr std::uint32_t kProfiles = 100'000;

// Resident set size in bytes (proc(5), /proc/self/statm second field).
std::size_t rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0;
  unsigned long resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

// A few client populations, as a real capture has: interning shares their
// strings across hosts.
struct Persona {
  std::string ua;
  std::string ja4;
  std::string akamai;
};
const std::vector<Persona>& personas() {
  static const std::vector<Persona> p = {
      {st::kChromeLinuxUa, st::kChromeJa4, "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p"},
      {st::kChromeWindowsUa, st::kChromeJa4, "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p"},
      {"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
       "t13d1715h2_5b57614c22b0_3d5424432f57", "1:65536;2:0;4:131072;5:16384|12517377|0|m,p,a,s"},
      {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
       "Safari/605.1.15",
       "t13d2014h2_a09f3c656075_14788d8d241b", "2:0;4:4194304;3:100|10485760|0|m,s,p,a"},
      {"curl/7.88.1", "t13d3112h2_e8f1e7e78f70_6bebaf5329ec", "3:100;4:10485760;2:0|1048510465|0|m,p,s,a"},
  };
  return p;
}

// The observations that make host `i` a full profile: syn, syn+ack, mtu,
// uptime, HTTP request and response, TLS, HTTP/2. The host is the subject
// of every record (the SYN+ACK and response as a server).
std::vector<Observation> full_profile(std::uint32_t i, bool unique_strings) {
  const auto ip = st::ip4(i);
  const Persona& p = personas()[i % personas().size()];
  std::vector<Observation> out;
  out.push_back(st::syn(ip, st::kT0 + i));
  auto sa = st::syn_ack(st::ip4(0xffffff), st::kT0 + i);
  sa.server.addr = ip;
  out.push_back(sa);
  out.push_back(st::mtu(ip, st::kT0 + i));
  out.push_back(st::uptime(ip, st::kT0 + i));
  std::string ua = p.ua;
  if (unique_strings) ua += " id/" + std::to_string(i);
  auto req = st::http_request(ip, st::kT0 + i, ua, "Chrome 11 or newer");
  if (unique_strings) req.http.path = "/item/" + std::to_string(i);
  out.push_back(req);
  auto resp = st::http_response(st::ip4(0xffffff), st::kT0 + i);
  resp.server.addr = ip;
  out.push_back(resp);
  auto hello = st::tls(ip, st::kT0 + i, p.ja4);
  if (unique_strings) hello.tls->sni = "host" + std::to_string(i) + ".example.com";
  out.push_back(hello);
  out.push_back(st::http2(ip, st::kT0 + i, p.akamai, ua));
  return out;
}

// Updates/s: a SYN, a ClientHello and an HTTP request per host, cycling
// over 100k hosts (the first 100k iterations create, the rest update).
void BM_StoreApply(benchmark::State& state) {
  store::ProfileStore s({});
  std::vector<Observation> proto = {st::syn(st::ip4(1), st::kT0), st::tls(st::ip4(1), st::kT0),
                                    st::http_request(st::ip4(1), st::kT0)};
  std::uint64_t n = 0;
  for (auto _ : state) {
    Observation& o = proto[n % proto.size()];
    o.client.addr = st::ip4(static_cast<std::uint32_t>((n / proto.size()) % kProfiles) + 1);
    o.ts_us = st::kT0 + static_cast<std::int64_t>(n);
    s.apply(o);
    ++n;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["profiles"] = static_cast<double>(s.counters().profiles);
}
BENCHMARK(BM_StoreApply)->Iterations(1'000'000)->Unit(benchmark::kMicrosecond);

// Shared by the reader benchmarks: 100k full profiles and a writer thread
// that keeps applying SYNs and ClientHellos to them while readers run.
struct Loaded {
  store::ProfileStore s{store::StoreConfig{}};
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> writes{0};
  std::thread writer;
  Loaded() {
    for (std::uint32_t i = 1; i <= kProfiles; ++i) {
      for (const auto& o : full_profile(i, false)) s.apply(o);
    }
  }
  void start() {
    stop = false;
    writes = 0;
    writer = std::thread([this] {
      auto syn = st::syn(st::ip4(1), st::kT0);
      auto hello = st::tls(st::ip4(1), st::kT0);
      std::uint32_t i = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        Observation& o = i % 2 == 0 ? syn : hello;
        o.client.addr = st::ip4(i % kProfiles + 1);
        s.apply(o);
        ++i;
        writes.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  void finish() {
    stop = true;
    writer.join();
  }
};
Loaded& loaded() {
  static Loaded l;
  return l;
}

void report_writer(benchmark::State& state, std::uint64_t writes) {
  // Writer throughput during the run, per second of this thread's time.
  state.counters["writer_updates"] = benchmark::Counter(static_cast<double>(writes), benchmark::Counter::kIsRate);
}

void BM_StoreGetUnderWrites(benchmark::State& state) {
  Loaded& l = loaded();
  if (state.thread_index() == 0) l.start();
  std::uint32_t i = static_cast<std::uint32_t>(state.thread_index()) * 7919;
  std::size_t bytes = 0;
  for (auto _ : state) {
    const store::ProfilePtr p = l.s.get(st::ip4(i % kProfiles + 1));
    bytes += p ? p->json.size() : 0;
    i += 104'729;
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    l.finish();
    report_writer(state, l.writes.load());
  }
}
BENCHMARK(BM_StoreGetUnderWrites)->ThreadRange(1, 4)->UseRealTime()->MinTime(1.0);

// A dashboard page: the 50 most recently seen of all 100k profiles.
// Arg 1 filters on a summary field; arg 2 is a free-text search, which
// reads every profile's JSON (a fifth of them match).
void BM_StoreQueryUnderWrites(benchmark::State& state) {
  Loaded& l = loaded();
  if (state.thread_index() == 0) l.start();
  store::Query q;
  q.limit = 50;
  if (state.range(0) == 1) q.os = "linux";
  if (state.range(0) == 2) q.q = "firefox/128";
  for (auto _ : state) {
    const store::QueryResult r = l.s.query(q);
    benchmark::DoNotOptimize(r.total);
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    l.finish();
    report_writer(state, l.writes.load());
  }
}
BENCHMARK(BM_StoreQueryUnderWrites)->Arg(0)->Arg(1)->Arg(2)->ThreadRange(1, 2)->UseRealTime()->MinTime(1.0)
    ->Unit(benchmark::kMillisecond);

// Resident bytes per full profile: RSS growth while 100k full profiles are
// built, divided by 100k. Arg 1 makes User-Agent, path and SNI unique per
// host (no sharing through interning: the worst case).
void BM_StoreBytesPerFullProfile(benchmark::State& state) {
  const bool unique = state.range(0) == 1;
  for (auto _ : state) {
    auto s = std::make_unique<store::ProfileStore>(store::StoreConfig{});
    // Hand memory freed by earlier runs back to the kernel, or the new
    // profiles would reuse it without growing the RSS.
    malloc_trim(0);
    const std::size_t before = rss_bytes();
    for (std::uint32_t i = 1; i <= kProfiles; ++i) {
      for (const auto& o : full_profile(i, unique)) s->apply(o);
    }
    const std::size_t after = rss_bytes();
    const store::ProfilePtr sample = s->get(st::ip4(kProfiles / 2));
    state.counters["rss_bytes_per_profile"] = static_cast<double>(after - before) / kProfiles;
    state.counters["approx_bytes_per_profile"] = static_cast<double>(s->counters().approx_bytes) / kProfiles;
    state.counters["json_bytes"] = sample ? static_cast<double>(sample->json.size()) : 0;
    // The part of it this revision holds alone (the rest is shared pieces).
    state.counters["json_own_bytes"] = sample ? static_cast<double>(sample->json.own_bytes()) : 0;
    state.counters["json_pieces"] = sample ? static_cast<double>(sample->json.shared_pieces()) : 0;
    state.counters["profiles"] = static_cast<double>(s->counters().profiles);
  }
}
BENCHMARK(BM_StoreBytesPerFullProfile)->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
