#pragma once
// Pieces shared by the real-time benches (realtime_latency.cpp,
// realtime_fanout.cpp): a monotonic clock, source addresses in 127.0.0.0/8,
// an HTML §9.2.6 event-stream parser, an HTTP/1.1 chunked-body decoder
// (RFC 9112 §7.1), the JSON "ip" field and percentiles.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <ctime>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace huginn::bench {

// CLOCK_MONOTONIC in nanoseconds: one process stamps both ends, so no
// wall-clock step can move a measurement.
inline std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline void sleep_until_ns(std::int64_t deadline) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(deadline / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(deadline % 1'000'000'000);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
  }
}

// "HOST:PORT" (IPv4 literal) as a socket address.
inline sockaddr_in endpoint(const std::string& host_port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  const auto colon = host_port.rfind(':');
  inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &sa.sin_addr);
  sa.sin_port = htons(static_cast<std::uint16_t>(std::stoi(host_port.substr(colon + 1))));
  return sa;
}

// "--flag value" pairs: `set` takes each and returns false for a flag it
// does not know. False on an unknown flag, a flag without a value or a
// value that is not a number where one is wanted (std::stoul throws).
inline bool parse_flags(int argc, char** argv,
                        const std::function<bool(const std::string&, const std::string&)>& set) {
  if (argc % 2 == 0) return false;
  try {
    for (int i = 1; i + 1 < argc; i += 2) {
      if (!set(argv[i], argv[i + 1])) return false;
    }
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

// The i-th source address (host byte order) of a run: 127.<block>.y.z
// counting up from 127.<block>.0.1. Every address of 127.0.0.0/8 is local
// on Linux's lo, so bind() needs no configuration; each connection gets
// its own address because the hub coalesces per IP.
inline std::uint32_t source_address(unsigned block, std::uint32_t i) {
  return (127U << 24) + (block << 16) + 1 + i;
}

inline std::string ipv4_text(std::uint32_t host_order) {
  in_addr a{};
  a.s_addr = htonl(host_order);
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

inline std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
  const std::string s(text);
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

// The value of the first "ip" member of a one-line JSON object. Profile,
// deleted and expired events all start with it (docs/realtime.md).
inline std::string_view json_ip(std::string_view data) {
  constexpr std::string_view key = "\"ip\":\"";
  const auto p = data.find(key);
  if (p == std::string_view::npos) return {};
  const auto start = p + key.size();
  const auto end = data.find('"', start);
  if (end == std::string_view::npos) return {};
  return data.substr(start, end - start);
}

// Event-stream parser (HTML §9.2.6), reduced to what the benches read:
// `event:` and `data:` fields, dispatch on a blank line, comments ignored.
class SseParser {
 public:
  using Handler = std::function<void(std::string_view event, std::string_view data)>;
  explicit SseParser(Handler h) : handler_(std::move(h)) {}

  void feed(std::string_view bytes) {
    line_.append(bytes);
    std::size_t start = 0;
    for (;;) {
      const auto nl = line_.find('\n', start);
      if (nl == std::string::npos) break;
      std::string_view line(line_.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      take(line);
      start = nl + 1;
    }
    line_.erase(0, start);
  }

 private:
  void take(std::string_view line) {
    if (line.empty()) {
      if (!data_.empty() || !event_.empty()) handler_(event_.empty() ? "message" : event_, data_);
      event_.clear();
      data_.clear();
      return;
    }
    if (line.front() == ':') return;
    const auto colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "event") event_.assign(value);
    if (field == "data") {
      if (!data_.empty()) data_.push_back('\n');
      data_.append(value);
    }
  }

  Handler handler_;
  std::string line_;
  std::string event_;
  std::string data_;
};

// HTTP/1.1 response reader for one streamed response: skips the head,
// then decodes a chunked body (RFC 9112 §7.1; extensions and trailers are
// not expected from our server and are skipped) and hands the payload on.
class ChunkedBody {
 public:
  using Sink = std::function<void(std::string_view)>;
  explicit ChunkedBody(Sink s) : sink_(std::move(s)) {}

  // False once the head shows a status other than 200.
  bool feed(std::string_view bytes) {
    buf_.append(bytes);
    if (!head_done_) {
      const auto end = buf_.find("\r\n\r\n");
      if (end == std::string::npos) return true;
      status_ok_ = buf_.compare(0, 12, "HTTP/1.1 200") == 0;
      buf_.erase(0, end + 4);
      head_done_ = true;
      if (!status_ok_) return false;
    }
    for (;;) {
      if (remaining_ == 0) {
        const auto eol = buf_.find("\r\n");
        if (eol == std::string::npos) return true;
        if (eol == 0) {  // the CRLF after a chunk's data
          buf_.erase(0, 2);
          continue;
        }
        remaining_ = std::stoul(buf_.substr(0, eol), nullptr, 16);
        buf_.erase(0, eol + 2);
        if (remaining_ == 0) return true;  // last-chunk: the stream ended
      }
      if (buf_.empty()) return true;
      const auto n = std::min(remaining_, buf_.size());
      sink_(std::string_view(buf_.data(), n));
      buf_.erase(0, n);
      remaining_ -= n;
    }
  }

 private:
  Sink sink_;
  std::string buf_;
  bool head_done_ = false;
  bool status_ok_ = false;
  std::size_t remaining_ = 0;
};

// Nearest-rank percentile of sorted values (p in [0, 100]).
inline std::int64_t percentile(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// VmRSS of a process in KiB from /proc/PID/status, 0 when unreadable.
inline long vm_rss_kib(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// utime + stime of a process in clock ticks, from /proc/PID/stat.
inline long cpu_ticks(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  std::getline(f, s);
  const auto rp = s.rfind(')');
  if (rp == std::string::npos) return 0;
  // Fields after the command: state is field 3; utime 14, stime 15.
  std::size_t pos = rp + 2;
  long utime = 0;
  long stime = 0;
  for (int field = 3; field <= 15; ++field) {
    const auto sp = s.find(' ', pos);
    if (field == 14) utime = std::stol(s.substr(pos, sp - pos));
    if (field == 15) stime = std::stol(s.substr(pos, sp - pos));
    pos = sp + 1;
  }
  return utime + stime;
}

}  // namespace huginn::bench
