#pragma once
// One thing the analyzer learned, as p0f would log it (p0f README section 4,
// "mod=" records; p0f.c start_observation/add_observation_field).
//
// Plain data: no pointers into packet buffers or the database, so an
// Observation may be copied to another thread or kept after the packet and
// the analyzer are gone.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "huginn/packet/ip_address.hpp"

namespace huginn::analyzer {

enum class ObservationKind : std::uint8_t {
  kSyn,              // client SYN fingerprint
  kSynAck,           // server SYN+ACK fingerprint
  kSendsynProbe,     // SYN from p0f-sendsyn (special MSS and window)
  kSendsynResponse,  // SYN+ACK answering such a probe
  kMtu,              // link MTU derived from a SYN/SYN+ACK MSS
  kUptime,           // uptime from TCP timestamps
  kHostChange,       // signature change on an address (score_nat)
  kIpSharing,        // repeated changes: NAT or shared address (score_nat)
  kHttpRequest,      // HTTP/1.x request headers (p0f fp_http.c)
  kHttpResponse,     // HTTP/1.x response headers, after a request on the flow
  // Not p0f's: app-layer fingerprints (AppLayer), never written in the p0f
  // log format (docs/formats.md).
  kTlsClient,        // TLS ClientHello: JA4 (FoxIO) and the lists behind it
  kHttp2Client,      // HTTP/2 client: Akamai fingerprint and first request
};

// p0f's "mod=" keyword: "syn", "syn+ack", "sendsyn probe", "sendsyn response",
// "mtu", "uptime", "host change", "ip sharing", "http request", "http response";
// for our own kinds (no p0f equivalent) "tls" and "http2".
[[nodiscard]] std::string_view p0f_module_name(ObservationKind kind);
// Our JSONL "kind": the same with '_' for spaces ("host_change", ...).
[[nodiscard]] std::string_view jsonl_kind_name(ObservationKind kind);

enum class Subject : std::uint8_t { kClient, kServer };  // p0f "subj=cli|srv"

struct Endpoint {
  packet::IpAddress addr;
  std::uint16_t port = 0;
};

// Why a host change / IP sharing record fired (p0f process.h NAT_* bits,
// shown by p0f as the "reason" words in this order).
enum NatReason : std::uint16_t {
  kNatAppSig = 0x0001,   // "app_vs_os"  userland tool not meant for this OS
  kNatOsSig = 0x0002,    // "os_diff"    OS label changed
  kNatUnkDiff = 0x0004,  // "sig_diff"   unknown signature differs
  kNatToUnk = 0x0008,    // "x_known"    known <-> unknown
  kNatTs = 0x0010,       // "tstamp"     timestamp progression impossible
  kNatTtl = 0x0040,      // "ttl"        TTL changed
  kNatPort = 0x0020,     // "port"       source port went back
  kNatMss = 0x0100,      // "mtu"        MSS changed
  kNatFuzzy = 0x0080,    // "fuzzy"      match fuzziness changed
  // HTTP-level reasons (set by HTTP fingerprinting, not by TCP):
  kNatAppVia = 0x0400,   // "via"
  kNatAppDate = 0x0800,  // "date"
  kNatAppLb = 0x0200,    // "srv_sig_lb"
  kNatAppUa = 0x1000,    // "ua_vs_os"
};
// Space-separated reason words in p0f's order; empty when none.
[[nodiscard]] std::string format_nat_reasons(std::uint16_t reasons);

// The p0f.fp entry a SYN/SYN+ACK or an HTTP header block matched.
struct SigMatchInfo {
  std::string label;       // "name flavor" (label display), e.g. "Linux 3.11 and newer"
  bool is_app = false;     // logged as "app=" (userland tool, or any sendsyn record)
  bool generic = false;    // 'g' label
  bool fuzzy = false;      // approximate match
  bool random_ttl = false; // signature TTL marked as randomised ("NN-")
  std::uint32_t line = 0;  // line number in p0f.fp
  std::string sig_text;    // the matched "sig =" text as written
};

// What an HTTP record keeps of the wire, beyond p0f's fields. Wire strings
// are untrusted: each is at most fingerprint::http::kMaxHeaderValue bytes
// (start-line parts at most fingerprint::http::kMaxStartLine) and may hold
// any byte; writers must escape them.
struct HttpDetails {
  std::string method;                     // requests
  std::string path;                       // requests
  std::string user_agent;                 // requests: last non-empty User-Agent
  std::string server;                     // responses: last non-empty Server
  std::string accept_language;            // requests
  std::vector<std::string> header_names;  // wire order, at most 32
};

// A TLS ClientHello (kTlsClient). Lists are in wire order and keep GREASE
// values (RFC 8701); the JA4 strings skip them. Wire strings are untrusted:
// `sni` is at most fingerprint::tls::kMaxHostNameLength bytes, each ALPN
// name at most 255 bytes (RFC 7301 §3.1: one length byte), and both may
// hold any byte.
struct TlsDetails {
  std::string ja4;     // FoxIO JA4, ALPN characters by AlpnRule::kSpecHex
  std::string ja4_r;
  std::string ja4_o;
  std::string ja4_ro;
  std::string ja4_stable;  // ours, not JA4: padding/PSK/early_data left out (docs/ja4.md)
  std::uint8_t hello_index = 1;  // 1, or 2 for the ClientHello after a HelloRetryRequest
  std::uint16_t record_version = 0;
  std::uint16_t legacy_version = 0;
  std::string sni;  // empty without server_name
  bool sni_truncated = false;
  std::vector<std::string> alpn;
  std::vector<std::uint16_t> supported_versions;
  std::vector<std::uint16_t> cipher_suites;
  std::vector<std::uint16_t> extensions;
  std::vector<std::uint16_t> supported_groups;
  std::vector<std::uint16_t> signature_algorithms;
  bool resumption = false;  // pre_shared_key, early_data or a non-empty session ticket
};

// RFC 9113 §6.3 priority fields; weight 1..256 (wire byte + 1).
struct Http2Priority {
  std::uint32_t stream_id = 0;
  bool exclusive = false;
  std::uint32_t dependency = 0;
  std::uint16_t weight = 16;
};

// An HTTP/2 client's opening (kHttp2Client), from
// fingerprint::http2::ClientFingerprint. Header values are untrusted, at
// most fingerprint::http2::HeaderLimits::max_value_length bytes, any byte.
struct Http2Details {
  std::string akamai;  // format_akamai(): "S|WU|P|PS"
  bool complete = true;  // false: the flow ended before the first header block
  bool upgrade = false;  // HTTP/1.1 Upgrade: h2c (settings from HTTP2-Settings)
  std::vector<std::pair<std::uint16_t, std::uint32_t>> settings;  // wire order, GREASE ids included
  std::optional<std::uint32_t> window_update;  // first connection-level increment
  std::vector<Http2Priority> priority;         // PRIORITY frames before the first HEADERS (capped)
  std::size_t priority_frames_total = 0;       // sent, including those not kept
  std::string pseudo_header_order;             // "m,a,s,p"
  std::optional<Http2Priority> headers_priority;  // PRIORITY flag on the first HEADERS
  std::optional<std::string> method;           // :method
  std::optional<std::string> path;             // :path
  std::optional<std::string> authority;        // :authority
  std::optional<std::string> user_agent;       // user-agent
  std::vector<std::string> header_names;       // first header block, wire order
  // The first request's headers as a p0f HTTP request signature
  // ("ver:horder:habsent:expsw", p0f README "HTTP signatures"), so HTTP/2
  // clients are comparable with HTTP/1 ones; empty when no HEADERS came.
  std::string http_signature;
};

struct Observation {
  ObservationKind kind = ObservationKind::kSyn;
  std::int64_t ts_us = 0;  // capture time, microseconds since the Unix epoch
  Endpoint client;
  Endpoint server;
  Subject subject = Subject::kClient;

  // kSyn, kSynAck, kSendsynProbe, kSendsynResponse:
  std::string signature;                // p0f raw_sig
  std::optional<SigMatchInfo> match;    // nullopt: unknown ("os=???")
  std::uint8_t dist = 0;                // hops
  bool dist_is_upper_bound = false;     // "dist=<= N" for random-TTL signatures
  std::string params;                   // p0f params ("none" when empty)

  // kMtu:
  std::uint32_t mtu = 0;
  std::optional<std::string> link;      // [mtu] label, nullopt when unknown

  // kUptime:
  std::uint32_t uptime_min = 0;         // minutes since the TCP clock started
  std::uint32_t modulo_days = 0;        // the clock wraps every this many days
  std::uint32_t freq_hz = 0;            // rounded tick rate
  double raw_freq_hz = 0;               // measured tick rate

  // kHostChange, kIpSharing:
  std::uint16_t reasons = 0;            // NatReason bits
  std::array<std::uint8_t, 4> raw_hits{};  // scores >5, >2, >1, >0 in the window

  // kHttpRequest, kHttpResponse (also `signature`, `match`, `params`):
  // p0f "lang=": the language name, "none" without a usable
  // Accept-Language; nullopt for an unknown two-letter code (p0f "???").
  std::optional<std::string> lang;
  bool dishonest = false;               // software string contradicts the matched record
  HttpDetails http;

  // Set iff kind is kTlsClient / kHttp2Client. Optional so that the far more
  // frequent p0f records do not construct and destroy their members.
  std::optional<TlsDetails> tls;
  std::optional<Http2Details> http2;
};

}  // namespace huginn::analyzer
