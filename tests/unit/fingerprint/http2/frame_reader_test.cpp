// read_client_frames(): both ways in, the three outcomes, every malformed
// reason, and the caps.
#include "huginn/fingerprint/http2/frame_reader.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "h2_frame_builder.hpp"

namespace huginn::fingerprint::http2 {
namespace {

using test::Bytes;
using test::StreamBuilder;

const std::vector<Setting> kSettings = {{1, 65536}, {4, 6291456}};

std::span<const std::uint8_t> prefix(const Bytes& b, std::size_t n) { return {b.data(), n}; }

FrameRead read(const StreamBuilder& s, const ReaderLimits& limits = {}) {
  return read_client_frames(s.bytes(), limits);
}

void expect_malformed(const StreamBuilder& s, MalformedReason want, const ReaderLimits& limits = {}) {
  const FrameRead r = read(s, limits);
  EXPECT_EQ(r.status, ReadStatus::kMalformed);
  EXPECT_EQ(reason_name(r.reason), reason_name(want));
}

TEST(FrameReaderTest, PriorKnowledgeStopsAfterFirstHeaderBlock) {
  const Bytes block = test::hpack(test::chrome_like_request());
  StreamBuilder s;
  s.preface().settings(kSettings).window_update(0, 15663105).headers(1, block);
  const std::size_t end = s.bytes().size();
  s.settings_ack();  // after the block: not examined
  const FrameRead r = read(s);
  ASSERT_EQ(r.status, ReadStatus::kOk);
  EXPECT_EQ(r.mode, StartMode::kPriorKnowledge);
  EXPECT_EQ(r.consumed, end);
  ASSERT_EQ(r.frames.size(), 3u);
  EXPECT_EQ(r.frames[0].type, frame_type::kSettings);
  EXPECT_EQ(r.frames[0].length, 12u);
  EXPECT_EQ(r.frames[1].type, frame_type::kWindowUpdate);
  EXPECT_EQ(r.frames[2].type, frame_type::kHeaders);
  EXPECT_EQ(r.frames[2].stream_id, 1u);
  EXPECT_EQ(r.frames[2].payload.size(), block.size());
  EXPECT_FALSE(r.frame_cap_reached);
}

TEST(FrameReaderTest, EveryShorterPrefixNeedsMore) {
  StreamBuilder s;
  s.preface().settings(kSettings).priority(3, false, 0, 200).headers(1, test::hpack(test::chrome_like_request()));
  const Bytes& b = s.bytes();
  std::size_t last_frames = 0;
  for (std::size_t n = 0; n < b.size(); ++n) {
    const FrameRead r = read_client_frames(prefix(b, n));
    ASSERT_EQ(r.status, ReadStatus::kNeedMore) << n;
    EXPECT_GE(r.frames.size(), last_frames) << n;  // frames already read stay listed
    last_frames = r.frames.size();
    EXPECT_LE(r.consumed, n);
  }
  EXPECT_EQ(last_frames, 2u);
  EXPECT_EQ(read_client_frames(b).status, ReadStatus::kOk);
}

TEST(FrameReaderTest, PrefaceThatTurnsIntoSomethingElseIsBadPreface) {
  expect_malformed(StreamBuilder().text("PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n"), MalformedReason::kBadPreface);
  expect_malformed(StreamBuilder().text("\x16\x03\x01\x02\x00"), MalformedReason::kBadPreface);
  expect_malformed(StreamBuilder().text("get / HTTP/1.1\r\n"), MalformedReason::kBadPreface);
  expect_malformed(StreamBuilder().text("GET\t/"), MalformedReason::kBadPreface);
  // A method token longer than any registered method.
  expect_malformed(StreamBuilder().text(std::string(40, 'G')), MalformedReason::kBadPreface);
  // Still a method token: wait.
  EXPECT_EQ(read(StreamBuilder().text("OPTIO")).status, ReadStatus::kNeedMore);
  // The token cap (20) gives the same verdict on every prefix.
  EXPECT_EQ(read(StreamBuilder().text(std::string(20, 'G'))).status, ReadStatus::kNeedMore);
  EXPECT_EQ(read(StreamBuilder().text(std::string(20, 'G') + " / HTTP/1.1\r\n")).status, ReadStatus::kNeedMore);
  expect_malformed(StreamBuilder().text(std::string(21, 'G')), MalformedReason::kBadPreface);
  expect_malformed(StreamBuilder().text(std::string(21, 'G') + " / HTTP/1.1\r\n"), MalformedReason::kBadPreface);
}

TEST(FrameReaderTest, PlainHttp1RequestIsNotUpgrade) {
  expect_malformed(StreamBuilder().text("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), MalformedReason::kNotUpgrade);
  expect_malformed(StreamBuilder().text("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"),
                   MalformedReason::kNotUpgrade);
}

TEST(FrameReaderTest, UpgradeRequestSettingsBecomeTheFirstFrame) {
  StreamBuilder s;
  s.upgrade_request(kSettings).preface().settings({{3, 100}}).priority(3, false, 0, 200).goaway();
  FrameRead r = read(s);
  ASSERT_EQ(r.status, ReadStatus::kOk);
  EXPECT_EQ(r.mode, StartMode::kUpgrade);
  ASSERT_EQ(r.frames.size(), 4u);
  EXPECT_TRUE(r.frames[0].from_upgrade_header);
  EXPECT_EQ(r.frames[0].type, frame_type::kSettings);
  EXPECT_EQ(Bytes(r.frames[0].payload.begin(), r.frames[0].payload.end()), test::settings_payload(kSettings));
  EXPECT_FALSE(r.frames[1].from_upgrade_header);
  EXPECT_EQ(r.frames[3].type, frame_type::kGoaway);
  EXPECT_EQ(r.consumed, s.bytes().size());

  // Moving keeps the synthetic frame's payload valid (it points into the
  // moved vector's buffer).
  FrameRead moved = std::move(r);
  EXPECT_EQ(moved.frames[0].payload.data(), moved.upgrade_settings.data());
}

TEST(FrameReaderTest, UpgradeWaitsForPrefaceAndChecksIt) {
  StreamBuilder s;
  s.upgrade_request(kSettings);
  FrameRead r = read(s);
  EXPECT_EQ(r.status, ReadStatus::kNeedMore);
  EXPECT_EQ(r.mode, StartMode::kUpgrade);
  EXPECT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(r.consumed, s.bytes().size());
  // The server did not switch; the client sends its next HTTP/1.1 request.
  s.text("GET /next HTTP/1.1\r\n\r\n");
  expect_malformed(s, MalformedReason::kBadPreface);
}

TEST(FrameReaderTest, UpgradeHeaderMatchingIsCaseInsensitiveAndListAware) {
  StreamBuilder s;
  s.text("POST /x HTTP/1.1\r\nhost: a\r\nupgrade: foo/2, H2C\r\nhttp2-settings:   " +
         test::base64url(test::settings_payload(kSettings)) + "  \r\ncontent-length: 5\r\n\r\nhello")
      .preface()
      .settings({})
      .goaway();
  const FrameRead r = read(s);
  ASSERT_EQ(r.status, ReadStatus::kOk);
  EXPECT_EQ(r.frames[0].length, 12u);
  EXPECT_EQ(r.frames[1].length, 0u);
}

TEST(FrameReaderTest, UpgradeBodyMustBeMeasurable) {
  expect_malformed(StreamBuilder().upgrade_request(kSettings, "Transfer-Encoding: chunked\r\n"),
                   MalformedReason::kUpgradeBody);
  expect_malformed(StreamBuilder().upgrade_request(kSettings, "Content-Length: 5\r\nContent-Length: 6\r\n"),
                   MalformedReason::kUpgradeBody);
  expect_malformed(StreamBuilder().upgrade_request(kSettings, "Content-Length: 5x\r\n"),
                   MalformedReason::kUpgradeBody);
  expect_malformed(StreamBuilder().upgrade_request(kSettings, "Content-Length: 100000\r\n"),
                   MalformedReason::kUpgradeBody);
  // A measurable body not there yet: wait.
  EXPECT_EQ(read(StreamBuilder().upgrade_request(kSettings, "Content-Length: 5\r\n").text("hel")).status,
            ReadStatus::kNeedMore);
}

TEST(FrameReaderTest, UpgradeSettingsHeaderMustBeOneValidValue) {
  expect_malformed(StreamBuilder().text("GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n"),
                   MalformedReason::kUpgradeBadSettings);
  expect_malformed(StreamBuilder().upgrade_request(kSettings, "HTTP2-Settings: AAMAAABk\r\n"),
                   MalformedReason::kUpgradeBadSettings);
  expect_malformed(StreamBuilder().text("GET / HTTP/1.1\r\nUpgrade: h2c\r\nHTTP2-Settings: AA+AAABk\r\n\r\n"),
                   MalformedReason::kUpgradeBadSettings);
  // 5 bytes decoded: not a whole number of settings.
  expect_malformed(StreamBuilder().text("GET / HTTP/1.1\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAAB\r\n\r\n"),
                   MalformedReason::kSettingsLength);
  // An empty value is zero settings, which is valid.
  EXPECT_EQ(read(StreamBuilder().text("GET / HTTP/1.1\r\nUpgrade: h2c\r\nHTTP2-Settings:\r\n\r\n")).status,
            ReadStatus::kNeedMore);
}

TEST(FrameReaderTest, UpgradeHeadHasACap) {
  ReaderLimits limits;
  limits.max_upgrade_head = 256;
  StreamBuilder s;
  s.text("GET /" + std::string(300, 'a'));
  expect_malformed(s, MalformedReason::kUpgradeHeadTooLarge, limits);
  EXPECT_EQ(read(StreamBuilder().text("GET /" + std::string(200, 'a')), limits).status, ReadStatus::kNeedMore);
}

TEST(FrameReaderTest, FrameLongerThanTheCapIsRefusedFromItsHeader) {
  StreamBuilder s;
  s.preface().settings(kSettings);
  const Bytes none;
  s.frame(frame_type::kHeaders, frame_flag::kEndHeaders, 1, none, 16385);  // payload never arrives
  expect_malformed(s, MalformedReason::kFrameTooLarge);
  ReaderLimits bigger;
  bigger.max_frame_payload = 1 << 20;
  EXPECT_EQ(read(s, bigger).status, ReadStatus::kNeedMore);
  // Exactly the cap is fine.
  StreamBuilder ok;
  ok.preface().settings(kSettings).frame(0x0b, 0, 0, Bytes(16384, 0)).goaway();
  EXPECT_EQ(read(ok).status, ReadStatus::kOk);
}

TEST(FrameReaderTest, FirstFrameMustBeSettings) {
  expect_malformed(StreamBuilder().preface().window_update(0, 1000), MalformedReason::kSettingsExpected);
  expect_malformed(StreamBuilder().preface().settings_ack(), MalformedReason::kSettingsExpected);
}

TEST(FrameReaderTest, SettingsLengthRules) {
  expect_malformed(StreamBuilder().preface().frame(frame_type::kSettings, 0, 0, Bytes(5, 0)),
                   MalformedReason::kSettingsLength);
  expect_malformed(StreamBuilder().preface().settings(kSettings).frame(frame_type::kSettings, frame_flag::kAck, 0,
                                                                        Bytes(6, 0)),
                   MalformedReason::kSettingsLength);
}

TEST(FrameReaderTest, StreamIdRules) {
  expect_malformed(StreamBuilder().preface().frame(frame_type::kSettings, 0, 1, Bytes{}),
                   MalformedReason::kBadStreamId);
  const Bytes block = test::hpack(test::chrome_like_request());
  expect_malformed(StreamBuilder().preface().settings(kSettings).headers(0, block), MalformedReason::kBadStreamId);
  expect_malformed(StreamBuilder().preface().settings(kSettings).priority(0, false, 0, 1),
                   MalformedReason::kBadStreamId);
  expect_malformed(StreamBuilder().preface().settings(kSettings).frame(frame_type::kGoaway, 0, 1, Bytes(8, 0)),
                   MalformedReason::kBadStreamId);
  expect_malformed(StreamBuilder().preface().settings(kSettings).frame(frame_type::kPing, 0, 3, Bytes(8, 0)),
                   MalformedReason::kBadStreamId);
  expect_malformed(StreamBuilder().preface().settings(kSettings).frame(frame_type::kData, 0, 0, Bytes(3, 0)),
                   MalformedReason::kBadStreamId);
  // WINDOW_UPDATE is valid on any stream.
  EXPECT_EQ(read(StreamBuilder().preface().settings(kSettings).window_update(1, 5).goaway()).status,
            ReadStatus::kOk);
}

TEST(FrameReaderTest, ReservedStreamIdBitIsIgnored) {
  const FrameRead r =
      read(StreamBuilder().preface().settings(kSettings).headers(0x80000001u, test::hpack(test::chrome_like_request())));
  ASSERT_EQ(r.status, ReadStatus::kOk);
  EXPECT_EQ(r.frames.back().stream_id, 1u);
}

TEST(FrameReaderTest, WindowUpdateMustBeFourBytes) {
  expect_malformed(StreamBuilder().preface().settings(kSettings).frame(frame_type::kWindowUpdate, 0, 0, Bytes(3, 0)),
                   MalformedReason::kWindowUpdateLength);
  expect_malformed(StreamBuilder().preface().settings(kSettings).frame(frame_type::kWindowUpdate, 0, 0, Bytes(5, 0)),
                   MalformedReason::kWindowUpdateLength);
}

TEST(FrameReaderTest, PriorityLengthRules) {
  expect_malformed(StreamBuilder().preface().settings(kSettings).frame(frame_type::kPriority, 0, 3, Bytes(4, 0)),
                   MalformedReason::kPriorityLength);
  // HEADERS with the PRIORITY flag but only 3 bytes.
  expect_malformed(StreamBuilder().preface().settings(kSettings).frame(
                       frame_type::kHeaders, frame_flag::kPriority | frame_flag::kEndHeaders, 1, Bytes(3, 0)),
                   MalformedReason::kPriorityLength);
}

TEST(FrameReaderTest, PaddingMustFitInsideTheFrame) {
  // Pad length 10 with 4 bytes after it.
  Bytes p = {10, 0x82, 0x84, 0x86, 0x41};
  expect_malformed(StreamBuilder().preface().settings(kSettings).frame(
                       frame_type::kHeaders, frame_flag::kPadded | frame_flag::kEndHeaders, 1, p),
                   MalformedReason::kPaddingOverrun);
  // PADDED with no pad length byte at all.
  expect_malformed(StreamBuilder().preface().settings(kSettings).frame(
                       frame_type::kHeaders, frame_flag::kPadded | frame_flag::kEndHeaders, 1, Bytes{}),
                   MalformedReason::kPaddingOverrun);
  // Padding that leaves an empty fragment is allowed.
  const Bytes all_pad = {3, 0, 0, 0};
  EXPECT_EQ(read(StreamBuilder().preface().settings(kSettings).frame(
                     frame_type::kHeaders, frame_flag::kPadded | frame_flag::kEndHeaders, 1, all_pad))
                .status,
            ReadStatus::kOk);
}

TEST(FrameReaderTest, SplitHeadersPayloadWithPaddingAndPriority) {
  const Bytes block = test::hpack(test::chrome_like_request());
  StreamBuilder s;
  s.preface().settings(kSettings).headers(
      5, block, {.end_headers = true, .end_stream = true, .priority = PrioritySpec{5, true, 3, 256}, .pad = 7});
  const FrameRead r = read(s);
  ASSERT_EQ(r.status, ReadStatus::kOk);
  const auto split = split_headers_payload(r.frames.back());
  ASSERT_TRUE(split.has_value());
  ASSERT_TRUE(split->priority.has_value());
  EXPECT_EQ(*split->priority, (PrioritySpec{5, true, 3, 256}));
  EXPECT_EQ(Bytes(split->fragment.begin(), split->fragment.end()), block);
}

TEST(FrameReaderTest, HeaderBlockWithContinuations) {
  const Bytes block = test::hpack(test::chrome_like_request());
  const auto half = static_cast<std::ptrdiff_t>(block.size() / 2);
  const Bytes a(block.begin(), block.begin() + half), b(block.begin() + half, block.end());
  StreamBuilder s;
  s.preface().settings(kSettings).headers(1, a, StreamBuilder::open_block()).continuation(1, Bytes{}, false).continuation(1, b, true);
  const FrameRead r = read(s);
  ASSERT_EQ(r.status, ReadStatus::kOk);
  ASSERT_EQ(r.frames.size(), 4u);
  EXPECT_EQ(r.frames[3].type, frame_type::kContinuation);
}

TEST(FrameReaderTest, OpenHeaderBlockAcceptsOnlyItsContinuation) {
  const Bytes block = test::hpack(test::chrome_like_request());
  expect_malformed(StreamBuilder().preface().settings(kSettings).headers(1, block, StreamBuilder::open_block()).priority(
                       3, false, 0, 1),
                   MalformedReason::kContinuationExpected);
  expect_malformed(
      StreamBuilder().preface().settings(kSettings).headers(1, block, StreamBuilder::open_block()).continuation(3, block, true),
      MalformedReason::kContinuationExpected);
  // A CONTINUATION with no open block is listed and skipped.
  const FrameRead r = read(StreamBuilder().preface().settings(kSettings).continuation(1, block, true).goaway());
  ASSERT_EQ(r.status, ReadStatus::kOk);
  EXPECT_EQ(r.frames.size(), 3u);
}

TEST(FrameReaderTest, HeaderBlockHasACap) {
  ReaderLimits limits;
  limits.max_header_block = 40;
  const Bytes frag(30, 0x82);
  expect_malformed(
      StreamBuilder().preface().settings(kSettings).headers(1, frag, StreamBuilder::open_block()).continuation(1, frag, true),
      MalformedReason::kHeaderBlockTooLarge, limits);
  expect_malformed(StreamBuilder().preface().settings(kSettings).headers(1, Bytes(41, 0x82)),
                   MalformedReason::kHeaderBlockTooLarge, limits);
}

TEST(FrameReaderTest, FrameCapEndsTheReadWithWhatWasSeen) {
  ReaderLimits limits;
  limits.max_frames = 4;
  StreamBuilder s;
  s.preface().settings(kSettings);
  for (int i = 0; i < 10; ++i) s.frame(frame_type::kPing, 0, 0, Bytes(8, 0));
  const FrameRead r = read(s, limits);
  ASSERT_EQ(r.status, ReadStatus::kOk);
  EXPECT_TRUE(r.frame_cap_reached);
  EXPECT_EQ(r.frames.size(), 4u);
  EXPECT_EQ(r.consumed, kClientPreface.size() + 9 + 12 + 3 * 17);
}

TEST(FrameReaderTest, GoawayEndsTheRead) {
  StreamBuilder s;
  s.preface().settings(kSettings).goaway();
  const std::size_t end = s.bytes().size();
  s.headers(1, test::hpack(test::chrome_like_request()));
  const FrameRead r = read(s);
  ASSERT_EQ(r.status, ReadStatus::kOk);
  EXPECT_EQ(r.frames.size(), 2u);
  EXPECT_EQ(r.consumed, end);
}

TEST(FrameReaderTest, UnknownAndGreaseFrameTypesAreListedAndSkipped) {
  const FrameRead r = read(StreamBuilder()
                               .preface()
                               .settings(kSettings)
                               .frame(0x0b, 0xff, 0, Bytes(3, 1))
                               .frame(0xfa, 0, 7, Bytes{})
                               .headers(1, test::hpack(test::chrome_like_request())));
  ASSERT_EQ(r.status, ReadStatus::kOk);
  ASSERT_EQ(r.frames.size(), 4u);
  EXPECT_EQ(r.frames[1].type, 0x0b);
  EXPECT_EQ(r.frames[1].flags, 0xff);
  EXPECT_EQ(r.frames[2].type, 0xfa);
}

TEST(FrameReaderTest, DecodersRefuseWrongLengths) {
  Frame f;
  const Bytes five = {0x80, 0, 0, 3, 200};
  f.stream_id = 5;
  f.payload = five;
  const auto p = decode_priority(f);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, (PrioritySpec{5, true, 3, 201}));
  EXPECT_FALSE(decode_window_update(f).has_value());
  const Bytes four = {0xff, 0xff, 0xff, 0xff};
  f.payload = four;
  EXPECT_EQ(decode_window_update(f), 0x7fffffffu);  // reserved bit dropped
  EXPECT_FALSE(decode_priority(f).has_value());
}

TEST(FrameReaderTest, Base64Url) {
  auto text = [](const std::optional<Bytes>& b) { return b ? std::string(b->begin(), b->end()) : "<none>"; };
  EXPECT_EQ(text(decode_base64url("")), "");
  EXPECT_EQ(text(decode_base64url("Zg")), "f");          // RFC 4648 §10 vectors, padding omitted
  EXPECT_EQ(text(decode_base64url("Zm8")), "fo");
  EXPECT_EQ(text(decode_base64url("Zm9v")), "foo");
  EXPECT_EQ(text(decode_base64url("Zm9vYmE=")), "fooba");  // padding tolerated
  EXPECT_EQ(text(decode_base64url("Zm9vYmFy")), "foobar");
  EXPECT_EQ(text(decode_base64url("-_-_")), "\xfb\xff\xbf");
  EXPECT_FALSE(decode_base64url("Zm9vY").has_value());  // 4n+1 characters
  EXPECT_FALSE(decode_base64url("Zm+v").has_value());   // base64, not base64url
  EXPECT_FALSE(decode_base64url("Zm 9").has_value());
}

TEST(FrameReaderTest, ReasonNamesAreDistinctCounterNames) {
  std::set<std::string_view> names;
  for (int i = 1; i <= static_cast<int>(MalformedReason::kHeaderBlockTooLarge); ++i) {
    const auto name = reason_name(static_cast<MalformedReason>(i));
    EXPECT_EQ(name.substr(0, 3), "h2_") << i;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(MalformedReason::kHeaderBlockTooLarge));
  EXPECT_EQ(reason_name(MalformedReason::kNone), "");
  EXPECT_EQ(reason_name(MalformedReason::kBadPreface), "h2_bad_preface");
  EXPECT_EQ(reason_name(MalformedReason::kContinuationExpected), "h2_continuation_expected");
}

}  // namespace
}  // namespace huginn::fingerprint::http2
