#include "huginn/store/verdict.hpp"

#include <array>
#include <utility>

namespace huginn::store {

namespace {

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

std::string_view os_family_name(OsFamily family) {
  switch (family) {
    case OsFamily::kUnknown: return "unknown";
    case OsFamily::kWindows: return "Windows";
    case OsFamily::kMacOs: return "Mac OS X";
    case OsFamily::kIos: return "iOS";
    case OsFamily::kAndroid: return "Android";
    case OsFamily::kLinux: return "Linux";
    case OsFamily::kChromeOs: return "ChromeOS";
    case OsFamily::kFreeBsd: return "FreeBSD";
    case OsFamily::kOpenBsd: return "OpenBSD";
    case OsFamily::kNetBsd: return "NetBSD";
    case OsFamily::kSolaris: return "Solaris";
  }
  return "unknown";
}

OsFamily os_family_from_user_agent(std::string_view ua) {
  // Order matters: an Android UA says "Linux; Android", an iPhone UA says
  // "like Mac OS X", a ChromeOS UA says "X11; CrOS".
  if (contains(ua, "Windows")) return OsFamily::kWindows;
  if (contains(ua, "Android")) return OsFamily::kAndroid;
  if (contains(ua, "iPhone") || contains(ua, "iPad") || contains(ua, "iPod")) return OsFamily::kIos;
  if (contains(ua, "Mac OS X") || contains(ua, "Macintosh")) return OsFamily::kMacOs;
  if (contains(ua, "CrOS")) return OsFamily::kChromeOs;
  if (contains(ua, "FreeBSD")) return OsFamily::kFreeBsd;
  if (contains(ua, "OpenBSD")) return OsFamily::kOpenBsd;
  if (contains(ua, "NetBSD")) return OsFamily::kNetBsd;
  if (contains(ua, "SunOS") || contains(ua, "Solaris")) return OsFamily::kSolaris;
  if (contains(ua, "Linux")) return OsFamily::kLinux;
  return OsFamily::kUnknown;
}

OsFamily os_family_from_label(std::string_view label) {
  static constexpr std::array<std::pair<std::string_view, OsFamily>, 10> kNames{{
      {"Windows", OsFamily::kWindows},
      {"Mac OS X", OsFamily::kMacOs},
      {"MacOS", OsFamily::kMacOs},
      {"iOS", OsFamily::kIos},
      {"Android", OsFamily::kAndroid},
      {"Linux", OsFamily::kLinux},
      {"FreeBSD", OsFamily::kFreeBsd},
      {"OpenBSD", OsFamily::kOpenBsd},
      {"NetBSD", OsFamily::kNetBsd},
      {"Solaris", OsFamily::kSolaris},
  }};
  for (const auto& [name, family] : kNames) {
    // The name, then the end or a space: "Linux 3.11", not "Linuxish".
    if (label.substr(0, name.size()) == name && (label.size() == name.size() || label[name.size()] == ' ')) {
      return family;
    }
  }
  return OsFamily::kUnknown;
}

bool os_families_compatible(OsFamily tcp, OsFamily claimed) {
  if (tcp == OsFamily::kUnknown || claimed == OsFamily::kUnknown || tcp == claimed) return true;
  const auto linux_kernel = [](OsFamily f) {
    return f == OsFamily::kLinux || f == OsFamily::kAndroid || f == OsFamily::kChromeOs;
  };
  const auto darwin = [](OsFamily f) { return f == OsFamily::kMacOs || f == OsFamily::kIos; };
  return (linux_kernel(tcp) && linux_kernel(claimed)) || (darwin(tcp) && darwin(claimed));
}

std::string_view browser_from_user_agent(std::string_view ua) {
  // Most specific first: Edge and Opera UAs also name Chrome and Safari,
  // Chrome's names Safari, Chromium's names Chrome.
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kTokens{{
      {"Edg/", "Edge"},
      {"Edge/", "Edge"},
      {"OPR/", "Opera"},
      {"SamsungBrowser/", "Samsung Internet"},
      {"Chromium/", "Chromium"},
      {"CriOS/", "Chrome"},
      {"Chrome/", "Chrome"},
      {"FxiOS/", "Firefox"},
      {"Firefox/", "Firefox"},
      {"Safari/", "Safari"},
      {"curl/", "curl"},
      {"Wget/", "Wget"},
      {"nghttp2/", "nghttp2"},
      {"python-requests/", "python-requests"},
      {"Go-http-client/", "Go-http-client"},
      {"okhttp/", "okhttp"},
  }};
  for (const auto& [token, product] : kTokens) {
    if (contains(ua, token)) return product;
  }
  return {};
}

bool is_web_browser(std::string_view product) {
  return product == "Chrome" || product == "Chromium" || product == "Firefox" || product == "Safari" ||
         product == "Edge" || product == "Opera" || product == "Samsung Internet";
}

Verdict compute_verdict(const VerdictInput& in) {
  Verdict v;
  bool compared = false;
  const auto check = [&](bool ok, std::string_view reason) {
    compared = true;
    if (!ok) v.reasons.push_back(reason);
  };

  const OsFamily tcp = os_family_from_label(in.tcp_os);
  const OsFamily ua = os_family_from_user_agent(in.user_agent);
  const OsFamily h2_ua = os_family_from_user_agent(in.http2_user_agent);
  if (tcp != OsFamily::kUnknown && ua != OsFamily::kUnknown) {
    check(os_families_compatible(tcp, ua), kReasonUaOsVsTcpOs);
  }
  if (tcp != OsFamily::kUnknown && h2_ua != OsFamily::kUnknown) {
    check(os_families_compatible(tcp, h2_ua), kReasonHttp2UaOsVsTcpOs);
  }
  if (ua != OsFamily::kUnknown && h2_ua != OsFamily::kUnknown) {
    // Both claims come from software on one address; they should agree
    // with each other as they would with one kernel.
    check(os_families_compatible(ua, h2_ua), kReasonUaOsVsHttp2UaOs);
  }
  if (in.http_matched) check(!in.http_dishonest, kReasonHttpDishonest);
  const OsFamily http_os = os_family_from_label(in.http_os);
  if (tcp != OsFamily::kUnknown && http_os != OsFamily::kUnknown) {
    check(os_families_compatible(tcp, http_os), kReasonHttpOsVsTcpOs);
  }
  const std::string_view claimed_ua = in.user_agent.empty() ? in.http2_user_agent : in.user_agent;
  const bool browser_ua = is_web_browser(browser_from_user_agent(claimed_ua));
  if (in.tcp_tool && !claimed_ua.empty()) check(!browser_ua, kReasonTcpToolVsBrowserUa);
  // Every current browser offers h2 in its ClientHello ALPN (RFC 7301).
  if (browser_ua && in.tls_seen) check(in.tls_offers_h2, kReasonBrowserUaWithoutH2);

  if (!v.reasons.empty()) {
    v.status = "inconsistent";
  } else if (compared) {
    v.status = "consistent";
  }
  return v;
}

}  // namespace huginn::store
