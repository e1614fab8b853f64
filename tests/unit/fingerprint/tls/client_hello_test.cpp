#include "huginn/fingerprint/tls/client_hello.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "client_hello_builder.hpp"
#include "huginn/fingerprint/tls/grease.hpp"

namespace huginn::fingerprint::tls {
namespace {

using test::ClientHelloBuilder;
using Bytes = std::vector<std::uint8_t>;

ClientHelloParse parse(const Bytes& b) { return parse_client_hello(b); }

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(Grease, RecognisesExactlyTheSixteenRfc8701Values) {
  int count = 0;
  for (std::uint32_t v = 0; v <= 0xffff; ++v)
    if (is_grease(static_cast<std::uint16_t>(v))) ++count;
  EXPECT_EQ(count, 16);
  EXPECT_TRUE(is_grease(0x0a0a));
  EXPECT_TRUE(is_grease(0xfafa));
  EXPECT_FALSE(is_grease(0x0a1a));
  EXPECT_FALSE(is_grease(0xeeee));
}

TEST(ClientHelloParse, KeepsEveryObservedValueInWireOrder) {
  const auto bytes = ClientHelloBuilder{}
                         .record_version(0x0301)
                         .legacy_version(0x0303)
                         .session_id_length(32)
                         .ciphers({0x2a2a, 0x1301, 0xc02b, 0x002f})
                         .extension(0x3a3a)
                         .sni("example.com")
                         .alpn({"h2", "http/1.1"})
                         .supported_groups({0x4a4a, 0x001d, 0x0017})
                         .ec_point_formats({0})
                         .signature_algorithms({0x0804, 0x0403})
                         .supported_versions({0x5a5a, 0x0304, 0x0303})
                         .extension(0x0023)
                         .build();
  const auto r = parse(bytes);
  ASSERT_EQ(r.status, ParseStatus::kOk) << reason_name(r.reason);
  EXPECT_EQ(r.consumed, bytes.size());
  const auto& h = r.hello;
  EXPECT_EQ(h.record_version, 0x0301);
  EXPECT_EQ(h.legacy_version, 0x0303);
  EXPECT_EQ(h.session_id_length, 32u);
  EXPECT_EQ(h.cipher_suites, (std::vector<std::uint16_t>{0x2a2a, 0x1301, 0xc02b, 0x002f}));
  EXPECT_EQ(h.extensions, (std::vector<std::uint16_t>{0x3a3a, 0x0000, 0x0010, 0x000a, 0x000b,
                                                      0x000d, 0x002b, 0x0023}));
  EXPECT_EQ(h.sni, "example.com");
  EXPECT_EQ(h.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(h.supported_groups, (std::vector<std::uint16_t>{0x4a4a, 0x001d, 0x0017}));
  EXPECT_EQ(h.ec_point_formats, (std::vector<std::uint8_t>{0}));
  EXPECT_EQ(h.signature_algorithms, (std::vector<std::uint16_t>{0x0804, 0x0403}));
  EXPECT_EQ(h.supported_versions, (std::vector<std::uint16_t>{0x5a5a, 0x0304, 0x0303}));
  EXPECT_FALSE(h.resumption_attempt);  // empty session_ticket only announces support
  EXPECT_TRUE(h.grease.cipher_suites);
  EXPECT_TRUE(h.grease.extensions);
  EXPECT_TRUE(h.grease.supported_groups);
  EXPECT_TRUE(h.grease.supported_versions);
  EXPECT_FALSE(h.grease.signature_algorithms);
}

TEST(ClientHelloParse, NoGreaseMeansNoFlags) {
  const auto r = parse(ClientHelloBuilder{}.ciphers({0x1301}).supported_groups({0x001d}).build());
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_FALSE(r.hello.grease.any());
}

TEST(ClientHelloParse, AcceptsAnyRecordLayerMinorVersion) {
  for (std::uint16_t v : {0x0300, 0x0301, 0x0302, 0x0303, 0x0304}) {
    const auto r = parse(ClientHelloBuilder{}.record_version(v).build());
    ASSERT_EQ(r.status, ParseStatus::kOk) << v;
    EXPECT_EQ(r.hello.record_version, v);
  }
}

TEST(ClientHelloParse, HelloWithoutExtensionBlock) {
  const auto r = parse(ClientHelloBuilder{}.legacy_version(0x0301).omit_extension_block().build());
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_TRUE(r.hello.extensions.empty());
  EXPECT_EQ(r.hello.legacy_version, 0x0301);
}

TEST(ClientHelloParse, EmptyCipherListIsUnusualNotMalformed) {
  const auto r = parse(ClientHelloBuilder{}.ciphers({}).build());
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_TRUE(r.hello.cipher_suites.empty());
}

TEST(ClientHelloParse, ResumptionAttemptSignals) {
  EXPECT_TRUE(
      parse(ClientHelloBuilder{}.extension(0x0029, {0, 0}).build()).hello.resumption_attempt);
  EXPECT_TRUE(parse(ClientHelloBuilder{}.extension(0x002a).build()).hello.resumption_attempt);
  EXPECT_TRUE(
      parse(ClientHelloBuilder{}.extension(0x0023, {1, 2, 3}).build()).hello.resumption_attempt);
  EXPECT_FALSE(parse(ClientHelloBuilder{}.extension(0x0023).build()).hello.resumption_attempt);
  EXPECT_FALSE(
      parse(ClientHelloBuilder{}.extension(0x002d, {1, 1}).build()).hello.resumption_attempt);
}

TEST(ClientHelloParse, NonPrintableAlpnKeptAsRawBytes) {
  const std::string raw("\xba\xad\x00\x01", 4);
  const auto r = parse(ClientHelloBuilder{}.alpn({raw, "http/1.1"}).build());
  ASSERT_EQ(r.status, ParseStatus::kOk);
  ASSERT_EQ(r.hello.alpn.size(), 2u);
  EXPECT_EQ(r.hello.alpn[0], raw);
}

TEST(ClientHelloParse, LongSniIsCutAndFlagged) {
  const std::string host(300, 'a');
  const auto r = parse(ClientHelloBuilder{}.sni(host).build());
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.hello.sni.size(), kMaxHostNameLength);
  EXPECT_TRUE(r.hello.sni_truncated);
}

TEST(ClientHelloParse, EmptySniExtensionBodyIsAccepted) {
  const auto r = parse(ClientHelloBuilder{}.extension(0x0000).build());
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_TRUE(r.hello.has_extension(0x0000));
  EXPECT_TRUE(r.hello.sni.empty());
}

TEST(ClientHelloParse, MessageSplitAcrossRecordsAtEveryOffset) {
  const auto b =
      ClientHelloBuilder{}.sni("example.com").alpn({"h2"}).signature_algorithms({0x0403});
  const auto whole = parse(b.build());
  ASSERT_EQ(whole.status, ParseStatus::kOk);
  const std::size_t n = b.handshake().size();
  for (std::size_t first = 1; first < n; ++first) {
    auto split = b;
    const auto bytes = split.record_sizes({first}).build();
    const auto r = parse(bytes);
    ASSERT_EQ(r.status, ParseStatus::kOk) << "split at " << first;
    EXPECT_EQ(r.consumed, bytes.size());
    EXPECT_EQ(r.hello.extensions, whole.hello.extensions);
    EXPECT_EQ(r.hello.sni, "example.com");
  }
}

TEST(ClientHelloParse, LargePostQuantumSizedHelloOverManyRecords) {
  // A 1216-byte ML-KEM-768 + X25519 key share makes ~1.8 KiB hellos; a
  // bigger one split into 512-byte records exercises the reassembly.
  const auto b = ClientHelloBuilder{}
                     .sni("pq.example")
                     .extension(0x0033, ClientHelloBuilder::Bytes(5000, 0x11))
                     .record_sizes({512, 512, 512, 512, 512, 512, 512, 512, 512});
  const auto bytes = b.build();
  const auto r = parse(bytes);
  ASSERT_EQ(r.status, ParseStatus::kOk) << reason_name(r.reason);
  EXPECT_EQ(r.consumed, bytes.size());
  EXPECT_EQ(r.hello.sni, "pq.example");
}

TEST(ClientHelloParse, EveryStrictPrefixNeedsMore) {
  const auto bytes =
      ClientHelloBuilder{}.sni("example.com").alpn({"h2"}).record_sizes({40, 40}).build();
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    const auto r = parse_client_hello(std::span(bytes).first(len));
    ASSERT_EQ(r.status, ParseStatus::kNeedMore) << "prefix " << len;
  }
}

TEST(ClientHelloParse, BytesAfterTheHelloAreNotConsumed) {
  const auto hello = ClientHelloBuilder{}.build();
  const auto bytes = concat(hello, Bytes{23, 3, 3, 0, 2, 0xde, 0xad});
  const auto r = parse(bytes);
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.consumed, hello.size());
}

TEST(ClientHelloParse, SecondHelloAfterChangeCipherSpec) {
  const auto first = ClientHelloBuilder{}.supported_groups({0x001d}).build();
  const auto second = ClientHelloBuilder{}.supported_groups({0x0017}).build();
  const auto stream = concat(concat(first, ClientHelloBuilder::change_cipher_spec()), second);
  const auto r1 = parse(stream);
  ASSERT_EQ(r1.status, ParseStatus::kOk);
  EXPECT_EQ(r1.consumed, first.size());
  const auto r2 = parse_client_hello(std::span(stream).subspan(r1.consumed));
  ASSERT_EQ(r2.status, ParseStatus::kOk) << reason_name(r2.reason);
  EXPECT_EQ(r2.hello.supported_groups, (std::vector<std::uint16_t>{0x0017}));
  EXPECT_EQ(r1.consumed + r2.consumed, stream.size());
}

// --- malformed reasons -----------------------------------------------------

void expect_malformed(const Bytes& bytes, MalformedReason reason, std::string_view name) {
  const auto r = parse(bytes);
  EXPECT_EQ(r.status, ParseStatus::kMalformed);
  EXPECT_EQ(r.reason, reason) << reason_name(r.reason);
  EXPECT_EQ(reason_name(r.reason), name);
}

TEST(ClientHelloMalformed, NotHandshake) {
  expect_malformed(Bytes{'G', 'E', 'T', ' ', '/'}, MalformedReason::kNotHandshake,
                   "tls_not_handshake");
  // Application data record first.
  expect_malformed(Bytes{23, 3, 3, 0, 1, 0}, MalformedReason::kNotHandshake, "tls_not_handshake");
  // One byte decides it: no need to wait for a header.
  expect_malformed(Bytes{'S'}, MalformedReason::kNotHandshake, "tls_not_handshake");
}

TEST(ClientHelloMalformed, Sslv2CompatibleHello) {
  // RFC 6101 Appendix E.2: 2-byte header with the top bit set, then
  // msg_type 1 (CLIENT-HELLO), version 3.1, spec lengths.
  const Bytes v2{0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10};
  expect_malformed(v2, MalformedReason::kSslv2Hello, "tls_sslv2_hello");
  EXPECT_EQ(parse(Bytes{0x80, 0x2e}).status, ParseStatus::kNeedMore);
  expect_malformed(Bytes{0x80, 0x2e, 0x04}, MalformedReason::kNotHandshake, "tls_not_handshake");
}

TEST(ClientHelloMalformed, BadRecordVersion) {
  expect_malformed(Bytes{22, 0x7f}, MalformedReason::kBadRecordVersion, "tls_bad_record_version");
}

TEST(ClientHelloMalformed, RecordTooLarge) {
  // 2^14 + 1, decided from the header alone.
  expect_malformed(Bytes{22, 3, 1, 0x40, 0x01}, MalformedReason::kRecordTooLarge,
                   "tls_record_too_large");
}

TEST(ClientHelloMalformed, EmptyHandshakeRecord) {
  expect_malformed(Bytes{22, 3, 1, 0, 0}, MalformedReason::kEmptyRecord, "tls_empty_record");
}

TEST(ClientHelloMalformed, InterleavedRecord) {
  const auto first = ClientHelloBuilder{}.record_sizes({20}).build();
  // Keep the first record (5 + 20 bytes), then an alert record.
  Bytes bytes(first.begin(), first.begin() + 25);
  bytes = concat(bytes, Bytes{21, 3, 3, 0, 2, 2, 40});
  expect_malformed(bytes, MalformedReason::kInterleavedRecord, "tls_interleaved_record");
}

TEST(ClientHelloMalformed, ChangeCipherSpecWithWrongBody) {
  expect_malformed(Bytes{20, 3, 3, 0, 2, 1, 1}, MalformedReason::kNotHandshake,
                   "tls_not_handshake");
}

TEST(ClientHelloMalformed, NotClientHello) {
  // A ServerHello (type 2) where a ClientHello belongs; rejected on the
  // first body byte.
  expect_malformed(Bytes{22, 3, 3, 0, 50, 2}, MalformedReason::kNotClientHello,
                   "tls_not_client_hello");
}

TEST(ClientHelloMalformed, HugeHandshakeLength) {
  // 24-bit length 0xffffff, decided from the handshake header alone.
  expect_malformed(Bytes{22, 3, 1, 0x40, 0x00, 1, 0xff, 0xff, 0xff},
                   MalformedReason::kHelloTooLarge, "tls_hello_too_large");
}

TEST(ClientHelloMalformed, HelloOverrun) {
  // A handshake length too short for the random.
  const auto body = ClientHelloBuilder{}.body();
  const Bytes short_body(body.begin(), body.begin() + 20);
  expect_malformed(
      ClientHelloBuilder::records(22, ClientHelloBuilder::handshake_message(1, short_body)),
      MalformedReason::kHelloOverrun, "tls_hello_overrun");
  // Cipher list longer than the message.
  auto b = ClientHelloBuilder{}.session_id_length(0).omit_extension_block().body();
  b[2 + 32 + 1] = 0x10;  // cipher_suites length high byte
  expect_malformed(ClientHelloBuilder::records(22, ClientHelloBuilder::handshake_message(1, b)),
                   MalformedReason::kHelloOverrun, "tls_hello_overrun");
}

TEST(ClientHelloMalformed, SessionIdTooLong) {
  expect_malformed(ClientHelloBuilder{}.session_id_length(33).build(),
                   MalformedReason::kSessionIdTooLong, "tls_session_id_too_long");
}

TEST(ClientHelloMalformed, OddCipherListLength) {
  auto b = ClientHelloBuilder{}.session_id_length(0).ciphers({0x1301, 0x1302}).body();
  b[2 + 32 + 1 + 1] = 3;  // length 3: not a whole number of suites
  expect_malformed(ClientHelloBuilder::records(22, ClientHelloBuilder::handshake_message(1, b)),
                   MalformedReason::kCipherListInvalid, "tls_cipher_list_invalid");
}

TEST(ClientHelloMalformed, ExtensionOverrun) {
  // One extension claims more bytes than the block holds.
  auto b = ClientHelloBuilder{}.extension(0x0017, {1, 2}).body();
  b[b.size() - 3] = 9;  // the extension's length low byte: 9 > 2
  expect_malformed(ClientHelloBuilder::records(22, ClientHelloBuilder::handshake_message(1, b)),
                   MalformedReason::kExtensionOverrun, "tls_extension_overrun");
  // The block length runs past the message.
  auto c = ClientHelloBuilder{}.extension(0x0017, {1, 2}).body();
  c[c.size() - 7] = 0x20;  // block length low byte
  expect_malformed(ClientHelloBuilder::records(22, ClientHelloBuilder::handshake_message(1, c)),
                   MalformedReason::kExtensionOverrun, "tls_extension_overrun");
  // A lone byte where an extension header belongs.
  auto d = ClientHelloBuilder{}.body();
  d[d.size() - 1] = 1;
  d.push_back(0);
  expect_malformed(ClientHelloBuilder::records(22, ClientHelloBuilder::handshake_message(1, d)),
                   MalformedReason::kExtensionOverrun, "tls_extension_overrun");
}

TEST(ClientHelloMalformed, ExtensionInnerLengthsWrong) {
  // ALPN list length says 5, the extension holds 3 bytes of list.
  expect_malformed(ClientHelloBuilder{}.extension(0x0010, {0, 5, 2, 'h', '2'}).build(),
                   MalformedReason::kExtensionMalformed, "tls_extension_malformed");
  // ALPN name length runs past its list.
  expect_malformed(ClientHelloBuilder{}.extension(0x0010, {0, 3, 7, 'h', '2'}).build(),
                   MalformedReason::kExtensionMalformed, "tls_extension_malformed");
  // Odd signature_algorithms length.
  expect_malformed(ClientHelloBuilder{}.extension(0x000d, {0, 3, 4, 3, 8}).build(),
                   MalformedReason::kExtensionMalformed, "tls_extension_malformed");
  // supported_versions with a two-byte length (the ServerHello form).
  expect_malformed(ClientHelloBuilder{}.extension(0x002b, {0, 2, 3, 4}).build(),
                   MalformedReason::kExtensionMalformed, "tls_extension_malformed");
  // SNI entry length past the list.
  expect_malformed(ClientHelloBuilder{}.extension(0x0000, {0, 4, 0, 0, 9, 'a'}).build(),
                   MalformedReason::kExtensionMalformed, "tls_extension_malformed");
  // ec_point_formats count past the body.
  expect_malformed(ClientHelloBuilder{}.extension(0x000b, {4, 0}).build(),
                   MalformedReason::kExtensionMalformed, "tls_extension_malformed");
}

TEST(ClientHelloMalformed, TrailingBytesAfterExtensionBlock) {
  auto b = ClientHelloBuilder{}.body();
  b.push_back(0);
  expect_malformed(ClientHelloBuilder::records(22, ClientHelloBuilder::handshake_message(1, b)),
                   MalformedReason::kTrailingBytes, "tls_hello_trailing_bytes");
}

TEST(ClientHelloMalformed, EveryReasonHasADistinctCounterName) {
  std::vector<std::string_view> names;
  for (int i = 1; i <= static_cast<int>(MalformedReason::kTrailingBytes); ++i) {
    const auto n = reason_name(static_cast<MalformedReason>(i));
    EXPECT_EQ(n.substr(0, 4), "tls_");
    for (auto seen : names) EXPECT_NE(seen, n);
    names.push_back(n);
  }
  EXPECT_EQ(reason_name(MalformedReason::kNone), "");
}

}  // namespace
}  // namespace huginn::fingerprint::tls
