#include "huginn/capture/pcap_source.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "huginn/capture/capture_thread.hpp"
#include "huginn/packet/link_type.hpp"
#include "test_paths.hpp"

namespace huginn::capture {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<PcapSource> open_or_fail(const fs::path& path) {
  auto r = PcapSource::open_file(path.string());
  EXPECT_TRUE(r) << r.error;
  EXPECT_TRUE(r.error.empty());
  return std::move(r.source);
}

struct Frames {
  std::vector<std::int64_t> ts;
  std::vector<std::size_t> caplen;
  ReadStatus last = ReadStatus::kPacket;
  std::string error;
};

Frames read_all(PcapSource& src) {
  Frames f;
  RawFrame frame;
  for (;;) {
    f.last = src.next(frame);
    if (f.last != ReadStatus::kPacket) break;
    f.ts.push_back(frame.ts_us);
    f.caplen.push_back(frame.data.size());
  }
  f.error = src.error();
  return f;
}

// A fresh directory under the system temp dir, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "huginn-capture-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<char> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_prefix(const fs::path& to, const std::vector<char>& bytes, std::size_t n) {
  std::ofstream out(to, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(n));
}

TEST(PcapSource, ReadsClassicPcap) {
  auto src = open_or_fail(test::testdata_capture("CVE-2018-6794.pcap"));
  ASSERT_TRUE(src);
  EXPECT_FALSE(src->is_live());
  EXPECT_EQ(src->datalink(), packet::dlt::kEn10mb);
  const Frames f = read_all(*src);
  EXPECT_EQ(f.ts.size(), 33u);  // capinfos -c
  EXPECT_EQ(f.last, ReadStatus::kEnd);
  EXPECT_TRUE(f.error.empty());
  EXPECT_FALSE(src->kernel_stats().has_value());
  // Timestamps are microseconds since the epoch and never go backwards here.
  EXPECT_GT(f.ts.front(), 1'000'000'000'000'000);
  EXPECT_TRUE(std::is_sorted(f.ts.begin(), f.ts.end()));
}

TEST(PcapSource, ReadsPcapngAndBsdNull) {
  auto src = open_or_fail(test::testdata_capture("ipv6.pcapng"));
  ASSERT_TRUE(src);
  EXPECT_EQ(src->datalink(), packet::dlt::kNull);
  EXPECT_EQ(read_all(*src).ts.size(), 9u);
}

TEST(PcapSource, MicrosecondTimestampOfFirstFrame) {
  // tshark -r http1.pcapng -c 1 -T fields -e frame.time_epoch
  auto src = open_or_fail(test::testdata_capture("http1.pcapng"));
  ASSERT_TRUE(src);
  RawFrame frame;
  ASSERT_EQ(src->next(frame), ReadStatus::kPacket);
  EXPECT_EQ(frame.ts_us, 1'686'156'223'064'826);
  EXPECT_EQ(frame.data.size(), frame.wire_len);
}

TEST(PcapSource, NonexistentFileIsNamedInTheError) {
  const auto r = PcapSource::open_file("/nonexistent/huginn/no-such.pcap");
  EXPECT_FALSE(r);
  EXPECT_NE(r.error.find("/nonexistent/huginn/no-such.pcap"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("No such file"), std::string::npos) << r.error;
}

TEST(PcapSource, NotACaptureFile) {
  TempDir dir;
  const auto p = dir.path() / "text.pcap";
  std::ofstream(p) << "this is not a capture file, just some text\n";
  const auto r = PcapSource::open_file(p.string());
  EXPECT_FALSE(r);
  EXPECT_NE(r.error.find(p.string()), std::string::npos) << r.error;
}

TEST(PcapSource, BadFilterNamesTheFilter) {
  auto src = open_or_fail(test::testdata_capture("http1.pcapng"));
  ASSERT_TRUE(src);
  const auto err = src->set_filter("tcp port banana and");
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("'tcp port banana and'"), std::string::npos) << *err;
  EXPECT_NE(err->find("BPF filter"), std::string::npos) << *err;
}

TEST(PcapSource, FilterAppliesToFiles) {
  // tshark -r tls-handshake.pcapng -Y udp | wc -l  -> 40
  auto src = open_or_fail(test::testdata_capture("tls-handshake.pcapng"));
  ASSERT_TRUE(src);
  ASSERT_EQ(src->set_filter("udp"), std::nullopt);
  EXPECT_EQ(read_all(*src).ts.size(), 40u);
}

TEST(PcapSource, TruncatedClassicPcapKeepsEarlierPackets) {
  const auto original = test::testdata_capture("CVE-2018-6794.pcap");
  const auto bytes = slurp(original);
  auto full_src = open_or_fail(original);
  ASSERT_TRUE(full_src);
  const Frames full = read_all(*full_src);
  ASSERT_EQ(full.ts.size(), 33u);

  // Classic pcap: a 24-byte file header, then a 16-byte record header and
  // caplen bytes per frame. Cut in the middle of frame 20's data.
  constexpr std::size_t kKeep = 20;
  std::size_t offset = 24;
  for (std::size_t i = 0; i < kKeep; ++i) offset += 16 + full.caplen[i];
  ASSERT_GT(full.caplen[kKeep], 10u);
  const std::size_t cut = offset + 16 + full.caplen[kKeep] / 2;
  ASSERT_LT(cut, bytes.size());

  TempDir dir;
  const auto copy = dir.path() / "cut.pcap";
  write_prefix(copy, bytes, cut);
  auto src = open_or_fail(copy);
  ASSERT_TRUE(src);
  const Frames f = read_all(*src);
  EXPECT_EQ(f.last, ReadStatus::kError);
  EXPECT_NE(f.error.find("truncated dump file"), std::string::npos) << f.error;
  ASSERT_EQ(f.ts.size(), kKeep);
  EXPECT_TRUE(std::equal(f.ts.begin(), f.ts.end(), full.ts.begin()));
}

TEST(PcapSource, TruncatedPcapngKeepsEarlierPackets) {
  const auto original = test::testdata_capture("http1.pcapng");
  const auto bytes = slurp(original);
  auto full_src = open_or_fail(original);
  ASSERT_TRUE(full_src);
  const Frames full = read_all(*full_src);

  TempDir dir;
  const auto copy = dir.path() / "cut.pcapng";
  write_prefix(copy, bytes, bytes.size() / 2 + 7);  // lands inside a block
  auto src = open_or_fail(copy);
  ASSERT_TRUE(src);
  const Frames f = read_all(*src);
  EXPECT_EQ(f.last, ReadStatus::kError);
  EXPECT_NE(f.error.find("truncated"), std::string::npos) << f.error;
  EXPECT_GT(f.ts.size(), 0u);
  EXPECT_LT(f.ts.size(), full.ts.size());
  EXPECT_TRUE(std::equal(f.ts.begin(), f.ts.end(), full.ts.begin()));
}

TEST(ReadFile, DecodesAndCounts) {
  auto src = open_or_fail(test::testdata_capture("tls-handshake.pcapng"));
  ASSERT_TRUE(src);
  CaptureStats stats;
  int delivered = 0;
  const auto err = read_file(*src, [&](const packet::DecodedPacket&) { ++delivered; }, stats);
  EXPECT_EQ(err, std::nullopt);
  // tshark: 193 frames, 153 TCP, 40 QUIC over UDP.
  EXPECT_EQ(delivered, 153);
  EXPECT_EQ(stats.packets_received, 193u);
  EXPECT_EQ(stats.decoded, 153u);
  EXPECT_EQ(stats.ignored, 40u);
  EXPECT_EQ(stats.ignored_by_reason.get(packet::reason::kNotTcp), 40u);
  EXPECT_EQ(stats.malformed, 0u);
  EXPECT_EQ(stats.kernel_received, 0u);
}

TEST(ReadFile, ReportsTruncationAfterDeliveringEarlierFrames) {
  const auto bytes = slurp(test::testdata_capture("CVE-2018-6794.pcap"));
  TempDir dir;
  const auto copy = dir.path() / "cut.pcap";
  write_prefix(copy, bytes, bytes.size() - 3);  // the last frame loses 3 bytes
  auto src = open_or_fail(copy);
  ASSERT_TRUE(src);
  CaptureStats stats;
  int delivered = 0;
  const auto err = read_file(*src, [&](const packet::DecodedPacket&) { ++delivered; }, stats);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("truncated dump file"), std::string::npos) << *err;
  EXPECT_EQ(delivered, 32);
  EXPECT_EQ(stats.packets_received, 32u);
}

TEST(PcapSourceLive, NonexistentInterface) {
  LiveOptions opts;
  opts.interface = "huginn-nope0";
  const auto r = PcapSource::open_live(opts);
  EXPECT_FALSE(r);
  EXPECT_NE(r.error.find("'huginn-nope0'"), std::string::npos) << r.error;
  // Root gets "no such capture interface"; others may hit the permission
  // check first, which libpcap reports before looking the device up.
  if (geteuid() == 0) {
    EXPECT_NE(r.error.find("no such capture interface"), std::string::npos) << r.error;
  }
}

TEST(PcapSourceLive, PermissionDeniedIsExplained) {
  if (geteuid() != 0) {
    // Already unprivileged: the plain call shows the message.
    LiveOptions opts;
    opts.interface = "lo";
    const auto r = PcapSource::open_live(opts);
    if (r) GTEST_SKIP() << "this user may capture (capabilities granted)";
    EXPECT_NE(r.error.find("permission denied capturing on 'lo'"), std::string::npos) << r.error;
    return;
  }
  // As root, drop to nobody in a child (setuid clears the capabilities)
  // and report through the exit status.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
    LiveOptions opts;
    opts.interface = "lo";
    const auto r = PcapSource::open_live(opts);
    if (r) _exit(4);
    _exit(r.error.find("permission denied capturing on 'lo'") != std::string::npos ? 0 : 5);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "3: setuid failed, 4: opened anyway, 5: other message";
}

}  // namespace
}  // namespace huginn::capture
