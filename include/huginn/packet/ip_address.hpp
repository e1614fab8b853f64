#pragma once
// An IPv4 or IPv6 address, stored left-aligned in 16 bytes as p0f does, so
// that one type serves as a hash key for hosts and flows of both families.
#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace huginn::packet {

enum class IpVersion : std::uint8_t { v4 = 4, v6 = 6 };

struct IpAddress {
  IpVersion version = IpVersion::v4;
  std::array<std::uint8_t, 16> bytes{};  // v4 uses bytes[0..3]; the rest stay zero

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

  // Text exactly as p0f 3.09b prints addresses (addr_to_str): a dotted quad,
  // or for IPv6 all eight groups in lower-case hex without leading zeros and
  // without "::" compression ("2606:4700:0:0:0:0:6811:d209"). p0f does not
  // use inet_ntop here, and its log format is our oracle.
  [[nodiscard]] std::string to_string() const;
  // RFC 5952 canonical text (inet_ntop), for JSON and the dashboard, where
  // users paste addresses into other tools.
  [[nodiscard]] std::string to_rfc5952_string() const;
  [[nodiscard]] std::size_t hash() const;

  // A dotted quad or RFC 4291 §2.2 text (inet_pton); nullopt for anything
  // else, including embedded NULs and text longer than any address.
  [[nodiscard]] static std::optional<IpAddress> parse(std::string_view text);
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) as the
  // IPv4 address it carries; any other address unchanged. Dual-stack
  // sockets report IPv4 peers this way.
  [[nodiscard]] IpAddress unmapped() const;

  // a.b.c.d, and an IPv6 address from its 16 network-order bytes.
  static IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    IpAddress r;
    r.bytes[0] = a;
    r.bytes[1] = b;
    r.bytes[2] = c;
    r.bytes[3] = d;
    return r;
  }
  static IpAddress v6(const std::array<std::uint8_t, 16>& b) {
    IpAddress r;
    r.version = IpVersion::v6;
    r.bytes = b;
    return r;
  }
};

}  // namespace huginn::packet

template <>
struct std::hash<huginn::packet::IpAddress> {
  std::size_t operator()(const huginn::packet::IpAddress& a) const noexcept { return a.hash(); }
};
