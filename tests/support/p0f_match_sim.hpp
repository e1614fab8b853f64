#pragma once
// A test-side model of how p0f 3.09b picks a [tcp:request]/[tcp:response]
// signature for one packet: its window-multiplier guess and its search for
// an exact, generic or fuzzy match.
//
// It is used only to *craft* inputs: the corpus generator asks it whether a
// packet built for line N would be claimed by line N, and redraws the
// wildcard values otherwise. It is deliberately independent of db/ and
// fingerprint/ matching code, so that a bug there cannot make the crafted
// corpus agree with itself; the verdict on our matcher always comes from
// running p0f on the corpus.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "huginn/db/p0f_db.hpp"
#include "huginn/packet/ip_address.hpp"

namespace huginn::test {

// What p0f extracts from one SYN or SYN+ACK.
struct SimObservation {
  packet::IpVersion ip_ver = packet::IpVersion::v4;
  std::uint8_t ttl = 0;           // observed TTL / hop limit
  std::uint8_t ip_opt_len = 0;
  std::uint16_t mss = 0;          // 0 when no MSS option
  std::uint16_t win = 0;
  std::uint8_t wscale = 0;        // 0 when no WS option
  std::vector<std::uint8_t> olayout;
  std::uint8_t opt_eol_pad = 0;
  std::uint32_t quirks = 0;       // fingerprint::tcp::Quirk bits
  bool payload = false;
  std::uint16_t tot_hdr = 0;      // IP header (IHL*4 or 40) + TCP header length
  std::uint32_t ts1 = 0;          // own TSval; 0 when no timestamp option
};

// p0f's window-multiplier guess: the multiplier and whether it is of the
// MTU (true) or the MSS (false); nullopt when the window is not a multiple
// of any candidate. syn_mss is the MSS of the SYN a SYN+ACK answers (0 for
// a SYN), which p0f tries last.
struct WinMulti {
  int multi = 0;
  bool use_mtu = false;
};
std::optional<WinMulti> sim_detect_win_multi(const SimObservation& obs, std::uint16_t syn_mss);

struct SimMatch {
  const db::TcpSigRecord* record = nullptr;  // nullptr: no match
  bool fuzzy = false;
  int dist = 0;  // p0f "dist" (sig TTL - observed TTL, or p0f's guess)
};

// p0f's choice among `sigs` (one section of p0f.fp, in file order): the first
// exact non-generic match; else the first exact generic one; else the first
// fuzzy one (never for userland tools).
SimMatch sim_p0f_match(std::span<const db::TcpSigRecord> sigs, const SimObservation& obs,
                       std::uint16_t syn_mss);

}  // namespace huginn::test
