#include "huginn/fingerprint/http/http_signature.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>

#include "http1_request_builder.hpp"
#include "huginn/fingerprint/http/language.hpp"

namespace huginn::fingerprint::http {
namespace {

using test::as_bytes;
using test::Http1RequestBuilder;
using test::Http1ResponseBuilder;

Http1Message parsed(const std::string& text, bool request = true) {
  Http1Message m;
  const ParseResult r = request ? parse_http1_request(as_bytes(text), true, m)
                                : parse_http1_response(as_bytes(text), true, m);
  EXPECT_EQ(r.status, ParseStatus::kOk);
  return m;
}

// Only the built-in names, as with an empty database.
bool builtin_only(std::string_view name) {
  for (std::string_view n : builtin_header_names()) {
    if (n == name) return true;
  }
  return false;
}

TEST(HttpSignature, CurlRequest) {
  const auto sig = compute_http_signature(parsed(Http1RequestBuilder{}
                                                     .header("Host", "example.com")
                                                     .header("User-Agent", "curl/7.88.1")
                                                     .header("Accept", "*/*")
                                                     .text()));
  EXPECT_EQ(sig.sw, "curl/7.88.1");
  EXPECT_FALSE(sig.lang.has_value());
  EXPECT_EQ(format_http_raw_sig(sig, builtin_only),
            "1:Host,User-Agent,Accept=[*/*]:Connection,Accept-Encoding,Accept-Language,"
            "Accept-Charset,Keep-Alive:curl/7.88.1");
}

TEST(HttpSignature, OptionalSkippedAndUnknownHeaders) {
  const auto sig = compute_http_signature(parsed(Http1RequestBuilder{}
                                                     .version("1.0")
                                                     .header("Host", "h")
                                                     .header("Referer", "http://r/")
                                                     .header("Cookie", "a=b")
                                                     .header("X-Custom", "a|b]c")
                                                     .header("Accept", "a|b")
                                                     .text()));
  // Optional headers get '?' and no value; Host's value is skipped; an
  // unknown header's value stops at ']' only, a known one's also at '|'.
  EXPECT_EQ(format_http_raw_sig(sig, builtin_only),
            "0:Host,?Referer,?Cookie,X-Custom=[a|b],Accept=[a]:User-Agent,Connection,"
            "Accept-Encoding,Accept-Language,Accept-Charset,Keep-Alive:");
  // A database that names X-Custom makes it known.
  auto with_custom = [](std::string_view n) { return n == "X-Custom" || builtin_only(n); };
  EXPECT_EQ(format_http_raw_sig(sig, with_custom).substr(0, 40),
            "0:Host,?Referer,?Cookie,X-Custom=[a],Acc");
}

TEST(HttpSignature, HeaderNamesAreCaseSensitive) {
  const auto sig = compute_http_signature(
      parsed(Http1RequestBuilder{}.header("user-agent", "Firefox/1").text()));
  EXPECT_FALSE(sig.sw.has_value());
  EXPECT_EQ(format_http_raw_sig(sig, builtin_only),
            "1:user-agent=[Firefox/1]:Host,User-Agent,Connection,Accept,Accept-Encoding,"
            "Accept-Language,Accept-Charset,Keep-Alive:");
}

TEST(HttpSignature, ValuesShownAreFilteredAndCut) {
  const auto sig = compute_http_signature(
      parsed(Http1RequestBuilder{}
                 .header("Accept", std::string(300, 'a'))
                 .header("User-Agent", "ok\x01rest")
                 .text()));
  const std::string raw = format_http_raw_sig(sig, builtin_only);
  EXPECT_NE(raw.find("Accept=[" + std::string(200, 'a') + "]"), std::string::npos);
  EXPECT_EQ(raw.substr(raw.rfind(':') + 1), "ok");
}

TEST(HttpSignature, ResponseSoftwareViaAndDate) {
  const auto sig = compute_http_signature(parsed(Http1ResponseBuilder{}
                                                     .header("Server", "nginx/1.24")
                                                     .header("Date", "Tue, 14 Nov 2023 22:13:20 GMT")
                                                     .header("Via", "1.1 cache")
                                                     .header("Content-Length", "5")
                                                     .text(),
                                                 false));
  EXPECT_EQ(sig.sw, "nginx/1.24");
  EXPECT_EQ(sig.via, "1.1 cache");
  EXPECT_EQ(sig.date, 1700000000);
  EXPECT_EQ(format_http_raw_sig(sig, builtin_only),
            "1:Server,Date,Via=[1.1 cache],?Content-Length:Content-Type,Connection,Keep-Alive,"
            "Accept-Ranges:nginx/1.24");
}

TEST(HttpSignature, LastNonEmptyValueWins) {
  const auto sig = compute_http_signature(parsed(Http1RequestBuilder{}
                                                     .header("User-Agent", "first")
                                                     .header("User-Agent", "second")
                                                     .header("User-Agent", "")
                                                     .header("Accept-Language", "de")
                                                     .text()));
  EXPECT_EQ(sig.sw, "second");
  EXPECT_EQ(sig.lang, "de");
}

TEST(HttpSignature, Params) {
  EXPECT_EQ(format_http_params(false, false, false), "none");
  EXPECT_EQ(format_http_params(true, true, true), "dishonest anonymous generic");
  EXPECT_EQ(format_http_params(false, true, false), "anonymous");
}

TEST(HttpDate, ImfFixdate) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"), 951782400);
  EXPECT_FALSE(parse_http_date("garbage").has_value());
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37").has_value());  // no zone
  EXPECT_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT").has_value());
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT").has_value());
}

// docs/p0f-deviations.md, "HTTP Date parsing": p0f converts the Date with
// mktime() from a struct tm whose DST flag is never set, so its result
// depends on the local zone and stack garbage. We read it as UTC.
TEST(HttpDate, P0fDeviation_DateIsUtcWhateverTheLocalZone) {
  const char* old = std::getenv("TZ");
  const std::string saved = old != nullptr ? old : "";
  setenv("TZ", "America/New_York", 1);
  tzset();
  const auto summer = parse_http_date("Sat, 01 Jul 2023 12:00:00 GMT");
  const auto winter = parse_http_date("Fri, 01 Dec 2023 12:00:00 GMT");
  if (old != nullptr) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
  EXPECT_EQ(summer, 1688212800);
  EXPECT_EQ(winter, 1701432000);
}

TEST(Language, P0fLanguageField) {
  EXPECT_EQ(language_name("en"), "English");
  EXPECT_EQ(language_name("pl"), "Polish");
  EXPECT_EQ(language_name("zu"), "Zulu");
  EXPECT_FALSE(language_name("xx").has_value());
  EXPECT_FALSE(language_name("EN").has_value());

  EXPECT_EQ(classify_accept_language(std::nullopt).verdict, LanguageVerdict::kNone);
  const Language en = classify_accept_language("en-US,en;q=0.5");
  EXPECT_EQ(en.verdict, LanguageVerdict::kKnown);
  EXPECT_EQ(en.name, "English");
  EXPECT_EQ(classify_accept_language("de").name, "German");
  EXPECT_EQ(classify_accept_language("EN").verdict, LanguageVerdict::kUnknown);
  EXPECT_EQ(classify_accept_language("xx-YY").verdict, LanguageVerdict::kUnknown);
  EXPECT_EQ(classify_accept_language("eng").verdict, LanguageVerdict::kNone);
  EXPECT_EQ(classify_accept_language("e").verdict, LanguageVerdict::kNone);
  EXPECT_EQ(classify_accept_language("*").verdict, LanguageVerdict::kNone);
}

}  // namespace
}  // namespace huginn::fingerprint::http
