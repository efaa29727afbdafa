#include "src/core/status.h"

#include <gtest/gtest.h>

#include "src/core/result.h"

namespace eventsift {
namespace {

TEST(StatusTest, OkIsDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, CarriesCodeMessageAndWhere) {
  Status s = Status::Corruption("bad chunk signature").At("a.evtx", 0x1000);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  ASSERT_NE(s.where(), nullptr);
  EXPECT_EQ(s.where()->offset, 0x1000u);
  EXPECT_EQ(s.ToString(), "corruption: a.evtx@0x1000: bad chunk signature");
  Status line = Status::InvalidArgument("not JSON").At("x.ndjson", Where::kNone, 7);
  EXPECT_EQ(line.ToString(), "invalid argument: x.ndjson:7: not JSON");
}

TEST(StatusTest, CopyIsDeep) {
  Status a = Status::IOError("disk");
  Status b = a;
  b.At("f");
  EXPECT_EQ(a.where(), nullptr);
  EXPECT_NE(b.where(), nullptr);
}

Result<int> Half(int v) {
  if (v % 2 != 0) return Status::InvalidArgument("odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  ES_ASSIGN_OR_RETURN(h, Half(v));  // declares h
  return Half(h);
}

TEST(ResultTest, PropagatesErrors) {
  auto ok = Quarter(8);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok.value(), 2);
  auto bad = Quarter(6);
  ASSERT_TRUE(bad.has_error());
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace eventsift
