#pragma once
// Cross-layer consistency of one profile: does what the TCP stack looks like
// agree with what the User-Agent, the HTTP signature and the TLS/HTTP/2
// behaviour claim? Deliberately simple and explainable; each reason code is
// defined in docs/store.md ("Verdict").
#include <cstdint>
#include <string_view>
#include <vector>

namespace huginn::store {

// Operating system families, as far as a User-Agent or a p0f label tells.
enum class OsFamily : std::uint8_t {
  kUnknown,
  kWindows,
  kMacOs,
  kIos,
  kAndroid,
  kLinux,
  kChromeOs,
  kFreeBsd,
  kOpenBsd,
  kNetBsd,
  kSolaris,
};

[[nodiscard]] std::string_view os_family_name(OsFamily family);
// By substring, most specific first (Android and iOS User-Agents also say
// "Linux" and "like Mac OS X").
[[nodiscard]] OsFamily os_family_from_user_agent(std::string_view user_agent);
// A p0f label display ("Linux 3.11 and newer", "Mac OS X 10.x", "Windows 7
// or 8"): its p0f OS name, the label's leading words.
[[nodiscard]] OsFamily os_family_from_label(std::string_view label);
// Whether a host whose TCP stack looks like `tcp` may honestly claim
// `claimed`: equal, or sharing a kernel (Android and ChromeOS on Linux, iOS
// and macOS on Darwin). Unknown on either side is never a contradiction.
[[nodiscard]] bool os_families_compatible(OsFamily tcp, OsFamily claimed);

// The product a User-Agent names ("Chrome", "Firefox", "Safari", "Edge",
// "Opera", "curl", "Wget", ...), empty when none is recognised.
[[nodiscard]] std::string_view browser_from_user_agent(std::string_view user_agent);
// Whether `product` (from browser_from_user_agent) is a web browser, as
// opposed to a command-line tool or library.
[[nodiscard]] bool is_web_browser(std::string_view product);

struct VerdictInput {
  std::string_view tcp_os;            // SYN matched this OS label; empty: unknown or a tool
  bool tcp_tool = false;              // SYN matched a userland tool signature (p0f "app")
  std::string_view user_agent;        // HTTP/1 request User-Agent, empty when none
  std::string_view http2_user_agent;  // HTTP/2 first request user-agent, empty when none
  bool http_matched = false;          // the HTTP request signature matched a p0f record
  bool http_dishonest = false;        // p0f: software string contradicts that record
  std::string_view http_os;           // that record is an OS label (not an app)
  bool tls_seen = false;              // a ClientHello was seen
  bool tls_offers_h2 = false;         // its ALPN list offers "h2"
};

// Reason codes (static strings, docs/store.md).
inline constexpr std::string_view kReasonUaOsVsTcpOs = "ua_os_vs_tcp_os";
inline constexpr std::string_view kReasonHttp2UaOsVsTcpOs = "http2_ua_os_vs_tcp_os";
inline constexpr std::string_view kReasonUaOsVsHttp2UaOs = "ua_os_vs_http2_ua_os";
inline constexpr std::string_view kReasonHttpDishonest = "http_dishonest";
inline constexpr std::string_view kReasonHttpOsVsTcpOs = "http_os_vs_tcp_os";
inline constexpr std::string_view kReasonTcpToolVsBrowserUa = "tcp_tool_vs_browser_ua";
inline constexpr std::string_view kReasonBrowserUaWithoutH2 = "browser_ua_without_h2_alpn";

struct Verdict {
  // "consistent": at least one cross-layer check ran and none failed;
  // "inconsistent": some check failed (see reasons);
  // "insufficient": no check had both sides to compare.
  std::string_view status = "insufficient";
  std::vector<std::string_view> reasons;  // in the order of the constants above
};

[[nodiscard]] Verdict compute_verdict(const VerdictInput& in);

}  // namespace huginn::store
