#include "huginn/analyzer/analyzer.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>

#include "huginn/fingerprint/http/http_signature.hpp"
#include "huginn/fingerprint/http/language.hpp"
#include "huginn/fingerprint/tcp/mtu.hpp"
#include "huginn/fingerprint/tcp/raw_sig.hpp"
#include "huginn/fingerprint/tcp/uptime.hpp"
#include "huginn/flow/flow_key.hpp"

namespace huginn::analyzer {

namespace {

namespace ft = fingerprint::tcp;
namespace fh = fingerprint::http;
namespace fl = packet::tcp_flags;
using packet::DecodedPacket;

// p0f config.h EXPIRE_INTERVAL: expiry is considered every this many packets.
constexpr std::uint64_t kExpireInterval = 50;
// p0f config.h KILL_PERCENT: share of a full table evicted at once.
constexpr std::size_t kKillPercent = 10;

// p0f config.h HTTP_MAX_DATE_DIFF: seconds of Date jitter overlooked.
constexpr std::int64_t kHttpMaxDateDiff = 10;

// p0f's NAT scoring thresholds (process.c add_nat_score): how many of the
// last 32 scores may exceed 5, 2, 1 and 0 before an address is called shared.
constexpr int kMaxOver5 = 2;
constexpr int kMaxOver2 = 4;
constexpr int kMaxOver1 = 6;
constexpr int kMaxOver0 = 8;

// Quirks a middlebox may plausibly change; NAT scoring ignores them when
// comparing unknown signatures.
constexpr std::uint32_t kFuzzyQuirks =
    ft::kQuirkEcn | ft::kQuirkDf | ft::kQuirkNzId | ft::kQuirkZeroId;

__extension__ using Uint128 = unsigned __int128;

// Multiply-fold (as in wyhash): one 64x64->128 multiply mixes every bit of
// both operands into the result.
std::uint64_t mum(std::uint64_t a, std::uint64_t b) {
  const Uint128 r = static_cast<Uint128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

// The lookups below run for every segment: addresses compare as two words
// (flow::detail::same_address) instead of the defaulted operators' memcmp.
using flow::detail::same_address;

// (src, sport) <= (dst, dport) in IpAddress's and then the port's order.
bool source_is_low(const DecodedPacket& pkt) {
  return !flow::endpoint_less(pkt.dst, pkt.dport, pkt.src, pkt.sport);
}

std::int32_t name_id_of(const db::TcpSigRecord* rec) {
  return static_cast<std::int32_t>(rec->label->name_id);
}

}  // namespace

std::uint64_t Analyzer::hash_addr(const packet::IpAddress& a) const {
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  std::memcpy(&lo, a.bytes.data(), 8);
  std::memcpy(&hi, a.bytes.data() + 8, 8);
  return mum(lo ^ hash_seed_[0], hi ^ hash_seed_[1] ^ static_cast<std::uint64_t>(a.version));
}

std::uint64_t Analyzer::hash_flow(const FlowKey& k) const {
  const std::uint64_t ports = (std::uint64_t{k.lo_port} << 16) | k.hi_port;
  return mum(hash_addr(k.lo_addr) ^ ports ^ hash_seed_[2], hash_addr(k.hi_addr) ^ hash_seed_[3]);
}

Analyzer::Analyzer(const db::P0fDb& db, AnalyzerConfig config, ObservationSink& sink)
    : db_(db),
      matcher_(db),
      http_matcher_(db),
      http_known_(http_matcher_.known_header_predicate()),
      config_(config),
      sink_(sink) {
  for (const auto& label : db_.labels) {
    LabelInfo info;
    if (label.name_id < db_.names.size()) info.display = db_.names[label.name_id];
    if (!label.flavor.empty()) {
      info.display += ' ';
      info.display += label.flavor;
    }
    labels_.emplace(&label, std::move(info));
  }
  // Seeds only change where entries sit in the index, never what is found,
  // so output stays deterministic.
  std::random_device rd;
  for (auto& seed : hash_seed_) seed = (std::uint64_t{rd()} << 32) | rd();
  // The indexes grow by doubling with the entries actually stored. Sized
  // for max_hosts up front (half a million slots at p0f's -m ...,200000),
  // the host index would spread a capture's few thousand hosts over 4 MiB
  // of slots whose every probe misses the cache.
  flow_index_ = IndexTable(std::min<std::size_t>(config_.max_flows + 1, 1u << 17));
  host_index_ = IndexTable(std::min<std::size_t>(config_.max_hosts + 1, 1024));
  if (config_.app_layer) {
    AppLayerConfig app = config_.app;
    app.max_flows = config_.max_flows;
    app.idle_timeout_us = std::int64_t{config_.flow_max_age_s} * 1'000'000;
    // HTTP/2 requests get p0f-form signatures with the same notion of a
    // "known" header as HTTP/1 (the names p0f.fp uses); http_matcher_ is
    // declared before app_, so the predicate outlives the AppLayer.
    app.http_header_known = http_known_;
    app_ = std::make_unique<AppLayer>(app, sink_);
  }
}

Analyzer::~Analyzer() = default;

std::uint32_t Analyzer::now_s() const {
  return static_cast<std::uint32_t>(now_us_ / 1000000);
}

std::uint64_t Analyzer::now_ms() const {
  // p0f: tv_sec * 1000 + tv_usec / 1000.
  const auto sec = static_cast<std::uint64_t>(now_us_ / 1000000);
  const auto usec = static_cast<std::uint64_t>(now_us_ % 1000000);
  return sec * 1000 + usec / 1000;
}

const util::Counters& Analyzer::counters() const {
  counters_.add("packets", hot_.packets - folded_.packets);
  counters_.add("observations", hot_.observations - folded_.observations);
  counters_.add("flows_created", hot_.flows_created - folded_.flows_created);
  folded_ = hot_;
  if (!app_) return counters_;
  combined_ = counters_;
  combined_.merge(app_->counters());
  return combined_;
}

void Analyzer::tick(std::int64_t ts_us) {
  ++packet_cnt_;
  ++hot_.packets;
  now_us_ = ts_us;
  if (packet_cnt_ % kExpireInterval == 0) expire();
}

void Analyzer::on_undecoded_tcp_frame(std::int64_t ts_us) {
  counters_.add("undecoded_tcp_frames");
  tick(ts_us);
}

void Analyzer::on_packet(const DecodedPacket& pkt) {
  tick(pkt.ts_us);
  if (ft::is_silly_flag_combination(pkt.flags)) {
    counters_.add("silly_flags");
    return;
  }
  // dispatch() routes the segment (route_app(), before it may end the p0f
  // flow); it is fed after, so its app-layer record follows its p0f records.
  app_route_ = AppRoute::kNone;
  dispatch(pkt);
  if (app_route_ == AppRoute::kFeed) {
    app_->on_packet(pkt);
  } else if (app_route_ == AppRoute::kUnrouted) {
    app_->on_unrouted_packet(pkt);
  }
}

Analyzer::AppRoute Analyzer::route_app(const DecodedPacket& pkt, std::uint32_t fi, bool to_srv) {
  const bool syn = (pkt.flags & fl::kSyn) != 0;
  // A bare SYN needs no app-layer state yet (the flow is handed over with
  // its ISN at admission); one carrying data (TCP Fast Open, RFC 7413)
  // starts the app-layer flow itself.
  if (syn) {
    return (pkt.flags & fl::kAck) == 0 && !pkt.payload.empty() ? AppRoute::kFeed : AppRoute::kNone;
  }
  if (fi == kNil) {
    // No p0f flow: one p0f has let go of (first FIN/RST, not HTTP) that
    // the app layer holds, or a mid-stream flow, which only a segment that
    // may start a parsed stream is worth creating (the server's data on a
    // flow p0f dropped, say TLS records 0x17, is not). The app layer
    // decides both with one lookup; dispatch() does nothing with a
    // segment of no flow that is not a SYN, so deciding after it keeps the
    // order of records.
    return AppRoute::kUnrouted;
  }
  Flow& f = flows_[fi];
  if (f.app != AppGate::kUndecided) {
    return f.app == AppGate::kAdmitted ? AppRoute::kFeed : AppRoute::kNone;
  }
  if (!to_srv || pkt.payload.empty()) return AppRoute::kNone;
  // Only the stream's real first byte decides; a segment that arrived
  // ahead of it is handed over and the app layer decides later.
  if (pkt.seq == f.cli_isn + 1 && !AppLayer::may_start(pkt.payload.front())) {
    f.app = AppGate::kIgnored;
    app_->note_other_protocol();
    return AppRoute::kNone;
  }
  f.app = AppGate::kAdmitted;
  DecodedPacket syn_pkt = pkt;
  syn_pkt.flags = fl::kSyn;
  syn_pkt.seq = f.cli_isn;
  syn_pkt.ack = 0;
  syn_pkt.payload = {};
  syn_pkt.tcp_options = {};
  app_->on_packet(syn_pkt);
  return AppRoute::kFeed;
}

void Analyzer::no_more_client_bytes(const DecodedPacket& pkt) {
  if (app_) app_->no_more_client_bytes(pkt);
}

void Analyzer::finish() {
  if (app_) app_->finish();
}

// ---------------------------------------------------------------------------
// Flow dispatch (p0f process.c flow_dispatch).

void Analyzer::dispatch(const DecodedPacket& pkt) {
  bool to_srv = false;
  std::uint64_t flow_hash = 0;
  std::uint32_t fi = lookup_flow(pkt, to_srv, flow_hash);
  if (app_) app_route_ = route_app(pkt, fi, to_srv);
  const std::uint8_t type = ft::tcp_type(pkt.flags);
  // Most segments belong to no flow (p0f lets go of a connection early);
  // of those only a SYN is fingerprinted, so the others (the cases below
  // that return at once without a flow) skip computing a signature.
  if (fi == kNil && (type == (fl::kSyn | fl::kAck) || type == fl::kAck || type == fl::kRst ||
                     type == (fl::kRst | fl::kAck) || type == fl::kFin ||
                     type == (fl::kFin | fl::kAck))) {
    return;
  }
  const ft::TcpSignature sig = ft::compute_tcp_signature(pkt);

  switch (type) {
    case fl::kSyn: {
      if (fi != kNil) {
        // A retransmitted SYN keeps the flow; a new ISN means a new connection.
        if (to_srv && flows_[fi].next_cli_seq - 1 == pkt.seq) return;
        destroy_flow(fi);
      }
      fi = create_flow(pkt, flow_hash);
      const SigSnapshot snap = fingerprint_syn(true, pkt, sig, fi);
      // Userland tools (nmap...) get no further tracking.
      if (!snap.valid && !flows_[fi].sendsyn) {
        destroy_flow(fi);
        return;
      }
      fingerprint_mtu(true, sig, fi);
      check_ts(true, pkt, sig, fi);
      // Stored only now: check_ts compares against the previous SYN.
      if (snap.valid) hosts_[flows_[fi].client].last_syn = snap;
      return;
    }

    case fl::kSyn | fl::kAck: {
      if (fi == kNil) return;  // no SYN seen: nothing to pair it with
      if (flows_[fi].sendsyn) {
        (void)fingerprint_syn(false, pkt, sig, fi);
        destroy_flow(fi);
        return;
      }
      if (to_srv) return;
      if (flows_[fi].acked) return;  // only the first SYN+ACK of a flow counts
      flows_[fi].acked = true;
      const SigSnapshot snap = fingerprint_syn(false, pkt, sig, fi);
      if (!snap.valid) {
        destroy_flow(fi);
        return;
      }
      fingerprint_mtu(false, sig, fi);
      check_ts(false, pkt, sig, fi);
      hosts_[flows_[fi].server].last_synack = snap;
      flows_[fi].next_srv_seq = pkt.seq + 1;
      return;
    }

    case fl::kRst | fl::kAck:
    case fl::kRst:
    case fl::kFin | fl::kAck:
    case fl::kFin:
      if (fi != kNil) {
        check_ts(to_srv, pkt, sig, fi);
        destroy_flow(fi);
      }
      return;

    case fl::kAck: {
      if (fi == kNil) return;
      Flow& f = flows_[fi];
      if (f.sendsyn || !f.acked) {
        destroy_flow(fi);
        return;
      }
      // No reassembly: only the next in-order segment of each direction
      // is taken, as in p0f.
      std::uint32_t& next_seq = to_srv ? f.next_cli_seq : f.next_srv_seq;
      if (next_seq != pkt.seq) return;
      append_payload(f, to_srv, pkt.payload);
      check_ts(to_srv, pkt, sig, fi);
      Flow& g = flows_[fi];
      const auto pay_len = static_cast<std::uint16_t>(pkt.payload.size());
      (to_srv ? g.next_cli_seq : g.next_srv_seq) += pay_len;
      if (pay_len == 0) return;
      const bool need_more = g.http.process(to_srv, buffer_view(g.req_buf, g.req_len),
                                            buffer_view(g.resp_buf, g.resp_len));
      if (const auto* msg = flows_[fi].http.completed()) {
        counters_.add(to_srv ? "http_requests" : "http_responses");
        fingerprint_http(to_srv, *msg, fi);
      } else if (const auto e = flows_[fi].http.error(); e != fh::ParseError::kNone) {
        // Not HTTP as p0f reads it (often simply not HTTP at all).
        counters_.add(fh::parse_error_name(e));
      }
      if (!need_more ||
          (g.req_len >= limits::kMaxFlowData && g.resp_len >= limits::kMaxFlowData)) {
        destroy_flow(fi);
      }
      return;
    }

    default:
      // Unreachable: is_silly_flag_combination() removed every other type.
      counters_.add("unexpected_tcp_type");
      return;
  }
}

void Analyzer::append_payload(Flow& f, bool to_srv, std::span<const std::uint8_t> payload) {
  std::uint32_t& len = to_srv ? f.req_len : f.resp_len;
  std::uint32_t& buf = to_srv ? f.req_buf : f.resp_buf;
  if (len >= limits::kMaxFlowData || payload.empty()) return;
  const std::size_t amt = std::min<std::size_t>(payload.size(), limits::kMaxFlowData - len);
  if (buf == kNil) {
    if (!free_buffers_.empty()) {
      buf = free_buffers_.back();
      free_buffers_.pop_back();
    } else {
      buf = static_cast<std::uint32_t>(buffers_.size());
      buffers_.emplace_back().reserve(limits::kMaxFlowData);
    }
    buffers_[buf].clear();
  }
  auto& b = buffers_[buf];
  b.insert(b.end(), payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(amt));
  len += static_cast<std::uint32_t>(amt);
}

std::span<const std::uint8_t> Analyzer::buffer_view(std::uint32_t buf, std::uint32_t len) const {
  if (buf == kNil) return {};
  return std::span<const std::uint8_t>(buffers_[buf].data(), len);
}

// ---------------------------------------------------------------------------
// Fingerprinting (p0f fp_tcp.c fingerprint_tcp, fp_mtu.c, check_ts_tcp).

Observation Analyzer::start_observation(ObservationKind kind, bool to_srv, const Flow& f) const {
  Observation obs;
  obs.kind = kind;
  obs.ts_us = now_us_;
  obs.client = {hosts_[f.client].addr, f.cli_port};
  obs.server = {hosts_[f.server].addr, f.srv_port};
  obs.subject = to_srv ? Subject::kClient : Subject::kServer;
  return obs;
}

void Analyzer::emit(const Observation& obs) {
  ++hot_.observations;
  sink_.on_observation(obs);
}

Analyzer::SigSnapshot Analyzer::fingerprint_syn(bool to_srv, const DecodedPacket& pkt,
                                                const ft::TcpSignature& sig, std::uint32_t fi) {
  Flow& f = flows_[fi];
  // p0f-sendsyn marks its probes with a special window and MSS; their
  // answers are reported as such and kept out of host history.
  if (ft::tcp_type(pkt.flags) == fl::kSyn && pkt.win == limits::kSpecialWin &&
      sig.mss == limits::kSpecialMss) {
    f.sendsyn = true;
  }
  const ObservationKind kind =
      to_srv ? (f.sendsyn ? ObservationKind::kSendsynProbe : ObservationKind::kSyn)
             : (f.sendsyn ? ObservationKind::kSendsynResponse : ObservationKind::kSynAck);

  const db::TcpMatch m = matcher_.match(sig, f.syn_mss);
  const db::TcpSigRecord* rec = m.record;
  Observation obs = start_observation(kind, to_srv, f);
  ft::ParamsInput params;
  if (rec != nullptr) {
    const db::Label& label = *rec->label;
    SigMatchInfo info = match_info(label);
    info.is_app = label.is_user_app() || f.sendsyn;
    info.fuzzy = m.fuzzy;
    info.random_ttl = rec->sig.bad_ttl;
    info.line = rec->line_no;
    info.sig_text = rec->raw;
    obs.match = std::move(info);
    params.generic = label.generic;
    params.fuzzy = m.fuzzy;
    params.random_ttl = rec->sig.bad_ttl;
  }
  obs.dist = m.dist;
  if (rec != nullptr && rec->sig.bad_ttl) {
    // The TTL is randomised: the distance is only an upper bound, and not
    // worth remembering.
    obs.dist_is_upper_bound = true;
  } else {
    hosts_[to_srv ? f.client : f.server].distance = m.dist;
  }
  params.dist = m.dist;
  params.tos = sig.tos;
  obs.params = ft::format_params(params);
  obs.signature = ft::format_raw_sig(sig, f.syn_mss);
  emit(obs);

  if (ft::tcp_type(pkt.flags) == fl::kSyn) f.syn_mss = sig.mss;

  if (rec != nullptr && rec->label->is_user_app()) {
    verify_tool_class(to_srv, *rec->label, fi);
    return {};
  }
  if (f.sendsyn) return {};

  SigSnapshot snap;
  snap.valid = true;
  snap.matched = rec;
  snap.fuzzy = m.fuzzy;
  snap.dist = m.dist;
  snap.quirks = sig.quirks;
  snap.olayout = sig.olayout;
  snap.opt_cnt = sig.opt_cnt;
  snap.ttl = sig.ttl;
  snap.mss = sig.mss;
  snap.ts1 = sig.ts1;
  snap.recv_ms = now_ms();
  score_nat(to_srv, snap, fi);
  return snap;
}

SigMatchInfo Analyzer::match_info(const db::Label& label) const {
  SigMatchInfo info;
  const auto it = labels_.find(&label);
  if (it != labels_.end()) info.label = it->second.display;
  info.is_app = label.is_user_app();
  info.generic = label.generic;
  return info;
}

void Analyzer::fingerprint_mtu(bool to_srv, const ft::TcpSignature& sig, std::uint32_t fi) {
  const Flow& f = flows_[fi];
  if (f.sendsyn) return;
  const auto mtu = ft::mss_to_mtu(sig.mss, sig.ip_ver);
  if (!mtu) return;
  Observation obs = start_observation(ObservationKind::kMtu, to_srv, f);
  obs.mtu = *mtu;
  if (*mtu <= 0xFFFF) {
    const auto it = db_.mtu_to_link.find(static_cast<std::uint16_t>(*mtu));
    if (it != db_.mtu_to_link.end()) obs.link = it->second;
  }
  emit(obs);
}

void Analyzer::check_ts(bool to_srv, const DecodedPacket& pkt, const ft::TcpSignature& sig,
                        std::uint32_t fi) {
  Flow& f = flows_[fi];
  if (sig.ts1 == 0 || f.sendsyn) return;
  std::int16_t& tps = to_srv ? f.cli_tps : f.srv_tps;
  Host& host = hosts_[to_srv ? f.client : f.server];
  const SigSnapshot& ref = to_srv ? host.last_syn : host.last_synack;
  // One reading per flow direction; the reference is the host's last
  // SYN (or SYN+ACK), possibly from an earlier connection.
  if (tps != 0 || !ref.valid || ref.ts1 == 0) return;

  const std::uint64_t ms_diff = now_ms() - ref.recv_ms;
  const ft::UptimeResult res = ft::estimate_uptime(sig.ts1, ref.ts1, ms_diff);
  if (std::holds_alternative<ft::UptimeSkipped>(res)) return;
  if (std::holds_alternative<ft::UptimeBadFrequency>(res)) {
    // A SYN may come from another machine behind the same address, so a bad
    // reading there does not rule out the flow.
    if (ft::tcp_type(pkt.flags) != fl::kSyn) tps = -1;
    counters_.add("uptime_bad_frequency");
    return;
  }
  const auto& est = std::get<ft::UptimeEstimate>(res);
  tps = static_cast<std::int16_t>(est.freq_hz);
  host.last_up_min = static_cast<std::int32_t>(est.up_min);
  host.up_mod_days = est.modulo_days;

  Observation obs = start_observation(ObservationKind::kUptime, to_srv, f);
  obs.uptime_min = est.up_min;
  obs.modulo_days = est.modulo_days;
  obs.freq_hz = est.freq_hz;
  obs.raw_freq_hz = est.raw_freq_hz;
  emit(obs);
}

// ---------------------------------------------------------------------------
// HTTP (p0f fp_http.c fingerprint_http and score_nat).

void Analyzer::fingerprint_http(bool to_srv, const fh::Http1Message& msg, std::uint32_t fi) {
  const fh::HttpSignature sig = fh::compute_http_signature(msg);
  const db::HttpMatch m = http_matcher_.match(sig);
  Observation obs = start_observation(
      to_srv ? ObservationKind::kHttpRequest : ObservationKind::kHttpResponse, to_srv, flows_[fi]);
  if (m.record != nullptr) {
    obs.match = match_info(*m.record->label);
    obs.match->line = m.record->line_no;
    obs.match->sig_text = m.record->raw;
  }
  const fh::Language lang = fh::classify_accept_language(
      sig.lang ? std::optional<std::string_view>(*sig.lang) : std::nullopt);
  switch (lang.verdict) {
    case fh::LanguageVerdict::kNone: obs.lang = "none"; break;
    case fh::LanguageVerdict::kUnknown: break;
    case fh::LanguageVerdict::kKnown: obs.lang = std::string(lang.name); break;
  }
  obs.dishonest = m.dishonest;
  obs.params = fh::format_http_params(m.dishonest, !sig.sw.has_value(),
                                      m.record != nullptr && m.record->label->generic);
  obs.signature = fh::format_http_raw_sig(sig, http_known_);
  obs.http.method = msg.method;
  obs.http.path = msg.path;
  (to_srv ? obs.http.user_agent : obs.http.server) = sig.sw.value_or("");
  obs.http.accept_language = sig.lang.value_or("");
  obs.http.header_names.reserve(msg.headers.size());
  for (const auto& h : msg.headers) obs.http.header_names.push_back(h.name);
  emit(obs);

  score_nat_http(to_srv, sig, m, fi);

  // Remember what later records are scored against.
  const Flow& f = flows_[fi];
  HttpHost& hd = http_host(to_srv ? f.client : f.server);
  HttpSnapshot snap;
  snap.valid = true;
  snap.matched = m.record;
  snap.date = sig.date;
  snap.recv_s = now_s();
  const db::Label* label = m.record != nullptr ? m.record->label : nullptr;
  if (!to_srv) {
    hd.resp = snap;
    hd.resp_port = f.srv_port;
  }
  if (label == nullptr) return;
  if (!label->is_user_app()) {
    if (to_srv) hd.req_os = snap;
    Host& host = hosts_[to_srv ? f.client : f.server];
    host.last_class_id = static_cast<std::int32_t>(*label->class_id);
    host.last_name_id = static_cast<std::int32_t>(label->name_id);
  } else {
    hd.name_id = static_cast<std::int32_t>(label->name_id);
    if (m.dishonest) hd.bad_sw = 2;
  }
}

Analyzer::HttpHost& Analyzer::http_host(std::uint32_t hi) {
  Host& h = hosts_[hi];
  if (h.http == kNil) {
    if (!free_http_hosts_.empty()) {
      h.http = free_http_hosts_.back();
      free_http_hosts_.pop_back();
      http_hosts_[h.http] = HttpHost{};
    } else {
      h.http = static_cast<std::uint32_t>(http_hosts_.size());
      http_hosts_.emplace_back();
    }
  }
  return http_hosts_[h.http];
}

void Analyzer::score_nat_http(bool to_srv, const fh::HttpSignature& sig, const db::HttpMatch& m,
                              std::uint32_t fi) {
  const Flow& f = flows_[fi];
  const Host& hd = hosts_[to_srv ? f.client : f.server];
  HttpHost& hh = http_host(to_srv ? f.client : f.server);
  const HttpSnapshot* ref = to_srv ? &hh.req_os : &hh.resp;
  // A server's answer on another port may come from other software.
  if (!ref->valid || (!to_srv && hh.resp_port != f.srv_port)) ref = nullptr;
  std::uint8_t score = 0;
  std::uint16_t reason = 0;
  auto add = [&](std::uint8_t s, std::uint16_t r) {
    score = static_cast<std::uint8_t>(score + s);
    reason |= r;
  };

  const db::Label* label = m.record != nullptr ? m.record->label : nullptr;
  if (label == nullptr) {
    // Unknown software: only a server going from known to unknown counts.
    if (!to_srv && ref != nullptr && ref->matched != nullptr) add(4, kNatToUnk);
  } else if (label->is_user_app()) {
    verify_tool_class(to_srv, *label, fi);
    if (!to_srv && ref != nullptr && ref->matched != nullptr) {
      const db::Label& old = *ref->matched->label;
      if (old.name_id != label->name_id) {
        add(8, kNatAppLb);
      } else if (old.label_id != label->label_id) {
        add(2, kNatAppLb);
      }
    }
  } else {
    // An HTTP record labelled with an OS (none in p0f 3.09b's database).
    bool diff_already = false;
    if (ref != nullptr && ref->matched != nullptr) {
      const db::Label& old = *ref->matched->label;
      if (old.name_id != label->name_id) {
        add(8, kNatOsSig);
        diff_already = true;
      } else if (old.label_id != label->label_id) {
        // p0f compares the old name id with the new label id here
        // (docs/p0f-deviations.md, "HTTP OS label change").
        add(2, kNatOsSig);
      }
    } else if (ref != nullptr) {
      add(4, kNatToUnk);
    }
    if (!diff_already && hd.last_name_id != static_cast<std::int32_t>(label->name_id)) {
      add(4, kNatOsSig);
    }
  }

  // A plausible User-Agent that names another OS than the host's.
  if (to_srv && label != nullptr && label->is_user_app() && sig.sw && !m.dishonest) {
    if (const auto ua_os = http_matcher_.ua_os_name_id(*sig.sw)) {
      if (static_cast<std::int32_t>(*ua_os) != hd.last_name_id) {
        add(4, kNatAppUa);
        if (hh.bad_sw == 0) hh.bad_sw = 1;
      } else {
        hh.bad_sw = 0;
      }
    }
  }

  if (sig.via) add(8, kNatAppVia);

  // Server clocks move with real time: a Date that goes back, or ahead of
  // the capture clock by more than the allowed jitter, suggests another
  // server behind the address.
  if (ref != nullptr && !to_srv && ref->date && sig.date) {
    const std::int64_t recv_diff =
        static_cast<std::int64_t>(now_s()) - static_cast<std::int64_t>(ref->recv_s);
    const std::int64_t hdr_diff = *sig.date - *ref->date;
    if (hdr_diff < -kHttpMaxDateDiff || hdr_diff > recv_diff + kHttpMaxDateDiff) {
      add(4, kNatAppDate);
    }
  }

  add_nat_score(to_srv, fi, reason, score);
}

// ---------------------------------------------------------------------------
// Host change / IP sharing (p0f fp_tcp.c score_nat, process.c add_nat_score
// and verify_tool_class).

void Analyzer::score_nat(bool to_srv, const SigSnapshot& sig, std::uint32_t fi) {
  const Flow& f = flows_[fi];
  Host& hd = hosts_[to_srv ? f.client : f.server];
  const SigSnapshot& ref = to_srv ? hd.last_syn : hd.last_synack;
  std::uint8_t score = 0;
  std::uint16_t reason = 0;
  bool diff_already = false;
  auto add = [&](std::uint8_t s, std::uint16_t r) {
    score = static_cast<std::uint8_t>(score + s);
    reason |= r;
  };

  if (!ref.valid) {
    // Nothing of this type yet, but an OS may be known from the other kind.
    if (sig.matched != nullptr && hd.last_class_id != -1 &&
        hd.last_name_id != name_id_of(sig.matched)) {
      add(8, kNatOsSig);
    }
  } else {
    if (sig.matched == nullptr || ref.matched == nullptr) {
      // Weak signals only: the unknown side may be a userland tool.
      const bool same_layout =
          sig.opt_cnt == ref.opt_cnt &&
          std::equal(sig.olayout.begin(), sig.olayout.begin() + sig.opt_cnt, ref.olayout.begin());
      if (((sig.quirks ^ ref.quirks) & ~kFuzzyQuirks) != 0) {
        add(2, kNatUnkDiff);
      } else if (to_srv && !same_layout) {
        // SYN+ACK layouts legitimately vary with the SYN, so SYNs only.
        add(1, kNatUnkDiff);
      }
      if (to_srv && sig.matched != ref.matched) add(1, kNatToUnk);
    } else if (ref.matched->label->name_id != sig.matched->label->name_id) {
      add(8, kNatOsSig);
      diff_already = true;
    } else if (to_srv) {
      if (ref.matched->label->label_id != sig.matched->label->label_id) {
        add(2, kNatOsSig);
      } else if (ref.matched->line_no != sig.matched->line_no) {
        add(1, kNatOsSig);
      } else if (sig.fuzzy != ref.fuzzy) {
        add(1, kNatFuzzy);
      }
    }

    if (!diff_already && sig.matched != nullptr && hd.last_class_id != -1 &&
        hd.last_name_id != name_id_of(sig.matched)) {
      add(8, kNatOsSig);
      diff_already = true;
    }

    // TTL changes matter unless TTLs are random, or the host is far away
    // and the change tiny (routing changes).
    const int ttl_diff = int{sig.ttl} - int{ref.ttl};
    if (!diff_already && ttl_diff != 0 &&
        (sig.matched == nullptr || !sig.matched->sig.bad_ttl) &&
        (ref.matched == nullptr || !ref.matched->sig.bad_ttl) &&
        (sig.dist <= limits::kNearTtlLimit || ttl_diff > 1)) {
      const bool small = sig.dist > limits::kLocalTtlLimit && std::abs(ttl_diff) <= limits::kSmallTtlChg;
      add(small ? 1 : 4, kNatTtl);
    }

    // Source ports going back by a lot suggest another machine.
    if (to_srv && hd.last_port != 0 && f.cli_port < hd.last_port &&
        hd.last_port - f.cli_port >= limits::kMinPortDrop) {
      add(1, kNatPort);
    }

    if (sig.mss != ref.mss) add(1, kNatMss);

    // Timestamps that advance plausibly between the two SYNs halve the
    // score; impossible progress adds to it. Never scored on their own.
    if (score != 0 && sig.ts1 != 0 && ref.ts1 != 0) {
      const std::uint64_t ms_diff = sig.recv_ms - ref.recv_ms;
      if (ms_diff < limits::kMaxNatTsMs) {
        const std::uint64_t use_ms = std::max<std::uint64_t>(ms_diff, limits::kTstampGraceMs);
        const auto max_ts = static_cast<std::uint64_t>(static_cast<double>(use_ms) *
                                                       limits::kMaxTsScale / 1000);
        const std::uint32_t ts_diff = sig.ts1 - ref.ts1;
        if (ts_diff > max_ts && (ms_diff >= limits::kTstampGraceMs || ~ts_diff > max_ts)) {
          add(4, kNatTs);
        } else {
          score = static_cast<std::uint8_t>(score / 2);
        }
      }
    }
  }

  add_nat_score(to_srv, fi, reason, score);

  if (sig.matched != nullptr) {
    // Only OS signatures reach here, so class_id is set.
    hd.last_class_id = static_cast<std::int32_t>(sig.matched->label->class_id.value_or(0));
    hd.last_name_id = name_id_of(sig.matched);
  }
  hd.last_port = f.cli_port;
}

void Analyzer::verify_tool_class(bool to_srv, const db::Label& label, std::uint32_t fi) {
  const Flow& f = flows_[fi];
  const Host& hd = hosts_[to_srv ? f.client : f.server];
  // Without an OS on file there is nothing to contradict yet.
  if (hd.last_class_id == -1) return;
  const bool fits = std::any_of(label.sys.begin(), label.sys.end(), [&](const db::SysRef& s) {
    const auto id = static_cast<std::int32_t>(s.id);
    return s.is_class ? id == hd.last_class_id : id == hd.last_name_id;
  });
  if (fits) {
    add_nat_score(to_srv, fi, 0, 0);
  } else {
    add_nat_score(to_srv, fi, kNatAppSig, 4);
  }
}

void Analyzer::add_nat_score(bool to_srv, std::uint32_t fi, std::uint16_t reason,
                             std::uint8_t score) {
  const Flow& f = flows_[fi];
  Host& hd = hosts_[to_srv ? f.client : f.server];
  auto& scores = to_srv ? hd.cli_scores : hd.srv_scores;

  std::copy(scores.begin() + 1, scores.end(), scores.begin());
  scores.back() = score;
  hd.nat_reasons |= reason;
  if (score == 0) return;

  int over5 = 0, over2 = 0, over1 = 0, over0 = 0;
  for (const std::uint8_t s : scores) {
    if (s > 5) ++over5;
    if (s > 2) ++over2;
    if (s > 1) ++over1;
    if (s > 0) ++over0;
  }

  Observation obs;
  if (over5 > kMaxOver5 || over2 > kMaxOver2 || over1 > kMaxOver1 || over0 > kMaxOver0) {
    obs = start_observation(ObservationKind::kIpSharing, to_srv, f);
    reason = hd.nat_reasons;
    hd.last_nat = now_s();
    scores.fill(0);
    hd.nat_reasons = 0;
  } else {
    if (score == 1) return;  // too weak to report on its own
    obs = start_observation(ObservationKind::kHostChange, to_srv, f);
    hd.last_chg = now_s();
  }
  obs.reasons = reason;
  obs.raw_hits = {static_cast<std::uint8_t>(over5), static_cast<std::uint8_t>(over2),
                  static_cast<std::uint8_t>(over1), static_cast<std::uint8_t>(over0)};
  emit(obs);
}

// ---------------------------------------------------------------------------
// Flow and host tables (p0f process.c), bounded and expired on the capture clock.

std::uint32_t Analyzer::lookup_flow(const DecodedPacket& pkt, bool& to_srv,
                                    std::uint64_t& hash) const {
  FlowKey key;
  const bool src_lo = source_is_low(pkt);
  key.lo_addr = src_lo ? pkt.src : pkt.dst;
  key.lo_port = src_lo ? pkt.sport : pkt.dport;
  key.hi_addr = src_lo ? pkt.dst : pkt.src;
  key.hi_port = src_lo ? pkt.dport : pkt.sport;
  hash = hash_flow(key);
  const std::uint32_t fi =
      flow_index_.find(hash, [&](std::uint32_t v) {
        const FlowKey& k = flows_[v].key;
        return k.lo_port == key.lo_port && k.hi_port == key.hi_port &&
               same_address(k.lo_addr, key.lo_addr) && same_address(k.hi_addr, key.hi_addr);
      });
  if (fi == kNil) return kNil;
  const Flow& f = flows_[fi];
  to_srv = pkt.sport == f.cli_port && same_address(pkt.src, hosts_[f.client].addr);
  return fi;
}

std::uint32_t Analyzer::create_flow(const DecodedPacket& pkt, std::uint64_t hash) {
  if (flow_index_.size() > config_.max_flows) nuke_flows();

  // The client is pinned before the server is looked up, so making room
  // for the server can never evict it.
  const std::uint32_t client = lookup_or_create_host(pkt.src);
  ++hosts_[client].use_cnt;
  const std::uint32_t server = lookup_or_create_host(pkt.dst);
  ++hosts_[server].use_cnt;
  ++hosts_[client].total_conn;
  ++hosts_[server].total_conn;

  std::uint32_t fi;
  if (!free_flows_.empty()) {
    fi = free_flows_.back();
    free_flows_.pop_back();
    flows_[fi] = Flow{};
  } else {
    fi = static_cast<std::uint32_t>(flows_.size());
    flows_.emplace_back();
  }
  Flow& f = flows_[fi];
  const bool src_lo = source_is_low(pkt);
  f.key.lo_addr = src_lo ? pkt.src : pkt.dst;
  f.key.lo_port = src_lo ? pkt.sport : pkt.dport;
  f.key.hi_addr = src_lo ? pkt.dst : pkt.src;
  f.key.hi_port = src_lo ? pkt.dport : pkt.sport;
  f.client = client;
  f.server = server;
  f.cli_port = pkt.sport;
  f.srv_port = pkt.dport;
  f.created = now_s();
  f.next_cli_seq = pkt.seq + 1;
  f.cli_isn = pkt.seq;

  f.older = newest_flow_;
  if (newest_flow_ != kNil) {
    flows_[newest_flow_].newer = fi;
  } else {
    oldest_flow_ = fi;
  }
  newest_flow_ = fi;
  flow_index_.insert(hash, fi);
  ++hot_.flows_created;
  return fi;
}

void Analyzer::destroy_flow(std::uint32_t fi) {
  Flow& f = flows_[fi];
  flow_index_.erase(hash_flow(f.key), fi);
  if (f.newer != kNil) {
    flows_[f.newer].older = f.older;
  } else {
    newest_flow_ = f.older;
  }
  if (f.older != kNil) {
    flows_[f.older].newer = f.newer;
  } else {
    oldest_flow_ = f.newer;
  }
  for (std::uint32_t buf : {f.req_buf, f.resp_buf}) {
    if (buf != kNil) free_buffers_.push_back(buf);
  }
  --hosts_[f.client].use_cnt;
  --hosts_[f.server].use_cnt;
  f = Flow{};
  free_flows_.push_back(fi);
}

void Analyzer::nuke_flows() {
  std::size_t kcnt = 1 + flow_index_.size() * kKillPercent / 100;
  counters_.add("flows_evicted", kcnt);
  while (kcnt-- > 0 && oldest_flow_ != kNil) destroy_flow(oldest_flow_);
}

std::uint32_t Analyzer::lookup_or_create_host(const packet::IpAddress& addr) {
  const std::uint64_t hash = hash_addr(addr);
  const std::uint32_t hi =
      host_index_.find(hash, [&](std::uint32_t v) { return same_address(hosts_[v].addr, addr); });
  if (hi != kNil) {
    touch_host(hi);
    return hi;
  }
  return create_host(addr, hash);
}

std::uint32_t Analyzer::create_host(const packet::IpAddress& addr, std::uint64_t hash) {
  if (host_index_.size() > config_.max_hosts) nuke_hosts();
  std::uint32_t hi;
  if (!free_hosts_.empty()) {
    hi = free_hosts_.back();
    free_hosts_.pop_back();
    hosts_[hi] = Host{};
  } else {
    hi = static_cast<std::uint32_t>(hosts_.size());
    hosts_.emplace_back();
  }
  Host& h = hosts_[hi];
  h.addr = addr;
  h.first_seen = h.last_seen = now_s();
  h.older = newest_host_;
  if (newest_host_ != kNil) {
    hosts_[newest_host_].newer = hi;
  } else {
    oldest_host_ = hi;
  }
  newest_host_ = hi;
  host_index_.insert(hash, hi);
  return hi;
}

void Analyzer::touch_host(std::uint32_t hi) {
  Host& h = hosts_[hi];
  if (hi != newest_host_) {
    // Unlink, then re-append as newest.
    hosts_[h.newer].older = h.older;
    if (h.older != kNil) {
      hosts_[h.older].newer = h.newer;
    } else {
      oldest_host_ = h.newer;
    }
    hosts_[newest_host_].newer = hi;
    h.older = newest_host_;
    h.newer = kNil;
    newest_host_ = hi;
  }
  h.last_seen = now_s();
}

void Analyzer::destroy_host(std::uint32_t hi) {
  Host& h = hosts_[hi];
  host_index_.erase(hash_addr(h.addr), hi);
  if (h.http != kNil) free_http_hosts_.push_back(h.http);
  if (h.newer != kNil) {
    hosts_[h.newer].older = h.older;
  } else {
    newest_host_ = h.older;
  }
  if (h.older != kNil) {
    hosts_[h.older].newer = h.newer;
  } else {
    oldest_host_ = h.newer;
  }
  h = Host{};
  free_hosts_.push_back(hi);
}

void Analyzer::nuke_hosts() {
  // p0f 3.09b starts at the oldest host but steps towards older ones, so it
  // frees at most one host per call after first dropping 10% of the live
  // flows; the table stays full and every new host repeats the damage.
  // We walk oldest -> newest and evict only hosts no live flow uses; live
  // flows are dropped (oldest first) only if every host is in use
  // (docs/p0f-deviations.md, "host-table pruning").
  std::size_t kcnt = 1 + host_index_.size() * kKillPercent / 100;
  for (int attempt = 0; attempt < 2 && kcnt > 0; ++attempt) {
    std::uint32_t hi = oldest_host_;
    while (kcnt > 0 && hi != kNil) {
      const std::uint32_t next = hosts_[hi].newer;
      if (hosts_[hi].use_cnt == 0) {
        destroy_host(hi);
        counters_.add("hosts_evicted");
        --kcnt;
      }
      hi = next;
    }
    if (kcnt == 0 || host_index_.size() <= config_.max_hosts) break;
    nuke_flows();
  }
}

void Analyzer::expire() {
  const std::uint32_t ct = now_s();
  if (ct == last_expire_s_) return;
  last_expire_s_ = ct;

  // Unsigned differences, as in p0f: a clock that went backwards expires
  // everything rather than keeping it forever.
  while (oldest_flow_ != kNil && ct - flows_[oldest_flow_].created > config_.flow_max_age_s) {
    destroy_flow(oldest_flow_);
    counters_.add("flows_expired");
  }
  std::uint32_t hi = oldest_host_;
  while (hi != kNil && ct - hosts_[hi].last_seen > config_.host_idle_s) {
    const std::uint32_t next = hosts_[hi].newer;
    if (hosts_[hi].use_cnt == 0) {
      destroy_host(hi);
      counters_.add("hosts_expired");
    }
    hi = next;
  }
}

}  // namespace huginn::analyzer
