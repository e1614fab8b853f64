// decode_header_block(): nghttp2's inflater, bounded, order kept.
#include "huginn/fingerprint/http2/header_block.hpp"

#include <gtest/gtest.h>

#include "h2_frame_builder.hpp"

namespace huginn::fingerprint::http2 {
namespace {

using test::Bytes;

TEST(HeaderBlockTest, DecodesInWireOrder) {
  const test::Fields fields = test::chrome_like_request();
  const HeaderBlock b = decode_header_block(test::hpack(fields));
  ASSERT_EQ(b.status, HeaderStatus::kOk);
  ASSERT_EQ(b.fields.size(), fields.size());
  for (std::size_t i = 0; i < fields.size(); ++i) {
    EXPECT_EQ(b.fields[i].name, fields[i].first);
    EXPECT_EQ(b.fields[i].value, fields[i].second);
  }
}

TEST(HeaderBlockTest, DynamicTableEntriesAddedInTheBlockAreResolved) {
  // The same field twice: the deflater indexes it the first time and refers
  // to the dynamic table the second time.
  const test::Fields fields = {{":method", "GET"}, {"x-long", std::string(50, 'q')}, {"x-long", std::string(50, 'q')}};
  const Bytes block = test::hpack(fields);
  EXPECT_LT(block.size(), 80u);  // the repeat was an index, not a literal
  const HeaderBlock b = decode_header_block(block);
  ASSERT_EQ(b.status, HeaderStatus::kOk);
  ASSERT_EQ(b.fields.size(), 3u);
  EXPECT_EQ(b.fields[2].value, std::string(50, 'q'));
}

TEST(HeaderBlockTest, EmptyBlockHasNoFields) {
  const HeaderBlock b = decode_header_block({});
  EXPECT_EQ(b.status, HeaderStatus::kOk);
  EXPECT_TRUE(b.fields.empty());
}

TEST(HeaderBlockTest, BlockEndingInsideAFieldIsAnError) {
  Bytes block = test::hpack({{":method", "GET"}, {"user-agent", "curl/7.88.1"}});
  block.pop_back();
  const HeaderBlock b = decode_header_block(block);
  EXPECT_EQ(b.status, HeaderStatus::kHpackError);
  ASSERT_EQ(b.fields.size(), 1u);  // what came before the error is kept
  EXPECT_EQ(b.fields[0].name, ":method");
}

TEST(HeaderBlockTest, InvalidIndexIsAnError) {
  const Bytes block = {0xff, 0x7f};  // indexed field 127+: no such entry
  EXPECT_EQ(decode_header_block(block).status, HeaderStatus::kHpackError);
}

TEST(HeaderBlockTest, TableSizeUpdateUpToTheLimitIsAccepted) {
  // RFC 7541 §6.3 size update to 8192 (001 11111, 8161 as 0xe1 0x3f), then
  // indexed :method GET (static index 2).
  const Bytes to_8k = {0x3f, 0xe1, 0x3f, 0x82};
  const HeaderBlock b = decode_header_block(to_8k);
  ASSERT_EQ(b.status, HeaderStatus::kOk);
  ASSERT_EQ(b.fields.size(), 1u);
  EXPECT_EQ(b.fields[0].value, "GET");
  HeaderLimits small;
  small.max_table_size = 4096;
  EXPECT_EQ(decode_header_block(to_8k, small).status, HeaderStatus::kHpackError);
}

TEST(HeaderBlockTest, NamesAndValuesAreCut) {
  HeaderLimits limits;
  limits.max_name_length = 4;
  limits.max_value_length = 8;
  const HeaderBlock b = decode_header_block(test::hpack({{"user-agent", "0123456789abcdef"}, {"a", "b"}}), limits);
  ASSERT_EQ(b.status, HeaderStatus::kOk);
  ASSERT_EQ(b.fields.size(), 2u);
  EXPECT_EQ(b.fields[0].name, "user");
  EXPECT_TRUE(b.fields[0].name_truncated);
  EXPECT_EQ(b.fields[0].value, "01234567");
  EXPECT_TRUE(b.fields[0].value_truncated);
  EXPECT_FALSE(b.fields[1].value_truncated);
}

TEST(HeaderBlockTest, FieldCountAndListSizeCaps) {
  test::Fields many;
  for (int i = 0; i < 10; ++i) many.emplace_back("x-h" + std::to_string(i), "v");
  HeaderLimits limits;
  limits.max_fields = 4;
  HeaderBlock b = decode_header_block(test::hpack(many), limits);
  EXPECT_EQ(b.status, HeaderStatus::kTruncated);
  EXPECT_EQ(b.fields.size(), 4u);
  EXPECT_EQ(b.fields[3].name, "x-h3");

  limits = HeaderLimits{};
  limits.max_list_size = 3 * (4 + 1 + 32);  // exactly three fields
  b = decode_header_block(test::hpack(many), limits);
  EXPECT_EQ(b.status, HeaderStatus::kTruncated);
  EXPECT_EQ(b.fields.size(), 3u);
}

}  // namespace
}  // namespace huginn::fingerprint::http2
