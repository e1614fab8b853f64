// /metrics: Prometheus text exposition format 0.0.4, checked line by line
// here and by promtool (Debian's prometheus package) when it is installed.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "api_test_util.hpp"

namespace huginn::api::test {
namespace {

class MetricsTest : public ApiFixture {};

std::string find_promtool() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    std::string p = std::string(dir) + "/promtool";
    if (access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

TEST_F(MetricsTest, TextFormatWithHelpTypeAndEscapedLabels) {
  fill();
  (void)get("/api/profiles");
  auto r = get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(header(r, "content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(header(r, "cache-control"), "no-store");
  ASSERT_FALSE(r.body.empty());
  ASSERT_EQ(r.body.back(), '\n');

  // Every sample belongs to the family announced just before it, every
  // family has HELP then TYPE, counters end in _total, names are legal.
  static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex kSample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.e+]+|NaN|[+-]Inf))");
  std::istringstream in(r.body);
  std::string line, family, type;
  std::set<std::string> families;
  std::map<std::string, std::string> samples;
  while (std::getline(in, line)) {
    SCOPED_TRACE(line);
    if (line.rfind("# HELP ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(std::regex_match(family, kName));
      EXPECT_TRUE(families.insert(family).second) << "family repeated";
      ASSERT_TRUE(std::getline(in, line));
      ASSERT_EQ(line.rfind("# TYPE " + family + " ", 0), 0u) << line;
      type = line.substr(8 + family.size());
      EXPECT_TRUE(type == "counter" || type == "gauge");
      if (type == "counter") {
        EXPECT_TRUE(family.ends_with("_total")) << family;
      }
      continue;
    }
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, kSample));
    EXPECT_EQ(m[1].str(), family);
    samples[line.substr(0, line.rfind(' '))] = line.substr(line.rfind(' ') + 1);
  }
  EXPECT_EQ(samples["huginn_store_profiles"], "4");
  EXPECT_EQ(samples["huginn_store_profiles_created_total"], "4");
  EXPECT_EQ(samples["huginn_capture_packets_total"], "1234");
  EXPECT_EQ(samples["huginn_capture_kernel_drops_total"], "5");
  EXPECT_EQ(samples["huginn_capture_malformed_total"], "7");
  EXPECT_EQ(samples["huginn_capture_state{state=\"running\"}"], "1");
  EXPECT_EQ(samples["huginn_capture_state{state=\"disabled\"}"], "0");
  EXPECT_EQ(samples["huginn_database_signatures"], "321");
  EXPECT_EQ(samples["huginn_analyzer_events_total{event=\"syn\"}"], "10");
  // '"', '\' and newline in a label value are escaped (format 0.0.4).
  EXPECT_EQ(samples["huginn_analyzer_events_total{event=\"odd \\\"name\\\"\\\\x\\n\"}"], "2");
  EXPECT_EQ(samples["huginn_server_events_total{event=\"connections_accepted\"}"], "3");
  // A level is a gauge of its own, not a sample of the counter family.
  EXPECT_EQ(samples["huginn_server_current{name=\"realtime_subscribers_current\"}"], "2");
  EXPECT_EQ(samples.count("huginn_server_events_total{event=\"realtime_subscribers_current\"}"), 0u);
  EXPECT_EQ(samples["huginn_api_responses_total{route=\"profiles\",code=\"2xx\"}"], "1");
  EXPECT_EQ(samples["huginn_start_time_seconds"], "1700000000");
}

TEST_F(MetricsTest, PromtoolAcceptsTheOutput) {
  std::string promtool = find_promtool();
  if (promtool.empty()) GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  fill();
  (void)get("/api/profiles");
  (void)get("/nothing");
  std::string body = get("/metrics").body;

  char path[] = "/tmp/huginn_metrics_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, body.data(), body.size()), static_cast<ssize_t>(body.size()));
  close(fd);
  // promtool check metrics reads stdin; its lint findings go to stderr and
  // make it exit non-zero.
  std::string cmd = promtool + " check metrics < " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  int rc = pclose(p);
  unlink(path);
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << out;
  EXPECT_EQ(out, "");

  // And promtool does fail on a broken exposition, so the check above can.
  std::string bad = "# TYPE bad counter\nbad 1\n";
  std::string cmd2 = "printf '" + bad + "' | " + promtool + " check metrics >/dev/null 2>&1";
  EXPECT_NE(std::system(cmd2.c_str()), 0);
}

TEST_F(MetricsTest, GzipWhenPrometheusAsksForIt) {
  fill();
  auto plain = get("/metrics");
  ASSERT_GT(plain.body.size(), 1024u);
  auto gz = get("/metrics", {{"accept-encoding", "gzip"}});
  EXPECT_EQ(header(gz, "content-encoding"), "gzip");
  // The bodies differ by the response counters that moved in between.
  std::string text = gunzip(gz.body);
  EXPECT_EQ(text.rfind("# HELP ", 0), 0u);
  EXPECT_NE(text.find("\nhuginn_store_profiles 4\n"), std::string::npos);
}

}  // namespace
}  // namespace huginn::api::test
