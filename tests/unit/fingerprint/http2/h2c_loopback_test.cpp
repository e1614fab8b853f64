// Real HTTP/2 clients on loopback: nghttp (prior knowledge and -u
// Upgrade), curl (--http2-prior-knowledge and --http2 Upgrade) and h2load,
// each against our own libnghttp2 test server (h2c_test_server.hpp), each
// captured with tcpdump. The capture goes through capture::read_file into
// a flow::FlowTable; the client->server prefix goes through
// read_client_frames() and compute_client_fingerprint(), and the result is
// checked frame by frame against tshark's dissection of the same capture
// (PDML): type, flags, stream, length, every SETTINGS pair, the
// WINDOW_UPDATE increment, priority fields and the first header list. The
// Akamai string rebuilt from tshark's values must equal ours.
//
// Needs root (tcpdump on lo) and tcpdump, tshark and the client tools;
// each missing tool skips its case. Binds an ephemeral port, never a fixed one.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "h2_frame_builder.hpp"
#include "h2c_test_server.hpp"
#include "huginn/capture/capture_thread.hpp"
#include "huginn/capture/pcap_source.hpp"
#include "huginn/fingerprint/http2/client_fingerprint.hpp"
#include "huginn/fingerprint/http2/frame_reader.hpp"
#include "huginn/flow/flow_table.hpp"
#include "process_tools.hpp"


namespace huginn::fingerprint::http2 {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using huginn::test::have_tool;
using huginn::test::slurp;
using huginn::test::spawn;
using huginn::test::wait_for;
using huginn::test::wait_until;

struct SharkFrame {
  std::uint32_t type = 0;
  std::uint32_t flags = 0;
  std::uint32_t stream = 0;
  std::uint32_t length = 0;
  std::vector<Setting> settings;
  std::optional<std::uint32_t> increment;
  std::optional<PrioritySpec> priority;
  std::vector<std::pair<std::string, std::string>> headers;
};

std::string attr(const std::string& line, const std::string& name) {
  const std::string key = " " + name + "=\"";
  const auto at = line.find(key);
  if (at == std::string::npos) return {};
  const auto start = at + key.size();
  std::string v = line.substr(start, line.find('"', start) - start);
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '&') {
      out += v[i];
      continue;
    }
    const auto semi = v.find(';', i);
    const std::string ent = v.substr(i + 1, semi - i - 1);
    out += ent == "amp" ? '&' : ent == "lt" ? '<' : ent == "gt" ? '>' : ent == "quot" ? '"' : '\'';
    i = semi;
  }
  return out;
}

std::uint32_t num(const std::string& s) { return static_cast<std::uint32_t>(std::stoul(s, nullptr, 0)); }

struct SharkView {
  std::vector<SharkFrame> frames;
  // The HTTP2-Settings header as tshark's HTTP dissector decodes it.
  std::vector<Setting> upgrade_settings;
};

// HTTP/2 frames tshark dissects from the client's packets, in order. For
// the Upgrade the HTTP dissector decodes HTTP2-Settings and hands the
// stream to HTTP/2 after the 101.
SharkView tshark_frames(const fs::path& cap, std::uint16_t port, bool upgrade,
                                      const fs::path& dir) {
  const fs::path out = dir / "tshark.pdml";
  const std::string cmd = "tshark -r " + cap.string() + " -d tcp.port==" + std::to_string(port) +
                          (upgrade ? ",http" : ",http2") + " -Y 'tcp.dstport==" + std::to_string(port) +
                          "' -T pdml > " + out.string() + " 2>" + (dir / "tshark.err").string();
  SharkView view;
  if (std::system(cmd.c_str()) != 0) return view;
  std::vector<SharkFrame>& frames = view.frames;
  std::istringstream in(slurp(out));
  std::string line;
  bool in_frame = false;
  std::optional<std::uint16_t> pending_id;
  while (std::getline(in, line)) {
    const std::string name = attr(line, "name");
    if (name.rfind("http2", 0) != 0) continue;
    const std::string show = attr(line, "show");
    if (name == "http2.stream") {
      in_frame = false;  // starts at its http2.length (the preface has none)
    } else if (name == "http2.length") {
      frames.emplace_back();
      frames.back().length = num(show);
      in_frame = true;
    } else if (!in_frame) {
      if (name == "http2.settings.id") {
        pending_id = static_cast<std::uint16_t>(num(show));
      } else if (name.rfind("http2.settings.", 0) == 0 && pending_id) {
        view.upgrade_settings.push_back({*pending_id, num(show)});
        pending_id.reset();
      }
    } else if (name == "http2.type") {
      frames.back().type = num(show);
    } else if (name == "http2.flags") {
      frames.back().flags = num(show);
    } else if (name == "http2.streamid") {
      frames.back().stream = num(show);
    } else if (name == "http2.settings.id") {
      pending_id = static_cast<std::uint16_t>(num(show));
    } else if (name.rfind("http2.settings.", 0) == 0 && pending_id) {
      frames.back().settings.push_back({*pending_id, num(show)});
      pending_id.reset();
    } else if (name == "http2.window_update.window_size_increment") {
      frames.back().increment = num(show);
    } else if (name == "http2.exclusive") {
      frames.back().priority = PrioritySpec{frames.back().stream, num(show) != 0, 0, 0};
    } else if (name == "http2.stream_dependency" && frames.back().priority) {
      frames.back().priority->dependency = num(show);
    } else if (name == "http2.headers.weight_real" && frames.back().priority) {
      frames.back().priority->weight = static_cast<std::uint16_t>(num(show));
    } else if (name == "http2.header.name") {
      frames.back().headers.emplace_back(show, "");
    } else if (name == "http2.header.value" && !frames.back().headers.empty()) {
      frames.back().headers.back().second = show;
    }
  }
  return view;
}

// The Akamai string from tshark's frames, by the documented rules.
std::string akamai_from_tshark(const std::vector<SharkFrame>& frames,
                               const std::optional<std::vector<Setting>>& upgrade_settings) {
  ClientFingerprintBuilder b;
  if (upgrade_settings) b.add_settings(*upgrade_settings, true);
  for (const auto& f : frames) {
    if (b.done()) break;
    switch (f.type) {
      case frame_type::kSettings:
        if ((f.flags & frame_flag::kAck) == 0) b.add_settings(f.settings);
        break;
      case frame_type::kWindowUpdate:
        b.add_window_update(f.stream, f.increment.value_or(0));
        break;
      case frame_type::kPriority:
        if (f.priority) b.add_priority(*f.priority);
        break;
      case frame_type::kHeaders: {
        std::vector<HeaderField> fields;
        for (const auto& [n, v] : f.headers) fields.push_back({n, v, false, false});
        b.add_headers(f.stream, f.priority, fields);
        break;
      }
      default:
        break;
    }
  }
  return format_akamai(b.fingerprint());
}

// --- one client run -------------------------------------------------------

struct ClientCase {
  std::string name;
  std::vector<std::string> args;  // "{URL}" is replaced
  bool upgrade = false;
  // Connections the client makes; h2load -c 1 makes one.
  int connections = 1;
};

struct Captured {
  std::vector<std::string> to_server;  // one per flow, in removal order
};

Captured read_capture(const fs::path& cap) {
  Captured out;
  flow::FlowTable<int> table({}, [&out](flow::FlowTable<int>::FlowType& f, flow::CloseReason) {
    const auto s = f.to_server().contiguous();
    out.to_server.emplace_back(s.begin(), s.end());
  });
  auto opened = capture::PcapSource::open_file(cap.string());
  EXPECT_TRUE(opened) << opened.error;
  if (!opened) return out;
  capture::CaptureStats stats;
  const auto err = capture::read_file(
      *opened.source, [&](const packet::DecodedPacket& pkt) { table.on_packet(pkt); }, stats);
  EXPECT_FALSE(err.has_value()) << *err;
  table.clear();
  return out;
}

// Names the case in failure messages instead of dumping its bytes.
void PrintTo(const ClientCase& c, std::ostream* os) { *os << c.name; }

class H2cLoopbackTest : public testing::TestWithParam<ClientCase> {};

TEST_P(H2cLoopbackTest, ReaderAndFingerprintAgreeWithTshark) {
  const ClientCase& c = GetParam();
  if (geteuid() != 0) GTEST_SKIP() << "needs root for tcpdump on lo";
  for (const auto& tool : {std::string("tcpdump"), std::string("tshark"), c.args[0]}) {
    if (!have_tool(tool)) GTEST_SKIP() << tool << " not installed";
  }
  test::H2cTestServer server;
  ASSERT_NE(server.port(), 0);
  const std::string port = std::to_string(server.port());
  const fs::path dir = fs::temp_directory_path() / ("huginn_h2_" + c.name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path cap = dir / "client.pcap";

  const pid_t dump = spawn({"tcpdump", "-i", "lo", "-U", "--immediate-mode", "-n", "-w", cap.string(), "tcp port " + port},
                           dir / "tcpdump.log");
  ASSERT_GT(dump, 0);
  ASSERT_TRUE(wait_until([&] { return slurp(dir / "tcpdump.log").find("listening on") != std::string::npos; }, 10s))
      << slurp(dir / "tcpdump.log");
  std::vector<std::string> args = c.args;
  for (auto& a : args) {
    if (a == "{URL}") a = "http://127.0.0.1:" + port + "/";
  }
  const int rc = wait_for(spawn(args, dir / "client.log"), 20s);
  std::this_thread::sleep_for(300ms);  // let tcpdump write the last segments
  kill(dump, SIGINT);
  wait_for(dump, 5s);
  EXPECT_EQ(rc, 0) << slurp(dir / "client.log");
  EXPECT_EQ(server.connections(), c.connections);
  EXPECT_EQ(server.upgrades(), c.upgrade ? 1 : 0);

  const Captured captured = read_capture(cap);
  ASSERT_EQ(captured.to_server.size(), static_cast<std::size_t>(c.connections));
  const std::string& stream = captured.to_server.front();
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(stream.data()), stream.size());
  const FrameRead r = read_client_frames(bytes);
  if (c.upgrade && r.status == ReadStatus::kNeedMore) {
    // After an Upgrade the first request was HTTP/1.1, so there may be no
    // HEADERS at all: curl sends SETTINGS, SETTINGS ACK and WINDOW_UPDATE,
    // then closes without GOAWAY. The whole stream was read as frames.
    EXPECT_EQ(r.consumed, stream.size());
  } else {
    ASSERT_EQ(r.status, ReadStatus::kOk) << reason_name(r.reason);
  }
  EXPECT_EQ(r.mode, c.upgrade ? StartMode::kUpgrade : StartMode::kPriorKnowledge);
  const ClientFingerprint fp = compute_client_fingerprint(r.frames);

  // Frame by frame against tshark (the first connection's frames come
  // first in the capture; h2load's single connection is the only one).
  const SharkView view = tshark_frames(cap, server.port(), c.upgrade, dir);
  const std::vector<SharkFrame>& shark = view.frames;
  const std::size_t skip = c.upgrade ? 1 : 0;  // our synthetic HTTP2-Settings frame
  ASSERT_GE(shark.size(), r.frames.size() - skip) << slurp(dir / "tshark.err");
  for (std::size_t i = skip; i < r.frames.size(); ++i) {
    const Frame& ours = r.frames[i];
    const SharkFrame& theirs = shark[i - skip];
    SCOPED_TRACE("frame " + std::to_string(i));
    EXPECT_EQ(ours.type, theirs.type);
    EXPECT_EQ(ours.flags, theirs.flags);
    EXPECT_EQ(ours.stream_id, theirs.stream);
    EXPECT_EQ(ours.length, theirs.length);
    if (ours.type == frame_type::kSettings) {
      ClientFingerprintBuilder one;
      one.add_frame(ours);
      EXPECT_EQ(one.fingerprint().settings, theirs.settings);
    }
    if (ours.type == frame_type::kWindowUpdate) {
      EXPECT_EQ(decode_window_update(ours), theirs.increment);
    }
    if (ours.type == frame_type::kPriority) {
      EXPECT_EQ(decode_priority(ours), theirs.priority);
    }
    if (ours.type == frame_type::kHeaders) {
      EXPECT_EQ(split_headers_payload(ours)->priority, theirs.priority);
      std::vector<std::pair<std::string, std::string>> decoded;
      for (const auto& f : fp.headers.fields) decoded.emplace_back(f.name, f.value);
      EXPECT_EQ(decoded, theirs.headers);
    }
  }

  std::optional<std::vector<Setting>> upgrade_settings;
  if (c.upgrade) {
    // Our decoding of HTTP2-Settings against tshark's.
    EXPECT_EQ(fp.settings, view.upgrade_settings);
    EXPECT_TRUE(fp.settings_from_upgrade);
    EXPECT_FALSE(view.upgrade_settings.empty());
    upgrade_settings = view.upgrade_settings;
  }
  const std::string akamai = format_akamai(fp);
  EXPECT_EQ(akamai, akamai_from_tshark(shark, upgrade_settings));
  // Every client here sends a SETTINGS frame; prior-knowledge clients also
  // send their first request as HEADERS.
  EXPECT_TRUE(fp.settings_seen);
  if (!c.upgrade) {
    EXPECT_EQ(fp.headers.status, HeaderStatus::kOk);
    EXPECT_EQ(fp.method(), "GET");
    EXPECT_EQ(fp.path(), "/");
    EXPECT_EQ(fp.authority(), "127.0.0.1:" + port);
    EXPECT_TRUE(fp.user_agent().has_value());
  }
  // Shown so that docs/http2-fingerprint.md can quote real clients.
  std::cout << "[ fingerprint ] " << c.name << ": " << akamai
            << (fp.headers_priority ? "  headers_priority=" + format_headers_priority(fp) : "")
            << (fp.user_agent() ? "  ua=" + std::string(*fp.user_agent()) : "") << "\n";
  if (std::getenv("HUGINN_KEEP_CAPTURES") == nullptr) fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    Clients, H2cLoopbackTest,
    testing::Values(ClientCase{"nghttp_prior_knowledge", {"nghttp", "{URL}"}, false, 1},
                    ClientCase{"nghttp_upgrade", {"nghttp", "-u", "{URL}"}, true, 1},
                    ClientCase{"curl_prior_knowledge", {"curl", "-s", "-o", "/dev/null", "--http2-prior-knowledge", "{URL}"}, false, 1},
                    ClientCase{"curl_upgrade", {"curl", "-s", "-o", "/dev/null", "--http2", "{URL}"}, true, 1},
                    ClientCase{"h2load", {"h2load", "-n", "2", "-c", "1", "{URL}"}, false, 1}),
    [](const testing::TestParamInfo<ClientCase>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace huginn::fingerprint::http2
