#include "huginn/flow/stream_prefix.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace huginn::flow {
namespace {

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
std::string text(std::span<const std::uint8_t> s) { return {s.begin(), s.end()}; }

// The bytes of a stream at offsets [from, from + n): a pattern that makes
// every misplaced byte visible.
std::vector<std::uint8_t> stream_bytes(std::size_t from, std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>((from + i) * 7 + 3);
  return v;
}

// Bytes [from, from + n) of `all`.
std::span<const std::uint8_t> slice(const std::vector<std::uint8_t>& all, std::size_t from,
                                    std::size_t n) {
  return std::span<const std::uint8_t>(all).subspan(from, n);
}

StreamPrefixConfig small(std::size_t n, std::uint32_t gap_segments = 64) {
  StreamPrefixConfig c;
  c.max_bytes = n;
  c.max_segments_past_gap = gap_segments;
  return c;
}

TEST(StreamPrefixTest, InOrderSegmentsAppend) {
  StreamPrefix s;
  ASSERT_TRUE(s.start_at(1001));
  EXPECT_FALSE(s.start_at(5));  // the start point is fixed once
  auto r = s.add(1001, bytes("GET / HT"));
  EXPECT_EQ(r.new_bytes, 8u);
  EXPECT_EQ(r.contiguous_growth, 8u);
  r = s.add(1009, bytes("TP/1.1\r\n"));
  EXPECT_EQ(r.contiguous_growth, 8u);
  EXPECT_EQ(text(s.contiguous()), "GET / HTTP/1.1\r\n");
  EXPECT_EQ(s.held_bytes(), 0u);
  EXPECT_FALSE(s.gap_open());
  EXPECT_EQ(s.stats().segments, 2u);
  EXPECT_EQ(*s.start_seq(), 1001u);
}

TEST(StreamPrefixTest, DefaultPrefixIsP0fMaxFlowData) {
  StreamPrefix s;
  EXPECT_EQ(s.config().max_bytes, 8192u);
}

TEST(StreamPrefixTest, RetransmissionIsIgnored) {
  StreamPrefix s;
  s.start_at(100);
  s.add(100, bytes("hello "));
  auto r = s.add(100, bytes("hello "));
  EXPECT_EQ(r.duplicate_bytes, 6u);
  EXPECT_EQ(r.new_bytes, 0u);
  EXPECT_EQ(r.conflict_bytes, 0u);
  // A retransmission that also carries new bytes keeps only those.
  r = s.add(103, bytes("lo world"));
  EXPECT_EQ(r.duplicate_bytes, 3u);
  EXPECT_EQ(r.new_bytes, 5u);
  EXPECT_EQ(text(s.contiguous()), "hello world");
  EXPECT_EQ(s.stats().duplicate_bytes, 9u);
  EXPECT_EQ(s.stats().conflict_segments, 0u);
}

TEST(StreamPrefixTest, PartialOverlapWithDifferentBytesKeepsTheFirstCopy) {
  StreamPrefix s;
  s.start_at(0);
  s.add(0, bytes("abcdef"));
  // Overlaps "def" with "XYZ" and adds "gh": a "last" policy would give
  // "abcXYZgh"; first-wins keeps "abcdefgh".
  auto r = s.add(3, bytes("XYZgh"));
  EXPECT_EQ(r.conflict_bytes, 3u);
  EXPECT_EQ(r.new_bytes, 2u);
  EXPECT_EQ(text(s.contiguous()), "abcdefgh");
  EXPECT_EQ(s.stats().conflict_segments, 1u);
  EXPECT_EQ(s.stats().conflict_bytes, 3u);
}

TEST(StreamPrefixTest, OverlapOnHeldBytesAlsoKeepsTheFirstCopy) {
  StreamPrefix s;
  s.start_at(0);
  s.add(0, bytes("ab"));
  s.add(4, bytes("ef"));  // held past the gap at [2, 4)
  // Fills the gap and disagrees with the held "e".
  auto r = s.add(2, bytes("cdE"));
  EXPECT_EQ(r.new_bytes, 2u);
  EXPECT_EQ(r.conflict_bytes, 1u);
  EXPECT_EQ(text(s.contiguous()), "abcdef");
  EXPECT_EQ(s.held_bytes(), 0u);
}

TEST(StreamPrefixTest, OutOfOrderSegmentIsHeldUntilTheGapFills) {
  StreamPrefix s;
  s.start_at(5000);
  s.add(5000, bytes("0123"));
  auto r = s.add(5008, bytes("89"));
  EXPECT_TRUE(r.held);
  EXPECT_EQ(r.contiguous_growth, 0u);
  r = s.add(5006, bytes("67"));
  EXPECT_TRUE(r.held);
  EXPECT_EQ(text(s.contiguous()), "0123");
  EXPECT_EQ(s.held_bytes(), 4u);
  EXPECT_EQ(s.stored_bytes(), 8u);
  EXPECT_TRUE(s.gap_open());
  r = s.add(5004, bytes("45"));
  EXPECT_FALSE(r.held);
  EXPECT_EQ(r.contiguous_growth, 6u);
  EXPECT_EQ(text(s.contiguous()), "0123456789");
  EXPECT_EQ(s.held_bytes(), 0u);
  EXPECT_FALSE(s.gap_open());
  EXPECT_EQ(s.stats().held_segments, 2u);
}

TEST(StreamPrefixTest, OutOfOrderAcrossWordBoundariesOfTheBitmap) {
  StreamPrefix s(small(300));
  s.start_at(0);
  const auto all = stream_bytes(0, 300);
  s.add(200, slice(all, 200, 100));
  s.add(70, slice(all, 70, 130));
  s.add(1, slice(all, 1, 69));
  EXPECT_EQ(s.contiguous().size(), 0u);
  EXPECT_EQ(s.held_bytes(), 299u);
  s.add(0, slice(all, 0, 1));
  ASSERT_EQ(s.contiguous().size(), 300u);
  EXPECT_TRUE(std::equal(all.begin(), all.end(), s.contiguous().begin()));
  EXPECT_TRUE(s.full());
}

TEST(StreamPrefixTest, GapGivesUpAfterTheConfiguredNumberOfLaterSegments) {
  StreamPrefix s(small(100, 3));
  s.start_at(0);
  s.add(0, bytes("aa"));
  s.add(10, bytes("b"));  // opens the gap [2, 10)
  EXPECT_FALSE(s.add(11, bytes("c")).gave_up);
  EXPECT_FALSE(s.add(12, bytes("d")).gave_up);
  const auto r = s.add(13, bytes("e"));
  EXPECT_TRUE(r.gave_up);
  EXPECT_TRUE(s.gave_up());
  EXPECT_EQ(s.give_up_reason(), GiveUpReason::kGapNotFilled);
  // The in-order part stays; later bytes, even the missing ones, are ignored.
  EXPECT_EQ(text(s.contiguous()), "aa");
  const auto late = s.add(2, bytes("xxxxxxxx"));
  EXPECT_EQ(late.ignored_bytes, 8u);
  EXPECT_EQ(text(s.contiguous()), "aa");
  EXPECT_EQ(s.stats().ignored_bytes, 8u);
}

TEST(StreamPrefixTest, FillingTheGapResetsTheGiveUpCount) {
  StreamPrefix s(small(100, 2));
  s.start_at(0);
  s.add(2, bytes("c"));   // gap [0, 2)
  s.add(3, bytes("d"));   // 1 later segment
  s.add(0, bytes("ab"));  // filled
  s.add(6, bytes("g"));   // new gap [4, 6)
  EXPECT_FALSE(s.add(7, bytes("h")).gave_up);  // 1 later segment, not 3
  EXPECT_FALSE(s.gave_up());
  EXPECT_TRUE(s.add(8, bytes("i")).gave_up);
}

TEST(StreamPrefixTest, FinishGivesUpOnAnOpenGapOnly) {
  StreamPrefix clean;
  clean.start_at(0);
  clean.add(0, bytes("abc"));
  EXPECT_FALSE(clean.finish());
  EXPECT_FALSE(clean.gave_up());

  StreamPrefix holed;
  holed.start_at(0);
  holed.add(1, bytes("bc"));
  EXPECT_TRUE(holed.finish());
  EXPECT_EQ(holed.give_up_reason(), GiveUpReason::kGapAtClose);
  EXPECT_FALSE(holed.finish());  // once
}

TEST(StreamPrefixTest, SequenceWrapAroundAt2To32) {
  StreamPrefix s;
  const std::uint32_t isn = 0xfffffffcu;
  s.start_at(isn + 1);  // 0xfffffffd
  s.add(0xfffffffdu, bytes("abc"));  // ends exactly at 2^32
  auto r = s.add(0x00000000u, bytes("def"));
  EXPECT_EQ(r.contiguous_growth, 3u);
  // Out of order across the wrap: held, then filled.
  r = s.add(0x00000005u, bytes("ij"));
  EXPECT_TRUE(r.held);
  s.add(0x00000003u, bytes("gh"));
  EXPECT_EQ(text(s.contiguous()), "abcdefghij");
  // A retransmission from before the wrap is a duplicate, not new data.
  r = s.add(0xfffffffeu, bytes("bcd"));
  EXPECT_EQ(r.duplicate_bytes, 3u);
  EXPECT_EQ(r.before_start_bytes, 0u);
}

TEST(StreamPrefixTest, BytesBeforeTheStartAreDropped) {
  StreamPrefix s;
  s.start_at(0x00000002u);
  auto r = s.add(0xfffffffeu, bytes("wxyzab"));  // 4 bytes before the start, across the wrap
  EXPECT_EQ(r.before_start_bytes, 4u);
  EXPECT_EQ(r.new_bytes, 2u);
  EXPECT_EQ(text(s.contiguous()), "ab");
}

TEST(StreamPrefixTest, PrefixLimitExactlyN) {
  StreamPrefix s(small(10));
  s.start_at(0);
  const auto data = stream_bytes(0, 10);
  auto r = s.add(0, data);
  EXPECT_EQ(r.new_bytes, 10u);
  EXPECT_EQ(r.beyond_prefix_bytes, 0u);
  EXPECT_TRUE(r.filled);
  EXPECT_TRUE(s.full());
  EXPECT_EQ(s.contiguous().size(), 10u);
}

TEST(StreamPrefixTest, PrefixLimitNMinusOne) {
  StreamPrefix s(small(10));
  s.start_at(0);
  auto r = s.add(0, stream_bytes(0, 9));
  EXPECT_FALSE(r.filled);
  EXPECT_FALSE(s.full());
  EXPECT_EQ(r.beyond_prefix_bytes, 0u);
  r = s.add(9, stream_bytes(9, 1));
  EXPECT_TRUE(r.filled);
  EXPECT_EQ(s.contiguous().size(), 10u);
}

TEST(StreamPrefixTest, PrefixLimitNPlusOne) {
  StreamPrefix s(small(10));
  s.start_at(0);
  const auto data = stream_bytes(0, 11);
  auto r = s.add(0, data);
  EXPECT_EQ(r.new_bytes, 10u);
  EXPECT_EQ(r.beyond_prefix_bytes, 1u);
  EXPECT_TRUE(s.full());
  ASSERT_EQ(s.contiguous().size(), 10u);
  EXPECT_TRUE(std::equal(s.contiguous().begin(), s.contiguous().end(), data.begin()));
  // Later data is all beyond; a re-sent beyond byte is not counted twice.
  r = s.add(11, stream_bytes(11, 5));
  EXPECT_EQ(r.beyond_prefix_bytes, 5u);
  r = s.add(8, stream_bytes(8, 8));
  EXPECT_EQ(r.duplicate_bytes, 2u);
  EXPECT_EQ(r.beyond_prefix_bytes, 0u);
  EXPECT_EQ(s.stats().beyond_prefix_bytes, 6u);
}

TEST(StreamPrefixTest, OutOfOrderBeyondTheWindowIsNotHeld) {
  StreamPrefix s(small(10));
  s.start_at(0);
  // Straddles the end of the window: the in-window part is held.
  auto r = s.add(8, stream_bytes(8, 4));
  EXPECT_TRUE(r.held);
  EXPECT_EQ(r.new_bytes, 2u);
  EXPECT_EQ(r.beyond_prefix_bytes, 2u);
  // Wholly past the window: nothing stored.
  r = s.add(20, stream_bytes(20, 4));
  EXPECT_FALSE(r.held);
  EXPECT_EQ(r.new_bytes, 0u);
  EXPECT_EQ(r.beyond_prefix_bytes, 4u);
  EXPECT_LE(s.stored_bytes(), 10u);
  EXPECT_TRUE(s.gap_open());
}

TEST(StreamPrefixTest, HeldBytesNeverExceedThePrefix) {
  StreamPrefix s(small(16));
  s.start_at(0);
  for (std::uint32_t off = 1; off < 64; off += 3) {
    s.add(off, stream_bytes(off, 2));
    EXPECT_LE(s.stored_bytes(), 16u);
  }
  EXPECT_EQ(s.contiguous().size(), 0u);
}

TEST(StreamPrefixTest, MidStreamStartIsTheFirstSegment) {
  StreamPrefix s;
  EXPECT_FALSE(s.started());
  s.add(777777, bytes("HTTP/1.1 200 OK\r\n"));
  EXPECT_EQ(*s.start_seq(), 777777u);
  EXPECT_EQ(text(s.contiguous()), "HTTP/1.1 200 OK\r\n");
  // An earlier segment showing up late is before the start.
  const auto r = s.add(777770, bytes("1234567"));
  EXPECT_EQ(r.before_start_bytes, 7u);
}

TEST(StreamPrefixTest, ConsumedMarkerIsMonotonicAndClamped) {
  StreamPrefix s;
  s.start_at(0);
  s.add(0, bytes("GET / HTTP/1.1\r\n"));
  s.consume(4);
  EXPECT_EQ(s.consumed(), 4u);
  EXPECT_EQ(text(s.unconsumed()), "/ HTTP/1.1\r\n");
  s.consume(2);
  EXPECT_EQ(s.consumed(), 4u);
  s.consume(1000);
  EXPECT_EQ(s.consumed(), 16u);
  EXPECT_TRUE(s.unconsumed().empty());
  s.add(16, bytes("Host"));
  EXPECT_EQ(text(s.unconsumed()), "Host");
}

TEST(StreamPrefixTest, StopIgnoresLaterBytes) {
  StreamPrefix s;
  s.start_at(0);
  s.add(0, bytes("abc"));
  s.stop();
  const auto r = s.add(3, bytes("def"));
  EXPECT_EQ(r.ignored_bytes, 3u);
  EXPECT_EQ(text(s.contiguous()), "abc");
}

TEST(StreamPrefixTest, ResetKeepsConfigAndForgetsState) {
  StreamPrefix s(small(32));
  s.start_at(10);
  s.add(12, bytes("zz"));
  s.reset();
  EXPECT_FALSE(s.started());
  EXPECT_EQ(s.stored_bytes(), 0u);
  EXPECT_EQ(s.stats().segments, 0u);
  EXPECT_EQ(s.config().max_bytes, 32u);
  s.start_at(0);
  s.add(0, bytes("ok"));
  EXPECT_EQ(text(s.contiguous()), "ok");
}

TEST(StreamPrefixTest, InOrderRunsMarkExactlyTheirBytesAcrossWords) {
  StreamPrefix s(small(300));
  s.start_at(0);
  const auto all = stream_bytes(0, 300);
  // Runs that start and end inside words, span a whole word, and end on
  // a word boundary.
  const std::pair<std::size_t, std::size_t> runs[] = {{0, 3}, {3, 67}, {70, 58}, {128, 72}};
  for (const auto& [from, n] : runs) {
    EXPECT_EQ(s.add(static_cast<std::uint32_t>(from), slice(all, from, n)).new_bytes,
              static_cast<std::uint32_t>(n));
  }
  ASSERT_EQ(s.contiguous().size(), 200u);
  // Every stored byte is seen as present (a duplicate), and only those.
  const auto r = s.add(190, slice(all, 190, 20));
  EXPECT_EQ(r.duplicate_bytes, 10u);
  EXPECT_EQ(r.new_bytes, 10u);
  EXPECT_EQ(s.contiguous().size(), 210u);
  EXPECT_EQ(s.held_bytes(), 0u);
}

TEST(StreamPrefixTest, ResetForgetsHeldBytesInEveryWord) {
  StreamPrefix s(small(300));
  const auto all = stream_bytes(0, 300);
  s.start_at(0);
  s.add(0, slice(all, 0, 10));
  s.add(250, slice(all, 250, 40));  // held past a gap, in the bitmap's last words
  s.add(290, stream_bytes(290, 20));  // 10 bytes past the prefix: high end beyond it
  ASSERT_EQ(s.held_bytes(), 50u);
  s.reset();
  // The recycled stream sees none of the old bytes: all of these are new.
  s.start_at(0);
  const auto a = s.add(0, slice(all, 0, 100));
  EXPECT_EQ(a.new_bytes, 100u);
  const auto b = s.add(240, slice(all, 240, 60));
  EXPECT_EQ(b.new_bytes, 60u);
  EXPECT_EQ(b.duplicate_bytes, 0u);
  EXPECT_EQ(s.held_bytes(), 60u);
  s.add(100, slice(all, 100, 140));
  ASSERT_EQ(s.contiguous().size(), 300u);
  EXPECT_TRUE(std::equal(all.begin(), all.end(), s.contiguous().begin()));
}

TEST(StreamPrefixTest, BufferBytesIsDataPlusOneBitPerByte) {
  EXPECT_EQ(StreamPrefix::buffer_bytes(small(8192)), 8192u + 1024u);
  EXPECT_EQ(StreamPrefix::buffer_bytes(small(1)), 1u + 8u);
}

}  // namespace
}  // namespace huginn::flow
