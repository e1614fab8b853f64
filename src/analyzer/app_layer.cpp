#include "huginn/analyzer/app_layer.hpp"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "huginn/analyzer/analyzer.hpp"
#include "huginn/fingerprint/http/http2_request.hpp"
#include "huginn/fingerprint/http2/client_fingerprint.hpp"
#include "huginn/fingerprint/http2/frame_reader.hpp"
#include "huginn/fingerprint/tls/client_hello.hpp"
#include "huginn/fingerprint/tls/ja4.hpp"
#include "huginn/flow/flow_table.hpp"

namespace huginn::analyzer {

namespace {

namespace tls = fingerprint::tls;
namespace h2 = fingerprint::http2;

// RFC 8446 §5.1 ContentType handshake(22).
constexpr std::uint8_t kTlsHandshakeRecord = 0x16;
// RFC 8446 §4.1.4: a client aborts on a second HelloRetryRequest, so a
// connection carries at most two ClientHellos.
constexpr std::uint8_t kMaxHellos = 2;

enum class Proto : std::uint8_t {
  kUndecided,  // no client byte yet
  kTls,
  kHttp2,      // preface, or an HTTP/1.x request that may upgrade
  kDone,       // emitted everything it will, or not ours: both directions stopped
};

struct AppFlowState {
  Proto proto = Proto::kUndecided;
  std::uint8_t hellos = 0;       // ClientHellos emitted
  std::uint32_t tls_offset = 0;  // where the next ClientHello would start
  bool tls_pending = false;      // the last parse wanted more bytes after tls_offset
};

using Table = flow::FlowTable<AppFlowState>;
using AppFlow = Table::FlowType;

Endpoint to_endpoint(const flow::Endpoint& e) { return Endpoint{e.addr, e.port}; }

bool starts_with(std::span<const std::uint8_t> bytes, std::string_view text) {
  return bytes.size() >= text.size() && std::equal(text.begin(), text.end(), bytes.begin());
}

// The message after a first ClientHello is the client's next flight
// (ClientKeyExchange, ChangeCipherSpec + Finished, application data), not a
// broken ClientHello: these reasons say only "not a ClientHello".
bool just_not_a_hello(tls::MalformedReason r) {
  return r == tls::MalformedReason::kNotHandshake || r == tls::MalformedReason::kNotClientHello ||
         r == tls::MalformedReason::kInterleavedRecord;
}

Http2Priority to_priority(const h2::PrioritySpec& p) {
  return Http2Priority{p.stream_id, p.exclusive, p.dependency, p.weight};
}

std::optional<std::string> opt_string(std::optional<std::string_view> v) {
  if (!v) return std::nullopt;
  return std::string(*v);
}

fingerprint::http::HeaderKnown builtin_known() {
  return [](std::string_view name) {
    const auto names = fingerprint::http::builtin_header_names();
    return std::find(names.begin(), names.end(), name) != names.end();
  };
}

// The first request's p0f signature; empty when no header block came.
std::string http_signature(const h2::HeaderBlock& block,
                           const fingerprint::http::HeaderKnown& known) {
  namespace fh = fingerprint::http;
  if (block.status == h2::HeaderStatus::kAbsent) return {};
  std::vector<fh::Http1Header> fields;
  fields.reserve(block.fields.size());
  for (const auto& f : block.fields) fields.push_back(fh::Http1Header{f.name, f.value});
  return fh::format_http2_raw_sig(fh::http1_view_of_http2_request(fields), known);
}

}  // namespace

struct AppLayer::Impl {
  Impl(AppLayerConfig cfg, ObservationSink& s) : config(cfg), sink(s), table(table_config(cfg)) {
    table.set_close_hook([this](AppFlow& f, flow::CloseReason) { end_flow(f); });
    if (!config.http_header_known) config.http_header_known = builtin_known();
    h2_limits.max_upgrade_head = cfg.client_prefix_bytes;
  }

  static flow::FlowTableConfig table_config(const AppLayerConfig& cfg) {
    flow::FlowTableConfig t;
    t.max_flows = cfg.max_flows;
    t.idle_timeout_us = cfg.idle_timeout_us;
    t.closed_linger_us = cfg.idle_timeout_us;
    t.pick_up_midstream = cfg.pick_up_midstream;
    t.stream.max_bytes = std::max<std::size_t>(1, cfg.client_prefix_bytes);
    return t;
  }

  void on_packet(const packet::DecodedPacket& pkt) { handle(pkt, table.on_packet(pkt)); }

  void on_unrouted_packet(const packet::DecodedPacket& pkt) {
    if (!pkt.payload.empty() && AppLayer::may_start(pkt.payload.front())) {
      on_packet(pkt);
      return;
    }
    if (table.size() == 0) return;
    const auto found = table.lookup(pkt);
    if (found.found()) handle(pkt, table.on_packet(pkt, found));
  }

  void handle(const packet::DecodedPacket& pkt, const Table::PacketResult& r) {
    if (r.flow == nullptr) return;
    AppFlow& f = *r.flow;
    // Only the client's bytes are parsed: stop the other direction before
    // it stores anything beyond the creating segment.
    if (r.created) f.to_client().stop();
    if (f.user.proto == Proto::kDone) return;
    if (r.direction == flow::Direction::kToServer && r.segment.contiguous_growth > 0) process(f, pkt);
    if (f.closing() && f.user.proto != Proto::kDone) end_flow(f, pkt.ts_us);
  }

  // Callers read the prefix (records, counters) before this: with
  // release_when_done it is gone after.
  void done(AppFlow& f) {
    f.user.proto = Proto::kDone;
    if (config.release_when_done) {
      f.to_server().release();
      f.to_client().release();
    } else {
      f.to_server().stop();
      f.to_client().stop();
    }
  }

  void no_more_client_bytes(const packet::DecodedPacket& pkt) {
    AppFlow* f = table.find(flow::FlowKey::from_packet(pkt));
    if (f == nullptr) return;
    // end_flow() would only call done() for it (RFC 8446 §4.1.4: a second
    // ClientHello comes only as more client bytes, after a
    // HelloRetryRequest).
    if (f->user.proto == Proto::kTls && !f->user.tls_pending) done(*f);
  }

  void process(AppFlow& f, const packet::DecodedPacket& pkt) {
    const auto bytes = f.to_server().contiguous();
    if (f.user.proto == Proto::kUndecided) {
      if (bytes.empty()) return;
      const std::uint8_t first = bytes[0];
      if (!AppLayer::may_start(first)) {
        counters.add(app_counter::kOtherProtocol);
        done(f);
        return;
      }
      f.user.proto = first == kTlsHandshakeRecord ? Proto::kTls : Proto::kHttp2;
    }
    if (f.user.proto == Proto::kTls) run_tls(f, pkt.ts_us);
    else if (f.user.proto == Proto::kHttp2) run_h2(f, pkt.ts_us);
  }

  void run_tls(AppFlow& f, std::int64_t ts_us) {
    while (f.user.proto == Proto::kTls) {
      const auto all = f.to_server().contiguous();
      const auto view = all.subspan(std::min<std::size_t>(f.user.tls_offset, all.size()));
      f.user.tls_pending = false;
      if (view.empty()) return;
      // Re-parse only once the first handshake record is complete, so a
      // hello sent in tiny segments costs one parse per record, not one per
      // segment. (A length past the record limit is left to the parser to
      // reject, and any other record type to decide at once: after a first
      // hello, early data or the next flight is no reason to wait.)
      if (view.size() >= 5 && view[0] == kTlsHandshakeRecord) {
        // After a first hello, a handshake record whose message is not a
        // ClientHello (type 1) is the client's next flight (RFC 5246
        // ClientKeyExchange, Certificate): nothing more to look for.
        if (f.user.hellos > 0 && view.size() > 5 && view[5] != 1) {
          done(f);
          return;
        }
        const std::size_t record = (std::size_t{view[3]} << 8) | view[4];
        if (record <= tls::kMaxRecordPayload && view.size() < 5 + record) {
          if (f.to_server().full()) {
            counters.add(app_counter::kTlsHelloBeyondPrefix);
            done(f);
          } else {
            f.user.tls_pending = true;
          }
          return;
        }
      }
      auto parsed = tls::parse_client_hello(view);
      switch (parsed.status) {
        case tls::ParseStatus::kOk:
          emit_tls(f, std::move(parsed.hello), ts_us);
          f.user.tls_offset += static_cast<std::uint32_t>(parsed.consumed);
          f.to_server().consume(f.user.tls_offset);
          if (f.user.hellos >= kMaxHellos) done(f);
          break;  // look for the next ClientHello in what is left
        case tls::ParseStatus::kMalformed:
          if (f.user.hellos == 0 || !just_not_a_hello(parsed.reason)) {
            counters.add(tls::reason_name(parsed.reason));
          }
          done(f);
          return;
        case tls::ParseStatus::kNeedMore:
          if (f.to_server().full()) {
            counters.add(app_counter::kTlsHelloBeyondPrefix);
            done(f);
          } else {
            f.user.tls_pending = true;
          }
          return;
      }
    }
  }

  // Takes `hello`'s lists: the record needs them and the parse is done.
  void emit_tls(AppFlow& f, tls::ClientHello&& hello, std::int64_t ts_us) {
    ++f.user.hellos;
    counters.add(app_counter::kTlsClientHellos);
    Observation obs;
    obs.kind = ObservationKind::kTlsClient;
    obs.ts_us = ts_us;
    obs.client = to_endpoint(f.client());
    obs.server = to_endpoint(f.server());
    obs.subject = Subject::kClient;
    TlsDetails& t = obs.tls.emplace();
    auto ja4 = tls::compute_ja4_with_stable(hello, 't', tls::AlpnRule::kSpecHex);
    t.ja4 = std::move(ja4.ja4.ja4);
    t.ja4_r = std::move(ja4.ja4.ja4_r);
    t.ja4_o = std::move(ja4.ja4.ja4_o);
    t.ja4_ro = std::move(ja4.ja4.ja4_ro);
    t.ja4_stable = std::move(ja4.stable);
    t.hello_index = f.user.hellos;
    t.record_version = hello.record_version;
    t.legacy_version = hello.legacy_version;
    t.sni = std::move(hello.sni);
    t.sni_truncated = hello.sni_truncated;
    t.alpn = std::move(hello.alpn);
    t.supported_versions = std::move(hello.supported_versions);
    t.cipher_suites = std::move(hello.cipher_suites);
    t.extensions = std::move(hello.extensions);
    t.supported_groups = std::move(hello.supported_groups);
    t.signature_algorithms = std::move(hello.signature_algorithms);
    t.resumption = hello.resumption_attempt;
    sink.on_observation(obs);
  }

  void run_h2(AppFlow& f, std::int64_t ts_us) {
    const auto bytes = f.to_server().contiguous();
    auto read = h2::read_client_frames(bytes, h2_limits);
    switch (read.status) {
      case h2::ReadStatus::kOk:
        emit_h2(f, read, /*complete=*/true, ts_us);
        done(f);
        return;
      case h2::ReadStatus::kMalformed:
        if (read.reason == h2::MalformedReason::kNotUpgrade) {
          counters.add(app_counter::kNotH2Http1);
        } else if (read.reason == h2::MalformedReason::kBadPreface &&
                   !starts_with(bytes, "PRI ")) {
          counters.add(app_counter::kOtherProtocol);
        } else {
          counters.add(h2::reason_name(read.reason));
        }
        done(f);
        return;
      case h2::ReadStatus::kNeedMore:
        if (f.to_server().full()) {
          counters.add(app_counter::kH2BeyondPrefix);
          emit_partial_h2(f, read, ts_us);
          done(f);
        }
        return;
    }
  }

  // A flow whose client bytes ended before a header block: the SETTINGS
  // (and whatever followed) still fingerprint the client.
  void emit_partial_h2(AppFlow& f, const h2::FrameRead& read, std::int64_t ts_us) {
    if (read.mode == h2::StartMode::kUnknown) return;
    const bool settings = std::any_of(read.frames.begin(), read.frames.end(), [](const h2::Frame& fr) {
      return fr.type == h2::frame_type::kSettings && (fr.flags & h2::frame_flag::kAck) == 0;
    });
    if (!settings) {
      counters.add(app_counter::kH2Incomplete);
      return;
    }
    counters.add(app_counter::kH2PartialAtClose);
    emit_h2(f, read, /*complete=*/false, ts_us);
  }

  void emit_h2(AppFlow& f, const h2::FrameRead& read, bool complete, std::int64_t ts_us) {
    counters.add(app_counter::kH2Clients);
    const h2::ClientFingerprint fp = h2::compute_client_fingerprint(read.frames);
    Observation obs;
    obs.kind = ObservationKind::kHttp2Client;
    obs.ts_us = ts_us;
    obs.client = to_endpoint(f.client());
    obs.server = to_endpoint(f.server());
    obs.subject = Subject::kClient;
    Http2Details& d = obs.http2.emplace();
    d.akamai = h2::format_akamai(fp);
    d.complete = complete && fp.headers.status != h2::HeaderStatus::kAbsent;
    d.upgrade = read.mode == h2::StartMode::kUpgrade;
    d.settings.reserve(fp.settings.size());
    for (const auto& s : fp.settings) d.settings.emplace_back(s.id, s.value);
    d.window_update = fp.window_update;
    for (const auto& p : fp.priority_frames) d.priority.push_back(to_priority(p));
    d.priority_frames_total = fp.priority_frames_total;
    d.pseudo_header_order = fp.pseudo_header_order;
    if (fp.headers_priority) d.headers_priority = to_priority(*fp.headers_priority);
    d.method = opt_string(fp.method());
    d.path = opt_string(fp.path());
    d.authority = opt_string(fp.authority());
    d.user_agent = opt_string(fp.user_agent());
    d.header_names.reserve(fp.headers.fields.size());
    for (const auto& h : fp.headers.fields) d.header_names.push_back(h.name);
    d.http_signature = http_signature(fp.headers, config.http_header_known);
    sink.on_observation(obs);
  }

  // The flow is over (closing, or being removed): emit what is pending.
  void end_flow(AppFlow& f, std::int64_t ts_us) {
    if (f.user.proto == Proto::kTls && f.user.tls_pending) {
      counters.add(app_counter::kTlsHelloIncomplete);
    } else if (f.user.proto == Proto::kHttp2) {
      const auto read = h2::read_client_frames(f.to_server().contiguous(), h2_limits);
      if (read.status == h2::ReadStatus::kNeedMore) emit_partial_h2(f, read, ts_us);
    }
    done(f);
  }
  // From the close hook: the flow's last packet time stands for the close.
  void end_flow(AppFlow& f) {
    if (f.user.proto != Proto::kDone) end_flow(f, f.last_seen_us());
  }

  AppLayerConfig config;
  ObservationSink& sink;
  h2::ReaderLimits h2_limits;
  util::Counters counters;
  Table table;
};

bool AppLayer::may_start(std::uint8_t first) {
  // TLS: ContentType handshake. HTTP/2 and HTTP/1.x: the preface starts
  // with "PRI", a request line with a method token, upper-case by
  // convention (RFC 9110 §9.1) and in every method clients send.
  return first == kTlsHandshakeRecord || (first >= 'A' && first <= 'Z');
}

AppLayer::AppLayer(AppLayerConfig config, ObservationSink& sink)
    : impl_(std::make_unique<Impl>(config, sink)) {}

AppLayer::~AppLayer() = default;

void AppLayer::on_packet(const packet::DecodedPacket& pkt) { impl_->on_packet(pkt); }

void AppLayer::on_unrouted_packet(const packet::DecodedPacket& pkt) {
  impl_->on_unrouted_packet(pkt);
}

void AppLayer::no_more_client_bytes(const packet::DecodedPacket& pkt) {
  impl_->no_more_client_bytes(pkt);
}

void AppLayer::finish() { impl_->table.clear(); }

util::Counters AppLayer::counters() const {
  util::Counters out = impl_->counters;
  if (other_protocol_ != 0) out.add(app_counter::kOtherProtocol, other_protocol_);
  out.merge(impl_->table.counters());
  return out;
}

bool AppLayer::tracks(const packet::DecodedPacket& pkt) const {
  return impl_->table.find(pkt) != nullptr;
}

std::size_t AppLayer::flow_count() const { return impl_->table.size(); }

std::size_t AppLayer::memory_bound() const { return impl_->table.memory_bound(); }

}  // namespace huginn::analyzer
