#include "parsers/evtx/real_text.h"

#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace eventsift::evtx {
namespace {

std::string R64(double v) {
  std::string s;
  AppendReal64(&s, v);
  return s;
}
std::string R32(float v) {
  std::string s;
  AppendReal32(&s, v);
  return s;
}

// MS-EVEN6 2.2.12.3: `[-]dddd.dddd`, so whole numbers keep a point.
TEST(RealTextTest, WholeNumbersKeepTheirPoint) {
  EXPECT_EQ(R64(0.0), "0.0");
  EXPECT_EQ(R64(-0.0), "-0.0");
  EXPECT_EQ(R64(2.0), "2.0");
  EXPECT_EQ(R64(123456.0), "123456.0");
  EXPECT_EQ(R64(1e15), "1000000000000000.0");
  EXPECT_EQ(R32(0.0F), "0.0");
  EXPECT_EQ(R32(1e12F), "1000000000000.0");
}

TEST(RealTextTest, FractionsAreTheShortestRoundTripDigits) {
  EXPECT_EQ(R64(1.5), "1.5");
  EXPECT_EQ(R64(0.1), "0.1");
  EXPECT_EQ(R64(123.456), "123.456");
  EXPECT_EQ(R64(0.00001), "0.00001");
  EXPECT_EQ(R64(1.23456e-5), "0.0000123456");
  EXPECT_EQ(R32(0.1F), "0.1");
  EXPECT_EQ(R32(1e-6F), "0.000001");
  EXPECT_EQ(R32(12.3456F), "12.3456");
}

// Outside the positional range, evtx_dump 0.15.1's exponent form (the
// values below are what it prints for the same stored bytes).
TEST(RealTextTest, LargeAndSmallValuesUseAnUnpaddedExponent) {
  EXPECT_EQ(R64(1e16), "1e+16");
  EXPECT_EQ(R64(1.23456e16), "1.23456e+16");
  EXPECT_EQ(R64(1e-6), "1e-6");
  EXPECT_EQ(R64(1.5e-10), "1.5e-10");
  EXPECT_EQ(R64(5e-324), "5e-324");
  EXPECT_EQ(R32(1e13F), "1e+13");
  EXPECT_EQ(R32(1e-7F), "1e-7");
  EXPECT_EQ(R32(1.23456e-7F), "1.23456e-7");
}

TEST(RealTextTest, NotANumberAndInfinities) {
  EXPECT_EQ(R64(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(R64(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(R64(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(R32(std::numeric_limits<float>::infinity()), "inf");
}

}  // namespace
}  // namespace eventsift::evtx
