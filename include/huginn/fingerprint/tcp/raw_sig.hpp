#pragma once
// Text forms p0f logs for a TCP signature: "raw_sig" (p0f README section 5,
// fp_tcp.c dump_sig) and "params" (dump_flags).
#include <cstdint>
#include <string>

#include "huginn/fingerprint/tcp/tcp_signature.hpp"

namespace huginn::fingerprint::tcp {

// ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass as p0f prints an
// observed packet. ittl is "TTL+dist" with dist = guess_dist(ttl), or "TTL+?"
// when that exceeds MAX_DIST. A SYN+ACK echoing p0f-sendsyn's special MSS
// prints "*" for mss. The window is written mss*N / mtu*N when
// detect_win_multi(sig, syn_mss) finds a positive multiple.
[[nodiscard]] std::string format_raw_sig(const TcpSignature& sig, std::uint16_t syn_mss);

// Comma-separated option layout ("mss,nop,ws,sok,eol+1"; unknown kinds "?N").
void append_olayout(std::string& out, const TcpSignature& sig);
// Comma-separated quirk names in p0f's fixed order ("df,id+,ecn").
void append_quirks(std::string& out, std::uint32_t quirks);

// The facts dump_flags reports, in its order.
struct ParamsInput {
  bool generic = false;      // matched a generic ('g') label
  bool fuzzy = false;        // approximate match
  bool random_ttl = false;   // matched signature has a "bad" (randomised) TTL
  std::uint8_t dist = 0;     // reported distance; "excess_dist" above MAX_DIST
  std::uint8_t tos = 0;      // DSCP; "tos:0xNN" when non-zero
};
// Space-separated "generic fuzzy random_ttl excess_dist tos:0xNN" subset,
// or "none".
[[nodiscard]] std::string format_params(const ParamsInput& in);

}  // namespace huginn::fingerprint::tcp
