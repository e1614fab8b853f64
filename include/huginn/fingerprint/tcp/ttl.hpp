#pragma once
// Initial-TTL guessing for signatures no p0f.fp entry explains
// (p0f fp_tcp.c guess_dist; README "ittl").
#include <cstdint>

namespace huginn::fingerprint::tcp {

// Hops between the sender and us, assuming the sender started from the
// smallest common initial TTL (32, 64, 128 or 255) not below the observed one.
[[nodiscard]] constexpr std::uint8_t guess_dist(std::uint8_t ttl) {
  if (ttl <= 32) return static_cast<std::uint8_t>(32 - ttl);
  if (ttl <= 64) return static_cast<std::uint8_t>(64 - ttl);
  if (ttl <= 128) return static_cast<std::uint8_t>(128 - ttl);
  return static_cast<std::uint8_t>(255 - ttl);
}

}  // namespace huginn::fingerprint::tcp
