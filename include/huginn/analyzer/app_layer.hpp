#pragma once
// AppLayer: TLS ClientHello (JA4) and HTTP/2 client fingerprints from the
// client->server byte stream of each TCP connection, beside the p0f path.
//
// Per flow, the first client bytes decide the protocol:
//  - 0x16 (TLS handshake record, RFC 8446 §5.1): parse_client_hello() is
//    re-run as StreamPrefix::contiguous() grows; each kOk emits one
//    kTlsClient record, and a second ClientHello is looked for at the first
//    one's `consumed` offset (the retry after a HelloRetryRequest, RFC 8446
//    §4.1.4; a third is never looked for, as a client MUST abort on a second
//    HelloRetryRequest). Bytes there that are not a ClientHello (the
//    client's next flight) end the flow's TLS work without a counter.
//  - the HTTP/2 preface (RFC 9113 §3.4) or an HTTP/1.1 request (possibly
//    `Upgrade: h2c`, RFC 7540 §3.2): read_client_frames() is re-run as the
//    prefix grows; kOk emits one kHttp2Client record. A flow that ends
//    (FIN/RST, expiry, eviction, finish()) before its first header block
//    but after the client's SETTINGS emits the partial fingerprint (an
//    Upgrade client such as curl --http2 sends no HEADERS frame: its
//    request was the HTTP/1.1 one). The first HEADERS' fields also give
//    Http2Details::http_signature, a p0f HTTP request signature
//    (fingerprint::http::http1_view_of_http2_request() gives the mapping:
//    version "*", :authority as Host, HTTP/1 capitalisation). A plain
//    HTTP/1 request (h2_not_upgrade) is left to the p0f path and counted
//    only as "app_not_h2_http1".
//  - anything else: the flow is dropped from consideration at once (both
//    directions stop()ped, so no byte of it is copied again).
// Malformed streams move the parser's counter (fingerprint::tls::
// reason_name(), fingerprint::http2::reason_name(): "tls_record_too_large",
// "h2_frame_too_large", ...); "h2_bad_preface" only for a stream that began
// with "PRI " (any other non-HTTP bytes are simply another protocol).
//
// Through the Analyzer, a connection whose SYN p0f tracks is handed over
// only at its client's first payload, and only if that byte may start a
// stream parsed here (may_start()); the Analyzer then replays the SYN's
// ISN first, so segments that arrived out of order are still placed.
//
// Flows are tracked by a flow::FlowTable with pick-up of mid-stream flows
// (a capture that starts after the handshake began finds nothing to parse,
// but one that starts just before a ClientHello, without its SYN, still
// does). The client is the SYN's sender, else decided by
// flow::client_is_sender().
//
// Memory bound: memory_bound() = max_flows entries of
// FlowTable::max_bytes_per_flow() with client_prefix_bytes per direction,
// about 37 MB at the defaults (1000 flows, 16 KiB). In practice half of it:
// the server->client direction is stopped when the flow is created, so its
// buffer is allocated only when a mid-stream flow is created by a server
// segment. Flows found not to be TLS/HTTP/2 stop both directions at their
// first client byte and copy nothing more; with release_when_done a flow
// that has emitted all it will frees its buffers at once instead of at its
// end (memory_bound() stays the bound). Parse results are not kept
// between segments: each run re-parses the prefix (at most
// client_prefix_bytes per segment that grows it), and the re-run stops at
// the first header block or ClientHello, so the work per flow is bounded.
//
// Not thread-safe: one owner thread (the analyzer's).
#include <cstddef>
#include <cstdint>
#include <memory>

#include "huginn/analyzer/observation.hpp"
#include "huginn/fingerprint/http/http_signature.hpp"
#include "huginn/packet/decoded_packet.hpp"
#include "huginn/util/counters.hpp"
#include "huginn/util/limits.hpp"

namespace huginn::analyzer {

class ObservationSink;

// Counter names moved by AppLayer itself (besides the parsers' reason names
// and flow::counter names of its FlowTable).
namespace app_counter {
inline constexpr std::string_view kTlsClientHellos = "tls_client_hellos";
inline constexpr std::string_view kTlsHelloBeyondPrefix = "tls_hello_beyond_prefix";
inline constexpr std::string_view kTlsHelloIncomplete = "tls_hello_incomplete";
inline constexpr std::string_view kH2Clients = "h2_clients";
inline constexpr std::string_view kH2PartialAtClose = "h2_partial_at_close";
inline constexpr std::string_view kH2BeyondPrefix = "h2_beyond_prefix";
inline constexpr std::string_view kH2Incomplete = "h2_incomplete";
inline constexpr std::string_view kNotH2Http1 = "app_not_h2_http1";
inline constexpr std::string_view kOtherProtocol = "app_other_protocol";
}  // namespace app_counter

struct AppLayerConfig {
  // Flows tracked at once (p0f's -m CONN default); the least recently seen
  // open flow is evicted past it.
  std::size_t max_flows = limits::kDefaultMaxFlows;
  // Client->server bytes kept per flow. Real ClientHellos are 0.2-2 KiB and
  // post-quantum hybrids (X25519MLKEM768) about 1.8 KiB, but a hello with
  // large PSK identities or padding can exceed 8 KiB; 16 KiB covers every
  // browser and still bounds memory. A hello not complete within it is
  // counted (tls_hello_beyond_prefix), not fingerprinted.
  std::size_t client_prefix_bytes = 16 * 1024;
  // Capture-clock microseconds a flow may be idle (p0f's CONN_MAX_AGE).
  std::int64_t idle_timeout_us = std::int64_t{limits::kDefaultFlowMaxAgeS} * 1'000'000;
  // Track flows whose SYN was not captured.
  bool pick_up_midstream = true;
  // Free a flow's prefix buffers as soon as it has emitted all it will
  // (StreamPrefix::release()) instead of keeping them, for reuse, until
  // the flow ends. For long-lived flows that go quiet after their first
  // bytes (the server's own visitors, VisitorAnalyzer); the capture path
  // keeps the recycling, which spares it an allocation per flow.
  bool release_when_done = false;
  // Which header names p0f knows, for Http2Details::http_signature (values
  // of known headers stop at '|' too; format_http_raw_sig()). The analyzer
  // passes its p0f.fp's (db::HttpMatcher::known_header_predicate()); empty
  // means p0f's built-in names only (builtin_header_names()). Must stay
  // callable as long as the AppLayer.
  fingerprint::http::HeaderKnown http_header_known;
};

class AppLayer {
 public:
  // `sink` must outlive the AppLayer; records are passed to it synchronously
  // from on_packet() / finish().
  AppLayer(AppLayerConfig config, ObservationSink& sink);
  ~AppLayer();
  AppLayer(const AppLayer&) = delete;
  AppLayer& operator=(const AppLayer&) = delete;

  // One decoded TCP segment, in capture order. Never throws for any packet
  // content (std::bad_alloc aside).
  void on_packet(const packet::DecodedPacket& pkt);

  // A segment of a connection the analyzer does not route by its own flow
  // state (p0f let go of it, or never saw its SYN): fed as by on_packet()
  // if its 4-tuple has a flow here or its first payload byte may_start() a
  // parsed stream, else ignored without moving any counter. Equivalent to
  // `if (tracks(pkt) || may_start(first byte)) on_packet(pkt)`, with one
  // flow lookup instead of two.
  void on_unrouted_packet(const packet::DecodedPacket& pkt);

  // End of input: ends every flow (emitting partial HTTP/2 fingerprints).
  void finish();

  // Whether a client stream whose first byte is `first` can be one this
  // layer parses (a TLS handshake record, the HTTP/2 preface or an HTTP/1.x
  // request line). The analyzer uses it to keep flows that cannot out of
  // the flow table altogether; on_packet() applies the same rule.
  [[nodiscard]] static bool may_start(std::uint8_t first);
  // This segment's 4-tuple has a flow in the table (no LRU touch).
  [[nodiscard]] bool tracks(const packet::DecodedPacket& pkt) const;
  // The client sends nothing more on this segment's 4-tuple before its
  // FIN or RST (a replay that hands over one ClientHello, VisitorAnalyzer).
  // A TLS flow that is not waiting for the rest of a ClientHello has then
  // emitted every record it will: it is done now rather than at the FIN
  // (which would emit nothing for it), so release_when_done frees its
  // buffers. Other flows are left as they are: an HTTP/2 flow still short
  // of its first header block emits its partial fingerprint at the FIN,
  // from its bytes. No record and no counter changes, as long as the
  // promise holds: client bytes that still come are ignored (counted as
  // stream_bytes_ignored), a second ClientHello among them.
  void no_more_client_bytes(const packet::DecodedPacket& pkt);
  // The analyzer decided a flow by may_start() without handing it over:
  // counted as "app_other_protocol", like a flow on_packet() drops.
  void note_other_protocol() { ++other_protocol_; }

  // AppLayer's counters merged with its flow table's (flow::counter names).
  [[nodiscard]] util::Counters counters() const;
  [[nodiscard]] std::size_t flow_count() const;
  [[nodiscard]] std::size_t memory_bound() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint64_t other_protocol_ = 0;  // note_other_protocol() calls
};

}  // namespace huginn::analyzer
