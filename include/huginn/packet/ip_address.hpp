#pragma once
// An IPv4 or IPv6 address, stored left-aligned in 16 bytes as p0f does, so
// that one type serves as a hash key for hosts and flows of both families.
#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace huginn::packet {

enum class IpVersion : std::uint8_t { v4 = 4, v6 = 6 };

struct IpAddress {
  IpVersion version = IpVersion::v4;
  std::array<std::uint8_t, 16> bytes{};  // v4 uses bytes[0..3]; the rest stay zero

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

  // p0f's addr_to_str(): dotted quad, or RFC 5952 text for IPv6 (inet_ntop).
  [[nodiscard]] std::string to_string() const;
  [[nodiscard]] std::size_t hash() const;
};

}  // namespace huginn::packet

template <>
struct std::hash<huginn::packet::IpAddress> {
  std::size_t operator()(const huginn::packet::IpAddress& a) const noexcept { return a.hash(); }
};
