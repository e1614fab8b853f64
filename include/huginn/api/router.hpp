#pragma once
// The JSON API, /metrics and the embedded dashboard behind one
// server::Handler (docs/api.md; OpenAPI 3.1 in docs/openapi.json, served
// at /api/openapi.json).
//
// Every request goes through the Gate first, then to a mounted handler
// (exact path; issue 5's /events, /ws and /api/profiles/stream go there),
// then to the built-in routes. Profile JSON is never serialised here: the
// store keeps one JSON string per revision and lists are spliced from them.
//
// Threading: handle() and respond() are called on any number of server I/O
// threads at once; the Router is immutable after mount() calls made before
// the server starts, except for its atomic response counters.
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "huginn/api/gate.hpp"
#include "huginn/api/status.hpp"
#include "huginn/server/http_types.hpp"
#include "huginn/store/profile_store.hpp"

namespace huginn::api {

struct RouterConfig {
  GateLimits gate;
  std::size_t default_limit = 100;   // /api/profiles without `limit`
  std::size_t max_limit = 1000;      // larger `limit` is a 400, not a clamp
  std::size_t max_query_params = 16;
  std::size_t max_param_bytes = 256; // one decoded filter value
  // Bodies below this are sent as they are: gzip's 18-byte frame and the
  // CPU are not worth it for a packet-sized response.
  std::size_t gzip_min_bytes = 1024;
  // zlib level for responses compressed per request (lists, profiles,
  // stats). Level 1 keeps most of JSON's ratio at a fraction of level 6's
  // CPU; the embedded assets are compressed once, at level 9.
  int gzip_level = 1;
  // Long poll (`GET /api/profiles?since=S&wait=SECONDS`): starts a wait
  // and calls `ready` exactly once, on any thread, when the store's seq
  // passes `since` or the time is up; returns false (and never calls
  // `ready`) when it cannot wait. Empty: `wait` is accepted and answered
  // at once. app/ wires the real-time hub's waiter here.
  std::function<bool(std::uint64_t since, std::chrono::milliseconds wait, std::function<void()> ready)>
      waiter;
  // Wall clock for uptime in /api/health; injectable for tests.
  std::function<std::chrono::system_clock::time_point()> clock;
};

class Router {
 public:
  // `store` and `status` must outlive the Router.
  Router(store::ProfileStore& store, const StatusSource& status, RouterConfig config = {});
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Answers `request` through `writer` (send(), or a mounted handler's
  // stream). Never throws: an unexpected exception becomes a 500.
  void handle(server::Request request, std::shared_ptr<server::ResponseWriter> writer);

  // The complete response a built-in route gives (after the Gate). Mounted
  // handlers are not consulted. For tests and benchmarks.
  [[nodiscard]] server::Response respond(const server::Request& request);

  // A server::Handler calling handle(); the Router must outlive it.
  [[nodiscard]] server::Handler handler();

  // Routes `path` (exact, before percent-decoding) with `methods` to
  // `handler`, after the Gate and ahead of the built-in routes. Other
  // methods on it get 405 with Allow. Call before the server starts.
  void mount(std::string path, std::vector<std::string> methods, server::Handler handler);

  // The built-in routes as the OpenAPI document names them ("{ip}" for the
  // path parameter) with their methods; the static assets are not listed.
  struct RouteInfo {
    std::string_view path;
    std::string_view methods;  // the Allow header value
  };
  [[nodiscard]] static std::span<const RouteInfo> routes();

  // Responses so far by route and status class, for /metrics:
  // ("profiles", "2xx") -> n.
  struct ResponseCount {
    std::string_view route;
    std::string_view status_class;
    std::uint64_t count;
  };
  [[nodiscard]] std::vector<ResponseCount> response_counts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace huginn::api
