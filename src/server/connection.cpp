// Connection lifecycle: saved SYN, TLS handshake and ALPN, protocol
// detection on cleartext, the bounded read/write loops, deadlines, the
// visitor records, and graceful or hard close.
#include "server/detail/connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <exception>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace huginn::server::detail {
namespace {

// RFC 9113 §3.4: the client connection preface.
constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
// Linux <netinet/tcp.h> names (since 4.2); spelled out for older headers.
constexpr int kTcpSavedSyn = 28;
constexpr std::size_t kSavedSynMax = 512;
// The most one read takes. Cleartext reads go to one buffer per I/O thread,
// filled only once the socket is readable, so an idle connection holds no
// read buffer (issue 5: memory per idle subscriber).
constexpr std::size_t kReadChunk = 16 * 1024;
// The most one write hands the socket. Output is built in one buffer per
// I/O thread and sent at once; only what the socket does not take is
// copied into the connection's own buffer (issue 5: a fan-out write is one
// send() with no completion handler, and an idle connection holds no
// write buffer).
constexpr std::size_t kWriteChunk = 64 * 1024;
// How long a closing TLS connection waits for the peer's close_notify.
constexpr std::chrono::milliseconds kTlsCloseWait{250};
// Lingering close of cleartext connections: at most this long / this much.
constexpr std::chrono::milliseconds kLingerWait{500};
constexpr std::size_t kLingerMaxBytes = 1024 * 1024;

// The Connection behind an SSL, for the message callback, in an ex_data
// slot of its own (app data stays free for OpenSSL-level code).
int connection_ex_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Valid until the calling handler returns; handlers of one thread never
// nest, so one buffer serves all of its connections.
std::span<char> thread_read_buffer() {
  thread_local const std::unique_ptr<char[]> buf = std::make_unique_for_overwrite<char[]>(kReadChunk);
  return {buf.get(), kReadChunk};
}

// The output buffer of the I/O thread's kick_write (see kWriteChunk). A
// nested kick_write on the same thread (a protocol callback) must not reuse
// it while the outer one is still filling or sending it.
struct ThreadWriteBuffer {
  std::string bytes;
  bool busy = false;
};
ThreadWriteBuffer& thread_write_buffer() {
  thread_local ThreadWriteBuffer buf;
  return buf;
}

class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(tcp::socket s) : socket_(std::move(s)) {
    // read_some after readiness must not block if the wakeup was spurious.
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
  }
  void async_read(ReadHandler h) override {
    socket_.async_wait(tcp::socket::wait_read,
                       [this, h = std::move(h)](const boost::system::error_code& ec) mutable {
                         if (ec) {
                           h(ec, {});
                           return;
                         }
                         const std::span<char> buf = thread_read_buffer();
                         boost::system::error_code rec;
                         const std::size_t n = socket_.read_some(asio::buffer(buf.data(), buf.size()), rec);
                         if (rec == asio::error::would_block || rec == asio::error::try_again) {
                           async_read(std::move(h));
                           return;
                         }
                         h(rec, std::string_view(buf.data(), n));
                       });
  }
  void async_write(asio::const_buffer buf, IoHandler h) override {
    asio::async_write(socket_, buf, std::move(h));
  }
  std::size_t try_write(asio::const_buffer buf, boost::system::error_code& ec) override {
    // The socket is non-blocking (constructor): a full one says would_block.
    const std::size_t n = socket_.write_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ec = {};
      return 0;
    }
    return ec ? 0 : n;
  }
  tcp::socket& socket() override { return socket_; }

 private:
  tcp::socket socket_;
};

// TLS straight on the non-blocking socket (SSL_set_fd): OpenSSL reads and
// writes the socket itself and the transport only waits for readiness.
// asio's ssl::stream keeps two 17 KiB buffers and a BIO pair of two more
// for the connection's whole life; here an idle connection keeps the SSL
// object alone, as SSL_MODE_RELEASE_BUFFERS frees OpenSSL's record buffers
// whenever they are empty (issue 5: memory per idle subscriber).
// Invariants: every call runs on the connection's strand, so SSL_read,
// SSL_write and SSL_shutdown never run at once on one SSL; an operation
// that asked for WANT_READ / WANT_WRITE is retried with the same arguments
// once the socket is ready (SSL_get_error(3)); completions never run inside
// the call that started the operation.
class TlsTransport final : public Transport {
 public:
  using DoneHandler = std::function<void(const boost::system::error_code&)>;

  TlsTransport(tcp::socket s, asio::ssl::context& ctx)
      : socket_(std::move(s)), ssl_(SSL_new(ctx.native_handle())) {
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
    if (!ssl_ || SSL_set_fd(ssl_.get(), socket_.native_handle()) != 1) {
      ssl_.reset();
      return;
    }
    SSL_set_accept_state(ssl_.get());
    // MOVING_WRITE_BUFFER: a try_write() that met a full socket is retried
    // by async_write() with the same bytes from another buffer (SSL_write(3)).
    SSL_set_mode(ssl_.get(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }

  // Null when OpenSSL could not make the SSL object (every operation then
  // fails with no_memory).
  SSL* native_handle() { return ssl_.get(); }
  tcp::socket& socket() override { return socket_; }

  // The client speaks first (RFC 8446 §4.1.2): wait for its ClientHello.
  void async_handshake(DoneHandler h) {
    socket_.async_wait(tcp::socket::wait_read,
                       [this, h = std::move(h)](const boost::system::error_code& ec) mutable {
                         if (ec) {
                           h(ec);
                           return;
                         }
                         drive([this] { return SSL_do_handshake(ssl_.get()); }, std::move(h));
                       });
  }

  void async_read(ReadHandler h) override {
    auto attempt = [this, h = std::move(h)](const boost::system::error_code& ec) mutable {
      if (ec) {
        h(ec, {});
        return;
      }
      drive(
          [this] {
            const std::span<char> buf = thread_read_buffer();
            std::size_t n = 0;
            const int rv = SSL_read_ex(ssl_.get(), buf.data(), buf.size(), &n);
            read_ = std::string_view(buf.data(), rv > 0 ? n : 0);
            return rv;
          },
          [this, h = std::move(h)](const boost::system::error_code& e) { h(e, read_); });
    };
    // A record already buffered (or decrypted but unread) will not make the
    // socket readable again.
    if (ssl_ && SSL_has_pending(ssl_.get()) == 1) {
      asio::post(socket_.get_executor(), [attempt = std::move(attempt)]() mutable { attempt({}); });
    } else {
      socket_.async_wait(tcp::socket::wait_read, std::move(attempt));
    }
  }

  void async_write(asio::const_buffer buf, IoHandler h) override {
    // Without SSL_MODE_ENABLE_PARTIAL_WRITE success means all of `buf`.
    auto done = [h = std::move(h), n = buf.size()](const boost::system::error_code& ec) {
      h(ec, ec ? 0 : n);
    };
    if (buf.size() == 0) {
      asio::post(socket_.get_executor(), [done = std::move(done)] { done({}); });
      return;
    }
    asio::post(socket_.get_executor(), [this, buf, done = std::move(done)]() mutable {
      drive(
          [this, buf] {
            std::size_t n = 0;
            return SSL_write_ex(ssl_.get(), buf.data(), buf.size(), &n);
          },
          std::move(done));
    });
  }

  std::size_t try_write(asio::const_buffer buf, boost::system::error_code& ec) override {
    ec = {};
    if (!ssl_ || !socket_.is_open() || buf.size() == 0) return 0;  // async_write reports it
    ERR_clear_error();
    errno = 0;
    std::size_t n = 0;
    const int rv = SSL_write_ex(ssl_.get(), buf.data(), buf.size(), &n);
    if (rv > 0) return buf.size();  // without ENABLE_PARTIAL_WRITE: all of it
    const int sys = errno;
    const int err = SSL_get_error(ssl_.get(), rv);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) ec = to_error_code(err, sys);
    return 0;
  }

  // RFC 8446 §6.1: our close_notify, then the peer's; what the peer still
  // sends before it is read and dropped. The caller bounds the wait.
  void async_shutdown(DoneHandler h) {
    asio::post(socket_.get_executor(), [this, h = std::move(h)]() mutable {
      drive(
          [this] {
            // 0: ours is sent, theirs not yet received.
            const int rv = SSL_shutdown(ssl_.get());
            return rv == 0 ? 1 : rv;
          },
          [this, h = std::move(h)](const boost::system::error_code& ec) mutable {
            if (ec || (SSL_get_shutdown(ssl_.get()) & SSL_RECEIVED_SHUTDOWN) != 0) {
              h(ec);
              return;
            }
            drain(std::move(h));
          });
    });
  }

 private:
  struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
  };

  // Runs `op` (an SSL call, > 0 on success) until it succeeds or fails,
  // waiting for the readiness OpenSSL asks for in between.
  template <class Op, class Done>
  void drive(Op op, Done done) {
    if (!ssl_) {
      done(asio::error::no_memory);
      return;
    }
    // Closed: the SSL's BIO still holds the descriptor's number, which a new
    // connection may already own.
    if (!socket_.is_open()) {
      done(asio::error::operation_aborted);
      return;
    }
    ERR_clear_error();
    errno = 0;
    const int rv = op();
    if (rv > 0) {
      done(boost::system::error_code{});
      return;
    }
    const int sys = errno;
    const int err = SSL_get_error(ssl_.get(), rv);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      socket_.async_wait(
          err == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write,
          [this, op = std::move(op), done = std::move(done)](const boost::system::error_code& ec) mutable {
            if (ec) {
              done(ec);
              return;
            }
            drive(std::move(op), std::move(done));
          });
      return;
    }
    done(to_error_code(err, sys));
  }

  // After our close_notify: reads until the peer's arrives.
  void drain(DoneHandler h) {
    drive(
        [this] {
          const std::span<char> buf = thread_read_buffer();
          std::size_t n = 0;
          return SSL_read_ex(ssl_.get(), buf.data(), buf.size(), &n);
        },
        [this, h = std::move(h)](const boost::system::error_code& ec) mutable {
          if (ec == asio::error::eof) h({});
          else if (ec) h(ec);
          else asio::post(socket_.get_executor(), [this, h = std::move(h)]() mutable { drain(std::move(h)); });
        });
  }

  static boost::system::error_code to_error_code(int err, int sys) {
    if (err == SSL_ERROR_ZERO_RETURN) return asio::error::eof;  // the peer's close_notify
    const unsigned long e = ERR_get_error();
    if (e != 0) return {static_cast<int>(e), asio::error::get_ssl_category()};
    if (err == SSL_ERROR_SYSCALL && sys != 0) return {sys, boost::system::system_category()};
    return asio::ssl::error::stream_truncated;
  }

  tcp::socket socket_;
  std::unique_ptr<SSL, SslFree> ssl_;
  std::string_view read_;  // what the last SSL_read_ex gave, in thread_read_buffer()
};

}  // namespace

void ServerContext::add(std::uint64_t id, const std::shared_ptr<Connection>& c) {
  std::lock_guard l(conns_mu);
  conns.emplace(id, c);
}
void ServerContext::remove(std::uint64_t id) {
  std::lock_guard l(conns_mu);
  conns.erase(id);
}
std::size_t ServerContext::count() {
  std::lock_guard l(conns_mu);
  return conns.size();
}

void StreamState::set_on_close(std::function<void()> cb) {
  std::unique_lock l(mu_);
  if (fired_) {
    l.unlock();
    if (cb) cb();
    return;
  }
  cb_ = std::move(cb);
}

void StreamState::close() {
  closed = true;
  std::function<void()> cb;
  {
    std::lock_guard l(mu_);
    if (fired_) return;
    fired_ = true;
    cb.swap(cb_);
  }
  if (cb) cb();
}

void Transport::close() {
  boost::system::error_code ec;
  socket().shutdown(tcp::socket::shutdown_both, ec);
  socket().close(ec);
}

SocketEndpoint to_socket_endpoint(const tcp::endpoint& ep) {
  SocketEndpoint out;
  out.port = ep.port();
  const auto a = ep.address();
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    out.addr = packet::IpAddress::v4(b[0], b[1], b[2], b[3]);
  } else {
    const auto v6 = a.to_v6();
    if (v6.is_v4_mapped()) {
      const auto b = asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_bytes();
      out.addr = packet::IpAddress::v4(b[0], b[1], b[2], b[3]);
    } else {
      std::array<std::uint8_t, 16> b{};
      const auto raw = v6.to_bytes();
      std::copy(raw.begin(), raw.end(), b.begin());
      out.addr = packet::IpAddress::v6(b);
    }
  }
  return out;
}

tcp::endpoint to_tcp_endpoint(const SocketEndpoint& ep) {
  if (ep.addr.version == packet::IpVersion::v4) {
    return {asio::ip::address_v4({ep.addr.bytes[0], ep.addr.bytes[1], ep.addr.bytes[2],
                                  ep.addr.bytes[3]}),
            ep.port};
  }
  asio::ip::address_v6::bytes_type b{};
  std::copy(ep.addr.bytes.begin(), ep.addr.bytes.end(), b.begin());
  return {asio::ip::address_v6(b), ep.port};
}

Connection::Connection(std::shared_ptr<ServerContext> ctx, Strand strand, tcp::socket socket,
                       asio::ssl::context* tls)
    : ctx_(std::move(ctx)), strand_(std::move(strand)), timer_(strand_) {
  info_.id = ctx_->next_conn_id.fetch_add(1);
  boost::system::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (!ec) info_.peer = to_socket_endpoint(peer);
  const auto local = socket.local_endpoint(ec);
  if (!ec) info_.local = to_socket_endpoint(local);
  // Small frames (HEADERS, SSE events) must not wait for delayed ACKs.
  socket.set_option(tcp::no_delay(true), ec);
  info_.tls = tls != nullptr;
  key_.conn_id = info_.id;
  key_.client = info_.peer;
  key_.server = info_.local;
  if (tls != nullptr) {
    auto t = std::make_unique<TlsTransport>(std::move(socket), *tls);
    if (t->native_handle() != nullptr)
      SSL_set_ex_data(t->native_handle(), connection_ex_index(), this);
    transport_ = std::move(t);
  } else {
    transport_ = std::make_unique<PlainTransport>(std::move(socket));
  }
}

Connection::~Connection() {
  if (protocol_) protocol_->abort();
  if (next_protocol_) next_protocol_->abort();
  if (ctx_->observer != nullptr) {
    flush_prefix();
    ctx_->observer->on_closed(key_);
  }
}

void Connection::start() {
  ctx_->add(info_.id, shared_from_this());
  VisitorObserver* obs = ctx_->observer;
  if (obs != nullptr) {
    // The kernel kept the SYN because the listener set TCP_SAVE_SYN; reading
    // it once frees it.
    std::array<std::uint8_t, kSavedSynMax> syn{};
    socklen_t len = syn.size();
    const int fd = transport_->socket().native_handle();
    if (::getsockopt(fd, IPPROTO_TCP, kTcpSavedSyn, syn.data(), &len) == 0 && len > 0) {
      key_.ts_us = now_us();
      obs->on_saved_syn(key_, std::span<const std::uint8_t>(syn.data(), len));
    }
  }
  if (info_.tls) {
    set_deadline(limits().handshake_timeout);
    auto* t = static_cast<TlsTransport*>(transport_.get());
    t->async_handshake([self = shared_from_this()](const boost::system::error_code& ec) {
      self->on_tls_handshake(ec);
    });
    return;
  }
  // The first request (or preface) must come within the request timeout.
  set_deadline(limits().request_timeout);
  read_more();
}

void Connection::on_tls_message(int write_p, int /*version*/, int content_type, const void* buf,
                                std::size_t len, ssl_st* ssl, void* /*arg*/) {
  if (write_p != 0 || content_type != SSL3_RT_HANDSHAKE || len == 0) return;
  auto* self = static_cast<Connection*>(SSL_get_ex_data(ssl, connection_ex_index()));
  if (self == nullptr || self->saw_handshake_) return;
  // Only the first handshake message the client sends is its ClientHello
  // (RFC 8446 §4.1.2); a second ClientHello after HelloRetryRequest is not
  // what fingerprints describe.
  self->saw_handshake_ = true;
  const auto* p = static_cast<const std::uint8_t*>(buf);
  if (p[0] != 0x01 || self->ctx_->observer == nullptr) return;
  self->key_.ts_us = now_us();
  self->ctx_->observer->on_client_hello(self->key_, std::span<const std::uint8_t>(p, len));
}

void Connection::on_tls_handshake(const boost::system::error_code& ec) {
  if (closed_) return;
  if (ec) {
    spdlog::debug("tls handshake from {} failed: {}", to_string(info_.peer), ec.message());
    close();
    return;
  }
  auto* t = static_cast<TlsTransport*>(transport_.get());
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(t->native_handle(), &alpn, &alpn_len);
  if (alpn != nullptr) info_.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  set_deadline(limits().request_timeout);
  if (info_.alpn == "h2") {
    info_.version = HttpVersion::kHttp2;
    protocol_ = make_http2(*this);
  } else {
    protocol_ = make_http1(*this);
  }
  ++generation_;
  kick_write();
  read_more();
}

void Connection::read_more() {
  if (closed_ || reading_) return;
  if (protocol_ && !protocol_->want_read()) return;
  issue_read();
}

void Connection::issue_read() {
  reading_ = true;
  transport_->async_read(
      [self = shared_from_this()](const boost::system::error_code& ec, std::string_view bytes) {
        self->on_read(ec, bytes);
      });
}

void Connection::resume_read() { read_more(); }

void Connection::on_read(const boost::system::error_code& ec, std::string_view bytes) {
  reading_ = false;
  if (lingering_) {
    linger(ec, bytes.size());
    return;
  }
  if (closed_) return;
  if (ec) {
    close();
    return;
  }
  record_prefix(bytes);
  feed(bytes);
  if (closed_) return;
  kick_write();
  read_more();
}

void Connection::feed(std::string_view bytes) {
  if (!protocol_) {
    detect_.append(bytes);
    const std::size_t k = std::min(detect_.size(), kPreface.size());
    // Still a prefix of the preface: wait for more before deciding.
    if (detect_.compare(0, k, kPreface, 0, k) == 0 && k < kPreface.size()) return;
    const bool h2 = detect_.size() >= kPreface.size() && detect_.starts_with(kPreface);
    info_.version = h2 ? HttpVersion::kHttp2 : HttpVersion::kHttp11;
    protocol_ = h2 ? make_http2(*this) : make_http1(*this);
    ++generation_;
    std::string first;
    first.swap(detect_);
    feed(first);
    return;
  }
  protocol_->on_bytes(bytes);
  adopt_next_protocol();
}

void Connection::adopt_next_protocol() {
  while (next_protocol_ && !closed_) {
    protocol_ = std::move(next_protocol_);
    ++generation_;
    info_.version = next_version_;
    protocol_->activated();
    std::string rest;
    rest.swap(next_rest_);
    if (!rest.empty()) protocol_->on_bytes(rest);
  }
}

void Connection::replace_protocol(std::unique_ptr<Protocol> next, std::string rest,
                                  HttpVersion version) {
  next_protocol_ = std::move(next);
  next_rest_ = std::move(rest);
  next_version_ = version;
}

void Connection::record_prefix(std::string_view bytes) {
  if (prefix_sent_ || ctx_->observer == nullptr) return;
  const std::size_t cap = limits().visitor_prefix_bytes;
  prefix_.append(bytes.substr(0, cap - std::min(cap, prefix_.size())));
  if (prefix_.size() >= cap) flush_prefix();
}

void Connection::note_request() { flush_prefix(); }

void Connection::flush_prefix() {
  if (prefix_sent_ || ctx_->observer == nullptr || prefix_.empty()) return;
  prefix_sent_ = true;
  key_.ts_us = now_us();
  ctx_->observer->on_client_prefix(
      key_, info_.tls,
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(prefix_.data()),
                                    prefix_.size()));
  std::string().swap(prefix_);
}

void Connection::kick_write() {
  if (closed_ || writing_ || !protocol_) return;
  ThreadWriteBuffer& shared = thread_write_buffer();
  std::string nested;  // only when a protocol callback re-entered
  std::string& out = shared.busy ? nested : shared.bytes;
  const bool owner = !shared.busy;
  shared.busy = true;
  struct Release {
    ThreadWriteBuffer& b;
    bool owner;
    ~Release() {
      if (!owner) return;
      b.busy = false;
      // A burst's capacity (up to kWriteChunk) is kept once per thread.
      b.bytes.clear();
    }
  } release{shared, owner};
  for (;;) {
    out.clear();
    protocol_->produce(out, kWriteChunk);
    if (out.empty()) {
      if (protocol_->done()) close_gracefully();
      return;
    }
    boost::system::error_code ec;
    const std::size_t n = transport_->try_write(asio::buffer(out), ec);
    if (ec) {
      close();
      return;
    }
    if (n == out.size()) continue;  // all taken: there may be more output
    write_buf_.assign(out, n);
    break;
  }
  writing_ = true;
  transport_->async_write(
      asio::buffer(write_buf_),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
        self->writing_ = false;
        std::string().swap(self->write_buf_);
        if (self->closed_) return;
        if (ec) {
          self->close();
          return;
        }
        self->kick_write();
        self->read_more();
      });
}

void Connection::set_deadline(std::chrono::milliseconds d) {
  const std::uint64_t epoch = ++timer_epoch_;
  timer_.expires_after(d);
  timer_.async_wait([self = shared_from_this(), epoch](const boost::system::error_code& ec) {
    if (ec || epoch != self->timer_epoch_ || self->closed_) return;
    spdlog::debug("connection {} from {} timed out", self->info_.id, to_string(self->info_.peer));
    // TLS still says close_notify; a cleartext laggard is not drained.
    if (self->info_.tls) self->close_gracefully();
    else self->close();
  });
}

void Connection::clear_deadline() {
  ++timer_epoch_;
  timer_.cancel();
}

void Connection::close() {
  if (!closed_) {
    closed_ = true;
    if (protocol_) protocol_->abort();
  }
  finish_close();
}

void Connection::close_gracefully() {
  if (closed_) return;
  // Before the protocol started or mid-write: nothing to say politely.
  if (!protocol_ || writing_) {
    close();
    return;
  }
  closed_ = true;
  protocol_->abort();
  if (!info_.tls) {
    // RFC 9112 §9.6: half-close and drain what the client is still sending
    // (a body we refused, a pipelined request), so that our last response
    // is not destroyed by the RST a close with unread data would cause.
    boost::system::error_code ec;
    transport_->socket().shutdown(tcp::socket::shutdown_send, ec);
    lingering_ = true;
    const std::uint64_t epoch = ++timer_epoch_;
    timer_.expires_after(kLingerWait);
    timer_.async_wait([self = shared_from_this(), epoch](const boost::system::error_code& e) {
      if (!e && epoch == self->timer_epoch_) self->finish_close();
    });
    if (!reading_) linger({}, 0);
    return;
  }
  // RFC 8446 §6.1: close_notify before closing, so that clients can tell a
  // complete close from a truncation. The pending read is cancelled first
  // (its handler sees closed_); the peer's reply is awaited briefly.
  boost::system::error_code ec;
  transport_->socket().cancel(ec);
  const std::uint64_t epoch = ++timer_epoch_;
  timer_.expires_after(kTlsCloseWait);
  timer_.async_wait([self = shared_from_this(), epoch](const boost::system::error_code& e) {
    if (!e && epoch == self->timer_epoch_) self->finish_close();
  });
  static_cast<TlsTransport*>(transport_.get())
      ->async_shutdown([self = shared_from_this()](const boost::system::error_code&) {
        self->finish_close();
      });
}

void Connection::linger(const boost::system::error_code& ec, std::size_t n) {
  lingered_ += n;
  if (ec || finished_ || lingered_ > kLingerMaxBytes) {
    finish_close();
    return;
  }
  issue_read();
}

void Connection::finish_close() {
  if (finished_) return;
  finished_ = true;
  clear_deadline();
  transport_->close();
  ctx_->remove(info_.id);
}

void Connection::begin_shutdown() {
  if (closed_ || shutting_down_) return;
  shutting_down_ = true;
  if (!protocol_) {
    close();
    return;
  }
  protocol_->begin_shutdown();
  kick_write();
}

void Connection::post_shutdown() {
  asio::post(strand_, [self = shared_from_this()] { self->begin_shutdown(); });
}

void Connection::post_close() {
  asio::post(strand_, [self = shared_from_this()] { self->close(); });
}

void Connection::dispatch(Request req, std::shared_ptr<ResponseWriter> w) {
  note_request();
  req.conn = info_;
  try {
    ctx_->handler(std::move(req), w);
  } catch (const std::exception& e) {
    spdlog::error("handler threw: {}", e.what());
    w->send(error_response(500, "internal", "the request handler failed"));
  }
}

std::optional<std::string> decode_base64url(std::string_view text) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-' || c == '+') v = 62;
    else if (c == '_' || c == '/') v = 63;
    else if (c == '=') break;  // tolerated padding ends the data
    else return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::string http_date() {
  thread_local std::time_t cached_at = 0;
  thread_local std::string cached;
  const std::time_t now = std::time(nullptr);
  if (now != cached_at) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[40];
    const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached.assign(buf, n);
    cached_at = now;
  }
  return cached;
}

Response error_response(int status, std::string_view code, std::string_view message) {
  Response r;
  r.status = status;
  r.headers = {{"content-type", "application/json"}, {"cache-control", "no-store"}};
  r.body = "{\"error\":\"" + std::string(code) + "\",\"message\":\"" + std::string(message) + "\"}";
  return r;
}

}  // namespace huginn::server::detail
