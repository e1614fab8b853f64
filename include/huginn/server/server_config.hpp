#pragma once
// Configuration of the HTTP server: where it listens, its TLS identity and
// the limits that keep one misbehaving client from costing anyone else.
// Defaults are the ones documented in docs/server.md (limits table).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "huginn/server/http_types.hpp"

namespace huginn::server {

struct ServerLimits {
  std::size_t max_header_bytes = 16 * 1024;   // HTTP/1 head / HTTP/2 header list -> 431
  std::size_t max_body_bytes = 64 * 1024;     // request body -> 413
  std::uint32_t max_concurrent_streams = 100; // SETTINGS_MAX_CONCURRENT_STREAMS
  std::chrono::milliseconds request_timeout{10'000};   // first byte to complete request
  std::chrono::milliseconds idle_timeout{60'000};      // no request and no open stream
  std::chrono::milliseconds handshake_timeout{10'000}; // TCP accept to TLS finished
  std::size_t max_stream_queue_bytes = 1024 * 1024;    // per streamed response, see write()
  std::size_t max_connections = 10'000;                // beyond: accepted and closed at once
  std::size_t visitor_prefix_bytes = 16 * 1024;        // VisitorObserver::on_client_prefix
  std::size_t ws_max_message_bytes = 64 * 1024;        // WebSocket message from a client -> close 1009
  std::chrono::milliseconds ws_ping_interval{30'000};  // WebSocket without input -> ping
};

struct ServerConfig {
  std::vector<SocketEndpoint> listen;      // cleartext: HTTP/1.1, h2c prior knowledge, h2c upgrade
  std::vector<SocketEndpoint> tls_listen;  // TLS: ALPN h2, http/1.1
  unsigned io_threads = 2;
  // Both or neither; when neither, a self-signed certificate is generated
  // into (and later reused from) state_dir.
  std::optional<std::filesystem::path> cert_file;
  std::optional<std::filesystem::path> key_file;
  std::filesystem::path state_dir;
  ServerLimits limits;

  // 127.0.0.1:8080 cleartext and 127.0.0.1:8443 TLS (issue 4).
  static ServerConfig defaults();
};

// "HOST:PORT" with HOST an IPv4 literal or "localhost", or "[V6]:PORT".
// Port 0 asks the kernel for one (tests). On failure returns nullopt and
// sets `error` to a sentence naming the offending text.
std::optional<SocketEndpoint> parse_listen_address(std::string_view text, std::string* error);

// "127.0.0.1:8080" / "[::1]:8443" (RFC 5952 text for IPv6).
std::string to_string(const SocketEndpoint& endpoint);

// The default state directory: /var/lib/huginn-profiler for root, else
// $XDG_STATE_HOME/huginn-profiler, else ~/.local/state/huginn-profiler.
std::filesystem::path default_state_dir();

}  // namespace huginn::server
