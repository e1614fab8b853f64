#include "huginn/analyzer/visitor_analyzer.hpp"

#include <algorithm>
#include <list>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "huginn/packet/decode.hpp"
#include "huginn/packet/link_type.hpp"

namespace huginn::analyzer {
namespace {

using packet::DecodedPacket;
namespace tcp_flags = packet::tcp_flags;

// A replayed data segment carries at most this much payload, as a typical
// Ethernet MSS would; the receivers do not depend on it, but p0f's payload
// collection and the flow reassembler see segments like real ones.
constexpr std::size_t kReplayMss = 1448;
// TLSPlaintext.fragment is at most 2^14 bytes (RFC 8446 §5.1).
constexpr std::size_t kMaxTlsFragment = 16384;
// Record-layer version of a first ClientHello: 0x0301 for compatibility
// (RFC 8446 §5.1 "legacy_record_version"); JA4 does not read it.
constexpr std::uint16_t kRecordVersion = 0x0301;
constexpr std::uint8_t kHandshakeContentType = 22;

struct ConnKey {
  packet::IpAddress client_addr;
  packet::IpAddress server_addr;
  std::uint16_t client_port = 0;
  std::uint16_t server_port = 0;
  friend auto operator<=>(const ConnKey&, const ConnKey&) = default;
};

ConnKey key_of(const Endpoint& client, const Endpoint& server) {
  return ConnKey{client.addr, server.addr, client.port, server.port};
}

// Which kinds of record an Analyzer's output passes on.
enum class Pass : std::uint8_t { kAll, kAppOnly };

bool is_app_kind(ObservationKind k) {
  return k == ObservationKind::kHttpRequest || k == ObservationKind::kHttpResponse ||
         k == ObservationKind::kTlsClient || k == ObservationKind::kHttp2Client;
}

// Records about the server side are never passed on: the server is this
// process, and its half of a replay is the synthetic SYN+ACK below. Nor
// are p0f's host change / IP sharing verdicts: its NAT scoring here would
// weigh real SYNs against synthetic SYN+ACKs and sees only the connections
// made to us; the capture path, when it runs, reports them.
class FilterSink final : public ObservationSink {
 public:
  explicit FilterSink(ObservationSink& out) : out_(out) {}
  void on_observation(const Observation& obs) override {
    if (obs.subject == Subject::kServer) return;
    if (obs.kind == ObservationKind::kHostChange || obs.kind == ObservationKind::kIpSharing) return;
    if (pass == Pass::kAppOnly && !is_app_kind(obs.kind)) return;
    out_.on_observation(obs);
  }
  Pass pass = Pass::kAll;

 private:
  ObservationSink& out_;
};

// p0f reads a flow's payload only after its SYN+ACK (process.c
// flow_dispatch: data before the handshake completes ends the flow), so a
// replay answers the SYN with one. Its own records are dropped (FilterSink).
DecodedPacket syn_ack_for(const DecodedPacket& syn) {
  // MSS 1460 (RFC 9293 §3.7.1) so the reply is an ordinary one.
  static constexpr std::uint8_t kMssOption[] = {2, 4, 0x05, 0xb4};
  DecodedPacket r = syn;
  std::swap(r.src, r.dst);
  std::swap(r.sport, r.dport);
  r.flags = tcp_flags::kSyn | tcp_flags::kAck;
  r.seq = 0x10000000;
  r.ack = syn.seq + 1;
  r.win = 65535;
  r.tcp_options = kMssOption;
  r.tcp_hdr_len = 24;
  r.payload = {};
  return r;
}

}  // namespace

struct VisitorAnalyzer::Impl {
  struct Conn {
    std::vector<std::uint8_t> syn_bytes;  // empty: placeholder SYN
    bool outer_fed = false;   // client bytes already replayed on outer
    bool inner_fed = false;   // decrypted bytes already replayed on inner
    bool tls = false;
    std::uint32_t outer_next = 0;  // next client sequence number replayed
    std::uint32_t inner_next = 0;
    std::list<ConnKey>::iterator age;
  };

  Impl(const db::P0fDb& db, VisitorConfig cfg, ObservationSink& out)
      : config(cfg),
        outer_sink(out),
        inner_sink(out),
        blind_sink(out),
        outer(db, replay_config(cfg.analyzer), outer_sink),
        inner(db, replay_config(cfg.analyzer), inner_sink),
        blind(db, replay_config(cfg.analyzer), blind_sink) {
    inner_sink.pass = Pass::kAppOnly;
    blind_sink.pass = Pass::kAppOnly;
  }

  // A visitor's flow gets its client bytes once and then may stay open,
  // idle, for minutes: its app-layer buffers go as soon as it is decided.
  static AnalyzerConfig replay_config(AnalyzerConfig a) {
    a.app.release_when_done = true;
    return a;
  }

  VisitorConfig config;
  FilterSink outer_sink;
  FilterSink inner_sink;
  FilterSink blind_sink;
  Analyzer outer;
  Analyzer inner;
  // Wire bytes of connections without a saved SYN, behind placeholder SYNs;
  // kept apart so placeholders never touch outer's per-host p0f state
  // (a placeholder signature would read as a host change).
  Analyzer blind;

  Analyzer& wire(const Conn& c) { return c.syn_bytes.empty() ? blind : outer; }
  std::map<ConnKey, Conn> conns;
  std::list<ConnKey> by_age;  // oldest first
  util::Counters own;
  mutable std::mutex mu;

  Conn& conn_for(const ConnKey& key) {
    auto it = conns.find(key);
    if (it != conns.end()) return it->second;
    while (conns.size() >= config.max_connections && !by_age.empty()) {
      conns.erase(by_age.front());
      by_age.pop_front();
      own.add("visitor_evicted");
    }
    it = conns.emplace(key, Conn{}).first;
    it->second.age = by_age.insert(by_age.end(), key);
    own.add("visitor_connections");
    return it->second;
  }

  void forget(const ConnKey& key) {
    auto it = conns.find(key);
    if (it == conns.end()) return;
    by_age.erase(it->second.age);
    conns.erase(it);
  }

  // The SYN the replay starts from: the saved one, or a placeholder with
  // the 4-tuple, ISN 0, TTL 64 and no options (its records are dropped).
  static bool syn_packet(const Conn& c, const ConnKey& key, std::int64_t ts_us,
                         DecodedPacket& out) {
    if (!c.syn_bytes.empty()) {
      return packet::decode_packet(packet::dlt::kRaw, c.syn_bytes, ts_us, out).status ==
             packet::DecodeStatus::kOk;
    }
    out = DecodedPacket{};
    out.ts_us = ts_us;
    out.src = key.client_addr;
    out.dst = key.server_addr;
    out.sport = key.client_port;
    out.dport = key.server_port;
    out.ttl = 64;
    out.ip_hdr_len = key.client_addr.version == packet::IpVersion::v6 ? 40 : 20;
    out.ip_df = true;
    out.tcp_hdr_len = 20;
    out.flags = tcp_flags::kSyn;
    out.win = 65535;
    return true;
  }

  // Replays `bytes` as the client's stream from `seq` (ISN+1 for the first
  // bytes) on `a`, after the SYN when `with_syn`; `fin` ends the flow.
  // Returns the sequence number after the last byte.
  static std::uint32_t replay(Analyzer& a, const DecodedPacket& syn, bool with_syn,
                              std::uint32_t seq, std::span<const std::uint8_t> bytes, bool fin) {
    if (with_syn) {
      a.on_packet(syn);
      a.on_packet(syn_ack_for(syn));
    }
    DecodedPacket seg = syn;
    seg.flags = tcp_flags::kAck | tcp_flags::kPsh;
    seg.tcp_hdr_len = 20;
    seg.tcp_options = {};
    seg.ack = 1;
    for (std::size_t off = 0; off < bytes.size(); off += kReplayMss) {
      seg.payload = bytes.subspan(off, std::min(kReplayMss, bytes.size() - off));
      seg.seq = seq;
      seq += static_cast<std::uint32_t>(seg.payload.size());
      a.on_packet(seg);
    }
    if (fin) {
      seg.flags = tcp_flags::kAck | tcp_flags::kFin;
      seg.payload = {};
      seg.seq = seq;
      a.on_packet(seg);
    }
    return seq;
  }
};

VisitorAnalyzer::VisitorAnalyzer(const db::P0fDb& db, VisitorConfig config, ObservationSink& sink)
    : impl_(std::make_unique<Impl>(db, config, sink)) {}

VisitorAnalyzer::~VisitorAnalyzer() = default;

void VisitorAnalyzer::on_saved_syn(const Endpoint& client, const Endpoint& server,
                                   std::int64_t ts_us, std::span<const std::uint8_t> ip_packet) {
  std::lock_guard lock(impl_->mu);
  const ConnKey key = key_of(client, server);
  auto& c = impl_->conn_for(key);
  DecodedPacket syn;
  const bool ok = packet::decode_packet(packet::dlt::kRaw, ip_packet, ts_us, syn).status ==
                  packet::DecodeStatus::kOk;
  // TCP_SAVED_SYN returns this socket's SYN; anything else means the bytes
  // are not what we think, and a wrong SYN would be a wrong fingerprint.
  // Only the SYN bit is required alone: ECE/CWR ride along in an ECN-setup
  // SYN (RFC 3168 §6.1.1).
  const bool is_syn = (syn.flags & ~(tcp_flags::kEce | tcp_flags::kCwr)) == tcp_flags::kSyn;
  if (!ok || !is_syn || syn.src != client.addr || syn.dst != server.addr ||
      syn.sport != client.port || syn.dport != server.port) {
    impl_->own.add("visitor_bad_syn");
    return;
  }
  c.syn_bytes.assign(ip_packet.begin(), ip_packet.end());
  c.outer_next = syn.seq + 1;
  impl_->own.add("visitor_saved_syns");
  impl_->outer.on_packet(syn);
  impl_->outer.on_packet(syn_ack_for(syn));
}

void VisitorAnalyzer::on_client_hello(const Endpoint& client, const Endpoint& server,
                                      std::int64_t ts_us,
                                      std::span<const std::uint8_t> handshake) {
  std::lock_guard lock(impl_->mu);
  const ConnKey key = key_of(client, server);
  auto& c = impl_->conn_for(key);
  c.tls = true;
  if (c.outer_fed) return;  // one ClientHello per connection is replayed
  c.outer_fed = true;
  impl_->own.add("visitor_client_hellos");
  // Re-frame the handshake message as TLSPlaintext records of at most 2^14
  // bytes each; a ClientHello may span records (RFC 8446 §5.1).
  std::vector<std::uint8_t> wire;
  wire.reserve(handshake.size() + 5 * (handshake.size() / kMaxTlsFragment + 1));
  for (std::size_t off = 0; off < handshake.size(); off += kMaxTlsFragment) {
    const std::size_t n = std::min(kMaxTlsFragment, handshake.size() - off);
    wire.push_back(kHandshakeContentType);
    wire.push_back(static_cast<std::uint8_t>(kRecordVersion >> 8));
    wire.push_back(static_cast<std::uint8_t>(kRecordVersion & 0xFF));
    wire.push_back(static_cast<std::uint8_t>(n >> 8));
    wire.push_back(static_cast<std::uint8_t>(n & 0xFF));
    wire.insert(wire.end(), handshake.begin() + static_cast<std::ptrdiff_t>(off),
                handshake.begin() + static_cast<std::ptrdiff_t>(off + n));
  }
  DecodedPacket syn;
  if (!Impl::syn_packet(c, key, ts_us, syn)) return;
  syn.ts_us = ts_us;
  c.outer_next = Impl::replay(impl_->wire(c), syn, c.syn_bytes.empty(), syn.seq + 1, wire, false);
  // The outer stream gets no other client bytes (outer_fed), so a TLS flow
  // need not keep its buffers to wait for a second ClientHello.
  impl_->wire(c).no_more_client_bytes(syn);
}

void VisitorAnalyzer::on_client_prefix(const Endpoint& client, const Endpoint& server,
                                       std::int64_t ts_us, bool tls,
                                       std::span<const std::uint8_t> bytes) {
  std::lock_guard lock(impl_->mu);
  const ConnKey key = key_of(client, server);
  auto& c = impl_->conn_for(key);
  DecodedPacket syn;
  if (!Impl::syn_packet(c, key, ts_us, syn)) return;
  syn.ts_us = ts_us;
  impl_->own.add(tls ? "visitor_tls_prefixes" : "visitor_cleartext_prefixes");
  if (tls) {
    if (c.inner_fed) return;
    c.inner_fed = true;
    // Inner always replays its own SYN; its TCP records repeat outer's.
    c.inner_next = Impl::replay(impl_->inner, syn, true, syn.seq + 1, bytes, false);
    return;
  }
  if (c.outer_fed) return;
  c.outer_fed = true;
  c.outer_next = Impl::replay(impl_->wire(c), syn, c.syn_bytes.empty(), syn.seq + 1, bytes, false);
}

void VisitorAnalyzer::on_closed(const Endpoint& client, const Endpoint& server,
                                std::int64_t ts_us) {
  std::lock_guard lock(impl_->mu);
  const ConnKey key = key_of(client, server);
  auto it = impl_->conns.find(key);
  if (it == impl_->conns.end()) return;
  const auto& c = it->second;
  DecodedPacket syn;
  if (Impl::syn_packet(c, key, ts_us, syn)) {
    syn.ts_us = ts_us;
    // A FIN after the replayed bytes lets the AppLayer emit what it holds
    // (an HTTP/2 client that never sent HEADERS) and free the flow.
    if (c.outer_fed || !c.syn_bytes.empty()) {
      Impl::replay(impl_->wire(c), syn, false, c.outer_next, {}, true);
    }
    if (c.inner_fed) {
      Impl::replay(impl_->inner, syn, false, c.inner_next, {}, true);
    }
  }
  impl_->forget(key);
}

util::Counters VisitorAnalyzer::counters() const {
  std::lock_guard lock(impl_->mu);
  util::Counters out = impl_->own;
  out.merge(impl_->outer.counters());
  for (const auto& [name, value] : impl_->inner.counters().all()) out.add("inner_" + name, value);
  for (const auto& [name, value] : impl_->blind.counters().all()) out.add("blind_" + name, value);
  return out;
}

}  // namespace huginn::analyzer
