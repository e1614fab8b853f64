#include "huginn/app/options.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

namespace huginn::app {
namespace {

ParseResult parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"huginn-profiler"};
  argv.insert(argv.end(), args.begin(), args.end());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

std::string error_of(const ParseResult& r) {
  const auto* e = std::get_if<UsageError>(&r);
  return e ? e->message : "<no error>";
}

TEST(Options, AnalyzeWithP0fStyleFlags) {
  const auto r = parse({"analyze", "-f", "/tmp/x.fp", "-o", "out.log", "--format", "jsonl", "-m",
                  "1000,200000", "-t", "60,30", "a.pcap", "b.pcapng"});
  const auto& o = std::get<Options>(r);
  EXPECT_EQ(o.command, Command::kAnalyze);
  EXPECT_EQ(o.fp_file, "/tmp/x.fp");
  EXPECT_EQ(o.out_path, "out.log");
  EXPECT_EQ(o.format, OutputFormat::kJsonl);
  EXPECT_EQ(o.max_flows, 1000u);
  EXPECT_EQ(o.max_hosts, 200000u);
  EXPECT_EQ(o.flow_max_age_s, 60u);
  EXPECT_EQ(o.host_idle_s, 30u * 60);
  EXPECT_EQ(o.files, (std::vector<std::string>{"a.pcap", "b.pcapng"}));
}

TEST(Options, ServeDefaultsMatchTheDesign) {
  const auto o_r = parse({"serve"});
  const auto& o = std::get<Options>(o_r);
  EXPECT_EQ(o.command, Command::kServe);
  EXPECT_EQ(o.iface, "any");
  EXPECT_EQ(o.fp_file, "/etc/p0f/p0f.fp");
  EXPECT_FALSE(o.promiscuous);
  EXPECT_FALSE(o.read_file.has_value());
  EXPECT_TRUE(o.filter.empty());
}

TEST(Options, ServeJoinsFilterWordsLikeTcpdump) {
  const auto o_r = parse({"serve", "-i", "lo", "-p", "tcp", "and", "port", "80"});
  const auto& o = std::get<Options>(o_r);
  EXPECT_EQ(o.iface, "lo");
  EXPECT_TRUE(o.promiscuous);
  EXPECT_EQ(o.filter, "tcp and port 80");
  const auto q_r = parse({"serve", "tcp port 443"});
  const auto& q = std::get<Options>(q_r);
  EXPECT_EQ(q.filter, "tcp port 443");
}

TEST(Options, GlobalOptionsMayComeBeforeOrAfterTheCommand) {
  const auto a_r = parse({"--log-format", "json", "serve", "--log-level", "debug"});
  const auto& a = std::get<Options>(a_r);
  EXPECT_EQ(a.log_format, LogFormat::kJson);
  EXPECT_EQ(a.log_level, "debug");
}

TEST(Options, HelpAndVersion) {
  EXPECT_TRUE(std::holds_alternative<ShowHelp>(parse({"--help"})));
  EXPECT_TRUE(std::holds_alternative<ShowHelp>(parse({"analyze", "-h"})));
  EXPECT_TRUE(std::holds_alternative<ShowVersion>(parse({"-V"})));
}

TEST(Options, UsageErrorsSayWhatIsWrong) {
  EXPECT_EQ(error_of(parse({})), "no command given (analyze or serve)");
  EXPECT_EQ(error_of(parse({"frobnicate"})), "unknown command 'frobnicate' (analyze or serve)");
  EXPECT_EQ(error_of(parse({"serve", "--bogus"})), "unknown option '--bogus'");
  EXPECT_EQ(error_of(parse({"analyze"})), "analyze needs at least one capture file");
  EXPECT_EQ(error_of(parse({"analyze", "-f"})), "option -f needs a value");
  EXPECT_EQ(error_of(parse({"analyze", "--format", "xml", "a"})),
            "unknown output format 'xml' (p0f or jsonl)");
  EXPECT_EQ(error_of(parse({"analyze", "-m", "10", "a"})),
            "-m takes CONN,HOSTS (two positive integers), not '10'");
  EXPECT_EQ(error_of(parse({"analyze", "-m", "0,5", "a"})),
            "-m takes CONN,HOSTS (two positive integers), not '0,5'");
  EXPECT_EQ(error_of(parse({"analyze", "-i", "eth0", "a"})),
            "option -i belongs to serve, not analyze");
  EXPECT_EQ(error_of(parse({"serve", "--log-level", "loud"})), "unknown log level 'loud'");
  EXPECT_EQ(error_of(parse({"serve", "--snaplen", "10"})),
            "--snaplen takes an integer >= 68, not '10'");
}

TEST(Options, DoubleDashEndsOptions) {
  const auto o_r = parse({"analyze", "--", "-weird-name.pcap"});
  const auto& o = std::get<Options>(o_r);
  EXPECT_EQ(o.files, std::vector<std::string>{"-weird-name.pcap"});
}

}  // namespace
}  // namespace huginn::app
