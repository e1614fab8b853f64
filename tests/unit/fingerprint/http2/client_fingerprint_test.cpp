// The Akamai-form fingerprint: every field rule and edge case, from raw
// frames (the reader's output) and from decoded values (nghttp2 callbacks).
#include "huginn/fingerprint/http2/client_fingerprint.hpp"

#include <gtest/gtest.h>

#include "h2_frame_builder.hpp"

namespace huginn::fingerprint::http2 {
namespace {

using test::Bytes;
using test::StreamBuilder;

const std::vector<Setting> kChromeSettings = {{1, 65536}, {2, 0}, {4, 6291456}, {6, 262144}};

ClientFingerprint fingerprint_of(const StreamBuilder& s, const FingerprintLimits& limits = {}) {
  const FrameRead r = read_client_frames(s.bytes());
  EXPECT_NE(r.status, ReadStatus::kMalformed) << reason_name(r.reason);
  return compute_client_fingerprint(r.frames, limits);
}

TEST(ClientFingerprintTest, ChromeShape) {
  StreamBuilder s;
  s.preface().settings(kChromeSettings).window_update(0, 15663105).headers(
      1, test::hpack(test::chrome_like_request()),
      {.end_headers = true, .end_stream = true, .priority = PrioritySpec{1, true, 0, 256}, .pad = std::nullopt});
  const ClientFingerprint fp = fingerprint_of(s);
  EXPECT_EQ(format_akamai(fp), "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p");
  // The HEADERS priority is kept apart from the PRIORITY field.
  EXPECT_EQ(format_headers_priority(fp), "1:1:0:256");
  EXPECT_EQ(fp.headers_stream_id, 1u);
  EXPECT_EQ(fp.method(), "GET");
  EXPECT_EQ(fp.path(), "/index.html");
  EXPECT_EQ(fp.authority(), "example.test");
  EXPECT_EQ(fp.user_agent(), "Mozilla/5.0 (X11; Linux x86_64) Test/1.0");
  EXPECT_FALSE(fp.header("cookie").has_value());
  EXPECT_EQ(fp.headers.status, HeaderStatus::kOk);
}

TEST(ClientFingerprintTest, FirefoxShapeWithPriorityFrames) {
  StreamBuilder s;
  s.preface().settings({{1, 65536}, {4, 131072}, {5, 16384}}).window_update(0, 12517377);
  // Wire weights are the RFC weight - 1.
  s.priority(3, false, 0, 200).priority(5, false, 0, 100).priority(7, false, 0, 0).priority(9, false, 7, 0)
      .priority(11, false, 3, 0).priority(13, false, 0, 240);
  s.headers(15, test::hpack({{":method", "GET"}, {":path", "/"}, {":authority", "a"}, {":scheme", "https"}}));
  const ClientFingerprint fp = fingerprint_of(s);
  EXPECT_EQ(format_akamai(fp),
            "1:65536;4:131072;5:16384|12517377|3:0:0:201,5:0:0:101,7:0:0:1,9:0:7:1,11:0:3:1,13:0:0:241|m,p,a,s");
  EXPECT_EQ(format_headers_priority(fp), "");
  EXPECT_EQ(fp.priority_frames_total, 6u);
}

TEST(ClientFingerprintTest, WeightIsWireValuePlusOneAndExclusiveBitShown) {
  StreamBuilder s;
  s.preface().settings({}).priority(3, true, 0x7fffffff, 255).priority(5, false, 0, 0).headers(
      1, test::hpack({{":method", "GET"}}));
  const ClientFingerprint fp = fingerprint_of(s);
  EXPECT_EQ(format_akamai(fp), "|00|3:1:2147483647:256,5:0:0:1|m");
}

TEST(ClientFingerprintTest, WindowUpdateRules) {
  // None: "00".
  EXPECT_EQ(format_akamai(fingerprint_of(StreamBuilder().preface().settings({{3, 100}}).headers(
                1, test::hpack({{":method", "GET"}})))),
            "3:100|00|0|m");
  // Stream-level ones do not count; of several connection-level ones the
  // first is shown and all are counted.
  StreamBuilder s;
  s.preface().settings({{3, 100}}).window_update(1, 777).window_update(0, 1000).window_update(0, 2000).headers(
      1, test::hpack({{":method", "GET"}}));
  s.window_update(0, 3000);  // after the block: not examined
  ClientFingerprint fp = fingerprint_of(s);
  EXPECT_EQ(format_akamai(fp), "3:100|1000|0|m");
  EXPECT_EQ(fp.window_updates, 2u);
  // An increment of 0 (a protocol error, RFC 9113 §6.9) is shown as 0, not
  // as the "none" marker.
  fp = fingerprint_of(StreamBuilder().preface().settings({}).window_update(0, 0).goaway());
  EXPECT_EQ(format_akamai(fp), "|0|0|");
}

TEST(ClientFingerprintTest, PriorityFramesAreCappedWithACountSuffix) {
  StreamBuilder s;
  s.preface().settings({});
  for (std::uint32_t i = 0; i < 20; ++i) s.priority(3 + 2 * i, false, 0, 0);
  s.headers(1, test::hpack({{":method", "GET"}}));
  const ClientFingerprint fp = fingerprint_of(s);
  EXPECT_EQ(fp.priority_frames.size(), 16u);
  EXPECT_EQ(fp.priority_frames_total, 20u);
  const std::string akamai = format_akamai(fp);
  EXPECT_NE(akamai.find(",33:0:0:1,+4|m"), std::string::npos) << akamai;
  EXPECT_EQ(akamai.find("35:0:0:1"), std::string::npos) << akamai;

  FingerprintLimits two;
  two.max_priority_frames = 2;
  EXPECT_EQ(format_akamai(fingerprint_of(s, two)), "|00|3:0:0:1,5:0:0:1,+18|m");
}

TEST(ClientFingerprintTest, PriorityFramesAfterTheHeaderBlockDoNotCount) {
  StreamBuilder s;
  s.preface().settings({}).headers(1, test::hpack({{":method", "GET"}})).priority(3, false, 0, 0);
  FrameRead r = read_client_frames(s.bytes());
  ASSERT_EQ(r.status, ReadStatus::kOk);
  // Even when a caller hands over more frames than the reader returns.
  std::vector<Frame> frames = r.frames;
  frames.push_back(frames.back());
  frames.back().type = frame_type::kPriority;
  const Bytes p = {0, 0, 0, 0, 9};
  frames.back().payload = p;
  EXPECT_EQ(format_akamai(compute_client_fingerprint(frames)), "|00|0|m");
}

TEST(ClientFingerprintTest, SettingsKeepWireOrderDuplicatesAndUnknownIds) {
  const ClientFingerprint fp = fingerprint_of(
      StreamBuilder().preface().settings({{4, 1}, {1, 2}, {4, 3}, {0, 5}, {0xf000, 6}, {9, 1}, {8, 1}}).goaway());
  EXPECT_EQ(format_akamai(fp), "4:1;1:2;4:3;0:5;61440:6;9:1;8:1|00|0|");
  EXPECT_EQ(fp.settings.size(), 7u);
}

TEST(ClientFingerprintTest, GreaseSettingsAreLeftOutOfTheStringButKept) {
  EXPECT_TRUE(is_grease_setting(0x0a0a));
  EXPECT_TRUE(is_grease_setting(0x3a5a));
  EXPECT_FALSE(is_grease_setting(0x000a));
  EXPECT_FALSE(is_grease_setting(0x0a0b));
  const ClientFingerprint a =
      fingerprint_of(StreamBuilder().preface().settings({{1, 65536}, {0x1a2a, 12345}, {4, 6291456}}).goaway());
  const ClientFingerprint b =
      fingerprint_of(StreamBuilder().preface().settings({{1, 65536}, {0x4afa, 999}, {4, 6291456}}).goaway());
  EXPECT_EQ(format_akamai(a), "1:65536;4:6291456|00|0|");
  EXPECT_EQ(format_akamai(a), format_akamai(b));  // random GREASE does not split a client
  EXPECT_EQ(a.grease_settings, 1u);
  EXPECT_EQ(a.settings.size(), 3u);
}

TEST(ClientFingerprintTest, OnlyTheFirstNonAckSettingsCounts) {
  const ClientFingerprint fp =
      fingerprint_of(StreamBuilder().preface().settings({}).settings_ack().settings({{3, 100}}).goaway());
  EXPECT_TRUE(fp.settings_seen);
  EXPECT_TRUE(fp.settings.empty());
  EXPECT_EQ(format_akamai(fp), "|00|0|");
}

TEST(ClientFingerprintTest, UpgradeTakesSettingsFromTheHeader) {
  StreamBuilder s;
  s.upgrade_request({{3, 100}, {4, 65535}}).preface().settings({{3, 100}}).priority(3, false, 0, 200).goaway();
  const FrameRead r = read_client_frames(s.bytes());
  ASSERT_EQ(r.status, ReadStatus::kOk);
  const ClientFingerprint fp = compute_client_fingerprint(r.frames);
  EXPECT_TRUE(fp.settings_from_upgrade);
  EXPECT_EQ(format_akamai(fp), "3:100;4:65535|00|3:0:0:201|");
  EXPECT_EQ(fp.headers.status, HeaderStatus::kAbsent);
  EXPECT_FALSE(fp.method().has_value());
}

TEST(ClientFingerprintTest, HeaderBlockSpreadOverContinuations) {
  const Bytes block = test::hpack(test::chrome_like_request());
  const auto third = static_cast<std::ptrdiff_t>(block.size() / 3);
  StreamBuilder s;
  s.preface().settings({}).headers(3, Bytes(block.begin(), block.begin() + third), StreamBuilder::open_block())
      .continuation(3, Bytes(block.begin() + third, block.begin() + 2 * third), false)
      .continuation(3, Bytes(block.begin() + 2 * third, block.end()), true);
  const ClientFingerprint fp = fingerprint_of(s);
  EXPECT_EQ(fp.headers.status, HeaderStatus::kOk);
  EXPECT_EQ(fp.headers.fields.size(), 6u);
  EXPECT_EQ(fp.pseudo_header_order, "m,a,s,p");
  EXPECT_EQ(fp.headers_stream_id, 3u);
}

TEST(ClientFingerprintTest, PaddedHeadersDecodeTheSame) {
  StreamBuilder s;
  s.preface().settings({}).headers(1, test::hpack(test::chrome_like_request()),
                                   {.end_headers = true, .end_stream = false, .priority = std::nullopt, .pad = 20});
  const ClientFingerprint fp = fingerprint_of(s);
  EXPECT_EQ(fp.headers.status, HeaderStatus::kOk);
  EXPECT_EQ(fp.pseudo_header_order, "m,a,s,p");
}

TEST(ClientFingerprintTest, PseudoHeaderOrderRules) {
  // Other pseudo-headers are '?'; a pseudo-header after a regular field
  // (invalid, RFC 9113 §8.3) still shows; duplicates repeat.
  const ClientFingerprint fp = fingerprint_of(StreamBuilder().preface().settings({}).headers(
      1, test::hpack({{":method", "CONNECT"},
                      {":protocol", "websocket"},
                      {"user-agent", "x"},
                      {":path", "/"},
                      {":path", "/again"},
                      {":scheme", "https"},
                      {":authority", "a"}})));
  EXPECT_EQ(fp.pseudo_header_order, "m,?,p,p,s,a");
  EXPECT_EQ(fp.path(), "/");  // the first one
}

TEST(ClientFingerprintTest, HpackErrorKeepsWhatDecoded) {
  Bytes block = test::hpack({{":method", "GET"}, {":path", "/"}});
  block.push_back(0xff);  // an index with its continuation bytes missing
  const ClientFingerprint fp = fingerprint_of(StreamBuilder().preface().settings({}).headers(1, block));
  EXPECT_EQ(fp.headers.status, HeaderStatus::kHpackError);
  EXPECT_EQ(fp.pseudo_header_order, "m,p");
}

TEST(ClientFingerprintTest, OversizedBlockIsNotDecoded) {
  FingerprintLimits limits;
  limits.max_header_block = 8;
  const ClientFingerprint fp =
      fingerprint_of(StreamBuilder().preface().settings({}).headers(1, test::hpack(test::chrome_like_request())), limits);
  EXPECT_TRUE(fp.header_block_too_large);
  EXPECT_EQ(fp.headers.status, HeaderStatus::kTruncated);
  EXPECT_TRUE(fp.headers.fields.empty());
  EXPECT_EQ(format_akamai(fp), "|00|0|");
}

TEST(ClientFingerprintTest, BlockInterruptedByAnotherFrameEndsThere) {
  const Bytes block = test::hpack(test::chrome_like_request());
  Frame h;
  h.type = frame_type::kHeaders;
  h.stream_id = 1;
  h.payload = block;  // no END_HEADERS: a CONTINUATION should follow
  Frame ping;
  ping.type = frame_type::kPing;
  const std::vector<Frame> frames = {h, ping};
  const ClientFingerprint fp = compute_client_fingerprint(frames);
  // The whole block happened to be in the HEADERS frame, so it decodes.
  EXPECT_EQ(fp.headers.status, HeaderStatus::kOk);
  EXPECT_EQ(fp.pseudo_header_order, "m,a,s,p");
}

TEST(ClientFingerprintTest, StreamEndingBeforeHeadersStillFingerprints) {
  // A stream cut inside HEADERS: the reader needs more, the frames so far
  // give a partial fingerprint (for a flow that closes here).
  StreamBuilder s;
  s.preface().settings(kChromeSettings).window_update(0, 15663105);
  const std::size_t cut = s.bytes().size() + 5;
  s.headers(1, test::hpack(test::chrome_like_request()));
  const FrameRead r = read_client_frames(std::span(s.bytes()).first(cut));
  ASSERT_EQ(r.status, ReadStatus::kNeedMore);
  EXPECT_EQ(format_akamai(compute_client_fingerprint(r.frames)), "1:65536;2:0;4:6291456;6:262144|15663105|0|");
}

TEST(ClientFingerprintTest, DecodedValuesGiveTheSameFingerprintAsFrames) {
  StreamBuilder s;
  s.preface().settings(kChromeSettings).window_update(0, 15663105).priority(3, false, 0, 200).headers(
      1, test::hpack(test::chrome_like_request()),
      {.end_headers = true, .end_stream = true, .priority = PrioritySpec{1, true, 0, 256}, .pad = std::nullopt});
  const ClientFingerprint from_frames = fingerprint_of(s);

  ClientFingerprintBuilder b;
  b.add_settings(kChromeSettings);
  b.add_window_update(0, 15663105);
  b.add_priority(PrioritySpec{3, false, 0, 201});
  std::vector<HeaderField> fields;
  for (const auto& [n, v] : test::chrome_like_request()) fields.push_back({n, v, false, false});
  b.add_headers(1, PrioritySpec{1, true, 0, 256}, fields);
  EXPECT_TRUE(b.done());
  b.add_priority(PrioritySpec{5, false, 0, 1});  // after the block: ignored
  const ClientFingerprint& from_values = b.fingerprint();

  EXPECT_EQ(format_akamai(from_values), format_akamai(from_frames));
  EXPECT_EQ(format_headers_priority(from_values), format_headers_priority(from_frames));
  EXPECT_EQ(from_values.headers.fields, from_frames.headers.fields);
}

TEST(ClientFingerprintTest, DecodedHeadersObeyTheSameCaps) {
  FingerprintLimits limits;
  limits.headers.max_fields = 2;
  limits.headers.max_value_length = 3;
  ClientFingerprintBuilder b(limits);
  const std::vector<HeaderField> fields = {
      {":method", "GET", false, false}, {":path", "/long/path", false, false}, {":scheme", "http", false, false}};
  b.add_headers(1, std::nullopt, fields);
  const auto& fp = b.fingerprint();
  EXPECT_EQ(fp.headers.status, HeaderStatus::kTruncated);
  ASSERT_EQ(fp.headers.fields.size(), 2u);
  EXPECT_EQ(fp.headers.fields[1].value, "/lo");
  EXPECT_TRUE(fp.headers.fields[1].value_truncated);
  EXPECT_EQ(fp.pseudo_header_order, "m,p");
}

}  // namespace
}  // namespace huginn::fingerprint::http2
