#pragma once
// Window size as a multiple of MSS or MTU (p0f README "wsize": "mss*N",
// "mtu*N"; fp_tcp.c detect_win_multi).
#include <cstdint>

#include "huginn/fingerprint/tcp/tcp_signature.hpp"

namespace huginn::fingerprint::tcp {

struct WinMulti {
  // Window / divisor, or -1 when no divisor explains the window. Kept as
  // p0f's signed 16-bit value: a quotient above 32767 wraps negative and is
  // then treated as "no multiple" by the formatter and never matches.
  std::int16_t multi = -1;
  bool use_mtu = false;  // divisor was an MTU rather than an MSS
};

// Tries p0f's divisors in p0f's order and returns the first that divides the
// window: MSS; MSS-12 when timestamps are on; 1460 and 1448 (MTU 1500 over
// IPv4); 1440 and 1428 on IPv6; then MTU-style MSS+40, MSS+tot_hdr, MSS+60
// (IPv6) and 1500; finally, on SYN+ACKs, the peer's SYN MSS and that minus 12
// (syn_mss = 0 when unknown). No multiple when the window is 0 or MSS < 100.
[[nodiscard]] WinMulti detect_win_multi(const TcpSignature& sig, std::uint16_t syn_mss);

}  // namespace huginn::fingerprint::tcp
