// p0f.fp loader on small synthetic databases: every syntax element, every
// error kind (with its line number and message), and p0f's "already covered"
// check. None of these lines come from Debian's p0f.fp.
#include "huginn/db/p0f_db_parser.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "huginn/fingerprint/tcp/tcp_signature.hpp"

namespace huginn::db {
namespace {

namespace ftcp = huginn::fingerprint::tcp;

P0fDb must_parse(std::string_view text) {
  auto r = parse_p0f_db(text, "test.fp");
  if (auto* e = std::get_if<DbError>(&r)) {
    ADD_FAILURE() << "unexpected error: " << e->to_string();
    return P0fDb{};
  }
  return std::move(std::get<P0fDb>(r));
}

DbError must_fail(std::string_view text) {
  auto r = parse_p0f_db(text, "test.fp");
  if (auto* e = std::get_if<DbError>(&r)) return *e;
  ADD_FAILURE() << "database parsed, expected an error";
  return DbError{};
}

// Three classes and one OS label open [tcp:request]; a signature appended to
// this is on line 4.
const std::string kTcpHead = "classes = win,unix,other\n[tcp:request]\nlabel = s:unix:Testix:1.x\n";
// Same for [http:request].
const std::string kHttpHead = "classes = win,unix,other\n[http:request]\nlabel = s:!:Fetchy:2\nsys = @unix\n";

TcpSigPattern tcp_sig(const std::string& sig) {
  auto db = must_parse(kTcpHead + "sig = " + sig + "\n");
  if (db.tcp_request.size() != 1) {
    ADD_FAILURE() << "no signature parsed from " << sig;
    return {};
  }
  return db.tcp_request[0].sig;
}

HttpSigPattern http_sig(const std::string& sig) {
  auto db = must_parse(kHttpHead + "sig = " + sig + "\n");
  if (db.http_request.size() != 1) {
    ADD_FAILURE() << "no signature parsed from " << sig;
    return {};
  }
  return db.http_request[0].sig;
}

// --- Structure: sections, labels, names, sys, ua_os, mtu ---------------------

TEST(P0fDbParser, EmptyTextGivesEmptyDatabase) {
  auto db = must_parse("");
  EXPECT_TRUE(db.classes.empty());
  EXPECT_TRUE(db.labels.empty());
  EXPECT_TRUE(db.tcp_request.empty());
  EXPECT_EQ(db.path, "test.fp");
}

TEST(P0fDbParser, CommentsBlankLinesAndIndentationAreSkipped) {
  auto db = must_parse(
      "; comment\n"
      "\n"
      "   \t\n"
      "  classes = alpha,beta\n"
      "\t; indented comment with odd bytes \x01\xff\n"
      "[tcp:response]\n"
      "   label = g:beta:Zed:\n"
      "\tsig = 4:64:0:*:*,*:::*\n");
  ASSERT_EQ(db.tcp_response.size(), 1u);
  EXPECT_EQ(db.tcp_response[0].line_no, 8u);
  EXPECT_EQ(db.tcp_response[0].raw, "4:64:0:*:*,*:::*");
}

TEST(P0fDbParser, CrlfLineEndingsAreAccepted) {
  auto db = must_parse("classes = a\r\n[tcp:request]\r\nlabel = s:a:Nm:fl\r\nsig = *:64:0:*:*,*:::0\r\n");
  ASSERT_EQ(db.tcp_request.size(), 1u);
  EXPECT_EQ(db.labels[0].flavor, "fl");
  EXPECT_EQ(db.tcp_request[0].sig.payload, std::optional<bool>(false));
}

TEST(P0fDbParser, ClassesAreSplitOnCommasWithBlanksBeforeEntries) {
  auto db = must_parse("classes = win, unix,,other\nclasses = more\nclasses =\n");
  EXPECT_EQ(db.classes, (std::vector<std::string>{"win", "unix", "other", "more"}));
}

TEST(P0fDbParser, LabelFieldsAndIds) {
  auto db = must_parse(
      "classes = win,unix\n"
      "[tcp:request]\n"
      "label = s:UNIX:Testix:1.x or newer (big)\n"
      "sig = *:64:0:*:*,*:::0\n"
      "label = g:win:Doors:\n"
      "sig = *:128:0:*:*,*:::0\n"
      "[tcp:response]\n"
      "label = s:unix:TESTIX:2.x\n"
      "sig = *:64:0:*:*,*:::0\n");
  ASSERT_EQ(db.labels.size(), 3u);
  const Label& a = db.labels[0];
  EXPECT_FALSE(a.generic);
  EXPECT_EQ(a.class_id, std::optional<std::uint32_t>(1));  // class names match case-insensitively
  EXPECT_EQ(db.names[a.name_id], "Testix");
  EXPECT_EQ(a.flavor, "1.x or newer (big)");
  EXPECT_EQ(a.label_id, 1u);
  EXPECT_FALSE(a.is_user_app());
  const Label& b = db.labels[1];
  EXPECT_TRUE(b.generic);
  EXPECT_EQ(b.class_id, std::optional<std::uint32_t>(0));
  EXPECT_EQ(b.flavor, "");
  EXPECT_EQ(b.label_id, 2u);
  // p0f's name lookup ignores case and keeps the first spelling.
  EXPECT_EQ(db.labels[2].name_id, a.name_id);
  EXPECT_EQ(db.names.size(), 2u);
  EXPECT_EQ(label_display(db, a), "Testix 1.x or newer (big)");
  EXPECT_EQ(label_display(db, b), "Doors");
  EXPECT_EQ(label_display(db, db.labels[2]), "Testix 2.x");
  EXPECT_EQ(find_name_id(db, "testix"), std::optional<std::uint32_t>(a.name_id));
  EXPECT_EQ(find_name_id(db, "Nope"), std::nullopt);
}

TEST(P0fDbParser, NamesMayUseEveryAllowedCharacter) {
  auto db = must_parse("classes = a\n[tcp:request]\nlabel = s:a:A b./-_!?()9:\nsig = *:64:0:*:*,*:::0\n");
  ASSERT_EQ(db.names.size(), 1u);
  EXPECT_EQ(db.names[0], "A b./-_!?()9");
}

TEST(P0fDbParser, UserlandLabelTakesSysOfClassesAndNames) {
  auto db = must_parse(
      "classes = win,unix\n"
      "[tcp:request]\n"
      "label = s:unix:Testix:\n"
      "sig = *:64:0:*:*,*:::0\n"
      "[http:request]\n"
      "label = s:!:Fetchy:2.0\n"
      "sys = testix, @WIN,Brandnew\n"
      "sig = *:Host::\n");
  ASSERT_EQ(db.labels.size(), 2u);
  const Label& app = db.labels[1];
  EXPECT_TRUE(app.is_user_app());
  ASSERT_EQ(app.sys.size(), 3u);
  EXPECT_EQ(app.sys[0], (SysRef{false, 0}));  // existing name, case-insensitive
  EXPECT_EQ(app.sys[1], (SysRef{true, 0}));   // class "win"
  EXPECT_EQ(app.sys[2], (SysRef{false, 2}));  // new name after Testix, Fetchy
  EXPECT_EQ(app.sys_text, (std::vector<std::string>{"testix", "@WIN", "Brandnew"}));
  EXPECT_EQ(db.names, (std::vector<std::string>{"Testix", "Fetchy", "Brandnew"}));
  EXPECT_TRUE(db.labels[0].sys.empty());
}

TEST(P0fDbParser, UaOsMapsKeywordsToCanonicalNames) {
  auto db = must_parse(
      "classes = a\n"
      "[tcp:request]\n"
      "label = s:a:Testix:\n"
      "sig = *:64:0:*:*,*:::0\n"
      "[http:request]\n"
      "ua_os = testix,Phoneos=[Pad, v2],Other OS\n");
  ASSERT_EQ(db.ua_os.size(), 3u);
  EXPECT_EQ(db.ua_os[0], (std::pair<std::string, std::string>{"Testix", "Testix"}));
  EXPECT_EQ(db.ua_os[1], (std::pair<std::string, std::string>{"Pad, v2", "Phoneos"}));
  EXPECT_EQ(db.ua_os[2], (std::pair<std::string, std::string>{"Other OS", "Other OS"}));
  EXPECT_EQ(db.names, (std::vector<std::string>{"Testix", "Phoneos", "Other OS"}));
}

TEST(P0fDbParser, MtuSectionFirstDefinitionWins) {
  auto db = must_parse(
      "[mtu]\n"
      "label = Link one\n"
      "sig = 1234\n"
      "sig = 65535\n"
      "label = Link two\n"
      "sig = 1234\n"
      "sig = 1\n");
  EXPECT_EQ(db.mtu_to_link.size(), 3u);
  EXPECT_EQ(db.mtu_to_link.at(1234), "Link one");
  EXPECT_EQ(db.mtu_to_link.at(65535), "Link one");
  EXPECT_EQ(db.mtu_to_link.at(1), "Link two");
  EXPECT_TRUE(db.labels.empty());  // [mtu] labels are link names, not OS labels
}

TEST(P0fDbParser, SectionsMayRepeatAndAccumulate) {
  auto db = must_parse(
      "classes = a\n"
      "[tcp:request]\nlabel = s:a:One:\nsig = *:64:0:*:*,*:mss::0\n"
      "[tcp:request]\nlabel = s:a:Two:\nsig = *:64:0:*:*,*:ws::0\n");
  ASSERT_EQ(db.tcp_request.size(), 2u);
  EXPECT_EQ(label_display(db, *db.tcp_request[1].label), "Two");
}

TEST(P0fDbParser, RecordsPointAtTheirLabelsAndSurviveMoves) {
  std::string text = "classes = a\n[tcp:request]\n";
  // Enough labels to force the label vector to reallocate during parsing.
  for (int i = 0; i < 40; ++i) {
    text += "label = s:a:N" + std::to_string(i) + ":\n";
    text += "sig = *:64:0:" + std::to_string(1000 + i) + ":*,*:::0\n";
  }
  auto db = must_parse(text);
  ASSERT_EQ(db.tcp_request.size(), 40u);
  P0fDb moved = std::move(db);
  for (std::size_t i = 0; i < moved.tcp_request.size(); ++i) {
    ASSERT_EQ(moved.tcp_request[i].label, &moved.labels[i]);
    EXPECT_EQ(label_display(moved, *moved.tcp_request[i].label), "N" + std::to_string(i));
  }
}

// --- TCP signature syntax ------------------------------------------------------

TEST(P0fDbParser, TcpSignatureFields) {
  const auto s = tcp_sig("4:64:12:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0");
  EXPECT_EQ(s.ip_ver, std::optional<std::uint8_t>(4));
  EXPECT_EQ(s.ittl, 64);
  EXPECT_FALSE(s.bad_ttl);
  EXPECT_EQ(s.ip_opt_len, 12);
  EXPECT_EQ(s.mss, std::optional<std::uint16_t>(1460));
  EXPECT_EQ(s.win_type, WinType::kMss);
  EXPECT_EQ(s.win, 44);
  EXPECT_EQ(s.wscale, std::optional<std::uint8_t>(7));
  EXPECT_EQ(s.olayout, (std::vector<std::uint8_t>{ftcp::kOptMss, ftcp::kOptSok, ftcp::kOptTs,
                                                  ftcp::kOptNop, ftcp::kOptWs}));
  EXPECT_EQ(s.opt_eol_pad, 0);
  EXPECT_EQ(s.quirks, std::uint32_t{ftcp::kQuirkDf | ftcp::kQuirkNzId});
  EXPECT_EQ(s.payload, std::optional<bool>(false));
}

TEST(P0fDbParser, TcpWildcardsAndVersions) {
  const auto s = tcp_sig("*:255:0:*:*,*:::*");
  EXPECT_EQ(s.ip_ver, std::nullopt);
  EXPECT_EQ(s.ittl, 255);
  EXPECT_EQ(s.mss, std::nullopt);
  EXPECT_EQ(s.win_type, WinType::kAny);
  EXPECT_EQ(s.wscale, std::nullopt);
  EXPECT_TRUE(s.olayout.empty());
  EXPECT_EQ(s.quirks, 0u);
  EXPECT_EQ(s.payload, std::nullopt);
  EXPECT_EQ(tcp_sig("6:64:0:0:0,0:::+").ip_ver, std::optional<std::uint8_t>(6));
  EXPECT_EQ(tcp_sig("6:64:0:0:0,0:::+").payload, std::optional<bool>(true));
}

TEST(P0fDbParser, TcpTtlForms) {
  const auto dist = tcp_sig("*:60+5:0:*:*,*:::0");
  EXPECT_EQ(dist.ittl, 65);
  EXPECT_FALSE(dist.bad_ttl);
  EXPECT_EQ(tcp_sig("*:250+5:0:*:*,*:::0").ittl, 255);
  const auto bad = tcp_sig("*:64-:7:*:*,*:::0");
  EXPECT_EQ(bad.ittl, 64);
  EXPECT_TRUE(bad.bad_ttl);
  // p0f would read this olen as 0 (it skips a character after "-"); we read it as written.
  EXPECT_EQ(bad.ip_opt_len, 7);
}

TEST(P0fDbParser, TcpWindowForms) {
  auto s = tcp_sig("*:64:0:*:65535,0:::0");
  EXPECT_EQ(s.win_type, WinType::kNormal);
  EXPECT_EQ(s.win, 65535);
  s = tcp_sig("*:64:0:*:%8192,0:::0");
  EXPECT_EQ(s.win_type, WinType::kMod);
  EXPECT_EQ(s.win, 8192);
  s = tcp_sig("*:64:0:*:mtu*1000,255:::0");
  EXPECT_EQ(s.win_type, WinType::kMtu);
  EXPECT_EQ(s.win, 1000);
  EXPECT_EQ(s.wscale, std::optional<std::uint8_t>(255));
  s = tcp_sig("*:64:0:*:mss*1,0:::0");
  EXPECT_EQ(s.win_type, WinType::kMss);
  EXPECT_EQ(s.win, 1);
}

TEST(P0fDbParser, TcpEveryOptionToken) {
  const auto s = tcp_sig("*:64:0:*:*,*:nop,mss,ws,sok,sack,ts,?0,?255,?30,eol+255::0");
  EXPECT_EQ(s.olayout,
            (std::vector<std::uint8_t>{ftcp::kOptNop, ftcp::kOptMss, ftcp::kOptWs, ftcp::kOptSok,
                                       ftcp::kOptSack, ftcp::kOptTs, 0, 255, 30, ftcp::kOptEol}));
  EXPECT_EQ(s.opt_eol_pad, 255);
  EXPECT_EQ(tcp_sig("*:64:0:*:*,*:eol+0::0").olayout, (std::vector<std::uint8_t>{ftcp::kOptEol}));
}

TEST(P0fDbParser, TcpTwentyFourOptionsIsTheLimit) {
  std::string opts = "nop";
  for (int i = 1; i < 24; ++i) opts += ",nop";
  EXPECT_EQ(tcp_sig("*:64:0:*:*,*:" + opts + "::0").olayout.size(), 24u);
}

TEST(P0fDbParser, TcpEveryQuirkToken) {
  const struct {
    const char* token;
    std::uint32_t bit;
  } cases[] = {
      {"df", ftcp::kQuirkDf},           {"id+", ftcp::kQuirkNzId},         {"id-", ftcp::kQuirkZeroId},
      {"ecn", ftcp::kQuirkEcn},         {"0+", ftcp::kQuirkNzMbz},         {"flow", ftcp::kQuirkFlow},
      {"seq-", ftcp::kQuirkZeroSeq},    {"ack+", ftcp::kQuirkNzAck},       {"ack-", ftcp::kQuirkZeroAck},
      {"uptr+", ftcp::kQuirkNzUrg},     {"urgf+", ftcp::kQuirkUrg},        {"pushf+", ftcp::kQuirkPush},
      {"ts1-", ftcp::kQuirkOptZeroTs1}, {"ts2+", ftcp::kQuirkOptNzTs2},    {"opt+", ftcp::kQuirkOptEolNz},
      {"exws", ftcp::kQuirkOptExws},    {"bad", ftcp::kQuirkOptBad},
  };
  std::uint32_t all = 0;
  std::string list;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.token);
    EXPECT_EQ(tcp_sig(std::string("*:64:0:*:*,*::") + c.token + ":0").quirks, c.bit);
    all |= c.bit;
    list += list.empty() ? c.token : std::string(",") + c.token;
  }
  // A '*' signature may carry the quirks of both IP versions.
  EXPECT_EQ(tcp_sig("*:64:0:*:*,*::" + list + ":0").quirks, all);
  // Version-neutral quirks are fine on both versions.
  EXPECT_EQ(tcp_sig("6:64:0:*:*,*::flow,ecn:0").quirks, std::uint32_t{ftcp::kQuirkFlow | ftcp::kQuirkEcn});
  EXPECT_EQ(tcp_sig("4:64:0:*:*,*::df,id-,0+,ecn:0").quirks,
            std::uint32_t{ftcp::kQuirkDf | ftcp::kQuirkZeroId | ftcp::kQuirkNzMbz | ftcp::kQuirkEcn});
}

// --- HTTP signature syntax -----------------------------------------------------

TEST(P0fDbParser, HttpSignatureFields) {
  const auto s = http_sig("1:Host,?Referer,Accept=[a/b, c:d;q=1],X_Y-z:Keep-Alive,DNT:Fetchy/ (x; y)");
  EXPECT_EQ(s.http_ver, std::optional<std::uint8_t>(1));
  ASSERT_EQ(s.horder.size(), 4u);
  EXPECT_EQ(s.horder[0].name, "Host");
  EXPECT_FALSE(s.horder[0].optional);
  EXPECT_EQ(s.horder[0].value, std::nullopt);
  EXPECT_EQ(s.horder[1].name, "Referer");
  EXPECT_TRUE(s.horder[1].optional);
  EXPECT_EQ(s.horder[2].name, "Accept");
  EXPECT_EQ(s.horder[2].value, std::optional<std::string>("a/b, c:d;q=1"));
  EXPECT_EQ(s.horder[3].name, "X_Y-z");
  EXPECT_EQ(s.habsent, (std::vector<std::string>{"Keep-Alive", "DNT"}));
  EXPECT_EQ(s.expsw, "Fetchy/ (x; y)");
}

TEST(P0fDbParser, HttpVersionsAndEmptyParts) {
  auto s = http_sig("0:::");
  EXPECT_EQ(s.http_ver, std::optional<std::uint8_t>(0));
  EXPECT_TRUE(s.horder.empty());
  EXPECT_TRUE(s.habsent.empty());
  EXPECT_EQ(s.expsw, "");
  s = http_sig("*:?Opt=[v]::");
  EXPECT_EQ(s.http_ver, std::nullopt);
  ASSERT_EQ(s.horder.size(), 1u);
  EXPECT_TRUE(s.horder[0].optional);
  EXPECT_EQ(s.horder[0].value, std::optional<std::string>("v"));
}

TEST(P0fDbParser, HttpThirtyTwoHeadersIsTheLimit) {
  std::string hdrs = "H0";
  for (int i = 1; i < 32; ++i) hdrs += ",H" + std::to_string(i);
  const auto s = http_sig("*:" + hdrs + ":" + hdrs + ":");
  EXPECT_EQ(s.horder.size(), 32u);
  EXPECT_EQ(s.habsent.size(), 32u);
}

TEST(P0fDbParser, HttpResponseSectionAndGenericLabels) {
  auto db = must_parse("classes = a\n[http:response]\nlabel = g:a:Srv:\nsig = *:Server::\n");
  ASSERT_EQ(db.http_response.size(), 1u);
  EXPECT_TRUE(db.http_response[0].label->generic);
  EXPECT_EQ(db.http_response[0].raw, "*:Server::");
  EXPECT_EQ(db.http_response[0].line_no, 4u);
}

// --- Errors: one case per kind, with exact line and message ---------------------

struct ErrorCase {
  const char* name;
  std::string text;
  std::uint32_t line;
  std::string message;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class P0fDbParserError : public testing::TestWithParam<ErrorCase> {};

TEST_P(P0fDbParserError, ReportsLineAndMessage) {
  const auto& c = GetParam();
  const auto e = must_fail(c.text);
  EXPECT_EQ(e.file, "test.fp");
  EXPECT_EQ(e.line, c.line);
  EXPECT_EQ(e.message, c.message);
  EXPECT_EQ(e.to_string(), "test.fp:" + std::to_string(c.line) + ": " + c.message);
}

std::string tcp(const std::string& sig) { return kTcpHead + "sig = " + sig + "\n"; }
std::string http(const std::string& sig) { return kHttpHead + "sig = " + sig + "\n"; }

// "item,item,...": n times.
std::string repeat_list(const std::string& item, int n) {
  std::string out = item;
  for (int i = 1; i < n; ++i) out += "," + item;
  return out;
}

// "item,item1,item2,...": n distinct entries.
std::string many(const std::string& item, int n) {
  std::string out = item;
  for (int i = 1; i < n; ++i) out += "," + item + std::to_string(i);
  return out;
}

const ErrorCase kErrorCases[] = {
    // Lines and sections.
    {"LineTooLong", "; ok\n" + std::string(5000, 'x') + "\n", 2, "line is longer than 4096 bytes"},
    {"NulByte", std::string("classes = a\n; x\0y\n", 18), 2, "NUL byte in line"},
    {"ControlCharacter", "classes = a\x01\n", 1, "control character 0x01 in line"},
    {"MalformedSection", "[tcp]\n", 1, "malformed section header '[tcp]'"},
    {"UnknownModule", "[tls:request]\n", 1, "unknown fingerprinting module 'tls' (expected mtu, tcp or http)"},
    {"UnknownDirection", "[tcp:sideways]\n", 1,
     "unknown traffic direction 'sideways]' (expected request] or response])"},
    {"TrailingTextAfterSection", "[mtu] x\n", 1, "malformed section header '[mtu] x'"},
    {"NotNameValue", "classes win\n", 1, "expected 'name = value' or a [section] header, got 'classes win'"},
    {"UnknownField", "colour = red\n", 1,
     "unknown field 'colour' (expected classes, ua_os, label, sys or sig)"},
    // classes
    {"ClassesAfterSection", "[mtu]\nclasses = a\n", 2, "'classes' must come before the first section"},
    {"MalformedClass", "classes = win,un ix\n", 1, "malformed class entry 'un ix'"},
    {"ClassesTrailingComma", "classes = win,unix,\n", 1, "empty class entry at the end of 'win,unix,'"},
    // ua_os
    {"UaOsOutsideHttpRequest", "[http:response]\nua_os = X\n", 2,
     "'ua_os' is only allowed in [http:request], before its first label"},
    {"UaOsAfterLabel", "classes = a\n[http:request]\nlabel = s:a:X:\nua_os = X\n", 4,
     "'ua_os' is only allowed in [http:request], before its first label"},
    {"UaOsMalformedName", "[http:request]\nua_os = X,#Y\n", 2, "malformed system name in ua_os at '#Y'"},
    {"UaOsMissingBracket", "[http:request]\nua_os = X=Y\n", 2, "missing '[' after '=' in ua_os"},
    {"UaOsMalformedKeyword", "[http:request]\nua_os = X=[Y\n", 2,
     "malformed ua_os keyword at '=[Y' (expected Name=[keyword])"},
    {"UaOsJunkAfterKeyword", "[http:request]\nua_os = X=[Y]Z\n", 2, "malformed ua_os entry at 'Z'"},
    // label
    {"LabelOutsideSection", "label = s:a:X:\n", 1, "'label' outside a section"},
    {"LabelMissingType", "classes = a\n[tcp:request]\nlabel = x:a:X:\n", 3,
     "malformed label 'x:a:X:' (expected s|g:class|!:name:flavor)"},
    {"LabelMalformedClass", "classes = a\n[tcp:request]\nlabel = s:a-b:X:\n", 3, "malformed class in label 's:a-b:X:'"},
    {"LabelUnknownClass", "classes = a\n[tcp:request]\nlabel = s:b:X:\n", 3, "unknown class 'b' in label"},
    {"LabelMalformedName", "classes = a\n[tcp:request]\nlabel = s:a:X#1:\n", 3,
     "malformed name in label 's:a:X#1:' (names may contain letters, digits and \" ./-_!?()\")"},
    {"LabelMissingFlavorColon", "classes = a\n[tcp:request]\nlabel = s:a:X\n", 3,
     "malformed name in label 's:a:X' (names may contain letters, digits and \" ./-_!?()\")"},
    {"LabelFlavorNotPrintable", "classes = a\n[tcp:request]\nlabel = s:a:X:caf\xc3\xa9\n", 3,
     "flavor 'caf\xc3\xa9' is not printable ASCII"},
    {"LabelWhereSysExpected", "[tcp:request]\nlabel = s:!:X:\nlabel = s:!:Y:\n", 3,
     "expected 'sys' after the userland label in line 2"},
    {"MtuLabelEmpty", "[mtu]\nlabel =\n", 2, "empty MTU label"},
    {"MtuLabelNotPrintable", "[mtu]\nlabel = \xff\n", 2, "MTU label '\xff' is not printable ASCII"},
    // sys
    {"SysWithoutUserlandLabel", "classes = a\n[tcp:request]\nlabel = s:a:X:\nsys = @a\n", 4,
     "'sys' is only allowed right after a userland ('!') label"},
    {"SysMalformedEntry", "classes = a\n[tcp:request]\nlabel = s:!:X:\nsys = @a,Y#\n", 4, "malformed sys entry 'Y#'"},
    {"SysTrailingComma", "classes = a\n[tcp:request]\nlabel = s:!:X:\nsys = @a, Y,\n", 4,
     "empty sys entry at the end of '@a, Y,'"},
    {"SysUnknownClass", "classes = a\n[tcp:request]\nlabel = s:!:X:\nsys = @b\n", 4, "unknown class 'b' in sys"},
    // sig placement
    {"SigOutsideSection", "sig = 1500\n", 1, "'sig' outside a section"},
    {"SigBeforeLabel", "[mtu]\nsig = 1500\n", 2, "'sig' before any 'label' in this section"},
    {"SigWhereSysExpected", "[tcp:request]\nlabel = s:!:X:\nsig = *:64:0:*:*,*:::0\n", 3,
     "expected 'sys' after the userland label in line 2"},
    // [mtu]
    {"MtuMalformed", "[mtu]\nlabel = L\nsig = 15x0\n", 3, "malformed MTU value '15x0'"},
    {"MtuOutOfRange", "[mtu]\nlabel = L\nsig = 0\n", 3, "bogus MTU value '0' (must be 1..65535)"},
    {"MtuTooLarge", "[mtu]\nlabel = L\nsig = 99999999999999\n", 3,
     "bogus MTU value '99999999999999' (must be 1..65535)"},
    // [tcp:*] signatures
    {"TcpFieldCount", tcp("4:64:0:*:*,*::"), 4,
     "malformed TCP signature: expected 8 ':'-separated fields "
     "(ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass), got 7"},
    {"TcpIpVersion", tcp("5:64:0:*:*,*:::0"), 4, "unrecognized IP version '5' (expected 4, 6 or *)"},
    {"TcpTtlMalformed", tcp("*:64x:0:*:*,*:::0"), 4, "malformed initial TTL '64x' (expected N, N+dist or N-)"},
    {"TcpTtlEmpty", tcp("*::0:*:*,*:::0"), 4, "malformed initial TTL '' (expected N, N+dist or N-)"},
    {"TcpTtlDistMalformed", tcp("*:64+:0:*:*,*:::0"), 4,
     "malformed initial TTL '64+' (expected N, N+dist or N-)"},
    {"TcpTtlZero", tcp("*:0:0:*:*,*:::0"), 4, "bogus initial TTL '0' (must be 1..255)"},
    {"TcpTtlTooLarge", tcp("*:256:0:*:*,*:::0"), 4, "bogus initial TTL '256' (must be 1..255)"},
    {"TcpTtlPlusDistTooLarge", tcp("*:250+6:0:*:*,*:::0"), 4,
     "bogus initial TTL '250+6' (TTL plus distance must be at most 255)"},
    {"TcpOlenMalformed", tcp("*:64::*:*,*:::0"), 4, "malformed IP option length ''"},
    {"TcpOlenTooLarge", tcp("*:64:256:*:*,*:::0"), 4, "bogus IP option length '256' (must be 0..255)"},
    {"TcpMssMalformed", tcp("*:64:0:-1:*,*:::0"), 4, "malformed MSS '-1' (expected N or *)"},
    {"TcpMssTooLarge", tcp("*:64:0:65536:*,*:::0"), 4, "bogus MSS '65536' (must be 0..65535)"},
    {"TcpWindowWithoutScale", tcp("*:64:0:*:8192:::0"), 4,
     "malformed window size and scale '8192' (expected wsize,scale)"},
    {"TcpWindowMalformed", tcp("*:64:0:*:8k,0:::0"), 4,
     "malformed window size '8k' (expected N, *, %N, mss*N or mtu*N)"},
    {"TcpWindowEmpty", tcp("*:64:0:*:,0:::0"), 4, "malformed window size ''"},
    {"TcpWindowTooLarge", tcp("*:64:0:*:65536,0:::0"), 4, "bogus window size '65536' (must be 0..65535)"},
    {"TcpWindowModulusTooSmall", tcp("*:64:0:*:%1,0:::0"), 4, "bogus window modulus '%1' (must be 2..65535)"},
    {"TcpWindowModulusMalformed", tcp("*:64:0:*:%,0:::0"), 4, "malformed window size '%'"},
    {"TcpWindowMultiplierZero", tcp("*:64:0:*:mss*0,0:::0"), 4,
     "bogus MSS/MTU multiplier 'mss*0' (must be 1..1000)"},
    {"TcpWindowMultiplierTooLarge", tcp("*:64:0:*:mtu*1001,0:::0"), 4,
     "bogus MSS/MTU multiplier 'mtu*1001' (must be 1..1000)"},
    {"TcpScaleMalformed", tcp("*:64:0:*:8192,x:::0"), 4, "malformed window scale 'x' (expected N or *)"},
    {"TcpScaleTooLarge", tcp("*:64:0:*:8192,300:::0"), 4, "bogus window scale '300' (must be 0..255)"},
    {"TcpTooManyOptions", tcp("*:64:0:*:*,*:" + repeat_list("nop", 25) + "::0"), 4,
     "too many TCP options (at most 24)"},
    {"TcpEolWithoutPad", tcp("*:64:0:*:*,*:mss,eol::0"), 4, "malformed EOL option 'eol' (expected eol+N)"},
    {"TcpEolNotLast", tcp("*:64:0:*:*,*:eol+0,mss::0"), 4, "EOL must be the last option"},
    {"TcpEolPadTooLarge", tcp("*:64:0:*:*,*:eol+256::0"), 4, "bogus EOL padding 'eol+256' (must be 0..255)"},
    {"TcpUnknownOptionMalformed", tcp("*:64:0:*:*,*:?x::0"), 4, "malformed '?' option '?x' (expected ?N)"},
    {"TcpUnknownOptionTooLarge", tcp("*:64:0:*:*,*:?256::0"), 4, "bogus '?' option '?256' (must be 0..255)"},
    {"TcpUnrecognizedOption", tcp("*:64:0:*:*,*:mss,wscale::0"), 4, "unrecognized TCP option 'wscale'"},
    {"TcpEmptyOption", tcp("*:64:0:*:*,*:mss,::0"), 4, "unrecognized TCP option ''"},
    {"TcpUnrecognizedQuirk", tcp("*:64:0:*:*,*::df,weird:0"), 4, "unrecognized quirk 'weird'"},
    {"TcpQuirkDfOnIpv6", tcp("6:64:0:*:*,*::df:0"), 4, "quirk 'df' is not valid for IPv6"},
    {"TcpQuirkNzIdOnIpv6", tcp("6:64:0:*:*,*::id+:0"), 4, "quirk 'id+' is not valid for IPv6"},
    {"TcpQuirkZeroIdOnIpv6", tcp("6:64:0:*:*,*::id-:0"), 4, "quirk 'id-' is not valid for IPv6"},
    {"TcpQuirkMbzOnIpv6", tcp("6:64:0:*:*,*::0+:0"), 4, "quirk '0+' is not valid for IPv6"},
    {"TcpQuirkFlowOnIpv4", tcp("4:64:0:*:*,*::flow:0"), 4, "quirk 'flow' is not valid for IPv4"},
    {"TcpPayloadClass", tcp("*:64:0:*:*,*:::1"), 4, "malformed payload class '1' (expected 0, + or *)"},
    {"TcpAlreadyCovered",
     kTcpHead + "sig = *:64:0:1460:8192,0:mss::0\n; comment\nsig = *:64:0:1460:8192,0:mss::0\n", 6,
     "signature is already covered by line 4"},
    // [http:*] signatures
    {"HttpMalformed", http("1"), 5, "malformed HTTP signature (expected ver:horder:habsent:expsw)"},
    {"HttpBadVersion", http("2:Host::"), 5, "bad HTTP version '2' (expected 0, 1 or *)"},
    {"HttpTruncated", http("1:Host"), 5, "truncated HTTP signature (expected ver:horder:habsent:expsw)"},
    {"HttpTruncatedHabsent", http("1:Host:DNT"), 5,
     "truncated HTTP signature (expected ver:horder:habsent:expsw)"},
    {"HttpTooManyHeaders", http("*:" + many("H", 33) + "::"), 5, "too many headers in horder (at most 32)"},
    {"HttpTooManyAbsent", http("*::" + many("H", 33) + ":"), 5, "too many headers in habsent (at most 32)"},
    {"HttpMalformedHeaderName", http("*:Host,Acc ept::"), 5, "malformed horder at ' ept::'"},
    {"HttpEmptyHeaderName", http("*:Host,?::"), 5, "malformed header name in horder at '::'"},
    {"HttpOptionalInHabsent", http("*::?DNT:"), 5, "malformed header name in habsent at '?DNT:'"},
    {"HttpValueInHabsent", http("*::DNT=[1]:"), 5, "malformed habsent at '=[1]:'"},
    {"HttpMissingBracket", http("*:Accept=x::"), 5, "missing '[' after '=' in header 'Accept'"},
    {"HttpUnterminatedValue", http("*:Accept=[x::"), 5,
     "malformed value for header 'Accept' (expected Name=[value])"},
    {"HttpEmptyValue", http("*:Accept=[]::"), 5, "malformed value for header 'Accept' (expected Name=[value])"},
    {"HttpTrailingComma", http("*:Host,::"), 5, "trailing ',' in horder"},
    {"HttpColonInSoftware", http("*:Host::a:b"), 5, "malformed expected software 'a:b' (':' is not allowed)"},
    {"HttpAlreadyCovered", kHttpHead + "sig = *:Host,Accept::\nsig = 1:Host,Accept,DNT::x\n", 6,
     "signature is already covered by line 5"},
};

INSTANTIATE_TEST_SUITE_P(AllKinds, P0fDbParserError, testing::ValuesIn(kErrorCases),
                         [](const testing::TestParamInfo<ErrorCase>& p) { return std::string(p.param.name); });

TEST(P0fDbParser, MissingFileIsReportedWithoutLine) {
  const std::string path = "/nonexistent/dir/p0f.fp";
  auto r = load_p0f_db(path);
  ASSERT_TRUE(std::holds_alternative<DbError>(r));
  const auto& e = std::get<DbError>(r);
  EXPECT_EQ(e.line, 0u);
  EXPECT_EQ(e.to_string(), path + ": cannot open: No such file or directory");
}

TEST(P0fDbParser, DirectoryIsReportedAsUnreadable) {
  const auto dir = std::filesystem::temp_directory_path();
  auto r = load_p0f_db(dir.string());
  ASSERT_TRUE(std::holds_alternative<DbError>(r));
  EXPECT_EQ(std::get<DbError>(r).to_string(), dir.string() + ": cannot read: Is a directory");
}

TEST(P0fDbParser, LoadFromFileReportsPathAndLine) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("huginn_db_test_" + std::to_string(::getpid()) + ".fp");
  {
    std::ofstream out(path);
    out << "classes = a\n[tcp:request]\nlabel = s:a:X:\nsig = *:64:0:*:*,300:::0\n";
  }
  auto r = load_p0f_db(path.string());
  std::filesystem::remove(path);
  ASSERT_TRUE(std::holds_alternative<DbError>(r));
  EXPECT_EQ(std::get<DbError>(r).to_string(),
            path.string() + ":4: bogus window scale '300' (must be 0..255)");
}

// --- "Already covered": p0f's pattern-vs-pattern check ---------------------------

// Parses two TCP request signatures (each under its own label) and reports
// whether the second was refused as covered by the first.
bool tcp_covered(const std::string& first, const std::string& second, char first_type = 's') {
  const std::string text = std::string("classes = a\n[tcp:request]\nlabel = ") + first_type +
                           ":a:One:\nsig = " + first + "\nlabel = s:a:Two:\nsig = " + second + "\n";
  auto r = parse_p0f_db(text, "test.fp");
  if (auto* e = std::get_if<DbError>(&r)) {
    EXPECT_EQ(e->line, 6u) << e->to_string();
    EXPECT_EQ(e->message, "signature is already covered by line 4");
    return true;
  }
  return false;
}

TEST(P0fDbCoverage, IdenticalSignatureIsCovered) {
  EXPECT_TRUE(tcp_covered("4:64:0:1460:8192,2:mss,ws:df:0", "4:64:0:1460:8192,2:mss,ws:df:0"));
}

TEST(P0fDbCoverage, GenericSignatureNeverCovers) {
  EXPECT_FALSE(tcp_covered("4:64:0:1460:8192,2:mss,ws:df:0", "4:64:0:1460:8192,2:mss,ws:df:0", 'g'));
}

TEST(P0fDbCoverage, OtherDirectionDoesNotCount) {
  auto db = must_parse(
      "classes = a\n[tcp:request]\nlabel = s:a:X:\nsig = *:64:0:*:*,*:::0\n"
      "[tcp:response]\nlabel = s:a:X:\nsig = *:64:0:*:*,*:::0\n");
  EXPECT_EQ(db.tcp_request.size(), 1u);
  EXPECT_EQ(db.tcp_response.size(), 1u);
}

TEST(P0fDbCoverage, LayoutQuirksPaddingAndOptionLengthMustBeEqual) {
  EXPECT_FALSE(tcp_covered("*:64:0:*:*,*:mss::0", "*:64:0:*:*,*:mss,nop::0"));
  EXPECT_FALSE(tcp_covered("*:64:0:*:*,*:mss:ecn:0", "*:64:0:*:*,*:mss::0"));
  EXPECT_FALSE(tcp_covered("4:64:0:*:*,*:mss:df:0", "4:64:0:*:*,*:mss::0"));
  EXPECT_FALSE(tcp_covered("*:64:0:*:*,*:eol+1::0", "*:64:0:*:*,*:eol+2::0"));
  EXPECT_FALSE(tcp_covered("*:64:4:*:*,*:::0", "*:64:0:*:*,*:::0"));
}

TEST(P0fDbCoverage, WildcardVersionDropsOtherVersionQuirks) {
  // Against a '6' (or '*') signature, a '*' signature's IPv4-only quirks vanish...
  EXPECT_TRUE(tcp_covered("*:64:0:*:*,*::df,id+:0", "6:64:0:*:*,*:::0"));
  EXPECT_TRUE(tcp_covered("*:64:0:*:*,*::df:0", "*:64:0:*:*,*:::0"));
  // ...and against a '4' signature, 'flow' does.
  EXPECT_TRUE(tcp_covered("*:64:0:*:*,*::flow:0", "4:64:0:*:*,*:::0"));
  EXPECT_FALSE(tcp_covered("*:64:0:*:*,*::flow:0", "6:64:0:*:*,*:::0"));
  // p0f does not compare the IP version itself.
  EXPECT_TRUE(tcp_covered("4:64:0:*:*,*:::0", "6:64:0:*:*,*:::0"));
}

TEST(P0fDbCoverage, TtlMustBeWithinMaxDistance) {
  EXPECT_TRUE(tcp_covered("*:64:0:*:*,*:::0", "*:29:0:*:*,*:::0"));   // 35 hops
  EXPECT_FALSE(tcp_covered("*:64:0:*:*,*:::0", "*:28:0:*:*,*:::0"));  // 36 hops: fuzzy
  EXPECT_FALSE(tcp_covered("*:64:0:*:*,*:::0", "*:65:0:*:*,*:::0"));
  // A randomised ("-") TTL has no distance limit, but still no lower TTL.
  EXPECT_TRUE(tcp_covered("*:255-:0:*:*,*:::0", "*:1:0:*:*,*:::0"));
  EXPECT_FALSE(tcp_covered("*:64-:0:*:*,*:::0", "*:128:0:*:*,*:::0"));
  // "+dist" is added before comparing.
  EXPECT_TRUE(tcp_covered("*:60+4:0:*:*,*:::0", "*:64:0:*:*,*:::0"));
}

TEST(P0fDbCoverage, WildcardsCoverValuesButNotTheReverse) {
  EXPECT_TRUE(tcp_covered("*:64:0:*:*,*:::*", "*:64:0:1460:8192,3:::+"));
  EXPECT_FALSE(tcp_covered("*:64:0:1460:*,*:::*", "*:64:0:*:*,*:::*"));
  EXPECT_FALSE(tcp_covered("*:64:0:*:*,3:::*", "*:64:0:*:*,*:::*"));
  EXPECT_FALSE(tcp_covered("*:64:0:*:*,*:::0", "*:64:0:*:*,*:::*"));
  EXPECT_FALSE(tcp_covered("*:64:0:*:8192,*:::*", "*:64:0:*:*,*:::*"));
}

TEST(P0fDbCoverage, WindowForms) {
  // A modulus covers every literal multiple of it.
  EXPECT_TRUE(tcp_covered("*:64:0:*:%512,*:::0", "*:64:0:*:16384,*:::0"));
  EXPECT_FALSE(tcp_covered("*:64:0:*:%512,*:::0", "*:64:0:*:16385,*:::0"));
  // Non-literal windows only match the same form and value.
  EXPECT_TRUE(tcp_covered("*:64:0:*:%512,*:::0", "*:64:0:*:%512,*:::0"));
  EXPECT_FALSE(tcp_covered("*:64:0:*:%512,*:::0", "*:64:0:*:%1024,*:::0"));
  EXPECT_FALSE(tcp_covered("*:64:0:*:*,*:::0", "*:64:0:*:mss*4,*:::0"));
  // mss*N covers a literal window that is N times the later signature's MSS...
  EXPECT_TRUE(tcp_covered("*:64:0:*:mss*4,*:::0", "*:64:0:1460:5840,*:::0"));
  // ...or N times the MSS of a 1500-byte Ethernet link (1460 for IPv4).
  EXPECT_TRUE(tcp_covered("*:64:0:*:mss*2,*:::0", "*:64:0:1000:2920,*:::0"));
  // IPv6 adds the 1440 candidate.
  EXPECT_TRUE(tcp_covered("*:64:0:*:mss*2,*:::0", "6:64:0:1000:2880,*:::0"));
  EXPECT_FALSE(tcp_covered("*:64:0:*:mss*2,*:::0", "4:64:0:1000:2880,*:::0"));
  // mtu*N: N times MSS + 40, or N times 1500.
  EXPECT_TRUE(tcp_covered("*:64:0:*:mtu*4,*:::0", "*:64:0:1460:6000,*:::0"));
  EXPECT_TRUE(tcp_covered("*:64:0:*:mtu*3,*:::0", "*:64:0:1000:4500,*:::0"));
  EXPECT_FALSE(tcp_covered("*:64:0:*:mss*4,*:::0", "*:64:0:1460:6000,*:::0"));
  // No multiplier without an MSS of at least 100.
  EXPECT_FALSE(tcp_covered("*:64:0:*:mss*4,*:::0", "*:64:0:*:5840,*:::0"));
  EXPECT_FALSE(tcp_covered("*:64:0:*:mss*4,*:::0", "*:64:0:99:396,*:::0"));
}

TEST(P0fDbCoverage, ReportsTheFirstCoveringLine) {
  const auto e = must_fail(
      "classes = a\n[tcp:request]\nlabel = g:a:G:\nsig = *:64:0:*:*,*:::0\n"
      "label = s:a:A:\nsig = *:64:0:*:*,*:mss::0\nsig = *:64:0:*:8192,*:::0\n"
      "sig = *:64:0:*:*,*:::*\nsig = *:64:0:0:8192,0:::0\n");
  EXPECT_EQ(e.line, 9u);
  EXPECT_EQ(e.message, "signature is already covered by line 7");
}

bool http_covered(const std::string& first, const std::string& second, char first_type = 's') {
  const std::string text = std::string("classes = a\n[http:request]\nlabel = ") + first_type +
                           ":a:One:\nsig = " + first + "\nlabel = s:a:Two:\nsig = " + second + "\n";
  auto r = parse_p0f_db(text, "test.fp");
  if (auto* e = std::get_if<DbError>(&r)) {
    EXPECT_EQ(e->line, 6u) << e->to_string();
    EXPECT_EQ(e->message, "signature is already covered by line 4");
    return true;
  }
  return false;
}

TEST(P0fDbCoverage, HttpOrderVersionAndGeneric) {
  EXPECT_TRUE(http_covered("*:A,B::", "1:A,X,B::"));
  EXPECT_FALSE(http_covered("*:A,B::", "1:B,A::"));
  EXPECT_FALSE(http_covered("*:A,B::", "1:A::"));
  EXPECT_FALSE(http_covered("1:A::", "0:A::"));
  EXPECT_FALSE(http_covered("1:A::", "*:A::"));
  EXPECT_FALSE(http_covered("*:A::", "*:A::", 'g'));
  // Header names are case-sensitive in p0f.
  EXPECT_FALSE(http_covered("*:Host::", "*:host::"));
}

TEST(P0fDbCoverage, HttpOptionalHeaders) {
  EXPECT_TRUE(http_covered("*:A,?B,C::", "*:A,C::"));
  EXPECT_TRUE(http_covered("*:A,?B,C::", "*:A,B,C::"));
  EXPECT_FALSE(http_covered("*:A,?B,C::", "*:A,C,B::"));  // B present but out of order
  // A required header must be required in the later signature too.
  EXPECT_FALSE(http_covered("*:A,B::", "*:A,?B::"));
}

TEST(P0fDbCoverage, HttpValuesAreSubstrings) {
  EXPECT_TRUE(http_covered("*:Accept=[html]::", "*:Accept=[text/html]::"));
  EXPECT_FALSE(http_covered("*:Accept=[text/html]::", "*:Accept=[html]::"));
  EXPECT_FALSE(http_covered("*:Accept=[html]::", "*:Accept::"));
  EXPECT_TRUE(http_covered("*:Accept::", "*:Accept=[x]::"));
}

TEST(P0fDbCoverage, HttpAbsentHeaders) {
  // Forbidding a header the later signature requires rules the match out.
  EXPECT_FALSE(http_covered("*:A:B:", "*:A,B::"));
  // For this check, the earlier signature's forbidden headers must also be
  // forbidden by the later one.
  EXPECT_FALSE(http_covered("*:A:B:", "*:A::"));
  EXPECT_TRUE(http_covered("*:A:B:", "*:A:C,B:"));
  EXPECT_TRUE(http_covered("*:A::", "*:A:B:"));
  // The expected software string plays no part.
  EXPECT_TRUE(http_covered("*:A::x", "*:A::y"));
}

}  // namespace
}  // namespace huginn::db
