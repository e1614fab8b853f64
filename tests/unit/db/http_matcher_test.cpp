#include "huginn/db/http_matcher.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <variant>

#include "huginn/db/p0f_db_parser.hpp"
#include "test_paths.hpp"

namespace huginn::db {
namespace {

namespace fh = fingerprint::http;

// Synthetic signatures (not from p0f.fp).
constexpr const char* kDb = R"(
classes = win,unix,other

[http:request]
ua_os = Linux,Windows,iOS=[iPhone]

label = s:!:Ordered:1
sys = @unix
sig = 1:Host,User-Agent,?Referer,Accept=[*/*]:Keep-Alive:Ordered/

label = s:!:Any:2
sys = Windows
sig = *:Host,X-Thing=[abc]::

label = g:!:Generic:
sys = @unix
sig = *:Host::

[http:response]
label = s:!:Srv:
sys = @unix
sig = 0:Server:Date:srv/
)";

class HttpMatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = parse_p0f_db(kDb, "synthetic.fp");
    if (auto* err = std::get_if<DbError>(&r)) FAIL() << err->to_string();
    db_ = std::make_unique<P0fDb>(std::move(std::get<P0fDb>(r)));
    matcher_ = std::make_unique<HttpMatcher>(*db_);
  }
  static fh::HttpSignature request(std::vector<std::pair<std::string, std::string>> headers,
                                   std::uint8_t ver = 1) {
    fh::Http1Message m;
    m.request = true;
    m.http_ver = ver;
    for (auto& [n, v] : headers) m.headers.push_back({n, v});
    return fh::compute_http_signature(m);
  }
  std::string label_of(const HttpMatch& m) const {
    if (m.record == nullptr) return "???";
    return db_->names[m.record->label->name_id];
  }

  std::unique_ptr<P0fDb> db_;
  std::unique_ptr<HttpMatcher> matcher_;
};

TEST_F(HttpMatcherTest, OrderedHeadersWithValuesMatch) {
  const auto m = matcher_->match(request(
      {{"Host", "h"}, {"X-Other", "1"}, {"User-Agent", "Ordered/1.0"}, {"Accept", "text/*, */*"}}));
  EXPECT_EQ(label_of(m), "Ordered");
  EXPECT_FALSE(m.dishonest);
}

TEST_F(HttpMatcherTest, OptionalHeaderMayBeAbsentButNotOutOfOrder) {
  EXPECT_EQ(label_of(matcher_->match(request(
                {{"Host", "h"}, {"User-Agent", "Ordered/1"}, {"Referer", "r"}, {"Accept", "*/*"}}))),
            "Ordered");
  // Referer before User-Agent: not found in order, yet present.
  EXPECT_EQ(label_of(matcher_->match(request(
                {{"Host", "h"}, {"Referer", "r"}, {"User-Agent", "Ordered/1"}, {"Accept", "*/*"}}))),
            "Generic");
}

TEST_F(HttpMatcherTest, WrongOrderValueVersionOrAbsentHeaderFallBackToGeneric) {
  // Order.
  EXPECT_EQ(label_of(matcher_->match(
                request({{"User-Agent", "Ordered/1"}, {"Host", "h"}, {"Accept", "*/*"}}))),
            "Generic");
  // Value substring.
  EXPECT_EQ(label_of(matcher_->match(
                request({{"Host", "h"}, {"User-Agent", "Ordered/1"}, {"Accept", "text/html"}}))),
            "Generic");
  // Version.
  EXPECT_EQ(label_of(matcher_->match(
                request({{"Host", "h"}, {"User-Agent", "Ordered/1"}, {"Accept", "*/*"}}, 0))),
            "Generic");
  // habsent.
  EXPECT_EQ(label_of(matcher_->match(request(
                {{"Host", "h"}, {"User-Agent", "Ordered/1"}, {"Accept", "*/*"}, {"Keep-Alive", "1"}}))),
            "Generic");
  // Nothing at all without Host.
  EXPECT_EQ(label_of(matcher_->match(request({{"Accept", "*/*"}}))), "???");
}

TEST_F(HttpMatcherTest, EmptyValueNeverSatisfiesAValuePattern) {
  EXPECT_EQ(label_of(matcher_->match(request({{"Host", "h"}, {"X-Thing", ""}}))), "Generic");
  EXPECT_EQ(label_of(matcher_->match(request({{"Host", "h"}, {"X-Thing", "xxabcxx"}}, 0))), "Any");
}

TEST_F(HttpMatcherTest, DishonestWhenSoftwareStringLacksExpsw) {
  const auto m = matcher_->match(
      request({{"Host", "h"}, {"User-Agent", "Faker/2"}, {"Accept", "*/*"}}));
  EXPECT_EQ(label_of(m), "Ordered");
  EXPECT_TRUE(m.dishonest);
  // No User-Agent at all: anonymous, not dishonest.
  const auto anon = matcher_->match(request({{"Host", "h"}, {"User-Agent", ""}, {"Accept", "*/*"}}));
  EXPECT_EQ(label_of(anon), "Ordered");
  EXPECT_FALSE(anon.dishonest);
}

TEST_F(HttpMatcherTest, ResponsesUseTheirOwnSection) {
  fh::Http1Message m;
  m.request = false;
  m.http_ver = 0;
  m.headers = {{"Server", "srv/1"}};
  EXPECT_EQ(label_of(matcher_->match(fh::compute_http_signature(m))), "Srv");
  m.headers.push_back({"Date", "x"});
  EXPECT_EQ(label_of(matcher_->match(fh::compute_http_signature(m))), "???");
}

TEST_F(HttpMatcherTest, KnownHeadersAndUaOs) {
  EXPECT_TRUE(matcher_->is_known_header("X-Thing"));     // from the database
  EXPECT_TRUE(matcher_->is_known_header("Cookie"));      // built in
  EXPECT_FALSE(matcher_->is_known_header("x-thing"));    // case-sensitive
  EXPECT_FALSE(matcher_->is_known_header("X-Unlisted"));
  const auto linux_id = find_name_id(*db_, "Linux");
  const auto ios_id = find_name_id(*db_, "iOS");
  ASSERT_TRUE(linux_id && ios_id);
  EXPECT_EQ(matcher_->ua_os_name_id("Mozilla/5.0 (X11; Linux x86_64)"), linux_id);
  EXPECT_EQ(matcher_->ua_os_name_id("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)"), ios_id);
  EXPECT_FALSE(matcher_->ua_os_name_id("curl/8.0").has_value());
  // p0f compares C strings: nothing after a NUL counts.
  EXPECT_FALSE(matcher_->ua_os_name_id(std::string("x\0Linux", 7)).has_value());
}

// More header names than the matcher's quick-reject bit masks hold (256):
// names interned past them must still be required, ordered and absent.
TEST(HttpMatcherManyNames, NamesBeyondTheMasksStillDecide) {
  std::string text = "classes = win,unix,other\n[http:request]\n";
  // 300 fillers are interned first, so the names below get ids >= 300.
  for (int r = 0; r < 10; ++r) {
    text += "label = s:!:Filler" + std::to_string(r) + ":\nsys = @unix\nsig = *:";
    for (int h = 0; h < 30; ++h) {
      text += (h ? "," : "") + std::string("F") + std::to_string(r * 30 + h);
    }
    text += "::\n";
  }
  text += "label = s:!:Late:\nsys = @unix\nsig = 1:Late-A,?Late-B,Late-C=[v]:Late-D:\n";
  auto r = parse_p0f_db(text, "many.fp");
  ASSERT_TRUE(std::holds_alternative<P0fDb>(r)) << std::get<DbError>(r).to_string();
  const P0fDb& db = std::get<P0fDb>(r);
  const HttpMatcher matcher(db);
  const auto name_of = [&](std::vector<fh::Http1Header> headers) -> std::string {
    fh::HttpSignature sig;
    sig.http_ver = 1;
    sig.headers = std::move(headers);
    const HttpMatch m = matcher.match(sig);
    return m.record == nullptr ? "???" : db.names[m.record->label->name_id];
  };
  EXPECT_EQ(name_of({{"Late-A", "1"}, {"Late-B", "2"}, {"Late-C", "xvx"}}), "Late");
  EXPECT_EQ(name_of({{"Late-A", "1"}, {"Late-C", "v"}}), "Late");
  EXPECT_EQ(name_of({{"Late-A", "1"}}), "???");                                 // Late-C missing
  EXPECT_EQ(name_of({{"Late-C", "v"}, {"Late-A", "1"}}), "???");                // out of order
  EXPECT_EQ(name_of({{"Late-A", "1"}, {"Late-C", "v"}, {"Late-B", "2"}}), "???");  // ?Late-B misplaced
  EXPECT_EQ(name_of({{"Late-A", "1"}, {"Late-C", "w"}}), "???");                // value lacks "v"
  EXPECT_EQ(name_of({{"Late-A", "1"}, {"Late-C", "v"}, {"Late-D", "x"}}), "???");  // absent one present
  // More observed headers than the parser's kMaxHeaders (40 here).
  std::vector<fh::Http1Header> many;
  for (int i = 0; i < 38; ++i) many.push_back({"X-" + std::to_string(i), "1"});
  many.push_back({"Late-A", "1"});
  many.push_back({"Late-C", "v"});
  EXPECT_EQ(name_of(many), "Late");
  many.push_back({"Late-D", "1"});
  EXPECT_EQ(name_of(many), "???");
}

TEST(HttpMatcherRealDb, FirefoxAndApache) {
  const auto path = test::p0f_fp_path();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  auto r = load_p0f_db(path.string());
  ASSERT_TRUE(std::holds_alternative<P0fDb>(r));
  const P0fDb& db = std::get<P0fDb>(r);
  HttpMatcher matcher(db);
  fh::Http1Message m;
  m.request = true;
  m.http_ver = 1;
  m.headers = {{"Host", "example.com"},
               {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"},
               {"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"},
               {"Accept-Language", "en-US,en;q=0.5"},
               {"Accept-Encoding", "gzip, deflate"},
               {"Connection", "keep-alive"}};
  const HttpMatch hm = matcher.match(fh::compute_http_signature(m));
  ASSERT_NE(hm.record, nullptr);
  EXPECT_EQ(db.names[hm.record->label->name_id], "Firefox");
  EXPECT_FALSE(hm.dishonest);
}

}  // namespace
}  // namespace huginn::db
