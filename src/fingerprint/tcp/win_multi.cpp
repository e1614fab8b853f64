#include "huginn/fingerprint/tcp/win_multi.hpp"

#include "huginn/fingerprint/tcp/mtu.hpp"

namespace huginn::fingerprint::tcp {

WinMulti detect_win_multi(const TcpSignature& sig, std::uint16_t syn_mss) {
  const int win = sig.win;
  const int mss = sig.mss;
  if (win == 0 || mss < 100) return {};

  WinMulti out;
  // Divisors are ints: "peer MSS - 12" can go negative for tiny MSS values,
  // and then divides exactly as C's % does (sign of the dividend).
  auto try_div = [&](int div, bool use_mtu) {
    if (div == 0 || win % div != 0) return false;
    out.multi = static_cast<std::int16_t>(win / div);
    out.use_mtu = use_mtu;
    return true;
  };
  constexpr int kEthMtu = 1500;
  constexpr int kMin4 = static_cast<int>(kMinTcp4Headers);
  constexpr int kMin6 = static_cast<int>(kMinTcp6Headers);
  const bool v6 = sig.ip_ver == packet::IpVersion::v6;

  if (try_div(mss, false)) return out;
  // Some stacks subtract the 12-byte timestamp option from the MSS.
  if (sig.ts1 != 0 && try_div(mss - 12, false)) return out;
  // MSS of the usual Ethernet MTU, on the wrong interface.
  if (try_div(kEthMtu - kMin4, false) || try_div(kEthMtu - kMin4 - 12, false)) return out;
  if (v6 && (try_div(kEthMtu - kMin6, false) || try_div(kEthMtu - kMin6 - 12, false))) return out;
  // Stacks that scale by the MTU instead of the MSS.
  if (try_div(mss + kMin4, true) || try_div(mss + sig.tot_hdr, true)) return out;
  if (v6 && try_div(mss + kMin6, true)) return out;
  if (try_div(kEthMtu, true)) return out;
  // SYN+ACKs sometimes scale by the client's MSS.
  if (syn_mss != 0 && (try_div(syn_mss, false) || try_div(syn_mss - 12, false))) return out;
  return {};
}

}  // namespace huginn::fingerprint::tcp
