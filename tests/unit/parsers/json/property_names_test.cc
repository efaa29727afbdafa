// PowerShell exports' unnamed Properties get the names their EVTX template
// carries (data/event-fields.tsv, compiled in), when provider, event id,
// version and the number of values all match; otherwise they stay unnamed.

#include "parsers/json/property_names.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/parsers/json/json_test_util.h"

namespace eventsift::json {
namespace {

using testing::DataAt;
using testing::DecodeBytes;
using testing::Decoded;
using testing::NameAt;

// Security 4688 version 2 (Windows 10): 15 values, CommandLine the 9th.
std::string Line4688(int values, int version) {
  std::string props;
  for (int i = 0; i < values; ++i) {
    if (i) props += ",";
    props += R"({"Value":"v)" + std::to_string(i) + R"("})";
  }
  return R"({"Id":4688,"Version":)" + std::to_string(version) +
         R"(,"ProviderName":"Microsoft-Windows-Security-Auditing","LogName":"Security",)"
         R"("MachineName":"ws01","Properties":[)" +
         props + "]}\n";
}

TEST(PropertyNamesTest, TableNamesSecurity4688ByTemplateOrder) {
  auto names = PropertyNamesFor("Microsoft-Windows-Security-Auditing", 4688, 2, 15);
  ASSERT_EQ(names.size(), 15u);
  EXPECT_EQ(names[0], "SubjectUserSid");
  EXPECT_EQ(names[8], "CommandLine");
  EXPECT_TRUE(PropertyNamesFor("Microsoft-Windows-Security-Auditing", 4688, 2, 14).empty());
  EXPECT_TRUE(PropertyNamesFor("microsoft-windows-security-auditing", 4688, 2, 15).empty());
  EXPECT_TRUE(PropertyNamesFor("Microsoft-Windows-Security-Auditing", 4688, 2, 0).empty());
}

TEST(PropertyNamesTest, PowerShellExportGetsNamedData) {
  Decoded d = DecodeBytes(Line4688(15, 2));
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(NameAt(d.events[0], 8), "CommandLine");
  EXPECT_EQ(DataAt(d.events[0], 8), "v8");
  EXPECT_EQ(NameAt(d.events[0], 14), "MandatoryLabel");
}

TEST(PropertyNamesTest, UnknownVersionOrCountStaysUnnamed) {
  for (const std::string& line : {Line4688(14, 2), Line4688(15, 9)}) {
    Decoded d = DecodeBytes(line);
    ASSERT_EQ(d.events.size(), 1u);
    EXPECT_EQ(NameAt(d.events[0], 8), "");
    EXPECT_EQ(DataAt(d.events[0], 8), "v8");
  }
}

}  // namespace
}  // namespace eventsift::json
