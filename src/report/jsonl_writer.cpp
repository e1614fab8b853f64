#include "huginn/report/jsonl_writer.hpp"

#include <ctime>
#include <nlohmann/json.hpp>

#include "huginn/report/p0f_log_writer.hpp"

namespace huginn::report {

namespace {

using analyzer::Observation;
using analyzer::ObservationKind;
using nlohmann::json;

constexpr std::size_t kBufferBytes = 1 << 20;

std::string endpoint(const analyzer::Endpoint& ep) {
  return format_p0f_address(ep.addr) + "/" + std::to_string(ep.port);
}

// Wire strings are hostile: bounded here whatever produced them (the JSON
// library escapes control bytes and replaces invalid UTF-8).
constexpr std::size_t kMaxWireString = 1024;
std::string wire(const std::string& s) { return s.substr(0, kMaxWireString); }

json match_json(const analyzer::Observation& obs) {
  if (!obs.match) return nullptr;
  return {{"line", obs.match->line},
          {"generic", obs.match->generic},
          {"fuzzy", obs.match->fuzzy},
          {"random_ttl", obs.match->random_ttl},
          {"sig", obs.match->sig_text}};
}

}  // namespace

std::string format_rfc3339_utc(std::int64_t ts_us) {
  std::int64_t sec = ts_us / 1000000;
  std::int64_t usec = ts_us % 1000000;
  if (usec < 0) {
    usec += 1000000;
    --sec;
  }
  const auto t = static_cast<std::time_t>(sec);
  std::tm tm{};
  char date[32];
  if (gmtime_r(&t, &tm) == nullptr || std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
    return "1970-01-01T00:00:00.000000Z";
  }
  char out[48];
  std::snprintf(out, sizeof out, "%s.%06ldZ", date, static_cast<long>(usec));
  return out;
}

std::string JsonlWriter::format_line(const Observation& obs) {
  json j;
  j["kind"] = analyzer::jsonl_kind_name(obs.kind);
  j["ts"] = format_rfc3339_utc(obs.ts_us);
  j["client"] = endpoint(obs.client);
  j["server"] = endpoint(obs.server);
  j["subject"] = obs.subject == analyzer::Subject::kClient ? "client" : "server";

  switch (obs.kind) {
    case ObservationKind::kSyn:
    case ObservationKind::kSynAck:
    case ObservationKind::kSendsynProbe:
    case ObservationKind::kSendsynResponse:
      j["signature"] = obs.signature;
      if (obs.match && obs.match->is_app) {
        j["os"] = nullptr;
        j["app"] = obs.match->label;
      } else {
        j["os"] = obs.match ? json(obs.match->label) : json(nullptr);
      }
      j["match"] = match_json(obs);
      j["dist"] = obs.dist;
      j["dist_is_upper_bound"] = obs.dist_is_upper_bound;
      j["params"] = obs.params;
      break;
    case ObservationKind::kMtu:
      j["mtu"] = obs.mtu;
      j["link"] = obs.link ? json(*obs.link) : json(nullptr);
      break;
    case ObservationKind::kUptime:
      j["uptime_s"] = std::uint64_t{obs.uptime_min} * 60;
      j["uptime_min"] = obs.uptime_min;
      j["modulo_days"] = obs.modulo_days;
      j["freq_hz"] = obs.freq_hz;
      j["raw_freq_hz"] = obs.raw_freq_hz;
      break;
    case ObservationKind::kHostChange:
    case ObservationKind::kIpSharing: {
      json reasons = json::array();
      const std::string text = analyzer::format_nat_reasons(obs.reasons);
      std::size_t start = 0;
      while (start < text.size()) {
        std::size_t end = text.find(' ', start);
        if (end == std::string::npos) end = text.size();
        reasons.push_back(text.substr(start, end - start));
        start = end + 1;
      }
      j["reason"] = std::move(reasons);
      j["raw_hits"] = obs.raw_hits;
      break;
    }
    case ObservationKind::kHttpRequest:
    case ObservationKind::kHttpResponse: {
      j["signature"] = obs.signature;
      const bool app = !obs.match || obs.match->is_app;
      j["app"] = obs.match && app ? json(obs.match->label) : json(nullptr);
      j["os"] = obs.match && !app ? json(obs.match->label) : json(nullptr);
      j["match"] = match_json(obs);
      j["lang"] = obs.lang && *obs.lang != "none" ? json(*obs.lang) : json(nullptr);
      j["params"] = obs.params;
      j["dishonest"] = obs.dishonest;
      json names = json::array();
      for (const auto& n : obs.http.header_names) names.push_back(wire(n));
      j["header_names"] = std::move(names);
      if (obs.kind == ObservationKind::kHttpRequest) {
        j["method"] = wire(obs.http.method);
        j["path"] = wire(obs.http.path);
        j["user_agent"] = obs.http.user_agent.empty() ? json(nullptr) : json(wire(obs.http.user_agent));
        j["accept_language"] =
            obs.http.accept_language.empty() ? json(nullptr) : json(wire(obs.http.accept_language));
      } else {
        // "server" already names the endpoint.
        j["server_header"] = obs.http.server.empty() ? json(nullptr) : json(wire(obs.http.server));
      }
      break;
    }
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

JsonlWriter::JsonlWriter(std::FILE* out, bool line_buffered)
    : out_(out), line_buffered_(line_buffered) {
  buf_.reserve(line_buffered_ ? 1024 : kBufferBytes);
}

JsonlWriter::~JsonlWriter() { flush(); }

void JsonlWriter::on_observation(const Observation& obs) {
  buf_ += format_line(obs);
  buf_ += '\n';
  if (line_buffered_ || buf_.size() >= kBufferBytes) flush();
}

bool JsonlWriter::flush() {
  if (out_ == nullptr) return false;
  if (!buf_.empty()) {
    if (std::fwrite(buf_.data(), 1, buf_.size(), out_) != buf_.size()) failed_ = true;
    buf_.clear();
  }
  if (std::fflush(out_) != 0) failed_ = true;
  return !failed_;
}

}  // namespace huginn::report
