#pragma once
// VisitorAnalyzer: fingerprints of the server's own visitors, from what the
// server hands over for each accepted connection (server::VisitorObserver):
// the SYN the kernel saved (Linux TCP_SAVED_SYN), the TLS ClientHello, and
// the first bytes the client sent (cleartext, or decrypted inside TLS).
//
// Nothing here re-implements a fingerprint. Each connection is replayed as
// the segments a capture would have seen on its 4-tuple, through the same
// Analyzer (p0f TCP/HTTP path and AppLayer) the capture path uses:
//  - outer: the saved SYN, then the client's wire bytes at ISN+1 (the
//    cleartext prefix, or the ClientHello re-framed as TLS handshake
//    records, RFC 8446 §5.1), then a FIN when the connection closes. This
//    gives syn, mtu, uptime, host change, HTTP request, tls_client and
//    http2_client records exactly as the capture path would.
//  - inner: for TLS connections, the decrypted prefix replayed on a second
//    Analyzer behind the same SYN, so HTTP/1 and HTTP/2 inside TLS are
//    fingerprinted too (which no capture can see). Only its HTTP and
//    HTTP/2 records are passed on; its TCP records would repeat outer's.
// Records carry the connection's exact 4-tuple: nothing is joined by
// guessing. Host change / IP sharing records are not passed on (see
// FilterSink): the capture path reports them from the whole traffic. Without a saved SYN (kernel without TCP_SAVE_SYN, or the
// server's backlog overflowed) a placeholder SYN built from the 4-tuple
// carries the replay, and its TCP records are not passed on.
//
// Bounds: at most max_connections connection states (each the SYN's bytes
// and two flags); past it the oldest state is forgotten and counted
// ("visitor_evicted"). The Analyzers are bounded by their own configs; a
// connection's app-layer prefix buffers are freed as soon as its records
// are decided (AppLayerConfig::release_when_done, no_more_client_bytes()
// after the one ClientHello): an idle visitor whose records are out keeps
// none.
//
// Thread-safe: calls come from the server's I/O threads and are serialised
// by one mutex; the sink is called under it, so it must not call back in.
#include <cstdint>
#include <memory>
#include <span>

#include "huginn/analyzer/analyzer.hpp"
#include "huginn/analyzer/observation.hpp"
#include "huginn/db/p0f_db.hpp"
#include "huginn/util/counters.hpp"

namespace huginn::analyzer {

struct VisitorConfig {
  AnalyzerConfig analyzer{};
  std::size_t max_connections = 10'000;
};

class VisitorAnalyzer {
 public:
  // `db` and `sink` must outlive the VisitorAnalyzer.
  VisitorAnalyzer(const db::P0fDb& db, VisitorConfig config, ObservationSink& sink);
  ~VisitorAnalyzer();
  VisitorAnalyzer(const VisitorAnalyzer&) = delete;
  VisitorAnalyzer& operator=(const VisitorAnalyzer&) = delete;

  // `ip_packet`: IPv4 or IPv6 header + TCP header with options, as
  // TCP_SAVED_SYN returns it. A packet that is not the SYN of this 4-tuple
  // is counted ("visitor_bad_syn") and replaced by the placeholder.
  void on_saved_syn(const Endpoint& client, const Endpoint& server, std::int64_t ts_us,
                    std::span<const std::uint8_t> ip_packet);
  // The ClientHello handshake message: type 0x01, 24-bit length, body.
  void on_client_hello(const Endpoint& client, const Endpoint& server, std::int64_t ts_us,
                       std::span<const std::uint8_t> handshake);
  // The first client bytes of the application stream.
  void on_client_prefix(const Endpoint& client, const Endpoint& server, std::int64_t ts_us,
                        bool tls, std::span<const std::uint8_t> bytes);
  void on_closed(const Endpoint& client, const Endpoint& server, std::int64_t ts_us);

  // Own counters ("visitor_*") merged with both Analyzers' (prefixed
  // "inner_" for the decrypted one).
  [[nodiscard]] util::Counters counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace huginn::analyzer
