#include "src/core/byte_reader.h"

#include <gtest/gtest.h>

#include <array>

namespace eventsift {
namespace {

TEST(ByteReaderTest, ReadsLittleEndian) {
  std::array<uint8_t, 15> b = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                               0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
  ByteReader r(b);
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  ASSERT_TRUE(r.ReadU8("a", &u8).ok());
  ASSERT_TRUE(r.ReadU16("b", &u16).ok());
  ASSERT_TRUE(r.ReadU32("c", &u32).ok());
  ASSERT_TRUE(r.ReadU64("d", &u64).ok());
  EXPECT_EQ(u8, 0x01);
  EXPECT_EQ(u16, 0x0302);
  EXPECT_EQ(u32, 0x07060504u);
  EXPECT_EQ(u64, 0x0f0e0d0c0b0a0908ull);
  EXPECT_TRUE(r.at_end());
}

TEST(ByteReaderTest, ShortReadIsTruncatedWithFieldAndOffset) {
  std::array<uint8_t, 3> b = {1, 2, 3};
  ByteReader r(b, 0x200);
  uint16_t v;
  ASSERT_TRUE(r.ReadU16("size", &v).ok());
  uint32_t w;
  Status s = r.ReadU32("record size", &w);
  EXPECT_EQ(s.code(), StatusCode::kTruncated);
  EXPECT_NE(s.message().find("record size"), std::string_view::npos);
  ASSERT_NE(s.where(), nullptr);
  EXPECT_EQ(s.where()->offset, 0x202u);
  EXPECT_EQ(r.pos(), 2u);  // a failed read does not advance
}

TEST(ByteReaderTest, SeekAndSkipAreBounded) {
  std::array<uint8_t, 4> b{};
  ByteReader r(b);
  EXPECT_TRUE(r.Seek(4, "end").ok());
  EXPECT_FALSE(r.Seek(5, "past").ok());
  ASSERT_TRUE(r.Seek(1, "x").ok());
  EXPECT_FALSE(r.Skip(4, "too far").ok());
  std::span<const uint8_t> out;
  EXPECT_TRUE(r.ReadBytes(3, "rest", &out).ok());
  EXPECT_EQ(out.size(), 3u);
  uint32_t v = 0;
  EXPECT_FALSE(ByteReader::LoadAt(std::span<const uint8_t>(b), 1, &v));
  EXPECT_TRUE(ByteReader::LoadAt(std::span<const uint8_t>(b), 0, &v));
}

}  // namespace
}  // namespace eventsift
