#include "huginn/db/tcp_matcher.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <variant>

#include "segment_builder.hpp"
#include "huginn/db/p0f_db_parser.hpp"
#include "huginn/fingerprint/tcp/raw_sig.hpp"
#include "test_paths.hpp"

namespace huginn::db {
namespace {

using fingerprint::tcp::compute_tcp_signature;
using test::SegmentBuilder;

// Synthetic signatures (not from p0f.fp), each shaped to exercise one rule.
// All use the layout mss,nop,ws unless a test needs another.
constexpr const char* kDb = R"(
classes = win,unix,other

[tcp:request]
  label = g:unix:Gen:
  sig = 4:64:0:*:1000,*:mss,nop,ws:df,id+:0

  label = s:unix:Exact:one
  sig = 4:64:0:*:1000,*:mss,nop,ws:df,id+:0

  label = s:unix:Other:
  sig = 4:64:0:1200:2000,*:mss,nop,ws:df,id+:0

  label = s:win:Modulo:
  sig = 4:128:0:*:%8192,*:mss,nop,ws:df,id+:0

  label = s:unix:MssMul:
  sig = 4:64:0:*:mss*4,2:mss,nop,ws:df,id+:0

  label = s:unix:MtuMul:
  sig = 4:64:0:*:mtu*4,3:mss,nop,ws:df,id+:0

  label = s:other:AnyWin:
  sig = 4:255:0:1300:*,*:mss,nop,ws:df,id+:0

  label = s:other:Random:
  sig = 4:64-:0:1380:*,*:mss,nop,ws:df,id+:0

  label = s:unix:Both:
  sig = *:64:0:1440:4000,*:mss,nop,ws:df,id+:0

  label = s:!:Scanner:
  sys = @unix
  sig = 4:64:0:1024:3333,*:mss,nop,ws:df,id+:0

  label = s:unix:Ordered:first
  sig = 4:64:0:1100:5000,*:mss:df,id+:0
  label = s:unix:Ordered:second
  sig = 4:64:0:*:5000,*:mss:df,id+:0

  label = s:unix:FarAway:
  sig = 4:128:0:*:6000,*:mss,sok:df,id+:0
  label = g:unix:GenOnly:
  sig = 4:64:0:*:6000,*:mss,sok:df,id+:0

[tcp:response]
  label = s:unix:Responder:
  sig = 4:64:0:*:mss*2,0:mss:df,id+:0
)";

class TcpMatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = parse_p0f_db(kDb, "synthetic.fp");
    if (auto* err = std::get_if<DbError>(&r)) FAIL() << err->to_string();
    db_ = std::make_unique<P0fDb>(std::move(std::get<P0fDb>(r)));
    matcher_ = std::make_unique<TcpMatcher>(*db_);
  }
  std::string name(const TcpMatch& m) const { return m.record ? label_display(*db_, *m.record->label) : "???"; }
  TcpMatch match(const SegmentBuilder& b, std::uint16_t syn_mss = 0) const {
    return matcher_->match(compute_tcp_signature(b.build()), syn_mss);
  }
  static SegmentBuilder syn(std::uint16_t win, std::uint16_t mss, std::uint8_t ws = 5) {
    SegmentBuilder b;
    b.win(win).mss(mss).nop().ws(ws);
    return b;
  }

  std::unique_ptr<P0fDb> db_;
  std::unique_ptr<TcpMatcher> matcher_;
};

TEST_F(TcpMatcherTest, ExactBeatsEarlierGeneric) {
  const TcpMatch m = match(syn(1000, 1460).ttl(60));
  EXPECT_EQ(name(m), "Exact one");
  EXPECT_FALSE(m.fuzzy);
  EXPECT_EQ(m.dist, 4);
}

TEST_F(TcpMatcherTest, GenericBeatsEarlierFuzzy) {
  // FarAway comes first but is 64 hops off (fuzzy); GenOnly is exact.
  SegmentBuilder b;
  b.win(6000).mss(1460).sok().ttl(64);
  const TcpMatch m = match(b);
  EXPECT_EQ(name(m), "GenOnly");
  EXPECT_TRUE(m.record->label->generic);
  EXPECT_FALSE(m.fuzzy);
  // Out of both TTL ranges: both fuzzy, the first is used, and its TTL
  // being out of range means a guessed distance.
  SegmentBuilder far;
  far.win(6000).mss(1460).sok().ttl(90);
  const TcpMatch f = match(far);
  EXPECT_EQ(name(f), "FarAway");
  EXPECT_TRUE(f.fuzzy);
  EXPECT_EQ(f.dist, 38);
}

TEST_F(TcpMatcherTest, FuzzyWhenDfVanishes) {
  auto b = syn(2000, 1200);
  b.df(false).ip_id(0);  // df and id+ gone, id- appeared: all tolerated
  const TcpMatch m = match(b);
  EXPECT_EQ(name(m), "Other");
  EXPECT_TRUE(m.fuzzy);
  EXPECT_EQ(m.dist, 0);
}

TEST_F(TcpMatcherTest, OtherQuirkDifferencesDoNotMatch) {
  auto b = syn(2000, 1200);
  b.seq(0);  // seq- appeared: not tolerated
  const TcpMatch m = match(b);
  EXPECT_EQ(m.record, nullptr);
  EXPECT_EQ(m.dist, 0);  // TTL 64: guessed distance 0
}

TEST_F(TcpMatcherTest, TtlBeyondMaxDistIsFuzzyWithGuessedDistance) {
  auto b = syn(2000, 1200);
  b.ttl(20);  // 64 - 20 = 44 > MAX_DIST
  const TcpMatch m = match(b);
  EXPECT_EQ(name(m), "Other");
  EXPECT_TRUE(m.fuzzy);
  EXPECT_EQ(m.dist, 12);  // guess_dist(20) = 32 - 20
}

TEST_F(TcpMatcherTest, TtlAboveSignatureIsFuzzy) {
  auto b = syn(2000, 1200);
  b.ttl(70);
  const TcpMatch m = match(b);
  EXPECT_TRUE(m.fuzzy);
  EXPECT_EQ(m.dist, 58);  // guess_dist(70) = 128 - 70
}

TEST_F(TcpMatcherTest, ModuloWindow) {
  EXPECT_EQ(name(match(syn(8192 * 4, 1460).ttl(120))), "Modulo");
  EXPECT_EQ(match(syn(8192 * 4 + 1, 1460).ttl(120)).record, nullptr);
}

TEST_F(TcpMatcherTest, MssAndMtuMultipliers) {
  EXPECT_EQ(name(match(syn(1460 * 4, 1460, 2))), "MssMul");
  EXPECT_EQ(name(match(syn(1500 * 4, 1460, 3))), "MtuMul");
  // mss*4 does not accept an MTU multiple, and vice versa.
  EXPECT_EQ(match(syn(1500 * 4, 1460, 2)).record, nullptr);
  EXPECT_EQ(match(syn(1460 * 4, 1460, 3)).record, nullptr);
}

TEST_F(TcpMatcherTest, AnyWindowAndMssWildcards) {
  EXPECT_EQ(name(match(syn(12345, 1300).ttl(250))), "AnyWin");
  EXPECT_EQ(match(syn(12345, 1301).ttl(250)).record, nullptr);
}

TEST_F(TcpMatcherTest, RandomTtlNeverMatchesHigherTtlAndReportsDistance) {
  const TcpMatch m = match(syn(777, 1380).ttl(20));
  EXPECT_EQ(name(m), "Random");
  EXPECT_TRUE(m.record->sig.bad_ttl);
  EXPECT_FALSE(m.fuzzy);  // far below is fine for a random-TTL stack
  EXPECT_EQ(m.dist, 44);
  EXPECT_EQ(match(syn(777, 1380).ttl(65)).record, nullptr);
}

TEST_F(TcpMatcherTest, VersionAgnosticSignatureIgnoresIpv4QuirksOnIpv6) {
  auto b = syn(4000, 1440);
  b.v6();
  const TcpMatch m = match(b);
  EXPECT_EQ(name(m), "Both");
  EXPECT_FALSE(m.fuzzy);
  EXPECT_EQ(name(match(syn(4000, 1440))), "Both");
}

TEST_F(TcpMatcherTest, UserlandToolExactOnly) {
  const TcpMatch exact = match(syn(3333, 1024));
  EXPECT_EQ(name(exact), "Scanner");
  EXPECT_TRUE(exact.record->label->is_user_app());
  // A fuzzy userland match is not reported, and p0f leaves dist at 0.
  auto b = syn(3333, 1024);
  b.ttl(30).df(false).ip_id(0);
  const TcpMatch fuzzy = match(b);
  EXPECT_EQ(fuzzy.record, nullptr);
  EXPECT_EQ(fuzzy.dist, 0);
}

TEST_F(TcpMatcherTest, FileOrderWithinLayout) {
  SegmentBuilder b;
  b.win(5000).mss(1100);
  EXPECT_EQ(name(match(b)), "Ordered first");
  SegmentBuilder c;
  c.win(5000).mss(1101);
  EXPECT_EQ(name(match(c)), "Ordered second");
}

TEST_F(TcpMatcherTest, OnlyFirstFuzzyCandidateConsidered) {
  // Both Ordered sigs would match fuzzily (df gone); the first wins.
  SegmentBuilder b;
  b.win(5000).mss(1100).df(false).ip_id(0);
  const TcpMatch m = match(b);
  EXPECT_EQ(name(m), "Ordered first");
  EXPECT_TRUE(m.fuzzy);
}

TEST_F(TcpMatcherTest, SynAckUsesResponseSectionAndPeerMss) {
  SegmentBuilder b;
  b.syn_ack().ack(1).win(1200 * 2).mss(1460);
  EXPECT_EQ(match(b, 0).record, nullptr);
  EXPECT_EQ(name(match(b, 1200)), "Responder");
}

TEST_F(TcpMatcherTest, UnknownLayout) {
  SegmentBuilder b;
  b.win(1000).mss(1460).sok().ws(1);
  const TcpMatch m = match(b);
  EXPECT_EQ(m.record, nullptr);
  EXPECT_EQ(m.dist, 0);
}

// Against Debian's p0f.fp (read at run time).
class RealDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(test::p0f_fp_path())) GTEST_SKIP() << "no p0f.fp";
    auto r = load_p0f_db(test::p0f_fp_path().string());
    if (auto* err = std::get_if<DbError>(&r)) FAIL() << err->to_string();
    db_ = std::make_unique<P0fDb>(std::move(std::get<P0fDb>(r)));
    matcher_ = std::make_unique<TcpMatcher>(*db_);
  }
  std::unique_ptr<P0fDb> db_;
  std::unique_ptr<TcpMatcher> matcher_;
};

TEST_F(RealDbTest, WindowsSyn) {
  SegmentBuilder b;
  b.ttl(128).win(8192).mss(1460).nop().ws(8).nop().nop().sok();
  const TcpMatch m = matcher_->match(compute_tcp_signature(b.build()), 0);
  ASSERT_NE(m.record, nullptr);
  EXPECT_EQ(label_display(*db_, *m.record->label), "Windows 7 or 8");
  EXPECT_FALSE(m.fuzzy);
  EXPECT_EQ(m.dist, 0);
}

TEST_F(RealDbTest, GenericLinuxSynWithoutTimestamps) {
  SegmentBuilder b;
  b.ttl(64).win(14600).mss(1460).nop().nop().sok().nop().ws(9);
  const TcpMatch m = matcher_->match(compute_tcp_signature(b.build()), 0);
  ASSERT_NE(m.record, nullptr);
  EXPECT_EQ(label_display(*db_, *m.record->label), "Linux 2.2.x-3.x (no timestamps)");
  EXPECT_TRUE(m.record->label->generic);
}

TEST_F(RealDbTest, MacOsGenericFuzzy) {
  SegmentBuilder b;
  b.ttl(64).win(65535).mss(1386).nop().ws(6).nop().nop().ts(1, 0).sok().eol().raw({0});
  b.ip_id(0);  // DF set, ID zero: id+ vanishes
  const TcpMatch m = matcher_->match(compute_tcp_signature(b.build()), 0);
  ASSERT_NE(m.record, nullptr);
  EXPECT_EQ(label_display(*db_, *m.record->label), "Mac OS X");
  EXPECT_TRUE(m.fuzzy);
}

}  // namespace
}  // namespace huginn::db
