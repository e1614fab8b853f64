#include "huginn/packet/ip_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace huginn::packet {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // INET6_ADDRSTRLEN (46) counts the NUL; inet_pton needs a C string.
  char buf[46];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  if (std::memchr(text.data(), '\0', text.size()) != nullptr) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) return a;
  if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
    a.version = IpVersion::v6;
    return a;
  }
  return std::nullopt;
}

IpAddress IpAddress::unmapped() const {
  static constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (version != IpVersion::v6 || !std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), bytes.begin())) {
    return *this;
  }
  return v4(bytes[12], bytes[13], bytes[14], bytes[15]);
}

std::string IpAddress::to_string() const {
  char buf[48];  // "ffff:" x 8 = 40 characters, plus NUL
  if (version == IpVersion::v4) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", unsigned{bytes[0]}, unsigned{bytes[1]},
                  unsigned{bytes[2]}, unsigned{bytes[3]});
    return buf;
  }
  auto group = [this](int i) {
    return (unsigned{bytes[static_cast<std::size_t>(2 * i)]} << 8) |
           bytes[static_cast<std::size_t>(2 * i + 1)];
  };
  std::snprintf(buf, sizeof buf, "%x:%x:%x:%x:%x:%x:%x:%x", group(0), group(1), group(2),
                group(3), group(4), group(5), group(6), group(7));
  return buf;
}

std::string IpAddress::to_rfc5952_string() const {
  char buf[INET6_ADDRSTRLEN];
  const int af = version == IpVersion::v4 ? AF_INET : AF_INET6;
  if (inet_ntop(af, bytes.data(), buf, sizeof buf) == nullptr) return to_string();
  return buf;
}

std::size_t IpAddress::hash() const {
  // FNV-1a over the version and the significant bytes: cheap, and every
  // byte changes the result, which is all an unordered_map key needs.
  std::uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](std::uint8_t b) {
    h ^= b;
    h *= 0x100000001b3ull;
  };
  mix(static_cast<std::uint8_t>(version));
  const std::size_t n = version == IpVersion::v4 ? 4 : 16;
  for (std::size_t i = 0; i < n; ++i) mix(bytes[i]);
  return static_cast<std::size_t>(h);
}

}  // namespace huginn::packet
