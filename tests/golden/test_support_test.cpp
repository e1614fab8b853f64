// Tests of the test tooling in tests/support: the packet builder, the pcap
// writer, the model of p0f's window-multiplier guess and the signature
// crafter. The golden corpus is only as good as these.
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <variant>
#include <vector>

#include "huginn/db/p0f_db_parser.hpp"
#include "huginn/fingerprint/tcp/tcp_signature.hpp"
#include "huginn/packet/decode.hpp"
#include "huginn/packet/link_type.hpp"
#include "p0f_match_sim.hpp"
#include "p0f_sig_crafter.hpp"
#include "pcap_writer.hpp"
#include "tcp_packet_builder.hpp"
#include "test_paths.hpp"

namespace huginn::test {
namespace {

namespace fp = huginn::fingerprint::tcp;

std::uint32_t ones_sum(const std::uint8_t* p, std::size_t n, std::uint32_t acc = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) acc += (std::uint32_t{p[i]} << 8) | p[i + 1];
  if (n & 1) acc += std::uint32_t{p[n - 1]} << 8;
  return acc;
}
std::uint16_t folded(std::uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<std::uint16_t>(acc);
}

// A segment's TCP checksum verifies when the one's-complement sum over
// pseudo-header and segment is 0xffff.
bool tcp_checksum_ok(const std::vector<std::uint8_t>& ip, std::size_t tcp_off, bool v6) {
  const std::size_t tcp_len = ip.size() - tcp_off;
  std::uint32_t acc = 0;
  if (v6) {
    acc = ones_sum(ip.data() + 8, 32);
  } else {
    acc = ones_sum(ip.data() + 12, 8);
  }
  acc += 6 + static_cast<std::uint32_t>(tcp_len);
  acc = ones_sum(ip.data() + tcp_off, tcp_len, acc);
  return folded(acc) == 0xffff;
}

TEST(TcpPacketBuilder, Ipv4SynHeaderFieldsAndChecksums) {
  auto b = SynBuilder::syn();
  b.ipv4("192.0.2.1", "198.51.100.2").ports(40000, 443).ttl(57).tos(0x0a).ecn(2).df(true)
      .ip_id(0xbeef).seq(0x01020304).window(29200).opt_mss(1460).opt_sok().opt_ts(7, 0).opt_nop()
      .opt_ws(7);
  const auto ip = b.build_ip();
  ASSERT_EQ(ip.size(), 20u + 40u);
  EXPECT_EQ(ip[0], 0x45);
  EXPECT_EQ(ip[1], (0x0a << 2) | 2);
  EXPECT_EQ((ip[2] << 8) | ip[3], 60);
  EXPECT_EQ((ip[4] << 8) | ip[5], 0xbeef);
  EXPECT_EQ(ip[6], 0x40);  // DF only
  EXPECT_EQ(ip[8], 57);
  EXPECT_EQ(ip[9], 6);
  EXPECT_EQ(folded(ones_sum(ip.data(), 20)), 0xffff);
  EXPECT_EQ(ip[20 + 12] >> 4, 10);  // data offset: 20 + 20 option bytes
  EXPECT_EQ(ip[20 + 13], tcp_flag::kSyn);
  const std::vector<std::uint8_t> opts(ip.begin() + 40, ip.end());
  const std::vector<std::uint8_t> want{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 7,
                                       0, 0, 0, 0, 1, 3, 3, 7};
  EXPECT_EQ(opts, want);
  EXPECT_TRUE(tcp_checksum_ok(ip, 20, false));
}

TEST(TcpPacketBuilder, Ipv6HopByHopFlowLabelAndChecksum) {
  auto b = SynBuilder::syn();
  b.ipv6("2001:db8::1", "2001:db8::2").flow_label(0xabcde).tos(1).ecn(1).ttl(60)
      .ipv6_hop_by_hop(8).opt_mss(1440).payload("hi!");
  const auto ip = b.build_ip();
  ASSERT_EQ(ip.size(), 40u + 8 + 24 + 3);
  EXPECT_EQ(ip[0] >> 4, 6);
  const std::uint32_t vtf = (std::uint32_t{ip[0]} << 24) | (ip[1] << 16) | (ip[2] << 8) | ip[3];
  EXPECT_EQ((vtf >> 20) & 0xff, (1u << 2) | 1);
  EXPECT_EQ(vtf & 0xfffff, 0xabcdeu);
  EXPECT_EQ((ip[4] << 8) | ip[5], 8 + 24 + 3);
  EXPECT_EQ(ip[6], 0);   // hop-by-hop first
  EXPECT_EQ(ip[40], 6);  // then TCP
  EXPECT_EQ(ip[7], 60);
  EXPECT_TRUE(tcp_checksum_ok(ip, 48, true));
}

TEST(TcpPacketBuilder, OddOptionLengthIsZeroPaddedAndOptPlusPadding) {
  auto b = SynBuilder::syn();
  b.opt_mss(1000).opt_nop();  // 5 bytes -> padded to 8
  EXPECT_EQ(b.tcp_header_len(), 28u);
  const auto ip = b.build_ip();
  EXPECT_EQ(std::vector<std::uint8_t>(ip.end() - 3, ip.end()), (std::vector<std::uint8_t>{0, 0, 0}));

  auto e = SynBuilder::syn();
  e.opt_mss(1000).opt_eol(3, 0x55);
  EXPECT_EQ(e.option_bytes(), (std::vector<std::uint8_t>{2, 4, 0x03, 0xe8, 0, 0x55, 0, 0}));
}

TEST(TcpPacketBuilder, SynAckForSwapsEndpointsAndAcks) {
  auto syn = SynBuilder::syn();
  syn.ipv4("10.0.0.1", "10.0.0.2").ports(1234, 80).seq(100).payload("abc");
  auto sa = TcpPacketBuilder::syn_ack_for(syn);
  EXPECT_EQ(sa.src(), syn.dst());
  EXPECT_EQ(sa.dst(), syn.src());
  EXPECT_EQ(sa.sport(), 80);
  EXPECT_EQ(sa.dport(), 1234);
  const auto ip = sa.build_ip();
  EXPECT_EQ(ip[20 + 13], tcp_flag::kSyn | tcp_flag::kAck);
  const std::uint32_t ack = (std::uint32_t{ip[28]} << 24) | (ip[29] << 16) | (ip[30] << 8) | ip[31];
  EXPECT_EQ(ack, 104u);
}

TEST(TcpPacketBuilder, RejectsImpossiblePackets) {
  TcpPacketBuilder b;
  EXPECT_THROW(b.ipv4("not-an-ip", "10.0.0.1"), std::invalid_argument);
  EXPECT_THROW(b.ip_options_len(3), std::invalid_argument);
  for (int i = 0; i < 11; ++i) b.opt_mss(1);
  EXPECT_THROW((void)b.build_ip(), std::invalid_argument);
}

TEST(TcpPacketBuilder, DecoderReadsBackEveryField) {
  auto b = SynBuilder::syn();
  b.ipv4("192.0.2.1", "198.51.100.2").ports(1, 2).ttl(33).tos(5).ecn(3).mbz(true).ip_id(9)
      .ip_options_len(8).seq(11).ack(12).ns(true).urgent_ptr(13).window(14).opt_ws(3).opt_nop()
      .payload("xyz").vlan(7);
  b.flags(tcp_flag::kSyn | tcp_flag::kEce | tcp_flag::kCwr | tcp_flag::kPsh);
  const auto frame = b.build_ethernet();
  packet::DecodedPacket d;
  const auto r = packet::decode_packet(packet::dlt::kEn10mb, frame, 5, d);
  ASSERT_EQ(r.status, packet::DecodeStatus::kOk) << r.reason;
  EXPECT_EQ(d.src, b.src());
  EXPECT_EQ(d.dst, b.dst());
  EXPECT_EQ(d.ttl, 33);
  EXPECT_EQ(d.tos, 5);
  EXPECT_EQ(d.ecn, 3);
  EXPECT_TRUE(d.ip_mbz);
  EXPECT_FALSE(d.ip_df);
  EXPECT_EQ(d.ip_id, 9);
  EXPECT_EQ(d.ip_opt_len, 8);
  EXPECT_EQ(d.ip_hdr_len, 28);
  EXPECT_EQ(d.sport, 1);
  EXPECT_EQ(d.dport, 2);
  EXPECT_EQ(d.seq, 11u);
  EXPECT_EQ(d.ack, 12u);
  EXPECT_TRUE(d.tcp_ns);
  EXPECT_EQ(d.flags, tcp_flag::kSyn | tcp_flag::kEce | tcp_flag::kCwr | tcp_flag::kPsh);
  EXPECT_EQ(d.urg_ptr, 13);
  EXPECT_EQ(d.win, 14);
  EXPECT_EQ(d.tcp_hdr_len, 24);
  EXPECT_EQ(std::vector<std::uint8_t>(d.tcp_options.begin(), d.tcp_options.end()),
            (std::vector<std::uint8_t>{3, 3, 3, 1}));
  EXPECT_EQ(std::string(d.payload.begin(), d.payload.end()), "xyz");
}

TEST(PcapWriter, LibpcapReadsBackRecords) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("huginn_pcap_writer_" + std::to_string(::getpid()) + ".pcap");
  const auto f1 = SynBuilder::syn().build_ip();
  const auto f2 = SynBuilder::syn().ipv6("::1", "::2").payload("payload").build_ip();
  {
    PcapWriter w;
    ASSERT_TRUE(w.open(path, LinkType::kRaw, 50));
    ASSERT_TRUE(w.write(1'700'000'000'123'456, f1));
    ASSERT_TRUE(w.write(1'700'000'001'000'001, f2));  // longer than snaplen 50
    EXPECT_EQ(w.records(), 2u);
    ASSERT_TRUE(w.close());
  }
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  ASSERT_NE(p, nullptr) << err;
  EXPECT_EQ(pcap_datalink(p), DLT_RAW);
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  ASSERT_EQ(pcap_next_ex(p, &h, &data), 1);
  EXPECT_EQ(h->ts.tv_sec, 1'700'000'000);
  EXPECT_EQ(h->ts.tv_usec, 123'456);
  EXPECT_EQ(h->caplen, f1.size());
  EXPECT_TRUE(std::equal(f1.begin(), f1.end(), data));
  ASSERT_EQ(pcap_next_ex(p, &h, &data), 1);
  EXPECT_EQ(h->ts.tv_usec, 1);
  EXPECT_EQ(h->caplen, 50u);
  EXPECT_EQ(h->len, f2.size());
  EXPECT_EQ(pcap_next_ex(p, &h, &data), PCAP_ERROR_BREAK);
  pcap_close(p);
  std::filesystem::remove(path);
}

TEST(PcapWriter, OpenFailsCleanly) {
  PcapWriter w;
  EXPECT_FALSE(w.open("/nonexistent-dir/x.pcap", LinkType::kEthernet));
  EXPECT_FALSE(w.error().empty());
  EXPECT_FALSE(w.write(0, std::vector<std::uint8_t>{1}));
}

SimObservation obs(std::uint16_t mss, std::uint16_t win, bool v6 = false, std::uint32_t ts1 = 0) {
  SimObservation o;
  o.ip_ver = v6 ? packet::IpVersion::v6 : packet::IpVersion::v4;
  o.mss = mss;
  o.win = win;
  o.ts1 = ts1;
  o.tot_hdr = v6 ? 60 : 40;
  return o;
}

TEST(SimDetectWinMulti, FollowsP0fOrder) {
  // MSS first.
  auto m = sim_detect_win_multi(obs(1460, 1460 * 4), 0);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->multi, 4);
  EXPECT_FALSE(m->use_mtu);
  // 1500*2 with MSS 1460: no MSS-based divisor, so MTU.
  m = sim_detect_win_multi(obs(1460, 3000), 0);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->multi, 2);
  EXPECT_TRUE(m->use_mtu);
  // MSS - 12 only with timestamps.
  EXPECT_FALSE(sim_detect_win_multi(obs(1000, 988 * 3), 0));
  m = sim_detect_win_multi(obs(1000, 988 * 3, false, 5), 0);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->multi, 3);
  // The 1460 guess precedes MTU = MSS + 40: MSS 1420, window 1460*10.
  m = sim_detect_win_multi(obs(1420, 14600), 0);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->multi, 10);
  EXPECT_FALSE(m->use_mtu);
  // IPv6-only divisor 1440.
  EXPECT_FALSE(sim_detect_win_multi(obs(1000, 1440 * 3), 0));
  m = sim_detect_win_multi(obs(1000, 1440 * 3, true), 0);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->multi, 3);
  // The peer's MSS is tried last.
  m = sim_detect_win_multi(obs(1000, 1300 * 5), 1300);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->multi, 5);
  EXPECT_FALSE(m->use_mtu);
  // MSS below 100 disables the guess.
  EXPECT_FALSE(sim_detect_win_multi(obs(99, 99 * 4), 0));
}

class CraftedSignatures : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = db::load_p0f_db(p0f_fp_path().string());
    if (auto* e = std::get_if<db::DbError>(&loaded)) {
      load_error_ = e->to_string();
      return;
    }
    db_ = new db::P0fDb(std::move(std::get<db::P0fDb>(loaded)));
  }
  static void TearDownTestSuite() {
    delete db_;
    db_ = nullptr;
  }
  static db::P0fDb* db_;
  static std::string load_error_;
};
db::P0fDb* CraftedSignatures::db_ = nullptr;
std::string CraftedSignatures::load_error_;

// Every signature crafts into a packet whose wire form carries the
// signature's olayout, EOL padding, MSS, window and quirk-bearing fields.
TEST_F(CraftedSignatures, PacketsCarryTheirSignature) {
  ASSERT_NE(db_, nullptr) << load_error_;
  CraftRng rng(7);
  int crafted = 0;
  for (bool syn_ack : {false, true}) {
    for (const auto& rec : syn_ack ? db_->tcp_response : db_->tcp_request) {
      SCOPED_TRACE(rec.line_no);
      auto shape = craft_shape(rec, syn_ack, rng);
      ASSERT_TRUE(shape);
      auto b = TcpPacketBuilder::syn();
      if (shape->ip_ver == packet::IpVersion::v6) b.ipv6("2001:db8::1", "2001:db8::2");
      PacketVars vars;
      vars.seq = 1000;
      vars.ack = 77;
      vars.tsval = 555;
      vars.tsecr = 444;
      apply_shape(*shape, vars, b);
      const auto frame = b.build_ip();
      packet::DecodedPacket d;
      ASSERT_EQ(packet::decode_packet(packet::dlt::kRaw, frame, 0, d).status,
                packet::DecodeStatus::kOk);
      EXPECT_EQ(d.win, shape->win);
      EXPECT_EQ(d.ttl, shape->ttl);
      EXPECT_LE(shape->ittl - shape->ttl, limits::kMaxDist);
      EXPECT_EQ(d.ip_opt_len, rec.sig.ip_opt_len);
      EXPECT_EQ((d.flags & tcp_flag::kAck) != 0, syn_ack);
      const std::uint32_t q = shape->quirks;
      if (!d.is_ipv6()) {
        EXPECT_EQ(d.ip_df, (q & fp::kQuirkDf) != 0);
        EXPECT_EQ(d.ip_df && d.ip_id != 0, (q & fp::kQuirkNzId) != 0);
        EXPECT_EQ(!d.ip_df && d.ip_id == 0, (q & fp::kQuirkZeroId) != 0);
      }
      EXPECT_EQ(d.seq == 0, (q & fp::kQuirkZeroSeq) != 0);
      EXPECT_EQ(!d.payload.empty(), shape->payload);
      if (rec.sig.payload) {
        EXPECT_EQ(!d.payload.empty(), *rec.sig.payload);
      }
      // Walk the options: kinds in order, EOL padding, MSS and WS values.
      std::vector<std::uint8_t> layout;
      std::size_t i = 0;
      std::uint16_t mss = 0;
      const auto o = d.tcp_options;
      while (i < o.size()) {
        layout.push_back(o[i]);
        if (o[i] == fp::kOptEol) {
          EXPECT_EQ(o.size() - i - 1, rec.sig.opt_eol_pad);
          break;
        }
        if (o[i] == fp::kOptNop) {
          ++i;
          continue;
        }
        ASSERT_LT(i + 1, o.size());
        if (o[i] == fp::kOptMss) mss = static_cast<std::uint16_t>((o[i + 2] << 8) | o[i + 3]);
        if (o[i] == fp::kOptWs && rec.sig.wscale) {
          EXPECT_EQ(o[i + 2], *rec.sig.wscale);
        }
        i += o[i + 1];
      }
      EXPECT_EQ(layout, rec.sig.olayout);
      if (rec.sig.mss) {
        EXPECT_EQ(mss, *rec.sig.mss);
      }
      if (rec.sig.win_type == db::WinType::kNormal) {
        EXPECT_EQ(d.win, rec.sig.win);
      }
      if (rec.sig.win_type == db::WinType::kMod) {
        EXPECT_EQ(d.win % rec.sig.win, 0);
      }
      if (rec.sig.win_type == db::WinType::kMss) {
        EXPECT_EQ(d.win, mss * rec.sig.win);
      }
      ++crafted;
    }
  }
  EXPECT_GT(crafted, 100);
}

// The model picks the intended line for a signature whose window, MSS and
// layout no earlier line shares: Linux 3.11's first request signature.
TEST_F(CraftedSignatures, ModelMatchesFirstRequestSignature) {
  ASSERT_NE(db_, nullptr) << load_error_;
  ASSERT_FALSE(db_->tcp_request.empty());
  const auto& rec = db_->tcp_request.front();
  CraftRng rng(11);
  auto shape = craft_shape(rec, false, rng);
  ASSERT_TRUE(shape);
  const auto m = sim_p0f_match(db_->tcp_request, shape->observation(1234), 0);
  ASSERT_NE(m.record, nullptr);
  EXPECT_EQ(m.record->line_no, rec.line_no);
  EXPECT_FALSE(m.fuzzy);
  EXPECT_EQ(m.dist, shape->ittl - shape->ttl);
}

}  // namespace
}  // namespace huginn::test
