// The cross-layer verdict: each reason code fires on its contradiction and
// only then; OS families and browser products from User-Agents and labels.
#include "huginn/store/verdict.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include "observations.hpp"

namespace huginn::store {
namespace {

constexpr std::string_view kMacSafari =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
    "Safari/605.1.15";
constexpr std::string_view kIphone =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Mobile/15E148 Safari/604.1";
constexpr std::string_view kAndroid =
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile "
    "Safari/537.36";
constexpr std::string_view kEdge =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36 Edg/131.0.0.0";
constexpr std::string_view kFirefox = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

TEST(StoreVerdict, UserAgentOsFamilies) {
  EXPECT_EQ(os_family_from_user_agent(test::kChromeWindowsUa), OsFamily::kWindows);
  EXPECT_EQ(os_family_from_user_agent(test::kChromeLinuxUa), OsFamily::kLinux);
  EXPECT_EQ(os_family_from_user_agent(kMacSafari), OsFamily::kMacOs);
  EXPECT_EQ(os_family_from_user_agent(kIphone), OsFamily::kIos);
  EXPECT_EQ(os_family_from_user_agent(kAndroid), OsFamily::kAndroid);
  EXPECT_EQ(os_family_from_user_agent("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0)"), OsFamily::kChromeOs);
  EXPECT_EQ(os_family_from_user_agent("Mozilla/5.0 (X11; FreeBSD amd64; rv:120.0)"), OsFamily::kFreeBsd);
  EXPECT_EQ(os_family_from_user_agent("curl/7.88.1"), OsFamily::kUnknown);
  EXPECT_EQ(os_family_from_user_agent(""), OsFamily::kUnknown);
}

TEST(StoreVerdict, LabelOsFamilies) {
  EXPECT_EQ(os_family_from_label("Linux 3.11 and newer"), OsFamily::kLinux);
  EXPECT_EQ(os_family_from_label("Windows 7 or 8"), OsFamily::kWindows);
  EXPECT_EQ(os_family_from_label("Mac OS X 10.x"), OsFamily::kMacOs);
  EXPECT_EQ(os_family_from_label("iOS iPhone or iPad"), OsFamily::kIos);
  EXPECT_EQ(os_family_from_label("FreeBSD 9.x or newer"), OsFamily::kFreeBsd);
  EXPECT_EQ(os_family_from_label("Linux"), OsFamily::kLinux);
  EXPECT_EQ(os_family_from_label("Linuxish 1"), OsFamily::kUnknown);
  EXPECT_EQ(os_family_from_label("NMap SYN scan"), OsFamily::kUnknown);
  EXPECT_EQ(os_family_from_label(""), OsFamily::kUnknown);
}

TEST(StoreVerdict, SharedKernelsAreCompatible) {
  EXPECT_TRUE(os_families_compatible(OsFamily::kLinux, OsFamily::kAndroid));
  EXPECT_TRUE(os_families_compatible(OsFamily::kLinux, OsFamily::kChromeOs));
  EXPECT_TRUE(os_families_compatible(OsFamily::kMacOs, OsFamily::kIos));
  EXPECT_TRUE(os_families_compatible(OsFamily::kUnknown, OsFamily::kWindows));
  EXPECT_FALSE(os_families_compatible(OsFamily::kLinux, OsFamily::kWindows));
  EXPECT_FALSE(os_families_compatible(OsFamily::kMacOs, OsFamily::kAndroid));
}

TEST(StoreVerdict, BrowserProducts) {
  EXPECT_EQ(browser_from_user_agent(test::kChromeLinuxUa), "Chrome");
  EXPECT_EQ(browser_from_user_agent(kEdge), "Edge");
  EXPECT_EQ(browser_from_user_agent(kMacSafari), "Safari");
  EXPECT_EQ(browser_from_user_agent(kFirefox), "Firefox");
  EXPECT_EQ(browser_from_user_agent("curl/8.1.2"), "curl");
  EXPECT_EQ(browser_from_user_agent("Wget/1.21.3"), "Wget");
  EXPECT_EQ(browser_from_user_agent("nghttp2/1.52.0"), "nghttp2");
  EXPECT_EQ(browser_from_user_agent("something else"), "");
  EXPECT_TRUE(is_web_browser("Chrome"));
  EXPECT_FALSE(is_web_browser("curl"));
}

TEST(StoreVerdict, NothingToCompareIsInsufficient) {
  EXPECT_EQ(compute_verdict({}).status, "insufficient");
  VerdictInput only_tcp;
  only_tcp.tcp_os = "Linux 3.11 and newer";
  EXPECT_EQ(compute_verdict(only_tcp).status, "insufficient");
  VerdictInput only_ua;
  only_ua.user_agent = test::kChromeLinuxUa;
  EXPECT_EQ(compute_verdict(only_ua).status, "insufficient");
}

TEST(StoreVerdict, AgreeingLayersAreConsistent) {
  VerdictInput in;
  in.tcp_os = "Linux 3.11 and newer";
  in.user_agent = test::kChromeLinuxUa;
  in.http2_user_agent = test::kChromeLinuxUa;
  in.http_matched = true;
  in.tls_seen = true;
  in.tls_offers_h2 = true;
  const Verdict v = compute_verdict(in);
  EXPECT_EQ(v.status, "consistent");
  EXPECT_TRUE(v.reasons.empty());
  // Android on a Linux stack is not a lie.
  in.user_agent = kAndroid;
  in.http2_user_agent = kAndroid;
  EXPECT_EQ(compute_verdict(in).status, "consistent");
}

void expect_only(const VerdictInput& in, std::string_view reason) {
  const Verdict v = compute_verdict(in);
  EXPECT_EQ(v.status, "inconsistent");
  ASSERT_EQ(v.reasons.size(), 1U) << reason;
  EXPECT_EQ(v.reasons[0], reason);
}

TEST(StoreVerdict, UaOsVsTcpOs) {
  VerdictInput in;
  in.tcp_os = "Linux 3.11 and newer";
  in.user_agent = test::kChromeWindowsUa;
  expect_only(in, kReasonUaOsVsTcpOs);
}

TEST(StoreVerdict, Http2UaOsVsTcpOs) {
  VerdictInput in;
  in.tcp_os = "Windows 7 or 8";
  in.http2_user_agent = kMacSafari;
  expect_only(in, kReasonHttp2UaOsVsTcpOs);
}

TEST(StoreVerdict, UaOsVsHttp2UaOs) {
  VerdictInput in;
  in.user_agent = kMacSafari;
  in.http2_user_agent = test::kChromeWindowsUa;
  expect_only(in, kReasonUaOsVsHttp2UaOs);
}

TEST(StoreVerdict, HttpDishonest) {
  VerdictInput in;
  in.http_matched = true;
  in.http_dishonest = true;
  expect_only(in, kReasonHttpDishonest);
  in.http_dishonest = false;
  EXPECT_EQ(compute_verdict(in).status, "consistent");
}

TEST(StoreVerdict, HttpOsVsTcpOs) {
  VerdictInput in;
  in.tcp_os = "Linux 2.6.x";
  in.http_matched = true;
  in.http_os = "Windows XP";
  expect_only(in, kReasonHttpOsVsTcpOs);
}

TEST(StoreVerdict, TcpToolVsBrowserUa) {
  VerdictInput in;
  in.tcp_tool = true;
  in.user_agent = kFirefox;
  expect_only(in, kReasonTcpToolVsBrowserUa);
  in.user_agent = "curl/8.1.2";  // a tool claiming a tool is fine
  EXPECT_EQ(compute_verdict(in).status, "consistent");
}

TEST(StoreVerdict, BrowserUaWithoutH2Alpn) {
  VerdictInput in;
  in.user_agent = kEdge;
  in.tls_seen = true;
  in.tls_offers_h2 = false;
  expect_only(in, kReasonBrowserUaWithoutH2);
  in.user_agent = "curl/8.1.2";  // curl without --http2 offers http/1.1 only
  EXPECT_EQ(compute_verdict(in).status, "insufficient");
}

TEST(StoreVerdict, SeveralReasonsInDocumentedOrder) {
  VerdictInput in;
  in.tcp_os = "Linux 3.11 and newer";
  in.user_agent = test::kChromeWindowsUa;
  in.http_matched = true;
  in.http_dishonest = true;
  in.tls_seen = true;
  const Verdict v = compute_verdict(in);
  ASSERT_EQ(v.reasons.size(), 3U);
  EXPECT_EQ(v.reasons[0], kReasonUaOsVsTcpOs);
  EXPECT_EQ(v.reasons[1], kReasonHttpDishonest);
  EXPECT_EQ(v.reasons[2], kReasonBrowserUaWithoutH2);
}

}  // namespace
}  // namespace huginn::store
