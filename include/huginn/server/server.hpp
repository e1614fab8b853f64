#pragma once
// The HTTP server: Boost.Asio listeners (cleartext and TLS), HTTP/1.1 via
// Beast's parser, HTTP/2 via nghttp2, every request handed to one Handler.
// Asio, Beast, OpenSSL and nghttp2 stay behind the pimpl so that including
// this header costs little.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "huginn/server/http_types.hpp"
#include "huginn/server/server_config.hpp"
#include "huginn/server/visitor.hpp"

namespace huginn::server {

class Server {
 public:
  // `observer` may be null; when set it must outlive the Server.
  Server(ServerConfig config, Handler handler, VisitorObserver* observer = nullptr);
  ~Server();  // stop(2 s) when still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Resolves the TLS identity (when TLS listeners are configured), binds
  // every listener and starts the I/O threads. Throws std::runtime_error
  // with a sentence naming the cause, e.g.
  // "cannot listen on 127.0.0.1:8080: Address already in use".
  // With TLS listeners it sets SIGPIPE to SIG_IGN for the whole process
  // (OpenSSL writes to the socket itself; see server.cpp).
  void start();

  // Graceful: stop accepting, end event streams, let in-flight responses
  // finish, send GOAWAY, close; whatever is left at `deadline` is closed
  // hard. Joins the I/O threads. Idempotent.
  void stop(std::chrono::milliseconds deadline = std::chrono::seconds(2));

  // Bound addresses after start() (the real port when 0 was asked for).
  [[nodiscard]] std::vector<SocketEndpoint> cleartext_endpoints() const;
  [[nodiscard]] std::vector<SocketEndpoint> tls_endpoints() const;
  // SHA-256 fingerprint of the served certificate; empty without TLS.
  [[nodiscard]] std::string certificate_fingerprint() const;
  // Connections currently open.
  [[nodiscard]] std::size_t connection_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace huginn::server
