#include "store/profile_json.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "huginn/store/verdict.hpp"
#include "huginn/util/json_escape.hpp"
#include "store/json_text_builder.hpp"

namespace huginn::store::detail {

namespace {

using util::append_json_string;

template <typename T>
void put_uint(std::string& out, T value) {
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, r.ptr);
}

void put_padded(std::string& out, unsigned value, int width) {
  char digits[8];
  int n = 0;
  for (; n < width; ++n) {
    digits[width - 1 - n] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(digits, static_cast<std::size_t>(width));
}

void put_bool(std::string& out, bool b) { out += b ? "true" : "false"; }

void put_atom(std::string& out, const Atom& a) {
  if (a.has_value()) {
    append_json_string(out, a.view());
  } else {
    out += "null";
  }
}

// Keys are fixed ASCII names needing no escapes.
class Object {
 public:
  explicit Object(std::string& out) : out_(out) { out_ += '{'; }
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;
  ~Object() { out_ += '}'; }
  std::string& key(std::string_view name) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += name;
    out_ += "\":";
    return out_;
  }

 private:
  std::string& out_;
  bool first_ = true;
};

void put_match(std::string& out, const SigSection& s) {
  if (!s.label.has_value()) {
    out += "null";
    return;
  }
  Object m(out);
  put_uint(m.key("line"), s.line);
  put_bool(m.key("generic"), s.generic);
  put_bool(m.key("fuzzy"), s.fuzzy);
}

// tcp.syn / tcp.syn_ack: `os` is the label when it names an OS, `app` when
// it names a userland tool (p0f logs those as "app=").
void put_tcp_sig(std::string& out, const SigSection& s) {
  Object o(out);
  append_json_string(o.key("signature"), s.signature.view());
  if (s.label.has_value() && !s.is_app) {
    append_json_string(o.key("os"), s.label.view());
  } else {
    o.key("os") += "null";
  }
  if (s.label.has_value() && s.is_app) append_json_string(o.key("app"), s.label.view());
  append_json_string(o.key("params"), s.params.view());
  put_uint(o.key("dist"), s.dist);
  if (s.dist_upper_bound) put_bool(o.key("dist_is_upper_bound"), true);
  put_match(o.key("match"), s);
}

// http.request / http.response: p0f HTTP labels are mostly apps; an OS
// label goes to `os` as in the JSONL log.
void put_http_sig(Object& o, const SigSection& s) {
  append_json_string(o.key("signature"), s.signature.view());
  if (s.label.has_value() && s.is_app) {
    append_json_string(o.key("app"), s.label.view());
  } else {
    o.key("app") += "null";
  }
  if (s.label.has_value() && !s.is_app) append_json_string(o.key("os"), s.label.view());
  append_json_string(o.key("params"), s.params.view());
}

// Each record is its own shared piece (the SYN's with the key "tcp"), so a
// piece is shared by every host with that record, whatever its other
// records. The uptime differs per host: it stays the revision's own.
void put_tcp(JsonTextBuilder& b, Object& o, const Aggregate& a) {
  b.begin_shared();
  Object t(o.key("tcp"));
  if (a.syn) put_tcp_sig(t.key("syn"), *a.syn);
  b.cut();
  if (a.syn_ack) put_tcp_sig(t.key("syn_ack"), *a.syn_ack);
  b.cut();
  if (a.mtu) {
    Object m(t.key("mtu"));
    put_uint(m.key("value"), a.mtu->value);
    put_atom(m.key("link"), a.mtu->link);
  }
  b.end_shared();
  if (a.uptime) {
    Object u(t.key("uptime"));
    put_uint(u.key("seconds"), std::uint64_t{a.uptime->minutes} * 60);
    put_uint(u.key("freq_hz"), a.uptime->freq_hz);
    put_uint(u.key("modulo_days"), a.uptime->modulo_days);
  }
}

// Sections are shared pieces; the wire strings that may be unique per
// host (User-Agent, path, Server, SNI) are references to their pooled
// text between them (JsonTextBuilder::put_string).
void put_http(JsonTextBuilder& b, Object& top, const Aggregate& a) {
  b.begin_shared();
  Object h(top.key("http"));
  if (a.http_request) {
    const HttpRequestSection& r = *a.http_request;
    Object o(h.key("request"));
    put_http_sig(o, r.sig);
    put_atom(o.key("lang"), r.lang);
    o.key("user_agent");
    b.put_string(r.user_agent);
    put_bool(o.key("dishonest"), r.dishonest);
    put_atom(o.key("method"), r.method);
    o.key("path");
    b.put_string(r.path);
    o.key("header_order") += r.header_order_json.view();  // rendered JSON array
    put_match(o.key("match"), r.sig);
  }
  b.cut();
  if (a.http_response) {
    const HttpResponseSection& r = *a.http_response;
    Object o(h.key("response"));
    put_http_sig(o, r.sig);
    o.key("server");
    b.put_string(r.server);
    put_bool(o.key("dishonest"), r.dishonest);
    put_match(o.key("match"), r.sig);
  }
  b.end_shared();
}

// `key` and the object `fill` writes, as shared pieces.
template <typename Fill>
void put_shared_object(JsonTextBuilder& b, Object& top, std::string_view key, Fill&& fill) {
  b.begin_shared();
  {
    Object o(top.key(key));
    fill(o);
  }
  b.end_shared();
}

void put_tls(JsonTextBuilder& b, Object& top, const TlsSection& t) {
  put_shared_object(b, top, "tls", [&](Object& o) {
    append_json_string(o.key("ja4"), t.ja4.view());
    append_json_string(o.key("ja4_r"), t.ja4_r.view());
    append_json_string(o.key("ja4_o"), t.ja4_o.view());
    append_json_string(o.key("ja4_ro"), t.ja4_ro.view());
    append_json_string(o.key("ja4_stable"), t.ja4_stable.view());
    o.key("sni");
    b.put_string(t.sni);
    o.key("alpn") += t.alpn_json.view();  // rendered JSON array
  });
}

void put_http2(JsonTextBuilder& b, Object& top, const Http2Section& h) {
  put_shared_object(b, top, "http2", [&](Object& o) {
    append_json_string(o.key("akamai"), h.akamai.view());
    append_json_string(o.key("pseudo_header_order"), h.pseudo_header_order.view());
    o.key("user_agent");
    b.put_string(h.user_agent);
    put_atom(o.key("http_signature"), h.http_signature);
  });
}

void put_reason_words(std::string& out, std::uint16_t reasons) {
  const std::string words = analyzer::format_nat_reasons(reasons);
  out += '[';
  bool first = true;
  // A plain scan, not std::views::split: clang 14 cannot instantiate that
  // with libstdc++ 12, and the fuzz build (clang) links this module.
  std::string_view rest(words);
  while (!rest.empty()) {
    const std::size_t end = std::min(rest.find(' '), rest.size());
    const std::string_view word = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    if (word.empty()) continue;
    if (!first) out += ',';
    first = false;
    append_json_string(out, word);
  }
  out += ']';
}

void put_history(std::string& out, const std::vector<HistoryEntry>& history) {
  out += '[';
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (i != 0) out += ',';
    const HistoryEntry& e = history[i];
    Object o(out);
    std::string& time = o.key("time");
    time += '"';
    append_rfc3339_ms(time, e.ts_us);
    time += '"';
    append_json_string(o.key("field"), history_field_name(e.field));
    put_atom(o.key("from"), e.from);
    put_atom(o.key("to"), e.to);
    put_reason_words(o.key("reasons"), e.reasons);
  }
  out += ']';
}

Verdict verdict_of(const Aggregate& a) {
  VerdictInput in;
  if (a.syn && a.syn->label.has_value()) {
    if (a.syn->is_app) {
      in.tcp_tool = true;
    } else {
      in.tcp_os = a.syn->label.view();
    }
  }
  if (a.http_request) {
    in.user_agent = a.http_request->user_agent.view();
    in.http_matched = a.http_request->sig.label.has_value();
    in.http_dishonest = a.http_request->dishonest;
    if (in.http_matched && !a.http_request->sig.is_app) in.http_os = a.http_request->sig.label.view();
  }
  if (a.http2) in.http2_user_agent = a.http2->user_agent.view();
  if (a.tls) {
    in.tls_seen = true;
    in.tls_offers_h2 = a.tls->offers_h2;
  }
  return compute_verdict(in);
}

// ProfileRevision::os: the host's own OS as TCP shows it (SYN for clients,
// SYN+ACK for servers), else an OS-labelled HTTP request signature.
std::string_view summary_os(const Aggregate& a) {
  for (const auto* s : {a.syn ? &*a.syn : nullptr, a.syn_ack ? &*a.syn_ack : nullptr,
                        a.http_request ? &a.http_request->sig : nullptr}) {
    if (s != nullptr && s->label.has_value() && !s->is_app) return s->label.view();
  }
  return {};
}

// ProfileRevision::browser: the p0f HTTP app label, else the User-Agent's
// product, else the HTTP/2 user-agent's.
std::string_view summary_browser(const Aggregate& a) {
  if (a.http_request) {
    const SigSection& s = a.http_request->sig;
    if (s.label.has_value() && s.is_app) return s.label.view();
    if (auto p = browser_from_user_agent(a.http_request->user_agent.view()); !p.empty()) return p;
  }
  if (a.http2) return browser_from_user_agent(a.http2->user_agent.view());
  return {};
}

}  // namespace

void append_rfc3339_ms(std::string& out, std::int64_t ts_us) {
  using namespace std::chrono;
  const sys_time<microseconds> tp{microseconds{ts_us}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{floor<milliseconds>(tp - day)};
  put_padded(out, static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
  out += '-';
  put_padded(out, static_cast<unsigned>(ymd.month()), 2);
  out += '-';
  put_padded(out, static_cast<unsigned>(ymd.day()), 2);
  out += 'T';
  put_padded(out, static_cast<unsigned>(hms.hours().count()), 2);
  out += ':';
  put_padded(out, static_cast<unsigned>(hms.minutes().count()), 2);
  out += ':';
  put_padded(out, static_cast<unsigned>(hms.seconds().count()), 2);
  out += '.';
  put_padded(out, static_cast<unsigned>(hms.subseconds().count()), 3);
  out += 'Z';
}

ProfileRevision build_revision(const Aggregate& a, std::uint64_t seq, std::string_view etag_prefix,
                               StringPool& pool) {
  ProfileRevision rev;
  rev.ip = a.ip;
  rev.ip_text = a.ip.to_rfc5952_string();
  rev.seq = seq;
  rev.first_seen_us = a.first_seen_us;
  rev.last_seen_us = a.last_seen_us;
  rev.connections = a.connections;
  rev.os = summary_os(a);
  rev.browser = summary_browser(a);
  if (a.tls) rev.ja4 = a.tls->ja4.view();
  if (a.syn || a.syn_ack || a.mtu || a.uptime) rev.has |= kHasTcp;
  if (a.http_request || a.http_response) rev.has |= kHasHttp;
  if (a.tls) rev.has |= kHasTls;
  if (a.http2) rev.has |= kHasHttp2;

  // The revision's own bytes: address, sequence number, times, count,
  // uptime, history; everything else is shared pieces.
  JsonTextBuilder b(pool);
  std::string& out = b.out();
  {
    Object o(out);
    append_json_string(o.key("ip"), rev.ip_text);
    put_uint(o.key("seq"), seq);
    std::string& first = o.key("first_seen");
    first += '"';
    append_rfc3339_ms(first, a.first_seen_us);
    first += '"';
    std::string& last = o.key("last_seen");
    last += '"';
    append_rfc3339_ms(last, a.last_seen_us);
    last += '"';
    put_uint(o.key("connections"), a.connections);
    b.begin_shared();
    if (rev.os.empty()) {
      o.key("os") += "null";
    } else {
      append_json_string(o.key("os"), rev.os);
    }
    if (rev.browser.empty()) {
      o.key("browser") += "null";
    } else {
      append_json_string(o.key("browser"), rev.browser);
    }
    b.end_shared();
    if ((rev.has & kHasTcp) != 0) put_tcp(b, o, a);
    if ((rev.has & kHasHttp) != 0) put_http(b, o, a);
    if (a.tls) put_tls(b, o, *a.tls);
    if (a.http2) put_http2(b, o, *a.http2);
    const Verdict v = verdict_of(a);
    put_shared_object(b, o, "verdict", [&](Object& vo) {
      append_json_string(vo.key("status"), v.status);
      std::string& reasons = vo.key("reasons");
      reasons += '[';
      for (std::size_t i = 0; i < v.reasons.size(); ++i) {
        if (i != 0) reasons += ',';
        append_json_string(reasons, v.reasons[i]);
      }
      reasons += ']';
    });
    put_history(o.key("history"), a.history);
  }
  rev.json = b.finish();

  rev.etag = "\"";
  rev.etag += etag_prefix;
  rev.etag += '-';
  put_uint(rev.etag, seq);
  rev.etag += '"';
  return rev;
}

}  // namespace huginn::store::detail
