#include "huginn/api/gate.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "api/detail/http_util.hpp"

namespace huginn::api {
namespace {

// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// RFC 9110 §9.3 methods plus PATCH (RFC 5789). A method outside this list
// is one we do not recognise: 501 (RFC 9110 §15.6.2). A recognised method
// a route does not take is the route's 405.
constexpr std::array<std::string_view, 9> kKnownMethods = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};

}  // namespace

std::optional<server::Response> Gate::check(const server::Request& request) const {
  // 1. Sanity of the request itself.
  if (request.target.size() > limits_.max_target_bytes ||
      request.path.size() + request.query.size() > limits_.max_target_bytes) {
    return detail::json_error(414, "request target longer than " +
                                       std::to_string(limits_.max_target_bytes) + " bytes");
  }
  if (request.headers.size() > limits_.max_header_count) {
    return detail::json_error(431, "more than " + std::to_string(limits_.max_header_count) +
                                       " header fields");
  }
  std::size_t header_bytes = 0;
  for (const auto& [name, value] : request.headers) header_bytes += name.size() + value.size();
  if (header_bytes > limits_.max_header_bytes) {
    return detail::json_error(431, "header fields larger than " +
                                       std::to_string(limits_.max_header_bytes) + " bytes");
  }
  const std::string& method = request.method;
  if (method.empty() || method.size() > 16 || !std::all_of(method.begin(), method.end(), is_tchar)) {
    return detail::json_error(400, "malformed method");
  }
  if (std::find(kKnownMethods.begin(), kKnownMethods.end(), method) == kKnownMethods.end()) {
    return detail::json_error(501, "method not implemented");
  }
  // Origin-form only (RFC 9112 §3.2.1); the transports turn absolute-form
  // into it. "*" (OPTIONS asterisk-form) and anything else is refused.
  if (request.path.empty() || request.path.front() != '/') {
    return detail::json_error(400, "request target must start with '/'");
  }
  if (request.body.size() > limits_.max_body_bytes) {
    return detail::json_error(413, "request body larger than " +
                                       std::to_string(limits_.max_body_bytes) + " bytes");
  }
  // 2. Later: per-IP rate limit (request.conn.peer.addr), authentication,
  //    CSRF for DELETE once cookies exist (see gate.hpp).
  return std::nullopt;
}

}  // namespace huginn::api
