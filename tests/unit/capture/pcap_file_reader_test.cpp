// PcapFileReader against libpcap itself: for every input, both read the same
// bytes (libpcap through fmemopen) and must agree on every frame's
// timestamp, lengths and bytes, on where reading stops and on the error
// text. libpcap 1.10 is the reference: p0f reads files through it.
#include "huginn/capture/pcap_file_reader.hpp"

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "huginn/capture/pcap_source.hpp"
#include "huginn/packet/link_type.hpp"
#include "test_paths.hpp"

namespace huginn::capture {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

struct Frame {
  std::int64_t ts_us = 0;
  std::uint32_t wire_len = 0;
  Bytes data;
  bool operator==(const Frame&) const = default;
};

// How a reading ended: the frames, the final status and the error text.
struct Reading {
  std::vector<Frame> frames;
  ReadStatus last = ReadStatus::kPacket;
  std::string error;
  int dlt = -1;
  std::uint32_t snaplen = 0;
};

// libpcap's reading of `bytes`, as PcapSource's libpcap path does it.
// nullopt when libpcap refuses the file header (open error in `open_error`).
std::optional<Reading> read_with_libpcap(const Bytes& bytes, std::string* open_error = nullptr,
                                         const char* filter = nullptr) {
  // fmemopen refuses a zero size; an empty file is a zero-byte stream.
  std::FILE* f = bytes.empty() ? std::fopen("/dev/null", "rb")
                               : fmemopen(const_cast<std::uint8_t*>(bytes.data()), bytes.size(), "rb");
  if (f == nullptr) {
    ADD_FAILURE() << "fmemopen failed";
    return std::nullopt;
  }
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  if (p == nullptr) {
    std::fclose(f);
    if (open_error != nullptr) *open_error = errbuf;
    return std::nullopt;
  }
  Reading r;
  r.dlt = pcap_datalink(p);
  r.snaplen = static_cast<std::uint32_t>(pcap_snapshot(p));
  if (filter != nullptr) {
    bpf_program prog{};
    EXPECT_EQ(pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN), 0);
    EXPECT_EQ(pcap_setfilter(p, &prog), 0);
    pcap_freecode(&prog);
  }
  for (;;) {
    pcap_pkthdr* hdr = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(p, &hdr, &data);
    if (rc == 1) {
      const auto n = std::min(hdr->caplen, hdr->len);
      r.frames.push_back({static_cast<std::int64_t>(hdr->ts.tv_sec) * 1'000'000 + hdr->ts.tv_usec,
                          hdr->len, Bytes(data, data + n)});
      continue;
    }
    if (rc == PCAP_ERROR_BREAK) {
      r.last = ReadStatus::kEnd;
    } else {
      r.last = ReadStatus::kError;
      r.error = pcap_geterr(p);
    }
    break;
  }
  pcap_close(p);
  return r;
}

template <typename Source>
Reading drain(Source& src) {
  Reading r;
  RawFrame frame;
  for (;;) {
    r.last = src.next(frame);
    if (r.last != ReadStatus::kPacket) break;
    r.frames.push_back({frame.ts_us, frame.wire_len, Bytes(frame.data.begin(), frame.data.end())});
  }
  r.error = src.error();
  return r;
}

std::optional<Reading> read_with_reader(const Bytes& bytes) {
  auto reader = PcapFileReader::open(bytes);
  if (!reader) return std::nullopt;
  Reading r = drain(*reader);
  r.dlt = reader->datalink();
  r.snaplen = reader->snaplen();
  // Damage is sticky: a further call reports the same error again.
  RawFrame again;
  if (r.last == ReadStatus::kError) {
    EXPECT_EQ(reader->next(again), ReadStatus::kError);
  }
  return r;
}

void expect_same(const Reading& ours, const Reading& ref, const std::string& what) {
  EXPECT_EQ(ours.dlt, ref.dlt) << what;
  EXPECT_EQ(ours.snaplen, ref.snaplen) << what;
  ASSERT_EQ(ours.frames.size(), ref.frames.size()) << what;
  for (std::size_t i = 0; i < ours.frames.size(); ++i) {
    ASSERT_EQ(ours.frames[i], ref.frames[i]) << what << ", frame " << i;
  }
  EXPECT_EQ(ours.last, ref.last) << what;
  EXPECT_EQ(ours.error, ref.error) << what;
}

// Both readers over `bytes`; the reader must accept it.
Reading expect_agreement(const Bytes& bytes, const std::string& what) {
  const auto ours = read_with_reader(bytes);
  const auto ref = read_with_libpcap(bytes);
  EXPECT_TRUE(ours.has_value()) << what << ": reader refused the file";
  EXPECT_TRUE(ref.has_value()) << what << ": libpcap refused the file";
  if (!ours || !ref) return {};
  expect_same(*ours, *ref, what);
  return *ours;
}

// A classic pcap file in any of the four formats, field by field, so that
// tests can state damaged values directly.
class PcapBytes {
 public:
  PcapBytes(bool big_endian, bool nanosecond, std::uint32_t linktype = 1,
            std::uint32_t snaplen = 65535, std::uint16_t major = 2, std::uint16_t minor = 4)
      : big_endian_(big_endian) {
    u32(nanosecond ? 0xa1b23c4d : 0xa1b2c3d4);
    u16(major);
    u16(minor);
    u32(0);  // thiszone
    u32(0);  // sigfigs
    u32(snaplen);
    u32(linktype);
  }
  // A record whose header says (sec, sub, caplen, len), followed by `data`
  // (normally caplen bytes; fewer or more to describe damage).
  PcapBytes& record(std::uint32_t sec, std::uint32_t sub, std::uint32_t caplen, std::uint32_t len,
                    const Bytes& data) {
    u32(sec);
    u32(sub);
    u32(caplen);
    u32(len);
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    return *this;
  }
  PcapBytes& frame(std::uint32_t sec, std::uint32_t sub, const Bytes& data) {
    const auto n = static_cast<std::uint32_t>(data.size());
    return record(sec, sub, n, n, data);
  }
  const Bytes& bytes() const { return bytes_; }

 private:
  void u16(std::uint16_t v) {
    if (big_endian_) {
      bytes_.push_back(static_cast<std::uint8_t>(v >> 8));
      bytes_.push_back(static_cast<std::uint8_t>(v));
    } else {
      bytes_.push_back(static_cast<std::uint8_t>(v));
      bytes_.push_back(static_cast<std::uint8_t>(v >> 8));
    }
  }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      const int shift = big_endian_ ? 24 - 8 * i : 8 * i;
      bytes_.push_back(static_cast<std::uint8_t>(v >> shift));
    }
  }
  bool big_endian_;
  Bytes bytes_;
};

Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7);
  return b;
}

// Three frames with awkward timestamps: a sub-second field at its maximum,
// a negative (pre-1970) second, and a sub-second field past one second,
// which libpcap passes through unnormalised.
PcapBytes sample(bool big_endian, bool nanosecond) {
  PcapBytes f(big_endian, nanosecond);
  f.frame(1'700'000'000, nanosecond ? 999'999'999 : 999'999, pattern(60, 1));
  f.frame(0xfffffff0u, 0xfffffff0u, pattern(1514, 2));
  f.record(1'700'000'001, 2'500'000, 40, 1500, pattern(40, 3));  // snaplen-cut
  return f;
}

Bytes slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool is_classic_pcap(const Bytes& b) {
  if (b.size() < 4) return false;
  const std::uint32_t le = b[0] | (b[1] << 8) | (b[2] << 16) | (std::uint32_t{b[3]} << 24);
  const std::uint32_t be = (std::uint32_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
  for (std::uint32_t m : {0xa1b2c3d4u, 0xa1b23c4du}) {
    if (le == m || be == m) return true;
  }
  return false;
}

// A temporary file, removed at the end.
class TempFile {
 public:
  explicit TempFile(const Bytes& bytes) {
    std::string tmpl = (fs::temp_directory_path() / "huginn-pcapfile-XXXXXX").string();
    const int fd = mkstemp(tmpl.data());
    path_ = tmpl;
    if (fd >= 0) close(fd);
    std::ofstream out(path_, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),  // ofstream takes char
              static_cast<std::streamsize>(bytes.size()));
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

TEST(PcapFileReader, SharedClassicCapturesMatchLibpcap) {
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(test::testdata_capture("").parent_path())) {
    const Bytes bytes = slurp(entry.path());
    if (!is_classic_pcap(bytes)) continue;
    SCOPED_TRACE(entry.path().filename().string());
    const Reading r = expect_agreement(bytes, entry.path().filename().string());
    EXPECT_FALSE(r.frames.empty());
    EXPECT_EQ(r.last, ReadStatus::kEnd);

    // The same through PcapSource, which must pick the mapped reader.
    auto opened = PcapSource::open_file(entry.path().string());
    ASSERT_TRUE(opened) << opened.error;
    EXPECT_TRUE(opened.source->is_mapped());
    const auto ref = read_with_libpcap(bytes);
    ASSERT_TRUE(ref);
    Reading via_source = drain(*opened.source);
    via_source.dlt = opened.source->datalink();
    via_source.snaplen = ref->snaplen;
    expect_same(via_source, *ref, "PcapSource " + entry.path().filename().string());
    ++compared;
  }
  EXPECT_GE(compared, 5);  // CVE-2018-6794, badcurveball, gre-sample, ...
}

TEST(PcapFileReader, AllFourMagicsMatchLibpcap) {
  for (const bool big_endian : {false, true}) {
    for (const bool nanosecond : {false, true}) {
      const std::string what = std::string(big_endian ? "big" : "little") + "-endian, " +
                               (nanosecond ? "ns" : "us");
      const Bytes bytes = sample(big_endian, nanosecond).bytes();
      const auto reader = PcapFileReader::open(bytes);
      ASSERT_TRUE(reader) << what;
      EXPECT_EQ(reader->big_endian(), big_endian) << what;
      EXPECT_EQ(reader->nanosecond(), nanosecond) << what;
      const Reading r = expect_agreement(bytes, what);
      ASSERT_EQ(r.frames.size(), 3u) << what;
      EXPECT_EQ(r.frames[0].ts_us, 1'700'000'000'999'999) << what;
      // libpcap widens the fields of a file in host order (little-endian
      // here) as signed and of a byte-swapped one as unsigned; ns rounds
      // toward zero.
      const std::int64_t sec = big_endian ? 0xfffffff0ll : -16;
      const std::int64_t sub = big_endian ? 0xfffffff0ll : -16;
      EXPECT_EQ(r.frames[1].ts_us, sec * 1'000'000 + (nanosecond ? sub / 1000 : sub)) << what;
      EXPECT_EQ(r.frames[2].ts_us, 1'700'000'001'000'000 + (nanosecond ? 2'500 : 2'500'000))
          << what;
      EXPECT_EQ(r.frames[2].wire_len, 1500u);
      EXPECT_EQ(r.frames[2].data.size(), 40u);
    }
  }
}

TEST(PcapFileReader, TruncationAtEveryOffsetMatchesLibpcap) {
  for (const bool big_endian : {false, true}) {
    const Bytes full = sample(big_endian, false).bytes();
    for (std::size_t n = 0; n <= full.size(); ++n) {
      const Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      const std::string what = "cut at " + std::to_string(n);
      if (n < PcapFileReader::kFileHeaderBytes) {
        // An incomplete file header stays with libpcap, which words the error.
        EXPECT_FALSE(PcapFileReader::open(cut)) << what;
        std::string err;
        EXPECT_FALSE(read_with_libpcap(cut, &err)) << what;
        continue;
      }
      const Reading r = expect_agreement(cut, what);
      if (n == full.size()) {
        EXPECT_EQ(r.last, ReadStatus::kEnd);
        EXPECT_EQ(r.frames.size(), 3u);
      }
    }
  }
}

TEST(PcapFileReader, TruncationOfRecordsAboveTheSnaplenMatchesLibpcap) {
  // libpcap reads such a record in two steps (the kept snaplen bytes, then
  // the rest), and its error names the step that ran short.
  PcapBytes f(true, false, 1, 100);
  f.frame(1, 0, pattern(60, 1));
  f.frame(2, 0, pattern(300, 2));
  const Bytes& full = f.bytes();
  for (std::size_t n = PcapFileReader::kFileHeaderBytes; n <= full.size(); ++n) {
    expect_agreement(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n)),
                     "cut at " + std::to_string(n));
  }
  const std::size_t second_data = 24 + 16 + 60 + 16;
  auto r = read_with_reader(Bytes(full.begin(), full.begin() + second_data + 50));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "truncated dump file; tried to read 100 captured bytes, only got 50");
  r = read_with_reader(Bytes(full.begin(), full.begin() + second_data + 150));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "truncated dump file; tried to read 300 captured bytes, only got 150");
}

TEST(PcapFileReader, TruncationErrorsNameWhatWasMissing) {
  const Bytes full = sample(false, false).bytes();
  // Inside the second record's header: 24 + 16 + 60 + 5.
  Bytes cut(full.begin(), full.begin() + 105);
  auto r = read_with_reader(cut);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->frames.size(), 1u);
  EXPECT_EQ(r->error, "truncated dump file; tried to read 16 header bytes, only got 5");
  // Inside the second record's data: 1514 wanted, 100 present.
  cut.assign(full.begin(), full.begin() + 24 + 16 + 60 + 16 + 100);
  r = read_with_reader(cut);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->frames.size(), 1u);
  EXPECT_EQ(r->error, "truncated dump file; tried to read 1514 captured bytes, only got 100");
}

TEST(PcapFileReader, CaplenAboveSnaplenIsCutToTheSnaplen) {
  // libpcap reads such a record whole and hands out the first snaplen
  // bytes (files from writers that did not cut), up to its 256 KiB bound.
  PcapBytes f(false, false, 1, 100);
  f.frame(1, 0, pattern(60, 1));
  f.frame(2, 0, pattern(300, 2));  // caplen 300 > snaplen 100
  f.frame(3, 0, pattern(60, 3));
  const Reading r = expect_agreement(f.bytes(), "caplen > snaplen");
  ASSERT_EQ(r.frames.size(), 3u);
  const Bytes long_frame = pattern(300, 2);
  EXPECT_EQ(r.frames[1].data, Bytes(long_frame.begin(), long_frame.begin() + 100));
  EXPECT_EQ(r.frames[1].wire_len, 300u);
  EXPECT_EQ(r.last, ReadStatus::kEnd);
}

TEST(PcapFileReader, CaplenAboveTheMaximumIsAnError) {
  PcapBytes f(true, false, 1, 65535);
  f.frame(1, 0, pattern(60, 1));
  f.record(2, 0, kPcapMaxCaplen + 1, kPcapMaxCaplen + 1, pattern(64, 2));
  const Reading r = expect_agreement(f.bytes(), "caplen > 256 KiB");
  EXPECT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(r.last, ReadStatus::kError);
  EXPECT_EQ(r.error, "invalid packet capture length 262145, bigger than snaplen of 65535");

  // With a snaplen above the maximum, libpcap names the maximum instead.
  PcapBytes h(false, false, 1, 1'000'000);
  h.record(2, 0, 300'000, 300'000, pattern(64, 2));
  const Reading t = expect_agreement(h.bytes(), "caplen > 256 KiB, snaplen above");
  EXPECT_EQ(t.error, "invalid packet capture length 300000, bigger than maximum of 262144");

  // Exactly the maximum is fine, even above the snaplen.
  PcapBytes g(false, false, 1, 0);  // 0: no limit, i.e. the maximum
  g.frame(1, 0, Bytes(kPcapMaxCaplen, 0xab));
  const Reading s = expect_agreement(g.bytes(), "caplen == 256 KiB");
  ASSERT_EQ(s.frames.size(), 1u);
  EXPECT_EQ(s.frames[0].data.size(), kPcapMaxCaplen);
}

TEST(PcapFileReader, SnaplenAdjustedAsLibpcapDoes) {
  // A zero or (as a signed int) negative snaplen means the maximum; a
  // larger positive one is kept.
  for (const std::uint32_t snaplen : {0u, 1u, 65535u, kPcapMaxCaplen, kPcapMaxCaplen + 1,
                                      0x7fffffffu, 0x80000000u, 0xffffffffu}) {
    PcapBytes f(false, false, 1, snaplen);
    f.frame(1, 0, pattern(20, 1));
    const Reading r = expect_agreement(f.bytes(), "snaplen " + std::to_string(snaplen));
    EXPECT_EQ(r.snaplen, (snaplen == 0 || snaplen >= 0x80000000u) ? kPcapMaxCaplen : snaplen);
  }
}

TEST(PcapFileReader, LinkTypesMapAsInLibpcap) {
  // Every 16-bit LINKTYPE value: where the reader accepts one, libpcap must
  // report the same DLT; where libpcap reports a DLT we decode, the reader
  // must accept it.
  const std::vector<int> decodable = {packet::dlt::kNull,     packet::dlt::kEn10mb,
                                      packet::dlt::kRaw,      packet::dlt::kLoop,
                                      packet::dlt::kLinuxSll, packet::dlt::kLinuxSll2,
                                      packet::dlt::kIpv4,     packet::dlt::kIpv6};
  int accepted = 0;
  for (std::uint32_t lt = 0; lt <= 0xffff; ++lt) {
    const Bytes header = PcapBytes(false, false, lt, 1500).bytes();
    const auto reader = PcapFileReader::open(header);
    const auto ref = read_with_libpcap(header);
    ASSERT_TRUE(ref) << "linktype " << lt;
    if (reader) {
      ++accepted;
      ASSERT_EQ(reader->datalink(), ref->dlt) << "linktype " << lt;
    } else {
      ASSERT_EQ(std::count(decodable.begin(), decodable.end(), ref->dlt), 0)
          << "linktype " << lt << " -> DLT " << ref->dlt << " refused";
    }
  }
  EXPECT_EQ(accepted, 9);  // 8 identical values plus LINKTYPE_RAW (101)
  EXPECT_EQ(PcapFileReader::open(PcapBytes(false, false, 101).bytes())->datalink(),
            packet::dlt::kRaw);
}

TEST(PcapFileReader, FcsBitsIgnoredReservedBitsLeftToLibpcap) {
  // FCS length present (bit 26) with 4 bytes (bits 28-31): libpcap drops
  // those bits and reads an Ethernet file.
  PcapBytes fcs(false, false, 1u | 0x04000000u | 0x40000000u);
  fcs.frame(1, 0, pattern(64, 1));
  EXPECT_EQ(expect_agreement(fcs.bytes(), "FCS bits").dlt, packet::dlt::kEn10mb);
  // A reserved bit stays part of the link type, which is then unknown: the
  // reader leaves the file to libpcap.
  PcapBytes reserved(false, false, 1u | 0x00010000u);
  EXPECT_FALSE(PcapFileReader::open(reserved.bytes()));
  const auto ref = read_with_libpcap(reserved.bytes());
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->dlt, 0x10001);
}

TEST(PcapFileReader, OtherVersionsAndFormatsAreLeftToLibpcap) {
  EXPECT_FALSE(PcapFileReader::open(PcapBytes(false, false, 1, 65535, 2, 3).bytes()));
  EXPECT_FALSE(PcapFileReader::open(PcapBytes(false, false, 1, 65535, 2, 5).bytes()));
  EXPECT_FALSE(PcapFileReader::open(PcapBytes(true, false, 1, 65535, 543, 0).bytes()));
  EXPECT_FALSE(PcapFileReader::open(Bytes{}));
  EXPECT_FALSE(PcapFileReader::open(slurp(test::testdata_capture("tls-handshake.pcapng"))));
  // An unsupported link type (DLT_PPP): libpcap reads it, decode ignores it.
  EXPECT_FALSE(PcapFileReader::open(PcapBytes(false, false, 9).bytes()));
}

TEST(PcapFileReader, HeaderOnlyFileEndsCleanly) {
  const Bytes header = PcapBytes(true, true, 101).bytes();
  ASSERT_EQ(header.size(), PcapFileReader::kFileHeaderBytes);
  const Reading r = expect_agreement(header, "header only");
  EXPECT_TRUE(r.frames.empty());
  EXPECT_EQ(r.last, ReadStatus::kEnd);
  EXPECT_EQ(r.dlt, packet::dlt::kRaw);
}

// PcapSource's choice between the mapped reader and libpcap.

TEST(PcapSourceMapped, ZeroLengthFileFailsAsWithLibpcap) {
  TempFile empty(Bytes{});
  const auto r = PcapSource::open_file(empty.path());
  EXPECT_FALSE(r);
  std::string ref_error;
  EXPECT_FALSE(read_with_libpcap(Bytes{}, &ref_error));
  EXPECT_NE(r.error.find(empty.path()), std::string::npos) << r.error;
  EXPECT_NE(r.error.find(ref_error), std::string::npos) << r.error << " vs " << ref_error;
}

TEST(PcapSourceMapped, HeaderOnlyFileIsMappedAndEmpty) {
  TempFile header(PcapBytes(false, true, 1).bytes());
  auto r = PcapSource::open_file(header.path());
  ASSERT_TRUE(r) << r.error;
  EXPECT_TRUE(r.source->is_mapped());
  EXPECT_EQ(r.source->datalink(), packet::dlt::kEn10mb);
  RawFrame frame;
  EXPECT_EQ(r.source->next(frame), ReadStatus::kEnd);
  EXPECT_FALSE(r.source->kernel_stats().has_value());
}

TEST(PcapSourceMapped, TruncatedFileGivesLibpcapsError) {
  const Bytes full = sample(false, true).bytes();
  const Bytes cut(full.begin(), full.end() - 3);
  TempFile file(cut);
  auto r = PcapSource::open_file(file.path());
  ASSERT_TRUE(r) << r.error;
  EXPECT_TRUE(r.source->is_mapped());
  const auto ref = read_with_libpcap(cut);
  ASSERT_TRUE(ref);
  Reading ours = drain(*r.source);
  ours.dlt = ref->dlt;
  ours.snaplen = ref->snaplen;
  expect_same(ours, *ref, "truncated mapped file");
  EXPECT_EQ(ours.frames.size(), 2u);
  EXPECT_EQ(ours.error, "truncated dump file; tried to read 40 captured bytes, only got 37");
}

TEST(PcapSourceMapped, OlderVersionIsReadByLibpcap) {
  PcapBytes f(false, false, 1, 65535, 2, 3);
  f.frame(1, 0, pattern(60, 1));
  TempFile file(f.bytes());
  auto r = PcapSource::open_file(file.path());
  ASSERT_TRUE(r) << r.error;
  EXPECT_FALSE(r.source->is_mapped());
  EXPECT_EQ(drain(*r.source).frames.size(), 1u);
}

TEST(PcapSourceMapped, FifoIsReadByLibpcap) {
  const fs::path fifo = fs::temp_directory_path() / ("huginn-fifo-" + std::to_string(getpid()));
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const Bytes bytes = sample(false, false).bytes();
  // A child writes the capture into the FIFO while we read it.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::FILE* w = std::fopen(fifo.c_str(), "wb");
    if (w == nullptr) _exit(1);
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), w) == bytes.size();
    _exit(std::fclose(w) == 0 && ok ? 0 : 2);
  }
  auto r = PcapSource::open_file(fifo.string());
  ASSERT_TRUE(r) << r.error;
  EXPECT_FALSE(r.source->is_mapped());
  const Reading ours = drain(*r.source);
  int status = 0;
  waitpid(pid, &status, 0);
  fs::remove(fifo);
  EXPECT_EQ(ours.frames.size(), 3u);
  EXPECT_EQ(ours.last, ReadStatus::kEnd);
}

TEST(PcapSourceMapped, FilterMatchesLibpcapsFiltering) {
  for (const char* name : {"tls-alpn-h2.pcap", "gre-sample.pcap", "CVE-2018-6794.pcap"}) {
    for (const char* filter : {"tcp", "udp", "tcp[tcpflags] & tcp-syn != 0", "greater 200",
                               "tcp or (vlan and tcp)"}) {
      const std::string what = std::string(name) + " / " + filter;
      const auto path = test::testdata_capture(name);
      auto r = PcapSource::open_file(path.string());
      ASSERT_TRUE(r) << r.error;
      ASSERT_TRUE(r.source->is_mapped()) << what;
      // p0f adds its vlan clause on Ethernet only, as libpcap has none for
      // BSD loopback.
      if (std::string_view(filter).find("vlan") != std::string_view::npos &&
          r.source->datalink() != packet::dlt::kEn10mb) {
        continue;
      }
      ASSERT_EQ(r.source->set_filter(filter), std::nullopt) << what;
      const auto ref = read_with_libpcap(slurp(path), nullptr, filter);
      ASSERT_TRUE(ref);
      Reading ours = drain(*r.source);
      ours.dlt = ref->dlt;
      ours.snaplen = ref->snaplen;
      expect_same(ours, *ref, what);
    }
  }
}

TEST(PcapSourceMapped, FilterCanBeReplacedAndBadOnesAreNamed) {
  auto r = PcapSource::open_file(test::testdata_capture("tls-alpn-h2.pcap").string());
  ASSERT_TRUE(r) << r.error;
  ASSERT_TRUE(r.source->is_mapped());
  const auto err = r.source->set_filter("tcp port banana and");
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("'tcp port banana and'"), std::string::npos) << *err;
  ASSERT_EQ(r.source->set_filter("udp"), std::nullopt);
  ASSERT_EQ(r.source->set_filter("tcp"), std::nullopt);  // replaces, frees the first
  const auto ref = read_with_libpcap(slurp(test::testdata_capture("tls-alpn-h2.pcap")), nullptr, "tcp");
  ASSERT_TRUE(ref);
  EXPECT_EQ(drain(*r.source).frames.size(), ref->frames.size());
}

TEST(PcapSourceMapped, BreakLoopEndsTheNextRead) {
  auto r = PcapSource::open_file(test::testdata_capture("CVE-2018-6794.pcap").string());
  ASSERT_TRUE(r) << r.error;
  ASSERT_TRUE(r.source->is_mapped());
  RawFrame frame;
  ASSERT_EQ(r.source->next(frame), ReadStatus::kPacket);
  r.source->break_loop();
  EXPECT_EQ(r.source->next(frame), ReadStatus::kEnd);
  // Like pcap_breakloop, the request is consumed: reading can go on.
  EXPECT_EQ(r.source->next(frame), ReadStatus::kPacket);
}

}  // namespace
}  // namespace huginn::capture
