#include "huginn/fingerprint/tcp/tcp_signature.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "segment_builder.hpp"

namespace huginn::fingerprint::tcp {
namespace {

using test::SegmentBuilder;
namespace fl = packet::tcp_flags;

std::vector<std::uint8_t> layout_of(const TcpSignature& s) {
  return {s.olayout.begin(), s.olayout.begin() + s.opt_cnt};
}

TEST(TcpSignature, LinuxStyleSynFields) {
  SegmentBuilder b;
  b.ttl(61).tos(0x08).linux_syn_options(1460, 12345);
  const TcpSignature s = compute_tcp_signature(b.build());
  EXPECT_EQ(s.ip_ver, packet::IpVersion::v4);
  EXPECT_FALSE(s.syn_ack);
  EXPECT_EQ(s.ttl, 61);
  EXPECT_EQ(s.tos, 0x08);
  EXPECT_EQ(s.mss, 1460);
  EXPECT_EQ(s.wscale, 7);
  EXPECT_EQ(s.ts1, 12345u);
  EXPECT_EQ(s.win, 29200);
  EXPECT_EQ(layout_of(s), (std::vector<std::uint8_t>{kOptMss, kOptSok, kOptTs, kOptNop, kOptWs}));
  EXPECT_EQ(s.quirks, kQuirkDf | kQuirkNzId);
  EXPECT_EQ(s.tot_hdr, 20 + 40);
  EXPECT_FALSE(s.payload);
  EXPECT_EQ(s.opt_eol_pad, 0);
}

TEST(TcpSignature, Ipv4IdAndFlagQuirks) {
  SegmentBuilder a;
  a.df(false).ip_id(0);
  EXPECT_EQ(compute_tcp_signature(a.build()).quirks, kQuirkZeroId);
  SegmentBuilder b;
  b.df(true).ip_id(0);
  EXPECT_EQ(compute_tcp_signature(b.build()).quirks, kQuirkDf);
  SegmentBuilder c;
  c.df(false).ip_id(7).mbz(true);
  EXPECT_EQ(compute_tcp_signature(c.build()).quirks, kQuirkNzMbz);
}

TEST(TcpSignature, EcnFromIpOrTcp) {
  SegmentBuilder ip;
  ip.df(false).ecn(2);
  EXPECT_TRUE(compute_tcp_signature(ip.build()).quirks & kQuirkEcn);
  SegmentBuilder ece;
  ece.df(false).flags(fl::kSyn | fl::kEce | fl::kCwr);
  EXPECT_TRUE(compute_tcp_signature(ece.build()).quirks & kQuirkEcn);
  SegmentBuilder ns;
  ns.df(false).ns(true);
  EXPECT_TRUE(compute_tcp_signature(ns.build()).quirks & kQuirkEcn);
  SegmentBuilder none;
  none.df(false);
  EXPECT_FALSE(compute_tcp_signature(none.build()).quirks & kQuirkEcn);
}

TEST(TcpSignature, Ipv6FlowLabelAndNoIpv4Quirks) {
  SegmentBuilder b;
  b.v6().flow_label(0x12345).mss(1440);
  const TcpSignature s = compute_tcp_signature(b.build());
  EXPECT_EQ(s.ip_ver, packet::IpVersion::v6);
  EXPECT_EQ(s.quirks, kQuirkFlow);
  EXPECT_EQ(s.ip_opt_len, 0);
  EXPECT_EQ(s.tot_hdr, 40 + 24);
}

TEST(TcpSignature, SequenceAckUrgentPushQuirks) {
  SegmentBuilder seq;
  seq.seq(0).df(false).ip_id(1);
  EXPECT_EQ(compute_tcp_signature(seq.build()).quirks, kQuirkZeroSeq);

  SegmentBuilder zero_ack;
  zero_ack.syn_ack().ack(0).df(false).ip_id(1);
  EXPECT_EQ(compute_tcp_signature(zero_ack.build()).quirks, kQuirkZeroAck);

  SegmentBuilder urg;
  urg.flags(fl::kSyn | fl::kUrg | fl::kPsh).df(false).ip_id(1);
  EXPECT_EQ(compute_tcp_signature(urg.build()).quirks, kQuirkUrg | kQuirkPush);

  SegmentBuilder uptr;
  uptr.urg_ptr(5).df(false).ip_id(1);
  EXPECT_EQ(compute_tcp_signature(uptr.build()).quirks, kQuirkNzUrg);
}

// p0f 3.09b bug "ack+": it ANDs the raw ACK field with a boolean, i.e. tests
// one bit (bit 24 on little-endian hosts), so an ACK of 1 goes unnoticed.
TEST(TcpSignature, AckPlusTestsWholeAckValue_P0fSingleBitBug) {
  SegmentBuilder b;
  b.ack(0x00000001).df(false).ip_id(1);
  EXPECT_EQ(compute_tcp_signature(b.build()).quirks, kQuirkNzAck);
  SegmentBuilder high;
  high.ack(0x01000000).df(false).ip_id(1);
  EXPECT_EQ(compute_tcp_signature(high.build()).quirks, kQuirkNzAck);
}

TEST(TcpSignature, AckPlusNotOnRst) {
  SegmentBuilder b;
  b.flags(fl::kRst).ack(77).df(false).ip_id(1);
  EXPECT_EQ(compute_tcp_signature(b.build()).quirks & kQuirkNzAck, 0u);
}

TEST(TcpSignature, TimestampQuirks) {
  SegmentBuilder zero;
  zero.ts(0, 0);
  EXPECT_TRUE(compute_tcp_signature(zero.build()).quirks & kQuirkOptZeroTs1);

  SegmentBuilder syn_echo;
  syn_echo.ts(5, 9);
  EXPECT_TRUE(compute_tcp_signature(syn_echo.build()).quirks & kQuirkOptNzTs2);

  // On a SYN+ACK the echo is expected.
  SegmentBuilder synack;
  synack.syn_ack().ack(1).ts(5, 9);
  EXPECT_FALSE(compute_tcp_signature(synack.build()).quirks & kQuirkOptNzTs2);
}

TEST(TcpSignature, ExcessiveWindowScale) {
  SegmentBuilder ok;
  ok.ws(14);
  EXPECT_FALSE(compute_tcp_signature(ok.build()).quirks & kQuirkOptExws);
  SegmentBuilder big;
  big.ws(15);
  const TcpSignature s = compute_tcp_signature(big.build());
  EXPECT_TRUE(s.quirks & kQuirkOptExws);
  EXPECT_EQ(s.wscale, 15);
}

TEST(TcpSignature, EolPaddingCountedAndZeroPaddingClean) {
  SegmentBuilder b;
  b.mss(1460).eol().raw({0, 0, 0});
  const TcpSignature s = compute_tcp_signature(b.build());
  EXPECT_EQ(layout_of(s), (std::vector<std::uint8_t>{kOptMss, kOptEol}));
  EXPECT_EQ(s.opt_eol_pad, 3);
  EXPECT_EQ(s.quirks & (kQuirkOptEolNz | kQuirkOptBad), 0u);
}

TEST(TcpSignature, NonZeroPaddingInTheMiddle) {
  SegmentBuilder b;
  b.eol().raw({0, 9, 0});
  EXPECT_TRUE(compute_tcp_signature(b.build()).quirks & kQuirkOptEolNz);
}

// p0f 3.09b bug "opt+": its scan steps past the byte it tests, so a non-zero
// byte in the last padding position is never seen.
TEST(TcpSignature, OptPlusChecksLastPaddingByte_P0fMissedLastByteBug) {
  SegmentBuilder b;
  b.mss(1460).eol().raw({0, 0, 1});
  const TcpSignature s = compute_tcp_signature(b.build());
  EXPECT_EQ(s.opt_eol_pad, 3);
  EXPECT_TRUE(s.quirks & kQuirkOptEolNz);
}

TEST(TcpSignature, WrongOptionLengthIsBadButValueStillRead) {
  SegmentBuilder b;
  b.raw({2, 5, 0x05, 0xb4}).nop();
  const TcpSignature s = compute_tcp_signature(b.build());
  EXPECT_EQ(s.mss, 1460);
  EXPECT_TRUE(s.quirks & kQuirkOptBad);
  EXPECT_EQ(layout_of(s), (std::vector<std::uint8_t>{kOptMss, kOptNop}));
}

TEST(TcpSignature, TruncatedOptionAbortsWalkButKeepsKind) {
  SegmentBuilder b;
  b.nop().raw({8, 10, 0, 0});  // timestamp cut short
  const TcpSignature s = compute_tcp_signature(b.build());
  EXPECT_EQ(layout_of(s), (std::vector<std::uint8_t>{kOptNop, kOptTs}));
  EXPECT_TRUE(s.quirks & kQuirkOptBad);
  EXPECT_EQ(s.ts1, 0u);
}

TEST(TcpSignature, SackAndUnknownOptionsSkippedByLength) {
  SegmentBuilder b;
  b.raw({5, 10, 1, 2, 3, 4, 5, 6, 7, 8}).raw({30, 4, 0, 0}).mss(536);
  const TcpSignature s = compute_tcp_signature(b.build());
  EXPECT_EQ(layout_of(s), (std::vector<std::uint8_t>{kOptSack, 30, kOptMss}));
  EXPECT_EQ(s.mss, 536);
  EXPECT_EQ(s.quirks & kQuirkOptBad, 0u);
}

TEST(TcpSignature, ImplausibleLengthsAbort) {
  SegmentBuilder sack;
  sack.raw({5, 9, 0, 0, 0, 0, 0, 0, 0}).mss(536);  // SACK shorter than 10
  const TcpSignature s1 = compute_tcp_signature(sack.build());
  EXPECT_TRUE(s1.quirks & kQuirkOptBad);
  EXPECT_EQ(s1.mss, 0);  // walk stopped before MSS
  SegmentBuilder unknown;
  unknown.raw({99, 1, 0, 0});
  EXPECT_TRUE(compute_tcp_signature(unknown.build()).quirks & kQuirkOptBad);
  SegmentBuilder past_end;
  past_end.raw({99, 8, 0, 0});
  EXPECT_TRUE(compute_tcp_signature(past_end.build()).quirks & kQuirkOptBad);
}

TEST(TcpSignature, MoreThanMaxOptionsIsBad) {
  SegmentBuilder b;
  for (int i = 0; i < 26; ++i) b.nop();
  const TcpSignature s = compute_tcp_signature(b.build());
  EXPECT_EQ(s.opt_cnt, limits::kMaxTcpOptions);
  EXPECT_TRUE(s.quirks & kQuirkOptBad);
}

TEST(TcpSignature, PayloadClass) {
  SegmentBuilder b;
  b.payload("hello");
  EXPECT_TRUE(compute_tcp_signature(b.build()).payload);
}

TEST(TcpSignature, SillyFlagCombinations) {
  EXPECT_TRUE(is_silly_flag_combination(0));
  EXPECT_TRUE(is_silly_flag_combination(fl::kPsh | fl::kUrg));
  EXPECT_TRUE(is_silly_flag_combination(fl::kSyn | fl::kFin));
  EXPECT_TRUE(is_silly_flag_combination(fl::kSyn | fl::kRst));
  EXPECT_TRUE(is_silly_flag_combination(fl::kFin | fl::kRst | fl::kAck));
  EXPECT_FALSE(is_silly_flag_combination(fl::kSyn));
  EXPECT_FALSE(is_silly_flag_combination(fl::kSyn | fl::kAck | fl::kEce));
  EXPECT_FALSE(is_silly_flag_combination(fl::kAck | fl::kPsh));
  EXPECT_FALSE(is_silly_flag_combination(fl::kFin | fl::kAck));
  EXPECT_FALSE(is_silly_flag_combination(fl::kRst));
}

}  // namespace
}  // namespace huginn::fingerprint::tcp
