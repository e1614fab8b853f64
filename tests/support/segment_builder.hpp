#pragma once
// Builds packet::DecodedPacket values directly (what decode_packet would
// produce), so fingerprint and analyzer tests state exactly the segment they
// are about. The builder owns the option and payload bytes: keep it alive
// while the DecodedPacket from build() is used.
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "huginn/packet/decoded_packet.hpp"
#include "huginn/packet/ip_address.hpp"

namespace huginn::test {

inline packet::IpAddress ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  packet::IpAddress addr;
  addr.version = packet::IpVersion::v4;
  addr.bytes[0] = a;
  addr.bytes[1] = b;
  addr.bytes[2] = c;
  addr.bytes[3] = d;
  return addr;
}

// Last group given; the rest zero except the first ("2001:db8::N" style).
inline packet::IpAddress ipv6(std::uint16_t first, std::uint16_t last) {
  packet::IpAddress addr;
  addr.version = packet::IpVersion::v6;
  addr.bytes[0] = static_cast<std::uint8_t>(first >> 8);
  addr.bytes[1] = static_cast<std::uint8_t>(first);
  addr.bytes[14] = static_cast<std::uint8_t>(last >> 8);
  addr.bytes[15] = static_cast<std::uint8_t>(last);
  return addr;
}

class SegmentBuilder {
 public:
  SegmentBuilder() {
    p_.src = ipv4(10, 0, 0, 1);
    p_.dst = ipv4(10, 0, 0, 2);
    p_.ttl = 64;
    p_.ip_df = true;
    p_.ip_id = 0x1234;
    p_.ip_hdr_len = 20;
    p_.sport = 40000;
    p_.dport = 80;
    p_.seq = 1000;
    p_.flags = packet::tcp_flags::kSyn;
    p_.win = 29200;
  }

  SegmentBuilder& v6(std::uint16_t src_last = 1, std::uint16_t dst_last = 2) {
    p_.src = ipv6(0x2001, src_last);
    p_.dst = ipv6(0x2001, dst_last);
    p_.ip_df = false;
    p_.ip_id = 0;
    p_.ip_hdr_len = 40;
    return *this;
  }
  SegmentBuilder& src(packet::IpAddress a, std::uint16_t port) { p_.src = a; p_.sport = port; return *this; }
  SegmentBuilder& dst(packet::IpAddress a, std::uint16_t port) { p_.dst = a; p_.dport = port; return *this; }
  SegmentBuilder& ts_us(std::int64_t t) { p_.ts_us = t; return *this; }
  SegmentBuilder& ttl(std::uint8_t v) { p_.ttl = v; return *this; }
  SegmentBuilder& tos(std::uint8_t v) { p_.tos = v; return *this; }
  SegmentBuilder& ecn(std::uint8_t v) { p_.ecn = v; return *this; }
  SegmentBuilder& df(bool v) { p_.ip_df = v; return *this; }
  SegmentBuilder& mbz(bool v) { p_.ip_mbz = v; return *this; }
  SegmentBuilder& ip_id(std::uint16_t v) { p_.ip_id = v; return *this; }
  SegmentBuilder& ip_opt_len(std::uint8_t v) { p_.ip_opt_len = v; p_.ip_hdr_len = static_cast<std::uint16_t>(20 + v); return *this; }
  SegmentBuilder& flow_label(std::uint32_t v) { p_.flow_label = v; return *this; }
  SegmentBuilder& flags(std::uint8_t v) { p_.flags = v; return *this; }
  SegmentBuilder& syn() { p_.flags = packet::tcp_flags::kSyn; return *this; }
  SegmentBuilder& syn_ack() { p_.flags = packet::tcp_flags::kSyn | packet::tcp_flags::kAck; return *this; }
  SegmentBuilder& ns(bool v) { p_.tcp_ns = v; return *this; }
  SegmentBuilder& seq(std::uint32_t v) { p_.seq = v; return *this; }
  SegmentBuilder& ack(std::uint32_t v) { p_.ack = v; return *this; }
  SegmentBuilder& win(std::uint16_t v) { p_.win = v; return *this; }
  SegmentBuilder& urg_ptr(std::uint16_t v) { p_.urg_ptr = v; return *this; }

  // TCP options, appended in call order (RFC 9293 §3.2, RFC 7323, RFC 2018).
  SegmentBuilder& mss(std::uint16_t v) { return raw({2, 4, static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)}); }
  SegmentBuilder& ws(std::uint8_t v) { return raw({3, 3, v}); }
  SegmentBuilder& sok() { return raw({4, 2}); }
  SegmentBuilder& nop() { return raw({1}); }
  SegmentBuilder& ts(std::uint32_t tsval, std::uint32_t tsecr) {
    return raw({8, 10, b(tsval, 24), b(tsval, 16), b(tsval, 8), b(tsval, 0), b(tsecr, 24),
                b(tsecr, 16), b(tsecr, 8), b(tsecr, 0)});
  }
  SegmentBuilder& eol() { return raw({0}); }
  SegmentBuilder& raw(std::initializer_list<std::uint8_t> bytes) {
    // Element by element: g++ 12 at -O2 misreports vector::insert of a
    // small initializer_list as -Wstringop-overflow (GCC PR 106199).
    for (const std::uint8_t b : bytes) opts_.push_back(b);
    return *this;
  }
  SegmentBuilder& payload(std::string_view text) {
    payload_.assign(text.begin(), text.end());
    return *this;
  }
  SegmentBuilder& payload_bytes(std::size_t n) {
    payload_.assign(n, 'x');
    return *this;
  }

  // Linux 3.x+-style SYN options: mss,sok,ts,nop,ws.
  SegmentBuilder& linux_syn_options(std::uint16_t mss_v = 1460, std::uint32_t tsval = 100000) {
    return mss(mss_v).sok().ts(tsval, 0).nop().ws(7);
  }

  packet::DecodedPacket build() const {
    packet::DecodedPacket out = p_;
    out.tcp_options = std::span<const std::uint8_t>(opts_.data(), opts_.size());
    out.payload = std::span<const std::uint8_t>(payload_.data(), payload_.size());
    out.tcp_hdr_len = static_cast<std::uint16_t>(20 + opts_.size());
    return out;
  }

 private:
  static std::uint8_t b(std::uint32_t v, int shift) { return static_cast<std::uint8_t>(v >> shift); }

  packet::DecodedPacket p_;
  std::vector<std::uint8_t> opts_;
  std::vector<std::uint8_t> payload_;
};

}  // namespace huginn::test
