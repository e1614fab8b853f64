#include "huginn/app/commands.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <variant>

#include "huginn/analyzer/analyzer.hpp"
#include "huginn/app/logging.hpp"
#include "huginn/capture/capture_thread.hpp"
#include "huginn/capture/pcap_source.hpp"
#include "huginn/db/p0f_db_parser.hpp"
#include "huginn/report/jsonl_writer.hpp"
#include "huginn/report/p0f_log_writer.hpp"

namespace huginn::app {
namespace {

analyzer::AnalyzerConfig analyzer_config(const Options& o) {
  analyzer::AnalyzerConfig c;
  c.max_flows = o.max_flows;
  c.max_hosts = o.max_hosts;
  c.flow_max_age_s = o.flow_max_age_s;
  c.host_idle_s = o.host_idle_s;
  // p0f's log format has no TLS or HTTP/2 lines, so analyze --format p0f
  // skips that work; serve keeps it, because its log shows every kind.
  c.app_layer = !(o.command == Command::kAnalyze && o.format == OutputFormat::kP0f);
  return c;
}

// The observation log: a file (-o), or stdout for analyze. Owns the FILE.
class OutputFile {
 public:
  // Returns an error message, or nullopt on success.
  std::optional<std::string> open(const std::optional<std::string>& path) {
    if (!path || *path == "-") {
      file_ = stdout;
      return std::nullopt;
    }
    // Append, like p0f -o, so a restarted serve keeps its history.
    file_ = std::fopen(path->c_str(), "a");
    if (!file_) return "cannot open log file " + *path + ": " + std::strerror(errno);
    owned_ = true;
    return std::nullopt;
  }
  ~OutputFile() {
    if (owned_) std::fclose(file_);
  }
  [[nodiscard]] std::FILE* get() const { return file_; }

 private:
  std::FILE* file_ = nullptr;
  bool owned_ = false;
};

// Observation writer in the chosen format, buffered for analyze and
// line-buffered for serve (so `tail -f` and log shippers see each record).
class Writer final : public analyzer::ObservationSink {
 public:
  Writer(OutputFormat format, std::FILE* out, bool line_buffered) {
    if (format == OutputFormat::kJsonl)
      jsonl_ = std::make_unique<report::JsonlWriter>(out, line_buffered);
    else
      p0f_ = std::make_unique<report::P0fLogWriter>(out, line_buffered);
  }
  void on_observation(const analyzer::Observation& obs) override {
    if (jsonl_) jsonl_->on_observation(obs);
    else p0f_->on_observation(obs);
  }
  bool flush() { return jsonl_ ? jsonl_->flush() : p0f_->flush(); }

 private:
  std::unique_ptr<report::P0fLogWriter> p0f_;
  std::unique_ptr<report::JsonlWriter> jsonl_;
};

// serve: every observation goes to the log (spdlog, info) and, with -o, to
// the observation file.
class ServeSink final : public analyzer::ObservationSink {
 public:
  explicit ServeSink(Writer* file) : file_(file) {}
  void on_observation(const analyzer::Observation& obs) override {
    if (file_) file_->on_observation(obs);
    if (spdlog::should_log(spdlog::level::info)) {
      // The p0f line without its timestamp: the log line carries its own.
      std::string line = report::P0fLogWriter::format_log_line(obs);
      const auto body = line.find("] ");
      spdlog::info("{}", body == std::string::npos ? line : line.substr(body + 2));
    }
  }

 private:
  Writer* file_;
};

std::optional<db::P0fDb> load_db(const std::string& path) {
  auto loaded = db::load_p0f_db(path);
  if (auto* err = std::get_if<db::DbError>(&loaded)) {
    fail("fingerprint database " + err->to_string());
    return std::nullopt;
  }
  auto db = std::move(std::get<db::P0fDb>(loaded));
  spdlog::debug("loaded {}: {} tcp:request, {} tcp:response, {} http:request, {} http:response signatures",
                path, db.tcp_request.size(), db.tcp_response.size(), db.http_request.size(),
                db.http_response.size());
  return db;
}

void log_capture_stats(const std::string& name, const capture::CaptureStats& s) {
  spdlog::info("{}: {} packets, {} TCP decoded, {} ignored, {} malformed", name, s.packets_received,
               s.decoded, s.ignored, s.malformed);
  for (const auto& [reason, n] : s.malformed_by_reason.all())
    spdlog::info("{}: malformed {}: {}", name, reason, n);
  for (const auto& [reason, n] : s.ignored_by_reason.all())
    spdlog::debug("{}: ignored {}: {}", name, reason, n);
  if (s.kernel_received || s.kernel_dropped || s.interface_dropped)
    spdlog::info("{}: kernel received {}, dropped {}, interface dropped {}", name,
                 s.kernel_received, s.kernel_dropped, s.interface_dropped);
}

// Every analyzer counter (flows, hosts, evictions, parser give-ups by
// reason) at debug level, so `--log-level debug` shows why a record is missing.
void log_analyzer_counters(const analyzer::Analyzer& an) {
  for (const auto& [name, n] : an.counters().all()) spdlog::debug("analyzer {}: {}", name, n);
}

capture::PacketSink packet_sink(analyzer::Analyzer& an) {
  return [&an](const packet::DecodedPacket& p) { an.on_packet(p); };
}

// p0f runs its table expiry every 50 frames that pass its "tcp" filter,
// decodable or not; reporting the frames we could not decode keeps our
// expiry cadence, and so our records, the same as p0f's.
capture::UndecodedSink undecoded_sink(analyzer::Analyzer& an) {
  return [&an](std::int64_t ts_us, const packet::DecodeResult&) { an.on_undecoded_tcp_frame(ts_us); };
}

// Runs one capture file through the analyzer on this thread. Returns the
// error that cut the file short, if any; every packet before it counts.
std::optional<std::string> analyze_file(const std::string& path, analyzer::Analyzer& an,
                                        capture::CaptureStats& stats) {
  auto opened = capture::PcapSource::open_file(path);
  if (!opened) return opened.error;
  auto err = capture::read_file(*opened.source, packet_sink(an), stats, undecoded_sink(an));
  if (err) return path + ": " + *err + " (" + std::to_string(stats.packets_received) +
                  " packets read before it were analyzed)";
  return std::nullopt;
}

}  // namespace

int fail(const std::string& message) {
  // One line either way: plain text for people and scripts, or, with
  // --log-format json, a JSON record so that log shippers see why we stopped.
  if (json_logging_enabled())
    spdlog::error("huginn-profiler: error: {}", message);
  else
    std::fprintf(stderr, "huginn-profiler: error: %s\n", message.c_str());
  return kExitFailure;
}

int run_analyze(const Options& opts) {
  auto db = load_db(opts.fp_file);
  if (!db) return kExitFailure;
  OutputFile out;
  if (auto err = out.open(opts.out_path)) return fail(*err);
  Writer writer(opts.format, out.get(), /*line_buffered=*/false);
  // One analyzer across all files, as p0f -r keeps its tables for one file:
  // files given together are treated as one continuous capture.
  analyzer::Analyzer an(*db, analyzer_config(opts), writer);

  int status = 0;
  for (const auto& path : opts.files) {
    capture::CaptureStats stats;
    auto err = analyze_file(path, an, stats);
    log_capture_stats(path, stats);
    if (err) status = fail(*err);
  }
  // End of input: flows still open may hold a partial fingerprint (an h2c
  // upgrade whose first HEADERS never came).
  an.finish();
  if (!writer.flush()) return fail("writing observations failed: " + std::string(std::strerror(errno)));
  log_analyzer_counters(an);
  return status;
}

int run_serve(const Options& opts) {
  auto db = load_db(opts.fp_file);
  if (!db) return kExitFailure;

  OutputFile out;
  std::unique_ptr<Writer> file_writer;
  if (opts.out_path) {
    if (auto err = out.open(opts.out_path)) return fail(*err);
    file_writer = std::make_unique<Writer>(opts.format, out.get(), /*line_buffered=*/true);
  }
  ServeSink sink(file_writer.get());
  analyzer::Analyzer an(*db, analyzer_config(opts), sink);

  // Signals are taken synchronously by this thread (sigwait); every thread
  // started after this inherits the blocked mask, so none is interrupted.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::unique_ptr<capture::CaptureThread> capture;
  if (opts.read_file) {
    capture::CaptureStats stats;
    auto opened = capture::PcapSource::open_file(*opts.read_file);
    if (!opened) return fail(opened.error);
    if (!opts.filter.empty())
      if (auto err = opened.source->set_filter(opts.filter)) return fail(*err);
    spdlog::info("reading {} (p0f database {})", *opts.read_file, opts.fp_file);
    auto err = capture::read_file(*opened.source, packet_sink(an), stats, undecoded_sink(an));
    log_capture_stats(*opts.read_file, stats);
    if (err) fail(*opts.read_file + ": " + *err);
    spdlog::info("finished reading {}; still running (SIGINT or SIGTERM to stop)", *opts.read_file);
  } else {
    capture::LiveOptions live;
    live.interface = opts.iface;
    live.snaplen = opts.snaplen;
    live.buffer_bytes = opts.buffer_bytes;
    live.promiscuous = opts.promiscuous;
    auto opened = capture::PcapSource::open_live(live);
    if (!opened) return fail(opened.error);
    if (!opened.warning.empty()) spdlog::warn("{}", opened.warning);
    if (!opts.filter.empty())
      if (auto err = opened.source->set_filter(opts.filter)) return fail(*err);
    capture = std::make_unique<capture::CaptureThread>(
        std::move(opened.source), packet_sink(an),
        [](std::string_view msg) { spdlog::error("capture: {}", msg); }, undecoded_sink(an));
    capture->start();
    spdlog::info("capturing on {}{}{} (p0f database {})", opts.iface,
                 opts.filter.empty() ? "" : ", filter ", opts.filter, opts.fp_file);
  }

  // Wait for a stop signal; every minute log the capture counters, and
  // notice a capture thread that ended on its own (interface gone).
  int exit_code = 0;
  for (;;) {
    timespec wait{60, 0};
    const int sig = sigtimedwait(&stop_signals, nullptr, &wait);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("received {}, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
      break;
    }
    if (capture) {
      log_capture_stats(opts.iface, capture->stats());
      if (!capture->running()) {
        exit_code = fail("capture on " + opts.iface + " stopped: " +
                         capture->error().value_or("unknown reason"));
        break;
      }
    }
  }
  if (capture) {
    capture->stop();
    log_capture_stats(opts.iface, capture->stats());
  }
  // The analyzer belongs to the capture thread, which has ended: safe to use.
  an.finish();
  log_analyzer_counters(an);
  if (file_writer && !file_writer->flush()) exit_code = fail("writing observations failed");
  return exit_code;
}

}  // namespace huginn::app
