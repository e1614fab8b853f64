// Fuzz target for capture::PcapFileReader, differential against libpcap:
// the input is a whole capture file. When the reader takes it, libpcap
// reads the same bytes (through fmemopen) and both must agree on the link
// type, the snaplen, every frame (timestamp, wire length, bytes), where
// reading stops and the error text; any difference aborts. Every frame is
// also decoded, as PcapSource's users would.
#include <pcap/pcap.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include "huginn/capture/pcap_file_reader.hpp"
#include "huginn/packet/decode.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Keeps the decode results from being optimised away.
volatile unsigned g_sink = 0;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using huginn::capture::PcapFileReader;
  using huginn::capture::RawFrame;
  using huginn::capture::ReadStatus;
  const std::span<const std::uint8_t> file(data, size);
  auto reader = PcapFileReader::open(file);
  if (!reader || size == 0) return 0;

  // fmemopen wants a mutable buffer even for reading.
  std::string copy(reinterpret_cast<const char*>(data), size);  // bytes as chars
  std::FILE* f = fmemopen(copy.data(), copy.size(), "rb");
  check(f != nullptr);
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  check(p != nullptr);  // a header the reader takes, libpcap takes
  check(pcap_datalink(p) == reader->datalink());
  check(pcap_snapshot(p) == static_cast<int>(reader->snaplen()));

  RawFrame frame;
  huginn::packet::DecodedPacket pkt;
  unsigned sum = 0;
  for (;;) {
    const ReadStatus st = reader->next(frame);
    pcap_pkthdr* hdr = nullptr;
    const u_char* bytes = nullptr;
    const int rc = pcap_next_ex(p, &hdr, &bytes);
    if (st != ReadStatus::kPacket) {
      check(st == ReadStatus::kEnd ? rc == PCAP_ERROR_BREAK : rc == PCAP_ERROR);
      if (st == ReadStatus::kError) check(reader->error() == pcap_geterr(p));
      break;
    }
    check(rc == 1);
    check(frame.ts_us == static_cast<std::int64_t>(hdr->ts.tv_sec) * 1'000'000 + hdr->ts.tv_usec);
    check(frame.wire_len == hdr->len);
    check(reader->last_caplen() == hdr->caplen);
    check(frame.data.size() == std::min(hdr->caplen, hdr->len));
    // libpcap rewrites the CAN ID of Linux cooked (SLL/SLL2) CAN frames in a
    // byte-swapped file to host order (pcap_post_process); we hand out the
    // bytes as stored. Such frames are not IP, so decoding is unaffected.
    const bool swapped = reader->big_endian() != (std::endian::native == std::endian::big);
    const bool rewritten = swapped && (reader->datalink() == DLT_LINUX_SLL ||
                                       reader->datalink() == DLT_LINUX_SLL2);
    if (!rewritten) check(std::memcmp(frame.data.data(), bytes, frame.data.size()) == 0);
    // The frame lies inside the input.
    check(frame.data.data() >= data && frame.data.data() + frame.data.size() <= data + size);
    const auto r = huginn::packet::decode_packet(reader->datalink(), frame.data, frame.ts_us, pkt);
    sum += static_cast<unsigned>(r.status);
  }
  pcap_close(p);  // closes f
  g_sink = sum;
  return 0;
}
