#include "huginn/api/router.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <variant>

#include "api/detail/http_util.hpp"
#include "api/detail/metrics_text.hpp"
#include "huginn/api/assets.hpp"

namespace huginn::api {
namespace {

using server::Request;
using server::Response;

// Which built-in route answered, for the response counters.
enum class RouteId : std::uint8_t {
  kProfiles,
  kProfile,
  kMe,
  kStats,
  kHealth,
  kMetrics,
  kOpenapi,
  kAsset,
  kMounted,
  kOther,  // Gate refusals, unknown paths, 500s
};
constexpr std::size_t kRouteCount = 10;
constexpr std::array<std::string_view, kRouteCount> kRouteNames = {
    "profiles", "profile", "me", "stats", "health", "metrics", "openapi", "asset", "mounted", "other"};
constexpr std::array<std::string_view, 5> kClassNames = {"1xx", "2xx", "3xx", "4xx", "5xx"};

constexpr std::array<Router::RouteInfo, 8> kRoutes = {{
    {"/api/profiles", "GET, HEAD, DELETE"},
    {"/api/profiles/{ip}", "GET, HEAD, DELETE"},
    {"/api/me", "GET, HEAD"},
    {"/api/stats", "GET, HEAD"},
    {"/api/health", "GET, HEAD"},
    {"/api/openapi.json", "GET, HEAD"},
    {"/metrics", "GET, HEAD"},
    {"/", "GET, HEAD"},
}};
constexpr std::string_view kGetHead = "GET, HEAD";
constexpr std::string_view kGetHeadDelete = "GET, HEAD, DELETE";
constexpr std::string_view kProfilesPrefix = "/api/profiles/";

// Cache-Control per resource (RFC 9111 §5.2.2):
// - API data: "no-cache" — a cache may keep it but must revalidate, which
//   the ETag makes a body-less 304 while nothing changed.
// - /api/me depends on the connection's address, not on any header a
//   shared cache could key on: "private, no-cache".
// - /metrics, /api/health, DELETE results and errors: "no-store"; a
//   stale copy of either is worse than none.
// - Dashboard assets: "no-cache" + ETag. Their names carry no content hash,
//   so a long max-age would pin an old app.js after an upgrade; a
//   revalidation costs one round trip and no body.
constexpr std::string_view kNoCache = "no-cache";
constexpr std::string_view kPrivateNoCache = "private, no-cache";
constexpr std::string_view kNoStore = "no-store";

constexpr std::string_view kJsonType = "application/json";
constexpr std::string_view kMetricsType = "text/plain; version=0.0.4; charset=utf-8";

// The dashboard loads nothing from elsewhere and runs no inline script.
constexpr std::string_view kHtmlCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

bool method_in(std::string_view method, std::string_view allow) {
  // `allow` is an Allow value: "GET, HEAD, DELETE".
  return !detail::for_each_piece(allow, ',', [method](std::string_view m) {
    while (!m.empty() && m.front() == ' ') m.remove_prefix(1);
    return m != method;
  });
}

bool has_json_path_prefix(std::string_view path) {
  return path == "/api" || path.starts_with("/api/");
}

Response method_not_allowed(std::string_view allow, bool json) {
  Response r;
  if (json) {
    r = detail::json_error(405, "method not allowed; allowed: " + std::string(allow));
  } else {
    r.status = 405;
    r.headers = {{"content-type", "text/plain; charset=utf-8"}, {"cache-control", std::string(kNoStore)}};
    r.body = "405 method not allowed\n";
  }
  r.headers.emplace_back("allow", std::string(allow));
  return r;
}

Response not_found_text() {
  Response r;
  r.status = 404;
  r.headers = {{"content-type", "text/plain; charset=utf-8"},
               {"cache-control", std::string(kNoStore)},
               {"x-content-type-options", "nosniff"}};
  r.body = "404 not found\n";
  return r;
}

std::optional<std::uint64_t> parse_decimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return std::string(buf, 16);
}

// FNV-1a: stable across runs and builds, unlike std::hash.
std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Thrown by the parameter parser, turned into a 400 naming `parameter`.
struct BadParameter {
  std::string parameter;
  std::string message;
};

}  // namespace

struct Router::Impl {
  store::ProfileStore& store;
  const StatusSource& status;
  RouterConfig config;
  Gate gate;
  // Distinguishes validators across restarts: the store's sequence
  // numbers start again at zero, and a client's cached "seq 12" from the
  // previous run must not match this run's "seq 12".
  std::string boot_tag;
  // Assets compressed once at start-up (level 9), by path; absent when
  // gzip would not be smaller or the asset is below the threshold.
  std::map<std::string_view, std::string, std::less<>> gzipped_assets;
  std::array<std::array<std::atomic<std::uint64_t>, 5>, kRouteCount> responses{};

  // Recently built list bodies (identity and gzip) by the strong ETag of
  // their representation and the query (cache_key()). Every open dashboard
  // polls the same list, so one query and one compression per store change
  // serve them all: a 1000-profile list costs ~0.2 ms to build and ~3 ms to
  // compress, a lookup ~1 µs. An ETag names exactly one body, so a hit is
  // never stale. Bounded in entries and bytes; the oldest entry goes first.
  struct BodyCache {
    static constexpr std::size_t kMaxEntries = 32;
    static constexpr std::size_t kMaxBytes = 16 * 1024 * 1024;
    std::mutex mutex;
    std::deque<std::pair<std::string, std::shared_ptr<const std::string>>> entries;
    std::size_t bytes = 0;

    std::shared_ptr<const std::string> find(std::string_view etag) {
      std::lock_guard lock(mutex);
      for (const auto& [tag, body] : entries) {
        if (tag == etag) return body;
      }
      return nullptr;
    }
    void insert(std::string etag, std::shared_ptr<const std::string> body) {
      if (body->size() > kMaxBytes / 4) return;
      std::lock_guard lock(mutex);
      for (const auto& e : entries) {
        if (e.first == etag) return;
      }
      bytes += body->size();
      entries.emplace_back(std::move(etag), std::move(body));
      while (entries.size() > kMaxEntries || bytes > kMaxBytes) {
        bytes -= entries.front().second->size();
        entries.pop_front();
      }
    }
  };
  mutable BodyCache body_cache;

  struct Mount {
    std::string methods;
    server::Handler handler;
  };
  std::map<std::string, Mount, std::less<>> mounts;

  Impl(store::ProfileStore& s, const StatusSource& st, RouterConfig c)
      : store(s), status(st), config(std::move(c)), gate(config.gate) {
    if (!config.clock) config.clock = [] { return std::chrono::system_clock::now(); };
    std::random_device rd;
    boot_tag = hex64((static_cast<std::uint64_t>(rd()) << 32) ^ rd()).substr(0, 8);
    for (const Asset& a : embedded_assets()) {
      if (a.body.size() < config.gzip_min_bytes) continue;
      auto gz = detail::gzip_compress(a.body, 9);
      if (gz && gz->size() < a.body.size()) gzipped_assets.emplace(a.path, std::move(*gz));
    }
  }

  void count(RouteId id, int status_code) {
    int cls = status_code / 100 - 1;
    if (cls < 0 || cls > 4) cls = 4;
    responses[static_cast<std::size_t>(id)][static_cast<std::size_t>(cls)].fetch_add(
        1, std::memory_order_relaxed);
  }

  std::string wrap_etag(std::string_view store_etag) const {
    std::string_view inner = store_etag;
    if (inner.size() >= 2 && inner.front() == '"' && inner.back() == '"') {
      inner = inner.substr(1, inner.size() - 2);
    }
    std::string out = "\"" + boot_tag + "-";
    out += inner;
    out += '"';
    return out;
  }

  // BodyCache key of a list representation. The list ETag carries only a
  // 64-bit hash of the query, so the query itself joins the key: a crafted
  // hash collision must not hand one query's cached body to another.
  static std::string cache_key(std::string_view etag, std::string_view query) {
    std::string key(etag);
    key += '\n';
    key += query;
    return key;
  }

  // Applies validators, compression and HEAD to a 200 response.
  // `precompressed`: a ready gzip body for this representation, if any.
  // `list_query`: set for lists, whose gzip body goes to the BodyCache
  // (single profiles compress in microseconds and would only churn it).
  Response finish(const Request& req, Response r, std::string_view etag,
                  const std::string* precompressed = nullptr,
                  const std::string* list_query = nullptr) const {
    r.headers.emplace_back("vary", "accept-encoding");
    bool gzip_ok = false;
    if (auto ae = req.header("accept-encoding")) gzip_ok = detail::accepts_gzip(*ae);
    std::string gz_etag = etag.empty() ? std::string() : detail::gzip_etag(etag);
    bool use_gzip = gzip_ok && (precompressed != nullptr || r.body.size() >= config.gzip_min_bytes);

    if (!etag.empty()) {
      auto inm = req.header("if-none-match");
      if (inm && detail::if_none_match_hits(*inm, etag, gz_etag)) {
        // RFC 9110 §15.4.5: a 304 carries the validators and caching
        // fields the 200 would have carried, and no content.
        Response nm;
        nm.status = 304;
        for (auto& h : r.headers) {
          if (h.first == "cache-control" || h.first == "vary") nm.headers.push_back(std::move(h));
        }
        nm.headers.emplace_back("etag", use_gzip ? gz_etag : std::string(etag));
        return nm;
      }
    }
    if (use_gzip) {
      if (precompressed != nullptr) {
        r.body = *precompressed;
        r.headers.emplace_back("content-encoding", "gzip");
      } else if (auto cached = list_query == nullptr ? nullptr
                                                     : body_cache.find(cache_key(gz_etag, *list_query))) {
        r.body = *cached;
        r.headers.emplace_back("content-encoding", "gzip");
      } else if (auto gz = detail::gzip_compress(r.body, config.gzip_level)) {
        if (list_query != nullptr) {
          body_cache.insert(cache_key(gz_etag, *list_query), std::make_shared<const std::string>(*gz));
        }
        r.body = std::move(*gz);
        r.headers.emplace_back("content-encoding", "gzip");
      } else {
        use_gzip = false;
      }
    }
    if (!etag.empty()) r.headers.emplace_back("etag", use_gzip ? gz_etag : std::string(etag));
    // HEAD keeps the body: the transports send its Content-Length and drop
    // the bytes (RFC 9110 §9.3.2).
    return r;
  }

  static Response json_ok(std::string body, std::string_view cache_control, int status_code = 200) {
    Response r;
    r.status = status_code;
    r.headers = {{"content-type", std::string(kJsonType)},
                 {"cache-control", std::string(cache_control)},
                 {"x-content-type-options", "nosniff"}};
    r.body = std::move(body);
    return r;
  }

  // Any query parameter on a route that takes none (other than `allowed`,
  // a decimal number) is a 400.
  std::optional<Response> reject_params(const Request& req, std::string_view allowed = {}) const {
    if (req.query.empty()) return std::nullopt;
    auto parsed = query_params(req);
    if (auto* bad = std::get_if<Response>(&parsed)) return std::move(*bad);
    for (const auto& [name, value] : std::get<std::vector<detail::QueryParam>>(parsed)) {
      if (allowed.empty() || name != allowed) return detail::json_error(400, "unknown query parameter", name);
      if (!parse_decimal(value)) return detail::json_error(400, "expected a number", name);
    }
    return std::nullopt;
  }

  // The query's parameters within the configured bounds, or the 400.
  std::variant<std::vector<detail::QueryParam>, Response> query_params(const Request& req) const {
    std::vector<detail::QueryParam> params;
    detail::QueryError err;
    if (!detail::parse_query(req.query, config.max_query_params, config.max_param_bytes, params, err)) {
      return detail::json_error(400, err.message, err.parameter);
    }
    return params;
  }

  store::Query parse_profile_query(std::vector<detail::QueryParam> params) const {
    store::Query q;
    q.limit = config.default_limit;
    std::optional<bool> descending;
    for (auto& [name, value] : params) {
      if (name == "os" || name == "browser" || name == "ja4" || name == "q") {
        if (value.empty()) continue;  // an empty filter box filters nothing
        if (name == "os") q.os = std::move(value);
        if (name == "browser") q.browser = std::move(value);
        if (name == "ja4") q.ja4 = std::move(value);
        if (name == "q") q.q = std::move(value);
      } else if (name == "has") {
        detail::for_each_piece(value, ',', [&q](std::string_view item) {
          if (item == "tcp") {
            q.has |= store::kHasTcp;
          } else if (item == "http") {
            q.has |= store::kHasHttp;
          } else if (item == "tls") {
            q.has |= store::kHasTls;
          } else if (item == "h2") {
            q.has |= store::kHasHttp2;
          } else {
            throw BadParameter{"has", "expected a comma-separated list of tcp, http, tls, h2"};
          }
          return true;
        });
      } else if (name == "sort") {
        using K = store::Query::SortKey;
        if (value == "last_seen") {
          q.sort = K::kLastSeen;
        } else if (value == "first_seen") {
          q.sort = K::kFirstSeen;
        } else if (value == "ip") {
          q.sort = K::kIp;
        } else if (value == "connections") {
          q.sort = K::kConnections;
        } else if (value == "os") {
          q.sort = K::kOs;
        } else {
          throw BadParameter{"sort", "expected one of last_seen, first_seen, ip, connections, os"};
        }
      } else if (name == "order") {
        if (value == "asc") {
          descending = false;
        } else if (value == "desc") {
          descending = true;
        } else {
          throw BadParameter{"order", "expected asc or desc"};
        }
      } else if (name == "limit") {
        auto v = parse_decimal(value);
        if (!v || *v > config.max_limit) {
          throw BadParameter{"limit", "expected an integer from 0 to " + std::to_string(config.max_limit)};
        }
        q.limit = static_cast<std::size_t>(*v);
      } else if (name == "offset") {
        auto v = parse_decimal(value);
        if (!v || *v > 1'000'000'000ull) {
          throw BadParameter{"offset", "expected an integer from 0 to 1000000000"};
        }
        q.offset = static_cast<std::size_t>(*v);
      } else {
        throw BadParameter{name, "unknown query parameter"};
      }
    }
    // Times and counts read best newest/largest first; names A to Z.
    using K = store::Query::SortKey;
    q.descending = descending.value_or(q.sort != K::kIp && q.sort != K::kOs);
    return q;
  }

  std::string list_etag(std::uint64_t seq, std::string_view query) const {
    return "\"" + boot_tag + "-l" + std::to_string(seq) + "-" + hex64(fnv1a(query)) + "\"";
  }

  Response profiles(const Request& req) {
    if (req.method == "DELETE") {
      if (auto bad = reject_params(req)) return *bad;
      std::size_t n = store.clear();
      return json_ok("{\"deleted\":" + std::to_string(n) + "}", kNoStore);
    }
    auto parsed = query_params(req);
    if (auto* bad = std::get_if<Response>(&parsed)) return std::move(*bad);
    auto& params = std::get<std::vector<detail::QueryParam>>(parsed);
    if (auto poll = parse_poll(params)) return changes(req, *poll);
    store::Query q;
    try {
      q = parse_profile_query(std::move(params));
    } catch (const BadParameter& bad) {
      return detail::json_error(400, bad.message, bad.parameter);
    }
    // Before querying: nothing changed since the client's copy (304), or
    // the body for the current sequence number is already built. Sound
    // because a query reads the sequence number before it scans: a body
    // labelled S holds every change up to S (perhaps some later ones too),
    // and any later change moves the label on.
    {
      std::string etag = list_etag(store.seq(), req.query);
      auto inm = req.header("if-none-match");
      if (inm && detail::if_none_match_hits(*inm, etag, detail::gzip_etag(etag))) {
        return finish(req, json_ok({}, kNoCache), etag);
      }
      auto ae = req.header("accept-encoding");
      if (ae && detail::accepts_gzip(*ae)) {
        if (auto gz = body_cache.find(cache_key(detail::gzip_etag(etag), req.query))) {
          return finish(req, json_ok({}, kNoCache), etag, gz.get());
        }
      }
      if (auto body = body_cache.find(cache_key(etag, req.query))) {
        return finish(req, json_ok(*body, kNoCache), etag, nullptr, &req.query);
      }
    }
    store::QueryResult result = store.query(q);
    std::size_t bytes = 64;
    for (const auto& p : result.profiles) bytes += p->json.size() + 1;
    std::string body;
    body.reserve(bytes);
    body += "{\"profiles\":[";
    for (std::size_t i = 0; i < result.profiles.size(); ++i) {
      if (i != 0) body += ',';
      result.profiles[i]->json.append_to(body);
    }
    body += "],\"total\":";
    body += std::to_string(result.total);
    body += ",\"seq\":";
    body += std::to_string(result.seq);
    body += '}';
    std::string etag = list_etag(result.seq, req.query);
    body_cache.insert(cache_key(etag, req.query), std::make_shared<const std::string>(body));
    return finish(req, json_ok(std::move(body), kNoCache), etag, nullptr, &req.query);
  }

  // GET /api/profiles?since=SEQ[&wait=SECONDS]: the polling fallback of
  // the real-time channels (docs/realtime.md). Takes no other parameter.
  struct Poll {
    std::uint64_t since = 0;
    std::chrono::seconds wait{0};
    std::optional<Response> error;
  };
  static constexpr std::uint64_t kMaxWaitSeconds = 60;
  static constexpr std::size_t kMaxPollEvents = 1000;

  // A parameter decoded to "since" selects the poll (`q=since=` is a
  // filter, `%73ince=1` a poll); nullopt: a list.
  std::optional<Poll> parse_poll(const std::vector<detail::QueryParam>& params) const {
    const auto is_since = [](const detail::QueryParam& p) { return p.name == "since"; };
    if (std::none_of(params.begin(), params.end(), is_since)) return std::nullopt;
    Poll poll;
    for (const auto& [name, value] : params) {
      if (name == "since") {
        auto v = parse_decimal(value);
        if (!v) {
          poll.error = detail::json_error(400, "expected a sequence number", "since");
          return poll;
        }
        poll.since = *v;
      } else if (name == "wait") {
        auto v = parse_decimal(value);
        if (!v || *v > kMaxWaitSeconds) {
          poll.error = detail::json_error(
              400, "expected whole seconds from 0 to " + std::to_string(kMaxWaitSeconds), "wait");
          return poll;
        }
        poll.wait = std::chrono::seconds(*v);
      } else {
        poll.error = detail::json_error(400, "not allowed together with since", name);
        return poll;
      }
    }
    return poll;
  }

  // The journal after `since`: {"reset":false,"seq":S,"changes":[...]} with
  // each change {"type":"profile","seq":N,"profile":{...}} or
  // {"type":"expired"|"deleted","seq":N,"ip":"..."}; or, when `since` is
  // older than the journal (or from another run), {"reset":true,"seq":S,
  // "profiles":[...every profile...]}. The ETag names the answer's seq, so
  // a poller that is up to date gets 304.
  Response changes(const Request& req, const Poll& poll) const {
    if (poll.error) return *poll.error;
    const store::Changes ch = store.changes_since(poll.since, kMaxPollEvents);
    std::string body;
    if (ch.reset) {
      auto all = store.snapshot();
      // The snapshot is taken after changes_since() fixed `ch.seq`; a
      // revision newer than that would come again in the journal after
      // `ch.seq` that the client asks for next.
      std::erase_if(all, [&](const store::ProfilePtr& p) { return p->seq > ch.seq; });
      body = "{\"reset\":true,\"seq\":" + std::to_string(ch.seq) + ",\"profiles\":[";
      for (std::size_t i = 0; i < all.size(); ++i) {
        if (i != 0) body += ',';
        all[i]->json.append_to(body);
      }
      body += "]}";
    } else {
      body = "{\"reset\":false,\"seq\":" + std::to_string(ch.seq) + ",\"changes\":[";
      bool first = true;
      for (const auto& e : ch.events) {
        if (!first) body += ',';
        first = false;
        body += "{\"type\":\"";
        body += e.profile ? "profile" : store::event_type_name(e.type);
        body += "\",\"seq\":" + std::to_string(e.seq);
        if (e.profile) {
          body += ",\"profile\":";
          e.profile->json.append_to(body);
        } else {
          body += ",\"ip\":\"" + e.ip_text + "\"";  // RFC 5952 text: nothing to escape
        }
        body += '}';
      }
      body += "]}";
    }
    const std::string etag = "\"" + boot_tag + "-c" + std::to_string(poll.since) + "-" +
                             std::to_string(ch.seq) + (ch.reset ? "r" : "") + "\"";
    return finish(req, json_ok(std::move(body), kNoCache), etag);
  }

  // Whether a long poll should wait: nothing after `since` yet.
  [[nodiscard]] bool poll_would_wait(const Request& req, Poll& poll) const {
    if (req.method != "GET" || req.path != "/api/profiles" || !config.waiter) return false;
    const auto params = query_params(req);
    const auto* list = std::get_if<std::vector<detail::QueryParam>>(&params);
    if (list == nullptr) return false;
    auto parsed = parse_poll(*list);
    if (!parsed || parsed->error || parsed->wait.count() == 0) return false;
    poll = *parsed;
    return store.seq() <= poll.since;
  }

  Response profile(const Request& req) {
    // `rev=N` names the revision an HTTP/2 push announced
    // (/api/profiles/{ip}?rev=N, docs/realtime.md); the current revision is
    // answered whatever N is, as the push already carried N itself.
    if (auto bad = reject_params(req, "rev")) return *bad;
    std::string_view raw = std::string_view(req.path).substr(kProfilesPrefix.size());
    auto text = detail::percent_decode(raw, false);
    std::optional<packet::IpAddress> ip;
    if (text) ip = detail::parse_ip(*text);
    if (!ip) return detail::json_error(400, "not an IPv4 or IPv6 address", "ip");
    if (req.method == "DELETE") {
      if (!store.erase(*ip)) return detail::json_error(404, "no profile for this address", "ip");
      Response r;
      r.status = 204;
      r.headers = {{"cache-control", std::string(kNoStore)}};
      return r;
    }
    store::ProfilePtr p = store.get(*ip);
    if (!p) return detail::json_error(404, "no profile for this address", "ip");
    return finish(req, json_ok(p->json.str(), kNoCache), wrap_etag(p->etag));
  }

  Response me(const Request& req) {
    if (auto bad = reject_params(req)) return *bad;
    packet::IpAddress ip = req.conn.peer.addr.unmapped();
    store::ProfilePtr p = store.get(ip);
    if (!p && !(ip == req.conn.peer.addr)) p = store.get(req.conn.peer.addr);
    if (!p) {
      std::string text = ip.to_rfc5952_string();
      nlohmann::json body = {
          {"error", "not_found"},
          {"message", "no profile for your address " + text +
                          " yet: it appears once the capture or this server has seen your "
                          "connection (a fresh TCP connection gives the SYN signature)"},
          {"ip", text}};
      Response r = json_ok(dump(body), kNoStore, 404);
      return r;
    }
    return finish(req, json_ok(p->json.str(), kPrivateNoCache), wrap_etag(p->etag));
  }

  Response stats(const Request& req) {
    if (auto bad = reject_params(req)) return *bad;
    store::ProfileStore::Breakdown b = store.breakdown();
    store::StoreCounters c = store.counters();
    ServiceStatus s = status.status();
    auto named = [](const std::vector<std::pair<std::string, std::size_t>>& v, const char* key) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& [name, n] : v) a.push_back({{key, name}, {"count", n}});
      return a;
    };
    nlohmann::json j = {
        {"seq", store.seq()},
        {"profiles", c.profiles},
        {"sections", {{"tcp", b.tcp}, {"http", b.http}, {"tls", b.tls}, {"http2", b.http2}}},
        {"by_os", named(b.by_os, "os")},
        {"by_browser", named(b.by_browser, "browser")},
        {"store",
         {{"observations", c.observations},
          {"created", c.created},
          {"updated", c.updated},
          {"expired", c.expired},
          {"evicted", c.evicted},
          {"deleted", c.deleted},
          {"republished", c.republished},
          {"journal_dropped", c.journal_dropped},
          {"approx_bytes", c.approx_bytes}}},
        {"capture",
         {{"state", capture_state_name(s.capture_state)},
          {"source", s.capture_source},
          {"packets", s.packets_seen},
          {"kernel_drops", s.kernel_drops},
          {"interface_drops", s.interface_drops},
          {"malformed", s.malformed},
          {"undecoded", s.undecoded}}},
    };
    return finish(req, json_ok(dump(j), kNoCache), {});
  }

  std::int64_t uptime_seconds(const ServiceStatus& s) const {
    auto up = std::chrono::duration_cast<std::chrono::seconds>(config.clock() - s.started_at).count();
    return up < 0 ? 0 : static_cast<std::int64_t>(up);
  }

  Response health(const Request& req) {
    if (auto bad = reject_params(req)) return *bad;
    ServiceStatus s = status.status();
    store::StoreCounters c = store.counters();
    std::string reason;
    if (s.capture_state == CaptureState::kUnavailable) {
      reason = "capture unavailable: " + (s.capture_error.empty() ? std::string("unknown error") : s.capture_error);
    } else if (!s.db_loaded) {
      reason = "p0f database not loaded" + (s.db_path.empty() ? std::string() : ": " + s.db_path);
    }
    nlohmann::json j = {
        {"status", reason.empty() ? "ok" : "unavailable"},
        {"capture",
         {{"state", capture_state_name(s.capture_state)}, {"source", s.capture_source}}},
        {"database", {{"path", s.db_path}, {"loaded", s.db_loaded}, {"signatures", s.db_signatures}}},
        {"store", {{"profiles", c.profiles}, {"seq", store.seq()}}},
        {"uptime_seconds", uptime_seconds(s)},
        {"started_at", detail::rfc3339(std::chrono::duration_cast<std::chrono::seconds>(
                                            s.started_at.time_since_epoch())
                                            .count())},
    };
    if (!s.capture_error.empty()) j["capture"]["error"] = s.capture_error;
    if (!reason.empty()) j["reason"] = reason;
    return finish(req, json_ok(dump(j), kNoStore, reason.empty() ? 200 : 503), {});
  }

  Response metrics(const Request& req) {
    if (auto bad = reject_params(req)) return *bad;
    ServiceStatus s = status.status();
    store::StoreCounters c = store.counters();
    detail::MetricsText m;
    auto counter = [&m](std::string_view name, std::string_view help, std::uint64_t v) {
      m.family(name, "counter", help);
      m.sample(v);
    };
    auto gauge = [&m](std::string_view name, std::string_view help, std::uint64_t v) {
      m.family(name, "gauge", help);
      m.sample(v);
    };
    // Store.
    gauge("huginn_store_profiles", "Profiles currently stored.", c.profiles);
    gauge("huginn_store_approx_bytes", "Approximate memory held by stored profiles.", c.approx_bytes);
    gauge("huginn_store_sequence", "Store-wide sequence number of the newest change.", store.seq());
    counter("huginn_store_observations_total", "Observations applied to the store.", c.observations);
    counter("huginn_store_profiles_created_total", "Profiles created.", c.created);
    counter("huginn_store_profiles_updated_total", "Profile updates.", c.updated);
    counter("huginn_store_profiles_expired_total", "Profiles dropped after the TTL.", c.expired);
    counter("huginn_store_profiles_evicted_total", "Profiles evicted at the profile cap.", c.evicted);
    counter("huginn_store_profiles_deleted_total", "Profiles deleted through the API.", c.deleted);
    counter("huginn_store_republished_total",
            "Revisions re-issued under a new seq when the realtime hub's coalescing interval ended.",
            c.republished);
    counter("huginn_store_journal_dropped_total", "Events pushed out of the bounded journal.",
            c.journal_dropped);
    // Capture.
    m.family("huginn_capture_state", "gauge", "Capture state: 1 for the current state, 0 otherwise.");
    for (CaptureState st : {CaptureState::kRunning, CaptureState::kFinished, CaptureState::kUnavailable,
                            CaptureState::kDisabled}) {
      m.sample(std::uint64_t{st == s.capture_state ? 1u : 0u}, {{"state", capture_state_name(st)}});
    }
    counter("huginn_capture_packets_total", "Packets read from the capture.", s.packets_seen);
    counter("huginn_capture_kernel_drops_total", "Packets the kernel dropped (pcap ps_drop).",
            s.kernel_drops);
    counter("huginn_capture_interface_drops_total", "Packets the interface dropped (pcap ps_ifdrop).",
            s.interface_drops);
    counter("huginn_capture_malformed_total", "Frames the decoder rejected as malformed.", s.malformed);
    counter("huginn_capture_undecoded_total", "Frames skipped: not IP/TCP, fragments and the like.",
            s.undecoded);
    // Database and process.
    gauge("huginn_database_loaded", "1 when the p0f database is loaded.", s.db_loaded ? 1 : 0);
    gauge("huginn_database_signatures", "Signatures in the loaded p0f database.", s.db_signatures);
    m.family("huginn_start_time_seconds", "gauge", "Start time of the process since the Unix epoch.");
    m.sample(std::chrono::duration<double>(s.started_at.time_since_epoch()).count());
    // Named counters of the analyzer and the server, one label value each.
    m.family("huginn_analyzer_events_total", "counter", "Analyzer events and anomalies by name.");
    for (const auto& [name, v] : s.analyzer_counters) m.sample(v, {{"event", name}});
    // A `_current` name is a level (open streams, waiting polls), not a
    // count of events: a gauge, so that rate() is never taken of it.
    const auto is_level = [](const auto& named) { return named.first.ends_with("_current"); };
    m.family("huginn_server_events_total", "counter", "HTTP server events by name.");
    for (const auto& named : s.server_counters) {
      if (!is_level(named)) m.sample(named.second, {{"event", named.first}});
    }
    m.family("huginn_server_current", "gauge", "HTTP server levels now (open streams, waiting polls) by name.");
    for (const auto& named : s.server_counters) {
      if (is_level(named)) m.sample(named.second, {{"name", named.first}});
    }
    m.family("huginn_api_responses_total", "counter", "API responses by route and status class.");
    for (std::size_t r = 0; r < kRouteCount; ++r) {
      for (std::size_t k = 0; k < 5; ++k) {
        std::uint64_t n = responses[r][k].load(std::memory_order_relaxed);
        if (n != 0) m.sample(n, {{"route", kRouteNames[r]}, {"code", kClassNames[k]}});
      }
    }
    Response r;
    r.headers = {{"content-type", std::string(kMetricsType)}, {"cache-control", std::string(kNoStore)}};
    r.body = m.take();
    return finish(req, std::move(r), {});
  }

  Response asset(const Request& req, const Asset& a) {
    Response r;
    r.headers = {{"content-type", std::string(a.content_type)},
                 {"cache-control", std::string(kNoCache)},
                 {"x-content-type-options", "nosniff"}};
    if (a.content_type.starts_with("text/html")) {
      r.headers.emplace_back("content-security-policy", std::string(kHtmlCsp));
      r.headers.emplace_back("referrer-policy", "no-referrer");
      r.headers.emplace_back("x-frame-options", "DENY");
    }
    r.body = std::string(a.body);
    auto it = gzipped_assets.find(a.path);
    bool gzip_ok = false;
    if (auto ae = req.header("accept-encoding")) gzip_ok = detail::accepts_gzip(*ae);
    return finish(req, std::move(r), a.etag,
                  (it != gzipped_assets.end() && gzip_ok) ? &it->second : nullptr);
  }

  // The built-in routes, after the Gate.
  Response dispatch(const Request& req, RouteId& id) {
    std::string_view path = req.path;
    const std::string& method = req.method;
    if (has_json_path_prefix(path)) {
      if (path == "/api/profiles") {
        id = RouteId::kProfiles;
        if (!method_in(method, kGetHeadDelete)) return method_not_allowed(kGetHeadDelete, true);
        return profiles(req);
      }
      if (path.starts_with(kProfilesPrefix)) {
        id = RouteId::kProfile;
        if (!method_in(method, kGetHeadDelete)) return method_not_allowed(kGetHeadDelete, true);
        return profile(req);
      }
      using Fn = Response (Impl::*)(const Request&);
      struct Simple {
        std::string_view path;
        RouteId id;
        Fn fn;
      };
      static constexpr std::array<Simple, 3> kSimple = {{
          {"/api/me", RouteId::kMe, &Impl::me},
          {"/api/stats", RouteId::kStats, &Impl::stats},
          {"/api/health", RouteId::kHealth, &Impl::health},
      }};
      for (const auto& s : kSimple) {
        if (path != s.path) continue;
        id = s.id;
        if (!method_in(method, kGetHead)) return method_not_allowed(kGetHead, true);
        return (this->*s.fn)(req);
      }
      if (const Asset* a = find_asset(path)) {  // /api/openapi.json
        id = RouteId::kOpenapi;
        if (!method_in(method, kGetHead)) return method_not_allowed(kGetHead, true);
        if (auto bad = reject_params(req)) return *bad;
        return asset(req, *a);
      }
      return detail::json_error(404, "no such API route");
    }
    if (path == "/metrics") {
      id = RouteId::kMetrics;
      if (!method_in(method, kGetHead)) return method_not_allowed(kGetHead, false);
      return metrics(req);
    }
    // Static assets: exact table lookup; the query is ignored so that a
    // cache-busting "?v=" does not break the page.
    const Asset* a = find_asset(path == "/" ? std::string_view("/index.html") : path);
    if (a == nullptr) return not_found_text();
    id = RouteId::kAsset;
    if (!method_in(method, kGetHead)) return method_not_allowed(kGetHead, false);
    return asset(req, *a);
  }

  Response respond(const Request& req, RouteId& id) {
    id = RouteId::kOther;
    if (auto denied = gate.check(req)) return std::move(*denied);
    return dispatch(req, id);
  }
};

Router::Router(store::ProfileStore& store, const StatusSource& status, RouterConfig config)
    : impl_(std::make_unique<Impl>(store, status, std::move(config))) {}

Router::~Router() = default;

Response Router::respond(const Request& request) {
  RouteId id = RouteId::kOther;
  Response r;
  try {
    r = impl_->respond(request, id);
  } catch (const std::exception&) {
    r = detail::json_error(500, "internal error");
  }
  impl_->count(id, r.status);
  return r;
}

void Router::handle(Request request, std::shared_ptr<server::ResponseWriter> writer) {
  try {
    if (!impl_->mounts.empty()) {
      auto it = impl_->mounts.find(request.path);
      if (it != impl_->mounts.end()) {
        if (auto denied = impl_->gate.check(request)) {
          impl_->count(RouteId::kOther, denied->status);
          writer->send(std::move(*denied));
          return;
        }
        if (!method_in(request.method, it->second.methods)) {
          impl_->count(RouteId::kMounted, 405);
          writer->send(method_not_allowed(it->second.methods, has_json_path_prefix(request.path)));
          return;
        }
        // The mounted handler's status is its own business (streams). The
        // writer is copied, not moved: the catch below may still need it.
        it->second.handler(std::move(request), writer);
        return;
      }
    }
    Impl::Poll poll;
    if (impl_->poll_would_wait(request, poll)) {
      // Long poll: answered on the waiter's thread when the store moves past
      // `since` or the wait ends (then with an empty change list). Refused
      // waits (too many waiters) are answered at once.
      auto shared = std::make_shared<Request>(std::move(request));
      bool waiting = impl_->config.waiter(poll.since, poll.wait, [this, shared, writer] {
        writer->send(respond(*shared));
      });
      if (!waiting) writer->send(respond(*shared));
      return;
    }
    writer->send(respond(request));
  } catch (const std::exception&) {
    // A mounted handler threw; if it already started a stream this send
    // is refused by the writer, which is all that can be done.
    impl_->count(RouteId::kOther, 500);
    writer->send(detail::json_error(500, "internal error"));
  }
}

server::Handler Router::handler() {
  return [this](Request request, std::shared_ptr<server::ResponseWriter> writer) {
    handle(std::move(request), std::move(writer));
  };
}

void Router::mount(std::string path, std::vector<std::string> methods, server::Handler handler) {
  std::string allow;
  for (const auto& m : methods) {
    if (!allow.empty()) allow += ", ";
    allow += m;
  }
  impl_->mounts[std::move(path)] = Impl::Mount{std::move(allow), std::move(handler)};
}

std::span<const Router::RouteInfo> Router::routes() { return kRoutes; }

std::vector<Router::ResponseCount> Router::response_counts() const {
  std::vector<ResponseCount> out;
  for (std::size_t r = 0; r < kRouteCount; ++r) {
    for (std::size_t k = 0; k < 5; ++k) {
      std::uint64_t n = impl_->responses[r][k].load(std::memory_order_relaxed);
      if (n != 0) out.push_back({kRouteNames[r], kClassNames[k], n});
    }
  }
  return out;
}

}  // namespace huginn::api
