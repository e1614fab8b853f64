#include "huginn/fingerprint/tcp/raw_sig.hpp"

#include <gtest/gtest.h>

#include "huginn/fingerprint/tcp/mtu.hpp"
#include "huginn/fingerprint/tcp/ttl.hpp"
#include "huginn/fingerprint/tcp/win_multi.hpp"
#include "segment_builder.hpp"

namespace huginn::fingerprint::tcp {
namespace {

using test::SegmentBuilder;

TEST(GuessDist, SnapsToCommonInitialTtls) {
  EXPECT_EQ(guess_dist(32), 0);
  EXPECT_EQ(guess_dist(1), 31);
  EXPECT_EQ(guess_dist(33), 31);
  EXPECT_EQ(guess_dist(64), 0);
  EXPECT_EQ(guess_dist(100), 28);
  EXPECT_EQ(guess_dist(128), 0);
  EXPECT_EQ(guess_dist(129), 126);
  EXPECT_EQ(guess_dist(255), 0);
}

TEST(RawSig, WindowsStyleSyn) {
  SegmentBuilder b;
  b.ttl(128).win(8192).mss(1460).nop().ws(8).nop().nop().sok();
  EXPECT_EQ(format_raw_sig(compute_tcp_signature(b.build()), 0),
            "4:128+0:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0");
}

TEST(RawSig, MssMultipleAndQuirkOrder) {
  SegmentBuilder b;
  b.ttl(60).win(1460 * 10).df(false).ip_id(0).ecn(1).mss(1460).sok().ts(1, 0).nop().ws(7).eol().raw({0});
  EXPECT_EQ(format_raw_sig(compute_tcp_signature(b.build()), 0),
            "4:60+4:0:1460:mss*10,7:mss,sok,ts,nop,ws,eol+1:id-,ecn:0");
}

TEST(RawSig, UnknownTtlDistanceAndNoOptions) {
  SegmentBuilder b;
  b.ttl(200).win(15500).syn_ack().ack(1).df(false).ip_id(3);
  EXPECT_EQ(format_raw_sig(compute_tcp_signature(b.build()), 0), "4:200+?:0:0:15500,0:::0");
}

TEST(RawSig, SendsynEchoedMssIsWildcardOnSynAck) {
  SegmentBuilder b;
  b.syn_ack().ack(1).win(1000).mss(1331);
  EXPECT_EQ(format_raw_sig(compute_tcp_signature(b.build()), 0), "4:64+0:0:*:1000,0:mss:df,id+:0");
  SegmentBuilder syn;
  syn.win(1000).mss(1331);
  EXPECT_EQ(format_raw_sig(compute_tcp_signature(syn.build()), 0), "4:64+0:0:1331:1000,0:mss:df,id+:0");
}

TEST(RawSig, UnknownOptionAndPayload) {
  SegmentBuilder b;
  b.raw({34, 2}).payload("x");
  EXPECT_EQ(format_raw_sig(compute_tcp_signature(b.build()), 0), "4:64+0:0:0:29200,0:?34:df,id+:+");
}

TEST(RawSig, AllQuirkNamesInP0fOrder) {
  std::string out;
  append_quirks(out, 0xFFFFFFFFu);
  EXPECT_EQ(out, "df,id+,id-,ecn,0+,flow,seq-,ack+,ack-,uptr+,urgf+,pushf+,ts1-,ts2+,opt+,exws,bad");
}

TEST(Params, EachFlagAndNone) {
  EXPECT_EQ(format_params({}), "none");
  EXPECT_EQ(format_params({.generic = true, .fuzzy = true, .random_ttl = true, .dist = 36, .tos = 0x2e}),
            "generic fuzzy random_ttl excess_dist tos:0x2e");
  EXPECT_EQ(format_params({.dist = 35}), "none");
  EXPECT_EQ(format_params({.tos = 4}), "tos:0x04");
}

TcpSignature sig_with(std::uint16_t win, std::uint16_t mss, bool v6 = false, bool ts = false) {
  SegmentBuilder b;
  if (v6) b.v6();
  b.win(win).mss(mss);
  if (ts) b.ts(1, 0);
  return compute_tcp_signature(b.build());
}

TEST(WinMulti, DivisorOrder) {
  // MSS first.
  auto m = detect_win_multi(sig_with(1000 * 4, 1000), 0);
  EXPECT_EQ(m.multi, 4);
  EXPECT_FALSE(m.use_mtu);
  // MSS-12 only with timestamps.
  EXPECT_EQ(detect_win_multi(sig_with(988 * 3, 1000, false, true), 0).multi, 3);
  EXPECT_EQ(detect_win_multi(sig_with(988 * 3, 1000, false, false), 0).multi, -1);
  // Ethernet MSS on the wrong interface.
  EXPECT_EQ(detect_win_multi(sig_with(1460 * 2, 1000), 0).multi, 2);
  EXPECT_EQ(detect_win_multi(sig_with(1448 * 2, 1000), 0).multi, 2);
  // IPv6 Ethernet MSS only for IPv6.
  EXPECT_EQ(detect_win_multi(sig_with(1440 * 3, 1000, true), 0).multi, 3);
  EXPECT_EQ(detect_win_multi(sig_with(1440 * 3, 1000, false), 0).multi, -1);
  // MTU = MSS + 40.
  m = detect_win_multi(sig_with(1040 * 5, 1000), 0);
  EXPECT_EQ(m.multi, 5);
  EXPECT_TRUE(m.use_mtu);
  // MTU 1500.
  m = detect_win_multi(sig_with(1500 * 3, 1000), 0);
  EXPECT_EQ(m.multi, 3);
  EXPECT_TRUE(m.use_mtu);
}

TEST(WinMulti, PeerMssOnlyWhenGiven) {
  EXPECT_EQ(detect_win_multi(sig_with(1200 * 3, 1000), 0).multi, -1);
  const auto m = detect_win_multi(sig_with(1200 * 3, 1000), 1200);
  EXPECT_EQ(m.multi, 3);
  EXPECT_FALSE(m.use_mtu);
  EXPECT_EQ(detect_win_multi(sig_with(1188 * 3, 1000), 1200).multi, 3);
}

TEST(WinMulti, NoMultipleForZeroWindowOrSmallMss) {
  EXPECT_EQ(detect_win_multi(sig_with(0, 1460), 0).multi, -1);
  EXPECT_EQ(detect_win_multi(sig_with(99 * 4, 99), 0).multi, -1);
}

TEST(Mtu, FromMssPerFamily) {
  EXPECT_EQ(mss_to_mtu(1460, packet::IpVersion::v4), 1500u);
  EXPECT_EQ(mss_to_mtu(1440, packet::IpVersion::v6), 1500u);
  EXPECT_FALSE(mss_to_mtu(0, packet::IpVersion::v4).has_value());
}

}  // namespace
}  // namespace huginn::fingerprint::tcp
