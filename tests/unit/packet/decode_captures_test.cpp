// Decodes every frame of the shared test captures, reading them with
// libpcap directly (packet/ does not depend on capture/), and checks the
// totals against Wireshark's dissection of the same files.
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <string>

#include "huginn/packet/decode.hpp"
#include "test_paths.hpp"

namespace huginn::packet {
namespace {

struct Totals {
  int frames = 0;
  int decoded = 0;
  std::uint64_t payload_bytes = 0;
  std::uint64_t tcp_hdr_bytes = 0;
  int syn = 0;      // flags exactly SYN
  int syn_ack = 0;  // flags exactly SYN+ACK
  std::map<std::string, int, std::less<>> rejected;  // reason -> count
};

Totals decode_capture(const std::string& name) {
  Totals t;
  const auto path = test::testdata_capture(name);
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  if (p == nullptr) {
    ADD_FAILURE() << path << ": " << err;
    return t;
  }
  const int link = pcap_datalink(p);
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(p, &hdr, &data) == 1) {
    ++t.frames;
    DecodedPacket pkt;
    const std::span<const std::uint8_t> frame(data, std::min(hdr->caplen, hdr->len));
    const auto r = decode_packet(link, frame, 0, pkt);
    if (r.status != DecodeStatus::kOk) {
      ++t.rejected[std::string(r.reason)];
      continue;
    }
    ++t.decoded;
    t.payload_bytes += pkt.payload.size();
    t.tcp_hdr_bytes += pkt.tcp_hdr_len;
    if (pkt.flags == tcp_flags::kSyn) ++t.syn;
    if (pkt.flags == (tcp_flags::kSyn | tcp_flags::kAck)) ++t.syn_ack;
  }
  pcap_close(p);
  return t;
}

// Expected numbers come from Wireshark 4.0 over the same files:
//   capinfos -c FILE                                   -> frames
//   tshark -r FILE -Y 'tcp && !gre' -T fields
//     -e tcp.len -e tcp.flags -e tcp.hdr_len            -> decoded (rows),
//     payload (sum of tcp.len), TCP header bytes (sum of tcp.hdr_len),
//     SYN (flags == 0x002) and SYN+ACK (flags == 0x012) rows.
// The SYN and SYN+ACK counts also equal the mod=syn / mod=syn+ack lines of
// `p0f -r FILE` (gre-sample: none, as p0f does not unwrap GRE either).
struct Expected {
  const char* file;
  int frames, decoded;
  std::uint64_t payload, tcp_hdr;
  int syn, syn_ack;
};

class CaptureTotals : public testing::TestWithParam<Expected> {};

TEST_P(CaptureTotals, MatchWireshark) {
  const auto& e = GetParam();
  const Totals t = decode_capture(e.file);
  EXPECT_EQ(t.frames, e.frames);
  EXPECT_EQ(t.decoded, e.decoded);
  EXPECT_EQ(t.payload_bytes, e.payload);
  EXPECT_EQ(t.tcp_hdr_bytes, e.tcp_hdr);
  EXPECT_EQ(t.syn, e.syn);
  EXPECT_EQ(t.syn_ack, e.syn_ack);
  // Whatever is not decoded is not TCP (UDP, or GRE-encapsulated traffic,
  // which decode_packet does not unwrap): no malformed frame in any file.
  int not_tcp = 0;
  for (const auto& [why, n] : t.rejected) {
    EXPECT_EQ(why, reason::kNotTcp) << e.file;
    not_tcp += n;
  }
  EXPECT_EQ(not_tcp, e.frames - e.decoded);
}

INSTANTIATE_TEST_SUITE_P(
    SharedCaptures, CaptureTotals,
    testing::Values(Expected{"CVE-2018-6794.pcap", 33, 33, 5007, 696, 3, 3},
                    Expected{"badcurveball.pcap", 12, 12, 2320, 404, 1, 1},
                    Expected{"dhcp.pcapng", 4, 0, 0, 0, 0, 0},
                    // Every frame is GRE (IP protocol 47) around IPv4.
                    Expected{"gre-sample.pcap", 40, 0, 0, 0, 0, 0},
                    Expected{"http-empty-useragent.pcap", 16, 16, 604, 536, 1, 1},
                    Expected{"http1.pcapng", 184, 184, 249337, 4940, 0, 0},
                    Expected{"ipv6.pcapng", 9, 9, 3047, 216, 1, 1},
                    Expected{"ssh2-malformed.pcap", 22, 22, 2516, 464, 1, 1},
                    Expected{"tls-alpn-h2.pcap", 9, 9, 3047, 216, 1, 1},
                    // 40 QUIC (UDP) frames.
                    Expected{"tls-handshake.pcapng", 193, 153, 132134, 3060, 0, 0},
                    Expected{"tls-non-ascii-alpn.pcapng", 2, 2, 1929, 40, 0, 0}),
    [](const testing::TestParamInfo<Expected>& param_info) {
      std::string n = param_info.param.file;
      std::replace_if(n.begin(), n.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
      return n;
    });

TEST(CaptureFields, FirstSynOfIpv6Capture) {
  // p0f -r ipv6.pcapng reports this client and SYN signature
  // (6:64+0:0:1346:65535,6:mss,nop,ws,nop,nop,ts,sok,eol+1:flow:0).
  const auto path = test::testdata_capture("ipv6.pcapng");
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  ASSERT_NE(p, nullptr) << err;
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  DecodedPacket syn;
  bool found = false;
  while (!found && pcap_next_ex(p, &hdr, &data) == 1) {
    DecodedPacket pkt;
    const auto r = decode_packet(pcap_datalink(p), {data, hdr->caplen}, 0, pkt);
    if (r.status == DecodeStatus::kOk && pkt.flags == tcp_flags::kSyn) {
      syn = pkt;
      found = true;
    }
  }
  // Copy what we need before closing: the spans point into libpcap's buffer.
  const std::size_t opt_len = syn.tcp_options.size();
  pcap_close(p);
  ASSERT_TRUE(found);
  EXPECT_EQ(syn.src.to_string(), "2001:4998:ef83:14:8000:0:0:100d");
  EXPECT_EQ(syn.dst.to_string(), "2606:4700:0:0:0:0:6811:d209");
  EXPECT_EQ(syn.sport, 64034);
  EXPECT_EQ(syn.dport, 443);
  EXPECT_EQ(syn.ttl, 64);
  EXPECT_EQ(syn.win, 65535);
  EXPECT_NE(syn.flow_label, 0u);
  EXPECT_EQ(syn.ip_hdr_len, 40);
  EXPECT_EQ(opt_len, 24u);  // mss,nop,ws,nop,nop,ts,sok,eol+1
}

}  // namespace
}  // namespace huginn::packet
