#include "huginn/fingerprint/http/http2_request.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace huginn::fingerprint::http {

namespace {

// Names whose usual HTTP/1 spelling is not one capital per word.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kSpecialNames = {{
    {"dnt", "DNT"},
    {"te", "TE"},
    {"etag", "ETag"},
    {"www-authenticate", "WWW-Authenticate"},
}};

char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

// p0f's header-name form, which the HTTP/1 parser enforces: 1..32 bytes of
// [A-Za-z0-9_-]. HPACK carries any bytes; a ',' or ':' in a name would
// break the signature's fields.
bool p0f_header_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxHeaderName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
  });
}

}  // namespace

std::string http1_header_name(std::string_view h2_name) {
  for (const auto& [h2, h1] : kSpecialNames) {
    if (h2_name == h2) return std::string(h1);
  }
  std::string out(h2_name);
  bool word_start = true;
  for (char& c : out) {
    if (word_start) c = upper(c);
    word_start = c == '-';
  }
  return out;
}

Http1Message http1_view_of_http2_request(std::span<const Http1Header> fields) {
  Http1Message msg;
  msg.request = true;
  msg.http_ver = 1;
  std::size_t cookie = kMaxHeaders;  // index of the Cookie header, once there
  for (const Http1Header& f : fields) {
    if (!f.name.empty() && f.name.front() == ':') {
      if (f.name == ":method") msg.method = f.value;
      else if (f.name == ":path") msg.path = f.value;
      else if (f.name == ":authority" && msg.headers.size() < kMaxHeaders)
        msg.headers.push_back(Http1Header{"Host", f.value});
      continue;
    }
    if (!p0f_header_name(f.name)) continue;
    if (f.name == "cookie" && cookie < msg.headers.size()) {
      // RFC 9113 §8.2.3: crumbs are rejoined with "; ".
      msg.headers[cookie].value += "; ";
      msg.headers[cookie].value += f.value;
      continue;
    }
    if (msg.headers.size() >= kMaxHeaders) continue;
    if (f.name == "cookie") cookie = msg.headers.size();
    msg.headers.push_back(Http1Header{http1_header_name(f.name), f.value});
  }
  return msg;
}

std::string format_http2_raw_sig(const Http1Message& msg, const HeaderKnown& known) {
  std::string out = format_http_raw_sig(compute_http_signature(msg), known);
  // format_http_raw_sig() starts with the one-character version.
  if (!out.empty()) out.front() = '*';
  return out;
}

}  // namespace huginn::fingerprint::http
