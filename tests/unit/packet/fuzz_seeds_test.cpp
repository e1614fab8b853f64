// The seed corpus of tests/fuzz/fuzz_decode_packet.cpp is built from the
// frame builder, so the seeds and the unit tests describe frames the same
// way. This test rebuilds every seed and checks that the committed file
// has the same bytes (extra files, such as saved crashes, are left alone).
// After changing the builder or the seeds, rewrite them with
//   HUGINN_WRITE_SEEDS=1 unit_packet --gtest_filter='FuzzSeeds.*'
// and commit the result.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "frame_builder.hpp"
#include "test_paths.hpp"

namespace huginn::test {
namespace {

// Index of each link type in the fuzz target's kLinks table.
enum LinkSel : std::uint8_t {
  kSelEthernet = 0,
  kSelSll = 1,
  kSelSll2 = 2,
  kSelRaw = 3,
  kSelLinkTypeRaw = 4,
  kSelIpv4 = 5,
  kSelIpv6 = 6,
  kSelNull = 7,
  kSelLoop = 8,
  kSelUnsupported = 9,
};

void write_seed(const std::filesystem::path& dir, const std::string& name, LinkSel link,
                const Bytes& frame) {
  Bytes seed{link};
  append(seed, frame);
  const auto path = dir / name;
  const char* write_env = std::getenv("HUGINN_WRITE_SEEDS");
  if (write_env != nullptr && std::string(write_env) == "1") {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    for (const auto b : seed) out.put(static_cast<char>(b));
    ASSERT_TRUE(out.good()) << path;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path << " is missing; rewrite the seeds (see the top of this file)";
  const Bytes committed{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_EQ(committed, seed) << path << " is stale; rewrite the seeds (see the top of this file)";
}

TEST(FuzzSeeds, CommittedSeedsMatchTheBuilder) {
  const auto dir = source_dir() / "tests" / "fuzz" / "corpus" / "fuzz_decode_packet";

  TcpSpec syn;
  syn.options = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
  TcpSpec data;
  data.flags = packet::tcp_flags::kAck | packet::tcp_flags::kPsh;
  data.payload = {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1', '.', '1'};

  write_seed(dir, "eth_ipv4_syn", kSelEthernet, ethernet(kEtherIpv4, ipv4_tcp({}, syn)));
  write_seed(dir, "eth_ipv4_data", kSelEthernet, ethernet(kEtherIpv4, ipv4_tcp({}, data)));
  Bytes padded = ethernet(kEtherIpv4, ipv4_tcp());
  padded.resize(60, 0xaa);
  write_seed(dir, "eth_ipv4_etherleak_padding", kSelEthernet, padded);
  Ipv4Spec opts;
  opts.options = {0x94, 4, 0, 0};
  write_seed(dir, "eth_ipv4_ip_options", kSelEthernet, ethernet(kEtherIpv4, ipv4_tcp(opts, syn)));
  write_seed(dir, "eth_ipv6_syn", kSelEthernet, ethernet(kEtherIpv6, ipv6_tcp({}, syn)));
  write_seed(dir, "eth_qinq_ipv4", kSelEthernet,
             ethernet(kEtherIpv4, ipv4_tcp(), {{0x88a8, 1}, {0x8100, 2}}));
  write_seed(dir, "eth_arp", kSelEthernet, ethernet(kEtherArp, Bytes(28, 0)));
  Ipv4Spec frag;
  frag.df = false;
  frag.mf = true;
  write_seed(dir, "eth_ipv4_fragment", kSelEthernet, ethernet(kEtherIpv4, ipv4_tcp(frag)));
  Ipv4Spec udp;
  udp.proto = 17;
  write_seed(dir, "eth_ipv4_udp", kSelEthernet, ethernet(kEtherIpv4, ipv4(udp, Bytes(12, 0))));
  Bytes cut = ethernet(kEtherIpv4, ipv4_tcp({}, data));
  drop_last(cut, 5);
  write_seed(dir, "eth_ipv4_snaplen_cut", kSelEthernet, cut);
  TcpSpec bad_doff;
  bad_doff.data_offset_words = 15;
  write_seed(dir, "eth_tcp_offset_past_end", kSelEthernet,
             ethernet(kEtherIpv4, ipv4_tcp({}, bad_doff)));

  write_seed(dir, "sll_ipv4_syn", kSelSll, sll(kEtherIpv4, ipv4_tcp({}, syn)));
  write_seed(dir, "sll2_ipv6_syn", kSelSll2, sll2(kEtherIpv6, ipv6_tcp({}, syn)));
  write_seed(dir, "raw_ipv4_syn", kSelRaw, ipv4_tcp({}, syn));
  write_seed(dir, "linktype_raw_ipv6", kSelLinkTypeRaw, ipv6_tcp());
  write_seed(dir, "dlt_ipv4", kSelIpv4, ipv4_tcp());
  write_seed(dir, "dlt_ipv6", kSelIpv6, ipv6_tcp());
  write_seed(dir, "null_le_ipv4", kSelNull, bsd_null(2, true, ipv4_tcp()));
  write_seed(dir, "null_be_ipv6_darwin", kSelNull, bsd_null(30, false, ipv6_tcp()));
  write_seed(dir, "loop_ipv6_openbsd", kSelLoop, bsd_null(24, false, ipv6_tcp()));
  write_seed(dir, "unsupported_link", kSelUnsupported, ipv4_tcp());

  Ipv6Spec chain;
  chain.ext = {hop_by_hop(), dest_options(16), routing(), fragment(0, false), auth_header()};
  write_seed(dir, "raw_ipv6_ext_chain", kSelRaw, ipv6_tcp(chain, data));
  Ipv6Spec frag6;
  frag6.ext = {fragment(10, true)};
  write_seed(dir, "raw_ipv6_fragment", kSelRaw, ipv6_tcp(frag6));
  Ipv6Spec jumbo;
  jumbo.ext = {hop_by_hop()};
  jumbo.payload_length = 0;
  write_seed(dir, "raw_ipv6_jumbogram", kSelRaw, ipv6_tcp(jumbo));
}

}  // namespace
}  // namespace huginn::test
