#include "huginn/fingerprint/tcp/uptime.hpp"

#include <gtest/gtest.h>

namespace huginn::fingerprint::tcp {
namespace {

TEST(Uptime, RoundingGrid) {
  EXPECT_EQ(round_ts_frequency(0.8), 1u);
  EXPECT_EQ(round_ts_frequency(7.9), 7u);
  EXPECT_EQ(round_ts_frequency(10.5), 10u);
  EXPECT_EQ(round_ts_frequency(12), 15u);  // (12+3)/5*5
  EXPECT_EQ(round_ts_frequency(11), 10u);
  EXPECT_EQ(round_ts_frequency(97), 100u);
  EXPECT_EQ(round_ts_frequency(260), 250u);
  EXPECT_EQ(round_ts_frequency(994.38), 1000u);
  EXPECT_EQ(round_ts_frequency(1032), 1000u);
  EXPECT_EQ(round_ts_frequency(1033), 1100u);  // p0f rounds up from 33 past a hundred
}

TEST(Uptime, ThousandHertzClock) {
  // 1000 ticks in 1 s; TSval 13 days and 6 minutes at 1 kHz.
  const std::uint32_t ts_now = (13u * 24 * 60 + 6) * 60 * 1000;
  const auto res = estimate_uptime(ts_now, ts_now - 1000, 1000);
  const auto* est = std::get_if<UptimeEstimate>(&res);
  ASSERT_NE(est, nullptr);
  EXPECT_DOUBLE_EQ(est->raw_freq_hz, 1000.0);
  EXPECT_EQ(est->freq_hz, 1000u);
  EXPECT_EQ(est->up_min, 13u * 24 * 60 + 6);
  EXPECT_EQ(est->modulo_days, 49u);  // 2^32 ms
}

TEST(Uptime, HundredHertzModulo) {
  // 100000 ticks in 500 ms is 200 kHz: not an RFC 7323 clock.
  EXPECT_TRUE(std::holds_alternative<UptimeBadFrequency>(estimate_uptime(600000, 500000, 500)));
  const auto ok = estimate_uptime(60000, 50000, 100000);             // 10000 ticks in 100 s
  const auto* est = std::get_if<UptimeEstimate>(&ok);
  ASSERT_NE(est, nullptr);
  EXPECT_EQ(est->freq_hz, 100u);
  EXPECT_EQ(est->up_min, 60000u / 100 / 60);
  EXPECT_EQ(est->modulo_days, 497u);
}

TEST(Uptime, OutsideTimeWindowOrTooFewTicks) {
  EXPECT_TRUE(std::holds_alternative<UptimeSkipped>(estimate_uptime(2000, 1000, 24)));
  EXPECT_TRUE(std::holds_alternative<UptimeSkipped>(estimate_uptime(2000, 1000, 600001)));
  EXPECT_TRUE(std::holds_alternative<UptimeSkipped>(estimate_uptime(1004, 1000, 1000)));
}

TEST(Uptime, SmallStepBackWithinGraceIsReordering) {
  EXPECT_TRUE(std::holds_alternative<UptimeSkipped>(estimate_uptime(1000, 1010, 50)));
}

TEST(Uptime, LargeStepBackIsBadFrequency) {
  const auto res = estimate_uptime(1000, 5000000, 1000);
  const auto* bad = std::get_if<UptimeBadFrequency>(&res);
  ASSERT_NE(bad, nullptr);
  EXPECT_LT(bad->raw_freq_hz, 0);
}

TEST(Uptime, TooSlowClock) {
  EXPECT_TRUE(std::holds_alternative<UptimeBadFrequency>(estimate_uptime(1010, 1000, 500000)));
}

}  // namespace
}  // namespace huginn::fingerprint::tcp
