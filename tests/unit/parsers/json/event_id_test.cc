// Event ids are 16-bit in every JSON shape: a larger, negative or fractional
// id is reported as a malformed line, never wrapped into a real id.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/parsers/json/json_test_util.h"

namespace eventsift::json {
namespace {

using testing::DecodeBytes;
using testing::Decoded;

// One line of each shape with `id` (JSON text) where the shape keeps its
// event id.
std::string NxlogLine(const std::string& id) {
  return R"({"EventID":)" + id +
         R"(,"SourceName":"MSExchange Mitigation Service","Hostname":"ex01","Channel":"Application"})";
}
std::string WinlogLine(const std::string& id) {
  return R"({"winlog":{"event_id":)" + id +
         R"(,"provider_name":"MSExchange Mitigation Service","computer_name":"ex01"}})";
}
std::string EcsCodeLine(const std::string& id) {
  return R"({"event":{"code":)" + id +
         R"(},"winlog":{"provider_name":"MSExchange Mitigation Service","computer_name":"ex01"}})";
}
std::string EvtxDumpLine(const std::string& id) {
  return R"({"Event":{"System":{"Provider":{"#attributes":{"Name":"MSExchange Mitigation Service"}},"EventID":)" +
         id + R"(,"Computer":"ex01"}}})";
}
std::string PowerShellLine(const std::string& id) {
  return R"({"Id":)" + id +
         R"(,"ProviderName":"MSExchange Mitigation Service","MachineName":"ex01","LogName":"Application"})";
}

std::string LogAnalyticsLine(const std::string& id) {
  return R"({"TimeGenerated":"2026-11-20T00:00:00Z","Computer":"ex01","EventID":)" + id +
         R"(,"Provider":"P","EventData":"{}"})";
}

using LineFn = std::string (*)(const std::string&);
const LineFn kShapes[] = {NxlogLine,    WinlogLine,     EcsCodeLine,
                          EvtxDumpLine, PowerShellLine, LogAnalyticsLine};

TEST(JsonEventIdTest, SixteenBitIdsInAnyNotationAreRead) {
  struct Case {
    std::string json;
    uint32_t id;
  };
  const std::vector<Case> cases = {{"1008", 1008},   {"\"1008\"", 1008},  {"\"0x3f0\"", 1008},
                                   {"1008.0", 1008}, {"1.008e3", 1008},   {"0", 0},
                                   {"65535", 65535}, {"\" 4624 \"", 4624}};
  for (LineFn shape : kShapes) {
    for (const Case& c : cases) {
      Decoded d = DecodeBytes(shape(c.json) + "\n");
      ASSERT_EQ(d.events.size(), 1u) << shape(c.json);
      EXPECT_EQ(d.events[0].event_id, c.id) << shape(c.json);
      EXPECT_TRUE(d.reports.empty()) << shape(c.json) << ": " << d.reports[0].ToString();
    }
  }
}

TEST(JsonEventIdTest, OutOfRangeIdsAreMalformedLinesNotWrapped) {
  // 4294968304 and 0x1000003f0 wrapped to 1008, 2^32 to 0, 1.5 to 1 and -1 to
  // 4294967295 before.
  const std::vector<std::string> ids = {"4294968304",
                                        "\"4294968304\"",
                                        "\"0x1000003f0\"",
                                        "1008.9",
                                        "\"1008.9\"",
                                        "4294967296",
                                        "1.5",
                                        "-1",
                                        "\"-1\"",
                                        "65536",
                                        "-0.5",
                                        "1e300",
                                        "99999999999999999999999999",
                                        "\"0x10000\""};
  for (LineFn shape : kShapes) {
    for (const std::string& id : ids) {
      // The bad line between two good ones: both good lines still decode.
      const std::string bytes = shape("1005") + "\n" + shape(id) + "\n" + shape("1006") + "\n";
      Decoded d = DecodeBytes(bytes, "ids.ndjson");
      ASSERT_TRUE(d.status.ok()) << d.status.ToString();
      ASSERT_EQ(d.events.size(), 2u) << shape(id);
      EXPECT_EQ(d.events[0].event_id, 1005u);
      EXPECT_EQ(d.events[1].event_id, 1006u);
      ASSERT_EQ(d.reports.size(), 1u) << shape(id);
      const Status& r = d.reports[0];
      EXPECT_EQ(r.code(), StatusCode::kCorruption);
      ASSERT_NE(r.where(), nullptr);
      EXPECT_EQ(r.where()->file, "ids.ndjson");
      EXPECT_EQ(r.where()->line, 2u);
      EXPECT_NE(r.message().find("out of range: event ids are whole numbers 0 to 65535"),
                std::string_view::npos)
          << shape(id) << ": " << r.ToString();
    }
  }
}

TEST(JsonEventIdTest, NonNumbersStillSayNotANumber) {
  Decoded d = DecodeBytes(NxlogLine("\"abc\"") + "\n" + PowerShellLine("\"abc\"") + "\n");
  ASSERT_EQ(d.reports.size(), 2u);
  EXPECT_NE(d.reports[0].message().find("EventID is not a number"), std::string_view::npos);
  EXPECT_NE(d.reports[1].message().find("Id is not a number"), std::string_view::npos);
}

TEST(JsonEventIdTest, QualifiersTravelApartFromTheId) {
  Decoded d = DecodeBytes(
      R"({"Event":{"System":{"Provider":{"#attributes":{"Name":"P"}},"EventID":{"#attributes":{"Qualifiers":16384},"#text":1008},"Computer":"ex01"}}})"
      "\n" +
      PowerShellLine("1008").insert(1, R"("Qualifiers":49152,)") + "\n");
  ASSERT_EQ(d.events.size(), 2u) << (d.reports.empty() ? "" : d.reports[0].ToString());
  EXPECT_EQ(d.events[0].event_id, 1008u);
  EXPECT_EQ(d.events[0].qualifiers, 16384);
  EXPECT_EQ(d.events[1].event_id, 1008u);
  EXPECT_EQ(d.events[1].qualifiers, 49152);
}

}  // namespace
}  // namespace eventsift::json
