#pragma once
// Uptime from TCP timestamp clocks (RFC 7323 §5.4 lets TSval tick at 1 Hz to
// 1 kHz; p0f fp_tcp.c check_ts_tcp): compare a packet's TSval with the one
// on the host's last SYN (or SYN+ACK), estimate the tick rate, and divide.
#include <cstdint>
#include <variant>

namespace huginn::fingerprint::tcp {

// Interval outside MIN_TWAIT..MAX_TWAIT, or too few ticks: no reading
// (p0f returns silently and tries again on a later packet).
struct UptimeSkipped {};
// A rate outside [MIN_TSCALE, MAX_TSCALE]: the clock is not a usable
// uptime counter (p0f stops trying on this flow direction unless the packet
// is a SYN).
struct UptimeBadFrequency {
  double raw_freq_hz = 0;
};
struct UptimeEstimate {
  double raw_freq_hz = 0;          // measured ticks per second
  std::uint32_t freq_hz = 0;       // rounded as p0f rounds it (1..10 exact, then 5/10/50/100 steps)
  std::uint32_t up_min = 0;        // ts_now / freq_hz / 60
  std::uint32_t modulo_days = 0;   // days until a 32-bit counter at freq_hz wraps
};
using UptimeResult = std::variant<UptimeSkipped, UptimeBadFrequency, UptimeEstimate>;

// ts_now / ts_ref: TSval of this packet and of the reference SYN/SYN+ACK;
// ms_diff: capture-clock milliseconds between them (p0f's millisecond clock:
// seconds*1000 + microseconds/1000 of each packet, then subtracted). Waits
// for MIN_TWAIT..MAX_TWAIT ms and at least 5 ticks; tolerates a small step
// back within TSTAMP_GRACE (reordering) by waiting; a large step back reads
// as a negative rate, i.e. a bad frequency.
[[nodiscard]] UptimeResult estimate_uptime(std::uint32_t ts_now, std::uint32_t ts_ref,
                                           std::uint64_t ms_diff);

// p0f's rounding of a measured rate (ffreq already within bounds).
[[nodiscard]] std::uint32_t round_ts_frequency(double raw_freq_hz);

}  // namespace huginn::fingerprint::tcp
