#include "huginn/report/jsonl_writer.hpp"

#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace huginn::report {

namespace {

using analyzer::Observation;
using analyzer::ObservationKind;
// Insertion order: every record starts kind, ts, client, server, subject,
// then its own fields in the order docs/formats.md lists them.
using json = nlohmann::ordered_json;

constexpr std::size_t kBufferBytes = 1 << 20;

std::string endpoint(const analyzer::Endpoint& ep) {
  return ep.addr.to_rfc5952_string() + "/" + std::to_string(ep.port);
}

// Wire strings are hostile: bounded here whatever produced them (the JSON
// library escapes control bytes and replaces invalid UTF-8).
constexpr std::size_t kMaxWireString = 1024;
std::string wire(const std::string& s) { return s.substr(0, kMaxWireString); }
json wire_or_null(const std::optional<std::string>& s) {
  return s ? json(wire(*s)) : json(nullptr);
}

// Opaque bytes (ALPN protocol names, RFC 7301 §3.1) as a lossless string:
// byte b becomes code point U+00bb (ISO 8859-1), so "h2" stays "h2", 0xba
// 0xad becomes U+00BA U+00AD (UTF-8 in the line) and a control byte a
// "\u00XX" escape; a reader gets the bytes back with Python's
// s.encode("latin-1"). UTF-8 replacement (as for other wire text) would
// lose them, and they decide JA4's ALPN characters.
std::string latin1(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (const char c : bytes.substr(0, kMaxWireString)) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      out += c;
    } else {
      out += static_cast<char>(0xc0 | (b >> 6));
      out += static_cast<char>(0x80 | (b & 0x3f));
    }
  }
  return out;
}

json match_json(const analyzer::Observation& obs) {
  if (!obs.match) return nullptr;
  return {{"line", obs.match->line},
          {"generic", obs.match->generic},
          {"fuzzy", obs.match->fuzzy},
          {"random_ttl", obs.match->random_ttl},
          {"sig", obs.match->sig_text}};
}

json priority_json(const analyzer::Http2Priority& p) {
  return json::array({p.stream_id, p.exclusive ? 1 : 0, p.dependency, p.weight});
}

void add_tls(json& j, const analyzer::TlsDetails& t) {
  j["ja4"] = t.ja4;
  j["ja4_r"] = t.ja4_r;
  j["ja4_o"] = t.ja4_o;
  j["ja4_ro"] = t.ja4_ro;
  j["ja4_stable"] = t.ja4_stable;
  j["hello"] = t.hello_index;
  j["sni"] = t.sni.empty() ? json(nullptr) : json(wire(t.sni));
  j["sni_truncated"] = t.sni_truncated;
  json alpn = json::array();
  for (const auto& a : t.alpn) alpn.push_back(latin1(a));
  j["alpn"] = std::move(alpn);
  j["tls_versions"] = t.supported_versions;
  j["ciphers"] = t.cipher_suites;
  j["extensions"] = t.extensions;
  j["groups"] = t.supported_groups;
  j["sig_algs"] = t.signature_algorithms;
  j["record_version"] = t.record_version;
  j["legacy_version"] = t.legacy_version;
  j["resumption"] = t.resumption;
}

void add_http2(json& j, const analyzer::Http2Details& h) {
  j["akamai"] = h.akamai;
  j["complete"] = h.complete;
  j["mode"] = h.upgrade ? "upgrade" : "prior_knowledge";
  json settings = json::array();
  for (const auto& [id, value] : h.settings) settings.push_back(json::array({id, value}));
  j["settings"] = std::move(settings);
  j["window_update"] = h.window_update ? json(*h.window_update) : json(nullptr);
  json priority = json::array();
  for (const auto& p : h.priority) priority.push_back(priority_json(p));
  j["priority"] = std::move(priority);
  j["priority_frames"] = h.priority_frames_total;
  j["pseudo_header_order"] = h.pseudo_header_order;
  j["headers_priority"] = h.headers_priority ? priority_json(*h.headers_priority) : json(nullptr);
  j["method"] = wire_or_null(h.method);
  j["path"] = wire_or_null(h.path);
  j["authority"] = wire_or_null(h.authority);
  j["user_agent"] = wire_or_null(h.user_agent);
  json names = json::array();
  for (const auto& n : h.header_names) names.push_back(wire(n));
  j["headers"] = std::move(names);
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
      if (obs.match && obs.match->is_app) {
        j["os"] = nullptr;
        j["app"] = obs.match->label;
      } else {
        j["os"] = obs.match ? json(obs.match->label) : json(nullptr);
      }
      j["dist"] = obs.dist;
      j["dist_is_upper_bound"] = obs.dist_is_upper_bound;
      j["params"] = obs.params;
      j["signature"] = obs.signature;
      j["match"] = match_json(obs);
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
      const bool app = !obs.match || obs.match->is_app;
      j["app"] = obs.match && app ? json(obs.match->label) : json(nullptr);
      j["os"] = obs.match && !app ? json(obs.match->label) : json(nullptr);
      j["lang"] = obs.lang && *obs.lang != "none" ? json(*obs.lang) : json(nullptr);
      j["params"] = obs.params;
      j["dishonest"] = obs.dishonest;
      j["signature"] = obs.signature;
      j["match"] = match_json(obs);
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
      json names = json::array();
      for (const auto& n : obs.http.header_names) names.push_back(wire(n));
      j["header_names"] = std::move(names);
      break;
    }
    case ObservationKind::kTlsClient:
      add_tls(j, obs.tls ? *obs.tls : analyzer::TlsDetails{});
      break;
    case ObservationKind::kHttp2Client:
      add_http2(j, obs.http2 ? *obs.http2 : analyzer::Http2Details{});
      break;
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
