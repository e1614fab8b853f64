// Loads Debian's p0f.fp (or $HUGINN_P0F_FP) and checks the result against
// an independent, deliberately simple reading of the same text at test time:
// section counts, every signature re-formatted from its parsed fields, every
// record's label, the [mtu] table and ua_os. No database lines are copied here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "huginn/db/p0f_db_parser.hpp"
#include "huginn/fingerprint/tcp/tcp_signature.hpp"
#include "test_paths.hpp"

namespace huginn::db {
namespace {

namespace ftcp = huginn::fingerprint::tcp;

std::string trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return std::string(s);
}

// "key = value" -> (key, value); empty key if the line is not of that form.
std::pair<std::string, std::string> key_value(const std::string& line) {
  const auto eq = line.find('=');
  if (eq == std::string::npos) return {};
  std::string key = line.substr(0, eq);
  while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
  return {key, trim_left(std::string_view(line).substr(eq + 1))};
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One non-comment line of the file, with the section it is in.
struct TextLine {
  std::uint32_t line_no;
  std::string section;  // "[tcp:request]" etc.; empty before the first
  std::string key;
  std::string value;
};

std::string format_olayout(const TcpSigPattern& s) {
  std::string out;
  for (std::size_t i = 0; i < s.olayout.size(); ++i) {
    if (i) out += ',';
    switch (s.olayout[i]) {
      case ftcp::kOptEol: out += "eol+" + std::to_string(s.opt_eol_pad); break;
      case ftcp::kOptNop: out += "nop"; break;
      case ftcp::kOptMss: out += "mss"; break;
      case ftcp::kOptWs: out += "ws"; break;
      case ftcp::kOptSok: out += "sok"; break;
      case ftcp::kOptSack: out += "sack"; break;
      case ftcp::kOptTs: out += "ts"; break;
      default: out += "?" + std::to_string(s.olayout[i]); break;
    }
  }
  return out;
}

// Quirks in the order p0f's README lists them; a database line may list
// them in another order, so the comparison below sorts both sides.
std::vector<std::string> quirk_names(std::uint32_t q) {
  const std::pair<std::uint32_t, const char*> names[] = {
      {ftcp::kQuirkDf, "df"},        {ftcp::kQuirkNzId, "id+"},       {ftcp::kQuirkZeroId, "id-"},
      {ftcp::kQuirkEcn, "ecn"},      {ftcp::kQuirkNzMbz, "0+"},       {ftcp::kQuirkFlow, "flow"},
      {ftcp::kQuirkZeroSeq, "seq-"}, {ftcp::kQuirkNzAck, "ack+"},     {ftcp::kQuirkZeroAck, "ack-"},
      {ftcp::kQuirkNzUrg, "uptr+"},  {ftcp::kQuirkUrg, "urgf+"},      {ftcp::kQuirkPush, "pushf+"},
      {ftcp::kQuirkOptZeroTs1, "ts1-"}, {ftcp::kQuirkOptNzTs2, "ts2+"}, {ftcp::kQuirkOptEolNz, "opt+"},
      {ftcp::kQuirkOptExws, "exws"}, {ftcp::kQuirkOptBad, "bad"},
  };
  std::vector<std::string> out;
  for (const auto& [bit, name] : names)
    if (q & bit) out.emplace_back(name);
  return out;
}

std::string format_window(const TcpSigPattern& s) {
  switch (s.win_type) {
    case WinType::kAny: return "*";
    case WinType::kMod: return "%" + std::to_string(s.win);
    case WinType::kMss: return "mss*" + std::to_string(s.win);
    case WinType::kMtu: return "mtu*" + std::to_string(s.win);
    case WinType::kNormal: break;
  }
  return std::to_string(s.win);
}

std::string format_http(const HttpSigPattern& s) {
  std::string out = s.http_ver ? std::to_string(*s.http_ver) : "*";
  out += ':';
  for (std::size_t i = 0; i < s.horder.size(); ++i) {
    if (i) out += ',';
    if (s.horder[i].optional) out += '?';
    out += s.horder[i].name;
    if (s.horder[i].value) out += "=[" + *s.horder[i].value + "]";
  }
  out += ':';
  for (std::size_t i = 0; i < s.habsent.size(); ++i) out += (i ? "," : "") + s.habsent[i];
  return out + ":" + s.expsw;
}

class RealP0fDb : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = new std::string(test::p0f_fp_path().string());
    std::ifstream in(*path_);
    ASSERT_TRUE(in) << "cannot read " << *path_;
    lines_ = new std::vector<TextLine>();
    std::string raw;
    std::string section;
    std::uint32_t n = 0;
    while (std::getline(in, raw)) {
      ++n;
      const auto line = trim_left(raw);
      if (line.empty() || line[0] == ';') continue;
      if (line[0] == '[') {
        section = line;
        continue;
      }
      auto [key, value] = key_value(line);
      lines_->push_back({n, section, key, value});
    }
    auto r = load_p0f_db(*path_);
    if (auto* e = std::get_if<DbError>(&r)) FAIL() << e->to_string();
    db_ = new P0fDb(std::move(std::get<P0fDb>(r)));
  }
  static void TearDownTestSuite() {
    delete db_;
    delete lines_;
    delete path_;
    db_ = nullptr;
    lines_ = nullptr;
    path_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(db_, nullptr) << "database did not load"; }

  static std::size_t count(const std::string& section, const std::string& key) {
    std::size_t c = 0;
    for (const auto& l : *lines_) c += (l.section == section && l.key == key);
    return c;
  }
  static const TextLine* line_at(std::uint32_t n) {
    for (const auto& l : *lines_)
      if (l.line_no == n) return &l;
    return nullptr;
  }
  // The last "label" line above line n.
  static const TextLine* label_above(std::uint32_t n) {
    const TextLine* found = nullptr;
    for (const auto& l : *lines_) {
      if (l.line_no >= n) break;
      if (l.key == "label") found = &l;
    }
    return found;
  }
  // "s|g:class:name:flavor" rebuilt from a parsed label, lower-cased (class
  // and name lookups ignore case).
  static std::string label_text(const Label& label) {
    std::string out = label.generic ? "g:" : "s:";
    out += label.class_id ? db_->classes.at(*label.class_id) : "!";
    out += ":" + db_->names.at(label.name_id) + ":" + label.flavor;
    return lower(out);
  }

  static std::string* path_;
  static std::vector<TextLine>* lines_;
  static P0fDb* db_;
};

std::string* RealP0fDb::path_ = nullptr;
std::vector<TextLine>* RealP0fDb::lines_ = nullptr;
P0fDb* RealP0fDb::db_ = nullptr;

TEST_F(RealP0fDb, SignatureCountsPerSectionMatchTheText) {
  EXPECT_EQ(db_->tcp_request.size(), count("[tcp:request]", "sig"));
  EXPECT_EQ(db_->tcp_response.size(), count("[tcp:response]", "sig"));
  EXPECT_EQ(db_->http_request.size(), count("[http:request]", "sig"));
  EXPECT_EQ(db_->http_response.size(), count("[http:response]", "sig"));
  // The Debian database is not trivially small in any section.
  EXPECT_GT(db_->tcp_request.size(), 50u);
  EXPECT_GT(db_->tcp_response.size(), 20u);
  EXPECT_GT(db_->http_request.size(), 20u);
  EXPECT_GT(db_->http_response.size(), 5u);
  std::size_t labels = 0;
  for (const auto& l : *lines_) labels += (l.key == "label" && l.section != "[mtu]");
  EXPECT_EQ(db_->labels.size(), labels);
}

TEST_F(RealP0fDb, ClassesMatchTheText) {
  std::vector<std::string> expected;
  for (const auto& l : *lines_)
    if (l.key == "classes")
      for (const auto& c : split(l.value, ','))
        if (!c.empty()) expected.push_back(trim_left(c));
  EXPECT_EQ(db_->classes, expected);
  EXPECT_FALSE(expected.empty());
}

TEST_F(RealP0fDb, EveryTcpSignatureReformatsToItsText) {
  for (const auto* records : {&db_->tcp_request, &db_->tcp_response}) {
    for (const auto& r : *records) {
      SCOPED_TRACE("line " + std::to_string(r.line_no) + ": " + r.raw);
      const auto* text = line_at(r.line_no);
      ASSERT_NE(text, nullptr);
      EXPECT_EQ(text->key, "sig");
      EXPECT_EQ(text->value, r.raw);
      const auto f = split(r.raw, ':');
      ASSERT_EQ(f.size(), 8u);
      const auto& s = r.sig;
      EXPECT_EQ(f[0], s.ip_ver ? std::to_string(*s.ip_ver) : "*");
      // "N", "N-" or "N+dist" (stored as the sum).
      const auto plus = f[1].find('+');
      const int ttl = plus == std::string::npos ? std::stoi(f[1])
                                                : std::stoi(f[1].substr(0, plus)) + std::stoi(f[1].substr(plus + 1));
      EXPECT_EQ(s.ittl, ttl);
      EXPECT_EQ(s.bad_ttl, f[1].back() == '-');
      EXPECT_EQ(f[2], std::to_string(s.ip_opt_len));
      EXPECT_EQ(f[3], s.mss ? std::to_string(*s.mss) : "*");
      EXPECT_EQ(f[4], format_window(s) + "," + (s.wscale ? std::to_string(*s.wscale) : "*"));
      EXPECT_EQ(f[5], format_olayout(s));
      auto quirks = f[6].empty() ? std::vector<std::string>{} : split(f[6], ',');
      auto parsed = quirk_names(s.quirks);
      std::sort(quirks.begin(), quirks.end());
      std::sort(parsed.begin(), parsed.end());
      EXPECT_EQ(quirks, parsed);
      EXPECT_EQ(f[7], s.payload ? (*s.payload ? "+" : "0") : "*");
    }
  }
}

TEST_F(RealP0fDb, EveryHttpSignatureReformatsToItsText) {
  for (const auto* records : {&db_->http_request, &db_->http_response}) {
    for (const auto& r : *records) {
      SCOPED_TRACE("line " + std::to_string(r.line_no));
      const auto* text = line_at(r.line_no);
      ASSERT_NE(text, nullptr);
      EXPECT_EQ(text->value, r.raw);
      EXPECT_EQ(format_http(r.sig), r.raw);
    }
  }
}

TEST_F(RealP0fDb, EveryRecordCarriesTheLabelAboveIt) {
  const auto check = [](const auto& records) {
    for (const auto& r : records) {
      SCOPED_TRACE("line " + std::to_string(r.line_no));
      ASSERT_NE(r.label, nullptr);
      ASSERT_GE(r.label, db_->labels.data());
      ASSERT_LT(r.label, db_->labels.data() + db_->labels.size());
      const auto* label = label_above(r.line_no);
      ASSERT_NE(label, nullptr);
      EXPECT_EQ(label_text(*r.label), lower(label->value));
      EXPECT_EQ(r.label->label_id, static_cast<std::uint32_t>(r.label - db_->labels.data()) + 1);
    }
  };
  check(db_->tcp_request);
  check(db_->tcp_response);
  check(db_->http_request);
  check(db_->http_response);
}

TEST_F(RealP0fDb, UserlandLabelsHaveTheirSysLine) {
  std::size_t apps = 0;
  for (const auto& label : db_->labels) {
    if (!label.is_user_app()) {
      EXPECT_TRUE(label.sys.empty());
      continue;
    }
    ++apps;
    EXPECT_FALSE(label.sys.empty()) << label_display(*db_, label);
    EXPECT_EQ(label.sys.size(), label.sys_text.size());
    for (std::size_t i = 0; i < label.sys.size(); ++i) {
      const auto& ref = label.sys[i];
      const auto& text = label.sys_text[i];
      if (ref.is_class) {
        EXPECT_EQ(lower("@" + db_->classes.at(ref.id)), lower(text));
      } else {
        EXPECT_EQ(lower(db_->names.at(ref.id)), lower(text));
      }
    }
  }
  EXPECT_EQ(apps, count("[tcp:request]", "sys") + count("[tcp:response]", "sys") +
                      count("[http:request]", "sys") + count("[http:response]", "sys"));
  EXPECT_GT(apps, 0u);
}

TEST_F(RealP0fDb, LinuxIsAUnixOsInTcpRequests) {
  const TcpSigRecord* linux_sig = nullptr;
  for (const auto& r : db_->tcp_request) {
    if (db_->names.at(r.label->name_id) == "Linux") {
      linux_sig = &r;
      break;
    }
  }
  ASSERT_NE(linux_sig, nullptr);
  const Label& label = *linux_sig->label;
  ASSERT_TRUE(label.class_id.has_value());
  EXPECT_EQ(db_->classes.at(*label.class_id), "unix");
  EXPECT_FALSE(label.is_user_app());
  const auto display = label_display(*db_, label);
  EXPECT_EQ(display.rfind("Linux", 0), 0u);
  EXPECT_EQ(display, label.flavor.empty() ? "Linux" : "Linux " + label.flavor);
  // Linux sends an MSS option in every SYN signature p0f has for it.
  EXPECT_NE(std::find(linux_sig->sig.olayout.begin(), linux_sig->sig.olayout.end(), ftcp::kOptMss),
            linux_sig->sig.olayout.end());
}

TEST_F(RealP0fDb, MtuTableKeepsTheFirstLabelPerValue) {
  std::map<std::uint16_t, std::string> expected;
  std::string label;
  for (const auto& l : *lines_) {
    if (l.section != "[mtu]") continue;
    if (l.key == "label") label = l.value;
    if (l.key == "sig") expected.try_emplace(static_cast<std::uint16_t>(std::stoi(l.value)), label);
  }
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(db_->mtu_to_link.size(), expected.size());
  for (const auto& [mtu, name] : expected) {
    ASSERT_EQ(db_->mtu_to_link.count(mtu), 1u) << mtu;
    EXPECT_EQ(db_->mtu_to_link.at(mtu), name) << mtu;
  }
  // The Ethernet MTU is there.
  EXPECT_EQ(db_->mtu_to_link.count(1500), 1u);
}

TEST_F(RealP0fDb, UaOsEntriesMatchTheText) {
  std::size_t entries = 0;
  for (const auto& l : *lines_)
    if (l.key == "ua_os") entries += split(l.value, ',').size();
  EXPECT_EQ(db_->ua_os.size(), entries);
  for (const auto& [keyword, name] : db_->ua_os) {
    EXPECT_FALSE(keyword.empty());
    EXPECT_TRUE(find_name_id(*db_, name).has_value()) << name;
  }
}

TEST_F(RealP0fDb, PathIsRecorded) { EXPECT_EQ(db_->path, *path_); }

}  // namespace
}  // namespace huginn::db
