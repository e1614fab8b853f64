#pragma once
// A minimal cleartext HTTP/2 server for loopback tests, on libnghttp2's
// server session: prior knowledge (RFC 9113 §3.3) and HTTP/1.1 Upgrade to
// h2c (RFC 7540 §3.2, which Debian's nghttpd does not implement). Every
// request gets "200" with a short body. One connection at a time, on its
// own thread, bound to 127.0.0.1 on an ephemeral port.
// Header-only: the unit-test glob compiles *_test.cpp files only.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "huginn/fingerprint/http2/frame_reader.hpp"

namespace huginn::fingerprint::http2::test {

class H2cTestServer {
 public:
  H2cTestServer() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        listen(listen_fd_, 8) != 0 || getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~H2cTestServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (listen_fd_ >= 0) close(listen_fd_);
  }
  H2cTestServer(const H2cTestServer&) = delete;
  H2cTestServer& operator=(const H2cTestServer&) = delete;

  // 0 when the socket could not be set up.
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] int connections() const { return connections_.load(); }
  [[nodiscard]] int upgrades() const { return upgrades_.load(); }

 private:
  struct Conn {
    int fd = -1;
    nghttp2_session* session = nullptr;
  };

  static constexpr std::string_view kBody = "hello from the h2c test server\n";

  void run() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_;
      serve(fd);
      close(fd);
    }
  }

  // Reads into `buf` until `pred(buf)` or the peer closes / goes quiet.
  bool read_until(int fd, std::string& buf, const auto& pred) {
    char tmp[4096];
    while (!pred(buf)) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 5000) <= 0) return false;
      const auto n = recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf.append(tmp, static_cast<std::size_t>(n));
    }
    return true;
  }

  static bool send_all(int fd, const std::uint8_t* data, std::size_t n) {
    while (n > 0) {
      const auto w = send(fd, data, n, MSG_NOSIGNAL);
      if (w <= 0) return false;
      data += w;
      n -= static_cast<std::size_t>(w);
    }
    return true;
  }

  static ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                                        std::uint32_t* flags, nghttp2_data_source*, void*) {
    const std::size_t n = std::min(length, kBody.size());
    std::memcpy(buf, kBody.data(), n);
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  static void respond(nghttp2_session* s, std::int32_t stream) {
    static const std::string status = ":status", ok = "200";
    nghttp2_nv nv{};
    nv.name = reinterpret_cast<std::uint8_t*>(const_cast<char*>(status.data()));
    nv.namelen = status.size();
    nv.value = reinterpret_cast<std::uint8_t*>(const_cast<char*>(ok.data()));
    nv.valuelen = ok.size();
    nghttp2_data_provider dp{};
    dp.read_callback = read_body;
    nghttp2_submit_response(s, stream, &nv, 1, &dp);
  }

  static int on_frame_recv(nghttp2_session* s, const nghttp2_frame* frame, void*) {
    const bool request_end = (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
                             (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (request_end) respond(s, frame->hd.stream_id);
    return 0;
  }

  void serve(int fd) {
    std::string buf;
    const std::string_view preface = kClientPreface;
    // Enough bytes to tell the preface from an HTTP/1.1 request line.
    if (!read_until(fd, buf, [&](const std::string& b) {
          return b.size() >= preface.size() || b.find("\r\n\r\n") != std::string::npos;
        })) {
      return;
    }
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session* s = nullptr;
    nghttp2_session_server_new(&s, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry iv{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100};
    nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, &iv, 1);

    std::string rest = buf;
    if (buf.compare(0, preface.size(), preface) != 0) {
      if (!read_until(fd, buf, [](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; })) {
        nghttp2_session_del(s);
        return;
      }
      const auto end = buf.find("\r\n\r\n") + 4;
      const auto settings = upgrade_settings(buf.substr(0, end));
      if (!settings) {
        nghttp2_session_del(s);
        return;
      }
      ++upgrades_;
      static constexpr std::string_view k101 =
          "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
      send_all(fd, reinterpret_cast<const std::uint8_t*>(k101.data()), k101.size());
      const bool head = buf.compare(0, 5, "HEAD ") == 0;
      nghttp2_session_upgrade2(s, settings->data(), settings->size(), head ? 1 : 0, nullptr);
      respond(s, 1);  // RFC 7540 §3.2: the response to the request goes on stream 1
      rest = buf.substr(end);
    }
    if (!rest.empty() &&
        nghttp2_session_mem_recv(s, reinterpret_cast<const std::uint8_t*>(rest.data()), rest.size()) < 0) {
      nghttp2_session_del(s);
      return;
    }
    std::uint8_t tmp[4096];
    while (nghttp2_session_want_read(s) != 0 || nghttp2_session_want_write(s) != 0) {
      const std::uint8_t* out = nullptr;
      for (auto n = nghttp2_session_mem_send(s, &out); n > 0; n = nghttp2_session_mem_send(s, &out)) {
        if (!send_all(fd, out, static_cast<std::size_t>(n))) break;
      }
      if (nghttp2_session_want_read(s) == 0) break;
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 5000) <= 0) break;
      const auto n = recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0 || nghttp2_session_mem_recv(s, tmp, static_cast<std::size_t>(n)) < 0) break;
    }
    nghttp2_session_del(s);
  }

  static std::optional<std::vector<std::uint8_t>> upgrade_settings(const std::string& head) {
    // Case-insensitive search for the HTTP2-Settings field.
    std::string lower = head;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto at = lower.find("\r\nhttp2-settings:");
    if (at == std::string::npos || lower.find("h2c") == std::string::npos) return std::nullopt;
    const auto start = at + std::strlen("\r\nhttp2-settings:");
    std::string value = head.substr(start, head.find("\r\n", start) - start);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    while (!value.empty() && value.back() == ' ') value.pop_back();
    return decode_base64url(value);
  }

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> upgrades_{0};
  std::thread thread_;
};

}  // namespace huginn::fingerprint::http2::test
