// Microbenchmarks of packet decoding (packet/decode.hpp): the per-packet
// cost every capture pays before any fingerprinting.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "huginn/packet/decode.hpp"
#include "huginn/packet/link_type.hpp"
#include "tcp_packet_builder.hpp"

namespace {

using huginn::test::TcpPacketBuilder;

// A typical Linux client SYN: mss,sok,ts,nop,ws with DF and a non-zero ID.
TcpPacketBuilder linux_syn() {
  auto b = TcpPacketBuilder::syn();
  b.ipv4("192.0.2.10", "198.51.100.20").ports(51234, 443).ttl(57).df(true).ip_id(0x3c1a);
  b.seq(0x12345678).window(64240).opt_mss(1460).opt_sok().opt_ts(0x0badcafe, 0).opt_nop().opt_ws(7);
  return b;
}

void run_decode(benchmark::State& state, int dlt, const std::vector<std::uint8_t>& frame) {
  huginn::packet::DecodedPacket out;
  std::int64_t ts = 1'700'000'000'000'000;
  for (auto _ : state) {
    auto r = huginn::packet::decode_packet(dlt, frame, ts++, out);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(frame.size()));
}

void BM_DecodeSynEthernetV4(benchmark::State& state) {
  run_decode(state, huginn::packet::dlt::kEn10mb, linux_syn().build_ethernet());
}
BENCHMARK(BM_DecodeSynEthernetV4);

void BM_DecodeSynRawV4(benchmark::State& state) {
  run_decode(state, huginn::packet::dlt::kRaw, linux_syn().build_ip());
}
BENCHMARK(BM_DecodeSynRawV4);

void BM_DecodeSynEthernetV6(benchmark::State& state) {
  auto b = linux_syn();
  b.ipv6("2001:db8::10", "2001:db8::20").flow_label(0x12345);
  run_decode(state, huginn::packet::dlt::kEn10mb, b.build_ethernet());
}
BENCHMARK(BM_DecodeSynEthernetV6);

void BM_DecodeDataSegmentVlan(benchmark::State& state) {
  auto b = TcpPacketBuilder();
  std::vector<std::uint8_t> payload(1400, 0x17);
  b.ipv4("192.0.2.10", "198.51.100.20").ports(51234, 443).vlan(42).df(true).ip_id(7);
  b.flags(huginn::test::tcp_flag::kAck | huginn::test::tcp_flag::kPsh).opt_nop().opt_nop()
      .opt_ts(1, 2).payload(payload);
  run_decode(state, huginn::packet::dlt::kEn10mb, b.build_ethernet());
}
BENCHMARK(BM_DecodeDataSegmentVlan);

}  // namespace
