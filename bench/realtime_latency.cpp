// SYN on the wire -> `profile` event at an SSE subscriber, against a
// running `huginn-profiler serve -i lo` (bench/realtime.sh starts it).
//
// One process plays every part so one clock stamps both ends:
//  - a dummy TCP listener the load goes to (the profiler captures its SYNs);
//  - an SSE subscriber on the profiler's GET /events over HTTP/1.1;
//  - a generator that opens RATE new connections per second for SECONDS,
//    each from its own source address in 127.<block>.0.0/16 (bind() before
//    connect()), because the hub coalesces per IP and a new IP's first
//    event is what is measured.
// t0 is taken just before connect(): on loopback the SYN is queued to the
// capture socket within connect() itself. t1 is when the subscriber has
// parsed the `profile` event whose ip is that source.
//
// Output: one line "latency sent=N received=N missed=N p50_us= p90_us=
// p99_us= max_us= rate=" and, on stderr, progress.
#include <netinet/tcp.h>
#include <poll.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <unordered_map>

#include "realtime_common.hpp"

namespace {

using namespace huginn::bench;

struct Args {
  std::string server = "127.0.0.1:8080";
  int target_port = 0;  // the dummy listener's port
  unsigned rate = 1000;
  unsigned seconds = 10;
  unsigned block = 16;
  unsigned grace_ms = 2000;
};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "realtime_latency: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

int usage() {
  std::fprintf(stderr,
               "usage: realtime_latency --target-port P [--server HOST:PORT] [--rate N]\n"
               "                        [--seconds S] [--block B] [--grace-ms MS]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  const bool ok = parse_flags(argc, argv, [&a](const std::string& k, const std::string& v) {
    if (k == "--server") a.server = v;
    else if (k == "--target-port") a.target_port = std::stoi(v);
    else if (k == "--rate") a.rate = static_cast<unsigned>(std::stoul(v));
    else if (k == "--seconds") a.seconds = static_cast<unsigned>(std::stoul(v));
    else if (k == "--block") a.block = static_cast<unsigned>(std::stoul(v));
    else if (k == "--grace-ms") a.grace_ms = static_cast<unsigned>(std::stoul(v));
    else return false;
    return true;
  });
  if (!ok) return usage();
  if (a.target_port <= 0 || a.rate == 0 || a.block == 0 || a.block > 255) return usage();
  const std::uint32_t total = a.rate * a.seconds;
  if (total > 65'000) return usage();

  // The dummy listener: accepts and closes, so no connection lingers in
  // its backlog.
  const int lfd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in target = endpoint("127.0.0.1:" + std::to_string(a.target_port));
  if (bind(lfd, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) die("bind listener");
  if (listen(lfd, 4096) != 0) die("listen");
  std::atomic<bool> done{false};
  std::thread acceptor([&] {
    while (!done.load()) {
      pollfd p{lfd, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      const int c = accept(lfd, nullptr, nullptr);
      if (c >= 0) close(c);
    }
  });

  std::vector<std::int64_t> t0(total, 0);
  std::vector<std::int64_t> t1(total, 0);
  std::unordered_map<std::uint32_t, std::uint32_t> index;
  for (std::uint32_t i = 0; i < total; ++i) index.emplace(source_address(a.block, i), i);
  std::atomic<std::uint32_t> received{0};
  std::atomic<bool> subscribed{false};
  std::uint64_t other_events = 0;

  // The subscriber. GET /events with no resume point starts with a
  // `reset`; once that arrives the stream is live.
  const int sfd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in srv = endpoint(a.server);
  if (connect(sfd, reinterpret_cast<sockaddr*>(&srv), sizeof srv) != 0) die("connect to server");
  setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const std::string req = "GET /events HTTP/1.1\r\nHost: " + a.server +
                          "\r\nAccept: text/event-stream\r\n\r\n";
  if (write(sfd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) die("write");
  SseParser sse([&](std::string_view event, std::string_view data) {
    const std::int64_t now = now_ns();
    if (event == "reset") subscribed.store(true);
    if (event != "profile") return;
    const auto ip = parse_ipv4(json_ip(data));
    const auto it = ip ? index.find(*ip) : index.end();
    if (it == index.end()) {
      ++other_events;
      return;
    }
    if (t1[it->second] == 0) {
      t1[it->second] = now;
      received.fetch_add(1);
    }
  });
  bool stream_ok = true;
  ChunkedBody body([&](std::string_view payload) { sse.feed(payload); });
  std::thread reader([&] {
    char buf[65536];
    while (!done.load()) {
      pollfd p{sfd, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = read(sfd, buf, sizeof buf);
      if (n <= 0) break;
      if (!body.feed(std::string_view(buf, static_cast<std::size_t>(n)))) {
        stream_ok = false;
        break;
      }
    }
  });
  for (int i = 0; i < 500 && !subscribed.load(); ++i) sleep_until_ns(now_ns() + 10'000'000);
  if (!subscribed.load()) {
    std::fprintf(stderr, "realtime_latency: no reset event from %s/events within 5 s\n",
                 a.server.c_str());
    done.store(true);
    reader.join();
    acceptor.join();
    return 1;
  }

  // The generator: connection i starts at start + i / rate.
  std::uint32_t failed = 0;
  const std::int64_t start = now_ns() + 10'000'000;
  const std::int64_t period = 1'000'000'000 / a.rate;
  for (std::uint32_t i = 0; i < total; ++i) {
    sleep_until_ns(start + period * i);
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(source_address(a.block, i));
    if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) die("bind source");
    t0[i] = now_ns();
    if (connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) ++failed;
    close(fd);
  }
  const std::int64_t gen_end = now_ns();
  const double achieved = total / (static_cast<double>(gen_end - start) / 1e9);
  const std::int64_t grace_end = gen_end + std::int64_t{a.grace_ms} * 1'000'000;
  while (received.load() < total && now_ns() < grace_end) sleep_until_ns(now_ns() + 5'000'000);
  done.store(true);
  reader.join();
  acceptor.join();
  close(sfd);
  close(lfd);

  std::vector<std::int64_t> lat;
  lat.reserve(total);
  for (std::uint32_t i = 0; i < total; ++i) {
    if (t1[i] != 0) lat.push_back((t1[i] - t0[i]) / 1000);
  }
  std::sort(lat.begin(), lat.end());
  std::printf(
      "latency sent=%u received=%zu missed=%zu connect_failed=%u rate=%.0f p50_us=%lld "
      "p90_us=%lld p99_us=%lld max_us=%lld other_events=%llu stream_ok=%d\n",
      total, lat.size(), total - lat.size(), failed, achieved,
      static_cast<long long>(percentile(lat, 50)), static_cast<long long>(percentile(lat, 90)),
      static_cast<long long>(percentile(lat, 99)), static_cast<long long>(percentile(lat, 100)),
      static_cast<unsigned long long>(other_events), stream_ok ? 1 : 0);
  return lat.size() == total && stream_ok ? 0 : 1;
}
