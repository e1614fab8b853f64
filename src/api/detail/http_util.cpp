#include "api/detail/http_util.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

namespace huginn::api::detail {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_ows(char c) { return c == ' ' || c == '\t'; }  // RFC 9110 §5.6.3

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

// RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ).
// Returns thousandths, or -1 when malformed.
int parse_qvalue(std::string_view s) {
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return -1;
  int whole = s[0] - '0';
  int frac = 0;
  if (s.size() > 1) {
    if (s[1] != '.' || s.size() > 5) return -1;
    int scale = 100;
    for (std::size_t i = 2; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      frac += (s[i] - '0') * scale;
      scale /= 10;
    }
  }
  if (whole == 1 && frac != 0) return -1;
  return whole * 1000 + frac;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool parse_query(std::string_view query, std::size_t max_params, std::size_t max_value_bytes,
                 std::vector<QueryParam>& out, QueryError& error) {
  out.clear();
  auto fail = [&error](std::string parameter, std::string message) {
    error = {std::move(parameter), std::move(message)};
    return false;
  };
  return for_each_piece(query, '&', [&](std::string_view piece) {
    if (piece.empty()) return true;
    if (out.size() == max_params) {
      return fail("", "more than " + std::to_string(max_params) + " query parameters");
    }
    std::size_t eq = piece.find('=');
    std::string_view raw_value = eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
    auto name = percent_decode(piece.substr(0, eq), true);
    if (!name) return fail("", "malformed percent-encoding in a query parameter name");
    if (name->size() > 64) return fail("", "query parameter name longer than 64 bytes");
    auto value = percent_decode(raw_value, true);
    if (!value) return fail(*name, "malformed percent-encoding");
    if (value->size() > max_value_bytes) {
      return fail(*name, "longer than " + std::to_string(max_value_bytes) + " bytes");
    }
    for (const auto& p : out) {
      if (p.name == *name) return fail(*name, "given more than once");
    }
    out.push_back({std::move(*name), std::move(*value)});
    return true;
  });
}

bool accepts_gzip(std::string_view field) {
  int gzip_q = -1;
  int star_q = -1;
  for_each_piece(field, ',', [&](std::string_view element) {
    std::size_t semi = element.find(';');
    std::string_view coding = trim_ows(element.substr(0, semi));
    if (coding.empty()) return true;
    int q = 1000;
    if (semi != std::string_view::npos) {
      for_each_piece(element.substr(semi + 1), ';', [&q](std::string_view raw) {
        std::string_view param = trim_ows(raw);
        if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
          q = parse_qvalue(param.substr(2));
        }
        return true;
      });
    }
    if (q < 0) return true;  // malformed weight: ignore the element
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
      gzip_q = std::max(gzip_q, q);
    } else if (coding == "*") {
      star_q = std::max(star_q, q);
    }
    return true;
  });
  if (gzip_q >= 0) return gzip_q > 0;
  return star_q > 0;
}

bool if_none_match_hits(std::string_view field, std::string_view etag, std::string_view alt_etag) {
  std::size_t i = 0;
  while (i < field.size()) {
    char c = field[i];
    if (is_ows(c) || c == ',') {
      ++i;
      continue;
    }
    if (c == '*') return true;
    if (c == 'W' && i + 1 < field.size() && field[i + 1] == '/') i += 2;
    if (i >= field.size() || field[i] != '"') return false;  // malformed: no match
    std::size_t close = field.find('"', i + 1);
    if (close == std::string_view::npos) return false;
    std::string_view tag = field.substr(i, close - i + 1);
    if (tag == etag || (!alt_etag.empty() && tag == alt_etag)) return true;
    i = close + 1;
  }
  return false;
}

std::string gzip_etag(std::string_view etag) {
  std::string out(etag);
  if (out.size() >= 2 && out.back() == '"') {
    out.insert(out.size() - 1, "-gz");
  } else {
    out += "-gz";
  }
  return out;
}

std::optional<std::string> gzip_compress(std::string_view in, int level) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip wrapper (RFC 1952) instead of zlib's.
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::nullopt;
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(in.size())));
  // zlib's API takes non-const input pointers but does not write to them.
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  std::size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return std::nullopt;
  out.resize(produced);
  return out;
}

std::optional<packet::IpAddress> parse_ip(std::string_view text) {
  auto ip = packet::IpAddress::parse(text);
  if (!ip) return std::nullopt;
  return ip->unmapped();
}

std::string json_string(std::string_view text) {
  return nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

server::Response json_error(int status, std::string_view message, std::string_view parameter) {
  std::string_view code = "error";
  switch (status) {
    case 400: code = "bad_request"; break;
    case 403: code = "forbidden"; break;
    case 404: code = "not_found"; break;
    case 405: code = "method_not_allowed"; break;
    case 413: code = "content_too_large"; break;  // RFC 9110 §15.5.14
    case 414: code = "uri_too_long"; break;
    case 431: code = "request_header_fields_too_large"; break;  // RFC 6585 §5
    case 500: code = "internal_error"; break;
    case 501: code = "not_implemented"; break;
    case 503: code = "service_unavailable"; break;
    default: break;
  }
  nlohmann::json body = {{"error", code}, {"message", message}};
  if (!parameter.empty()) body["parameter"] = parameter;
  server::Response r;
  r.status = status;
  r.headers = {{"content-type", "application/json"},
               {"cache-control", "no-store"},
               {"x-content-type-options", "nosniff"}};
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

std::string rfc3339(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  std::size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf.data(), n);
}

}  // namespace huginn::api::detail
