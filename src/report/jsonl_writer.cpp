#include "huginn/report/jsonl_writer.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <ctime>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <type_traits>

#include "huginn/util/json_escape.hpp"

namespace huginn::report {

namespace {

using analyzer::Observation;
using analyzer::ObservationKind;

constexpr std::size_t kBufferBytes = 1 << 20;

// Wire strings are hostile: bounded here whatever produced them. The cut
// is in bytes, before escaping, so it may split a UTF-8 sequence (which
// then becomes U+FFFD like any other truncated sequence).
constexpr std::size_t kMaxWireString = 1024;
std::string_view wire(std::string_view s) { return s.substr(0, kMaxWireString); }

// String escaping is the project's one implementation (util/json_escape.hpp,
// byte for byte nlohmann::json's replace mode), into our own buffer.
template <typename Out>
void json_string(Out& out, std::string_view s) {
  util::append_json_string(out, s);
}

template <typename Out>
void json_latin1_string(Out& out, std::string_view bytes) {
  util::append_json_latin1_string(out, bytes);
}

template <typename T>
void put_uint(JsonBuffer& out, T value) {
  static_assert(std::is_unsigned_v<T>);
  constexpr std::size_t kMaxDigits = 20;  // 2^64 - 1
  char* p = out.room(kMaxDigits);
  const auto r = std::to_chars(p, p + kMaxDigits, value);
  out.commit(static_cast<std::size_t>(r.ptr - p));
}

void put_bool(JsonBuffer& out, bool b) { out += b ? "true" : "false"; }
void put_null(JsonBuffer& out) { out += "null"; }
// A string of our own that needs no escaping (a record kind, a subject).
void put_plain(JsonBuffer& out, std::string_view s) {
  char* p = out.room(s.size() + 2);
  p[0] = '"';
  std::memcpy(p + 1, s.data(), s.size());
  p[s.size() + 1] = '"';
  out.commit(s.size() + 2);
}

void put_string_or_null(JsonBuffer& out, const std::optional<std::string>& s) {
  if (s) {
    json_string(out, wire(*s));
  } else {
    put_null(out);
  }
}
// Empty wire fields are written null.
void put_nonempty_or_null(JsonBuffer& out, std::string_view s) {
  if (s.empty()) {
    put_null(out);
  } else {
    json_string(out, wire(s));
  }
}

template <typename Range>
void put_uint_array(JsonBuffer& out, const Range& values) {
  using T = typename Range::value_type;
  static_assert(std::is_unsigned_v<T>);
  // One reservation for the whole array: each value takes at most its
  // digits and a comma, plus the two brackets.
  constexpr std::size_t kMaxItem = std::numeric_limits<T>::digits10 + 2;
  char* const start = out.room(2 + kMaxItem * std::size(values));
  char* p = start;
  *p++ = '[';
  bool first = true;
  for (const T v : values) {
    if (!first) *p++ = ',';
    first = false;
    p = std::to_chars(p, p + kMaxItem, v).ptr;
  }
  *p++ = ']';
  out.commit(static_cast<std::size_t>(p - start));
}

void put_string_array(JsonBuffer& out, const std::vector<std::string>& values) {
  out += '[';
  bool first = true;
  for (const auto& v : values) {
    if (!first) out += ',';
    first = false;
    json_string(out, wire(v));
  }
  out += ']';
}

// Keys are fixed ASCII names needing no escapes, written in the order
// docs/formats.md lists them; every record opens with kind, ts, client,
// server, subject.
class ObjectWriter {
 public:
  explicit ObjectWriter(JsonBuffer& out) : out_(out) { out_ += '{'; }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;
  ~ObjectWriter() { out_ += '}'; }

  // `,"name":` (no comma before the first key) in one reservation. Taking
  // the literal's array type makes the name's length a constant, so its
  // copy compiles to a few stores instead of a memcpy call.
  template <std::size_t N>
  JsonBuffer& key(const char (&name)[N]) {
    constexpr std::size_t kLen = N - 1;  // without the literal's '\0'
    char* p = out_.room(kLen + 4);
    const std::size_t comma = first_ ? 0 : 1;
    first_ = false;
    p[0] = ',';
    char* q = p + comma;
    q[0] = '"';
    std::memcpy(q + 1, name, kLen);
    q[kLen + 1] = '"';
    q[kLen + 2] = ':';
    out_.commit(comma + kLen + 3);
    return out_;
  }

 private:
  JsonBuffer& out_;
  bool first_ = true;
};

// Writes "a.b.c.d" at `p` (at most 15 bytes); returns the end.
char* write_dotted_quad(char* p, const std::uint8_t* b) {
  for (std::size_t i = 0; i < 4; ++i) {
    if (i != 0) *p++ = '.';
    const unsigned v = b[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
  }
  return p;
}

// At most 4 lowercase hex digits of `v`, without leading zeros ("0" for 0).
char* write_hex16(char* p, unsigned v) {
  static constexpr char kHex[] = "0123456789abcdef";
  int shift = 12;
  while (shift > 0 && (v >> shift) == 0) shift -= 4;
  for (; shift >= 0; shift -= 4) *p++ = kHex[(v >> shift) & 0xf];
  return p;
}

// The text IpAddress::to_rfc5952_string() gives (inet_ntop), without its
// allocation or inet_ntop's printf calls. IPv6 per RFC 5952 §4: lowercase
// hex without leading zeros, the longest run of two or more zero groups
// (the first of equal runs) as "::", and, as inet_ntop does, the last 32
// bits in dotted decimal for IPv4-compatible (::a.b.c.d, but not ::1) and
// IPv4-mapped (::ffff:a.b.c.d) addresses. Nothing here needs escaping.
// Writes at `p`, at most kMaxIpText bytes (INET6_ADDRSTRLEN without its
// NUL); returns the end.
constexpr std::size_t kMaxIpText = 45;
char* write_ip(char* p, const packet::IpAddress& addr) {
  const std::uint8_t* b = addr.bytes.data();
  if (addr.version == packet::IpVersion::v4) return write_dotted_quad(p, b);
  std::array<unsigned, 8> words{};
  for (std::size_t i = 0; i < 8; ++i) words[i] = (unsigned{b[2 * i]} << 8) | b[2 * i + 1];
  std::size_t best_base = 8;
  std::size_t best_len = 0;
  for (std::size_t i = 0; i < 8;) {
    if (words[i] != 0) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < 8 && words[end] == 0) ++end;
    if (end - i > best_len) {
      best_base = i;
      best_len = end - i;
    }
    i = end;
  }
  if (best_len < 2) {
    best_base = 8;
    best_len = 0;
  }
  const bool embedded_v4 = best_base == 0 && (best_len == 6 || (best_len == 7 && words[7] != 1) ||
                                              (best_len == 5 && words[5] == 0xffff));
  for (std::size_t i = 0; i < 8; ++i) {
    if (i >= best_base && i < best_base + best_len) {
      if (i == best_base) *p++ = ':';
      continue;
    }
    if (i != 0) *p++ = ':';
    if (i == 6 && embedded_v4) return write_dotted_quad(p, b + 12);
    p = write_hex16(p, words[i]);
  }
  if (best_len != 0 && best_base + best_len == 8) *p++ = ':';
  return p;
}

// `"address/port"`, every record has two: one reservation, no escaping.
void put_endpoint(JsonBuffer& out, const analyzer::Endpoint& ep) {
  char* const start = out.room(kMaxIpText + 8);  // quotes, '/', 5 digits
  char* p = start;
  *p++ = '"';
  p = write_ip(p, ep.addr);
  *p++ = '/';
  p = std::to_chars(p, p + 5, ep.port).ptr;
  *p++ = '"';
  out.commit(static_cast<std::size_t>(p - start));
}

// Writes "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" to `dst` and returns its length (27
// for years 0..9999). Records arrive in capture order, so the date part of
// the common case is cached per second.
constexpr std::size_t kTimestampBuffer = 64;
std::size_t rfc3339_utc(std::int64_t ts_us, char (&dst)[kTimestampBuffer]) {
  std::int64_t sec = ts_us / 1000000;
  std::int64_t usec = ts_us % 1000000;
  if (usec < 0) {
    usec += 1000000;
    --sec;
  }
  struct DateCache {
    std::int64_t sec = 0;
    bool valid = false;
    char date[20] = {};
  };
  thread_local DateCache cache;
  if (!cache.valid || cache.sec != sec) {
    const auto t = static_cast<std::time_t>(sec);
    std::tm tm{};
    char date[32];
    const std::size_t n = gmtime_r(&t, &tm) == nullptr
                              ? 0
                              : std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n == 0) {
      constexpr std::string_view kEpoch = "1970-01-01T00:00:00.000000Z";
      std::memcpy(dst, kEpoch.data(), kEpoch.size());
      return kEpoch.size();
    }
    if (n != 19) {  // a year outside 0..9999: rare, not cached
      const int len = std::snprintf(dst, sizeof dst, "%s.%06ldZ", date, static_cast<long>(usec));
      return len < 0 ? 0 : std::min(static_cast<std::size_t>(len), sizeof dst - 1);
    }
    std::memcpy(cache.date, date, 19);
    cache.sec = sec;
    cache.valid = true;
  }
  std::memcpy(dst, cache.date, 19);
  dst[19] = '.';
  auto u = static_cast<unsigned>(usec);
  for (std::size_t k = 25; k >= 20; --k) {
    dst[k] = static_cast<char>('0' + u % 10);
    u /= 10;
  }
  dst[26] = 'Z';
  return 27;
}

void put_match(JsonBuffer& out, const Observation& obs) {
  if (!obs.match) {
    put_null(out);
    return;
  }
  ObjectWriter m(out);
  put_uint(m.key("line"), obs.match->line);
  put_bool(m.key("generic"), obs.match->generic);
  put_bool(m.key("fuzzy"), obs.match->fuzzy);
  put_bool(m.key("random_ttl"), obs.match->random_ttl);
  json_string(m.key("sig"), obs.match->sig_text);
}

void put_priority(JsonBuffer& out, const analyzer::Http2Priority& p) {
  out += '[';
  put_uint(out, p.stream_id);
  out += p.exclusive ? ",1," : ",0,";
  put_uint(out, p.dependency);
  out += ',';
  put_uint(out, p.weight);
  out += ']';
}

// The double as nlohmann::json prints it (Grisu2 shortest round-trip,
// "null" for NaN/inf), kept for identity with earlier logs; uptime records
// are rare, and the short result fits in the small-string buffer.
void put_double(JsonBuffer& out, double v) { out += nlohmann::json(v).dump(); }

void add_tls(ObjectWriter& j, const analyzer::TlsDetails& t) {
  json_string(j.key("ja4"), t.ja4);
  json_string(j.key("ja4_r"), t.ja4_r);
  json_string(j.key("ja4_o"), t.ja4_o);
  json_string(j.key("ja4_ro"), t.ja4_ro);
  json_string(j.key("ja4_stable"), t.ja4_stable);
  put_uint(j.key("hello"), t.hello_index);
  put_nonempty_or_null(j.key("sni"), t.sni);
  put_bool(j.key("sni_truncated"), t.sni_truncated);
  JsonBuffer& alpn = j.key("alpn");
  alpn += '[';
  for (std::size_t i = 0; i < t.alpn.size(); ++i) {
    if (i != 0) alpn += ',';
    json_latin1_string(alpn, wire(t.alpn[i]));
  }
  alpn += ']';
  put_uint_array(j.key("tls_versions"), t.supported_versions);
  put_uint_array(j.key("ciphers"), t.cipher_suites);
  put_uint_array(j.key("extensions"), t.extensions);
  put_uint_array(j.key("groups"), t.supported_groups);
  put_uint_array(j.key("sig_algs"), t.signature_algorithms);
  put_uint(j.key("record_version"), t.record_version);
  put_uint(j.key("legacy_version"), t.legacy_version);
  put_bool(j.key("resumption"), t.resumption);
}

void add_http2(ObjectWriter& j, const analyzer::Http2Details& h) {
  json_string(j.key("akamai"), h.akamai);
  put_bool(j.key("complete"), h.complete);
  put_plain(j.key("mode"), h.upgrade ? "upgrade" : "prior_knowledge");
  JsonBuffer& settings = j.key("settings");
  settings += '[';
  for (std::size_t i = 0; i < h.settings.size(); ++i) {
    settings += i == 0 ? "[" : ",[";
    put_uint(settings, h.settings[i].first);
    settings += ',';
    put_uint(settings, h.settings[i].second);
    settings += ']';
  }
  settings += ']';
  if (h.window_update) {
    put_uint(j.key("window_update"), *h.window_update);
  } else {
    put_null(j.key("window_update"));
  }
  JsonBuffer& priority = j.key("priority");
  priority += '[';
  for (std::size_t i = 0; i < h.priority.size(); ++i) {
    if (i != 0) priority += ',';
    put_priority(priority, h.priority[i]);
  }
  priority += ']';
  put_uint(j.key("priority_frames"), h.priority_frames_total);
  json_string(j.key("pseudo_header_order"), h.pseudo_header_order);
  if (h.headers_priority) {
    put_priority(j.key("headers_priority"), *h.headers_priority);
  } else {
    put_null(j.key("headers_priority"));
  }
  put_string_or_null(j.key("method"), h.method);
  put_string_or_null(j.key("path"), h.path);
  put_string_or_null(j.key("authority"), h.authority);
  put_string_or_null(j.key("user_agent"), h.user_agent);
  put_string_array(j.key("headers"), h.header_names);
  if (!h.http_signature.empty()) json_string(j.key("http_signature"), h.http_signature);
}

void put_reasons(JsonBuffer& out, std::uint16_t reasons) {
  // Rare records: the word list is built by the p0f-format code.
  const std::string text = analyzer::format_nat_reasons(reasons);
  out += '[';
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    if (start != 0) out += ',';
    json_string(out, std::string_view(text).substr(start, end - start));
    start = end + 1;
  }
  out += ']';
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) { json_string(out, s); }

void append_json_latin1_string(std::string& out, std::string_view bytes) {
  json_latin1_string(out, bytes);
}

std::string format_rfc3339_utc(std::int64_t ts_us) {
  char buf[kTimestampBuffer];
  return std::string(buf, rfc3339_utc(ts_us, buf));
}

void JsonlWriter::append_line(std::string& out, const Observation& obs) {
  JsonBuffer buf;
  append_line(buf, obs);
  out += buf.view();
}

void JsonlWriter::append_line(JsonBuffer& out, const Observation& obs) {
  ObjectWriter j(out);
  put_plain(j.key("kind"), analyzer::jsonl_kind_name(obs.kind));
  char ts[kTimestampBuffer];
  const std::size_t ts_len = rfc3339_utc(obs.ts_us, ts);
  JsonBuffer& ts_out = j.key("ts");
  ts_out += '"';
  ts_out.append(ts, ts_len);  // digits, '-', ':', 'T', '.', 'Z': nothing to escape
  ts_out += '"';
  put_endpoint(j.key("client"), obs.client);
  put_endpoint(j.key("server"), obs.server);
  put_plain(j.key("subject"), obs.subject == analyzer::Subject::kClient ? "client" : "server");

  switch (obs.kind) {
    case ObservationKind::kSyn:
    case ObservationKind::kSynAck:
    case ObservationKind::kSendsynProbe:
    case ObservationKind::kSendsynResponse:
      if (obs.match && obs.match->is_app) {
        put_null(j.key("os"));
        json_string(j.key("app"), obs.match->label);
      } else if (obs.match) {
        json_string(j.key("os"), obs.match->label);
      } else {
        put_null(j.key("os"));
      }
      put_uint(j.key("dist"), obs.dist);
      put_bool(j.key("dist_is_upper_bound"), obs.dist_is_upper_bound);
      json_string(j.key("params"), obs.params);
      json_string(j.key("signature"), obs.signature);
      put_match(j.key("match"), obs);
      break;
    case ObservationKind::kMtu:
      put_uint(j.key("mtu"), obs.mtu);
      if (obs.link) {
        json_string(j.key("link"), *obs.link);
      } else {
        put_null(j.key("link"));
      }
      break;
    case ObservationKind::kUptime:
      put_uint(j.key("uptime_s"), std::uint64_t{obs.uptime_min} * 60);
      put_uint(j.key("uptime_min"), obs.uptime_min);
      put_uint(j.key("modulo_days"), obs.modulo_days);
      put_uint(j.key("freq_hz"), obs.freq_hz);
      put_double(j.key("raw_freq_hz"), obs.raw_freq_hz);
      break;
    case ObservationKind::kHostChange:
    case ObservationKind::kIpSharing:
      put_reasons(j.key("reason"), obs.reasons);
      put_uint_array(j.key("raw_hits"), obs.raw_hits);
      break;
    case ObservationKind::kHttpRequest:
    case ObservationKind::kHttpResponse: {
      const bool app = !obs.match || obs.match->is_app;
      if (obs.match && app) {
        json_string(j.key("app"), obs.match->label);
      } else {
        put_null(j.key("app"));
      }
      if (obs.match && !app) {
        json_string(j.key("os"), obs.match->label);
      } else {
        put_null(j.key("os"));
      }
      if (obs.lang && *obs.lang != "none") {
        json_string(j.key("lang"), *obs.lang);
      } else {
        put_null(j.key("lang"));
      }
      json_string(j.key("params"), obs.params);
      put_bool(j.key("dishonest"), obs.dishonest);
      json_string(j.key("signature"), obs.signature);
      put_match(j.key("match"), obs);
      if (obs.kind == ObservationKind::kHttpRequest) {
        json_string(j.key("method"), wire(obs.http.method));
        json_string(j.key("path"), wire(obs.http.path));
        put_nonempty_or_null(j.key("user_agent"), obs.http.user_agent);
        put_nonempty_or_null(j.key("accept_language"), obs.http.accept_language);
      } else {
        // "server" already names the endpoint.
        put_nonempty_or_null(j.key("server_header"), obs.http.server);
      }
      put_string_array(j.key("header_names"), obs.http.header_names);
      break;
    }
    case ObservationKind::kTlsClient:
      if (obs.tls) {
        add_tls(j, *obs.tls);
      } else {
        add_tls(j, analyzer::TlsDetails{});
      }
      break;
    case ObservationKind::kHttp2Client:
      if (obs.http2) {
        add_http2(j, *obs.http2);
      } else {
        add_http2(j, analyzer::Http2Details{});
      }
      break;
  }
}

std::string JsonlWriter::format_line(const Observation& obs) {
  std::string out;
  append_line(out, obs);
  return out;
}

JsonlWriter::JsonlWriter(std::FILE* out, bool line_buffered)
    : out_(out), line_buffered_(line_buffered) {
  // Room for one more record past the flush threshold, so the buffer does
  // not grow in steady state.
  buf_.reserve(line_buffered_ ? 4096 : kBufferBytes + 64 * 1024);
}

JsonlWriter::~JsonlWriter() { flush(); }

void JsonlWriter::on_observation(const Observation& obs) {
  append_line(buf_, obs);
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
