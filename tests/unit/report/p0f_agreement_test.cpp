// decode -> Analyzer -> P0fLogWriter over the shared captures, compared line
// for line with `p0f -r` run here (skipped when p0f is not installed).
// p0f's "http request"/"http response" records are not produced by us yet
// and are left out of the comparison.
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "huginn/analyzer/analyzer.hpp"
#include "huginn/db/p0f_db_parser.hpp"
#include "huginn/packet/decode.hpp"
#include "huginn/report/p0f_log_writer.hpp"
#include "test_paths.hpp"

namespace huginn::report {
namespace {

namespace fs = std::filesystem;
constexpr const char* kP0f = "/usr/sbin/p0f";

std::vector<std::string> read_lines(const fs::path& p) {
  std::vector<std::string> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) {
    if (line.find("] mod=http ") == std::string::npos) out.push_back(line);
  }
  return out;
}

std::vector<std::string> run_p0f(const fs::path& capture, const fs::path& log) {
  fs::remove(log);
  const std::string cmd = std::string("TZ=UTC ") + kP0f + " -r '" + capture.string() + "' -o '" +
                          log.string() + "' -f '" + test::p0f_fp_path().string() + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return {"<p0f failed>"};
  return read_lines(log);
}

std::vector<std::string> run_ours(const db::P0fDb& db, const fs::path& capture, const fs::path& log) {
  std::FILE* out = std::fopen(log.c_str(), "w");
  if (out == nullptr) return {"<cannot write log>"};
  {
    P0fLogWriter writer(out);
    analyzer::Analyzer an(db, {}, writer);
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* pc = pcap_open_offline(capture.c_str(), err);
    if (pc == nullptr) {
      std::fclose(out);
      return {std::string("<pcap: ") + err + ">"};
    }
    const int dlt = pcap_datalink(pc);
    pcap_pkthdr* hdr = nullptr;
    const u_char* data = nullptr;
    while (pcap_next_ex(pc, &hdr, &data) == 1) {
      packet::DecodedPacket pkt;
      const std::int64_t ts = std::int64_t{hdr->ts.tv_sec} * 1000000 + hdr->ts.tv_usec;
      const std::size_t len = std::min(hdr->caplen, hdr->len);
      if (packet::decode_packet(dlt, {data, len}, ts, pkt).status == packet::DecodeStatus::kOk) {
        an.on_packet(pkt);
      }
    }
    pcap_close(pc);
  }
  std::fclose(out);
  return read_lines(log);
}

TEST(P0fAgreement, EverySharedCaptureMatchesP0f) {
  if (!fs::exists(kP0f)) GTEST_SKIP() << "p0f not installed";
  const fs::path dir = test::shared_dir() / "testdata" / "captures";
  if (!fs::exists(dir)) GTEST_SKIP() << "no shared captures";
  setenv("TZ", "UTC", 1);
  tzset();
  auto loaded = db::load_p0f_db(test::p0f_fp_path().string());
  ASSERT_TRUE(std::holds_alternative<db::P0fDb>(loaded)) << std::get<db::DbError>(loaded).to_string();
  const auto& db = std::get<db::P0fDb>(loaded);

  const fs::path tmp = fs::temp_directory_path() / ("huginn_agree_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto ext = entry.path().extension();
    if (ext != ".pcap" && ext != ".pcapng") continue;
    SCOPED_TRACE(entry.path().filename().string());
    const auto theirs = run_p0f(entry.path(), tmp / "p0f.log");
    const auto ours = run_ours(db, entry.path(), tmp / "ours.log");
    EXPECT_EQ(ours, theirs);
    ++compared;
  }
  fs::remove_all(tmp);
  EXPECT_GT(compared, 0);
}

}  // namespace
}  // namespace huginn::report
