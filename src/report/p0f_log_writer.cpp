#include "huginn/report/p0f_log_writer.hpp"

#include <charconv>
#include <ctime>

namespace huginn::report {

namespace {

using analyzer::Observation;
using analyzer::ObservationKind;

constexpr std::size_t kBufferBytes = 1 << 20;

// Appenders: a record is built with std::to_chars and plain appends; the
// printf family parsed a format string for every field and dominated the
// writer's profile.
void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_hex(std::string& out, unsigned v) {
  char buf[8];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, 16);
  out.append(buf, r.ptr);
}

void append_address(std::string& out, const packet::IpAddress& addr) {
  const auto& b = addr.bytes;
  if (addr.version == packet::IpVersion::v4) {
    for (std::size_t i = 0; i < 4; ++i) {
      if (i != 0) out += '.';
      append_uint(out, b[i]);
    }
    return;
  }
  // p0f prints every group in plain %x, without RFC 5952 "::" compression.
  for (std::size_t i = 0; i < 8; ++i) {
    if (i != 0) out += ':';
    append_hex(out, (unsigned{b[2 * i]} << 8) | b[2 * i + 1]);
  }
}

void append_endpoint(std::string& out, const analyzer::Endpoint& ep) {
  append_address(out, ep.addr);
  out += '/';
  append_uint(out, ep.port);
}

// Starts a "|key=" field; the caller appends the value.
void key(std::string& out, std::string_view k) {
  out += '|';
  out += k;
  out += '=';
}

void field(std::string& out, std::string_view k, std::string_view value) {
  key(out, k);
  out += value;
}

// Wire text in a human log line: at most kMaxLogWire bytes, printable ASCII
// kept, anything else (control bytes, non-ASCII, and the '|' field and '\\'
// escape characters) as \xHH, so one record stays one parseable line.
constexpr std::size_t kMaxLogWire = 256;
void append_wire(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char c : text.substr(0, kMaxLogWire)) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7f && b != '|' && b != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xf];
    }
  }
  if (text.size() > kMaxLogWire) out += "...";
}

}  // namespace

std::string format_p0f_address(const packet::IpAddress& addr) {
  std::string out;
  append_address(out, addr);
  return out;
}

std::string format_p0f_time(std::int64_t ts_us) {
  // p0f logs whole seconds of the capture time (tv_sec), in local time.
  std::int64_t sec = ts_us / 1000000;
  if (ts_us % 1000000 < 0) --sec;
  const auto t = static_cast<std::time_t>(sec);
  std::tm tm{};
  char buf[64];
  if (localtime_r(&t, &tm) == nullptr ||
      std::strftime(buf, sizeof buf, "%Y/%m/%d %H:%M:%S", &tm) == 0) {
    return "0000/00/00 00:00:00";
  }
  return buf;
}

std::string P0fLogWriter::format_line(const Observation& obs) {
  std::string out;
  out.reserve(256);
  append_line(out, obs, format_p0f_time(obs.ts_us));
  return out;
}

void P0fLogWriter::append_line(std::string& out, const Observation& obs, std::string_view time) {
  out += '[';
  out += time;
  out += "] mod=";
  out += analyzer::p0f_module_name(obs.kind);
  out += "|cli=";
  append_endpoint(out, obs.client);
  out += "|srv=";
  append_endpoint(out, obs.server);
  out += "|subj=";
  out += obs.subject == analyzer::Subject::kClient ? "cli" : "srv";

  switch (obs.kind) {
    case ObservationKind::kSyn:
    case ObservationKind::kSynAck:
    case ObservationKind::kSendsynProbe:
    case ObservationKind::kSendsynResponse:
      if (obs.match) {
        field(out, obs.match->is_app ? "app" : "os", obs.match->label);
      } else {
        field(out, "os", "???");
      }
      key(out, "dist");
      if (obs.dist_is_upper_bound) out += "<= ";
      append_uint(out, obs.dist);
      field(out, "params", obs.params);
      field(out, "raw_sig", obs.signature);
      break;
    case ObservationKind::kMtu:
      if (obs.link) {
        field(out, "link", *obs.link);
      } else {
        field(out, "link", "???");
      }
      key(out, "raw_mtu");
      append_uint(out, obs.mtu);
      break;
    case ObservationKind::kUptime: {
      const std::uint32_t m = obs.uptime_min;
      key(out, "uptime");
      append_uint(out, m / 60 / 24);
      out += " days ";
      append_uint(out, (m / 60) % 24);
      out += " hrs ";
      append_uint(out, m % 60);
      out += " min (modulo ";
      append_uint(out, obs.modulo_days);
      out += " days)";
      // printf's "%.02f": to_chars with a precision rounds the same way.
      key(out, "raw_freq");
      char buf[64];
      const auto r = std::to_chars(buf, buf + sizeof buf, obs.raw_freq_hz,
                                   std::chars_format::fixed, 2);
      out.append(buf, r.ptr);
      out += " Hz";
      break;
    }
    case ObservationKind::kHostChange:
    case ObservationKind::kIpSharing: {
      const std::string reasons = analyzer::format_nat_reasons(obs.reasons);
      field(out, "reason", reasons.empty() ? std::string_view("???") : reasons);
      key(out, "raw_hits");
      for (std::size_t i = 0; i < obs.raw_hits.size(); ++i) {
        if (i != 0) out += ',';
        append_uint(out, obs.raw_hits[i]);
      }
      break;
    }
    case ObservationKind::kHttpRequest:
    case ObservationKind::kHttpResponse:
      // p0f: "app=???" when nothing matched (not "os=???" as for TCP).
      if (obs.match) {
        field(out, obs.match->is_app ? "app" : "os", obs.match->label);
      } else {
        field(out, "app", "???");
      }
      field(out, "lang", obs.lang ? std::string_view(*obs.lang) : std::string_view("???"));
      field(out, "params", obs.params);
      field(out, "raw_sig", obs.signature);
      break;
    case ObservationKind::kTlsClient: {
      static const analyzer::TlsDetails kNone;
      const auto& t = obs.tls ? *obs.tls : kNone;
      field(out, "ja4", t.ja4);
      key(out, "sni");
      if (t.sni.empty()) out += "none"; else append_wire(out, t.sni);
      key(out, "alpn");
      if (t.alpn.empty()) out += "none";
      for (std::size_t i = 0; i < t.alpn.size(); ++i) {
        if (i != 0) out += ',';
        append_wire(out, t.alpn[i]);
      }
      key(out, "hello");
      append_uint(out, t.hello_index);
      field(out, "resumption", t.resumption ? "yes" : "no");
      break;
    }
    case ObservationKind::kHttp2Client: {
      static const analyzer::Http2Details kNone;
      const auto& h = obs.http2 ? *obs.http2 : kNone;
      // Built by us from numbers and pseudo-header letters: no wire text.
      field(out, "akamai", h.akamai);
      field(out, "mode", h.upgrade ? "upgrade" : "prior_knowledge");
      field(out, "complete", h.complete ? "yes" : "no");
      key(out, "ua");
      if (h.user_agent) append_wire(out, *h.user_agent); else out += "none";
      break;
    }
  }
}

std::string P0fLogWriter::format_log_line(const Observation& obs) { return format_line(obs); }

P0fLogWriter::P0fLogWriter(std::FILE* out, bool line_buffered)
    : out_(out), line_buffered_(line_buffered) {
  buf_.reserve(line_buffered_ ? 1024 : kBufferBytes);
}

P0fLogWriter::~P0fLogWriter() { flush(); }

void P0fLogWriter::on_observation(const Observation& obs) {
  // p0f has no such records: the p0f-format log stays exactly p0f's.
  if (obs.kind == ObservationKind::kTlsClient || obs.kind == ObservationKind::kHttp2Client) return;
  std::int64_t sec = obs.ts_us / 1000000;
  if (obs.ts_us % 1000000 < 0) --sec;
  if (sec != cached_sec_) {
    cached_sec_ = sec;
    cached_time_ = format_p0f_time(obs.ts_us);
  }
  append_line(buf_, obs, cached_time_);
  buf_ += '\n';
  if (line_buffered_ || buf_.size() >= kBufferBytes) flush();
}

bool P0fLogWriter::flush() {
  if (out_ == nullptr) return false;
  if (!buf_.empty()) {
    if (std::fwrite(buf_.data(), 1, buf_.size(), out_) != buf_.size()) failed_ = true;
    buf_.clear();
  }
  if (std::fflush(out_) != 0) failed_ = true;
  return !failed_;
}

}  // namespace huginn::report
