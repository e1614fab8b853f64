#pragma once
// Builds link-layer frames for decode tests, field by field, so each test
// states the case it names instead of carrying a hex dump. Header-only: the
// unit-test glob compiles only *_test.cpp files.
//
// Checksums are left zero: neither p0f nor decode_packet() verifies them.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "huginn/packet/decoded_packet.hpp"

namespace huginn::test {

using Bytes = std::vector<std::uint8_t>;

inline void put16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
inline void put32(Bytes& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v));
}
// Byte by byte on purpose: GCC 12 at -O2/-O3 reports false overflows
// (-Wstringop-overflow, -Warray-bounds) on vector::insert after small
// push_backs, which -Werror turns into build failures.
inline void append(Bytes& b, const Bytes& tail) {
  b.reserve(b.size() + tail.size());
  for (const auto byte : tail) b.push_back(byte);
}
// Drops the last n bytes (a snaplen cut). erase rather than resize: GCC 12
// cannot prove resize(size() - n) shrinks and warns under sanitizers.
inline void drop_last(Bytes& b, std::size_t n) {
  b.erase(b.end() - static_cast<std::ptrdiff_t>(std::min(n, b.size())), b.end());
}
inline void pad_to(Bytes& b, std::size_t multiple) {
  while (b.size() % multiple != 0) b.push_back(0);
}

// RFC 9293 §3.1.
struct TcpSpec {
  std::uint16_t sport = 40000;
  std::uint16_t dport = 80;
  std::uint32_t seq = 0x01020304;
  std::uint32_t ack = 0;
  std::uint8_t flags = packet::tcp_flags::kSyn;
  bool ns = false;
  std::uint16_t win = 65535;
  std::uint16_t urg = 0;
  Bytes options;  // zero-padded to a multiple of 4
  Bytes payload;
  std::optional<std::uint8_t> data_offset_words;  // overrides the computed offset
};

inline Bytes tcp_segment(const TcpSpec& s) {
  Bytes opts = s.options;
  pad_to(opts, 4);
  const auto words = s.data_offset_words.value_or(static_cast<std::uint8_t>(5 + opts.size() / 4));
  Bytes b;
  put16(b, s.sport);
  put16(b, s.dport);
  put32(b, s.seq);
  put32(b, s.ack);
  b.push_back(static_cast<std::uint8_t>((words << 4) | (s.ns ? 1 : 0)));
  b.push_back(s.flags);
  put16(b, s.win);
  put16(b, 0);  // checksum
  put16(b, s.urg);
  append(b, opts);
  append(b, s.payload);
  return b;
}

// RFC 791 §3.1.
struct Ipv4Spec {
  std::array<std::uint8_t, 4> src{192, 0, 2, 1};
  std::array<std::uint8_t, 4> dst{198, 51, 100, 2};
  std::uint8_t ttl = 64;
  std::uint8_t tos = 0;  // the whole byte: DSCP << 2 | ECN
  std::uint16_t id = 0x1234;
  bool df = true;
  bool mbz = false;
  bool mf = false;
  std::uint16_t frag_offset = 0;  // 8-octet units
  std::uint8_t proto = 6;
  Bytes options;  // zero-padded to a multiple of 4
  std::optional<std::uint16_t> total_length;  // overrides the computed length
  std::optional<std::uint8_t> ihl_words;      // overrides the computed IHL
};

inline Bytes ipv4(const Ipv4Spec& s, const Bytes& payload) {
  Bytes opts = s.options;
  pad_to(opts, 4);
  const auto ihl = s.ihl_words.value_or(static_cast<std::uint8_t>(5 + opts.size() / 4));
  const auto tot = s.total_length.value_or(static_cast<std::uint16_t>(20 + opts.size() + payload.size()));
  Bytes b;
  b.push_back(static_cast<std::uint8_t>(0x40 | (ihl & 0x0f)));
  b.push_back(s.tos);
  put16(b, tot);
  put16(b, s.id);
  put16(b, static_cast<std::uint16_t>((s.mbz ? 0x8000 : 0) | (s.df ? 0x4000 : 0) |
                                      (s.mf ? 0x2000 : 0) | (s.frag_offset & 0x1fff)));
  b.push_back(s.ttl);
  b.push_back(s.proto);
  put16(b, 0);  // checksum
  b.insert(b.end(), s.src.begin(), s.src.end());
  b.insert(b.end(), s.dst.begin(), s.dst.end());
  append(b, opts);
  append(b, payload);
  return b;
}

// One IPv6 extension header (RFC 8200 §4). The builder writes the next
// header byte and the length byte; `body` is what follows them.
struct Ipv6Ext {
  std::uint8_t type = 0;
  Bytes body;
};

// `len_bytes` is the whole header, a multiple of 8 and at least 8; the
// body after the next-header and length bytes is PadN-like zeros.
inline Ipv6Ext zero_filled_ext(std::uint8_t type, std::size_t len_bytes) {
  Ipv6Ext e;
  e.type = type;
  for (std::size_t i = 2; i < len_bytes; ++i) e.body.push_back(0);
  return e;
}
inline Ipv6Ext hop_by_hop(std::size_t len_bytes = 8) { return zero_filled_ext(0, len_bytes); }
inline Ipv6Ext dest_options(std::size_t len_bytes = 8) { return zero_filled_ext(60, len_bytes); }
inline Ipv6Ext routing(std::size_t len_bytes = 24) { return zero_filled_ext(43, len_bytes); }
inline Ipv6Ext mobility(std::size_t len_bytes = 8) { return zero_filled_ext(135, len_bytes); }
// RFC 8200 §4.5: offset in 8-octet units, M flag, identification.
inline Ipv6Ext fragment(std::uint16_t offset_units, bool more, std::uint32_t id = 7) {
  Bytes body;
  put16(body, static_cast<std::uint16_t>((offset_units << 3) | (more ? 1 : 0)));
  put32(body, id);
  return {44, body};
}
// RFC 4302 §2: SPI, sequence number and a 12-byte ICV: 24 bytes in all.
inline Ipv6Ext auth_header() { return zero_filled_ext(51, 24); }

struct Ipv6Spec {
  std::array<std::uint8_t, 16> src{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::array<std::uint8_t, 16> dst{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  std::uint8_t hop_limit = 64;
  std::uint8_t traffic_class = 0;  // DSCP << 2 | ECN
  std::uint32_t flow_label = 0;
  std::vector<Ipv6Ext> ext;
  std::uint8_t upper_proto = 6;
  std::optional<std::uint16_t> payload_length;  // overrides the computed length
};

inline Bytes ipv6(const Ipv6Spec& s, const Bytes& payload) {
  Bytes chain;
  for (std::size_t i = 0; i < s.ext.size(); ++i) {
    const auto& e = s.ext[i];
    const std::uint8_t next = i + 1 < s.ext.size() ? s.ext[i + 1].type : s.upper_proto;
    const std::size_t total = 2 + e.body.size();
    chain.push_back(next);
    if (e.type == 44) {
      chain.push_back(0);  // reserved
    } else if (e.type == 51) {
      chain.push_back(static_cast<std::uint8_t>(total / 4 - 2));
    } else {
      chain.push_back(static_cast<std::uint8_t>(total / 8 - 1));
    }
    append(chain, e.body);
  }
  const std::uint8_t first = s.ext.empty() ? s.upper_proto : s.ext.front().type;
  Bytes b;
  put32(b, (6u << 28) | (std::uint32_t{s.traffic_class} << 20) | (s.flow_label & 0xfffff));
  put16(b, s.payload_length.value_or(static_cast<std::uint16_t>(chain.size() + payload.size())));
  b.push_back(first);
  b.push_back(s.hop_limit);
  b.insert(b.end(), s.src.begin(), s.src.end());
  b.insert(b.end(), s.dst.begin(), s.dst.end());
  append(b, chain);
  append(b, payload);
  return b;
}

inline constexpr std::uint16_t kEtherIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherIpv6 = 0x86dd;
inline constexpr std::uint16_t kEtherArp = 0x0806;

struct VlanTag {
  std::uint16_t tpid = 0x8100;
  std::uint16_t tci = 100;
};

// Ethernet II with optional stacked tags, outermost first.
inline Bytes ethernet(std::uint16_t ethertype, const Bytes& payload,
                      const std::vector<VlanTag>& tags = {}) {
  Bytes b = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
  for (const auto& t : tags) {
    put16(b, t.tpid);
    put16(b, t.tci);
  }
  put16(b, ethertype);
  append(b, payload);
  return b;
}

// Linux cooked v1: packet type, ARPHRD, address length, 8 address bytes,
// protocol (16 bytes).
inline Bytes sll(std::uint16_t protocol, const Bytes& payload) {
  Bytes b;
  put16(b, 0);  // PACKET_HOST
  put16(b, 1);  // ARPHRD_ETHER
  put16(b, 6);
  b.insert(b.end(), {0x02, 0, 0, 0, 0, 1, 0, 0});
  put16(b, protocol);
  append(b, payload);
  return b;
}

// Linux cooked v2: protocol, reserved, ifindex, ARPHRD, packet type,
// address length, 8 address bytes (20 bytes).
inline Bytes sll2(std::uint16_t protocol, const Bytes& payload) {
  Bytes b;
  put16(b, protocol);
  put16(b, 0);
  put32(b, 3);
  put16(b, 1);
  b.push_back(4);  // PACKET_OUTGOING
  b.push_back(6);
  b.insert(b.end(), {0x02, 0, 0, 0, 0, 1, 0, 0});
  append(b, payload);
  return b;
}

// BSD loopback: a 4-byte address family in the writer's byte order.
inline Bytes bsd_null(std::uint32_t af, bool little_endian, const Bytes& payload) {
  std::array<std::uint8_t, 4> hdr{};
  for (std::size_t i = 0; i < 4; ++i) {
    const std::size_t shift = 8 * (little_endian ? i : 3 - i);
    hdr[i] = static_cast<std::uint8_t>(af >> shift);
  }
  Bytes b(hdr.begin(), hdr.end());
  append(b, payload);
  return b;
}

inline Bytes ipv4_tcp(const Ipv4Spec& ip = {}, const TcpSpec& tcp = {}) {
  return ipv4(ip, tcp_segment(tcp));
}
inline Bytes ipv6_tcp(const Ipv6Spec& ip = {}, const TcpSpec& tcp = {}) {
  return ipv6(ip, tcp_segment(tcp));
}

}  // namespace huginn::test
