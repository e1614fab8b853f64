#pragma once
// FlowKey: the TCP 4-tuple (both addresses and ports), canonicalised so that
// both directions of a connection find the same flow-table entry.
//
// Canonical order: the endpoint that compares lower (address, then port) is
// low(), the other high(). Which endpoint is the client is not part of the
// key; the flow table records it when it creates the entry, by the rule in
// client_is_sender() below.
#include <bit>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>

#include "huginn/packet/decoded_packet.hpp"
#include "huginn/packet/ip_address.hpp"

namespace huginn::flow {

namespace detail {
// Bytes [first, first + 8) of an address as a big-endian word, so that
// comparing words compares the bytes lexicographically.
[[nodiscard]] inline std::uint64_t address_word(const packet::IpAddress& a, std::size_t first) {
  std::uint64_t w;
  std::memcpy(&w, a.bytes.data() + first, sizeof w);
  if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
  return w;
}
// IpAddress's == as two word compares. Every flow lookup compares
// addresses a few times; the defaulted == calls memcmp for 16 bytes.
[[nodiscard]] inline bool same_address(const packet::IpAddress& a, const packet::IpAddress& b) {
  std::uint64_t aw[2];
  std::uint64_t bw[2];
  std::memcpy(aw, a.bytes.data(), sizeof aw);
  std::memcpy(bw, b.bytes.data(), sizeof bw);
  return a.version == b.version && aw[0] == bw[0] && aw[1] == bw[1];
}
}  // namespace detail

struct Endpoint {
  packet::IpAddress addr;
  std::uint16_t port = 0;

  // Same result as a defaulted ==; ports first, as they differ most often.
  friend bool operator==(const Endpoint& a, const Endpoint& b) {
    return a.port == b.port && detail::same_address(a.addr, b.addr);
  }
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
};

// (a_addr, a_port) < (b_addr, b_port) by the defaulted <=> of Endpoint (IP
// version, address bytes, port), computed with word compares instead of
// memcmp.
[[nodiscard]] inline bool endpoint_less(const packet::IpAddress& a_addr, std::uint16_t a_port,
                                        const packet::IpAddress& b_addr, std::uint16_t b_port) {
  if (a_addr.version != b_addr.version) return a_addr.version < b_addr.version;
  const std::uint64_t a0 = detail::address_word(a_addr, 0);
  const std::uint64_t b0 = detail::address_word(b_addr, 0);
  if (a0 != b0) return a0 < b0;
  const std::uint64_t a1 = detail::address_word(a_addr, 8);
  const std::uint64_t b1 = detail::address_word(b_addr, 8);
  if (a1 != b1) return a1 < b1;
  return a_port < b_port;
}
[[nodiscard]] inline bool endpoint_less(const Endpoint& a, const Endpoint& b) {
  return endpoint_less(a.addr, a.port, b.addr, b.port);
}

// Direction of one segment relative to the flow's client.
enum class Direction : std::uint8_t {
  kToServer = 0,  // sent by the client
  kToClient = 1,  // sent by the server
};

[[nodiscard]] constexpr Direction reverse(Direction d) {
  return d == Direction::kToServer ? Direction::kToClient : Direction::kToServer;
}

[[nodiscard]] inline Endpoint source_of(const packet::DecodedPacket& pkt) {
  return Endpoint{pkt.src, pkt.sport};
}
[[nodiscard]] inline Endpoint destination_of(const packet::DecodedPacket& pkt) {
  return Endpoint{pkt.dst, pkt.dport};
}

// Ports from which operating systems pick ephemeral (client) ports: Linux
// uses 32768-60999, Windows and macOS the IANA dynamic range 49152-65535
// (RFC 6335 §6); this covers both.
inline constexpr std::uint16_t kEphemeralPortMin = 32768;

// Who the client is, decided from the segment that creates a flow:
//  - a SYN without ACK: its sender (RFC 9293 §3.5, the active opener);
//  - a SYN+ACK (the SYN was missed): its receiver;
//  - any other segment (mid-stream pickup): if `use_ports` and exactly one
//    of the two ports is ephemeral (>= kEphemeralPortMin), that side;
//    otherwise the segment's sender. Nothing in a mid-stream segment says
//    which side opened the connection: the sender rule alone is right when
//    the capture starts with the client talking and wrong when it starts
//    with a response, which the port rule catches for ordinary clients of
//    services on fixed ports below 32768.
// A simultaneous open (both sides send a bare SYN) makes the first SYN's
// sender the client.
[[nodiscard]] inline bool client_is_sender(const packet::DecodedPacket& pkt,
                                           bool use_ports = true) {
  const bool syn = (pkt.flags & packet::tcp_flags::kSyn) != 0;
  const bool ack = (pkt.flags & packet::tcp_flags::kAck) != 0;
  if (syn) return !ack;
  if (use_ports) {
    const bool src_ephemeral = pkt.sport >= kEphemeralPortMin;
    const bool dst_ephemeral = pkt.dport >= kEphemeralPortMin;
    if (src_ephemeral != dst_ephemeral) return src_ephemeral;
  }
  return true;
}

class FlowKey {
 public:
  FlowKey() = default;
  // Either order of the two endpoints gives the same key.
  FlowKey(const Endpoint& a, const Endpoint& b) : FlowKey(a, b, endpoint_less(a, b)) {}

  // FlowKey(source_of(pkt), destination_of(pkt)), without the temporaries.
  [[nodiscard]] static FlowKey from_packet(const packet::DecodedPacket& pkt) {
    FlowKey k;
    const bool src_low = endpoint_less(pkt.src, pkt.sport, pkt.dst, pkt.dport);
    k.low_.addr = src_low ? pkt.src : pkt.dst;
    k.low_.port = src_low ? pkt.sport : pkt.dport;
    k.high_.addr = src_low ? pkt.dst : pkt.src;
    k.high_.port = src_low ? pkt.dport : pkt.sport;
    return k;
  }

  [[nodiscard]] const Endpoint& low() const { return low_; }
  [[nodiscard]] const Endpoint& high() const { return high_; }

  // Mixes both addresses, both ports and the IP version with `seed`. The
  // seed lets a live capture randomise bucket placement, so that crafted
  // 4-tuples cannot be aimed at one bucket of a known hash; replays and
  // tests use the fixed default. (Multiply-xorshift, not a keyed PRF: it
  // raises the cost of collision floods, it does not rule them out.)
  [[nodiscard]] std::size_t hash(std::uint64_t seed = 0) const;

  friend bool operator==(const FlowKey&, const FlowKey&) = default;

 private:
  FlowKey(const Endpoint& a, const Endpoint& b, bool a_low)
      : low_(a_low ? a : b), high_(a_low ? b : a) {}

  Endpoint low_;
  Endpoint high_;
};

struct FlowKeyHash {
  std::uint64_t seed = 0;
  std::size_t operator()(const FlowKey& k) const noexcept { return k.hash(seed); }
};

}  // namespace huginn::flow

template <>
struct std::hash<huginn::flow::FlowKey> {
  std::size_t operator()(const huginn::flow::FlowKey& k) const noexcept { return k.hash(); }
};
