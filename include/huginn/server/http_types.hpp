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
};

using Handler = std::function<void(Request, std::shared_ptr<ResponseWriter>)>;

}  // namespace huginn::server
