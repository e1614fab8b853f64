// Every shared test capture through capture::read_file into a FlowTable:
// concrete facts per capture, and the hostile ones move counters without
// crashing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "huginn/capture/capture_thread.hpp"
#include "huginn/capture/pcap_source.hpp"
#include "huginn/flow/flow_table.hpp"
#include "test_paths.hpp"

namespace huginn::flow {
namespace {

struct Seen {
  Endpoint client;
  std::string to_server;  // prefix as it was when the flow was removed
  std::string to_client;
  bool syn_seen = false;
  CloseReason reason = CloseReason::kCleared;
};

struct Replay {
  std::vector<Seen> flows;  // in removal order
  util::Counters counters;
  std::size_t peak = 0;
};

std::string text(std::span<const std::uint8_t> s) { return {s.begin(), s.end()}; }

Replay replay(const std::string& name, bool midstream, std::int64_t idle_us = 30'000'000) {
  FlowTableConfig cfg;
  cfg.pick_up_midstream = midstream;
  cfg.idle_timeout_us = idle_us;
  Replay out;
  FlowTable<int> table(cfg, [&out](FlowTable<int>::FlowType& f, CloseReason why) {
    out.flows.push_back({f.client(), text(f.to_server().contiguous()), text(f.to_client().contiguous()),
                         f.syn_seen(), why});
  });
  auto opened = capture::PcapSource::open_file(test::testdata_capture(name).string());
  EXPECT_TRUE(opened) << opened.error;
  if (!opened) return out;
  capture::CaptureStats stats;
  const auto err = capture::read_file(
      *opened.source,
      [&](const packet::DecodedPacket& pkt) {
        table.on_packet(pkt);
        out.peak = std::max(out.peak, table.size());
        // The invariants the fuzz target checks hold on real traffic too.
        table.for_each([](const FlowTable<int>::FlowType& f) {
          for (Direction d : {Direction::kToServer, Direction::kToClient}) {
            const StreamPrefix& s = f.stream(d);
            ASSERT_LE(s.stored_bytes(), s.config().max_bytes);
            ASSERT_EQ(s.stored_bytes(), s.stats().new_bytes);
          }
        });
      },
      stats);
  EXPECT_FALSE(err.has_value()) << *err;
  table.clear();
  out.counters = table.counters();
  return out;
}

bool starts_with_method(std::string_view s) {
  for (std::string_view m : {"GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ",
                             "CONNECT ", "TRACE ", "PATCH "}) {
    if (s.substr(0, m.size()) == m) return true;
  }
  return false;
}

std::uint64_t created(const Replay& r) {
  return r.counters.get(counter::kFlowCreatedSyn) + r.counters.get(counter::kFlowCreatedMidstream);
}

// The TCP conversation counts below are `tshark -r FILE -q -z conv,tcp |
// grep -c '<->'` (Wireshark 4.0, Debian 12), computed once. With mid-stream
// pickup we create one flow per conversation, as tshark does, once the
// idle timeout is longer than any pause in the captures (tshark has none).
TEST(FlowCapturesTest, FlowCountsMatchTshark) {
  const std::map<std::string, std::uint64_t> expected = {
      {"CVE-2018-6794.pcap", 3},      {"badcurveball.pcap", 1},
      {"dhcp.pcapng", 0},             {"http-empty-useragent.pcap", 1},
      {"http1.pcapng", 56},           {"ipv6.pcapng", 1},
      {"ssh2-malformed.pcap", 1},     {"tls-alpn-h2.pcap", 1},
      {"tls-handshake.pcapng", 59},   {"tls-non-ascii-alpn.pcapng", 1},
  };
  for (const auto& [name, count] : expected) {
    const Replay r = replay(name, /*midstream=*/true, /*idle_us=*/600'000'000);
    EXPECT_EQ(created(r), count) << name;
    EXPECT_EQ(r.flows.size(), count) << name;  // every flow removed exactly once
  }
}

TEST(FlowCapturesTest, Http1KeepAliveIdleLongerThan30sBecomesTwoFlows) {
  // 192.168.1.147:56404 <-> 142.251.16.94:80 is silent for over 30 s
  // between two exchanges; at the default idle timeout it expires and the
  // next data segment starts a second flow.
  const Replay r = replay("http1.pcapng", true);
  EXPECT_EQ(created(r), 57u);
  const auto quiet_client = count_if(r.flows.begin(), r.flows.end(), [](const Seen& f) {
    return f.client.port == 56404;
  });
  EXPECT_EQ(quiet_client, 2);
}

TEST(FlowCapturesTest, GreTunnelledTcpIsNotAFlow) {
  // tshark counts the TCP conversation inside GRE; packet/ does not decode
  // tunnels, so no segment reaches the table.
  const Replay r = replay("gre-sample.pcap", true);
  EXPECT_EQ(created(r), 0u);
}

TEST(FlowCapturesTest, Http1ClientPrefixesStartWithAMethod) {
  // The capture starts mid-stream: no SYN at all.
  EXPECT_EQ(replay("http1.pcapng", false).flows.size(), 0u);
  const Replay r = replay("http1.pcapng", true);
  ASSERT_FALSE(r.flows.empty());
  std::size_t with_request = 0;
  std::size_t with_response = 0;
  for (const Seen& f : r.flows) {
    if (!f.to_server.empty()) {
      ++with_request;
      EXPECT_TRUE(starts_with_method(f.to_server)) << f.to_server.substr(0, 40);
    }
    // Of the 57 flows, 48484 has only its request in the capture and one
    // other only a response.
    if (!f.to_client.empty()) {
      ++with_response;
      EXPECT_EQ(f.to_client.substr(0, 5), "HTTP/") << f.to_client.substr(0, 40);
    }
  }
  EXPECT_EQ(with_request, 56u);
  EXPECT_EQ(with_response, 56u);
  EXPECT_EQ(r.counters.get(counter::kStreamOverlapConflict), 0u);
}

TEST(FlowCapturesTest, TlsClientPrefixesStartWithAHandshakeRecord) {
  for (const char* name : {"tls-handshake.pcapng", "tls-alpn-h2.pcap",
                           "tls-non-ascii-alpn.pcapng", "badcurveball.pcap"}) {
    const Replay r = replay(name, true);
    std::size_t with_data = 0;
    for (const Seen& f : r.flows) {
      if (f.to_server.size() < 6) continue;
      ++with_data;
      // RFC 8446 §5.1: content type 22 (handshake), then 0x03 0x0X; the
      // first handshake message is a ClientHello (type 1).
      EXPECT_EQ(static_cast<unsigned char>(f.to_server[0]), 22u) << name;
      EXPECT_EQ(static_cast<unsigned char>(f.to_server[1]), 3u) << name;
      EXPECT_EQ(static_cast<unsigned char>(f.to_server[5]), 1u) << name;
    }
    EXPECT_GT(with_data, 0u) << name;
  }
}

TEST(FlowCapturesTest, Cve2018_6794ServerDataBeforeHandshakeAndLateRetransmissions) {
  // The server sends 85 bytes and its FIN before the client's ACK of the
  // SYN+ACK; the client then sends its request with FIN, and keeps
  // re-sending it after both FINs closed the flow, then RSTs.
  const Replay r = replay("CVE-2018-6794.pcap", false);
  ASSERT_EQ(r.flows.size(), 3u);
  for (const Seen& f : r.flows) {
    EXPECT_TRUE(f.syn_seen);
    EXPECT_EQ(f.reason, CloseReason::kFin);
    // The SYN+ACK fixed the server's start point, so the early data is kept.
    EXPECT_EQ(f.to_client.size(), 85u);
  }
  EXPECT_EQ(r.counters.get(counter::kFlowClosedFin), 3u);
  // The re-sent requests and the RSTs find the closed flows while they
  // linger: duplicates, not new flows or untracked segments.
  EXPECT_EQ(r.counters.get(counter::kFlowUntrackedSegment), 0u);
  EXPECT_EQ(r.counters.get(counter::kStreamBytesDuplicate), 5u * 409 + 5u * 383);
  EXPECT_EQ(r.counters.get(counter::kFlowClosedRst), 0u);
  EXPECT_EQ(r.counters.get(counter::kFlowCleared), 0u);
  EXPECT_EQ(r.counters.get(counter::kStreamOverlapConflict), 0u);
}

TEST(FlowCapturesTest, Ssh2MalformedIsOneOrdinaryFlow) {
  const Replay r = replay("ssh2-malformed.pcap", false);
  ASSERT_EQ(r.flows.size(), 1u);
  EXPECT_EQ(r.flows[0].to_server.substr(0, 4), "SSH-");
  EXPECT_EQ(r.flows[0].to_client.substr(0, 4), "SSH-");
  EXPECT_EQ(r.counters.get(counter::kFlowCreatedSyn), 1u);
  EXPECT_EQ(r.counters.get(counter::kStreamOverlapConflict), 0u);
  EXPECT_EQ(r.counters.get(counter::kStreamGapGaveUp), 0u);
}

}  // namespace
}  // namespace huginn::flow
