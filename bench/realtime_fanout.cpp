// Fan-out of one `huginn-profiler serve --no-capture` to many HTTP/2
// clients (bench/realtime.sh starts the server):
//
//  1. setup: PROFILES visitor connections (connect, close) from
//     127.<block>.0.0/16 give the store one profile per address;
//  2. RSS of the server with no subscriber (/proc/PID/status VmRSS);
//  3. CONNS HTTP/2 connections (h2c prior knowledge, or TLS with ALPN h2),
//     each sending GET /api/health at once (see open_session), carry
//     SUBSCRIBERS streams, one per connection unless there are more streams
//     than connections; in `sse` mode each is GET /events resumed at the
//     store's seq (?last_event_id=, so no snapshot is sent); RSS again once
//     every stream is open and the server idle: the difference over CONNS
//     is the memory per idle subscriber (`idle` mode: per connection
//     without a stream);
//  4. a generator deletes RATE profiles per second for SECONDS
//     (DELETE /api/profiles/{ip} over an HTTP/1.1 keep-alive connection:
//     exactly one `deleted` event each), stamping t0 just before the write;
//     every stream records when it parses each `deleted` event.
//  In `poll` mode step 3 opens no stream; instead each connection sends
//  GET /api/profiles every INTERVAL seconds (spread evenly over the
//  interval, the old dashboard's way) and a deletion's staleness for a
//  client is the end of that client's first poll sent after the DELETE was
//  answered, minus t0.
// All of it runs in one thread on epoll; one clock stamps both ends.
//
// Output: "key=value" lines (see print_results) for realtime.sh.
#include <fcntl.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <thread>
#include <unordered_map>

#include "realtime_common.hpp"

namespace {

using namespace huginn::bench;

struct Args {
  std::string server = "127.0.0.1:8080";  // h2c, or TLS with --tls
  std::string plain = "127.0.0.1:8080";   // cleartext: setup, stats, DELETE
  bool tls = false;
  std::string mode = "sse";  // sse | poll | idle
  unsigned conns = 1000;
  unsigned subscribers = 0;  // 0: as many as conns
  int server_pid = 0;
  unsigned rate = 100;
  unsigned seconds = 10;
  unsigned block = 32;
  unsigned poll_interval_s = 5;
  std::string poll_path = "/api/profiles";
  // Handshakes in flight: the server gives a connection 10 s from accept
  // to TLS finished (ServerLimits::handshake_timeout).
  unsigned connect_parallel = 64;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "realtime_fanout: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

// One blocking HTTP/1.1 exchange on `fd` (keep-alive): returns the status
// and fills `body`; -1 when the connection failed.
int http1_exchange(int fd, const std::string& request, std::string& body) {
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) return -1;
  std::string in;
  char buf[16384];
  std::size_t head_end = std::string::npos;
  std::size_t length = 0;
  for (;;) {
    if (head_end == std::string::npos) {
      head_end = in.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::string head = in.substr(0, head_end);
        for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const auto cl = head.find("content-length:");
        length = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 15));
      }
    }
    if (head_end != std::string::npos && in.size() >= head_end + 4 + length) break;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return -1;
    in.append(buf, static_cast<std::size_t>(n));
  }
  body = in.substr(head_end + 4, length);
  return std::stoi(in.substr(9, 3));
}

int connect_blocking(const sockaddr_in& to, std::optional<std::uint32_t> from = std::nullopt) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  if (from) {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(*from);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&src), sizeof src) != 0) die("bind");
  }
  if (connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) die("connect");
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

std::uint64_t json_number(const std::string& body, const std::string& key) {
  const auto p = body.find("\"" + key + "\":");
  return p == std::string::npos ? 0 : std::stoull(body.substr(p + key.size() + 3));
}

// Abortive close (RST, RFC 9293 §3.10.7.1 ABORT): no TIME_WAIT on this
// side, so back-to-back scenarios do not run out of ephemeral ports.
void close_abort(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

// ---------------------------------------------------------------------------
// The HTTP/2 client side: nonblocking sockets on one epoll, nghttp2 in
// memory mode (mem_recv / mem_send) so TLS and cleartext share one path.

struct Stream {
  std::int32_t id = 0;
  std::unique_ptr<SseParser> sse;
  int status = 0;
  bool closed = false;
  std::int64_t sent_at = 0;
};

struct Conn {
  unsigned index = 0;
  int fd = -1;
  SSL* ssl = nullptr;
  nghttp2_session* h2 = nullptr;
  enum class State : std::uint8_t { kConnecting, kHandshake, kOpen, kDead } state = State::kConnecting;
  bool established = false;  // the server's SETTINGS arrived
  std::string out;  // bytes nghttp2 produced that the socket did not take yet
  std::unordered_map<std::int32_t, Stream> streams;
  // poll mode: (sent, completed) of each finished poll
  std::vector<std::pair<std::int64_t, std::int64_t>> polls;
};

struct Client;
Client* g_client = nullptr;

struct Client {
  Args args;
  int ep = -1;
  SSL_CTX* ctx = nullptr;
  sockaddr_in server{};
  std::vector<Conn> conns;
  std::uint64_t seq = 0;  // resume point of every SSE stream

  // Connections whose server SETTINGS arrived: the server has finished its
  // side of the handshake (a TLS 1.3 client is done one flight earlier).
  unsigned opened = 0;
  unsigned dead = 0;       // connections that failed or closed
  unsigned dead_after_open = 0;
  std::map<std::string, unsigned> dead_by;  // ... by the step that failed
  unsigned streams_ok = 0; // streams whose response status was 200
  unsigned streams_closed = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t polls_done = 0;

  // Deletions: t0 per event, written by the generator thread.
  std::unordered_map<std::uint32_t, std::uint32_t> event_index;
  std::unique_ptr<std::atomic<std::int64_t>[]> t0;
  std::unique_ptr<std::atomic<std::int64_t>[]> t_answered;
  std::vector<std::int32_t> delays_us;  // SSE: one per (stream, event) delivered
  std::uint64_t duplicates = 0;
  std::vector<std::vector<bool>> seen;  // [subscriber][event]
  std::unordered_map<std::uint64_t, unsigned> stream_slot;  // (conn<<32|stream) -> subscriber

  void on_sse(unsigned subscriber, std::string_view event, std::string_view data) {
    if (event != "deleted") return;
    const std::int64_t now = now_ns();
    const auto ip = parse_ipv4(json_ip(data));
    const auto it = ip ? event_index.find(*ip) : event_index.end();
    if (it == event_index.end()) return;
    auto s = seen[subscriber][it->second];
    if (s) {
      ++duplicates;
      return;
    }
    seen[subscriber][it->second] = true;
    const std::int64_t sent = t0[it->second].load(std::memory_order_acquire);
    delays_us.push_back(static_cast<std::int32_t>((now - sent) / 1000));
  }
};

ssize_t h2_send_noop(nghttp2_session*, const std::uint8_t*, std::size_t, int, void*) {
  return NGHTTP2_ERR_CALLBACK_FAILURE;  // unused: the session runs in memory mode
}

int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
              std::size_t namelen, const std::uint8_t* value, std::size_t valuelen, std::uint8_t,
              void* user) {
  auto* c = static_cast<Conn*>(user);
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  auto it = c->streams.find(frame->hd.stream_id);
  if (it == c->streams.end()) return 0;
  if (std::string_view(reinterpret_cast<const char*>(name), namelen) == ":status") {
    it->second.status = std::stoi(std::string(reinterpret_cast<const char*>(value), valuelen));
    if (it->second.status == 200 && it->second.sse) ++g_client->streams_ok;
  }
  return 0;
}

int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* c = static_cast<Conn*>(user);
  if (frame->hd.type == NGHTTP2_SETTINGS && (frame->hd.flags & NGHTTP2_FLAG_ACK) == 0 &&
      !c->established) {
    c->established = true;
    ++g_client->opened;
  }
  return 0;
}

int on_data(nghttp2_session*, std::uint8_t, std::int32_t stream_id, const std::uint8_t* data,
            std::size_t len, void* user) {
  auto* c = static_cast<Conn*>(user);
  g_client->bytes_in += len;
  auto it = c->streams.find(stream_id);
  if (it != c->streams.end() && it->second.sse) {
    it->second.sse->feed(std::string_view(reinterpret_cast<const char*>(data), len));
  }
  return 0;
}

int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t, void* user) {
  auto* c = static_cast<Conn*>(user);
  auto it = c->streams.find(stream_id);
  if (it == c->streams.end()) return 0;
  if (it->second.sse) {
    ++g_client->streams_closed;
  } else {
    c->polls.emplace_back(it->second.sent_at, now_ns());
    ++g_client->polls_done;
  }
  c->streams.erase(it);
  return 0;
}

nghttp2_session_callbacks* callbacks() {
  static nghttp2_session_callbacks* cbs = [] {
    nghttp2_session_callbacks* p = nullptr;
    nghttp2_session_callbacks_new(&p);
    nghttp2_session_callbacks_set_send_callback(p, h2_send_noop);
    nghttp2_session_callbacks_set_on_header_callback(p, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(p, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(p, on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(p, on_stream_close);
    return p;
  }();
  return cbs;
}

void kill_conn(Client& cl, Conn& c, const char* why) {
  if (c.state == Conn::State::kDead) return;
  ++cl.dead_by[why];
  if (c.established) ++cl.dead_after_open;
  c.state = Conn::State::kDead;
  ++cl.dead;
  epoll_ctl(cl.ep, EPOLL_CTL_DEL, c.fd, nullptr);
  close_abort(c.fd);
}

// Writes what nghttp2 and earlier calls left; false when the peer is gone.
bool flush(Client& cl, Conn& c) {
  for (;;) {
    if (c.out.empty()) {
      const std::uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(c.h2, &data);
      if (n < 0) return false;
      if (n == 0) return true;
      c.out.assign(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    ssize_t w = 0;
    if (c.ssl != nullptr) {
      w = SSL_write(c.ssl, c.out.data(), static_cast<int>(c.out.size()));
      if (w <= 0) {
        const int e = SSL_get_error(c.ssl, static_cast<int>(w));
        return e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ;
      }
    } else {
      w = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (w < 0) return errno == EAGAIN;
    }
    c.out.erase(0, static_cast<std::size_t>(w));
    (void)cl;
  }
}

void submit_get(Client& cl, Conn& c, const std::string& path, unsigned subscriber, bool sse) {
  const std::string authority = cl.args.server;
  const std::string scheme = cl.args.tls ? "https" : "http";
  auto nv = [](const std::string& n, const std::string& v) {
    return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(n.data())),
                      reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())), n.size(),
                      v.size(), NGHTTP2_NV_FLAG_NONE};
  };
  const std::string m = ":method", get = "GET", s = ":scheme", a = ":authority", p = ":path";
  const std::string acc = "accept", accv = sse ? "text/event-stream" : "application/json";
  const nghttp2_nv hdrs[] = {nv(m, get), nv(s, scheme), nv(a, authority), nv(p, path), nv(acc, accv)};
  const std::int32_t id = nghttp2_submit_request(c.h2, nullptr, hdrs, 5, nullptr, nullptr);
  if (id < 0) return;
  Stream st;
  st.id = id;
  st.sent_at = now_ns();
  if (sse) {
    st.sse = std::make_unique<SseParser>([&cl, subscriber](std::string_view e, std::string_view d) {
      cl.on_sse(subscriber, e, d);
    });
  }
  c.streams.emplace(id, std::move(st));
}

void open_session(Client& cl, Conn& c) {
  nghttp2_session_client_new(&c.h2, callbacks(), &c);
  nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                 {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
  nghttp2_submit_settings(c.h2, NGHTTP2_FLAG_NONE, iv, 2);
  c.state = Conn::State::kOpen;
  // A first request at once: the server closes a connection that sends
  // none within ServerLimits::request_timeout (10 s), longer than 10,000
  // TLS handshakes can take here. It also makes the server profile this
  // visitor (saved SYN, then the HTTP/2 prefix) now: a change of this
  // client's own address that every event stream opened later would
  // otherwise receive.
  submit_get(cl, c, "/api/health", 0, false);
}

// Drives one connection after epoll reported it.
void service(Client& cl, Conn& c) {
  if (c.state == Conn::State::kConnecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == EINPROGRESS) return;
    if (err != 0) return kill_conn(cl, c, "connect");
    if (c.ssl == nullptr) {
      open_session(cl, c);
    } else {
      c.state = Conn::State::kHandshake;
    }
  }
  if (c.state == Conn::State::kHandshake) {
    const int r = SSL_connect(c.ssl);
    if (r != 1) {
      const int e = SSL_get_error(c.ssl, r);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return kill_conn(cl, c, "tls_handshake");
      return;
    }
    const unsigned char* alpn = nullptr;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(c.ssl, &alpn, &alpn_len);
    if (std::string_view(reinterpret_cast<const char*>(alpn), alpn_len) != "h2") {
      return kill_conn(cl, c, "alpn");
    }
    open_session(cl, c);
  }
  if (c.state != Conn::State::kOpen) return;
  char buf[65536];
  for (;;) {
    ssize_t n = 0;
    if (c.ssl != nullptr) {
      n = SSL_read(c.ssl, buf, sizeof buf);
      if (n <= 0) {
        const int e = SSL_get_error(c.ssl, static_cast<int>(n));
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
        return kill_conn(cl, c, e == SSL_ERROR_ZERO_RETURN ? "closed_by_server" : "tls_read");
      }
    } else {
      n = recv(c.fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EAGAIN) break;
      if (n <= 0) return kill_conn(cl, c, n == 0 ? "closed_by_server" : "read");
    }
    if (nghttp2_session_mem_recv(c.h2, reinterpret_cast<std::uint8_t*>(buf),
                                 static_cast<std::size_t>(n)) < 0) {
      return kill_conn(cl, c, "http2");
    }
  }
  if (!flush(cl, c)) kill_conn(cl, c, "write");
}

void start_conn(Client& cl, Conn& c) {
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c.fd < 0) die("socket (raise RLIMIT_NOFILE?)");
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const int r = connect(c.fd, reinterpret_cast<sockaddr*>(&cl.server), sizeof cl.server);
  if (r != 0 && errno != EINPROGRESS) die("connect");
  if (cl.args.tls) {
    c.ssl = SSL_new(cl.ctx);
    SSL_set_fd(c.ssl, c.fd);
    SSL_set_connect_state(c.ssl);
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
  ev.data.u32 = c.index;
  epoll_ctl(cl.ep, EPOLL_CTL_ADD, c.fd, &ev);
}

void pump(Client& cl, int timeout_ms) {
  epoll_event evs[512];
  const int n = epoll_wait(cl.ep, evs, 512, timeout_ms);
  for (int i = 0; i < n; ++i) {
    Conn& c = cl.conns[evs[i].data.u32];
    if (c.state != Conn::State::kDead) service(cl, c);
  }
}

void pump_until(Client& cl, std::int64_t deadline, const std::function<bool()>& done) {
  while (!done() && now_ns() < deadline) pump(cl, 5);
}

// This process's user + system CPU seconds: the client is the load
// generator, and on a small machine it can be the bottleneck.
double own_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Results {
  long rss0 = 0;
  long rss1 = 0;
  long cpu_ticks = 0;
  double client_cpu_s = 0;
  double window_s = 0;
  std::uint64_t bytes = 0;
  std::uint64_t polls = 0;
  std::uint32_t events = 0;
  std::uint32_t generator_errors = 0;
};

void print_results(const Client& cl, const Results& r, std::vector<std::int32_t> delays,
                   std::uint64_t expected) {
  std::sort(delays.begin(), delays.end());
  std::vector<std::int64_t> d(delays.begin(), delays.end());
  const unsigned n = cl.args.conns;
  std::printf("mode=%s tls=%d conns=%u subscribers=%u opened=%u dead=%u streams_ok=%u\n",
              cl.args.mode.c_str(), cl.args.tls ? 1 : 0, n, cl.args.subscribers, cl.opened,
              cl.dead, cl.streams_ok);
  for (const auto& [why, count] : cl.dead_by) std::printf("dead_%s=%u\n", why.c_str(), count);
  std::printf("rss0_kib=%ld rss1_kib=%ld rss_per_conn_bytes=%.0f\n", r.rss0, r.rss1,
              n == 0 ? 0.0 : static_cast<double>(r.rss1 - r.rss0) * 1024.0 / n);
  if (cl.args.mode == "idle") return;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::printf(
      "events=%u generator_errors=%u expected=%llu delivered=%zu missed=%lld duplicates=%llu "
      "streams_closed=%u\n",
      r.events, r.generator_errors, static_cast<unsigned long long>(expected), d.size(),
      static_cast<long long>(expected) - static_cast<long long>(d.size()),
      static_cast<unsigned long long>(cl.duplicates), cl.streams_closed);
  std::printf("p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", static_cast<double>(percentile(d, 50)) / 1e3,
              static_cast<double>(percentile(d, 99)) / 1e3,
              static_cast<double>(percentile(d, 100)) / 1e3);
  std::printf(
      "window_s=%.2f server_cpu_pct=%.1f client_cpu_pct=%.1f bytes_per_s=%.0f requests_per_s=%.1f\n",
              r.window_s, static_cast<double>(r.cpu_ticks) / ticks / r.window_s * 100.0,
              r.client_cpu_s / r.window_s * 100.0,
              static_cast<double>(r.bytes) / r.window_s, static_cast<double>(r.polls) / r.window_s);
}

int usage() {
  std::fprintf(stderr,
               "usage: realtime_fanout --server-pid PID [--server H:P] [--plain H:P] [--tls 0|1]\n"
               "       [--mode sse|poll|idle] [--conns N] [--subscribers N] [--rate N]\n"
               "       [--seconds S] [--block B] [--poll-interval S] [--poll-path P]\n"
               "       [--connect-parallel N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Client cl;
  g_client = &cl;
  Args& a = cl.args;
  const bool ok = parse_flags(argc, argv, [&a](const std::string& k, const std::string& v) {
    if (k == "--server") a.server = v;
    else if (k == "--plain") a.plain = v;
    else if (k == "--tls") a.tls = v == "1";
    else if (k == "--mode") a.mode = v;
    else if (k == "--conns") a.conns = static_cast<unsigned>(std::stoul(v));
    else if (k == "--subscribers") a.subscribers = static_cast<unsigned>(std::stoul(v));
    else if (k == "--server-pid") a.server_pid = std::stoi(v);
    else if (k == "--rate") a.rate = static_cast<unsigned>(std::stoul(v));
    else if (k == "--seconds") a.seconds = static_cast<unsigned>(std::stoul(v));
    else if (k == "--block") a.block = static_cast<unsigned>(std::stoul(v));
    else if (k == "--poll-interval") a.poll_interval_s = static_cast<unsigned>(std::stoul(v));
    else if (k == "--poll-path") a.poll_path = v;
    else if (k == "--connect-parallel") a.connect_parallel = static_cast<unsigned>(std::stoul(v));
    else return false;
    return true;
  });
  if (!ok) return usage();
  if (a.server_pid <= 0 || a.conns == 0 || a.rate == 0 || a.block == 0 || a.block > 255 ||
      (a.mode != "sse" && a.mode != "poll" && a.mode != "idle")) {
    return usage();
  }
  if (a.subscribers == 0) a.subscribers = a.conns;
  if (a.mode != "sse") a.subscribers = 0;
  const std::uint32_t events = a.mode == "idle" ? 0 : a.rate * a.seconds;

  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  const sockaddr_in plain = endpoint(a.plain);
  cl.server = endpoint(a.server);

  // 1. One profile per generator address: the server's visitor analyzer
  // makes it from the connection's saved SYN (docs/realtime.md).
  for (std::uint32_t i = 0; i < events; ++i) {
    const std::uint32_t ip = source_address(a.block, i);
    cl.event_index.emplace(ip, i);
    // An orderly close: a RST that beats accept() loses the saved SYN.
    close(connect_blocking(plain, ip));
  }
  const int ctl = connect_blocking(plain);
  // A server too busy to answer a DELETE within 10 s fails the run rather
  // than hanging it.
  timeval rcv{10, 0};
  setsockopt(ctl, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof rcv);
  const std::string host = "Host: " + a.plain + "\r\n\r\n";
  std::string body;
  const std::string last_ip = ipv4_text(source_address(a.block, events == 0 ? 0 : events - 1));
  for (int tries = 0; events > 0; ++tries) {
    if (http1_exchange(ctl, "GET /api/profiles/" + last_ip + " HTTP/1.1\r\n" + host, body) == 200)
      break;
    if (tries == 500) {
      std::fprintf(stderr, "realtime_fanout: profile %s never appeared\n", last_ip.c_str());
      return 1;
    }
    sleep_until_ns(now_ns() + 10'000'000);
  }
  // Let the coalescing interval and the last events pass before measuring.
  sleep_until_ns(now_ns() + 1'000'000'000);
  if (http1_exchange(ctl, "GET /api/stats HTTP/1.1\r\n" + host, body) != 200) die("/api/stats");
  cl.seq = json_number(body, "seq");

  // 2. The server's RSS without subscribers.
  Results r;
  r.rss0 = vm_rss_kib(a.server_pid);

  // 3. The connections and their streams.
  cl.ep = epoll_create1(0);
  if (a.tls) {
    cl.ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(cl.ctx, SSL_VERIFY_NONE, nullptr);
    static const unsigned char alpn[] = {2, 'h', '2'};
    SSL_CTX_set_alpn_protos(cl.ctx, alpn, sizeof alpn);
    SSL_CTX_set_mode(cl.ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }
  cl.conns.resize(a.conns);
  cl.seen.assign(a.subscribers, std::vector<bool>(events, false));
  cl.t0.reset(new std::atomic<std::int64_t>[events + 1]);
  cl.t_answered.reset(new std::atomic<std::int64_t>[events + 1]);
  for (std::uint32_t e = 0; e < events; ++e) {
    cl.t0[e].store(0);
    cl.t_answered[e].store(0);
  }
  const std::int64_t connect_deadline = now_ns() + 40'000'000'000;
  const std::int64_t t_connect = now_ns();
  unsigned started = 0;
  // Connections neither established nor failed yet.
  auto in_flight = [&] { return started - cl.opened - (cl.dead - cl.dead_after_open); };
  while ((started < a.conns || in_flight() > 0) && now_ns() < connect_deadline) {
    while (started < a.conns && in_flight() < a.connect_parallel) {
      cl.conns[started].index = started;
      start_conn(cl, cl.conns[started]);
      ++started;
    }
    pump(cl, 5);
  }
  std::fprintf(stderr, "realtime_fanout: %u connections open in %.1f s (%u failed)\n", cl.opened,
               static_cast<double>(now_ns() - t_connect) / 1e9, cl.dead);
  // Every connection sent GET /api/health with its preface (open_session);
  // after the answers, a pause longer than the hub's coalescing interval.
  pump_until(cl, now_ns() + 20'000'000'000, [&] { return cl.polls_done >= cl.opened - cl.dead_after_open; });
  pump_until(cl, now_ns() + 1'500'000'000, [] { return false; });
  for (Conn& c : cl.conns) c.polls.clear();
  if (a.mode == "sse") {
    const std::string path = "/events?last_event_id=" + std::to_string(cl.seq);
    for (unsigned s = 0; s < a.subscribers; ++s) {
      Conn& c = cl.conns[s % a.conns];
      if (c.state != Conn::State::kOpen) continue;
      submit_get(cl, c, path, s, true);
      if (!flush(cl, c)) kill_conn(cl, c, "write");
    }
    pump_until(cl, now_ns() + 30'000'000'000, [&] { return cl.streams_ok >= a.subscribers; });
    std::fprintf(stderr, "realtime_fanout: %u streams answered 200\n", cl.streams_ok);
  }
  // Idle: the server has sent every response head; let it settle.
  pump_until(cl, now_ns() + 2'000'000'000, [] { return false; });
  r.rss1 = vm_rss_kib(a.server_pid);

  if (a.mode != "idle") {
    // 4. The generator, on its own thread and connection.
    std::atomic<std::uint32_t> gen_errors{0};
    std::atomic<bool> gen_done{false};
    std::atomic<bool> gen_stop{false};
    const std::int64_t start = now_ns() + 100'000'000;
    // Bounded whatever the server does: events, then 20 s at most.
    const std::int64_t hard_end = start + std::int64_t{a.seconds} * 1'000'000'000 + 20'000'000'000;
    const std::int64_t period = 1'000'000'000 / a.rate;
    std::thread gen([&] {
      std::string b;
      for (std::uint32_t e = 0; e < events && !gen_stop.load(); ++e) {
        sleep_until_ns(start + period * e);
        const std::string ip = ipv4_text(source_address(a.block, e));
        cl.t0[e].store(now_ns(), std::memory_order_release);
        const int st = http1_exchange(ctl, "DELETE /api/profiles/" + ip + " HTTP/1.1\r\n" + host, b);
        cl.t_answered[e].store(now_ns(), std::memory_order_release);
        if (st != 200 && st != 204) gen_errors.fetch_add(1);
        if (st < 0) break;  // the control connection failed or timed out
      }
      gen_done.store(true);
    });
    const long cpu0 = cpu_ticks(a.server_pid);
    const double client0 = own_cpu_s();
    const std::uint64_t bytes0 = cl.bytes_in;
    const std::uint64_t polls0 = cl.polls_done;
    const std::int64_t w0 = now_ns();
    const std::int64_t poll_period = std::int64_t{a.poll_interval_s} * 1'000'000'000;
    std::uint64_t slot = 0;
    // Polls continue one interval past the last event, so every client
    // polls at least once after every deletion.
    std::int64_t poll_end = 0;
    std::int64_t delivery_deadline = 0;
    // Every stream resumed at the same seq, so one answered late still gets
    // every deletion (from the journal): count the streams at the end.
    auto expected_now = [&] { return std::uint64_t{events} * cl.streams_ok; };
    std::int64_t next_report = start + 5'000'000'000;
    for (;;) {
      const std::int64_t now = now_ns();
      if (now > next_report) {
        next_report += 5'000'000'000;
        std::fprintf(stderr, "realtime_fanout: %.0f s: %zu of %llu deliveries, %llu polls\n",
                     static_cast<double>(now - start) / 1e9, cl.delays_us.size(),
                     static_cast<unsigned long long>(expected_now()),
                     static_cast<unsigned long long>(cl.polls_done));
      }
      if (now > hard_end) {
        std::fprintf(stderr, "realtime_fanout: stopped at the time limit\n");
        gen_stop.store(true);
        break;
      }
      if (a.mode == "poll") {
        while (start + static_cast<std::int64_t>(slot) * poll_period / a.conns <= now) {
          Conn& c = cl.conns[slot % a.conns];
          if (c.state == Conn::State::kOpen) {
            submit_get(cl, c, a.poll_path, 0, false);
            if (!flush(cl, c)) kill_conn(cl, c, "write");
          }
          ++slot;
        }
      }
      if (gen_done.load() && poll_end == 0) {
        poll_end = now + poll_period + 1'000'000'000;
        delivery_deadline = now + 5'000'000'000;
      }
      if (a.mode == "sse" && poll_end != 0 &&
          (cl.delays_us.size() >= expected_now() || now > delivery_deadline)) {
        break;
      }
      if (a.mode == "poll" && poll_end != 0 && now > poll_end) break;
      pump(cl, 1);
    }
    gen.join();
    r.window_s = static_cast<double>(now_ns() - w0) / 1e9;
    r.cpu_ticks = cpu_ticks(a.server_pid) - cpu0;
    r.client_cpu_s = own_cpu_s() - client0;
    r.bytes = cl.bytes_in - bytes0;
    r.polls = cl.polls_done - polls0;
    r.events = events;
    r.generator_errors = gen_errors.load();

    if (a.mode == "poll") {
      // Staleness of each deletion at each client: the end of the client's
      // first poll sent after the DELETE was answered, minus t0.
      std::vector<std::int32_t> stale;
      std::uint64_t never = 0;
      for (const Conn& c : cl.conns) {
        for (std::uint32_t e = 0; e < events; ++e) {
          const std::int64_t answered = cl.t_answered[e].load();
          const auto it = std::lower_bound(
              c.polls.begin(), c.polls.end(), answered,
              [](const std::pair<std::int64_t, std::int64_t>& p, std::int64_t t) { return p.first < t; });
          if (it == c.polls.end()) {
            ++never;
            continue;
          }
          stale.push_back(static_cast<std::int32_t>((it->second - cl.t0[e].load()) / 1000));
        }
      }
      print_results(cl, r, std::move(stale), std::uint64_t{events} * a.conns);
      std::printf("polls_without_answer_after_event=%llu\n", static_cast<unsigned long long>(never));
    } else {
      print_results(cl, r, cl.delays_us, expected_now());
    }
  } else {
    print_results(cl, r, {}, 0);
  }
  std::fflush(stdout);
  for (Conn& c : cl.conns) {
    if (c.state != Conn::State::kDead && c.fd >= 0) close_abort(c.fd);
    if (c.h2 != nullptr) nghttp2_session_del(c.h2);
    if (c.ssl != nullptr) SSL_free(c.ssl);
  }
  if (cl.ctx != nullptr) SSL_CTX_free(cl.ctx);
  nghttp2_session_callbacks_del(callbacks());
  close(ctl);
  return 0;
}
