#include "huginn/util/byte_reader.hpp"

#include <gtest/gtest.h>

#include <array>

namespace huginn::util {
namespace {

constexpr std::array<std::uint8_t, 7> kBytes{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};

TEST(ByteReader, ReadsBigEndianIntegersInOrder) {
  ByteReader r(kBytes);
  EXPECT_EQ(r.u8(), 0x01);
  EXPECT_EQ(r.be16(), 0x0203);
  EXPECT_EQ(r.be32(), 0x04050607u);
  EXPECT_TRUE(r.empty());
}

TEST(ByteReader, Be24AndLe32) {
  ByteReader r(kBytes);
  EXPECT_EQ(r.be24(), 0x010203u);
  EXPECT_EQ(r.le32(), 0x07060504u);
}

TEST(ByteReader, FailedReadLeavesCursorUnchanged) {
  ByteReader r(std::span<const std::uint8_t>(kBytes).first(3));
  EXPECT_EQ(r.be32(), std::nullopt);
  EXPECT_EQ(r.position(), 0u);
  EXPECT_FALSE(r.skip(4));
  EXPECT_EQ(r.position(), 0u);
  EXPECT_EQ(r.bytes(4), std::nullopt);
  EXPECT_EQ(r.be24(), 0x010203u);
  EXPECT_EQ(r.u8(), std::nullopt);
}

TEST(ByteReader, SubReaderCannotReadPastItsParentSlice) {
  ByteReader r(kBytes);
  ASSERT_TRUE(r.skip(1));
  auto sub = r.sub(2);
  ASSERT_TRUE(sub.has_value());
  EXPECT_EQ(sub->be16(), 0x0203);
  EXPECT_EQ(sub->u8(), std::nullopt);  // byte 0x04 belongs to the parent
  EXPECT_EQ(r.u8(), 0x04);             // parent resumes after the slice
  EXPECT_EQ(r.sub(10), std::nullopt);
}

TEST(ByteReader, PeekDoesNotConsume) {
  ByteReader r(kBytes);
  EXPECT_EQ(r.peek(), 0x01);
  EXPECT_EQ(r.peek(6), 0x07);
  EXPECT_EQ(r.peek(7), std::nullopt);
  EXPECT_EQ(r.position(), 0u);
}

}  // namespace
}  // namespace huginn::util
