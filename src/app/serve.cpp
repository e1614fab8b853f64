// serve: the monolithic service. Data flows one way:
//   capture thread  -> Analyzer        -> ServeSink -> ProfileStore -> api::Router -> Server
//   server visitors -> VisitorAnalyzer -> ServeSink
// with the p0f-style log (and -o file) beside the store.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "command_support.hpp"
#include "huginn/analyzer/analyzer.hpp"
#include "huginn/analyzer/visitor_analyzer.hpp"
#include "huginn/api/router.hpp"
#include "huginn/api/status.hpp"
#include "huginn/app/commands.hpp"
#include "huginn/capture/capture_thread.hpp"
#include "huginn/capture/pcap_source.hpp"
#include "huginn/realtime/event_hub.hpp"
#include "huginn/server/server.hpp"
#include "huginn/server/server_config.hpp"
#include "huginn/server/visitor.hpp"
#include "huginn/store/profile_store.hpp"

namespace huginn::app {
namespace {

// Every observation, from the capture thread and from the server's
// visitors, goes to the profile store, to the log (spdlog, info) and, with
// -o, to the observation file. The file writer is not thread-safe, so it
// is serialised here; the store serialises its own writers.
class ServeSink final : public analyzer::ObservationSink {
 public:
  ServeSink(Writer* file, store::ProfileStore& store) : file_(file), store_(store) {}
  void on_observation(const analyzer::Observation& obs) override { on_observations({&obs, 1}); }
  // What one packet produced: one store change per IP (apply_batch), so a
  // SYN's syn + mtu observations make one revision and one live event.
  void on_observations(std::span<const analyzer::Observation> batch) {
    store_.apply_batch(batch);
    if (file_) {
      std::lock_guard lock(file_mu_);
      for (const analyzer::Observation& obs : batch) file_->on_observation(obs);
    }
    if (spdlog::should_log(spdlog::level::info)) {
      for (const analyzer::Observation& obs : batch) {
        // The p0f line without its timestamp: the log line carries its own.
        std::string line = report::P0fLogWriter::format_log_line(obs);
        const auto body = line.find("] ");
        spdlog::info("{}", body == std::string::npos ? line : line.substr(body + 2));
      }
    }
  }
  bool flush() {
    std::lock_guard lock(file_mu_);
    return file_ == nullptr || file_->flush();
  }

 private:
  Writer* file_;
  store::ProfileStore& store_;
  std::mutex file_mu_;
};

// The capture path's Analyzer belongs to the capture (or file) thread; the
// API reads its counters from I/O threads. An uncontended mutex per packet
// costs ~20 ns, well below the analyzer's own per-packet work, and keeps
// both sides simple.
//
// The analyzer's observations are collected per call (one packet) and
// handed to the ServeSink together, as one store change per IP.
class GuardedAnalyzer {
 public:
  GuardedAnalyzer(const db::P0fDb& db, analyzer::AnalyzerConfig config, ServeSink& sink)
      : out_(sink), an_(db, config, batch_) {}
  capture::PacketSink packet_sink() {
    return [this](const packet::DecodedPacket& p) {
      std::lock_guard lock(mu_);
      an_.on_packet(p);
      flush_locked();
    };
  }
  capture::UndecodedSink undecoded_sink() {
    return [this](std::int64_t ts_us, const packet::DecodeResult&) {
      std::lock_guard lock(mu_);
      an_.on_undecoded_tcp_frame(ts_us);
      flush_locked();
    };
  }
  void finish() {
    std::lock_guard lock(mu_);
    an_.finish();
    flush_locked();
  }
  [[nodiscard]] util::Counters counters() const {
    std::lock_guard lock(mu_);
    return an_.counters();
  }

 private:
  // Only called by an_, under mu_.
  struct Batch final : analyzer::ObservationSink {
    std::vector<analyzer::Observation> obs;
    void on_observation(const analyzer::Observation& o) override { obs.push_back(o); }
  };
  void flush_locked() {
    if (batch_.obs.empty()) return;
    // Taken out first: if the store throws, nothing is applied twice.
    flushing_.clear();
    std::swap(batch_.obs, flushing_);
    out_.on_observations(flushing_);
  }

  mutable std::mutex mu_;
  ServeSink& out_;
  Batch batch_;  // before an_, which holds a reference to it
  std::vector<analyzer::Observation> flushing_;
  analyzer::Analyzer an_;
};

// server/ knows no packets: this adapter hands what it saw of each visitor
// to the analyzer side.
class VisitorBridge final : public server::VisitorObserver {
 public:
  explicit VisitorBridge(analyzer::VisitorAnalyzer& va) : va_(va) {}
  void on_saved_syn(const server::VisitorKey& k, std::span<const std::uint8_t> ip) override {
    va_.on_saved_syn(ep(k.client), ep(k.server), k.ts_us, ip);
  }
  void on_client_hello(const server::VisitorKey& k, std::span<const std::uint8_t> hs) override {
    va_.on_client_hello(ep(k.client), ep(k.server), k.ts_us, hs);
  }
  void on_client_prefix(const server::VisitorKey& k, bool tls,
                        std::span<const std::uint8_t> bytes) override {
    va_.on_client_prefix(ep(k.client), ep(k.server), k.ts_us, tls, bytes);
  }
  void on_closed(const server::VisitorKey& k) override {
    va_.on_closed(ep(k.client), ep(k.server), k.ts_us);
  }

 private:
  static analyzer::Endpoint ep(const server::SocketEndpoint& e) { return {e.addr, e.port}; }
  analyzer::VisitorAnalyzer& va_;
};

// What /api/health, /api/stats and /metrics report about the process.
class ServeStatus final : public api::StatusSource {
 public:
  ServeStatus(const Options& opts, const db::P0fDb& db, const GuardedAnalyzer& an,
              const analyzer::VisitorAnalyzer& va, const realtime::EventHub& hub)
      : an_(an), va_(va), hub_(hub) {
    base_.db_path = opts.fp_file;
    base_.db_loaded = true;
    base_.db_signatures = db.tcp_request.size() + db.tcp_response.size() +
                          db.http_request.size() + db.http_response.size();
    base_.started_at = std::chrono::system_clock::now();
    base_.capture_source = opts.read_file.value_or(opts.iface);
    base_.capture_state = api::CaptureState::kDisabled;
  }

  void set_capture(const capture::CaptureThread* thread) {
    std::lock_guard lock(mu_);
    thread_ = thread;
    base_.capture_state = api::CaptureState::kRunning;
  }
  void set_state(api::CaptureState state, std::string error = {}) {
    std::lock_guard lock(mu_);
    base_.capture_state = state;
    base_.capture_error = std::move(error);
  }
  void set_file_stats(const capture::CaptureStats& s) {
    std::lock_guard lock(mu_);
    file_stats_ = s;
  }

  [[nodiscard]] api::ServiceStatus status() const override {
    api::ServiceStatus st;
    capture::CaptureStats cs;
    {
      std::lock_guard lock(mu_);
      st = base_;
      cs = file_stats_;
      if (thread_ != nullptr) {
        cs = thread_->stats();
        if (!thread_->running() && st.capture_state == api::CaptureState::kRunning) {
          st.capture_state = api::CaptureState::kUnavailable;
          st.capture_error = thread_->error().value_or("capture stopped");
        }
      }
    }
    st.packets_seen = cs.packets_received;
    st.kernel_drops = cs.kernel_dropped;
    st.interface_drops = cs.interface_dropped;
    st.malformed = cs.malformed;
    st.undecoded = cs.ignored;
    // Copies first: iterating a temporary's member would dangle.
    const util::Counters analyzer_counters = an_.counters();
    const util::Counters visitor_counters = va_.counters();
    for (const auto& [name, n] : analyzer_counters.all()) st.analyzer_counters.emplace_back(name, n);
    for (const auto& [name, n] : visitor_counters.all()) st.server_counters.emplace_back(name, n);
    for (const auto& [name, n] : hub_.counters()) st.server_counters.emplace_back("realtime_" + name, n);
    return st;
  }

 private:
  const GuardedAnalyzer& an_;
  const analyzer::VisitorAnalyzer& va_;
  const realtime::EventHub& hub_;
  mutable std::mutex mu_;
  api::ServiceStatus base_;
  capture::CaptureStats file_stats_;
  const capture::CaptureThread* thread_ = nullptr;
};

// --listen / --tls-listen values: empty means the default, "none" none.
std::optional<std::string> listen_endpoints(const std::vector<std::string>& given,
                                            std::vector<server::SocketEndpoint>& out) {
  if (given.empty()) return std::nullopt;
  out.clear();
  if (given.size() == 1 && given[0] == "none") return std::nullopt;
  for (const auto& text : given) {
    std::string error;
    auto ep = server::parse_listen_address(text, &error);
    if (!ep) return error;
    out.push_back(*ep);
  }
  return std::nullopt;
}

bool is_loopback(const packet::IpAddress& a) {
  if (a.version == packet::IpVersion::v4) return a.bytes[0] == 127;
  for (int i = 0; i < 15; ++i) {
    if (a.bytes[static_cast<std::size_t>(i)] != 0) return false;
  }
  return a.bytes[15] == 1;
}

// libpcap's wording when the process lacks CAP_NET_RAW (pcap-linux.c:
// "You don't have permission to perform this capture on that device",
// "socket: Operation not permitted").
bool is_permission_error(const std::string& message) {
  return message.find("permission") != std::string::npos ||
         message.find("Operation not permitted") != std::string::npos;
}

}  // namespace

int run_serve(const Options& opts) {
  auto db = load_db(opts.fp_file);
  if (!db) return kExitFailure;

  server::ServerConfig server_config = server::ServerConfig::defaults();
  if (auto err = listen_endpoints(opts.listen, server_config.listen)) return fail(*err);
  if (auto err = listen_endpoints(opts.tls_listen, server_config.tls_listen)) return fail(*err);
  server_config.io_threads = opts.io_threads;
  server_config.limits.max_connections = opts.max_connections;
  if (opts.tls_cert) server_config.cert_file = *opts.tls_cert;
  if (opts.tls_key) server_config.key_file = *opts.tls_key;
  server_config.state_dir = opts.state_dir ? std::filesystem::path(*opts.state_dir)
                                           : server::default_state_dir();

  OutputFile out;
  std::unique_ptr<Writer> file_writer;
  if (opts.out_path) {
    if (auto err = out.open(opts.out_path)) return fail(*err);
    file_writer = std::make_unique<Writer>(opts.format, out.get(), /*line_buffered=*/true);
  }

  store::StoreConfig store_config;
  store_config.ttl = std::chrono::seconds(opts.profile_ttl_s);
  store_config.max_profiles = opts.max_profiles;
  // Seqs continue upward across restarts (StoreConfig::first_seq), so a
  // dashboard or SSE client resuming from the previous run gets a reset.
  store_config.first_seq = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  store::ProfileStore store(store_config);
  ServeSink sink(file_writer.get(), store);
  GuardedAnalyzer an(*db, analyzer_config(opts), sink);
  analyzer::VisitorConfig visitor_config;
  visitor_config.analyzer = analyzer_config(opts);
  analyzer::VisitorAnalyzer visitors(*db, visitor_config, sink);
  VisitorBridge bridge(visitors);
  // Real-time delivery (docs/realtime.md): SSE, the HTTP/2 push stream, and
  // the long polls of GET /api/profiles?since=&wait=.
  realtime::HubConfig hub_config;
  hub_config.coalesce_interval = std::chrono::milliseconds(opts.coalesce_interval_ms);
  hub_config.max_fanout_delay = std::chrono::milliseconds(opts.fanout_delay_ms);
  hub_config.heartbeat_interval = std::chrono::seconds(opts.heartbeat_interval_s);
  realtime::EventHub hub(store, hub_config);
  ServeStatus status(opts, *db, an, visitors, hub);
  api::RouterConfig router_config;
  router_config.waiter = [&hub](std::uint64_t since, std::chrono::milliseconds wait,
                                std::function<void()> ready) {
    return hub.wait(since, wait, [ready = std::move(ready)](realtime::WaitResult, std::uint64_t) {
             ready();
           }) == realtime::WaitStart::kWaiting;
  };
  api::Router router(store, status, router_config);
  router.mount("/events", {"GET"}, hub.sse_handler());
  router.mount("/api/profiles/stream", {"GET"}, hub.stream_handler());
  // CONNECT: RFC 8441 WebSockets over HTTP/2 arrive as extended CONNECT.
  router.mount("/ws", {"GET", "CONNECT"}, hub.ws_handler());

  // Signals are taken synchronously by this thread (sigwait); every thread
  // started after this inherits the blocked mask, so none is interrupted.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // Capture first: a bad interface or filter is a configuration error and
  // stops us before anything listens. Missing capture rights are not: the
  // server still profiles its own visitors (TCP_SAVED_SYN needs none).
  std::unique_ptr<capture::CaptureThread> capture;
  std::unique_ptr<capture::PcapSource> file_source;
  if (opts.no_capture) {
    spdlog::info("capture disabled (--no-capture): profiling the server's own visitors only");
  } else if (opts.read_file) {
    auto opened = capture::PcapSource::open_file(*opts.read_file);
    if (!opened) return fail(opened.error);
    if (!opts.filter.empty())
      if (auto err = opened.source->set_filter(opts.filter)) return fail(*err);
    file_source = std::move(opened.source);
  } else {
    capture::LiveOptions live;
    live.interface = opts.iface;
    live.snaplen = opts.snaplen;
    live.buffer_bytes = opts.buffer_bytes;
    live.promiscuous = opts.promiscuous;
    auto opened = capture::PcapSource::open_live(live);
    if (!opened && !is_permission_error(opened.error)) return fail(opened.error);
    if (!opened) {
      spdlog::warn("capture on {} unavailable: {}; serving the server's own visitors only",
                   opts.iface, opened.error);
      status.set_state(api::CaptureState::kUnavailable, opened.error);
    } else {
      if (!opened.warning.empty()) spdlog::warn("{}", opened.warning);
      if (!opts.filter.empty())
        if (auto err = opened.source->set_filter(opts.filter)) return fail(*err);
      capture = std::make_unique<capture::CaptureThread>(
          std::move(opened.source), an.packet_sink(),
          [](std::string_view msg) { spdlog::error("capture: {}", msg); }, an.undecoded_sink());
    }
  }

  server::Server http(server_config, router.handler(), &bridge);
  try {
    http.start();
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  // The server logs its listeners; these lines are the URLs to open.
  auto announce = [](const char* scheme, const std::vector<server::SocketEndpoint>& endpoints) {
    for (const auto& ep : endpoints) {
      spdlog::info("dashboard at {}://{}/", scheme, server::to_string(ep));
      if (!is_loopback(ep.addr))
        spdlog::warn("{} is not a loopback address: the dashboard and API are reachable from the network",
                     server::to_string(ep));
    }
  };
  announce("http", http.cleartext_endpoints());
  announce("https", http.tls_endpoints());

  std::thread file_thread;
  if (capture) {
    capture->start();
    status.set_capture(capture.get());
    spdlog::info("capturing on {}{}{} (p0f database {})", opts.iface,
                 opts.filter.empty() ? "" : ", filter ", opts.filter, opts.fp_file);
  } else if (file_source) {
    status.set_state(api::CaptureState::kRunning);
    spdlog::info("reading {} (p0f database {})", *opts.read_file, opts.fp_file);
    // The file is read beside the server, so the dashboard fills while it runs.
    file_thread = std::thread([&] {
      capture::CaptureStats stats;
      auto err = capture::read_file(*file_source, an.packet_sink(), stats, an.undecoded_sink());
      log_capture_stats(*opts.read_file, stats);
      status.set_file_stats(stats);
      if (err) {
        spdlog::error("{}: {}", *opts.read_file, *err);
        status.set_state(api::CaptureState::kUnavailable, *opts.read_file + ": " + *err);
      } else {
        status.set_state(api::CaptureState::kFinished);
      }
      an.finish();
      spdlog::info("finished reading {}; still running (SIGINT or SIGTERM to stop)",
                   *opts.read_file);
    });
  }

  // Wait for a stop signal. Every second, expire profiles past their TTL;
  // every minute log the capture counters. A capture thread that ended on
  // its own (interface gone) leaves the server running, reported by
  // /api/health as 503 with the reason.
  int exit_code = 0;
  bool capture_loss_logged = false;
  for (unsigned tick = 1;; ++tick) {
    timespec wait{1, 0};
    const int sig = sigtimedwait(&stop_signals, nullptr, &wait);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("received {}, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
      break;
    }
    store.expire_now();
    if (capture && tick % 60 == 0) log_capture_stats(opts.iface, capture->stats());
    if (capture && !capture->running() && !capture_loss_logged) {
      capture_loss_logged = true;
      spdlog::error("capture on {} stopped: {}", opts.iface,
                    capture->error().value_or("unknown reason"));
    }
  }

  // Shutdown order (docs/server.md): end the event streams and long polls,
  // stop accepting and finish in-flight responses, then stop capture; the
  // whole within 2 s.
  hub.stop();
  http.stop(std::chrono::milliseconds(1500));
  if (capture) {
    capture->stop();
    log_capture_stats(opts.iface, capture->stats());
    an.finish();
  }
  if (file_thread.joinable()) file_thread.join();
  log_analyzer_counters(an.counters());
  if (!sink.flush()) exit_code = fail("writing observations failed");
  return exit_code;
}

}  // namespace huginn::app
