// Listen-address parsing and configuration defaults.
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdlib>

#include "huginn/server/server_config.hpp"

namespace huginn::server {
namespace {

// "[V6]" must hold IPv6, a bare host IPv4 (or "localhost").
std::optional<packet::IpAddress> parse_ip(const std::string& host, bool bracketed) {
  if (!bracketed && host == "localhost") return packet::IpAddress::v4(127, 0, 0, 1);
  auto ip = packet::IpAddress::parse(host);
  const auto want = bracketed ? packet::IpVersion::v6 : packet::IpVersion::v4;
  if (!ip || ip->version != want) return std::nullopt;
  return ip;
}

}  // namespace

ServerConfig ServerConfig::defaults() {
  ServerConfig c;
  c.listen.push_back({packet::IpAddress::v4(127, 0, 0, 1), 8080});
  c.tls_listen.push_back({packet::IpAddress::v4(127, 0, 0, 1), 8443});
  c.state_dir = default_state_dir();
  return c;
}

std::optional<SocketEndpoint> parse_listen_address(std::string_view text, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<SocketEndpoint> {
    if (error != nullptr) *error = "invalid listen address \"" + std::string(text) + "\": " + why;
    return std::nullopt;
  };
  std::string host;
  std::string_view port_text;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return fail("missing ']' after the IPv6 address");
    host = std::string(text.substr(1, close - 1));
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return fail("expected \":PORT\" after \"[ADDRESS]\"");
    port_text = text.substr(close + 2);
    bracketed = true;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("expected HOST:PORT or [IPv6]:PORT");
    host = std::string(text.substr(0, colon));
    if (host.find(':') != std::string::npos)
      return fail("an IPv6 address must be written in brackets, as [::1]:8080");
    port_text = text.substr(colon + 1);
  }
  if (host.empty()) return fail("the address is empty");
  if (port_text.empty()) return fail("the port is empty");
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    return fail("the port must be a number from 0 to 65535");
  const auto ip = parse_ip(host, bracketed);
  if (!ip) {
    return fail(bracketed ? "\"" + host + "\" is not an IPv6 address"
                          : "\"" + host + "\" is not an IPv4 address (or \"localhost\")");
  }
  return SocketEndpoint{*ip, static_cast<std::uint16_t>(port)};
}

std::string to_string(const SocketEndpoint& endpoint) {
  // Appends rather than operator+ chains: g++ 12 at -O3 reports a false
  // -Wrestrict overlap for `"[" + std::string` (GCC PR 105329).
  const bool v6 = endpoint.addr.version == packet::IpVersion::v6;
  std::string out;
  if (v6) out += '[';
  out += endpoint.addr.to_rfc5952_string();
  if (v6) out += ']';
  out += ':';
  out += std::to_string(endpoint.port);
  return out;
}

std::filesystem::path default_state_dir() {
  if (::geteuid() == 0) return "/var/lib/huginn-profiler";
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg == '/')
    return std::filesystem::path(xdg) / "huginn-profiler";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return std::filesystem::path(home) / ".local/state/huginn-profiler";
  return "huginn-profiler-state";
}

}  // namespace huginn::server
