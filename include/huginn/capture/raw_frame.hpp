#pragma once
// What every capture source hands out: one frame at a time, and why there
// was none. Shared by PcapSource (libpcap) and PcapFileReader (classic
// pcap files walked in memory).
#include <cstdint>
#include <span>

namespace huginn::capture {

// One captured frame. `data` points into the source's buffer (libpcap's,
// or the mapped file) and is valid until the next call to next() on the
// same source.
struct RawFrame {
  std::int64_t ts_us = 0;  // capture time, microseconds since the Unix epoch
  std::uint32_t wire_len = 0;  // original length on the wire (pcap "len")
  // The captured bytes, min(caplen, len): a frame never claims more than
  // it had on the wire, as p0f also takes the smaller of the two.
  std::span<const std::uint8_t> data;
};

enum class ReadStatus : std::uint8_t {
  kPacket,   // `frame` is filled
  kTimeout,  // live only: no packet within the read timeout
  kEnd,      // end of file, or break_loop() was called
  kError,    // read error; error() has the text (e.g. "truncated dump file; ...")
};

}  // namespace huginn::capture
