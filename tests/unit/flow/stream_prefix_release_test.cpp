// StreamPrefix::release(): a stream whose bytes nobody reads again frees
// its buffers, ignores later bytes as stop() does, and works again after
// reset().
#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "huginn/flow/stream_prefix.hpp"

namespace huginn::flow {
namespace {

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
std::string text(std::span<const std::uint8_t> s) { return {s.begin(), s.end()}; }

StreamPrefixConfig cap(std::size_t n) {
  StreamPrefixConfig c;
  c.max_bytes = n;
  return c;
}

TEST(StreamPrefixRelease, EmptiesTheStreamAndIgnoresLaterBytes) {
  StreamPrefix s(cap(64));
  s.start_at(100);
  s.add(100, bytes("hello "));
  s.add(110, bytes("late"));  // held past a gap
  ASSERT_EQ(s.contiguous().size(), 6u);
  ASSERT_EQ(s.held_bytes(), 4u);
  s.consume(3);
  s.release();
  EXPECT_TRUE(s.stopped());
  EXPECT_TRUE(s.contiguous().empty());
  EXPECT_TRUE(s.unconsumed().empty());
  EXPECT_EQ(s.consumed(), 0u);
  EXPECT_EQ(s.stored_bytes(), 0u);
  // No gap reads as open, so finish() has nothing to give up on.
  EXPECT_FALSE(s.gap_open());
  EXPECT_FALSE(s.finish());
  EXPECT_FALSE(s.gave_up());
  const SegmentResult r = s.add(106, bytes("world"));
  EXPECT_EQ(r.ignored_bytes, 5u);
  EXPECT_EQ(r.new_bytes, 0u);
  EXPECT_TRUE(s.contiguous().empty());
  // What happened before the release is still counted.
  EXPECT_EQ(s.stats().new_bytes, 10u);
  EXPECT_EQ(s.stats().ignored_bytes, 5u);
  EXPECT_EQ(s.stats().segments, 3u);
}

TEST(StreamPrefixRelease, ReleasingTwiceOrBeforeAnyByteIsHarmless) {
  StreamPrefix s(cap(16));
  s.release();
  s.release();
  EXPECT_TRUE(s.contiguous().empty());
  EXPECT_EQ(s.add(1, bytes("x")).ignored_bytes, 1u);
}

TEST(StreamPrefixRelease, ResetStreamAllocatesAgainAndReassembles) {
  StreamPrefix s(cap(8));
  s.start_at(1);
  s.add(1, bytes("abcdefgh"));
  ASSERT_TRUE(s.full());
  s.release();
  s.reset();
  EXPECT_FALSE(s.stopped());
  EXPECT_FALSE(s.started());
  s.start_at(500);
  // Out of order first, so the presence bitmap is exercised too.
  const SegmentResult later = s.add(504, bytes("5678"));
  EXPECT_TRUE(later.held);
  const SegmentResult first = s.add(500, bytes("1234"));
  EXPECT_EQ(first.contiguous_growth, 8u);
  EXPECT_EQ(text(s.contiguous()), "12345678");
  EXPECT_TRUE(s.full());
  EXPECT_EQ(s.stats().new_bytes, 8u);
}

}  // namespace
}  // namespace huginn::flow
