#include "huginn/fingerprint/http/http2_request.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace huginn::fingerprint::http {
namespace {

std::vector<std::string> names_of(const Http1Message& m) {
  std::vector<std::string> out;
  for (const auto& h : m.headers) out.push_back(h.name);
  return out;
}

bool builtin_only(std::string_view name) {
  for (std::string_view n : builtin_header_names()) {
    if (n == name) return true;
  }
  return false;
}

TEST(Http2Request, NamesGetHttp1Capitalisation) {
  EXPECT_EQ(http1_header_name("user-agent"), "User-Agent");
  EXPECT_EQ(http1_header_name("accept-language"), "Accept-Language");
  EXPECT_EQ(http1_header_name("x-forwarded-for"), "X-Forwarded-For");
  EXPECT_EQ(http1_header_name("sec-ch-ua-mobile"), "Sec-Ch-Ua-Mobile");
  EXPECT_EQ(http1_header_name("dnt"), "DNT");
  EXPECT_EQ(http1_header_name("te"), "TE");
  EXPECT_EQ(http1_header_name("x--a"), "X--A");
  EXPECT_EQ(http1_header_name("9lives_x"), "9lives_x");
  EXPECT_EQ(http1_header_name(""), "");
}

TEST(Http2Request, PseudoHeadersMapToHostOrAreDropped) {
  const std::vector<Http1Header> fields = {{":method", "HEAD"},    {":scheme", "https"},
                                           {":path", "/a?b"},      {":authority", "h.test"},
                                           {"accept", "*/*"},      {"user-agent", "ua/1"}};
  const Http1Message m = http1_view_of_http2_request(fields);
  EXPECT_TRUE(m.request);
  EXPECT_EQ(m.http_ver, 1);
  EXPECT_EQ(m.method, "HEAD");
  EXPECT_EQ(m.path, "/a?b");
  EXPECT_EQ(names_of(m), (std::vector<std::string>{"Host", "Accept", "User-Agent"}));
  EXPECT_EQ(m.headers[0].value, "h.test");
  EXPECT_EQ(format_http2_raw_sig(m, builtin_only),
            "*:Host,Accept=[*/*],User-Agent"
            ":Connection,Accept-Encoding,Accept-Language,Accept-Charset,Keep-Alive:ua/1");
}

TEST(Http2Request, CookieCrumbsBecomeOneHeader) {
  const std::vector<Http1Header> fields = {
      {"cookie", "a=1"}, {"accept", "x"}, {"cookie", "b=2"}, {"cookie", "c=3"}};
  const Http1Message m = http1_view_of_http2_request(fields);
  EXPECT_EQ(names_of(m), (std::vector<std::string>{"Cookie", "Accept"}));
  EXPECT_EQ(m.headers[0].value, "a=1; b=2; c=3");
}

TEST(Http2Request, AtMostP0fsHeaderCountIsKept) {
  std::vector<Http1Header> fields = {{":authority", "h"}};
  for (int i = 0; i < 40; ++i) fields.push_back({"x-h" + std::to_string(i), "v"});
  fields.push_back({"cookie", "late"});
  const Http1Message m = http1_view_of_http2_request(fields);
  ASSERT_EQ(m.headers.size(), kMaxHeaders);
  EXPECT_EQ(m.headers.front().name, "Host");
  EXPECT_EQ(m.headers.back().name, "X-H30");
}

TEST(Http2Request, NamesP0fWouldRejectAreLeftOut) {
  const std::vector<Http1Header> fields = {{"a,b", "1"},
                                           {"x:y", "2"},
                                           {"", "3"},
                                           {std::string(33, 'n'), "4"},
                                           {std::string(32, 'n'), "5"},
                                           {"sp ace", "6"},
                                           {"ok_name-2", "7"}};
  const Http1Message m = http1_view_of_http2_request(fields);
  EXPECT_EQ(names_of(m), (std::vector<std::string>{"N" + std::string(31, 'n'), "Ok_name-2"}));
}

TEST(Http2Request, EmptyListStillFormats) {
  const Http1Message m = http1_view_of_http2_request({});
  EXPECT_EQ(format_http2_raw_sig(m, builtin_only),
            "*::Host,User-Agent,Connection,Accept,Accept-Encoding,Accept-Language,"
            "Accept-Charset,Keep-Alive:");
}

}  // namespace
}  // namespace huginn::fingerprint::http
