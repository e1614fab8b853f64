#include "huginn/fingerprint/http/http1_parser.hpp"

#include <gtest/gtest.h>

#include <string>

#include "http1_request_builder.hpp"

namespace huginn::fingerprint::http {
namespace {

using test::as_bytes;
using test::Http1RequestBuilder;
using test::Http1ResponseBuilder;

ParseResult parse_req(const std::string& text, Http1Message& out, bool more = true) {
  return parse_http1_request(as_bytes(text), more, out);
}

TEST(Http1Parser, RequestWithHeaders) {
  const std::string t = Http1RequestBuilder{}
                            .path("/index.html?q=1")
                            .header("Host", "example.com")
                            .header("User-Agent", "curl/8.0")
                            .header("Accept", "*/*")
                            .body("ignored")
                            .text();
  Http1Message m;
  const ParseResult r = parse_req(t, m);
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(t.substr(r.end, 2), "\r\n");
  EXPECT_TRUE(m.request);
  EXPECT_EQ(m.http_ver, 1);
  EXPECT_EQ(m.method, "GET");
  EXPECT_EQ(m.path, "/index.html?q=1");
  EXPECT_EQ(m.start_line, "GET /index.html?q=1 HTTP/1.1");
  ASSERT_EQ(m.headers.size(), 3u);
  EXPECT_EQ(m.headers[0].name, "Host");
  EXPECT_EQ(m.headers[0].value, "example.com");
  EXPECT_EQ(m.headers[2].value, "*/*");
}

TEST(Http1Parser, HeadAndLfOnlyAndHttp10) {
  Http1Message m;
  const std::string t =
      Http1RequestBuilder{}.method("HEAD").version("1.0").eol("\n").header("Host", "h").text();
  ASSERT_EQ(parse_req(t, m).status, ParseStatus::kOk);
  EXPECT_EQ(m.method, "HEAD");
  EXPECT_EQ(m.http_ver, 0);
  ASSERT_EQ(m.headers.size(), 1u);
  EXPECT_EQ(m.headers[0].value, "h");  // no CR to strip
}

TEST(Http1Parser, VersionDigitOtherThanOneCountsAsZero) {
  Http1Message m;
  ASSERT_EQ(parse_req(Http1RequestBuilder{}.version("1.9").text(), m).status, ParseStatus::kOk);
  EXPECT_EQ(m.http_ver, 0);
}

TEST(Http1Parser, OnlyGetAndHead) {
  Http1Message m;
  const ParseResult r = parse_req(Http1RequestBuilder{}.method("POST").text(), m);
  EXPECT_EQ(r.status, ParseStatus::kMalformed);
  EXPECT_EQ(r.error, ParseError::kNotGetOrHead);
  // "GET" must be followed by " /": absolute-form targets are not taken.
  EXPECT_EQ(parse_req(Http1RequestBuilder{}.path("http://x/").text(), m).error,
            ParseError::kNotGetOrHead);
}

TEST(Http1Parser, ShortPrefixesNeedMore) {
  const std::string t = Http1RequestBuilder{}.header("Host", "example.com").text();
  for (std::size_t n = 0; n < t.size() - 2; ++n) {
    Http1Message m;
    const ParseResult r = parse_http1_request(as_bytes(t).first(n), true, m);
    EXPECT_EQ(r.status, ParseStatus::kNeedMore) << "prefix " << n;
  }
}

TEST(Http1Parser, PrefixThatCannotGrowIsTruncated) {
  Http1Message m;
  const std::string t = Http1RequestBuilder{}.header("Host", "e").unterminated().text();
  const ParseResult r = parse_req(t, m, false);
  EXPECT_EQ(r.status, ParseStatus::kMalformed);
  EXPECT_EQ(r.error, ParseError::kTruncated);
}

TEST(Http1Parser, StartLineRules) {
  Http1Message m;
  // Control byte in the request line.
  EXPECT_EQ(parse_req("GET /\x01 HTTP/1.1\r\n\r\n", m).error, ParseError::kBinaryStartLine);
  // Newline before offset 14.
  EXPECT_EQ(parse_req("GET / HTTP/1\r\n\r\nxxxx", m).error, ParseError::kStartLineLength);
  // No "HTTP/1." at the end of the line.
  EXPECT_EQ(parse_req("GET / HTTP/2.0\r\n\r\n", m).error, ParseError::kBadVersion);
  // Newline at or beyond offset 1024.
  const std::string long_path = "/" + std::string(1100, 'a');
  EXPECT_EQ(parse_req(Http1RequestBuilder{}.path(long_path).text(), m).error,
            ParseError::kStartLineLength);
}

TEST(Http1Parser, HeaderLimits) {
  Http1Message m;
  Http1RequestBuilder many;
  for (int i = 0; i < 33; ++i) many.header("X-" + std::to_string(i), "v");
  EXPECT_EQ(parse_req(many.text(), m).error, ParseError::kTooManyHeaders);

  Http1RequestBuilder thirty_two;
  for (int i = 0; i < 32; ++i) thirty_two.header("X-" + std::to_string(i), "v");
  EXPECT_EQ(parse_req(thirty_two.text(), m).status, ParseStatus::kOk);

  EXPECT_EQ(parse_req(Http1RequestBuilder{}.header(std::string(33, 'n'), "v").text(), m).error,
            ParseError::kBadHeaderName);
  EXPECT_EQ(parse_req(Http1RequestBuilder{}.header(std::string(32, 'n'), "v").text(), m).status,
            ParseStatus::kOk);
  EXPECT_EQ(parse_req(Http1RequestBuilder{}.header("X", std::string(1025, 'v')).text(), m).error,
            ParseError::kHeaderValueTooLong);
  // The limit counts the CR before '\n', as p0f does.
  EXPECT_EQ(parse_req(Http1RequestBuilder{}.header("X", std::string(1023, 'v')).text(), m).status,
            ParseStatus::kOk);
  EXPECT_EQ(parse_req(Http1RequestBuilder{}.header("X", std::string(1024, 'v')).text(), m).error,
            ParseError::kHeaderValueTooLong);
  EXPECT_EQ(
      parse_req(Http1RequestBuilder{}.eol("\n").header("X", std::string(1024, 'v')).text(), m).status,
      ParseStatus::kOk);
  EXPECT_EQ(parse_req(Http1RequestBuilder{}.raw_line("Host e").text(), m).error,
            ParseError::kBadHeaderName);
  EXPECT_EQ(parse_req(Http1RequestBuilder{}.raw_line("Ho st: e").text(), m).error,
            ParseError::kBadHeaderName);
}

TEST(Http1Parser, ValueWhitespace) {
  Http1Message m;
  const std::string t = Http1RequestBuilder{}
                            .raw_line("A:\tx")
                            .raw_line("B:  two")
                            .raw_line("C:")
                            .raw_line("D: ")
                            .text();
  ASSERT_EQ(parse_req(t, m).status, ParseStatus::kOk);
  ASSERT_EQ(m.headers.size(), 4u);
  EXPECT_EQ(m.headers[0].value, "x");
  EXPECT_EQ(m.headers[1].value, " two");  // only one blank is skipped
  EXPECT_EQ(m.headers[2].value, "");
  EXPECT_EQ(m.headers[3].value, "");
}

TEST(Http1Parser, Response) {
  Http1Message m;
  const std::string t = Http1ResponseBuilder{}
                            .status("HTTP/1.0 404 Not Found")
                            .header("Server", "Apache")
                            .header("Content-Type", "text/html")
                            .text();
  ASSERT_EQ(parse_http1_response(as_bytes(t), true, m).status, ParseStatus::kOk);
  EXPECT_FALSE(m.request);
  EXPECT_EQ(m.http_ver, 0);
  EXPECT_EQ(m.start_line, "HTTP/1.0 404 Not Found");
  ASSERT_EQ(m.headers.size(), 2u);
  EXPECT_EQ(m.headers[0].value, "Apache");
  EXPECT_EQ(parse_http1_response(as_bytes("SSH-2.0-OpenSSH_9.0\r\n\r\n"), true, m).error,
            ParseError::kBadVersion);
}

TEST(Http1Parser, ResumableStepsMatchWholeParse) {
  const std::string t =
      Http1RequestBuilder{}.header("Host", "e").header("Accept", "*/*").text();
  Http1Message m;
  std::size_t from = 0;
  // First only part of the request line.
  ASSERT_EQ(read_start_line(as_bytes(t).first(15), true, true, from, m).status,
            ParseStatus::kNeedMore);
  EXPECT_EQ(from, 15u);  // resumes where scanning stopped
  ASSERT_EQ(read_start_line(as_bytes(t), true, true, from, m).status, ParseStatus::kOk);
  std::size_t pos = from;
  ASSERT_EQ(read_headers(as_bytes(t).first(pos + 4), true, pos, m.headers).status,
            ParseStatus::kNeedMore);
  EXPECT_EQ(pos, from);  // the unfinished line is read again later
  ASSERT_EQ(read_headers(as_bytes(t), true, pos, m.headers).status, ParseStatus::kOk);
  EXPECT_EQ(m.headers.size(), 2u);
}

TEST(Http1Parser, ErrorNames) {
  EXPECT_EQ(parse_error_name(ParseError::kTooManyHeaders), "http_too_many_headers");
  EXPECT_EQ(parse_error_name(ParseError::kTruncated), "http_truncated");
}

}  // namespace
}  // namespace huginn::fingerprint::http
