#pragma once
// Builders for HTTP/2 client streams in tests: frames by field (RFC 9113
// §4.1), HPACK blocks from nghttp2's deflater, base64url for HTTP2-Settings.
// Header-only: the unit-test glob compiles *_test.cpp files only.
#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "huginn/fingerprint/http2/client_fingerprint.hpp"
#include "huginn/fingerprint/http2/frame_reader.hpp"

namespace huginn::fingerprint::http2::test {

using Bytes = std::vector<std::uint8_t>;
using Fields = std::vector<std::pair<std::string, std::string>>;

inline void put16(Bytes& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
inline void put32(Bytes& b, std::uint32_t v) {
  put16(b, v >> 16);
  put16(b, v & 0xffff);
}

// HPACK-encodes `fields` in order with a fresh nghttp2 deflater (4096-byte
// table, the RFC 7541 default), as a client's first header block is.
inline Bytes hpack(const Fields& fields) {
  nghttp2_hd_deflater* d = nullptr;
  if (nghttp2_hd_deflate_new(&d, 4096) != 0) return {};
  std::vector<nghttp2_nv> nva;
  for (const auto& [n, v] : fields) {
    nghttp2_nv nv{};
    nv.name = reinterpret_cast<std::uint8_t*>(const_cast<char*>(n.data()));
    nv.namelen = n.size();
    nv.value = reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data()));
    nv.valuelen = v.size();
    nv.flags = NGHTTP2_NV_FLAG_NONE;
    nva.push_back(nv);
  }
  Bytes out(nghttp2_hd_deflate_bound(d, nva.data(), nva.size()));
  const auto n = nghttp2_hd_deflate_hd(d, out.data(), out.size(), nva.data(), nva.size());
  nghttp2_hd_deflate_del(d);
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

inline Fields chrome_like_request() {
  return {{":method", "GET"},
          {":authority", "example.test"},
          {":scheme", "https"},
          {":path", "/index.html"},
          {"user-agent", "Mozilla/5.0 (X11; Linux x86_64) Test/1.0"},
          {"accept", "*/*"}};
}

inline std::string base64url(std::span<const std::uint8_t> data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const auto b : data) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3f];
  return out;
}

inline Bytes settings_payload(const std::vector<Setting>& settings) {
  Bytes p;
  for (const auto& s : settings) {
    put16(p, s.id);
    put32(p, s.value);
  }
  return p;
}

// A client->server stream, appended to piece by piece.
class StreamBuilder {
 public:
  StreamBuilder& preface() { return text(kClientPreface); }
  StreamBuilder& text(std::string_view s) {
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  StreamBuilder& raw(std::span<const std::uint8_t> b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  // A frame whose header says `length` (default: the payload's size).
  StreamBuilder& frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                       std::span<const std::uint8_t> payload,
                       std::optional<std::uint32_t> length = std::nullopt) {
    const std::uint32_t len = length.value_or(static_cast<std::uint32_t>(payload.size()));
    bytes_.push_back(static_cast<std::uint8_t>(len >> 16));
    put16(bytes_, len & 0xffff);
    bytes_.push_back(type);
    bytes_.push_back(flags);
    put32(bytes_, stream);
    return raw(payload);
  }
  StreamBuilder& settings(const std::vector<Setting>& s, std::uint8_t flags = 0) {
    return frame(frame_type::kSettings, flags, 0, settings_payload(s));
  }
  StreamBuilder& settings_ack() { return frame(frame_type::kSettings, frame_flag::kAck, 0, {}); }
  StreamBuilder& window_update(std::uint32_t stream, std::uint32_t increment) {
    Bytes p;
    put32(p, increment);
    return frame(frame_type::kWindowUpdate, 0, stream, p);
  }
  // `weight` is the wire byte (the RFC weight minus one).
  StreamBuilder& priority(std::uint32_t stream, bool exclusive, std::uint32_t dependency,
                          std::uint8_t weight) {
    Bytes p;
    put32(p, dependency | (exclusive ? 0x80000000u : 0));
    p.push_back(weight);
    return frame(frame_type::kPriority, 0, stream, p);
  }
  struct HeadersOptions {
    bool end_headers = true;
    bool end_stream = true;
    std::optional<PrioritySpec> priority;  // weight as the RFC weight (1..256)
    std::optional<std::uint8_t> pad;       // pad length; that many zero bytes follow
  };
  StreamBuilder& headers(std::uint32_t stream, std::span<const std::uint8_t> fragment,
                         const HeadersOptions& o) {
    Bytes p;
    std::uint8_t flags = 0;
    if (o.end_headers) flags |= frame_flag::kEndHeaders;
    if (o.end_stream) flags |= frame_flag::kEndStream;
    if (o.pad) {
      flags |= frame_flag::kPadded;
      p.push_back(*o.pad);
    }
    if (o.priority) {
      flags |= frame_flag::kPriority;
      put32(p, o.priority->dependency | (o.priority->exclusive ? 0x80000000u : 0));
      p.push_back(static_cast<std::uint8_t>(o.priority->weight - 1));
    }
    p.insert(p.end(), fragment.begin(), fragment.end());
    if (o.pad) p.insert(p.end(), *o.pad, 0);
    return frame(frame_type::kHeaders, flags, stream, p);
  }
  StreamBuilder& headers(std::uint32_t stream, std::span<const std::uint8_t> fragment) {
    return headers(stream, fragment, HeadersOptions{});
  }
  StreamBuilder& continuation(std::uint32_t stream, std::span<const std::uint8_t> fragment,
                              bool end_headers) {
    return frame(frame_type::kContinuation, end_headers ? frame_flag::kEndHeaders : 0, stream,
                 fragment);
  }
  StreamBuilder& goaway() {
    Bytes p(8, 0);
    return frame(frame_type::kGoaway, 0, 0, p);
  }
  // An HTTP/1.1 Upgrade request (RFC 7540 §3.2) with `settings` encoded
  // in HTTP2-Settings; `extra` is appended to the header lines.
  StreamBuilder& upgrade_request(const std::vector<Setting>& s, std::string_view extra = "") {
    std::string req = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                      "Upgrade: h2c\r\nHTTP2-Settings: " +
                      base64url(settings_payload(s)) + "\r\n" + std::string(extra) + "\r\n";
    return text(req);
  }

  // HEADERS options for a block that CONTINUATION frames complete.
  static HeadersOptions open_block() {
    HeadersOptions o;
    o.end_headers = false;
    return o;
  }

  [[nodiscard]] const Bytes& bytes() const { return bytes_; }

 private:
  Bytes bytes_;
};

}  // namespace huginn::fingerprint::http2::test
