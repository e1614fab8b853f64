#pragma once
// The stage every request passes before any route (docs/api.md, "The
// Gate"). Today it checks what no route should have to: the method is one
// we implement (501 otherwise, RFC 9110 §15.6.2), the request target and
// the body stay within bounds (414, 413), and the header block is not
// absurd (431; the transports enforce their own, tighter byte limits
// first). It answers no CORS preflight and sends no Access-Control-*
// header: the API is same-origin only, so a browser on another origin can
// neither read it nor send it a DELETE (the preflight fails).
//
// Later stages sit here, in this order, so that every route and every
// transport gets them without exception: per-IP rate limiting (needs the
// peer address only), authentication (a bearer token or TLS client
// certificate), then a CSRF check for state-changing methods once cookie
// authentication exists (Origin / Sec-Fetch-Site against the authority).
#include <cstddef>
#include <optional>

#include "huginn/server/http_types.hpp"

namespace huginn::api {

struct GateLimits {
  // Beast's default header limit is 8 KiB; a request line alone that long
  // is no API call we know.
  std::size_t max_target_bytes = 8192;
  // No route reads a body; a small one (a client sending "{}" with DELETE)
  // is tolerated and ignored, anything larger is refused.
  std::size_t max_body_bytes = 1024;
  std::size_t max_header_count = 100;
  std::size_t max_header_bytes = 16 * 1024;  // names + values, summed
};

class Gate {
 public:
  explicit Gate(GateLimits limits = {}) : limits_(limits) {}

  // nullopt: let the request through; otherwise the JSON error response
  // to send instead. Thread-safe (no state besides the limits).
  [[nodiscard]] std::optional<server::Response> check(const server::Request& request) const;

  [[nodiscard]] const GateLimits& limits() const { return limits_; }

 private:
  GateLimits limits_;
};

}  // namespace huginn::api
