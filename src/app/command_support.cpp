#include "command_support.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <variant>

#include "huginn/app/commands.hpp"
#include "huginn/db/p0f_db_parser.hpp"

namespace huginn::app {

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

std::optional<std::string> OutputFile::open(const std::optional<std::string>& path) {
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

OutputFile::~OutputFile() {
  if (owned_) std::fclose(file_);
}

Writer::Writer(OutputFormat format, std::FILE* out, bool line_buffered) {
  if (format == OutputFormat::kJsonl)
    jsonl_ = std::make_unique<report::JsonlWriter>(out, line_buffered);
  else
    p0f_ = std::make_unique<report::P0fLogWriter>(out, line_buffered);
}

void Writer::on_observation(const analyzer::Observation& obs) {
  if (jsonl_) jsonl_->on_observation(obs);
  else p0f_->on_observation(obs);
}

bool Writer::flush() { return jsonl_ ? jsonl_->flush() : p0f_->flush(); }

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

void log_analyzer_counters(const util::Counters& counters) {
  for (const auto& [name, n] : counters.all()) spdlog::debug("analyzer {}: {}", name, n);
}

capture::PacketSink packet_sink(analyzer::Analyzer& an) {
  return [&an](const packet::DecodedPacket& p) { an.on_packet(p); };
}

capture::UndecodedSink undecoded_sink(analyzer::Analyzer& an) {
  return [&an](std::int64_t ts_us, const packet::DecodeResult&) { an.on_undecoded_tcp_frame(ts_us); };
}

}  // namespace huginn::app
