#pragma once
// PcapFileReader: walks the records of a classic pcap file (libpcap's
// savefile format, version 2.4) that is already in memory, normally a
// read-only mapping of the whole file (PcapSource::open_file). Reading in
// place saves the copy that stdio makes of every byte for libpcap's
// fread(), which was the largest single cost of `analyze` on big files.
//
// Every outcome matches libpcap 1.10 reading the same bytes with
// microsecond precision (pcap_open_offline_with_tstamp_precision, then
// pcap_next_ex): the same frames, timestamps, lengths and bytes, and the
// same error text where a file is damaged. Tests compare the two on every
// shared capture and on crafted and fuzzed files.
//
// File layout (all fields in the writer's byte order, which the magic
// tells): a 24-byte header (magic, version 2.4, zone, sigfigs, snaplen,
// linktype), then per frame a 16-byte record header (seconds, micro- or
// nanoseconds, caplen, len) and caplen bytes.
//
// next() software-prefetches the next 8 KiB of the file as it goes: record
// positions form a chain the hardware prefetcher does not follow across
// pages (bench_decode: 3x fewer ns per frame on a file not in the caches).
//
// Not thread-safe; one reader per thread. Never throws.
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "huginn/capture/raw_frame.hpp"
#include "huginn/util/byte_reader.hpp"

namespace huginn::capture {

// libpcap's MAXIMUM_SNAPLEN, its bound on a record's caplen for every link
// type this reader accepts: a record claiming more is corrupt, and reading
// stops there with libpcap's "invalid packet capture length" error.
inline constexpr std::uint32_t kPcapMaxCaplen = 262144;

class PcapFileReader {
 public:
  // Bytes of the file header and of each record header.
  static constexpr std::size_t kFileHeaderBytes = 24;
  static constexpr std::size_t kRecordHeaderBytes = 16;

  // Reads the file header of `file`, which must outlive the reader.
  // Returns nullopt, and leaves the file to libpcap, unless all of these
  // hold, so that every rule below is the same one libpcap applies:
  //   - one of the four classic magics: microsecond (a1b2c3d4) or
  //     nanosecond (a1b23c4d) timestamps, in either byte order;
  //   - version 2.4 (older minors swapped caplen and len, and libpcap
  //     guesses which files did);
  //   - the link type (the linktype field without its FCS bits, as libpcap
  //     takes it) maps to a DLT that packet::decode_packet() decodes
  //     (libpcap's mapping, e.g. LINKTYPE_RAW 101 -> DLT_RAW 12). Other
  //     link types have libpcap-specific size limits and decode to nothing
  //     anyway.
  // pcapng, truncated headers, FIFOs and everything else stay with libpcap.
  static std::optional<PcapFileReader> open(std::span<const std::uint8_t> file);

  // The DLT (as pcap_datalink() returns it) to pass to decode_packet().
  [[nodiscard]] int datalink() const { return dlt_; }
  // The snapshot length as libpcap adjusts it (pcap_snapshot()): the
  // header's value, or kPcapMaxCaplen when that is 0 or negative as a
  // signed 32-bit value.
  [[nodiscard]] std::uint32_t snaplen() const { return snaplen_; }
  [[nodiscard]] bool nanosecond() const { return nanosecond_; }
  // True when the file's byte order is big-endian (not this host's).
  [[nodiscard]] bool big_endian() const { return big_endian_; }

  // The next record. kPacket fills `frame`, whose data points into the file
  // span: a record longer than the snaplen (a writer that did not cut its
  // frames) is cut to it, as libpcap does. Timestamps are widened as
  // libpcap widens them: signed 32-bit fields for a file in this host's
  // byte order, unsigned for a byte-swapped one. kEnd at the exact end of the
  // file. kError when the file is damaged, with error() set; every complete
  // record before the damage has been returned, and each later call
  // returns kError again. The errors (libpcap's wording):
  //   "truncated dump file; tried to read 16 header bytes, only got N"
  //   "truncated dump file; tried to read C captured bytes, only got N"
  //     (C is the snaplen instead when the record exceeds it and fewer
  //     than snaplen bytes are left)
  //   "invalid packet capture length C, bigger than snaplen of S"
  //   "invalid packet capture length C, bigger than maximum of 262144"
  //     (C above kPcapMaxCaplen; the first form when C also exceeds S)
  // Never returns kTimeout.
  ReadStatus next(RawFrame& frame);
  [[nodiscard]] const std::string& error() const { return error_; }
  // The captured length libpcap would report in pcap_pkthdr.caplen for the
  // frame last returned (min(record caplen, snaplen)); BPF filters take it.
  // frame.data may be shorter, being cut to the wire length as well.
  [[nodiscard]] std::uint32_t last_caplen() const { return last_caplen_; }
  // Bytes of the file consumed so far (headers included).
  [[nodiscard]] std::size_t position() const { return in_.position(); }

 private:
  PcapFileReader() = default;
  std::optional<std::uint32_t> u32();
  ReadStatus fail(std::string message);
  void prefetch_ahead();

  // How far ahead of the cursor prefetch_ahead() keeps cache lines coming:
  // about 20 typical frames, a few microseconds of work.
  static constexpr std::size_t kPrefetchBytes = 8192;

  util::ByteReader in_;
  std::size_t file_size_ = 0;
  std::size_t prefetched_ = 0;  // lines before this offset were prefetched
  int dlt_ = 0;
  std::uint32_t snaplen_ = 0;
  std::uint32_t last_caplen_ = 0;
  bool nanosecond_ = false;
  bool big_endian_ = false;
  bool signed_times_ = true;
  bool failed_ = false;
  std::string error_;
};

}  // namespace huginn::capture
