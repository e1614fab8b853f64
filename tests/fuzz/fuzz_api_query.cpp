// The API's query strings and path parameter on arbitrary bytes:
// parse_query and percent_decode (src/api/detail/http_util.*), and what
// the Router makes of them on /api/profiles (filters, has, sort, order,
// limit, offset; since/wait), /api/profiles/{ip}[?rev=N] and /api/stats.
// The Router answers from a real ProfileStore holding three profiles.
// Beyond "no crash", a violation traps:
//  - percent_decode never grows its input, is the identity on text without
//    '%' and '+', and undoes %XX-encoding of any bytes (RFC 3986 §2.1);
//  - parse_query either fails with a message or returns what splitting at
//    '&' and the first '=' and decoding gives (empty pieces skipped), with
//    every limit kept: parameter count, 64-byte names, value bytes, no
//    repeated name;
//  - the Router answers only 200, 400 or 404 (no 5xx, no other code), with
//    a JSON body; a 400 is the documented error object and repeats
//    parse_query's message when that is what failed;
//  - /api/profiles answers 200 exactly when every parameter keeps to
//    docs/api.md's table (or, with a parameter named `since`, to the
//    polling form: `since` and `wait` up to 60), 400 otherwise; a list
//    never holds more than `limit` (or the default 100) profiles, nor more
//    than the store has; routes that take no parameter (or only `rev`)
//    answer 200 exactly when there is none (or only decimal `rev`s).
//
// Input: byte 0 bits 0-1 pick the route (0 /api/profiles?<rest>,
// 1 /api/profiles/<rest> with <rest> split at its first '?',
// 2 /api/stats?<rest>, 3 /api/profiles/10.0.0.1?<rest>); bit 2 picks
// small parse_query limits for the direct check.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/detail/http_util.hpp"
#include "huginn/analyzer/observation.hpp"
#include "huginn/api/router.hpp"
#include "huginn/api/status.hpp"
#include "huginn/store/profile_store.hpp"

namespace {

namespace api = huginn::api;
namespace ad = huginn::api::detail;
using huginn::packet::IpAddress;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// RFC 3986 §2.1, every byte: "%41%7A...".
std::string encode_all(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto b = static_cast<std::uint8_t>(c);
    out.push_back('%');
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

void check_percent_decode(std::string_view in) {
  for (const bool plus : {false, true}) {
    const auto d = ad::percent_decode(in, plus);
    if (d) check(d->size() <= in.size());
    if (in.find_first_of("%+") == std::string_view::npos) check(d && *d == in);
    const auto back = ad::percent_decode(encode_all(in), plus);
    check(back && *back == in);
  }
}

// The pieces parse_query must return, by a second reading of its contract.
std::optional<std::vector<ad::QueryParam>> reference_split(std::string_view query) {
  std::vector<ad::QueryParam> out;
  std::size_t pos = 0;
  while (pos <= query.size()) {
    std::size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view piece = query.substr(pos, end - pos);
    pos = end + 1;
    if (piece.empty()) continue;
    const std::size_t eq = piece.find('=');
    auto name = ad::percent_decode(piece.substr(0, eq), true);
    auto value = ad::percent_decode(eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1), true);
    if (!name || !value) return std::nullopt;
    out.push_back({std::move(*name), std::move(*value)});
  }
  return out;
}

void check_parse_query(std::string_view query, std::size_t max_params, std::size_t max_value) {
  std::vector<ad::QueryParam> got;
  ad::QueryError err;
  const bool ok = ad::parse_query(query, max_params, max_value, got, err);
  const auto ref = reference_split(query);
  if (!ok) {
    check(!err.message.empty());
    // Only a stated limit, a bad escape or a repeat fails.
    if (ref) {
      bool over = ref->size() > max_params;
      for (std::size_t i = 0; i < ref->size() && !over; ++i) {
        const auto& p = (*ref)[i];
        over = p.name.size() > 64 || p.value.size() > max_value;
        for (std::size_t j = 0; j < i && !over; ++j) over = (*ref)[j].name == p.name;
      }
      check(over);
    }
    return;
  }
  check(ref.has_value() && ref->size() == got.size());
  check(got.size() <= max_params);
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    check(got[i].name == (*ref)[i].name && got[i].value == (*ref)[i].value);
    check(got[i].name.size() <= 64 && got[i].value.size() <= max_value);
    for (std::size_t j = 0; j < i; ++j) check(got[j].name != got[i].name);
    bytes += got[i].name.size() + got[i].value.size();
  }
  check(bytes <= query.size());
}

class FixedStatus final : public api::StatusSource {
 public:
  [[nodiscard]] api::ServiceStatus status() const override { return {}; }
};

huginn::analyzer::Observation observation(huginn::analyzer::ObservationKind kind, const IpAddress& ip,
                                          std::int64_t ts_s) {
  huginn::analyzer::Observation o;
  o.kind = kind;
  o.ts_us = ts_s * 1'000'000;
  o.client.addr = ip;
  o.client.port = static_cast<std::uint16_t>(40000 + ts_s);
  o.server.addr = IpAddress::v4(192, 0, 2, 1);
  o.server.port = 443;
  o.subject = huginn::analyzer::Subject::kClient;
  return o;
}

constexpr std::size_t kProfiles = 3;

// A store with kProfiles profiles (a Linux SYN, a TLS client, an IPv6 HTTP
// client) and a Router with the default configuration over it.
struct Rig {
  huginn::store::ProfileStore store{huginn::store::StoreConfig{}};
  FixedStatus status;
  api::RouterConfig config;
  std::unique_ptr<api::Router> router;

  Rig() {
    using huginn::analyzer::ObservationKind;
    auto syn = observation(ObservationKind::kSyn, IpAddress::v4(10, 0, 0, 1), 1000);
    syn.signature = "4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0";
    huginn::analyzer::SigMatchInfo m;
    m.label = "Linux 3.11 and newer";
    m.line = 1;
    syn.match = m;
    syn.params = "none";
    store.apply(syn);
    auto tls = observation(ObservationKind::kTlsClient, IpAddress::v4(10, 0, 0, 2), 1001);
    huginn::analyzer::TlsDetails t;
    t.ja4 = "t13d1516h2_8daaf6152771_02713d6af862";
    t.ja4_stable = t.ja4;
    t.sni = "example.test";
    tls.tls = t;
    store.apply(tls);
    std::array<std::uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8};
    v6[15] = 7;
    auto http = observation(ObservationKind::kHttpRequest, IpAddress::v6(v6), 1002);
    http.signature = "1:Host,User-Agent,Accept=[*/*]::";
    http.http.method = "GET";
    http.http.path = "/";
    http.http.user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    http.http.header_names = {"Host", "User-Agent", "Accept"};
    store.apply(http);
    router = std::make_unique<api::Router>(store, status, config);
  }
};

Rig& rig() {
  static Rig r;
  return r;
}

huginn::server::Response get(std::string path, std::string query) {
  huginn::server::Request req;
  req.method = "GET";
  req.target = query.empty() ? path : path + "?" + query;
  req.path = std::move(path);
  req.query = std::move(query);
  req.authority = "127.0.0.1:8080";
  req.conn.id = 1;
  req.conn.peer.addr = IpAddress::v4(127, 0, 0, 1);
  req.conn.peer.port = 50000;
  req.conn.local.addr = IpAddress::v4(127, 0, 0, 1);
  req.conn.local.port = 8080;
  return rig().router->respond(req);
}

// Every answer: 200, 400 or 404 with a JSON body; an error is the
// documented object. Returns the parsed body.
nlohmann::json check_response(const huginn::server::Response& r) {
  check(r.status == 200 || r.status == 400 || r.status == 404);
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  check(!j.is_discarded() && j.is_object());
  if (r.status != 200) {
    check(j.contains("error") && j["error"].is_string());
    check(j.contains("message") && j["message"].is_string() && !j["message"].get<std::string>().empty());
    if (r.status == 400) check(j["error"] == "bad_request");
    if (j.contains("parameter")) check(j["parameter"].is_string());
  }
  return j;
}

bool is_decimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

void check_profiles(const std::string& query) {
  const api::RouterConfig& cfg = rig().config;
  const auto r = get("/api/profiles", query);
  const nlohmann::json j = check_response(r);
  check(r.status != 404);
  std::vector<ad::QueryParam> params;
  ad::QueryError err;
  if (!ad::parse_query(query, cfg.max_query_params, cfg.max_param_bytes, params, err)) {
    check(r.status == 400 && j["message"] == err.message);
    return;
  }
  // docs/api.md: `since` turns the list into the polling fallback, which
  // takes `wait` and nothing else.
  const bool poll = std::any_of(params.begin(), params.end(),
                                [](const ad::QueryParam& p) { return p.name == "since"; });
  // docs/api.md's table: a query that keeps to it is answered (200),
  // anything else is a 400.
  std::size_t limit = cfg.default_limit;
  bool valid = true;
  for (const auto& p : params) {
    const std::string_view v = p.value;
    const bool number = is_decimal(v);
    if (poll) {
      valid = valid && ((p.name == "since" && number) ||
                        (p.name == "wait" && number && std::stoull(p.value) <= 60));
    } else if (p.name == "os" || p.name == "browser" || p.name == "ja4" || p.name == "q") {
      // any text
    } else if (p.name == "has") {
      std::size_t pos = 0;
      while (valid) {
        const std::size_t comma = std::min(v.find(',', pos), v.size());
        const std::string_view item = v.substr(pos, comma - pos);
        valid = item == "tcp" || item == "http" || item == "tls" || item == "h2";
        if (comma == v.size()) break;
        pos = comma + 1;
      }
    } else if (p.name == "sort") {
      valid = valid && (v == "last_seen" || v == "first_seen" || v == "ip" || v == "connections" || v == "os");
    } else if (p.name == "order") {
      valid = valid && (v == "asc" || v == "desc");
    } else if (p.name == "limit") {
      valid = valid && number && std::stoull(p.value) <= cfg.max_limit;
      if (valid) limit = std::stoull(p.value);
    } else if (p.name == "offset") {
      valid = valid && number && std::stoull(p.value) <= 1'000'000'000ULL;
    } else {
      valid = false;
    }
  }
  check((r.status == 200) == valid);
  if (r.status != 200) return;
  if (poll) {
    check(j.contains("seq"));
    return;
  }
  check(limit <= cfg.max_limit);
  check(j.contains("profiles") && j["profiles"].is_array() && j.contains("total"));
  check(j["profiles"].size() <= limit && j["profiles"].size() <= kProfiles);
  check(j["total"].get<std::size_t>() <= kProfiles);
}

void check_profile_path(std::string_view rest) {
  const std::size_t q = rest.find('?');
  const std::string path = "/api/profiles/" + std::string(rest.substr(0, q));
  const std::string query(q == std::string_view::npos ? std::string_view{} : rest.substr(q + 1));
  const auto r = get(path, query);
  const nlohmann::json j = check_response(r);
  // Only a stored profile is found, whatever the path spelled.
  if (r.status == 200) {
    check(j.contains("ip") && j["ip"].is_string());
    const std::string ip = j["ip"].get<std::string>();
    check(ip == "10.0.0.1" || ip == "10.0.0.2" || ip == "2001:db8::7");
  }
}

// A route that takes no parameter, or only `allowed` with a decimal
// value: 200 exactly when the query holds nothing else.
void check_only(const std::string& path, const std::string& query, std::string_view allowed) {
  const auto r = get(path, query);
  check_response(r);
  std::vector<ad::QueryParam> params;
  ad::QueryError err;
  const api::RouterConfig& cfg = rig().config;
  bool ok = ad::parse_query(query, cfg.max_query_params, cfg.max_param_bytes, params, err);
  for (const auto& p : params) ok = ok && !allowed.empty() && p.name == allowed && is_decimal(p.value);
  check((r.status == 200) == ok);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  // Below the Gate's 8 KiB request-target bound (a 414 is not this
  // target's concern).
  const std::string rest(reinterpret_cast<const char*>(data) + 1, std::min<std::size_t>(size - 1, 4096));
  check_percent_decode(rest);
  if ((control & 4) != 0) {
    check_parse_query(rest, 2, 8);
  } else {
    check_parse_query(rest, 16, 256);
  }
  switch (control & 3) {
    case 0:
      check_profiles(rest);
      break;
    case 1:
      check_profile_path(rest);
      break;
    case 2:
      check_only("/api/stats", rest, {});
      break;
    default:
      check_only("/api/profiles/10.0.0.1", rest, "rev");
      break;
  }
  return 0;
}
