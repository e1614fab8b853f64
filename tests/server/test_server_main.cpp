// huginn-test-server: the Server with a small Handler, for the shell tests
// that drive it with curl, nghttp, h2load and openssl (server_test.sh).
//
//   /hello   text          /echo   the request as JSON
//   /stream  SSE-like chunks every 50 ms (?n=COUNT, 0 = until closed)
//   /slow    answered after 200 ms from another thread
//   /        pushes /pushed when the peer allows push
//   /status?c=NNN  that status with a body (dropped for 204/304)
//   /ws      WebSocket (HTTP/1.1 upgrade or RFC 8441 over HTTP/2): echoes
//            every text message; "push N" sends "tick I" every 100 ms,
//            N times; "close CODE" closes with that code; "feed" joins a
//            feed of 32 KiB messages every 10 ms, and a subscriber whose
//            send_text() is refused is dropped (close 1008) and counted
//   /ws-stats  {"accepted":A,"closed":C,"dropped":D} of /ws
//
// Prints "ports http=P https=Q [http6=P6 https6=Q6]" once listening; stops
// gracefully on SIGTERM/SIGINT and prints "stopped in N ms" on stderr.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <atomic>
#include <list>
#include <mutex>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "huginn/server/server.hpp"

namespace hs = huginn::server;
using namespace std::chrono_literals;

namespace {

std::string json_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string hex(std::span<const std::uint8_t> b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(b.size() * 2);
  for (const auto x : b) {
    out += kHex[x >> 4];
    out += kHex[x & 0xF];
  }
  return out;
}

// One line per record: "<kind> <conn> <client> <server> [tls] <hex>".
class LoggingObserver final : public hs::VisitorObserver {
 public:
  explicit LoggingObserver(const std::string& path) : out_(path, std::ios::app) {}
  void on_saved_syn(const hs::VisitorKey& k, std::span<const std::uint8_t> p) override {
    line("syn", k, hex(p));
  }
  void on_client_hello(const hs::VisitorKey& k, std::span<const std::uint8_t> p) override {
    line("hello", k, hex(p));
  }
  void on_client_prefix(const hs::VisitorKey& k, bool tls, std::span<const std::uint8_t> p) override {
    line(tls ? "prefix-tls" : "prefix", k, hex(p));
  }
  void on_closed(const hs::VisitorKey& k) override { line("closed", k, "-"); }

 private:
  void line(const char* kind, const hs::VisitorKey& k, const std::string& payload) {
    std::lock_guard l(mu_);
    out_ << kind << ' ' << k.conn_id << ' ' << hs::to_string(k.client) << ' '
         << hs::to_string(k.server) << ' ' << payload << '\n';
    out_.flush();
  }
  std::mutex mu_;
  std::ofstream out_;
};

// Streams and delayed answers, served from one thread (the Handler must not
// block an I/O thread).
class Ticker {
 public:
  Ticker() : thread_([this] { run(); }) {}
  ~Ticker() {
    {
      std::lock_guard l(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

  void add_stream(std::shared_ptr<hs::ResponseWriter> w, int count) {
    std::lock_guard l(mu_);
    streams_.push_back({std::move(w), count, 0, std::chrono::steady_clock::now()});
  }
  void add_ws_push(std::shared_ptr<hs::WebSocket> ws, int count) {
    std::lock_guard l(mu_);
    ws_pushes_.push_back({std::move(ws), count, 0, std::chrono::steady_clock::now() + 100ms});
  }
  void add_feed(std::shared_ptr<hs::WebSocket> ws) {
    std::lock_guard l(mu_);
    feed_.push_back(std::move(ws));
  }
  void add_delayed(std::shared_ptr<hs::ResponseWriter> w, hs::Response r) {
    std::lock_guard l(mu_);
    delayed_.push_back({std::move(w), std::move(r), std::chrono::steady_clock::now() + 200ms});
  }

 private:
  struct Stream {
    std::shared_ptr<hs::ResponseWriter> w;
    int count;
    int sent;
    std::chrono::steady_clock::time_point next;
  };
  struct WsPush {
    std::shared_ptr<hs::WebSocket> ws;
    int count;
    int sent;
    std::chrono::steady_clock::time_point next;
  };
  struct Delayed {
    std::shared_ptr<hs::ResponseWriter> w;
    hs::Response r;
    std::chrono::steady_clock::time_point due;
  };

  void run() {
    std::unique_lock l(mu_);
    while (!done_) {
      cv_.wait_for(l, 10ms);
      const auto now = std::chrono::steady_clock::now();
      for (auto it = delayed_.begin(); it != delayed_.end();) {
        if (it->due <= now) {
          it->w->send(std::move(it->r));
          it = delayed_.erase(it);
        } else {
          ++it;
        }
      }
      for (auto it = streams_.begin(); it != streams_.end();) {
        if (it->next > now) {
          ++it;
          continue;
        }
        it->next = now + 50ms;
        const bool ok = it->w->write("data: tick " + std::to_string(it->sent) + "\n\n");
        ++it->sent;
        if (!ok || (it->count > 0 && it->sent >= it->count)) {
          it->w->finish();
          it = streams_.erase(it);
        } else {
          ++it;
        }
      }
      for (auto it = ws_pushes_.begin(); it != ws_pushes_.end();) {
        if (it->next > now) {
          ++it;
          continue;
        }
        it->next = now + 100ms;
        const bool ok = it->ws->send_text("tick " + std::to_string(it->sent));
        ++it->sent;
        if (!ok || it->sent >= it->count) it = ws_pushes_.erase(it);
        else ++it;
      }
      if (!feed_.empty() && now >= next_feed_) {
        next_feed_ = now + 10ms;
        std::string msg = "feed " + std::to_string(feed_seq_++) + " ";
        msg.resize(32 * 1024, 'x');
        for (auto it = feed_.begin(); it != feed_.end();) {
          if (!(*it)->is_open()) {
            it = feed_.erase(it);
          } else if (!(*it)->send_text(msg)) {
            // The caller's side of backpressure: a subscriber that does
            // not keep up is cut off, the others go on.
            ++g_ws_dropped;
            (*it)->close(hs::WebSocket::kPolicyViolation, "too slow");
            it = feed_.erase(it);
          } else {
            ++it;
          }
        }
      }
    }
  }

 public:
  static inline std::atomic<int> g_ws_dropped{0};

 private:

  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::list<Stream> streams_;
  std::list<Delayed> delayed_;
  std::list<WsPush> ws_pushes_;
  std::list<std::shared_ptr<hs::WebSocket>> feed_;
  std::uint64_t feed_seq_ = 0;
  std::chrono::steady_clock::time_point next_feed_{};
  std::thread thread_;
};

hs::Response text(int status, std::string body) {
  hs::Response r;
  r.status = status;
  r.headers = {{"content-type", "text/plain; charset=utf-8"}};
  r.body = std::move(body);
  return r;
}

std::atomic<int> g_ws_accepted{0};
std::atomic<int> g_ws_closed{0};

void handle_ws(Ticker& ticker, const hs::Request& req, const std::shared_ptr<hs::ResponseWriter>& w) {
  if (!w->is_websocket_request()) {
    // RFC 6455 §4.4: a version we do not speak gets 426 naming ours.
    hs::Response r = text(426, "websocket only\n");
    r.headers.emplace_back("sec-websocket-version", "13");
    w->send(std::move(r));
    return;
  }
  hs::Headers extra;
  // RFC 6455 §4.2.2: pick one of the offered subprotocols.
  if (auto proto = req.header("sec-websocket-protocol"); proto && proto->find("huginn") != std::string_view::npos)
    extra.emplace_back("sec-websocket-protocol", "huginn");
  auto ws = w->accept_websocket(std::move(extra));
  if (!ws) return;
  ++g_ws_accepted;
  // The callbacks hold the WebSocket; the transport releases them after
  // on_close, which breaks the cycle.
  ws->on_message([&ticker, ws](std::string_view m) {
    if (m.starts_with("push ")) {
      ticker.add_ws_push(ws, std::atoi(std::string(m.substr(5)).c_str()));
    } else if (m.starts_with("close ")) {
      ws->close(static_cast<std::uint16_t>(std::atoi(std::string(m.substr(6)).c_str())), "asked to");
    } else if (m == "feed") {
      ticker.add_feed(ws);
    } else {
      ws->send_text(std::string(m));
    }
  });
  ws->on_close([] { ++g_ws_closed; });
}

void handle(Ticker& ticker, hs::Request req, const std::shared_ptr<hs::ResponseWriter>& w) {
  if (req.path == "/ws") {
    handle_ws(ticker, req, w);
  } else if (req.path == "/ws-stats") {
    w->send(text(200, "{\"accepted\":" + std::to_string(g_ws_accepted.load()) + ",\"closed\":" +
                          std::to_string(g_ws_closed.load()) + ",\"dropped\":" +
                          std::to_string(Ticker::g_ws_dropped.load()) + "}\n"));
  } else if (req.path == "/hello") {
    w->send(text(200, "hello\n"));
  } else if (req.path == "/echo") {
    std::string j = "{\"method\":\"" + json_escape(req.method) + "\",\"target\":\"" +
                    json_escape(req.target) + "\",\"path\":\"" + json_escape(req.path) +
                    "\",\"query\":\"" + json_escape(req.query) + "\",\"authority\":\"" +
                    json_escape(req.authority) + "\",\"version\":\"" +
                    (req.conn.version == hs::HttpVersion::kHttp2 ? "h2" : "http/1.1") +
                    "\",\"tls\":" + (req.conn.tls ? "true" : "false") + ",\"alpn\":\"" +
                    json_escape(req.conn.alpn) + "\",\"peer\":\"" +
                    json_escape(hs::to_string(req.conn.peer)) + "\",\"body_bytes\":" +
                    std::to_string(req.body.size()) + ",\"headers\":[";
    bool first = true;
    for (const auto& [n, v] : req.headers) {
      if (!first) j += ',';
      first = false;
      j += "[\"" + json_escape(n) + "\",\"" + json_escape(v) + "\"]";
    }
    j += "]}\n";
    hs::Response r;
    r.headers = {{"content-type", "application/json"}};
    r.body = std::move(j);
    w->send(std::move(r));
  } else if (req.path == "/stream") {
    int n = 20;
    if (req.query.starts_with("n=")) n = std::atoi(req.query.c_str() + 2);
    w->start_stream(200, {{"content-type", "text/event-stream"}, {"cache-control", "no-store"}});
    ticker.add_stream(w, n);
  } else if (req.path == "/big" && req.query.starts_with("n=")) {
    // n bytes of a repeating 0-9a-z pattern (at most 16 MiB): responses
    // larger than the socket buffers, for the transports' write paths.
    const std::size_t n = std::min<std::size_t>(std::strtoull(req.query.c_str() + 2, nullptr, 10),
                                                std::size_t{16} << 20);
    std::string body(n, '\0');
    for (std::size_t i = 0; i < n; ++i) body[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[i % 36];
    w->send(text(200, std::move(body)));
  } else if (req.path == "/slow") {
    ticker.add_delayed(w, text(200, "slow\n"));
  } else if (req.path == "/") {
    if (w->push_enabled()) w->push("/pushed", text(200, "pushed\n"));
    w->send(text(200, "index\n"));
  } else if (req.path == "/status" && req.query.starts_with("c=")) {
    w->send(text(std::atoi(req.query.c_str() + 2), "must not be sent for 204/304\n"));
  } else if (req.path == "/pushed") {
    w->send(text(200, "pushed\n"));
  } else {
    w->send(text(404, "not found\n"));
  }
}

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "huginn-test-server: " << why
            << "\nusage: huginn-test-server [--listen A]... [--tls-listen A]... --state-dir D"
               " [--cert F --key F] [--visitor-log F] [--request-timeout-ms N]"
               " [--idle-timeout-ms N] [--max-streams N] [--threads N] [--ws-ping-ms N]"
               " [--max-queue-bytes N]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  hs::ServerConfig cfg;
  cfg.io_threads = 2;
  std::string visitor_log;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    auto endpoint = [&]() {
      std::string err;
      auto ep = hs::parse_listen_address(next(), &err);
      if (!ep) usage(err);
      return *ep;
    };
    if (a == "--listen") cfg.listen.push_back(endpoint());
    else if (a == "--tls-listen") cfg.tls_listen.push_back(endpoint());
    else if (a == "--state-dir") cfg.state_dir = next();
    else if (a == "--cert") cfg.cert_file = next();
    else if (a == "--key") cfg.key_file = next();
    else if (a == "--visitor-log") visitor_log = next();
    else if (a == "--request-timeout-ms") cfg.limits.request_timeout = std::chrono::milliseconds(std::atoi(next().c_str()));
    else if (a == "--idle-timeout-ms") cfg.limits.idle_timeout = std::chrono::milliseconds(std::atoi(next().c_str()));
    else if (a == "--max-streams") cfg.limits.max_concurrent_streams = static_cast<std::uint32_t>(std::atoi(next().c_str()));
    else if (a == "--ws-ping-ms") cfg.limits.ws_ping_interval = std::chrono::milliseconds(std::atoi(next().c_str()));
    else if (a == "--max-queue-bytes") cfg.limits.max_stream_queue_bytes = static_cast<std::size_t>(std::atol(next().c_str()));
    else if (a == "--threads") cfg.io_threads = static_cast<unsigned>(std::atoi(next().c_str()));
    else usage("unknown argument " + a);
  }
  if (cfg.listen.empty() && cfg.tls_listen.empty()) usage("nothing to listen on");

  // Signals are taken by sigwait below; every thread inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::unique_ptr<LoggingObserver> observer;
  if (!visitor_log.empty()) observer = std::make_unique<LoggingObserver>(visitor_log);
  Ticker ticker;
  hs::Server server(cfg, [&ticker](hs::Request r, std::shared_ptr<hs::ResponseWriter> w) {
    handle(ticker, std::move(r), w);
  }, observer.get());
  try {
    server.start();
  } catch (const std::exception& e) {
    std::cerr << "huginn-test-server: " << e.what() << '\n';
    return 1;
  }
  std::string line = "ports";
  auto add = [&line](const char* name, const std::vector<hs::SocketEndpoint>& eps) {
    for (const auto& ep : eps) {
      line += ' ';
      line += name;
      if (ep.addr.version == huginn::packet::IpVersion::v6) line += '6';
      line += '=' + std::to_string(ep.port);
    }
  };
  add("http", server.cleartext_endpoints());
  add("https", server.tls_endpoints());
  std::cout << line << std::endl;
  if (!server.certificate_fingerprint().empty())
    std::cout << "fingerprint " << server.certificate_fingerprint() << std::endl;

  int sig = 0;
  sigwait(&set, &sig);
  const auto t0 = std::chrono::steady_clock::now();
  server.stop(2s);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::cerr << "stopped in " << ms.count() << " ms" << std::endl;
  return 0;
}
