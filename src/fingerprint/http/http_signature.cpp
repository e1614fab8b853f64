#include "huginn/fingerprint/http/http_signature.hpp"

#include <algorithm>
#include <array>

namespace huginn::fingerprint::http {

namespace {

// p0f's header lists (p0f config.h). Requests and responses differ.
// Optional: shown with '?' in generated signatures, values never shown.
constexpr std::array<std::string_view, 11> kRequestOptional = {
    "Cookie",        "Referer",       "Origin",       "Range",
    "If-Modified-Since", "If-None-Match", "Via",     "X-Forwarded-For",
    "Authorization", "Proxy-Authorization", "Cache-Control"};
constexpr std::array<std::string_view, 12> kResponseOptional = {
    "Set-Cookie", "Last-Modified", "ETag",    "Content-Length", "Content-Disposition",
    "Cache-Control", "Expires",    "Pragma",  "Location",       "Refresh",
    "Content-Range", "Vary"};
// Expected in every message: listed in habsent when missing.
constexpr std::array<std::string_view, 8> kRequestCommon = {
    "Host",          "User-Agent",      "Connection",     "Accept",
    "Accept-Encoding", "Accept-Language", "Accept-Charset", "Keep-Alive"};
constexpr std::array<std::string_view, 5> kResponseCommon = {
    "Content-Type", "Connection", "Keep-Alive", "Accept-Ranges", "Date"};
// Values that depend on context rather than on the software.
constexpr std::array<std::string_view, 2> kRequestSkipValue = {"Host", "User-Agent"};
constexpr std::array<std::string_view, 3> kResponseSkipValue = {"Date", "Content-Type", "Server"};

constexpr std::array<std::string_view, 6> kCoreHeaders = {
    "User-Agent", "Server", "Accept-Language", "Via", "X-Forwarded-For", "Date"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

std::vector<std::string_view> make_builtin_names() {
  std::vector<std::string_view> out;
  auto add = [&out](auto const& list) {
    for (std::string_view n : list) {
      if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    }
  };
  add(kCoreHeaders);
  add(kRequestOptional);
  add(kResponseOptional);
  add(kRequestSkipValue);
  add(kResponseSkipValue);
  add(kRequestCommon);
  add(kResponseCommon);
  return out;
}

// p0f's display filter: printable ASCII up to kMaxShow bytes, stopping at
// ']' (which would end the bracket) and, when stop_at_pipe, at '|' (the log
// field separator). p0f applies the '|' stop to known headers only.
std::string_view shown_prefix(std::string_view v, bool stop_at_pipe) {
  std::size_t n = 0;
  while (n < v.size() && n < kMaxShow) {
    const auto c = static_cast<unsigned char>(v[n]);
    if (c < 0x20 || c >= 0x80 || c == ']' || (stop_at_pipe && c == '|')) break;
    ++n;
  }
  return v.substr(0, n);
}

int month_index(std::string_view m) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  if (m.size() < 3) return -1;
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    bool eq = true;
    for (std::size_t j = 0; j < 3; ++j) {
      const char c = static_cast<char>(m[j] | 0x20);
      if (c != kMonths[i][j]) eq = false;
    }
    if (eq) return static_cast<int>(i);
  }
  return -1;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil), so that no time zone or struct tm state is involved.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3u : 9u)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

class DateCursor {
 public:
  explicit DateCursor(std::string_view s) : s_(s) {}
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  bool lit(char c) {
    skip_space();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  std::string_view word() {
    skip_space();
    const std::size_t b = i_;
    while (i_ < s_.size() && ((s_[i_] | 0x20) >= 'a' && (s_[i_] | 0x20) <= 'z')) ++i_;
    return s_.substr(b, i_ - b);
  }
  // 1..max_digits decimal digits.
  std::optional<int> number(std::size_t max_digits) {
    skip_space();
    std::size_t n = 0;
    int v = 0;
    while (i_ < s_.size() && n < max_digits && s_[i_] >= '0' && s_[i_] <= '9') {
      v = v * 10 + (s_[i_] - '0');
      ++i_;
      ++n;
    }
    if (n == 0) return std::nullopt;
    return v;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

std::string_view c_string_view(std::string_view value) {
  return value.substr(0, value.find('\0'));
}

std::span<const std::string_view> builtin_header_names() {
  static const std::vector<std::string_view> kNames = make_builtin_names();
  return kNames;
}

HttpSignature compute_http_signature(const Http1Message& msg) {
  HttpSignature sig;
  sig.request = msg.request;
  sig.http_ver = msg.http_ver;
  sig.headers = msg.headers;
  for (const Http1Header& h : msg.headers) {
    if (h.value.empty()) continue;
    if (h.name == "Via" || h.name == "X-Forwarded-For") {
      sig.via = h.value;
    } else if (msg.request) {
      if (h.name == "User-Agent") sig.sw = h.value;
      if (h.name == "Accept-Language") sig.lang = h.value;
    } else {
      if (h.name == "Server") sig.sw = h.value;
      // A later unparsable Date clears an earlier one, as in p0f.
      if (h.name == "Date") sig.date = parse_http_date(c_string_view(h.value));
    }
  }
  return sig;
}

std::string format_http_raw_sig(const HttpSignature& sig, const HeaderKnown& known) {
  // One allocation: the text is at most every name and value with 4 bytes
  // of punctuation each, the missing common names (under 100 bytes with
  // their commas), the software and 4 more bytes.
  std::size_t bound = 128 + (sig.sw ? sig.sw->size() : 0);
  for (const Http1Header& h : sig.headers) bound += h.name.size() + h.value.size() + 4;
  std::string out;
  out.reserve(bound);
  out += sig.http_ver == 1 ? '1' : '0';
  out += ':';
  bool first = true;
  for (const Http1Header& h : sig.headers) {
    if (!first) out += ',';
    first = false;
    const bool is_known = known ? known(h.name) : false;
    if (!is_known) {
      out += h.name;
      const std::string_view v = shown_prefix(h.value, false);
      if (!v.empty()) {
        out += "=[";
        out += v;
        out += ']';
      }
      continue;
    }
    const bool optional = sig.request ? contains(kRequestOptional, h.name)
                                      : contains(kResponseOptional, h.name);
    if (optional) out += '?';
    out += h.name;
    if (optional) continue;
    const bool skip = sig.request ? contains(kRequestSkipValue, h.name)
                                  : contains(kResponseSkipValue, h.name);
    if (skip) continue;
    const std::string_view v = shown_prefix(h.value, true);
    if (!v.empty()) {
      out += "=[";
      out += v;
      out += ']';
    }
  }
  out += ':';
  first = true;
  auto list_missing = [&](auto const& common) {
    for (std::string_view name : common) {
      const bool present = std::any_of(sig.headers.begin(), sig.headers.end(),
                                       [&](const Http1Header& h) { return h.name == name; });
      if (present) continue;
      if (!first) out += ',';
      first = false;
      out += name;
    }
  };
  if (sig.request) {
    list_missing(kRequestCommon);
  } else {
    list_missing(kResponseCommon);
  }
  out += ':';
  if (sig.sw) out += shown_prefix(*sig.sw, false);
  return out;
}

std::string format_http_params(bool dishonest, bool anonymous, bool generic) {
  std::string out;
  auto add = [&out](std::string_view w) {
    if (!out.empty()) out += ' ';
    out += w;
  };
  if (dishonest) add("dishonest");
  if (anonymous) add("anonymous");
  if (generic) add("generic");
  return out.empty() ? std::string("none") : out;
}

std::optional<std::int64_t> parse_http_date(std::string_view value) {
  DateCursor c(value);
  // "%a," - a day name (checked for shape only: p0f ignores its meaning).
  const std::string_view wday = c.word();
  if (wday.size() < 3 || !c.lit(',')) return std::nullopt;
  const auto day = c.number(2);
  const int mon = month_index(c.word());
  const auto year = c.number(4);
  const auto hh = c.number(2);
  if (!c.lit(':')) return std::nullopt;
  const auto mm = c.number(2);
  if (!c.lit(':')) return std::nullopt;
  const auto ss = c.number(2);
  if (!day || mon < 0 || !year || !hh || !mm || !ss) return std::nullopt;
  if (*day < 1 || *day > 31 || *hh > 23 || *mm > 59 || *ss > 61) return std::nullopt;
  // "%Z": a zone name must follow; RFC 9110 requires "GMT", so the time is
  // taken as UTC whatever the name says.
  if (c.word().empty()) return std::nullopt;
  const std::int64_t days =
      days_from_civil(*year, static_cast<unsigned>(mon + 1), static_cast<unsigned>(*day));
  return days * 86400 + *hh * 3600 + *mm * 60 + *ss;
}

}  // namespace huginn::fingerprint::http
