#include "src/core/time_util.h"

#include <gtest/gtest.h>

namespace eventsift {
namespace {

TEST(TimeUtilTest, FormatsFileTime) {
  // 2021-11-19T16:52:33.8337335Z from the MSExchange WEC sample.
  auto t = ParseEventTime("2021-11-19T16:52:33.8337335Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(FormatRfc3339(*t), "2021-11-19T16:52:33.8337335Z");
  EXPECT_EQ(FormatRfc3339(*t, 3), "2021-11-19T16:52:33.833Z");
  EXPECT_EQ(FormatRfc3339(*t, 0), "2021-11-19T16:52:33Z");
  EXPECT_EQ(FormatRfc3339(kFileTimeUnixEpoch), "1970-01-01T00:00:00.0000000Z");
  EXPECT_EQ(FormatRfc3339(0, 0), "1601-01-01T00:00:00Z");
}

TEST(TimeUtilTest, ConsecutiveTimesAcrossDaysMonthsAndYears) {
  // The formatter keeps the last day's date text: times going forward and
  // back across day, month, leap-day and year boundaries must each be right.
  const char* const times[] = {"2023-12-31T23:59:59.9999999Z", "2024-01-01T00:00:00.0000000Z",
                               "2024-01-01T00:00:00.0000001Z", "2024-02-28T23:59:59.5000000Z",
                               "2024-02-29T12:00:00.0000000Z", "2024-03-01T00:00:00.0000000Z",
                               "2024-02-29T12:34:56.7890123Z", "1999-09-09T09:09:09.0909090Z",
                               "2024-03-01T00:00:00.0000000Z"};
  for (const char* text : times) {
    auto t = ParseEventTime(text);
    ASSERT_TRUE(t.has_value()) << text;
    EXPECT_EQ(FormatRfc3339(*t), text);
    char buf[kRfc3339MaxSize];
    EXPECT_EQ(std::string(buf, WriteRfc3339(buf, *t)), text);
  }
}

TEST(TimeUtilTest, ParsesExportForms) {
  auto ms = ParseEventTime("/Date(1595374458918)/");
  ASSERT_TRUE(ms.has_value());
  EXPECT_EQ(FormatRfc3339(*ms, 3), "2020-07-21T23:34:18.918Z");
  EXPECT_EQ(ParseEventTime("\\/Date(1595374458918)\\/"), ms);
  auto no_zone = ParseEventTime("2017-12-19 17:45:02");
  ASSERT_TRUE(no_zone.has_value());
  EXPECT_EQ(FormatRfc3339(*no_zone, 0), "2017-12-19T17:45:02Z");
  auto offset = ParseEventTime("2024-03-14T15:54:25+02:00");
  ASSERT_TRUE(offset.has_value());
  EXPECT_EQ(FormatRfc3339(*offset, 0), "2024-03-14T13:54:25Z");
  EXPECT_FALSE(ParseEventTime("yesterday").has_value());
  EXPECT_FALSE(ParseEventTime("2024-13-01T00:00:00Z").has_value());
}

}  // namespace
}  // namespace eventsift
