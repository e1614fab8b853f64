#pragma once
// The stateful half of p0f's fingerprinting (process.c flow_dispatch and
// host/flow bookkeeping; fp_tcp.c fingerprint_tcp, check_ts_tcp, score_nat;
// fp_mtu.c; fp_http.c fingerprint_http and its score_nat): turns decoded
// segments into Observations.
//
// Thread ownership: one thread only (the capture thread, or the caller in
// replay mode); no locks. Time is the capture clock (packet timestamps),
// never wall time, so replays are deterministic.
//
// Memory is bounded: at most max_flows + 1 flows and max_hosts + 1 hosts
// (p0f's checks run before an insert), each with fixed-size state, plus at
// most 2 * limits::kMaxFlowData bytes of captured payload per flow and one
// HTTP header block being collected (at most 32 headers of bounded size).
// Steady state allocates only when a SYN creates a flow or host, or an HTTP
// header block is collected and fingerprinted; other segments allocate
// nothing (payload buffers are recycled through a pool).
//
// With AnalyzerConfig::app_layer (the default), an AppLayer beside the p0f
// tables adds TLS (JA4) and HTTP/2 client records, within its own bound
// (AppLayer::memory_bound(), about 37 MB at 1000 flows); only flows whose
// first client byte may start TLS or HTTP enter it (AppGate).
//
// HTTP (p0f fp_http.c) is read from the same in-order payload prefix p0f
// keeps, through HttpGate, so the p0f-format records are p0f's; see
// docs/p0f-deviations.md for what a reassembling reader would add.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "huginn/analyzer/app_layer.hpp"
#include "huginn/analyzer/http_gate.hpp"
#include "huginn/analyzer/index_table.hpp"
#include "huginn/analyzer/observation.hpp"
#include "huginn/db/http_matcher.hpp"
#include "huginn/db/p0f_db.hpp"
#include "huginn/db/tcp_matcher.hpp"
#include "huginn/fingerprint/tcp/tcp_signature.hpp"
#include "huginn/packet/decoded_packet.hpp"
#include "huginn/util/counters.hpp"
#include "huginn/util/limits.hpp"

namespace huginn::analyzer {

// p0f -m CONN,HOSTS and -t CONN_AGE,HOST_IDLE.
struct AnalyzerConfig {
  std::size_t max_flows = limits::kDefaultMaxFlows;
  std::size_t max_hosts = limits::kDefaultMaxHosts;
  std::uint32_t flow_max_age_s = limits::kDefaultFlowMaxAgeS;  // seconds since the SYN
  std::uint32_t host_idle_s = limits::kDefaultHostIdleS;       // seconds since last SYN
  // TLS (JA4) and HTTP/2 client fingerprints (AppLayer). Its flow table
  // takes max_flows and flow_max_age_s (as idle time) from above.
  bool app_layer = true;
  AppLayerConfig app{};
};

class ObservationSink {
 public:
  virtual ~ObservationSink() = default;
  // Called synchronously from on_packet(), in p0f's log order.
  virtual void on_observation(const Observation&) = 0;
};

class Analyzer {
 public:
  // `db` and `sink` must outlive the Analyzer.
  Analyzer(const db::P0fDb& db, AnalyzerConfig config, ObservationSink& sink);
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  // One decoded TCP segment, in capture order. Never throws for any packet
  // content; anomalies only move counters.
  void on_packet(const packet::DecodedPacket& pkt);

  // A captured TCP frame that did not decode (truncated, malformed). p0f's
  // expiry runs every 50 frames its "tcp" filter passes, decodable or not;
  // calling this for those keeps the cadence identical. Optional.
  void on_undecoded_tcp_frame(std::int64_t ts_us);

  // The client of this segment's 4-tuple sends nothing more before its FIN
  // or RST: AppLayer::no_more_client_bytes(). No record changes.
  void no_more_client_bytes(const packet::DecodedPacket& pkt);

  // End of input (last capture file read, or capture stopped): ends the
  // app-layer flows, emitting what they still hold (an HTTP/2 client that
  // sent SETTINGS but no header block). The p0f tables are kept, as p0f
  // keeps them. Calling on_packet() afterwards is allowed.
  void finish();

  // Progress and anomaly counters: "packets", "silly_flags",
  // "flows_created", "flows_evicted", "flows_expired", "hosts_evicted",
  // "hosts_expired", "observations", "http_requests", "http_responses",
  // and why a flow was found not to be HTTP (fingerprint::http::
  // parse_error_name(): "http_not_get_or_head", ...); with the app layer
  // on, also AppLayer::counters() ("tls_*", "h2_*", "app_*", "flow_*",
  // "stream_*").
  [[nodiscard]] const util::Counters& counters() const;
  // Null when AnalyzerConfig::app_layer is off.
  [[nodiscard]] const AppLayer* app_layer() const { return app_.get(); }
  [[nodiscard]] std::size_t flow_count() const { return flow_index_.size(); }
  [[nodiscard]] std::size_t host_count() const { return host_index_.size(); }

 private:
  static constexpr std::uint32_t kNil = 0xFFFFFFFFu;
  static constexpr std::size_t kNatScores = 32;  // p0f config.h NAT_SCORES

  // What p0f keeps of a host's last SYN or SYN+ACK (its struct tcp_sig).
  struct SigSnapshot {
    bool valid = false;
    const db::TcpSigRecord* matched = nullptr;
    bool fuzzy = false;
    std::uint8_t dist = 0;
    std::uint32_t quirks = 0;
    std::array<std::uint8_t, limits::kMaxTcpOptions> olayout{};
    std::uint8_t opt_cnt = 0;
    std::uint8_t ttl = 0;
    std::uint16_t mss = 0;
    std::uint32_t ts1 = 0;
    std::uint64_t recv_ms = 0;  // capture clock, p0f's millisecond form
  };

  // What p0f keeps of a host's last HTTP request/response (its struct
  // http_sig, minus the headers).
  struct HttpSnapshot {
    bool valid = false;
    const db::HttpSigRecord* matched = nullptr;
    std::optional<std::int64_t> date;  // parsed Date header, seconds (UTC)
    std::uint32_t recv_s = 0;          // capture-clock seconds it was seen
  };

  // The fields every lookup and LRU touch reads come first, so a touch
  // costs one cache line per host involved.
  struct Host {
    packet::IpAddress addr;
    std::uint32_t older = kNil;       // by-age list (least recently touched first)
    std::uint32_t newer = kNil;
    std::uint32_t last_seen = 0;      // capture-clock seconds
    std::uint32_t use_cnt = 0;        // live flows referencing this host
    std::uint32_t first_seen = 0;
    std::uint32_t total_conn = 0;
    SigSnapshot last_syn;
    SigSnapshot last_synack;
    std::int32_t last_class_id = -1;  // -1: no OS known yet
    std::int32_t last_name_id = -1;
    std::array<std::uint8_t, kNatScores> cli_scores{};
    std::array<std::uint8_t, kNatScores> srv_scores{};
    std::uint16_t nat_reasons = 0;
    std::uint32_t last_nat = 0;
    std::uint32_t last_chg = 0;
    std::uint16_t last_port = 0;      // client port of the last SYN
    std::uint8_t distance = 0xFF;     // p0f keeps -1 in a u8 until measured
    std::int32_t last_up_min = -1;
    std::uint32_t up_mod_days = 0;
    // Index into http_hosts_ once the host has taken part in HTTP; most
    // hosts never do, so their records stay small.
    std::uint32_t http = kNil;
  };

  // A host's HTTP history (p0f host_data http_req_os / http_resp / bad_sw).
  struct HttpHost {
    HttpSnapshot req_os;               // last request that matched an OS record
    HttpSnapshot resp;                 // last response
    std::uint16_t resp_port = 0;       // server port of resp
    std::int32_t name_id = -1;         // last matched HTTP application name
    // 0 honest so far, 1 User-Agent names another OS than the host's,
    // 2 software string contradicts the matched record.
    std::uint8_t bad_sw = 0;
  };

  // Whether a p0f-tracked flow's segments go to the app layer. Decided at
  // the client's first payload: a flow whose first byte cannot start TLS
  // or HTTP (AppLayer::may_start) never enters the app layer's table, so
  // TCP-only traffic costs it one check per flow, not a table per packet.
  enum class AppGate : std::uint8_t { kUndecided, kAdmitted, kIgnored };

  // Flow key: both endpoints in a canonical order, so either direction of
  // a connection finds the same entry with one hash lookup.
  struct FlowKey {
    packet::IpAddress lo_addr;
    packet::IpAddress hi_addr;
    std::uint16_t lo_port = 0;
    std::uint16_t hi_port = 0;
    friend bool operator==(const FlowKey&, const FlowKey&) = default;
  };
  // Keyed hashes (seeded per Analyzer, so crafted traffic cannot aim at
  // one probe run).
  [[nodiscard]] std::uint64_t hash_addr(const packet::IpAddress& a) const;
  [[nodiscard]] std::uint64_t hash_flow(const FlowKey& k) const;

  struct Flow {
    FlowKey key;
    std::uint32_t client = kNil;  // host indices
    std::uint32_t server = kNil;
    std::uint16_t cli_port = 0;
    std::uint16_t srv_port = 0;
    bool acked = false;           // SYN+ACK seen
    bool sendsyn = false;         // opened by p0f-sendsyn
    std::int16_t cli_tps = 0;     // timestamp rate found (Hz), -1 bad, 0 not yet
    std::int16_t srv_tps = 0;
    std::uint32_t next_cli_seq = 0;
    std::uint32_t next_srv_seq = 0;
    std::uint16_t syn_mss = 0;
    std::uint32_t created = 0;    // capture-clock seconds
    std::uint32_t req_len = 0;    // payload bytes captured, each at most kMaxFlowData
    std::uint32_t resp_len = 0;
    std::uint32_t req_buf = kNil; // payload buffer pool indices
    std::uint32_t resp_buf = kNil;
    HttpGate http;
    std::uint32_t cli_isn = 0;    // the client SYN's sequence number
    AppGate app = AppGate::kUndecided;
    std::uint32_t older = kNil;   // by-age list (oldest created first)
    std::uint32_t newer = kNil;
  };

  // Per-label data resolved once: display text and, for userland tools,
  // the OS classes/names they are expected on.
  struct LabelInfo {
    std::string display;
  };

  // Where a segment goes after dispatch(): nowhere, to AppLayer::on_packet,
  // or (no p0f flow) to AppLayer::on_unrouted_packet, which decides by its
  // own table in the same lookup that feeds it.
  enum class AppRoute : std::uint8_t { kNone, kFeed, kUnrouted };

  void tick(std::int64_t ts_us);
  // Where `pkt` (of p0f flow `fi`, kNil if none) goes after dispatch(); may
  // admit the flow, handing the app layer the flow's SYN first.
  AppRoute route_app(const packet::DecodedPacket& pkt, std::uint32_t fi, bool to_srv);
  void dispatch(const packet::DecodedPacket& pkt);
  SigSnapshot fingerprint_syn(bool to_srv, const packet::DecodedPacket& pkt,
                              const fingerprint::tcp::TcpSignature& sig, std::uint32_t fi);
  void fingerprint_mtu(bool to_srv, const fingerprint::tcp::TcpSignature& sig, std::uint32_t fi);
  void check_ts(bool to_srv, const packet::DecodedPacket& pkt,
                const fingerprint::tcp::TcpSignature& sig, std::uint32_t fi);
  void score_nat(bool to_srv, const SigSnapshot& sig, std::uint32_t fi);
  void verify_tool_class(bool to_srv, const db::Label& label, std::uint32_t fi);
  void fingerprint_http(bool to_srv, const fingerprint::http::Http1Message& msg, std::uint32_t fi);
  void score_nat_http(bool to_srv, const fingerprint::http::HttpSignature& sig,
                      const db::HttpMatch& m, std::uint32_t fi);
  [[nodiscard]] SigMatchInfo match_info(const db::Label& label) const;
  HttpHost& http_host(std::uint32_t hi);
  void add_nat_score(bool to_srv, std::uint32_t fi, std::uint16_t reason, std::uint8_t score);
  void append_payload(Flow& f, bool to_srv, std::span<const std::uint8_t> payload);
  std::span<const std::uint8_t> buffer_view(std::uint32_t buf, std::uint32_t len) const;

  Observation start_observation(ObservationKind kind, bool to_srv, const Flow& f) const;
  void emit(const Observation& obs);

  // Also returns the flow's key hash, for a create_flow() that follows.
  std::uint32_t lookup_flow(const packet::DecodedPacket& pkt, bool& to_srv,
                            std::uint64_t& hash) const;
  std::uint32_t create_flow(const packet::DecodedPacket& pkt, std::uint64_t hash);
  void destroy_flow(std::uint32_t fi);
  void nuke_flows();
  std::uint32_t lookup_or_create_host(const packet::IpAddress& addr);
  std::uint32_t create_host(const packet::IpAddress& addr, std::uint64_t hash);
  void touch_host(std::uint32_t hi);
  void destroy_host(std::uint32_t hi);
  void nuke_hosts();
  void expire();

  [[nodiscard]] std::uint32_t now_s() const;
  [[nodiscard]] std::uint64_t now_ms() const;

  const db::P0fDb& db_;
  db::TcpMatcher matcher_;
  db::HttpMatcher http_matcher_;
  fingerprint::http::HeaderKnown http_known_;
  AnalyzerConfig config_;
  ObservationSink& sink_;
  // Hot-path counts are plain integers, folded into counters_ on read.
  struct HotCounts {
    std::uint64_t packets = 0;
    std::uint64_t observations = 0;
    std::uint64_t flows_created = 0;
  };
  HotCounts hot_;
  mutable util::Counters counters_;
  mutable HotCounts folded_;
  mutable util::Counters combined_;  // counters_ + the app layer's, rebuilt by counters()
  std::unique_ptr<AppLayer> app_;
  AppRoute app_route_ = AppRoute::kNone;  // route_app()'s verdict for the segment in on_packet()
  std::unordered_map<const db::Label*, LabelInfo> labels_;

  std::vector<Flow> flows_;
  std::vector<std::uint32_t> free_flows_;
  std::array<std::uint64_t, 4> hash_seed_{};
  IndexTable flow_index_;
  std::uint32_t oldest_flow_ = kNil;
  std::uint32_t newest_flow_ = kNil;

  std::vector<Host> hosts_;
  std::vector<std::uint32_t> free_hosts_;
  IndexTable host_index_;
  std::uint32_t oldest_host_ = kNil;
  std::uint32_t newest_host_ = kNil;

  std::vector<HttpHost> http_hosts_;
  std::vector<std::uint32_t> free_http_hosts_;

  std::vector<std::vector<std::uint8_t>> buffers_;
  std::vector<std::uint32_t> free_buffers_;

  std::uint64_t packet_cnt_ = 0;
  std::int64_t now_us_ = 0;
  std::uint32_t last_expire_s_ = 0;
};

}  // namespace huginn::analyzer
