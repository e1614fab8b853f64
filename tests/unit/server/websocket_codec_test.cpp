// The WebSocket frame codec (RFC 6455 §5) on its own: client frame headers
// in every length form and every error, server frames, UTF-8 (RFC 3629),
// handshake keys and close codes.
#include <gtest/gtest.h>

#include <string>

#include "server/detail/websocket.hpp"

namespace hd = huginn::server::detail;
using Kind = hd::WsHeaderResult::Kind;

namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (const int x : b) s.push_back(static_cast<char>(x));
  return s;
}

}  // namespace

TEST(WebSocketCodec, ClientHeaderLengthForms) {
  // 7-bit length, masked text, FIN.
  auto r = hd::parse_ws_frame_header(bytes({0x81, 0x85, 1, 2, 3, 4}));
  ASSERT_EQ(r.kind, Kind::kFrame);
  EXPECT_TRUE(r.header.fin);
  EXPECT_EQ(r.header.opcode, hd::WsOpcode::kText);
  EXPECT_EQ(r.header.header_bytes, 6U);
  EXPECT_EQ(r.header.payload_bytes, 5U);
  EXPECT_EQ(r.header.mask[3], 4);
  // 16-bit length.
  r = hd::parse_ws_frame_header(bytes({0x01, 0xFE, 0x01, 0x00, 9, 9, 9, 9}));
  ASSERT_EQ(r.kind, Kind::kFrame);
  EXPECT_FALSE(r.header.fin);
  EXPECT_EQ(r.header.header_bytes, 8U);
  EXPECT_EQ(r.header.payload_bytes, 256U);
  // 64-bit length.
  r = hd::parse_ws_frame_header(bytes({0x80, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0, 9, 9, 9, 9}));
  ASSERT_EQ(r.kind, Kind::kFrame);
  EXPECT_EQ(r.header.opcode, hd::WsOpcode::kContinuation);
  EXPECT_EQ(r.header.header_bytes, 14U);
  EXPECT_EQ(r.header.payload_bytes, 1ULL << 32);
}

TEST(WebSocketCodec, EveryTruncationNeedsMore) {
  const std::string full = bytes({0x81, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 9, 9, 9, 9});  // 65,536
  for (std::size_t n = 0; n < full.size(); ++n) {
    EXPECT_EQ(hd::parse_ws_frame_header(full.substr(0, n)).kind, Kind::kNeedMore) << n;
  }
  EXPECT_EQ(hd::parse_ws_frame_header(full).kind, Kind::kFrame);
}

TEST(WebSocketCodec, HeaderErrorsAreProtocolErrors) {
  const std::string cases[] = {
      bytes({0xC1, 0x80, 0, 0, 0, 0}),  // RSV1 without an extension
      bytes({0x83, 0x80, 0, 0, 0, 0}),  // reserved data opcode
      bytes({0x8B, 0x80, 0, 0, 0, 0}),  // reserved control opcode
      bytes({0x81, 0x05}),              // unmasked client frame (§5.1)
      bytes({0x09, 0x80, 0, 0, 0, 0}),  // fragmented ping (§5.5)
      bytes({0x89, 0xFE, 0, 126}),      // ping over 125 bytes
      bytes({0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0}),  // 64-bit length, top bit set
      bytes({0x81, 0xFE, 0, 125, 1, 2, 3, 4}),  // 125 in the 16-bit form (§5.2: minimal)
      bytes({0x81, 0xFF, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}),  // 65,535 in the 64-bit form
  };
  for (const auto& c : cases) {
    const auto r = hd::parse_ws_frame_header(c);
    EXPECT_EQ(r.kind, Kind::kError) << testing::PrintToString(c);
    EXPECT_EQ(r.error_code, 1002);
  }
}

TEST(WebSocketCodec, ServerFramesAreUnmaskedWithTheShortestLength) {
  std::string out;
  hd::append_ws_frame(out, hd::WsOpcode::kText, "hi");
  EXPECT_EQ(out, bytes({0x81, 0x02, 'h', 'i'}));
  out.clear();
  hd::append_ws_frame(out, hd::WsOpcode::kText, std::string(126, 'x'));
  EXPECT_EQ(out.substr(0, 4), bytes({0x81, 126, 0, 126}));
  EXPECT_EQ(out.size(), 4U + 126U);
  out.clear();
  hd::append_ws_frame(out, hd::WsOpcode::kText, std::string(65536, 'x'));
  EXPECT_EQ(out.substr(0, 10), bytes({0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
  out.clear();
  hd::append_ws_frame(out, hd::WsOpcode::kClose, bytes({0x03, 0xE9}));
  EXPECT_EQ(out, bytes({0x88, 0x02, 0x03, 0xE9}));
}

TEST(WebSocketCodec, Utf8) {
  EXPECT_TRUE(hd::valid_utf8(""));
  EXPECT_TRUE(hd::valid_utf8("plain ascii"));
  EXPECT_TRUE(hd::valid_utf8("\xC3\xA9\xE2\x9C\x93\xF0\x9D\x84\x9E"));  // é ✓ 𝄞
  EXPECT_TRUE(hd::valid_utf8("\xF4\x8F\xBF\xBF"));                      // U+10FFFF
  EXPECT_FALSE(hd::valid_utf8("\xC3\x28"));          // bad continuation
  EXPECT_FALSE(hd::valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(hd::valid_utf8("\xE0\x80\xAF"));      // overlong, 3 bytes
  EXPECT_FALSE(hd::valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(hd::valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(hd::valid_utf8("\xF8\x88\x80\x80\x80"));
  EXPECT_FALSE(hd::valid_utf8("\xE2\x9C"));          // cut short
  EXPECT_FALSE(hd::valid_utf8("\x80"));              // lone continuation
}

TEST(WebSocketCodec, HandshakeKeyAndAccept) {
  // RFC 6455 §1.3's example.
  EXPECT_TRUE(hd::valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_EQ(hd::websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_FALSE(hd::valid_websocket_key(""));
  EXPECT_FALSE(hd::valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ"));     // no padding
  EXPECT_FALSE(hd::valid_websocket_key("dGhlIHNhbXBsZSBub25jZXg="));   // 17 bytes
  EXPECT_FALSE(hd::valid_websocket_key("dGhlIHNhbXBsZSBub25j*Q=="));   // not base64
}

TEST(WebSocketCodec, CloseCodes) {
  for (const int c : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999})
    EXPECT_TRUE(hd::valid_close_code(static_cast<std::uint16_t>(c))) << c;
  for (const int c : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000})
    EXPECT_FALSE(hd::valid_close_code(static_cast<std::uint16_t>(c))) << c;
}
