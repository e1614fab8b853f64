// The ResponseWriter and WebSocket contracts against a real Server on
// 127.0.0.1: on_close once, no-ops after close, the per-stream queue bound,
// and writers and WebSockets kept past stop().
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <vector>
#include <thread>

#include "huginn/server/server.hpp"

namespace hs = huginn::server;
using namespace std::chrono_literals;

namespace {

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void send_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const auto n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Reads until `needle` shows up (or 2 s pass).
std::string read_until(int fd, std::string_view needle) {
  std::string got;
  timeval tv{0, 100'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const auto until = std::chrono::steady_clock::now() + 2s;
  char buf[4096];
  while (got.find(needle) == std::string::npos && std::chrono::steady_clock::now() < until) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

// Sends `size`-byte pieces to a peer that does not read until `send`
// refuses one (or 5 s pass): kernel buffers take some, then the queue must
// fill. Returns the bytes accepted.
std::size_t fill_until_refused(const std::function<bool()>& send, std::size_t size) {
  std::size_t accepted = 0;
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < until && accepted < (256U << 20)) {
    if (!send()) break;
    accepted += size;
    if (accepted % (1 << 20) == 0) std::this_thread::sleep_for(1ms);
  }
  return accepted;
}

bool wait_for(const std::function<bool()>& cond) {
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (!cond() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
  return cond();
}

struct Fixture {
  explicit Fixture(std::size_t queue_limit = 1024 * 1024) {
    hs::ServerConfig cfg;
    cfg.listen.push_back({huginn::packet::IpAddress::v4(127, 0, 0, 1), 0});
    cfg.limits.max_stream_queue_bytes = queue_limit;
    server = std::make_unique<hs::Server>(cfg, [this](hs::Request r, std::shared_ptr<hs::ResponseWriter> w) {
      EXPECT_EQ(r.conn.peer.addr, huginn::packet::IpAddress::v4(127, 0, 0, 1));
      w->on_close([this] { closes.fetch_add(1); });
      if (r.path == "/ws") {
        EXPECT_TRUE(w->is_websocket_request());
        auto ws = w->accept_websocket({});
        EXPECT_FALSE(w->accept_websocket({})) << "accepted twice";
        EXPECT_FALSE(w->send(hs::Response{})) << "send() after accept";
        ws->on_message([this](std::string_view m) {
          std::lock_guard l(mu);
          messages.emplace_back(m);
        });
        ws->on_close([this] { ws_closes.fetch_add(1); });
        websocket.set_value(std::move(ws));
        return;
      }
      EXPECT_FALSE(w->is_websocket_request());
      EXPECT_FALSE(w->accept_websocket({}));
      w->start_stream(200, {{"content-type", "text/event-stream"}});
      writer.set_value(std::move(w));
    });
    server->start();
    port = server->cleartext_endpoints().at(0).port;
  }
  std::unique_ptr<hs::Server> server;
  std::uint16_t port = 0;
  std::promise<std::shared_ptr<hs::ResponseWriter>> writer;
  std::promise<std::shared_ptr<hs::WebSocket>> websocket;
  std::atomic<int> closes{0};
  std::atomic<int> ws_closes{0};
  std::mutex mu;
  std::vector<std::string> messages;
};

// RFC 6455 §1.3's example key and its accept value.
constexpr std::string_view kWsUpgrade =
    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
constexpr std::string_view kWsAccept = "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// A masked client frame (RFC 6455 §5.3) with a payload under 126 bytes.
std::string client_frame(std::uint8_t opcode, std::string_view payload) {
  const std::uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
  std::string f;
  f.push_back(static_cast<char>(0x80 | opcode));
  f.push_back(static_cast<char>(0x80 | payload.size()));
  for (const auto k : key) f.push_back(static_cast<char>(k));
  for (std::size_t i = 0; i < payload.size(); ++i)
    f.push_back(static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^ key[i % 4]));
  return f;
}

}  // namespace

TEST(ServerLifecycle, OnCloseOnceWhenPeerLeavesAndNoOpsAfter) {
  Fixture f;
  const int fd = connect_to(f.port);
  ASSERT_GE(fd, 0);
  send_all(fd, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
  auto w = f.writer.get_future().get();
  ASSERT_TRUE(w->write("data: 1\n\n"));
  const auto got = read_until(fd, "data: 1");
  EXPECT_NE(got.find("transfer-encoding: chunked"), std::string::npos) << got;
  EXPECT_NE(got.find("data: 1"), std::string::npos) << got;
  ::close(fd);
  ASSERT_TRUE(wait_for([&] { return f.closes.load() == 1; }));
  EXPECT_FALSE(w->write("data: 2\n\n"));
  EXPECT_FALSE(w->send(hs::Response{}));
  EXPECT_FALSE(w->start_stream(200, {}));
  w->finish();
  EXPECT_FALSE(w->push_enabled());
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(f.closes.load(), 1);
  // A callback registered after the close runs at once.
  bool late = false;
  w->on_close([&] { late = true; });
  EXPECT_TRUE(late);
}

TEST(ServerLifecycle, QueueLimitRefusesASubscriberThatDoesNotRead) {
  constexpr std::size_t kLimit = 64 * 1024;
  Fixture f(kLimit);
  const int fd = connect_to(f.port);
  ASSERT_GE(fd, 0);
  int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  send_all(fd, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
  auto w = f.writer.get_future().get();
  const std::string chunk(16 * 1024, 'x');
  EXPECT_LT(fill_until_refused([&] { return w->write(chunk); }, chunk.size()), 64U << 20)
      << "write() never refused";
  EXPECT_FALSE(w->write(chunk));
  ::close(fd);
  ASSERT_TRUE(wait_for([&] { return f.closes.load() == 1; }));
}

TEST(ServerLifecycle, WriterOutlivesTheServer) {
  std::shared_ptr<hs::ResponseWriter> w;
  std::atomic<int>* closes = nullptr;
  auto f = std::make_unique<Fixture>();
  closes = &f->closes;
  const int fd = connect_to(f->port);
  ASSERT_GE(fd, 0);
  send_all(fd, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
  w = f->writer.get_future().get();
  const auto t0 = std::chrono::steady_clock::now();
  f->server->stop(2s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(closes->load(), 1);
  // The stream was ended properly: the last chunk arrived.
  const auto got = read_until(fd, "0\r\n\r\n");
  EXPECT_NE(got.find("0\r\n\r\n"), std::string::npos) << got;
  ::close(fd);
  f.reset();
  EXPECT_FALSE(w->write("late"));
  w->finish();
}

TEST(ServerWebSocket, HandshakeMessagesAndOnCloseOnce) {
  Fixture f;
  const int fd = connect_to(f.port);
  ASSERT_GE(fd, 0);
  // The first message travels with the handshake: the HTTP parser's
  // buffered bytes must reach the WebSocket.
  send_all(fd, std::string(kWsUpgrade) + client_frame(0x1, "early"));
  auto ws = f.websocket.get_future().get();
  const auto head = read_until(fd, "\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 101 ")) << head;
  EXPECT_NE(head.find(kWsAccept), std::string::npos) << head;
  ASSERT_TRUE(wait_for([&] {
    std::lock_guard l(f.mu);
    return f.messages.size() == 1;
  }));
  EXPECT_EQ(f.messages[0], "early");
  EXPECT_TRUE(ws->is_open());
  ASSERT_TRUE(ws->send_text("hello"));
  EXPECT_FALSE(ws->send_text("\xc3\x28")) << "not UTF-8";
  // Server frames are unmasked (§5.1): FIN|text, length 5.
  EXPECT_NE(read_until(fd, "hello").find("\x81\x05hello"), std::string::npos);
  send_all(fd, client_frame(0x8, std::string("\x03\xe8", 2)));
  const auto close = read_until(fd, "\x88");
  EXPECT_NE(close.find(std::string("\x88\x02\x03\xe8", 4)), std::string::npos);
  ASSERT_TRUE(wait_for([&] { return f.ws_closes.load() == 1 && f.closes.load() == 1; }));
  EXPECT_FALSE(ws->is_open());
  EXPECT_FALSE(ws->send_text("late"));
  ws->close(hs::WebSocket::kNormal, "again");
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(f.ws_closes.load(), 1);
  bool late = false;
  ws->on_close([&] { late = true; });
  EXPECT_TRUE(late);
  ::close(fd);
}

TEST(ServerWebSocket, QueueLimitRefusesAClientThatDoesNotRead) {
  constexpr std::size_t kLimit = 64 * 1024;
  Fixture f(kLimit);
  const int fd = connect_to(f.port);
  ASSERT_GE(fd, 0);
  int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  send_all(fd, kWsUpgrade);
  auto ws = f.websocket.get_future().get();
  const std::string text(16 * 1024, 'x');
  EXPECT_LT(fill_until_refused([&] { return ws->send_text(text); }, text.size()), 64U << 20)
      << "send_text() never refused";
  EXPECT_FALSE(ws->send_text(text));
  EXPECT_TRUE(ws->is_open()) << "refusing a message does not close";
  ::close(fd);
  ASSERT_TRUE(wait_for([&] { return f.ws_closes.load() == 1; }));
}

TEST(ServerWebSocket, StopSendsGoingAwayAndTheHandleOutlivesTheServer) {
  auto f = std::make_unique<Fixture>();
  const int fd = connect_to(f->port);
  ASSERT_GE(fd, 0);
  send_all(fd, kWsUpgrade);
  auto ws = f->websocket.get_future().get();
  read_until(fd, "\r\n\r\n");
  // The client answers the server's close as RFC 6455 §5.5.1 asks.
  std::thread peer([fd] {
    const auto got = read_until(fd, "\x88");
    if (got.find("\x88") != std::string::npos) send_all(fd, client_frame(0x8, std::string("\x03\xe9", 2)));
    EXPECT_NE(got.find(std::string("\x03\xe9", 2)), std::string::npos) << "no close 1001";
  });
  const auto t0 = std::chrono::steady_clock::now();
  f->server->stop(2s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  peer.join();
  EXPECT_EQ(f->ws_closes.load(), 1);
  f.reset();
  EXPECT_FALSE(ws->send_text("late"));
  ws->close(hs::WebSocket::kNormal, "");
  ::close(fd);
}
