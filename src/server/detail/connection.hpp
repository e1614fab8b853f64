#pragma once
// One accepted connection: its transport (TCP or TLS over TCP), the strand
// every piece of its state lives on, its deadline timer and its protocol
// (HTTP/1.1 or HTTP/2, replaced once on an h2c upgrade).
//
// Invariant: everything below is touched only on `strand_`, except the
// atomics in StreamState and what ServerContext guards itself.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "huginn/server/http_types.hpp"
#include "huginn/server/server_config.hpp"
#include "huginn/server/visitor.hpp"

namespace huginn::server::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;

class Connection;
struct WsShared;

// What all connections of one Server share. Owned by a shared_ptr so that
// ResponseWriters kept by the application past stop() stay safe to call.
struct ServerContext {
  ServerConfig config;
  Handler handler;
  VisitorObserver* observer = nullptr;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> next_conn_id{1};

  // Guards posting to the io_context: false once the I/O threads are gone.
  std::shared_mutex post_mu;
  bool accepting_posts = true;

  std::mutex conns_mu;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> conns;

  void add(std::uint64_t id, const std::shared_ptr<Connection>& c);
  void remove(std::uint64_t id);
  std::size_t count();
};

// What writers on any thread hand to one exchange, taken by its strand in
// one batch: only the first put() after a take() posts a drain, so whatever
// arrives while the I/O thread has not reached that drain yet rides along in
// the same protocol write and the same send(). Under fan-out load the batch
// grows by itself; an idle connection's first write still goes at once.
// (Issue 5: one send() per event per subscriber was ~45% of the server's
// CPU at 1,000 SSE subscribers x 100 events/s.)
template <class Batch>
class Inbox {
 public:
  // Runs add(batch) under the lock; true when the caller must post a drain.
  template <class Add>
  bool put(Add&& add) {
    std::lock_guard l(mu_);
    add(batch_);
    return !std::exchange(posted_, true);
  }
  // The whole batch; the next put() posts again. The inbox keeps no
  // capacity (an idle subscriber holds no buffer).
  Batch take() {
    std::lock_guard l(mu_);
    posted_ = false;
    Batch out;
    out.swap(batch_);
    return out;
  }

 private:
  std::mutex mu_;
  Batch batch_;
  bool posted_ = false;
};

// The per-exchange state a ResponseWriter shares with the protocol: the
// close flag, the bytes queued but not yet taken by the socket, and the
// one-shot on_close callback.
struct StreamState {
  std::atomic<bool> closed{false};
  std::atomic<bool> answered{false};   // send() or start_stream() accepted
  std::atomic<bool> streaming{false};  // start_stream() accepted
  std::atomic<bool> finished{false};   // send() or finish() accepted
  std::atomic<std::size_t> pending{0};
  // Stream bytes written but not yet handed to the protocol (ExchangeWriter::write).
  Inbox<std::string> inbox;

  void set_on_close(std::function<void()> cb);
  // Marks closed and runs the callback once; later calls do nothing.
  void close();

 private:
  std::mutex mu_;
  std::function<void()> cb_;
  bool fired_ = false;
};

// HTTP/1.1 or HTTP/2 on top of a byte stream; all calls on the strand.
// `key` names the exchange: the HTTP/2 stream id, or the HTTP/1 exchange
// number (stale keys are ignored).
class Protocol {
 public:
  virtual ~Protocol() = default;
  virtual void on_bytes(std::string_view bytes) = 0;
  // Appends at most about `max` bytes of output to `out`.
  virtual void produce(std::string& out, std::size_t max) = 0;
  // True when the connection has nothing left to do once `out` is written.
  [[nodiscard]] virtual bool done() const = 0;
  // False pauses reading (bounded input while a response is pending).
  [[nodiscard]] virtual bool want_read() const { return true; }
  // Installed and its generation current (after an h2c upgrade).
  virtual void activated() {}
  virtual void begin_shutdown() = 0;
  // The connection is gone: close every exchange's StreamState.
  virtual void abort() = 0;

  virtual void send(std::int32_t key, Response r) = 0;
  virtual void start_stream(std::int32_t key, int status, Headers h) = 0;
  virtual void write(std::int32_t key, std::string chunk) = 0;
  virtual void finish(std::int32_t key) = 0;
  virtual void push(std::int32_t key, std::string path, Response r) = 0;
  // ResponseWriter::accept_websocket on exchange `key`; a protocol that
  // cannot (or no longer can) ends `shared` at once.
  virtual void accept_websocket(std::int32_t key, Headers extra, std::shared_ptr<WsShared> shared);
};

// TCP or TLS-over-TCP behind one interface, so the protocols are written once.
class Transport {
 public:
  using IoHandler = std::function<void(const boost::system::error_code&, std::size_t)>;
  // `bytes` is valid only until the handler returns: it may live in a
  // buffer shared by every connection of the I/O thread.
  using ReadHandler = std::function<void(const boost::system::error_code&, std::string_view bytes)>;
  virtual ~Transport() = default;
  // Reads what is available (at least one byte, or an error; EOF is
  // asio::error::eof).
  virtual void async_read(ReadHandler h) = 0;
  virtual void async_write(asio::const_buffer buf, IoHandler h) = 0;
  // Writes what the socket takes now, without blocking: all of `buf`, or
  // 0 when the socket is full (then async_write() must be given the same
  // bytes: a TLS record may be half sent), or an error in `ec`.
  virtual std::size_t try_write(asio::const_buffer buf, boost::system::error_code& ec) = 0;
  virtual tcp::socket& socket() = 0;
  void close();
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<ServerContext> ctx, Strand strand, tcp::socket socket,
             asio::ssl::context* tls);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Reads the saved SYN, then the TLS handshake or the first bytes.
  void start();
  // Graceful (GOAWAY / last chunk, then close) and hard close; any thread.
  void post_shutdown();
  void post_close();

  // For protocols and writers, on the strand.
  [[nodiscard]] const ConnectionInfo& info() const { return info_; }
  [[nodiscard]] const ServerLimits& limits() const { return ctx_->config.limits; }
  [[nodiscard]] const std::shared_ptr<ServerContext>& context() const { return ctx_; }
  [[nodiscard]] Strand& strand() { return strand_; }
  [[nodiscard]] std::uint64_t generation() const { return generation_; }
  Protocol* protocol_for(std::uint64_t generation) {
    return generation == generation_ ? protocol_.get() : nullptr;
  }
  void kick_write();
  void resume_read();
  void set_deadline(std::chrono::milliseconds d);
  void clear_deadline();
  // Hard close: the socket goes now.
  void close();
  // Protocol finished or idle: TLS close_notify first (bounded wait).
  void close_gracefully();
  // First request seen: hand the client prefix to the observer now.
  void note_request();
  // HTTP/1.1 -> HTTP/2 (RFC 7540 §3.2) or WebSocket (RFC 6455): after the
  // current on_bytes call (or posted writer call) returns, `next` replaces
  // the protocol and receives `rest`.
  void replace_protocol(std::unique_ptr<Protocol> next, std::string rest,
                        HttpVersion version = HttpVersion::kHttp2);
  void adopt_next_protocol();
  // Runs the Handler, turning an exception into a 500.
  void dispatch(Request req, std::shared_ptr<ResponseWriter> w);

  // OpenSSL's message callback (SSL_CTX_set_msg_callback): hands the first
  // ClientHello of the connection to the observer.
  static void on_tls_message(int write_p, int version, int content_type, const void* buf,
                             std::size_t len, struct ssl_st* ssl, void* arg);

 private:
  void on_tls_handshake(const boost::system::error_code& ec);
  void read_more();
  void issue_read();  // one Transport::async_read, ending in on_read
  void on_read(const boost::system::error_code& ec, std::string_view bytes);
  void feed(std::string_view bytes);
  void choose_cleartext_protocol();
  void record_prefix(std::string_view bytes);
  void flush_prefix();
  void begin_shutdown();
  void finish_close();
  void linger(const boost::system::error_code& ec, std::size_t n);

  std::shared_ptr<ServerContext> ctx_;
  Strand strand_;
  std::unique_ptr<Transport> transport_;
  asio::steady_timer timer_;
  std::uint64_t timer_epoch_ = 0;
  ConnectionInfo info_;
  VisitorKey key_;
  std::unique_ptr<Protocol> protocol_;
  std::uint64_t generation_ = 0;
  std::unique_ptr<Protocol> next_protocol_;
  std::string next_rest_;
  HttpVersion next_version_ = HttpVersion::kHttp2;
  std::string detect_;  // cleartext bytes before the protocol is known
  std::string prefix_;
  bool prefix_sent_ = false;
  bool saw_handshake_ = false;
  std::string write_buf_;  // what the socket did not take at once, until async_write completes
  bool reading_ = false;
  bool writing_ = false;
  bool closed_ = false;    // no more protocol work
  bool finished_ = false;  // socket closed, unregistered
  bool lingering_ = false; // cleartext half-closed, draining input
  std::size_t lingered_ = 0;
  bool shutting_down_ = false;
};

// The ResponseWriter of both protocols: every call is posted to the
// connection's strand and forwarded to the protocol instance that created
// it (a stale generation or a closed stream makes it a no-op).
class ExchangeWriter final : public ResponseWriter {
 public:
  ExchangeWriter(std::weak_ptr<Connection> conn, std::shared_ptr<ServerContext> ctx,
                 std::uint64_t generation, std::int32_t key, std::shared_ptr<StreamState> state,
                 std::shared_ptr<std::atomic<bool>> push_enabled, std::size_t queue_limit);
  bool send(Response response) override;
  bool start_stream(int status, Headers headers) override;
  bool write(std::string chunk) override;
  void finish() override;
  void on_close(std::function<void()> callback) override;
  [[nodiscard]] bool push_enabled() const override;
  bool push(std::string path, Response response) override;
  [[nodiscard]] bool is_websocket_request() const override { return websocket_offer_; }
  std::shared_ptr<WebSocket> accept_websocket(Headers extra) override;
  // Set by the protocol before dispatch: the request is a valid WebSocket
  // opening handshake (RFC 6455 §4.2.1 / RFC 8441 §4).
  void offer_websocket() { websocket_offer_ = true; }

 private:
  // `fn(Protocol&)` on the strand, if this exchange's protocol is still current.
  template <class Fn>
  bool post(Fn fn);
  bool websocket_offer_ = false;
  std::weak_ptr<Connection> conn_;
  std::shared_ptr<ServerContext> ctx_;
  std::uint64_t generation_;
  std::int32_t key_;
  std::shared_ptr<StreamState> state_;
  std::shared_ptr<std::atomic<bool>> push_enabled_;
  std::size_t queue_limit_;
};

// Posts `fn(Connection&)` to the connection's strand unless the connection
// or the I/O threads are gone (then returns false and `fn` never runs). A
// template so that the hot path (one drain per subscriber per fan-out pass)
// allocates no std::function on top of asio's own handler.
template <class Fn>
bool post_to_strand(ServerContext& ctx, const std::weak_ptr<Connection>& conn, Fn fn) {
  // Posting after the I/O threads are gone would touch a dead io_context.
  std::shared_lock l(ctx.post_mu);
  if (!ctx.accepting_posts) return false;
  auto c = conn.lock();
  if (!c) return false;
  Strand& strand = c->strand();
  asio::post(strand, [c = std::move(c), fn = std::move(fn)]() mutable { fn(*c); });
  return true;
}

std::unique_ptr<Protocol> make_http1(Connection& c);
std::unique_ptr<Protocol> make_http2(Connection& c);
// After a 101 response (`preamble`): the HTTP/2 session with stream 1
// already half-closed by the upgrading request (nghttp2_session_upgrade2).
std::unique_ptr<Protocol> make_http2_upgraded(Connection& c, std::string preamble,
                                              std::string settings_payload, Request req);

// RFC 4648 §5 base64url without padding (the HTTP2-Settings value); nullopt
// on a character outside the alphabet.
std::optional<std::string> decode_base64url(std::string_view text);

// RFC 9110 §5.6.7 IMF-fixdate of now, cached per second and thread.
std::string http_date();
// False for 1xx, 204 and 304 (RFC 9110 §6.4.1).
inline bool status_allows_content(int status) {
  return status >= 200 && status != 204 && status != 304;
}

// A JSON error body {error, message} as the API uses (issue 4).
Response error_response(int status, std::string_view code, std::string_view message);

SocketEndpoint to_socket_endpoint(const tcp::endpoint& ep);
tcp::endpoint to_tcp_endpoint(const SocketEndpoint& ep);

}  // namespace huginn::server::detail
