#include "huginn/db/p0f_db_parser.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/sig_coverage.hpp"
#include "huginn/fingerprint/tcp/tcp_signature.hpp"
#include "huginn/util/limits.hpp"

namespace huginn::db {
namespace {

namespace ftcp = huginn::fingerprint::tcp;

// p0f config.h NAME_CHARS: besides letters and digits, the characters an OS
// or application name may contain.
constexpr std::string_view kNameChars = " ./-_!?()";
// p0f config.h HTTP_MAX_HDRS: the most headers a horder or habsent list holds.
constexpr std::size_t kMaxHttpHeaders = 32;
// Longest offending text quoted in an error message.
constexpr std::size_t kMaxQuote = 48;

// ASCII classification: p0f runs in the C locale, so bytes >= 0x80 are never
// letters or digits.
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_name_char(char c) { return is_alnum(c) || kNameChars.find(c) != std::string_view::npos; }
bool is_header_char(char c) { return is_alnum(c) || c == '-' || c == '_'; }
bool is_printable_ascii(char c) { return c >= 0x20 && c <= 0x7e; }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

std::string quote(std::string_view s) {
  std::string out = "'";
  if (s.size() > kMaxQuote) {
    out.append(s.substr(0, kMaxQuote));
    out.append("...");
  } else {
    out.append(s);
  }
  out.push_back('\'');
  return out;
}

// A decimal number made of digits only (no sign, not empty). Values above
// UINT32_MAX saturate, so any too-long number fails the caller's range check
// rather than wrapping as p0f's atol() would.
std::optional<std::uint32_t> parse_uint(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
    if (v > std::numeric_limits<std::uint32_t>::max()) v = std::numeric_limits<std::uint32_t>::max();
  }
  return static_cast<std::uint32_t>(v);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const auto pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string range_text(std::uint32_t lo, std::uint32_t hi) {
  return "(must be " + std::to_string(lo) + ".." + std::to_string(hi) + ")";
}

// Which part of the file we are in, and what it may contain next (p0f's
// CF_NEED_* states).
enum class Module { kNone, kMtu, kTcp, kHttp };
enum class State { kNeedSection, kNeedLabel, kNeedSys, kNeedSig };

struct TcpQuirkName {
  std::string_view token;
  std::uint32_t bit;
  // p0f rejects IP-layer quirks in a signature for the other IP version.
  bool ipv4_only;
  bool ipv6_only;
};

// p0f README "quirks"; bits are fingerprint::tcp::Quirk.
constexpr TcpQuirkName kQuirkNames[] = {
    {"df", ftcp::kQuirkDf, true, false},
    {"id+", ftcp::kQuirkNzId, true, false},
    {"id-", ftcp::kQuirkZeroId, true, false},
    {"ecn", ftcp::kQuirkEcn, false, false},
    {"0+", ftcp::kQuirkNzMbz, true, false},
    {"flow", ftcp::kQuirkFlow, false, true},
    {"seq-", ftcp::kQuirkZeroSeq, false, false},
    {"ack+", ftcp::kQuirkNzAck, false, false},
    {"ack-", ftcp::kQuirkZeroAck, false, false},
    {"uptr+", ftcp::kQuirkNzUrg, false, false},
    {"urgf+", ftcp::kQuirkUrg, false, false},
    {"pushf+", ftcp::kQuirkPush, false, false},
    {"ts1-", ftcp::kQuirkOptZeroTs1, false, false},
    {"ts2+", ftcp::kQuirkOptNzTs2, false, false},
    {"opt+", ftcp::kQuirkOptEolNz, false, false},
    {"exws", ftcp::kQuirkOptExws, false, false},
    {"bad", ftcp::kQuirkOptBad, false, false},
};

struct TcpOptionName {
  std::string_view token;
  std::uint8_t kind;
};

// p0f README "olayout"; "eol+N" and "?N" are handled separately.
constexpr TcpOptionName kOptionNames[] = {
    {"nop", ftcp::kOptNop}, {"mss", ftcp::kOptMss},   {"ws", ftcp::kOptWs},
    {"sok", ftcp::kOptSok}, {"sack", ftcp::kOptSack}, {"ts", ftcp::kOptTs},
};

class Parser {
 public:
  explicit Parser(std::string name) : name_(std::move(name)) {}

  std::variant<P0fDb, DbError> run(std::string_view text) {
    db_.path = name_;
    std::size_t pos = 0;
    while (true) {
      ++line_no_;
      const auto eol = text.find('\n', pos);
      const auto line = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
      if (!parse_line(line)) return std::move(*error_);
      if (eol == std::string_view::npos) break;
      pos = eol + 1;
    }
    link_labels();
    return std::move(db_);
  }

 private:
  bool fail(std::string message) {
    error_ = DbError{name_, line_no_, std::move(message)};
    return false;
  }

  bool parse_line(std::string_view line) {
    // Deliberate departure: p0f keeps a '\r' as part of the line (and then
    // fails on it); we accept CRLF files.
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > limits::kMaxDbLineLength)
      return fail("line is longer than " + std::to_string(limits::kMaxDbLineLength) + " bytes");
    // p0f reads the file as a C string and silently stops at a NUL byte.
    if (line.find('\0') != std::string_view::npos) return fail("NUL byte in line");

    std::size_t start = 0;
    while (start < line.size() && is_blank(line[start])) ++start;
    line.remove_prefix(start);
    if (line.empty() || line.front() == ';') return true;

    for (char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        char hex[8];
        std::snprintf(hex, sizeof(hex), "0x%02x", u);
        return fail(std::string("control character ") + hex + " in line");
      }
    }

    if (line.front() == '[') return parse_section(line);
    return parse_field(line);
  }

  bool parse_section(std::string_view line) {
    // p0f README: [mtu], [tcp:request], [tcp:response], [http:request],
    // [http:response]; matched exactly, with nothing after the ']'.
    if (line == "[mtu]") {
      module_ = Module::kMtu;
      state_ = State::kNeedLabel;
      return true;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return fail("malformed section header " + quote(line));
    const auto module = line.substr(1, colon - 1);
    if (module == "tcp") {
      module_ = Module::kTcp;
    } else if (module == "http") {
      module_ = Module::kHttp;
    } else {
      return fail("unknown fingerprinting module " + quote(module) + " (expected mtu, tcp or http)");
    }
    const auto dir = line.substr(colon + 1);
    if (dir == "request]") {
      to_server_ = true;
    } else if (dir == "response]") {
      to_server_ = false;
    } else {
      return fail("unknown traffic direction " + quote(dir) + " (expected request] or response])");
    }
    state_ = State::kNeedLabel;
    return true;
  }

  bool parse_field(std::string_view line) {
    std::size_t i = 0;
    while (i < line.size() && (is_alpha(line[i]) || line[i] == '_')) ++i;
    const auto key = line.substr(0, i);
    std::size_t j = i;
    while (j < line.size() && is_blank(line[j])) ++j;
    if (key.empty() || j == line.size() || line[j] != '=')
      return fail("expected 'name = value' or a [section] header, got " + quote(line));
    ++j;
    while (j < line.size() && is_blank(line[j])) ++j;
    const auto value = line.substr(j);

    if (key == "classes") {
      if (state_ != State::kNeedSection) return fail("'classes' must come before the first section");
      return parse_classes(value);
    }
    if (key == "ua_os") {
      if (state_ != State::kNeedLabel || module_ != Module::kHttp || !to_server_)
        return fail("'ua_os' is only allowed in [http:request], before its first label");
      return parse_ua_os(value);
    }
    if (key == "label") {
      if (state_ == State::kNeedSection) return fail("'label' outside a section");
      if (state_ == State::kNeedSys) return need_sys_error();
      if (!parse_label(value)) return false;
      state_ = (module_ != Module::kMtu && label_is_user_app_) ? State::kNeedSys : State::kNeedSig;
      return true;
    }
    if (key == "sys") {
      if (state_ != State::kNeedSys)
        return fail("'sys' is only allowed right after a userland ('!') label");
      if (!parse_sys(value)) return false;
      state_ = State::kNeedSig;
      return true;
    }
    if (key == "sig") {
      if (state_ == State::kNeedSection) return fail("'sig' outside a section");
      if (state_ == State::kNeedLabel) return fail("'sig' before any 'label' in this section");
      if (state_ == State::kNeedSys) return need_sys_error();
      switch (module_) {
        case Module::kMtu:
          return parse_mtu_sig(value);
        case Module::kTcp:
          return parse_tcp_sig(value);
        case Module::kHttp:
          return parse_http_sig(value);
        case Module::kNone:
          break;
      }
      return fail("'sig' outside a section");
    }
    return fail("unknown field " + quote(key) + " (expected classes, ua_os, label, sys or sig)");
  }

  bool need_sys_error() {
    return fail("expected 'sys' after the userland label in line " + std::to_string(label_line_));
  }

  // "classes = win,unix,other": letters and digits, comma-separated; blanks
  // are allowed only before an entry. As in p0f, separators must be followed
  // by an entry (no trailing ',').
  bool parse_classes(std::string_view v) {
    std::size_t i = 0;
    while (i < v.size()) {
      while (i < v.size() && (is_blank(v[i]) || v[i] == ',')) ++i;
      if (i == v.size()) return fail("empty class entry at the end of " + quote(v));
      std::size_t end = i;
      while (end < v.size() && is_alnum(v[end])) ++end;
      if (end == i || (end < v.size() && v[end] != ','))
        return fail("malformed class entry " + quote(v.substr(i)));
      db_.classes.emplace_back(v.substr(i, end - i));
      i = end;
    }
    return true;
  }

  std::optional<std::uint32_t> find_class(std::string_view name) const {
    for (std::size_t i = 0; i < db_.classes.size(); ++i)
      if (iequals(db_.classes[i], name)) return static_cast<std::uint32_t>(i);
    return std::nullopt;
  }

  // p0f lookup_name_id(): one id per name, compared case-insensitively.
  std::uint32_t name_id(std::string_view name) {
    if (auto id = find_name_id(db_, name)) return *id;
    db_.names.emplace_back(name);
    return static_cast<std::uint32_t>(db_.names.size() - 1);
  }

  // Length of the run of name characters starting at v[i].
  static std::size_t name_run(std::string_view v, std::size_t i) {
    std::size_t end = i;
    while (end < v.size() && is_name_char(v[end])) ++end;
    return end - i;
  }

  bool parse_label(std::string_view v) {
    label_line_ = line_no_;
    if (module_ == Module::kMtu) {
      // [mtu] labels are free-form link names.
      if (v.empty()) return fail("empty MTU label");
      for (char c : v)
        if (!is_printable_ascii(c)) return fail("MTU label " + quote(v) + " is not printable ASCII");
      mtu_label_ = std::string(v);
      return true;
    }

    Label label;
    if (v.size() < 2 || (v[0] != 's' && v[0] != 'g') || v[1] != ':')
      return fail("malformed label " + quote(v) + " (expected s|g:class|!:name:flavor)");
    label.generic = v[0] == 'g';

    std::size_t i = 2;
    std::size_t end = i;
    while (end < v.size() && (is_alnum(v[end]) || v[end] == '!')) ++end;
    if (end == i || end == v.size() || v[end] != ':')
      return fail("malformed class in label " + quote(v));
    const auto cls = v.substr(i, end - i);
    if (cls != "!") {
      const auto id = find_class(cls);
      if (!id) return fail("unknown class " + quote(cls) + " in label");
      label.class_id = *id;
    }

    i = end + 1;
    const auto len = name_run(v, i);
    if (len == 0 || i + len == v.size() || v[i + len] != ':')
      return fail("malformed name in label " + quote(v) +
                  " (names may contain letters, digits and \"" + std::string(kNameChars) + "\")");
    label.name_id = name_id(v.substr(i, len));

    // p0f takes the rest of the line as the flavor unchecked; we require
    // printable ASCII because flavors go verbatim into logs and JSON.
    const auto flavor = v.substr(i + len + 1);
    for (char c : flavor)
      if (!is_printable_ascii(c)) return fail("flavor " + quote(flavor) + " is not printable ASCII");
    label.flavor = std::string(flavor);

    label.label_id = static_cast<std::uint32_t>(db_.labels.size() + 1);
    label_is_user_app_ = label.is_user_app();
    db_.labels.push_back(std::move(label));
    return true;
  }

  // "sys = @unix,Windows": '@' marks a class; other entries are OS names
  // (created if new, as p0f does). No trailing ',' (p0f).
  bool parse_sys(std::string_view v) {
    Label& label = db_.labels.back();
    std::size_t i = 0;
    while (i < v.size()) {
      while (i < v.size() && (is_blank(v[i]) || v[i] == ',')) ++i;
      if (i == v.size()) return fail("empty sys entry at the end of " + quote(v));
      const std::size_t entry_start = i;
      const bool is_class = v[i] == '@';
      if (is_class) ++i;
      const auto len = name_run(v, i);
      if (len == 0 || (i + len < v.size() && v[i + len] != ','))
        return fail("malformed sys entry " + quote(v.substr(entry_start)));
      const auto name = v.substr(i, len);
      if (is_class) {
        const auto id = find_class(name);
        if (!id) return fail("unknown class " + quote(name) + " in sys");
        label.sys.push_back(SysRef{true, *id});
      } else {
        label.sys.push_back(SysRef{false, name_id(name)});
      }
      label.sys_text.emplace_back(v.substr(entry_start, i + len - entry_start));
      i += len;
    }
    return true;
  }

  // "ua_os = Linux,iOS=[iPad],...". Stricter than p0f: after "]" we require
  // ',' or the end of the line (p0f would start the next name right there).
  bool parse_ua_os(std::string_view v) {
    std::size_t i = 0;
    while (i < v.size()) {
      const auto len = name_run(v, i);
      if (len == 0) return fail("malformed system name in ua_os at " + quote(v.substr(i)));
      const auto id = name_id(v.substr(i, len));
      i += len;
      std::string keyword = db_.names[id];
      if (i < v.size() && v[i] == '=') {
        if (i + 1 == v.size() || v[i + 1] != '[') return fail("missing '[' after '=' in ua_os");
        const auto close = v.find(']', i + 2);
        if (close == std::string_view::npos || close == i + 2)
          return fail("malformed ua_os keyword at " + quote(v.substr(i)) + " (expected Name=[keyword])");
        keyword = std::string(v.substr(i + 2, close - i - 2));
        i = close + 1;
      }
      db_.ua_os.emplace_back(std::move(keyword), db_.names[id]);
      if (i < v.size()) {
        if (v[i] != ',') return fail("malformed ua_os entry at " + quote(v.substr(i)));
        ++i;
      }
    }
    return true;
  }

  bool parse_mtu_sig(std::string_view v) {
    const auto mtu = parse_uint(v);
    if (!mtu) return fail("malformed MTU value " + quote(v));
    if (*mtu < 1 || *mtu > 65535) return fail("bogus MTU value " + quote(v) + " " + range_text(1, 65535));
    // p0f registers repeats too, but its lookup returns the first one.
    db_.mtu_to_link.try_emplace(static_cast<std::uint16_t>(*mtu), mtu_label_);
    return true;
  }

  // --- TCP ---------------------------------------------------------------
  // ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass (p0f README
  // "Signature format"). No field can contain ':', so we split first and
  // then read each field in p0f's order.

  bool parse_ittl(std::string_view f, TcpSigPattern& s) {
    std::size_t d = 0;
    while (d < f.size() && is_digit(f[d])) ++d;
    const auto ttl = parse_uint(f.substr(0, d));
    const auto rest = f.substr(d);
    if (!ttl || !(rest.empty() || rest == "-" || rest.front() == '+'))
      return fail("malformed initial TTL " + quote(f) + " (expected N, N+dist or N-)");
    if (*ttl < 1 || *ttl > 255) return fail("bogus initial TTL " + quote(f) + " " + range_text(1, 255));
    std::uint32_t total = *ttl;
    if (rest == "-") {
      s.bad_ttl = true;
    } else if (!rest.empty()) {
      const auto dist = parse_uint(rest.substr(1));
      if (!dist) return fail("malformed initial TTL " + quote(f) + " (expected N, N+dist or N-)");
      if (*dist > 255 - total)
        return fail("bogus initial TTL " + quote(f) + " (TTL plus distance must be at most 255)");
      total += *dist;
    }
    s.ittl = static_cast<std::uint8_t>(total);
    return true;
  }

  bool parse_window(std::string_view f, TcpSigPattern& s) {
    if (f == "*") {
      s.win_type = WinType::kAny;
      s.win = 0;
      return true;
    }
    if (f.front() == '%') {
      const auto m = parse_uint(f.substr(1));
      if (!m) return fail("malformed window size " + quote(f));
      if (*m < 2 || *m > 65535) return fail("bogus window modulus " + quote(f) + " " + range_text(2, 65535));
      s.win_type = WinType::kMod;
      s.win = static_cast<std::uint16_t>(*m);
      return true;
    }
    if (f.starts_with("mss*") || f.starts_with("mtu*")) {
      const auto m = parse_uint(f.substr(4));
      if (!m) return fail("malformed window size " + quote(f));
      if (*m < 1 || *m > 1000)
        return fail("bogus MSS/MTU multiplier " + quote(f) + " " + range_text(1, 1000));
      s.win_type = f[1] == 's' ? WinType::kMss : WinType::kMtu;
      s.win = static_cast<std::uint16_t>(*m);
      return true;
    }
    const auto w = parse_uint(f);
    if (!w) return fail("malformed window size " + quote(f) + " (expected N, *, %N, mss*N or mtu*N)");
    if (*w > 65535) return fail("bogus window size " + quote(f) + " " + range_text(0, 65535));
    s.win_type = WinType::kNormal;
    s.win = static_cast<std::uint16_t>(*w);
    return true;
  }

  bool parse_olayout(std::string_view f, TcpSigPattern& s) {
    if (f.empty()) return true;
    const auto tokens = split(f, ',');
    for (std::size_t k = 0; k < tokens.size(); ++k) {
      const auto t = tokens[k];
      if (s.olayout.size() >= limits::kMaxTcpOptions)
        return fail("too many TCP options (at most " + std::to_string(limits::kMaxTcpOptions) + ")");
      if (t.starts_with("eol")) {
        const auto pad = t.size() > 4 && t[3] == '+' ? parse_uint(t.substr(4)) : std::nullopt;
        if (!pad) return fail("malformed EOL option " + quote(t) + " (expected eol+N)");
        if (k + 1 != tokens.size()) return fail("EOL must be the last option");
        if (*pad > 255) return fail("bogus EOL padding " + quote(t) + " " + range_text(0, 255));
        s.olayout.push_back(ftcp::kOptEol);
        s.opt_eol_pad = static_cast<std::uint8_t>(*pad);
        continue;
      }
      if (t.starts_with('?')) {
        const auto kind = parse_uint(t.substr(1));
        if (!kind) return fail("malformed '?' option " + quote(t) + " (expected ?N)");
        if (*kind > 255) return fail("bogus '?' option " + quote(t) + " " + range_text(0, 255));
        s.olayout.push_back(static_cast<std::uint8_t>(*kind));
        continue;
      }
      bool known = false;
      for (const auto& o : kOptionNames) {
        if (t == o.token) {
          s.olayout.push_back(o.kind);
          known = true;
          break;
        }
      }
      if (!known) return fail("unrecognized TCP option " + quote(t));
    }
    return true;
  }

  bool parse_quirks(std::string_view f, TcpSigPattern& s) {
    if (f.empty()) return true;
    for (const auto t : split(f, ',')) {
      const TcpQuirkName* q = nullptr;
      for (const auto& candidate : kQuirkNames) {
        if (t == candidate.token) {
          q = &candidate;
          break;
        }
      }
      if (!q) return fail("unrecognized quirk " + quote(t));
      if (q->ipv4_only && s.ip_ver == 6) return fail("quirk " + quote(t) + " is not valid for IPv6");
      if (q->ipv6_only && s.ip_ver == 4) return fail("quirk " + quote(t) + " is not valid for IPv4");
      s.quirks |= q->bit;
    }
    return true;
  }

  bool parse_tcp_sig(std::string_view v) {
    const auto f = split(v, ':');
    if (f.size() != 8)
      return fail("malformed TCP signature: expected 8 ':'-separated fields "
                  "(ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass), got " +
                  std::to_string(f.size()));
    TcpSigPattern s;

    if (f[0] == "4") {
      s.ip_ver = 4;
    } else if (f[0] == "6") {
      s.ip_ver = 6;
    } else if (f[0] != "*") {
      return fail("unrecognized IP version " + quote(f[0]) + " (expected 4, 6 or *)");
    }

    // Deliberate departure: after an "N-" TTL, p0f skips the first character
    // of olen. We read olen as written; databases use the one-digit olen 0
    // there, which both readings give.
    if (!parse_ittl(f[1], s)) return false;

    const auto olen = parse_uint(f[2]);
    if (!olen) return fail("malformed IP option length " + quote(f[2]));
    if (*olen > 255) return fail("bogus IP option length " + quote(f[2]) + " " + range_text(0, 255));
    s.ip_opt_len = static_cast<std::uint8_t>(*olen);

    if (f[3] != "*") {
      const auto mss = parse_uint(f[3]);
      if (!mss) return fail("malformed MSS " + quote(f[3]) + " (expected N or *)");
      if (*mss > 65535) return fail("bogus MSS " + quote(f[3]) + " " + range_text(0, 65535));
      s.mss = static_cast<std::uint16_t>(*mss);
    }

    const auto comma = f[4].find(',');
    if (comma == std::string_view::npos)
      return fail("malformed window size and scale " + quote(f[4]) + " (expected wsize,scale)");
    const auto wsize = f[4].substr(0, comma);
    const auto scale = f[4].substr(comma + 1);
    if (wsize.empty()) return fail("malformed window size " + quote(wsize));
    if (!parse_window(wsize, s)) return false;
    if (scale != "*") {
      const auto ws = parse_uint(scale);
      if (!ws) return fail("malformed window scale " + quote(scale) + " (expected N or *)");
      if (*ws > 255) return fail("bogus window scale " + quote(scale) + " " + range_text(0, 255));
      s.wscale = static_cast<std::uint8_t>(*ws);
    }

    if (!parse_olayout(f[5], s)) return false;
    if (!parse_quirks(f[6], s)) return false;

    if (f[7] == "0") {
      s.payload = false;
    } else if (f[7] == "+") {
      s.payload = true;
    } else if (f[7] != "*") {
      return fail("malformed payload class " + quote(f[7]) + " (expected 0, + or *)");
    }

    auto& records = to_server_ ? db_.tcp_request : db_.tcp_response;
    auto& label_index = to_server_ ? tcp_request_labels_ : tcp_response_labels_;
    for (std::size_t k = 0; k < records.size(); ++k) {
      if (db_.labels[label_index[k]].generic) continue;
      if (detail::tcp_pattern_covers(records[k].sig, s))
        return fail("signature is already covered by line " + std::to_string(records[k].line_no));
    }
    records.push_back(TcpSigRecord{nullptr, std::move(s), std::string(v), line_no_});
    label_index.push_back(db_.labels.size() - 1);
    return true;
  }

  // --- HTTP --------------------------------------------------------------
  // ver:horder:habsent:expsw (p0f README "HTTP signatures"). Header values
  // ("Name=[value]") may contain ':' and ',', so this one is scanned left to
  // right as p0f does.

  // Reads a comma-separated header list up to its closing ':'; `allow_extras`
  // permits the "?Name" and "Name=[value]" forms of horder.
  bool parse_header_list(std::string_view v, std::size_t& i, bool allow_extras, const char* what,
                         std::vector<HttpHeaderPattern>& out) {
    while (true) {
      if (i >= v.size())
        return fail("truncated HTTP signature (expected ver:horder:habsent:expsw)");
      if (v[i] == ':') break;
      if (out.size() >= kMaxHttpHeaders)
        return fail(std::string("too many headers in ") + what + " (at most " +
                    std::to_string(kMaxHttpHeaders) + ")");
      HttpHeaderPattern h;
      if (allow_extras && v[i] == '?') {
        h.optional = true;
        ++i;
      }
      std::size_t end = i;
      while (end < v.size() && is_header_char(v[end])) ++end;
      if (end == i) return fail(std::string("malformed header name in ") + what + " at " + quote(v.substr(i)));
      h.name = std::string(v.substr(i, end - i));
      i = end;
      if (allow_extras && i < v.size() && v[i] == '=') {
        if (i + 1 == v.size() || v[i + 1] != '[') return fail("missing '[' after '=' in header " + quote(h.name));
        const auto close = v.find(']', i + 2);
        if (close == std::string_view::npos || close == i + 2)
          return fail("malformed value for header " + quote(h.name) + " (expected Name=[value])");
        h.value = std::string(v.substr(i + 2, close - i - 2));
        i = close + 1;
      }
      out.push_back(std::move(h));
      if (i >= v.size())
        return fail("truncated HTTP signature (expected ver:horder:habsent:expsw)");
      if (v[i] == ',') {
        ++i;
        if (i < v.size() && v[i] == ':')
          return fail(std::string("trailing ',' in ") + what);
      } else if (v[i] != ':') {
        return fail(std::string("malformed ") + what + " at " + quote(v.substr(i)));
      }
    }
    ++i;  // the ':' closing the list
    return true;
  }

  bool parse_http_sig(std::string_view v) {
    if (v.size() < 2 || v[1] != ':')
      return fail("malformed HTTP signature (expected ver:horder:habsent:expsw)");
    HttpSigPattern s;
    if (v[0] == '0') {
      s.http_ver = 0;
    } else if (v[0] == '1') {
      s.http_ver = 1;
    } else if (v[0] != '*') {
      return fail("bad HTTP version " + quote(v.substr(0, 1)) + " (expected 0, 1 or *)");
    }
    std::size_t i = 2;
    if (!parse_header_list(v, i, true, "horder", s.horder)) return false;
    std::vector<HttpHeaderPattern> absent;
    if (!parse_header_list(v, i, false, "habsent", absent)) return false;
    for (auto& h : absent) s.habsent.push_back(std::move(h.name));
    const auto expsw = v.substr(i);
    if (expsw.find(':') != std::string_view::npos)
      return fail("malformed expected software " + quote(expsw) + " (':' is not allowed)");
    s.expsw = std::string(expsw);

    auto& records = to_server_ ? db_.http_request : db_.http_response;
    auto& label_index = to_server_ ? http_request_labels_ : http_response_labels_;
    for (std::size_t k = 0; k < records.size(); ++k) {
      if (db_.labels[label_index[k]].generic) continue;
      if (detail::http_pattern_covers(records[k].sig, s))
        return fail("signature is already covered by line " + std::to_string(records[k].line_no));
    }
    records.push_back(HttpSigRecord{nullptr, std::move(s), std::string(v), line_no_});
    label_index.push_back(db_.labels.size() - 1);
    return true;
  }

  // Labels are appended while records are created, so records remember a
  // label index and get their pointer once `labels` has stopped growing.
  void link_labels() {
    const auto link = [this](auto& records, const std::vector<std::size_t>& index) {
      for (std::size_t k = 0; k < records.size(); ++k) records[k].label = &db_.labels[index[k]];
    };
    link(db_.tcp_request, tcp_request_labels_);
    link(db_.tcp_response, tcp_response_labels_);
    link(db_.http_request, http_request_labels_);
    link(db_.http_response, http_response_labels_);
  }

  std::string name_;
  P0fDb db_;
  std::optional<DbError> error_;
  std::uint32_t line_no_ = 0;
  Module module_ = Module::kNone;
  State state_ = State::kNeedSection;
  bool to_server_ = false;
  bool label_is_user_app_ = false;
  std::uint32_t label_line_ = 0;
  std::string mtu_label_;
  std::vector<std::size_t> tcp_request_labels_;
  std::vector<std::size_t> tcp_response_labels_;
  std::vector<std::size_t> http_request_labels_;
  std::vector<std::size_t> http_response_labels_;
};

}  // namespace

std::optional<std::uint32_t> find_name_id(const P0fDb& db, std::string_view name) {
  for (std::size_t i = 0; i < db.names.size(); ++i)
    if (iequals(db.names[i], name)) return static_cast<std::uint32_t>(i);
  return std::nullopt;
}

std::string DbError::to_string() const {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ": " + message;
}

std::variant<P0fDb, DbError> parse_p0f_db(std::string_view text, std::string name) {
  try {
    Parser parser(name);
    return parser.run(text);
  } catch (const std::bad_alloc&) {
    return DbError{std::move(name), 0, "out of memory"};
  } catch (const std::exception& e) {
    // Not expected: the parser reports every input problem as a DbError.
    return DbError{std::move(name), 0, std::string("internal error: ") + e.what()};
  }
}

std::variant<P0fDb, DbError> load_p0f_db(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return DbError{path, 0, std::string("cannot open: ") + std::strerror(errno)};
  std::string text;
  char buf[65536];
  std::size_t n = 0;
  try {
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  } catch (const std::bad_alloc&) {
    std::fclose(f);
    return DbError{path, 0, "out of memory"};
  }
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) return DbError{path, 0, std::string("cannot read: ") + std::strerror(err)};
  return parse_p0f_db(text, path);
}

std::string label_display(const P0fDb& db, const Label& label) {
  std::string out = label.name_id < db.names.size() ? db.names[label.name_id] : std::string("???");
  if (!label.flavor.empty()) {
    out.push_back(' ');
    out.append(label.flavor);
  }
  return out;
}

}  // namespace huginn::db
