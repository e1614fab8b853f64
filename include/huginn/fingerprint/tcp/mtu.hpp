#pragma once
// Link MTU from the MSS option (p0f fp_mtu.c): MSS plus the minimal IP and
// TCP headers of the address family (RFC 879 / RFC 8200 §5: MSS = MTU - 40
// for IPv4, MTU - 60 for IPv6). p0f logs it whenever a SYN or SYN+ACK carries
// a non-zero MSS.
#include <cstdint>
#include <optional>

#include "huginn/packet/ip_address.hpp"

namespace huginn::fingerprint::tcp {

inline constexpr std::uint32_t kMinTcp4Headers = 20 + 20;
inline constexpr std::uint32_t kMinTcp6Headers = 40 + 20;

// nullopt when mss == 0 (no MSS option, or a literal zero): p0f logs nothing.
[[nodiscard]] constexpr std::optional<std::uint32_t> mss_to_mtu(std::uint16_t mss,
                                                                packet::IpVersion ver) {
  if (mss == 0) return std::nullopt;
  return mss + (ver == packet::IpVersion::v4 ? kMinTcp4Headers : kMinTcp6Headers);
}

}  // namespace huginn::fingerprint::tcp
