// ReadValueArray on hand-built substitution arrays: the values and end of a
// good one, and for each way an array can be broken, the error a record's
// report is made of (code, message, offset), with and without values wanted.

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "parsers/evtx/binxml.h"

namespace eventsift::evtx {
namespace {

// u32 count, then {u16 size, u8 type, u8 0} per value, then the data, placed
// at `at` in a buffer of `total` bytes (zero-filled).
std::vector<uint8_t> Array(size_t at, const std::vector<std::pair<uint16_t, uint8_t>>& descs,
                           size_t total, uint32_t count_override = UINT32_MAX) {
  std::vector<uint8_t> b(total, 0);
  const uint32_t count =
      count_override != UINT32_MAX ? count_override : static_cast<uint32_t>(descs.size());
  for (int k = 0; k < 4; ++k) b[at + k] = static_cast<uint8_t>(count >> (8 * k));
  size_t p = at + 4;
  for (const auto& [size, type] : descs) {
    b[p] = static_cast<uint8_t>(size);
    b[p + 1] = static_cast<uint8_t>(size >> 8);
    b[p + 2] = type;
    p += 4;
  }
  return b;
}

TEST(ValueArrayTest, ReadsValuesAndEnd) {
  // Three values at offset 8: data starts at 8 + 4 + 3 * 4 = 24.
  const auto b = Array(8, {{2, kUInt16}, {0, kNull}, {8, kUInt64}}, 64);
  for (bool want : {true, false}) {
    std::vector<ValueRef> values{ValueRef{}, ValueRef{}, ValueRef{}, ValueRef{}, ValueRef{}};
    uint32_t end = 0;
    ASSERT_TRUE(ReadValueArray(b, 8, want ? &values : nullptr, &end).ok());
    EXPECT_EQ(end, 24u + 2 + 0 + 8);
    if (!want) continue;
    ASSERT_EQ(values.size(), 3u);  // a longer reused vector is cut to the count
    EXPECT_EQ(values[0].type, kUInt16);
    EXPECT_EQ(values[0].chunk_offset, 24u);
    EXPECT_EQ(values[0].bytes.data(), b.data() + 24);
    EXPECT_EQ(values[0].bytes.size(), 2u);
    EXPECT_EQ(values[1].type, kNull);
    EXPECT_EQ(values[1].chunk_offset, 26u);
    EXPECT_TRUE(values[1].bytes.empty());
    EXPECT_EQ(values[2].type, kUInt64);
    EXPECT_EQ(values[2].chunk_offset, 26u);
    EXPECT_EQ(values[2].bytes.size(), 8u);
  }
}

TEST(ValueArrayTest, ValueFillingTheChunkExactlyFits) {
  // One value whose data ends at the last byte: 4 + 4 + 56 = 64.
  const auto b = Array(0, {{56, kBinary}}, 64);
  std::vector<ValueRef> values;
  uint32_t end = 0;
  ASSERT_TRUE(ReadValueArray(b, 0, &values, &end).ok());
  EXPECT_EQ(end, 64u);
}

TEST(ValueArrayTest, ValuePastTheChunkNamesTheFirstThatDoesNotFit) {
  // Data starts at 4 + 3 * 4 = 16 in 40 bytes: value 0 takes 10 (to 26),
  // value 1 needs 20 but 14 are left.
  const auto b = Array(0, {{10, kBinary}, {20, kBinary}, {1, kUInt8}}, 40);
  for (bool want : {true, false}) {
    std::vector<ValueRef> values;
    uint32_t end = 0;
    const Status s = ReadValueArray(b, 0, want ? &values : nullptr, &end);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kTruncated);
    EXPECT_EQ(s.message(), "substitution value 1: need 20 bytes, have 14");
    ASSERT_NE(s.where(), nullptr);
    EXPECT_EQ(s.where()->offset, 26u);
  }
}

TEST(ValueArrayTest, CountBeyondTheDescriptorsOrTheLimit) {
  // 100 descriptors cannot fit in 64 bytes.
  const auto small = Array(0, {}, 64, 100);
  std::vector<ValueRef> values;
  uint32_t end = 0;
  Status s = ReadValueArray(small, 0, &values, &end);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.message(), "substitution count 100 too large");
  // Past kMaxValues, however large the chunk.
  const auto big = Array(0, {}, 4 + 4 * (kMaxValues + 1) + 16, kMaxValues + 1);
  s = ReadValueArray(big, 0, &values, &end);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
}

TEST(ValueArrayTest, CountItselfOutsideTheChunk) {
  const std::vector<uint8_t> b(16, 0);
  std::vector<ValueRef> values;
  uint32_t end = 0;
  EXPECT_FALSE(ReadValueArray(b, 13, &values, &end).ok());  // 3 bytes left for a u32
  EXPECT_FALSE(ReadValueArray(b, 16, &values, &end).ok());  // at the end
  EXPECT_FALSE(ReadValueArray(b, 17, &values, &end).ok());  // past it
  // An empty array at the very end is fine.
  EXPECT_TRUE(ReadValueArray(b, 12, &values, &end).ok());
  EXPECT_EQ(end, 16u);
  EXPECT_TRUE(values.empty());
}

}  // namespace
}  // namespace eventsift::evtx
