#include "huginn/capture/pcap_file_reader.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <utility>

#include "huginn/packet/link_type.hpp"

namespace huginn::capture {
namespace {

constexpr std::uint32_t kMagicMicro = 0xa1b2c3d4;
constexpr std::uint32_t kMagicNano = 0xa1b23c4d;

// The linktype field holds the link type in its low 16 bits, reserved bits
// 16-25 and FCS information in bits 26-31 (tcpdump.org pcap format draft).
// libpcap 1.10 drops only the FCS bits and maps the rest, reserved bits
// included, so a set reserved bit yields an unknown DLT.
constexpr std::uint32_t kLinktypeMask = 0x03ffffff;

// The DLT libpcap reports for a file's LINKTYPE value, for the link types
// decode_packet() understands; nullopt for any other. LINKTYPE values equal
// their DLT on Linux except LINKTYPE_RAW (101), which libpcap maps to
// DLT_RAW (12); the value 12 itself has no LINKTYPE meaning and libpcap
// passes it through unchanged, which again gives DLT_RAW. A test checks
// this against libpcap for all 65536 values.
std::optional<int> dlt_for_linktype(std::uint32_t linktype) {
  namespace dlt = packet::dlt;
  switch (linktype) {
    case dlt::kLinkTypeRaw:
      return dlt::kRaw;
    case dlt::kNull:
    case dlt::kEn10mb:
    case dlt::kRaw:
    case dlt::kLoop:
    case dlt::kLinuxSll:
    case dlt::kLinuxSll2:
    case dlt::kIpv4:
    case dlt::kIpv6:
      return static_cast<int>(linktype);
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<PcapFileReader> PcapFileReader::open(std::span<const std::uint8_t> file) {
  const auto magic_be = util::ByteReader(file).be32();
  const auto magic_le = util::ByteReader(file).le32();
  if (!magic_be || !magic_le) return std::nullopt;

  PcapFileReader r;
  r.in_ = util::ByteReader(file);
  r.file_size_ = file.size();
  if (*magic_be == kMagicMicro || *magic_be == kMagicNano) {
    r.big_endian_ = true;
    r.nanosecond_ = *magic_be == kMagicNano;
  } else if (*magic_le == kMagicMicro || *magic_le == kMagicNano) {
    r.big_endian_ = false;
    r.nanosecond_ = *magic_le == kMagicNano;
  } else {
    return std::nullopt;  // pcapng, the modified-pcap magic, or not a capture
  }
  if (r.in_.remaining() < kFileHeaderBytes) return std::nullopt;  // libpcap words the error

  // Cannot fail below: 24 bytes are present.
  (void)r.u32();  // magic
  // Major then minor version, 16 bits each in the file's byte order.
  const std::uint32_t versions = *r.u32();
  const auto major = r.big_endian_ ? versions >> 16 : versions & 0xffff;
  const auto minor = r.big_endian_ ? versions & 0xffff : versions >> 16;
  (void)r.u32();  // thiszone: libpcap ignores it
  (void)r.u32();  // sigfigs: libpcap ignores it
  const std::uint32_t snaplen = *r.u32();
  const std::uint32_t linktype = *r.u32();
  if (major != 2 || minor != 4) return std::nullopt;
  const auto dlt = dlt_for_linktype(linktype & kLinktypeMask);
  if (!dlt) return std::nullopt;

  r.dlt_ = *dlt;
  // libpcap takes the snaplen as a signed int and replaces a zero or
  // negative one with its maximum; a larger positive one stays, and only
  // the per-record bound in next() applies.
  r.snaplen_ = static_cast<std::int32_t>(snaplen) <= 0 ? kPcapMaxCaplen : snaplen;
  // libpcap widens the timestamp fields of a file in this host's byte
  // order as signed values and those of a byte-swapped file as unsigned.
  r.signed_times_ = r.big_endian_ == (std::endian::native == std::endian::big);
  return r;
}

std::optional<std::uint32_t> PcapFileReader::u32() { return big_endian_ ? in_.be32() : in_.le32(); }

ReadStatus PcapFileReader::fail(std::string message) {
  failed_ = true;
  error_ = std::move(message);
  return ReadStatus::kError;
}

void PcapFileReader::prefetch_ahead() {
  // Each record's position is known only from the previous header, a chain
  // the hardware prefetcher cannot follow across pages, so reading a file
  // that is not in the CPU caches otherwise stalls on memory at least once
  // per frame (stdio's copy in the kernel streamed the bytes instead).
  // Keep every cache line of the next kPrefetchBytes on its way; a
  // prefetch never faults and is dropped for an unmapped page.
  const std::size_t target = std::min(in_.position() + kPrefetchBytes, file_size_);
  const auto base = in_.rest().data() - in_.position();
  for (prefetched_ = std::max(prefetched_, in_.position()); prefetched_ < target;
       prefetched_ += 64) {
    __builtin_prefetch(base + prefetched_);
  }
}

ReadStatus PcapFileReader::next(RawFrame& frame) {
  if (failed_) return ReadStatus::kError;
  if (in_.empty()) return ReadStatus::kEnd;
  if (in_.remaining() < kRecordHeaderBytes) {
    return fail("truncated dump file; tried to read " + std::to_string(kRecordHeaderBytes) +
                " header bytes, only got " + std::to_string(in_.remaining()));
  }
  // One copy of the 16 bytes present, then a byte swap for a file written
  // in the other byte order: the four fields without four bounds checks.
  std::array<std::uint32_t, 4> fields{};
  static_assert(sizeof(fields) == kRecordHeaderBytes);
  std::memcpy(fields.data(), in_.bytes(kRecordHeaderBytes)->data(), kRecordHeaderBytes);
  if (big_endian_ != (std::endian::native == std::endian::big)) {
    for (auto& f : fields) f = __builtin_bswap32(f);
  }
  const auto [sec, sub, caplen, len] = fields;  // sub: micro- or nanoseconds

  // libpcap checks the bound before reading the data, and names the
  // snaplen when the record exceeds that too.
  if (caplen > kPcapMaxCaplen) {
    return fail("invalid packet capture length " + std::to_string(caplen) +
                (caplen > snaplen_ ? ", bigger than snaplen of " + std::to_string(snaplen_)
                                   : ", bigger than maximum of " + std::to_string(kPcapMaxCaplen)));
  }
  const auto record = in_.bytes(caplen);
  if (!record) {
    // libpcap reads a record longer than the snaplen in two steps, the
    // snaplen bytes it keeps and then the rest, and names the size of the
    // step that ran short.
    const std::size_t got = in_.remaining();
    const std::uint32_t wanted = caplen > snaplen_ && got < snaplen_ ? snaplen_ : caplen;
    return fail("truncated dump file; tried to read " + std::to_string(wanted) +
                " captured bytes, only got " + std::to_string(got));
  }

  // A nanosecond value is divided down, rounding toward zero.
  const std::int64_t sec64 = signed_times_ ? std::int64_t{static_cast<std::int32_t>(sec)} : sec;
  std::int64_t sub64 = signed_times_ ? std::int64_t{static_cast<std::int32_t>(sub)} : sub;
  if (nanosecond_) sub64 /= 1000;
  frame.ts_us = sec64 * 1'000'000 + sub64;
  frame.wire_len = len;
  last_caplen_ = std::min(caplen, snaplen_);
  frame.data = record->first(std::min(last_caplen_, len));

  prefetch_ahead();
  return ReadStatus::kPacket;
}

}  // namespace huginn::capture
