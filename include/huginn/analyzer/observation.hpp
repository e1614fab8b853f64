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
};

// p0f's "mod=" keyword: "syn", "syn+ack", "sendsyn probe", "sendsyn response",
// "mtu", "uptime", "host change", "ip sharing", "http request", "http response".
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
};

}  // namespace huginn::analyzer
