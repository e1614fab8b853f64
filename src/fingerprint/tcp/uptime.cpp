#include "huginn/fingerprint/tcp/uptime.hpp"

#include "huginn/util/limits.hpp"

namespace huginn::fingerprint::tcp {

std::uint32_t round_ts_frequency(double raw_freq_hz) {
  auto freq = static_cast<std::uint32_t>(raw_freq_hz);
  // Real stacks tick at round rates (1, 10, 100, 250, 1000 Hz...), so p0f
  // snaps the measurement to a grid that gets coarser as the rate grows.
  if (freq == 0) return 1;
  if (freq <= 10) return freq;
  if (freq <= 50) return (freq + 3) / 5 * 5;
  if (freq <= 100) return (freq + 7) / 10 * 10;
  if (freq <= 500) return (freq + 33) / 50 * 50;
  return (freq + 67) / 100 * 100;
}

UptimeResult estimate_uptime(std::uint32_t ts_now, std::uint32_t ts_ref, std::uint64_t ms_diff) {
  if (ms_diff < limits::kMinTwaitMs || ms_diff > limits::kMaxTwaitMs) return UptimeSkipped{};

  const std::uint32_t ts_diff = ts_now - ts_ref;  // modulo 2^32, as the clock wraps
  const std::uint32_t back = ~ts_diff;            // how far the clock went back, if it did
  // A slight step back shortly after the reference is reordering, not a
  // clock: wait for more. The threshold is p0f's integer MAX_TSCALE/TSTAMP_GRACE.
  constexpr auto kMaxBackPerGrace =
      static_cast<std::uint32_t>(limits::kMaxTsScale) / limits::kTstampGraceMs;
  if (ts_diff < 5 || (ms_diff < limits::kTstampGraceMs && back / 1000 < kMaxBackPerGrace)) {
    return UptimeSkipped{};
  }

  const double ms = static_cast<double>(ms_diff);
  const double raw = ts_diff > back ? static_cast<double>(back) * -1000.0 / ms
                                    : static_cast<double>(ts_diff) * 1000.0 / ms;
  if (raw < limits::kMinTsScale || raw > limits::kMaxTsScale) return UptimeBadFrequency{raw};

  UptimeEstimate est;
  est.raw_freq_hz = raw;
  est.freq_hz = round_ts_frequency(raw);
  est.up_min = ts_now / est.freq_hz / 60;
  est.modulo_days = 0xFFFFFFFFu / (est.freq_hz * 60u * 60u * 24u);
  return est;
}

}  // namespace huginn::fingerprint::tcp
