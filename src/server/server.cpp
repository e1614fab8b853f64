// Server: listeners, the TLS context, the I/O threads and graceful stop.
#include "huginn/server/server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>

#include <optional>
#include <stdexcept>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "huginn/server/tls_identity.hpp"
#include "server/detail/connection.hpp"

namespace huginn::server {

using detail::Connection;
using detail::ServerContext;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Linux <netinet/tcp.h> TCP_SAVE_SYN (since 4.2).
constexpr int kTcpSaveSyn = 27;

// ALPN (RFC 7301): the server's preference, h2 first. A client offering
// neither gets no ALPN and speaks HTTP/1.1.
constexpr unsigned char kAlpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kAlpn, sizeof kAlpn, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

std::string ssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

struct Server::Impl {
  Impl(ServerConfig config, Handler handler, VisitorObserver* observer)
      : ctx(std::make_shared<ServerContext>()) {
    ctx->config = std::move(config);
    ctx->handler = std::move(handler);
    ctx->observer = observer;
  }

  struct Listener {
    std::unique_ptr<tcp::acceptor> acceptor;
    bool tls = false;
    SocketEndpoint bound;
  };

  std::shared_ptr<ServerContext> ctx;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::unique_ptr<asio::ssl::context> tls;
  std::string fingerprint;
  std::vector<Listener> listeners;
  std::vector<std::thread> threads;
  bool started = false;
  bool stopped = false;

  void make_tls() {
    std::string err;
    const auto& cfg = ctx->config;
    auto id = resolve_tls_identity(cfg.cert_file, cfg.key_file, cfg.state_dir, &err);
    if (!id) throw std::runtime_error(err);
    fingerprint = id->sha256_fingerprint;
    if (id->generated)
      spdlog::info("generated self-signed certificate {}", id->cert_file.string());
    spdlog::info("TLS certificate {} SHA-256 {}", id->cert_file.string(), fingerprint);

    tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    SSL_CTX* c = tls->native_handle();
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
    // TLS 1.2: forward-secret AEAD suites only, which also keeps h2 clear of
    // the RFC 9113 §9.2.2 block list. TLS 1.3 suites are OpenSSL's defaults.
    if (SSL_CTX_set_cipher_list(c, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                   "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                   "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1)
      throw std::runtime_error("cannot set TLS ciphers: " + ssl_error());
    if (SSL_CTX_use_certificate_chain_file(c, id->cert_file.c_str()) != 1)
      throw std::runtime_error("cannot use certificate " + id->cert_file.string() + ": " + ssl_error());
    if (SSL_CTX_use_PrivateKey_file(c, id->key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      throw std::runtime_error("cannot use private key " + id->key_file.string() + ": " + ssl_error());
    if (SSL_CTX_check_private_key(c) != 1)
      throw std::runtime_error("private key " + id->key_file.string() + " does not match " +
                               id->cert_file.string());
    SSL_CTX_set_alpn_select_cb(c, &select_alpn, nullptr);
    if (ctx->observer != nullptr) SSL_CTX_set_msg_callback(c, &Connection::on_tls_message);
  }

  void bind(const SocketEndpoint& ep, bool is_tls) {
    const auto tep = detail::to_tcp_endpoint(ep);
    // A strand per acceptor: stop() closes it while accepts may complete.
    auto acc = std::make_unique<tcp::acceptor>(asio::make_strand(io));
    boost::system::error_code ec;
    auto fail = [&](const boost::system::error_code& e) {
      throw std::runtime_error("cannot listen on " + to_string(ep) + ": " + e.message());
    };
    acc->open(tep.protocol(), ec);
    if (ec) fail(ec);
    acc->set_option(tcp::acceptor::reuse_address(true), ec);
    if (tep.address().is_v6()) acc->set_option(asio::ip::v6_only(true), ec);
    if (ctx->observer != nullptr) {
      // Keep each client's SYN for TCP_SAVED_SYN; without it (old kernel)
      // the visitor simply gets no SYN.
      const int one = 1;
      if (::setsockopt(acc->native_handle(), IPPROTO_TCP, kTcpSaveSyn, &one, sizeof one) != 0)
        spdlog::warn("TCP_SAVE_SYN unavailable on {}: saved SYNs disabled", to_string(ep));
    }
    acc->bind(tep, ec);
    if (ec) fail(ec);
    acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) fail(ec);
    Listener l;
    l.bound = detail::to_socket_endpoint(acc->local_endpoint(ec));
    l.tls = is_tls;
    l.acceptor = std::move(acc);
    listeners.push_back(std::move(l));
  }

  void accept(Listener& l) {
    auto strand = asio::make_strand(io);
    auto sock = std::make_shared<tcp::socket>(strand);
    l.acceptor->async_accept(*sock, [this, &l, sock, strand](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted || ctx->stopping) return;
      if (!ec) {
        if (ctx->count() >= ctx->config.limits.max_connections) {
          boost::system::error_code ignored;
          sock->close(ignored);
        } else {
          auto c = std::make_shared<Connection>(ctx, strand, std::move(*sock),
                                                l.tls ? tls.get() : nullptr);
          asio::post(strand, [c] { c->start(); });
        }
      } else {
        spdlog::debug("accept: {}", ec.message());
      }
      accept(l);
    });
  }

  void stop(std::chrono::milliseconds deadline) {
    if (!started || stopped) return;
    stopped = true;
    const auto until = std::chrono::steady_clock::now() + deadline;
    ctx->stopping = true;
    for (auto& l : listeners) {
      asio::post(l.acceptor->get_executor(), [&l] {
        boost::system::error_code ec;
        l.acceptor->close(ec);
      });
    }
    auto each = [this](auto fn) {
      std::vector<std::shared_ptr<Connection>> live;
      {
        std::lock_guard lk(ctx->conns_mu);
        for (auto& [id, w] : ctx->conns)
          if (auto c = w.lock()) live.push_back(std::move(c));
      }
      for (auto& c : live) fn(*c);
    };
    each([](Connection& c) { c.post_shutdown(); });
    // Leave a little of the deadline for the hard close below.
    const auto soft = until - std::chrono::milliseconds(150);
    while (ctx->count() > 0 && std::chrono::steady_clock::now() < soft)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (ctx->count() > 0) {
      spdlog::info("closing {} connection(s) still open at the shutdown deadline", ctx->count());
      each([](Connection& c) { c.post_close(); });
      while (ctx->count() > 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    work.reset();
    io.stop();
    for (auto& t : threads) t.join();
    threads.clear();
    std::unique_lock lk(ctx->post_mu);
    ctx->accepting_posts = false;
  }
};

Server::Server(ServerConfig config, Handler handler, VisitorObserver* observer)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(handler), observer)) {}

Server::~Server() { stop(); }

void Server::start() {
  if (impl_->started) throw std::logic_error("Server::start called twice");
  const auto& cfg = impl_->ctx->config;
  if (!impl_->ctx->handler) throw std::invalid_argument("Server needs a Handler");
  if (!cfg.tls_listen.empty()) {
    // OpenSSL writes TLS records with write(2) on the socket itself
    // (TlsTransport, SSL_set_fd), and write(2) on a connection the peer has
    // reset raises SIGPIPE, whose default action ends the process. asio's
    // own sends pass MSG_NOSIGNAL; for OpenSSL's the signal is ignored
    // process-wide, so the write fails with EPIPE and the connection closes.
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, nullptr);
    impl_->make_tls();
  }
  for (const auto& ep : cfg.listen) impl_->bind(ep, false);
  for (const auto& ep : cfg.tls_listen) impl_->bind(ep, true);
  impl_->work.emplace(impl_->io.get_executor());
  for (auto& l : impl_->listeners) {
    spdlog::info("listening on {} ({})", to_string(l.bound), l.tls ? "TLS: h2, http/1.1" : "http/1.1, h2c");
    impl_->accept(l);
  }
  const unsigned n = std::max(1U, cfg.io_threads);
  for (unsigned i = 0; i < n; ++i) impl_->threads.emplace_back([this] { impl_->io.run(); });
  impl_->started = true;
}

void Server::stop(std::chrono::milliseconds deadline) { impl_->stop(deadline); }

std::vector<SocketEndpoint> Server::cleartext_endpoints() const {
  std::vector<SocketEndpoint> out;
  for (const auto& l : impl_->listeners)
    if (!l.tls) out.push_back(l.bound);
  return out;
}

std::vector<SocketEndpoint> Server::tls_endpoints() const {
  std::vector<SocketEndpoint> out;
  for (const auto& l : impl_->listeners)
    if (l.tls) out.push_back(l.bound);
  return out;
}

std::string Server::certificate_fingerprint() const { return impl_->fingerprint; }

std::size_t Server::connection_count() const { return impl_->ctx->count(); }

}  // namespace huginn::server
