#include "store/profile_aggregate.hpp"

#include <algorithm>
#include <string>

#include "huginn/util/json_escape.hpp"

namespace huginn::store::detail {

namespace {

using analyzer::Observation;
using analyzer::ObservationKind;

std::string_view wire(std::string_view s) { return s.substr(0, kMaxWireString); }

Atom intern_wire(StringPool& pool, std::string_view s) { return pool.intern(wire(s)); }
// Empty wire fields mean "not sent": null.
Atom intern_nonempty(StringPool& pool, std::string_view s) {
  return s.empty() ? Atom() : intern_wire(pool, s);
}

template <typename Range>
Atom intern_json_array(StringPool& pool, const Range& names) {
  std::string json = "[";
  for (const auto& name : names) {
    if (json.size() > 1) json += ',';
    util::append_json_string(json, wire(name));
  }
  json += ']';
  return pool.intern(json);
}

SigSection sig_section(const Observation& obs, StringPool& pool) {
  SigSection s;
  s.signature = pool.intern(obs.signature);
  s.params = pool.intern(obs.params.empty() ? std::string_view("none") : std::string_view(obs.params));
  s.dist = obs.dist;
  s.dist_upper_bound = obs.dist_is_upper_bound;
  if (obs.match) {
    s.label = pool.intern(obs.match->label);
    s.line = obs.match->line;
    s.is_app = obs.match->is_app;
    s.generic = obs.match->generic;
    s.fuzzy = obs.match->fuzzy;
  }
  return s;
}

// The OS label a SYN section names, null for unknown or a tool.
Atom os_label(const std::optional<SigSection>& s) {
  return s && !s->is_app ? s->label : Atom();
}

void add_history(Aggregate& agg, HistoryEntry entry, std::size_t limit) {
  if (limit == 0) return;
  if (agg.history.size() >= limit) agg.history.erase(agg.history.begin());
  agg.history.push_back(std::move(entry));
}

void note_change(Aggregate& agg, std::int64_t ts_us, HistoryField field, const Atom& from, const Atom& to,
                 std::size_t limit) {
  if (from == to) return;
  add_history(agg, HistoryEntry{ts_us, field, 0, from, to}, limit);
}

// Whether this SYN's 4-tuple was among the profile's last few SYNs; records
// it if not. The client address is the profile's own, so the rest of the
// tuple identifies the connection.
bool seen_recently(Aggregate& agg, const Observation& obs) {
  std::uint32_t key = static_cast<std::uint32_t>(obs.server.addr.hash()) * 2654435761U;
  key ^= (std::uint32_t{obs.client.port} << 16) | obs.server.port;
  key |= 1;  // never 0, the empty slot
  for (const auto k : agg.recent_syns) {
    if (k == key) return true;
  }
  agg.recent_syns[agg.recent_syn_next] = key;
  agg.recent_syn_next = static_cast<std::uint8_t>((agg.recent_syn_next + 1) % agg.recent_syns.size());
  return false;
}

}  // namespace

std::string_view history_field_name(HistoryField field) {
  switch (field) {
    case HistoryField::kOs: return "os";
    case HistoryField::kUserAgent: return "user_agent";
    case HistoryField::kJa4: return "ja4";
    case HistoryField::kHttp2: return "http2";
    case HistoryField::kHostChange: return "host_change";
    case HistoryField::kIpSharing: return "ip_sharing";
  }
  return "unknown";
}

void apply_observation(Aggregate& agg, const Observation& obs, StringPool& pool, std::size_t history_limit) {
  if (agg.first_seen_us == 0 && agg.last_seen_us == 0) {
    agg.first_seen_us = obs.ts_us;
    agg.last_seen_us = obs.ts_us;
  } else {
    // Records may arrive slightly out of capture order (two analyzers).
    agg.first_seen_us = std::min(agg.first_seen_us, obs.ts_us);
    agg.last_seen_us = std::max(agg.last_seen_us, obs.ts_us);
  }

  switch (obs.kind) {
    case ObservationKind::kSyn: {
      if (!seen_recently(agg, obs)) ++agg.connections;
      SigSection next = sig_section(obs, pool);
      // A first SYN is not a change; a later one whose OS label differs is
      // (p0f also reports it as a host change when its score says so).
      if (agg.syn) note_change(agg, obs.ts_us, HistoryField::kOs, os_label(agg.syn), os_label(next), history_limit);
      agg.syn = std::move(next);
      break;
    }
    case ObservationKind::kSynAck:
      agg.syn_ack = sig_section(obs, pool);
      break;
    case ObservationKind::kSendsynProbe:
    case ObservationKind::kSendsynResponse:
      // Active probes (p0f-sendsyn) describe our own probe, not the host's
      // stack: they only mark the host as seen.
      break;
    case ObservationKind::kMtu:
      agg.mtu = MtuSection{obs.mtu, obs.link ? pool.intern(*obs.link) : Atom()};
      break;
    case ObservationKind::kUptime:
      agg.uptime = UptimeSection{obs.uptime_min, obs.modulo_days, obs.freq_hz};
      break;
    case ObservationKind::kHostChange:
    case ObservationKind::kIpSharing:
      add_history(agg,
                  HistoryEntry{obs.ts_us,
                               obs.kind == ObservationKind::kHostChange ? HistoryField::kHostChange
                                                                         : HistoryField::kIpSharing,
                               obs.reasons, Atom(), Atom()},
                  history_limit);
      break;
    case ObservationKind::kHttpRequest: {
      HttpRequestSection next;
      next.sig = sig_section(obs, pool);
      // p0f "lang=none" (no usable Accept-Language) and "???" (nullopt) are
      // both null in the profile.
      if (obs.lang && *obs.lang != "none") next.lang = pool.intern(*obs.lang);
      next.user_agent = intern_nonempty(pool, obs.http.user_agent);
      next.method = intern_wire(pool, obs.http.method);
      next.path = intern_wire(pool, obs.http.path);
      next.header_order_json = intern_json_array(pool, obs.http.header_names);
      next.dishonest = obs.dishonest;
      if (agg.http_request) {
        // A request without User-Agent changes nothing the host claims: the
        // profile keeps the last one it sent.
        if (!next.user_agent.has_value()) {
          next.user_agent = agg.http_request->user_agent;
        } else if (agg.http_request->user_agent.has_value()) {
          note_change(agg, obs.ts_us, HistoryField::kUserAgent, agg.http_request->user_agent, next.user_agent,
                      history_limit);
        }
      }
      agg.http_request = std::move(next);
      break;
    }
    case ObservationKind::kHttpResponse: {
      HttpResponseSection next;
      next.sig = sig_section(obs, pool);
      next.server = intern_nonempty(pool, obs.http.server);
      next.dishonest = obs.dishonest;
      agg.http_response = std::move(next);
      break;
    }
    case ObservationKind::kTlsClient: {
      if (!obs.tls) break;
      const analyzer::TlsDetails& t = *obs.tls;
      TlsSection next;
      next.ja4 = pool.intern(t.ja4);
      next.ja4_r = pool.intern(t.ja4_r);
      next.ja4_o = pool.intern(t.ja4_o);
      next.ja4_ro = pool.intern(t.ja4_ro);
      next.ja4_stable = pool.intern(t.ja4_stable);
      next.sni = intern_nonempty(pool, t.sni);
      next.alpn_json = intern_json_array(pool, t.alpn);
      next.offers_h2 = std::find(t.alpn.begin(), t.alpn.end(), "h2") != t.alpn.end();
      if (agg.tls) note_change(agg, obs.ts_us, HistoryField::kJa4, agg.tls->ja4, next.ja4, history_limit);
      agg.tls = std::move(next);
      break;
    }
    case ObservationKind::kHttp2Client: {
      if (!obs.http2) break;
      const analyzer::Http2Details& h = *obs.http2;
      Http2Section next;
      next.akamai = pool.intern(h.akamai);
      next.pseudo_header_order = pool.intern(h.pseudo_header_order);
      if (h.user_agent) next.user_agent = intern_nonempty(pool, *h.user_agent);
      next.http_signature = intern_nonempty(pool, h.http_signature);
      if (agg.http2) {
        note_change(agg, obs.ts_us, HistoryField::kHttp2, agg.http2->akamai, next.akamai, history_limit);
      }
      agg.http2 = std::move(next);
      break;
    }
  }
}

}  // namespace huginn::store::detail
