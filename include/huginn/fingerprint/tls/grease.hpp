#pragma once
// GREASE values, RFC 8701 §2: clients advertise reserved values of the form
// 0x?A?A (both bytes equal, low nibble 0xA) in cipher suites, extension
// types, supported groups, signature algorithms and supported versions so
// that servers learn to ignore unknown values. They are chosen at random
// per connection, so every fingerprint must skip them.
#include <cstdint>

namespace huginn::fingerprint::tls {

[[nodiscard]] constexpr bool is_grease(std::uint16_t v) {
  return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

}  // namespace huginn::fingerprint::tls
