// util::append_json_string against nlohmann::json's dump() of the same
// bytes with error_handler_t::replace: the output the JSONL logs and the
// profile store's JSON have always had. Any divergence fails here.
#include "huginn/util/json_escape.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace huginn::util {
namespace {

std::string reference(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ours(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(JsonEscape, ShortFormsControlsAndPlainBytes) {
  EXPECT_EQ(ours("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(ours("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(ours(std::string("\x00\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\x7f\"");
  EXPECT_EQ(ours("/"), "\"/\"");
  EXPECT_EQ(ours(""), "\"\"");
  EXPECT_TRUE(json_plain("Mozilla/5.0 (X11; Linux x86_64)"));
  EXPECT_FALSE(json_plain("a\"b"));
  EXPECT_FALSE(json_plain("caf\xC3\xA9"));
}

// Every byte pair after a plain run of 8 (the word-at-a-time scan stops
// inside a word, not only at its start) and before a plain tail.
TEST(JsonEscape, EveryBytePairAfterAPlainWordMatchesNlohmann) {
  std::string s = "0123456789__x";
  for (int hi = 0; hi < 256; ++hi) {
    for (int lo = 0; lo < 256; ++lo) {
      s[10] = static_cast<char>(hi);
      s[11] = static_cast<char>(lo);
      ASSERT_EQ(ours(s), reference(s)) << hi << " " << lo;
    }
  }
}

TEST(JsonEscape, TruncatedAndOverlongSequencesBecomeOneReplacementEach) {
  for (const std::string s : {"\xE2\x82", "\xF0\x9F\x98", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                              "ok\xE2\x82\xAC\xF0\x9F\x98\x80"}) {
    EXPECT_EQ(ours(s), reference(s));
  }
}

TEST(JsonEscape, Latin1BytesBecomeTheirCodePoints) {
  std::string out;
  append_json_latin1_string(out, std::string_view("caf\xE9\n", 5));
  EXPECT_EQ(out, "\"caf\xC3\xA9\\n\"");
}

}  // namespace
}  // namespace huginn::util
