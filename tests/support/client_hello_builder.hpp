#pragma once
// ClientHelloBuilder: builds TLS ClientHello bytes (records, handshake
// message, or body) from named parts, so a test states the case it covers
// instead of carrying a hex dump.
//
//   auto bytes = ClientHelloBuilder{}
//                    .ciphers({0x0a0a, 0x1301, 0x1302})
//                    .sni("example.com").alpn({"h2", "http/1.1"})
//                    .supported_versions({0x0304, 0x0303})
//                    .signature_algorithms({0x0403, 0x0804})
//                    .record_sizes({100})   // first record carries 100 bytes
//                    .build();
//
// Defaults: record version 0x0301, legacy_version 0x0303, a 32-byte session
// id, cipher suites {0x1301}, compression {0}, an empty extension block.
// Extensions are emitted in call order. Lengths are always consistent
// unless a test overwrites bytes of the result on purpose.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace huginn::test {

class ClientHelloBuilder {
 public:
  using Bytes = std::vector<std::uint8_t>;

  ClientHelloBuilder& record_version(std::uint16_t v) {
    record_version_ = v;
    return *this;
  }
  ClientHelloBuilder& legacy_version(std::uint16_t v) {
    legacy_version_ = v;
    return *this;
  }
  ClientHelloBuilder& session_id_length(std::uint8_t n) {
    session_id_length_ = n;
    return *this;
  }
  ClientHelloBuilder& ciphers(std::vector<std::uint16_t> v) {
    ciphers_ = std::move(v);
    return *this;
  }
  ClientHelloBuilder& compression(Bytes v) {
    compression_ = std::move(v);
    return *this;
  }
  // Leaves out the extension block entirely (RFC 5246 §7.4.1.2 allows it).
  ClientHelloBuilder& omit_extension_block() {
    omit_extensions_ = true;
    return *this;
  }

  // Any extension, body as given.
  ClientHelloBuilder& extension(std::uint16_t type, Bytes body = {}) {
    extensions_.emplace_back(type, std::move(body));
    return *this;
  }
  // RFC 6066 §3: one host_name entry.
  ClientHelloBuilder& sni(std::string_view host) {
    Bytes entry{0};
    put16(entry, host.size());
    entry.insert(entry.end(), host.begin(), host.end());
    return extension(0x0000, with_len16(entry));
  }
  // RFC 7301 §3.1: names as raw bytes.
  ClientHelloBuilder& alpn(const std::vector<std::string>& names) {
    Bytes list;
    for (const auto& n : names) {
      list.push_back(static_cast<std::uint8_t>(n.size()));
      list.insert(list.end(), n.begin(), n.end());
    }
    return extension(0x0010, with_len16(list));
  }
  ClientHelloBuilder& supported_versions(const std::vector<std::uint16_t>& v) {
    Bytes body{static_cast<std::uint8_t>(v.size() * 2)};
    for (auto x : v) put16(body, x);
    return extension(0x002b, body);
  }
  ClientHelloBuilder& supported_groups(const std::vector<std::uint16_t>& v) {
    return extension(0x000a, u16_list(v));
  }
  ClientHelloBuilder& signature_algorithms(const std::vector<std::uint16_t>& v) {
    return extension(0x000d, u16_list(v));
  }
  ClientHelloBuilder& ec_point_formats(const Bytes& v) {
    Bytes body{static_cast<std::uint8_t>(v.size())};
    body.insert(body.end(), v.begin(), v.end());
    return extension(0x000b, body);
  }
  // RFC 7685 padding of n zero bytes.
  ClientHelloBuilder& padding(std::size_t n) { return extension(0x0015, Bytes(n, 0)); }

  // Splits the handshake message into records carrying these many bytes
  // each; the remainder goes into one last record.
  ClientHelloBuilder& record_sizes(std::vector<std::size_t> sizes) {
    record_sizes_ = std::move(sizes);
    return *this;
  }

  [[nodiscard]] Bytes body() const {
    Bytes b;
    put16(b, legacy_version_);
    for (int i = 0; i < 32; ++i) b.push_back(static_cast<std::uint8_t>(0x40 + i));  // random
    b.push_back(session_id_length_);
    for (int i = 0; i < session_id_length_; ++i) b.push_back(static_cast<std::uint8_t>(i));
    put16(b, ciphers_.size() * 2);
    for (auto c : ciphers_) put16(b, c);
    b.push_back(static_cast<std::uint8_t>(compression_.size()));
    b.insert(b.end(), compression_.begin(), compression_.end());
    if (!omit_extensions_) {
      Bytes exts;
      for (const auto& [type, data] : extensions_) {
        put16(exts, type);
        put16(exts, data.size());
        exts.insert(exts.end(), data.begin(), data.end());
      }
      put16(b, exts.size());
      b.insert(b.end(), exts.begin(), exts.end());
    }
    return b;
  }

  // Handshake header (type 1, 24-bit length) + body.
  [[nodiscard]] Bytes handshake() const { return handshake_message(1, body()); }

  // The records carrying handshake(), split as record_sizes() says.
  [[nodiscard]] Bytes build() const {
    return records(22, handshake(), record_sizes_, record_version_);
  }

  // --- free-standing helpers ----------------------------------------------
  static Bytes handshake_message(std::uint8_t type, const Bytes& body) {
    Bytes m{type, static_cast<std::uint8_t>(body.size() >> 16),
            static_cast<std::uint8_t>(body.size() >> 8), static_cast<std::uint8_t>(body.size())};
    m.insert(m.end(), body.begin(), body.end());
    return m;
  }
  // One record per entry of `sizes`, then one for the rest (if any).
  static Bytes records(std::uint8_t content_type, const Bytes& payload,
                       const std::vector<std::size_t>& sizes = {}, std::uint16_t version = 0x0301) {
    Bytes out;
    std::size_t pos = 0;
    auto emit = [&](std::size_t n) {
      out.push_back(content_type);
      put16(out, version);
      put16(out, n);
      out.insert(out.end(), payload.begin() + static_cast<std::ptrdiff_t>(pos),
                 payload.begin() + static_cast<std::ptrdiff_t>(pos + n));
      pos += n;
    };
    for (auto n : sizes)
      if (pos < payload.size()) emit(std::min(n, payload.size() - pos));
    if (pos < payload.size()) emit(payload.size() - pos);
    return out;
  }
  // RFC 8446 §5 / Appendix D.4 middlebox-compatibility ChangeCipherSpec.
  static Bytes change_cipher_spec() { return {20, 0x03, 0x03, 0x00, 0x01, 0x01}; }

  static void put16(Bytes& b, std::size_t v) {
    b.push_back(static_cast<std::uint8_t>(v >> 8));
    b.push_back(static_cast<std::uint8_t>(v));
  }
  static Bytes with_len16(const Bytes& inner) {
    Bytes b;
    put16(b, inner.size());
    b.insert(b.end(), inner.begin(), inner.end());
    return b;
  }
  static Bytes u16_list(const std::vector<std::uint16_t>& v) {
    Bytes inner;
    for (auto x : v) put16(inner, x);
    return with_len16(inner);
  }

 private:
  std::uint16_t record_version_ = 0x0301;
  std::uint16_t legacy_version_ = 0x0303;
  std::uint8_t session_id_length_ = 32;
  std::vector<std::uint16_t> ciphers_{0x1301};
  Bytes compression_{0};
  bool omit_extensions_ = false;
  std::vector<std::pair<std::uint16_t, Bytes>> extensions_;
  std::vector<std::size_t> record_sizes_;
};

}  // namespace huginn::test
