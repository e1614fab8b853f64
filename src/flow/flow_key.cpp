#include "huginn/flow/flow_key.hpp"


namespace huginn::flow {

namespace {

using detail::address_word;

// One round of a multiply-xorshift mixer (the finaliser of splitmix64):
// every input bit reaches every output bit, at three multiplies per word.
std::uint64_t mix(std::uint64_t h, std::uint64_t w) {
  h ^= w;
  h *= 0x9e3779b97f4a7c15ull;
  h ^= h >> 29;
  return h;
}

}  // namespace

std::size_t FlowKey::hash(std::uint64_t seed) const {
  std::uint64_t h = seed ^ 0x243f6a8885a308d3ull;
  h = mix(h, address_word(low_.addr, 0));
  h = mix(h, address_word(low_.addr, 8));
  h = mix(h, address_word(high_.addr, 0));
  h = mix(h, address_word(high_.addr, 8));
  // The version separates an IPv4 address from the IPv6 address whose
  // first four bytes are equal (the rest of both is zero).
  h = mix(h, (std::uint64_t{low_.port} << 32) | (std::uint64_t{high_.port} << 16) |
                 (std::uint64_t{static_cast<std::uint8_t>(low_.addr.version)} << 8) |
                 static_cast<std::uint8_t>(high_.addr.version));
  h ^= h >> 32;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 31;
  return static_cast<std::size_t>(h);
}

}  // namespace huginn::flow
