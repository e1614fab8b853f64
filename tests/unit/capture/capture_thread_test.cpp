#include "huginn/capture/capture_thread.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "pcap_writer.hpp"
#include "tcp_packet_builder.hpp"
#include "test_paths.hpp"

namespace huginn::capture {
namespace {

using namespace std::chrono_literals;

// A socket closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// A TCP listener on 127.0.0.1 with a kernel-chosen port.
struct Listener {
  Fd fd{socket(AF_INET, SOCK_STREAM, 0)};
  std::uint16_t port = 0;
  Listener() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    // The sockets API takes sockaddr*; these casts are of our own sockaddr_in.
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        listen(fd.get(), 4) != 0 ||
        getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port = ntohs(a.sin_port);
  }
};

bool connect_to(std::uint16_t port) {
  Fd c(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return connect(c.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

// Collects what the capture thread delivers, for the test thread to wait on.
struct Seen {
  std::mutex m;
  std::condition_variable cv;
  std::vector<packet::DecodedPacket> syns;  // spans cleared: they die with the callback
  std::vector<std::string> errors;

  void add_syn(packet::DecodedPacket p) {
    p.tcp_options = {};
    p.payload = {};
    std::lock_guard<std::mutex> lock(m);
    syns.push_back(p);
    cv.notify_all();
  }
  bool wait_for_syns(std::size_t n) {
    std::unique_lock<std::mutex> lock(m);
    return cv.wait_for(lock, 5s, [&] { return syns.size() >= n; });
  }
};

std::unique_ptr<PcapSource> open_lo_or_skip(std::uint16_t port, std::string& why) {
  LiveOptions opts;
  opts.interface = "lo";
  auto r = PcapSource::open_live(opts);
  if (!r) {
    why = r.error;
    return nullptr;
  }
  const std::string filter = "tcp dst port " + std::to_string(port);
  if (auto err = r.source->set_filter(filter)) {
    ADD_FAILURE() << *err;
    return nullptr;
  }
  return std::move(r.source);
}

// The TTL this host puts on locally originated IPv4 packets.
int default_ttl() {
  std::ifstream in("/proc/sys/net/ipv4/ip_default_ttl");
  int ttl = 64;
  in >> ttl;
  return ttl;
}

constexpr std::uint8_t kSynOnly = packet::tcp_flags::kSyn;

TEST(CaptureThreadLive, DeliversTheSynOfALoopbackConnection) {
  if (geteuid() != 0) GTEST_SKIP() << "live capture needs root";
  Listener listener;
  ASSERT_NE(listener.port, 0);
  std::string why;
  auto src = open_lo_or_skip(listener.port, why);
  ASSERT_TRUE(src) << why;

  Seen seen;
  CaptureThread cap(
      std::move(src),
      [&](const packet::DecodedPacket& p) {
        if (p.flags == kSynOnly) seen.add_syn(p);
      },
      [&](std::string_view e) {
        std::lock_guard<std::mutex> lock(seen.m);
        seen.errors.emplace_back(e);
      });
  cap.start();
  EXPECT_TRUE(cap.running());
  ASSERT_TRUE(connect_to(listener.port));
  ASSERT_TRUE(seen.wait_for_syns(1)) << "no SYN to port " << listener.port << " seen on lo";

  {
    std::lock_guard<std::mutex> lock(seen.m);
    const auto& syn = seen.syns.front();
    EXPECT_EQ(syn.dport, listener.port);
    EXPECT_EQ(syn.dst, packet::IpAddress::v4(127, 0, 0, 1));
    EXPECT_EQ(syn.src, packet::IpAddress::v4(127, 0, 0, 1));
    EXPECT_EQ(syn.ttl, default_ttl());
    EXPECT_GT(syn.tcp_hdr_len, 20);  // Linux sends MSS, SACK, TS, WS
    EXPECT_TRUE(seen.errors.empty());
  }

  cap.stop();
  EXPECT_FALSE(cap.running());
  const auto stats = cap.stats();
  EXPECT_GE(stats.decoded, 1u);
  EXPECT_GE(stats.packets_received, stats.decoded);
  EXPECT_EQ(stats.sink_errors, 0u);
  EXPECT_GE(stats.kernel_received, 1u);
  EXPECT_EQ(cap.error(), std::nullopt);
}

TEST(CaptureThreadLive, StopReturnsPromptlyOnAnIdleInterface) {
  if (geteuid() != 0) GTEST_SKIP() << "live capture needs root";
  Listener listener;  // its port keeps the filter matching nothing else
  std::string why;
  auto src = open_lo_or_skip(listener.port, why);
  ASSERT_TRUE(src) << why;
  CaptureThread cap(std::move(src), [](const packet::DecodedPacket&) {});
  cap.start();
  std::this_thread::sleep_for(50ms);  // let it block inside libpcap
  const auto t0 = std::chrono::steady_clock::now();
  cap.stop();
  const auto took = std::chrono::steady_clock::now() - t0;
  // A liveness bound, not a speed test: a lost wake-up would hang forever
  // (or until traffic arrives); pcap_breakloop plus the 100 ms read
  // timeout returns in well under this.
  EXPECT_LT(took, 2s);
  EXPECT_FALSE(cap.running());
  cap.stop();  // idempotent
}

TEST(CaptureThreadLive, SinkExceptionsAreCountedAndReported) {
  if (geteuid() != 0) GTEST_SKIP() << "live capture needs root";
  Listener listener;
  std::string why;
  auto src = open_lo_or_skip(listener.port, why);
  ASSERT_TRUE(src) << why;
  Seen seen;
  std::atomic<int> calls{0};
  CaptureThread cap(
      std::move(src),
      [&](const packet::DecodedPacket& p) {
        if (p.flags != kSynOnly) return;
        // The first SYN throws; the capture thread must survive it and
        // deliver the second connection's SYN.
        if (calls.fetch_add(1) == 0) throw std::runtime_error("boom");
        seen.add_syn(p);
      },
      [&](std::string_view e) {
        std::lock_guard<std::mutex> lock(seen.m);
        seen.errors.emplace_back(e);
      });
  cap.start();
  ASSERT_TRUE(connect_to(listener.port));
  ASSERT_TRUE(connect_to(listener.port));
  ASSERT_TRUE(seen.wait_for_syns(1));
  cap.stop();
  EXPECT_EQ(cap.stats().sink_errors, 1u);
  std::lock_guard<std::mutex> lock(seen.m);
  ASSERT_EQ(seen.errors.size(), 1u);
  EXPECT_NE(seen.errors[0].find("boom"), std::string::npos) << seen.errors[0];
}

TEST(CaptureThreadOffline, RunsAFileToItsEnd) {
  // The thread also drives a file source; it stops by itself at the end.
  auto r = PcapSource::open_file(test::testdata_capture("http1.pcapng").string());
  ASSERT_TRUE(r) << r.error;
  std::atomic<int> delivered{0};
  CaptureThread cap(std::move(r.source), [&](const packet::DecodedPacket&) { ++delivered; });
  cap.start();
  for (int i = 0; i < 500 && cap.running(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(cap.running());
  cap.stop();
  EXPECT_EQ(delivered.load(), 184);  // tshark -r http1.pcapng -Y tcp | wc -l
  const auto stats = cap.stats();
  EXPECT_EQ(stats.decoded, 184u);
  EXPECT_EQ(stats.packets_received, 184u);
  EXPECT_EQ(cap.error(), std::nullopt);
}

// A capture of one frame per case the undecoded sink distinguishes, with
// timestamps 1..7 ms after kStartUs. Fields are patched in place where the
// builder has no knob (offsets are Ethernet 14 + the IPv4 field's offset).
constexpr std::int64_t kStartUs = 1'700'000'000'000'000;

std::vector<std::vector<std::uint8_t>> undecoded_cases() {
  const auto syn = test::TcpPacketBuilder::syn().ports(40000, 80).opt_mss(1460).build_ethernet();
  auto truncated = syn;  // IPv4 total length beyond the captured bytes
  truncated.resize(14 + 20 + 10);
  auto fragment = syn;  // MF set: a TCP fragment, which p0f's filter passes
  fragment[14 + 6] |= 0x20;
  auto udp = syn;  // protocol 17: ignored and not p0f's business
  udp[14 + 9] = 17;
  auto bad_ihl_udp = udp;  // malformed, although p0f's filter would drop it
  bad_ihl_udp[14] = 0x44;
  auto arp = syn;
  arp[12] = 0x08;
  arp[13] = 0x06;
  auto bad_doff = test::TcpPacketBuilder::syn().data_offset_words(3).build_ethernet();
  return {syn, truncated, fragment, udp, bad_ihl_udp, arp, bad_doff};
}

struct UndecodedSeen {
  std::mutex m;
  std::vector<std::int64_t> ts;
  std::vector<std::string> reasons;
  void add(std::int64_t t, const packet::DecodeResult& r) {
    std::lock_guard<std::mutex> lock(m);
    ts.push_back(t - kStartUs);
    reasons.emplace_back(r.reason);
  }
};

class UndecodedCapture : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("huginn-undecoded-" + std::to_string(getpid()) + ".pcap");
    ASSERT_TRUE(test::write_pcap(path_, test::LinkType::kEthernet, undecoded_cases(), kStartUs));
  }
  void TearDown() override { std::filesystem::remove(path_); }

  static void expect_reported(UndecodedSeen& seen) {
    std::lock_guard<std::mutex> lock(seen.m);
    EXPECT_EQ(seen.ts, (std::vector<std::int64_t>{1000, 2000, 4000, 6000}));
    EXPECT_EQ(seen.reasons,
              (std::vector<std::string>{"truncated_ipv4", "ip_fragment", "ipv4_bad_ihl",
                                        "tcp_bad_data_offset"}));
  }

  std::filesystem::path path_;
};

TEST_F(UndecodedCapture, ReadFileReportsMalformedFramesAndTcpFragments) {
  auto r = PcapSource::open_file(path_.string());
  ASSERT_TRUE(r) << r.error;
  CaptureStats stats;
  int delivered = 0;
  UndecodedSeen seen;
  const auto err = read_file(
      *r.source, [&](const packet::DecodedPacket&) { ++delivered; }, stats,
      [&](std::int64_t ts, const packet::DecodeResult& res) { seen.add(ts, res); });
  EXPECT_EQ(err, std::nullopt);
  EXPECT_EQ(delivered, 1);
  EXPECT_EQ(stats.packets_received, 7u);
  EXPECT_EQ(stats.malformed, 3u);
  EXPECT_EQ(stats.ignored, 3u);
  expect_reported(seen);
}

TEST_F(UndecodedCapture, ReadFileWithoutTheHookStillCounts) {
  auto r = PcapSource::open_file(path_.string());
  ASSERT_TRUE(r) << r.error;
  CaptureStats stats;
  EXPECT_EQ(read_file(*r.source, {}, stats), std::nullopt);
  EXPECT_EQ(stats.packets_received, 7u);
  EXPECT_EQ(stats.decoded, 1u);
}

TEST_F(UndecodedCapture, CaptureThreadReportsThemAndCountsTheirExceptions) {
  auto r = PcapSource::open_file(path_.string());
  ASSERT_TRUE(r) << r.error;
  UndecodedSeen seen;
  std::atomic<int> errors{0};
  CaptureThread cap(
      std::move(r.source), [](const packet::DecodedPacket&) {},
      [&](std::string_view) { ++errors; },
      [&](std::int64_t ts, const packet::DecodeResult& res) {
        seen.add(ts, res);
        if (res.reason == packet::reason::kIpFragment) throw std::runtime_error("fragment");
      });
  cap.start();
  for (int i = 0; i < 500 && cap.running(); ++i) std::this_thread::sleep_for(10ms);
  cap.stop();
  expect_reported(seen);
  EXPECT_EQ(cap.stats().sink_errors, 1u);
  EXPECT_EQ(errors.load(), 1);
}

TEST(CaptureStats, RecordSortsByStatusAndReason) {
  CaptureStats s;
  s.record({packet::DecodeStatus::kOk, {}});
  s.record({packet::DecodeStatus::kIgnored, packet::reason::kNotTcp});
  s.record({packet::DecodeStatus::kIgnored, packet::reason::kNotTcp});
  s.record({packet::DecodeStatus::kMalformed, packet::reason::kTruncatedIpv4});
  EXPECT_EQ(s.decoded, 1u);
  EXPECT_EQ(s.ignored, 2u);
  EXPECT_EQ(s.malformed, 1u);
  EXPECT_EQ(s.ignored_by_reason.get("not_tcp"), 2u);
  EXPECT_EQ(s.malformed_by_reason.get("truncated_ipv4"), 1u);
  EXPECT_EQ(s.malformed_by_reason.get("not_tcp"), 0u);
}

}  // namespace
}  // namespace huginn::capture
