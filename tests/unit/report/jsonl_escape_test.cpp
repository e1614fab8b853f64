// The JSONL writer's hand-written string escaping against nlohmann::json's
// dump() of the same bytes (the writer's earlier output, which logs already
// written and their readers depend on): any divergence fails here.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "huginn/report/jsonl_writer.hpp"
#include "segment_builder.hpp"

namespace huginn::report {
namespace {

std::string reference(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ours(const std::string& s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

// ISO 8859-1 to UTF-8, written independently of the writer.
std::string latin1_to_utf8(const std::string& bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      out += c;
    } else {
      out += static_cast<char>(b < 0xc0 ? 0xc2 : 0xc3);
      out += static_cast<char>(0x80 | (b & 0x3f));
    }
  }
  return out;
}

std::string latin1(const std::string& bytes) {
  std::string out;
  append_json_latin1_string(out, bytes);
  return out;
}

// Bytes at the edges of the UTF-8 ranges (RFC 3629 §4), plus ASCII.
constexpr std::array<std::uint8_t, 17> kEdges = {0x00, 0x22, 0x41, 0x5c, 0x7f, 0x80, 0x8f, 0x90, 0x9f,
                                                 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xf0, 0xff};

TEST(JsonlEscape, NamedEscapesQuotesAndBackslash) {
  EXPECT_EQ(ours("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(ours("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(ours(std::string("\x00\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\x7f\"");
  EXPECT_EQ(ours("/"), "\"/\"") << "solidus is not escaped";
  EXPECT_EQ(ours(""), "\"\"");
  for (const std::string s : {"a\"b\\c", "\b\f\n\r\t", "plain text", ""}) EXPECT_EQ(ours(s), reference(s));
}

TEST(JsonlEscape, EveryOneAndTwoByteStringMatchesNlohmann) {
  for (int a = 0; a < 256; ++a) {
    const std::string one(1, static_cast<char>(a));
    ASSERT_EQ(ours(one), reference(one)) << "byte " << a;
    for (int b = 0; b < 256; ++b) {
      const std::string two = {static_cast<char>(a), static_cast<char>(b)};
      ASSERT_EQ(ours(two), reference(two)) << "bytes " << a << " " << b;
    }
  }
}

TEST(JsonlEscape, ThreeAndFourByteSequencesMatchNlohmann) {
  for (int lead = 0xc0; lead < 0x100; ++lead) {
    for (int second = 0; second < 256; ++second) {
      for (const auto third : kEdges) {
        const std::string s = {static_cast<char>(lead), static_cast<char>(second), static_cast<char>(third)};
        ASSERT_EQ(ours(s), reference(s)) << lead << " " << second << " " << int{third};
        ASSERT_EQ(ours("x" + s + "y"), reference("x" + s + "y"));
        if (lead < 0xf0 || lead > 0xf4) continue;
        for (const auto fourth : kEdges) {
          const std::string s4 = s + static_cast<char>(fourth);
          ASSERT_EQ(ours(s4), reference(s4)) << lead << " " << second << " " << int{third} << " " << int{fourth};
        }
      }
    }
  }
}

TEST(JsonlEscape, ValidUtf8PassesThrough) {
  const std::string text = "h\xc3\xa9llo \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \xef\xbf\xbd";
  EXPECT_EQ(ours(text), "\"" + text + "\"");
  EXPECT_EQ(ours(text), reference(text));
}

TEST(JsonlEscape, InvalidUtf8IsReplacedAsNlohmannDoes) {
  const std::string replacement = "\xef\xbf\xbd";
  EXPECT_EQ(ours("a\xff" "b"), "\"a" + replacement + "b\"");
  EXPECT_EQ(ours("\xe6\x97"), "\"" + replacement + "\"") << "truncated at the end";
  EXPECT_EQ(ours("\xe6\x97" "A"), "\"" + replacement + "A\"") << "the breaking byte starts afresh";
  for (const std::string s : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80",
                              "\xc3", "\xc3\xc3\xa9", "\xe2\x82", "\x80\x80\x80", "ok\xf5\xbf\xbf"}) {
    EXPECT_EQ(ours(s), reference(s));
  }
}

TEST(JsonlEscape, RandomBytesMatchNlohmann) {
  std::mt19937 rng(20261125);
  std::uniform_int_distribution<int> len(0, 48);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> pick(0, static_cast<int>(kEdges.size()) - 1);
  for (int n = 0; n < 50000; ++n) {
    std::string s(static_cast<std::size_t>(len(rng)), '\0');
    for (auto& c : s) c = static_cast<char>(n % 2 == 0 ? byte(rng) : kEdges[static_cast<std::size_t>(pick(rng))]);
    ASSERT_EQ(ours(s), reference(s)) << "case " << n;
  }
}

// The plain-run scan reads eight bytes at a time: each byte that needs a
// look, at every offset around those words, in runs of plain text.
TEST(JsonlEscape, SpecialBytesAtEveryOffsetOfTheWordScan) {
  const std::string specials[] = {std::string(1, '\0'), "\x1f", "\"", "\\", "\x7f", "\x80",
                                  "\xc3\xa9", "\xff", " ", "~", "!", "#", "[", "]"};
  for (std::size_t len = 0; len <= 26; ++len) {
    for (std::size_t at = 0; at <= len; ++at) {
      for (const auto& sp : specials) {
        std::string s(len, 'a');
        s.insert(at, sp);
        ASSERT_EQ(ours(s), reference(s)) << "length " << len << " offset " << at;
      }
    }
  }
}

TEST(JsonlEscape, BufferGrowsPastItsCapacityKeepingItsBytes) {
  JsonBuffer b(4);
  std::string expect;
  for (int i = 0; i < 2000; ++i) {
    const std::string piece = std::to_string(i) + (i % 3 == 0 ? "," : "");
    b += piece;
    b += ';';
    expect += piece + ';';
  }
  EXPECT_EQ(b.view(), expect);
  b.clear();
  EXPECT_TRUE(b.empty());
  b.append("x", 1);
  EXPECT_EQ(b.view(), "x");
}

TEST(JsonlEscape, AlpnBytesAreLatin1AndNeverReplaced) {
  std::string all;
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    ASSERT_EQ(latin1(one), reference(latin1_to_utf8(one))) << "byte " << b;
    all += one;
  }
  EXPECT_EQ(latin1(all), reference(latin1_to_utf8(all)));
  EXPECT_EQ(latin1("h2"), "\"h2\"");
  EXPECT_EQ(latin1("\xba\xad"), "\"\xc2\xba\xc2\xad\"");
  EXPECT_EQ(nlohmann::json::parse(latin1(all)).get<std::string>(), latin1_to_utf8(all));
}

TEST(JsonlEscape, Http2SignatureAfterHeadersOnlyWhenSet) {
  analyzer::Observation o;
  o.kind = analyzer::ObservationKind::kHttp2Client;
  o.ts_us = 1700000000000000;
  o.client = {test::ipv4(127, 0, 0, 1), 40000};
  o.server = {test::ipv4(127, 0, 0, 1), 8080};
  auto& d = o.http2.emplace();
  d.header_names = {":method", "user-agent"};
  const std::string without = JsonlWriter::format_line(o);
  EXPECT_EQ(without.find("http_signature"), std::string::npos);
  d.http_signature = "2:Host,User-Agent::curl/8";
  const std::string with = JsonlWriter::format_line(o);
  const auto tail = std::string(R"("headers":[":method","user-agent"],"http_signature":"2:Host,User-Agent::curl/8"})");
  ASSERT_GE(with.size(), tail.size());
  EXPECT_EQ(with.substr(with.size() - tail.size()), tail);
  EXPECT_EQ(nlohmann::json::parse(with)["http_signature"], d.http_signature);
}

TEST(JsonlEscape, EndpointsAsRfc5952Strings) {
  analyzer::Observation o;
  o.kind = analyzer::ObservationKind::kMtu;
  o.client = {test::ipv4(0, 10, 255, 100), 0};
  o.server = {test::ipv6(0x2001, 0xdb8), 65535};
  const std::string line = JsonlWriter::format_line(o);
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["client"], o.client.addr.to_rfc5952_string() + "/0");
  EXPECT_EQ(j["server"], o.server.addr.to_rfc5952_string() + "/65535");
  EXPECT_EQ(j["client"], "0.10.255.100/0");
}

// The writer formats addresses itself; inet_ntop (to_rfc5952_string) is the
// reference, over zero runs of every position and length and the
// IPv4-compatible/mapped forms.
TEST(JsonlEscape, Ipv6EndpointsMatchInetNtop) {
  std::mt19937 rng(5952);
  std::vector<std::array<std::uint8_t, 16>> cases;
  for (unsigned mask = 0; mask < 256; ++mask) {
    std::array<std::uint8_t, 16> a{};
    for (std::size_t g = 0; g < 8; ++g) {
      if ((mask >> g) & 1) {
        a[2 * g] = static_cast<std::uint8_t>(rng() % 3 == 0 ? 0 : rng());
        a[2 * g + 1] = static_cast<std::uint8_t>(rng() % 4 == 0 ? 1 : rng());
      }
    }
    cases.push_back(a);
    auto mapped = a;
    mapped[10] = mapped[11] = 0xff;
    cases.push_back(mapped);
  }
  std::array<std::uint8_t, 16> loopback{};
  loopback[15] = 1;
  cases.push_back(loopback);
  cases.push_back({});
  for (const auto& bytes : cases) {
    analyzer::Observation o;
    o.kind = analyzer::ObservationKind::kMtu;
    o.client.addr = packet::IpAddress::v6(bytes);
    const auto j = nlohmann::json::parse(JsonlWriter::format_line(o));
    ASSERT_EQ(j["client"], o.client.addr.to_rfc5952_string() + "/0");
  }
}

TEST(JsonlEscape, TimestampsOutsideTheCacheFormatAsBefore) {
  EXPECT_EQ(format_rfc3339_utc(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_rfc3339_utc(1516186786703072), "2018-01-17T10:59:46.703072Z");
  EXPECT_EQ(format_rfc3339_utc(1516186786000001), "2018-01-17T10:59:46.000001Z");
  EXPECT_EQ(format_rfc3339_utc(1516186787000000), "2018-01-17T10:59:47.000000Z");
}

}  // namespace
}  // namespace huginn::report
