// Microbenchmarks of the per-packet cost every capture pays before any
// fingerprinting: packet decoding (packet/decode.hpp) and reading capture
// files (capture/pcap_file_reader.hpp, PcapSource::open_file), with
// libpcap's own reading of the same file as the reference.
#include <benchmark/benchmark.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "huginn/capture/pcap_file_reader.hpp"
#include "huginn/capture/pcap_source.hpp"
#include "huginn/packet/decode.hpp"
#include "huginn/packet/link_type.hpp"
#include "pcap_writer.hpp"
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

void BM_DecodeSynEthernetV6ExtHeaders(benchmark::State& state) {
  // Hop-by-hop options in front of TCP: the extension-header walk.
  auto b = linux_syn();
  b.ipv6("2001:db8::10", "2001:db8::20").flow_label(0x12345).ipv6_hop_by_hop(16);
  run_decode(state, huginn::packet::dlt::kEn10mb, b.build_ethernet());
}
BENCHMARK(BM_DecodeSynEthernetV6ExtHeaders);

void BM_DecodeDataSegmentEthernetV4(benchmark::State& state) {
  auto b = TcpPacketBuilder();
  std::vector<std::uint8_t> payload(1400, 0x17);
  b.ipv4("192.0.2.10", "198.51.100.20").ports(51234, 443).df(true).ip_id(7);
  b.flags(huginn::test::tcp_flag::kAck | huginn::test::tcp_flag::kPsh).opt_nop().opt_nop()
      .opt_ts(1, 2).payload(payload);
  run_decode(state, huginn::packet::dlt::kEn10mb, b.build_ethernet());
}
BENCHMARK(BM_DecodeDataSegmentEthernetV4);

// A 100k-frame Ethernet capture, written once per process: SYNs and data
// segments of assorted sizes (60..1514 bytes), about 45 MB.
constexpr int kFileFrames = 100'000;

const std::filesystem::path& bench_capture() {
  static const std::filesystem::path path = [] {
    auto p = std::filesystem::temp_directory_path() /
             ("huginn-bench-decode-" + std::to_string(getpid()) + ".pcap");
    huginn::test::PcapWriter w;
    if (!w.open(p, huginn::test::LinkType::kEthernet)) std::abort();
    std::vector<std::uint8_t> payload;
    for (int i = 0; i < kFileFrames; ++i) {
      auto b = i % 4 == 0 ? linux_syn() : TcpPacketBuilder();
      if (i % 4 != 0) {
        payload.assign(static_cast<std::size_t>((i * 7919) % 1461), 0x42);
        b.ipv4("192.0.2.10", "198.51.100.20").ports(51234, 443).df(true)
            .flags(huginn::test::tcp_flag::kAck).payload(payload);
      }
      const auto frame = b.build_ethernet();
      if (!w.write(1'700'000'000'000'000 + i * 100, frame)) std::abort();
    }
    if (!w.close()) std::abort();
    std::atexit([] { std::filesystem::remove(bench_capture()); });
    return p;
  }();
  return path;
}

void count_file(benchmark::State& state, std::int64_t frames, std::int64_t bytes) {
  if (frames != kFileFrames) state.SkipWithError("wrong frame count");
  state.SetItemsProcessed(state.iterations() * frames);
  state.SetBytesProcessed(state.iterations() * bytes);
}

// The reader alone over the file already in memory: the parsing cost.
void BM_PcapFileReaderInMemory(benchmark::State& state) {
  std::ifstream in(bench_capture(), std::ios::binary);
  const std::vector<char> chars{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const std::vector<std::uint8_t> file(chars.begin(), chars.end());
  std::int64_t frames = 0;
  for (auto _ : state) {
    auto reader = huginn::capture::PcapFileReader::open(file);
    huginn::capture::RawFrame frame;
    frames = 0;
    while (reader->next(frame) == huginn::capture::ReadStatus::kPacket) {
      benchmark::DoNotOptimize(frame.data.data());
      ++frames;
    }
  }
  count_file(state, frames, static_cast<std::int64_t>(file.size()));
}
BENCHMARK(BM_PcapFileReaderInMemory)->Unit(benchmark::kMillisecond);

// open_file + every frame, as `analyze` reads (mapped; file in page cache).
void BM_PcapSourceMappedFile(benchmark::State& state) {
  std::int64_t frames = 0;
  for (auto _ : state) {
    auto opened = huginn::capture::PcapSource::open_file(bench_capture().string());
    if (!opened || !opened.source->is_mapped()) state.SkipWithError("not mapped");
    huginn::capture::RawFrame frame;
    frames = 0;
    while (opened.source->next(frame) == huginn::capture::ReadStatus::kPacket) {
      benchmark::DoNotOptimize(frame.data.data());
      ++frames;
    }
  }
  count_file(state, frames, static_cast<std::int64_t>(std::filesystem::file_size(bench_capture())));
}
BENCHMARK(BM_PcapSourceMappedFile)->Unit(benchmark::kMillisecond);

// The same through libpcap's stdio reading (what open_file did before).
void BM_LibpcapFile(benchmark::State& state) {
  std::int64_t frames = 0;
  for (auto _ : state) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline_with_tstamp_precision(bench_capture().c_str(),
                                                        PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (p == nullptr) state.SkipWithError(errbuf);
    pcap_pkthdr* hdr = nullptr;
    const u_char* data = nullptr;
    frames = 0;
    while (pcap_next_ex(p, &hdr, &data) == 1) {
      benchmark::DoNotOptimize(data);
      ++frames;
    }
    pcap_close(p);
  }
  count_file(state, frames, static_cast<std::int64_t>(std::filesystem::file_size(bench_capture())));
}
BENCHMARK(BM_LibpcapFile)->Unit(benchmark::kMillisecond);

// Mapped reading plus decoding: the capture side of `analyze` per frame.
void BM_PcapSourceMappedFileDecode(benchmark::State& state) {
  std::int64_t frames = 0;
  for (auto _ : state) {
    auto opened = huginn::capture::PcapSource::open_file(bench_capture().string());
    if (!opened) state.SkipWithError("cannot open");
    const int dlt = opened.source->datalink();
    huginn::capture::RawFrame frame;
    huginn::packet::DecodedPacket pkt;
    frames = 0;
    while (opened.source->next(frame) == huginn::capture::ReadStatus::kPacket) {
      auto r = huginn::packet::decode_packet(dlt, frame.data, frame.ts_us, pkt);
      benchmark::DoNotOptimize(r);
      ++frames;
    }
  }
  count_file(state, frames, static_cast<std::int64_t>(std::filesystem::file_size(bench_capture())));
}
BENCHMARK(BM_PcapSourceMappedFileDecode)->Unit(benchmark::kMillisecond);

}  // namespace
