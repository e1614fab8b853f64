// Golden: every ClientHello in the shared captures must give exactly the
// JA4, JA4_r, JA4_o and JA4_ro that the JA4 reference implementation
// reported (testdata/expected/NAME.ja4.json, ".1" and ".2" keys).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "hello_collector.hpp"
#include "huginn/fingerprint/tls/ja4.hpp"
#include "test_paths.hpp"

namespace huginn::fingerprint::tls {
namespace {

using test::StreamKey;

struct Expected {
  std::string ja4, ja4_r, ja4_o, ja4_ro;
};

// (stream, index) -> expected values, index 1 or 2.
std::map<std::pair<StreamKey, int>, Expected> load_expected(const std::filesystem::path& path) {
  std::map<std::pair<StreamKey, int>, Expected> out;
  std::ifstream in(path);
  const auto doc = nlohmann::json::parse(in);
  for (const auto& rec : doc) {
    for (int idx = 1; idx <= 9; ++idx) {
      const std::string n = std::to_string(idx);
      if (!rec.contains("JA4." + n)) continue;
      StreamKey key{rec.at("src").get<std::string>(),
                    static_cast<std::uint16_t>(std::stoi(rec.at("srcport").get<std::string>())),
                    rec.at("dst").get<std::string>(),
                    static_cast<std::uint16_t>(std::stoi(rec.at("dstport").get<std::string>()))};
      out[{key, idx}] = Expected{
          rec.at("JA4." + n).get<std::string>(), rec.at("JA4_r." + n).get<std::string>(),
          rec.at("JA4_o." + n).get<std::string>(), rec.at("JA4_ro." + n).get<std::string>()};
    }
  }
  return out;
}

std::string describe(const StreamKey& k, int idx) {
  return k.src + ":" + std::to_string(k.sport) + " -> " + k.dst + ":" + std::to_string(k.dport) +
         " #" + std::to_string(idx);
}

struct Tally {
  int expected = 0;
  int agreed = 0;
};

// Compares one capture; returns how many expected hellos matched exactly.
Tally check_capture(const std::string& name) {
  Tally t;
  const auto cap = test::testdata_capture(name);
  const auto exp_path = test::shared_dir() / "testdata" / "expected" / (name + ".ja4.json");
  if (!std::filesystem::exists(cap) || !std::filesystem::exists(exp_path)) {
    ADD_FAILURE() << "missing " << cap << " or " << exp_path;
    return t;
  }
  const auto expected = load_expected(exp_path);
  t.expected = static_cast<int>(expected.size());

  test::HelloCollector collector;
  const auto err = collector.read(cap.string());
  EXPECT_FALSE(err) << name << ": " << err.value_or("");
  const auto found = collector.hellos();

  std::size_t found_count = 0;
  for (const auto& [key, c] : found) found_count += c.hellos.size();
  EXPECT_EQ(found_count, expected.size()) << name << ": ClientHellos found vs expected";

  for (const auto& [where, want] : expected) {
    const auto& [key, idx] = where;
    const auto it = found.find(key);
    if (it == found.end() || it->second.hellos.size() < static_cast<std::size_t>(idx)) {
      ADD_FAILURE() << name << ": no ClientHello for " << describe(key, idx);
      continue;
    }
    const auto& hello = it->second.hellos[static_cast<std::size_t>(idx - 1)];
    // The reference output predates the specification's hex rule for
    // non-alphanumeric ALPN values: compare in its convention...
    const auto got = compute_ja4(hello, 't', AlpnRule::kLegacyNines);
    EXPECT_EQ(got.ja4, want.ja4) << name << " " << describe(key, idx);
    EXPECT_EQ(got.ja4_r, want.ja4_r) << name << " " << describe(key, idx);
    EXPECT_EQ(got.ja4_o, want.ja4_o) << name << " " << describe(key, idx);
    EXPECT_EQ(got.ja4_ro, want.ja4_ro) << name << " " << describe(key, idx);
    if (got.ja4 == want.ja4 && got.ja4_r == want.ja4_r && got.ja4_o == want.ja4_o &&
        got.ja4_ro == want.ja4_ro)
      ++t.agreed;
    // ...and check that the specification's rule differs only in the two
    // ALPN characters (positions 8-9 of ja4_a), and only for such values.
    const auto spec = compute_ja4(hello);
    const bool odd_alpn =
        !hello.alpn.empty() && format_ja4_alpn(hello.alpn.front()) !=
                                   format_ja4_alpn(hello.alpn.front(), AlpnRule::kLegacyNines);
    auto strip_alpn = [](std::string s) { return s.erase(8, 2); };
    EXPECT_EQ(strip_alpn(spec.ja4), strip_alpn(got.ja4));
    EXPECT_EQ(strip_alpn(spec.ja4_ro), strip_alpn(got.ja4_ro));
    EXPECT_EQ(spec.ja4 == got.ja4, !odd_alpn) << describe(key, idx);
  }
  return t;
}

TEST(Ja4Golden, ReferenceOutputReproducedForEveryClientHello) {
  int expected = 0;
  int agreed = 0;
  for (const char* name : {"tls-handshake.pcapng", "tls-alpn-h2.pcap", "tls-non-ascii-alpn.pcapng",
                           "ipv6.pcapng", "badcurveball.pcap"}) {
    const auto t = check_capture(name);
    expected += t.expected;
    agreed += t.agreed;
  }
  std::printf("JA4 golden agreement: %d/%d ClientHellos\n", agreed, expected);
  EXPECT_EQ(expected, 68);
  EXPECT_EQ(agreed, expected);
}

TEST(Ja4Golden, NonAsciiAlpnCaptureUnderBothRules) {
  test::HelloCollector collector;
  ASSERT_FALSE(collector.read(test::testdata_capture("tls-non-ascii-alpn.pcapng").string()));
  const auto found = collector.hellos();
  ASSERT_EQ(found.size(), 1u);
  const auto& hello = found.begin()->second.hellos.at(0);
  EXPECT_EQ(hello.alpn.at(0), std::string("\xba\xad", 2));
  EXPECT_EQ(compute_ja4(hello).ja4, "t13d1516bd_8daaf6152771_e5627efa2ab1");
  EXPECT_EQ(compute_ja4(hello, 't', AlpnRule::kLegacyNines).ja4,
            "t13d151699_8daaf6152771_e5627efa2ab1");
}

// Captures without TLS must give no ClientHello (and not crash).
TEST(Ja4Golden, NonTlsCapturesYieldNoClientHello) {
  for (const char* name : {"http1.pcapng", "http-empty-useragent.pcap", "CVE-2018-6794.pcap",
                           "ssh2-malformed.pcap", "gre-sample.pcap", "dhcp.pcapng"}) {
    test::HelloCollector collector;
    (void)collector.read(test::testdata_capture(name).string());
    EXPECT_TRUE(collector.hellos().empty()) << name;
  }
}

}  // namespace
}  // namespace huginn::fingerprint::tls
