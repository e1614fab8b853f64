// The ResponseWriter contract against a real Server on 127.0.0.1: on_close
// once, no-ops after close, the per-stream queue bound, and writers kept
// past stop().
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
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
      w->start_stream(200, {{"content-type", "text/event-stream"}});
      writer.set_value(std::move(w));
    });
    server->start();
    port = server->cleartext_endpoints().at(0).port;
  }
  std::unique_ptr<hs::Server> server;
  std::uint16_t port = 0;
  std::promise<std::shared_ptr<hs::ResponseWriter>> writer;
  std::atomic<int> closes{0};
};

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
  std::size_t accepted = 0;
  // Kernel buffers take some; past them the queue must fill and refuse.
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < until && accepted < (256U << 20)) {
    if (!w->write(chunk)) break;
    accepted += chunk.size();
    if (accepted % (1 << 20) == 0) std::this_thread::sleep_for(1ms);
  }
  EXPECT_LT(accepted, 64U << 20) << "write() never refused";
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
