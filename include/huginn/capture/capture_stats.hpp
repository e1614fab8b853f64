#pragma once
// Counters of one capture: what libpcap handed us, what decoded, and why the
// rest did not (by decode reason, see packet/decode.hpp), plus the kernel's
// own counts from pcap_stats().
//
// Plain data with no locking: CaptureThread keeps one per capture thread and
// copies snapshots out; read_file() fills the caller's.
#include <cstdint>

#include "huginn/packet/decode.hpp"
#include "huginn/util/counters.hpp"

namespace huginn::capture {

struct CaptureStats {
  std::uint64_t packets_received = 0;  // frames libpcap delivered to us
  std::uint64_t decoded = 0;           // DecodeStatus::kOk
  std::uint64_t ignored = 0;           // sum of ignored_by_reason
  std::uint64_t malformed = 0;         // sum of malformed_by_reason
  util::Counters ignored_by_reason;
  util::Counters malformed_by_reason;
  // Exceptions thrown by the sink and caught on the capture thread.
  std::uint64_t sink_errors = 0;

  // Kernel counters (pcap_stats; live captures only, zero for files). On
  // Linux ps_recv counts packets that passed the filter, ps_drop those lost
  // for lack of buffer space, ps_ifdrop those the interface dropped.
  std::uint64_t kernel_received = 0;
  std::uint64_t kernel_dropped = 0;
  std::uint64_t interface_dropped = 0;

  // Counts one frame's decode result.
  void record(const packet::DecodeResult& r);
};

}  // namespace huginn::capture
