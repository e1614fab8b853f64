#pragma once
// The one seam between the transports (HTTP/1.1 via Beast, HTTP/2 via
// nghttp2, both over TCP or TLS) and what answers requests (api/, later
// realtime/). Every request of every protocol passes through one Handler,
// so authentication, CSRF checks and per-IP rate limits have one place to
// sit (docs/server.md).
//
// Threading: the Handler is called on an I/O thread and must not block.
// A ResponseWriter may be used from any thread, also after the handler
// returned (long-poll, event streams); every method is safe to call after
// the peer went away (it then does nothing and returns false).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "huginn/packet/ip_address.hpp"

namespace huginn::server {

enum class HttpVersion : std::uint8_t { kHttp11, kHttp2 };

struct SocketEndpoint {
  packet::IpAddress addr;
  std::uint16_t port = 0;
};

// The connection a request came on. `id` is unique per process run.
struct ConnectionInfo {
  std::uint64_t id = 0;
  SocketEndpoint peer;
  SocketEndpoint local;
  bool tls = false;
  std::string alpn;  // negotiated ALPN ("h2", "http/1.1"), empty without
  HttpVersion version = HttpVersion::kHttp11;
};

// Header names are lower-case (RFC 9113 §8.2.2 for HTTP/2; HTTP/1.1 names
// are folded on receipt); values are as received. Duplicates are kept in
// order.
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;
  std::string target;  // as sent: path and query ("/api/profiles?limit=5")
  std::string path;    // percent-decoding NOT applied; no query
  std::string query;   // after '?', without it; empty when none
  std::string authority;  // :authority or Host
  Headers headers;
  std::string body;  // at most ServerLimits::max_body_bytes
  ConnectionInfo conn;

  // First value of header `name` (lower-case), or nullopt.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return std::string_view(v);
    }
    return std::nullopt;
  }
};

struct Response {
  int status = 200;
  Headers headers;  // lower-case names; content-length is set by the transport
  std::string body;
};

class WebSocket;

class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;

  // A complete response. Call exactly one of send() or start_stream().
  virtual bool send(Response response) = 0;

  // A streamed response (Server-Sent Events, long-lived push streams):
  // status and headers now, then any number of write()s, then finish().
  // write() queues at most `limit` bytes not yet taken by the peer
  // (ServerLimits::max_stream_queue_bytes); beyond it it returns false and
  // the caller decides (the realtime layer drops slow subscribers).
  virtual bool start_stream(int status, Headers headers) = 0;
  virtual bool write(std::string chunk) = 0;
  virtual void finish() = 0;

  // Called once, on any thread, when the stream or connection ends for
  // whatever reason (peer closed, reset, server shutdown, finish()).
  virtual void on_close(std::function<void()> callback) = 0;

  // HTTP/2 server push (RFC 9113 §8.4): whether the peer allows pushes
  // (SETTINGS_ENABLE_PUSH) on this stream's connection, and a pushed
  // response for `path` (a GET on the same authority). Always false over
  // HTTP/1.1. Browsers refuse pushes today; see docs/realtime.md.
  [[nodiscard]] virtual bool push_enabled() const = 0;
  virtual bool push(std::string path, Response response) = 0;

  // WebSocket (RFC 6455). True when the request is a valid opening
  // handshake: over HTTP/1.1 a GET with "Upgrade: websocket", "Connection:
  // Upgrade", a Sec-WebSocket-Key of 16 base64 bytes and
  // "Sec-WebSocket-Version: 13" (RFC 6455 §4.2.1); over HTTP/2 an extended
  // CONNECT with ":protocol: websocket" and version 13 (RFC 8441 §4, §5).
  // A request with another Sec-WebSocket-Version is not one; RFC 6455
  // §4.4 wants a 426 with "sec-websocket-version: 13", which is the
  // Handler's to send.
  [[nodiscard]] virtual bool is_websocket_request() const { return false; }

  // Accepts the handshake instead of send()/start_stream(): the transport
  // answers 101 (HTTP/1.1, with Sec-WebSocket-Accept) or 200 (HTTP/2) with
  // `extra` headers added (e.g. sec-websocket-protocol), and the
  // connection or stream carries WebSocket frames from then on. Returns
  // null when the request is not a WebSocket request or was answered
  // already. This writer's on_close runs when the WebSocket closes.
  virtual std::shared_ptr<WebSocket> accept_websocket(Headers /*extra*/) { return nullptr; }
};

// One accepted WebSocket. Safe from any thread, also after the connection
// or the Server is gone (every call is then a no-op returning false).
// Callbacks run on the connection's I/O thread and must not block.
//
// The transport answers pings with pongs, sends a ping after
// ServerLimits::ws_ping_interval without input and drops the connection
// when nothing arrives within ServerLimits::idle_timeout after it. It
// closes with 1003 on a binary message (this server speaks text only), 1009
// on a message over ServerLimits::ws_max_message_bytes, 1007 on text that
// is not UTF-8 (RFC 6455 §8.1), 1002 on a framing error (unmasked client
// frame, reserved bits or opcodes, §5.1-§5.5), and 1001 when the server
// stops.
class WebSocket {
 public:
  // RFC 6455 §7.4.1 status codes used here.
  static constexpr std::uint16_t kNormal = 1000;
  static constexpr std::uint16_t kGoingAway = 1001;
  static constexpr std::uint16_t kProtocolError = 1002;
  static constexpr std::uint16_t kUnsupportedData = 1003;
  static constexpr std::uint16_t kInvalidPayload = 1007;
  static constexpr std::uint16_t kPolicyViolation = 1008;
  static constexpr std::uint16_t kMessageTooBig = 1009;
  static constexpr std::uint16_t kInternalError = 1011;

  virtual ~WebSocket() = default;

  // Queues one text message (must be UTF-8). False when closed, when the
  // text is not UTF-8, or when it would take the bytes queued but not yet
  // taken by the peer beyond ServerLimits::max_stream_queue_bytes: the
  // caller decides (the realtime layer drops the subscriber).
  virtual bool send_text(std::string text) = 0;

  // Starts the closing handshake (RFC 6455 §7.1.2) after what is queued;
  // `reason` is cut to the 123 bytes a close frame holds. No more
  // send_text() afterwards. on_close runs when the peer answered, or at
  // most 1 s later.
  virtual void close(std::uint16_t code, std::string reason) = 0;

  // Each complete text message from the peer (fragments joined). Set it
  // before the Handler returns: messages arriving while none is set are
  // dropped.
  virtual void on_message(std::function<void(std::string_view text)> callback) = 0;

  // Runs exactly once when the WebSocket is gone, for whatever reason
  // (closing handshake, peer left, error, server stop); registered after
  // that, it runs at once. Both callbacks are released then, so they may
  // hold this WebSocket without keeping it alive forever.
  virtual void on_close(std::function<void()> callback) = 0;

  // False once closed or closing.
  [[nodiscard]] virtual bool is_open() const = 0;
};

using Handler = std::function<void(Request, std::shared_ptr<ResponseWriter>)>;

}  // namespace huginn::server
