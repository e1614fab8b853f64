#include "huginn/util/json_escape.hpp"

#include <cstdint>
#include <cstring>

namespace huginn::util::json_escape_detail {

std::size_t plain_run_end(std::string_view s, std::size_t i) {
  // Eight bytes at a time (SWAR): a byte needs a look when it is below
  // 0x20, has its top bit set, or equals '"' or '\\'.
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHigh = 0x8080808080808080ull;
  // A byte of the result has its top bit set iff that byte of w is zero
  // (exact when no byte of w has its top bit set, as checked first).
  const auto zero_bytes = [](std::uint64_t w) { return (w - kOnes) & ~w & kHigh; };
  while (s.size() - i >= 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, sizeof w);
    if ((w & kHigh) != 0) break;
    const std::uint64_t special = ((w - kOnes * 0x20) & kHigh) |  // below 0x20 (no top bits)
                                  zero_bytes(w ^ (kOnes * '"')) | zero_bytes(w ^ (kOnes * '\\'));
    if (special != 0) break;
    i += 8;
  }
  while (i < s.size() && plain_ascii(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t& bad_at) {
  // RFC 3629 §4: the second byte's range depends on the lead byte.
  const auto lead = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    len = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    len = 3;
    if (lead == 0xe0) lo = 0xa0;  // no overlong forms
    if (lead == 0xed) hi = 0x9f;  // no surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    len = 4;
    if (lead == 0xf0) lo = 0x90;  // no overlong forms
    if (lead == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
  } else {
    bad_at = 0;
    return 0;
  }
  for (std::size_t k = 1; k < len; ++k) {
    if (i + k >= s.size()) {
      bad_at = k;
      return 0;
    }
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < lo || b > hi) {
      bad_at = k;
      return 0;
    }
    lo = 0x80;
    hi = 0xbf;
  }
  return len;
}

std::string_view escape_ascii(unsigned char b, char (&buf)[6]) {
  switch (b) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: break;
  }
  constexpr std::string_view kHex = "0123456789abcdef";
  buf[0] = '\\';
  buf[1] = 'u';
  buf[2] = '0';
  buf[3] = '0';
  buf[4] = kHex[(b >> 4) & 0xf];
  buf[5] = kHex[b & 0xf];
  return {buf, sizeof buf};
}

}  // namespace huginn::util::json_escape_detail
