// OpenWEC's Json output format (tests/data/openwec/openwec.ndjson, made by
// make_openwec.py from OpenWEC's doc/formats.md): every field the dialect
// maps, read off the lines named in each test.

#include <gtest/gtest.h>

#include <string>

#include "parsers/json/event_parser.h"
#include "src/core/time_util.h"
#include "tests/unit/parsers/json/json_test_util.h"

namespace eventsift::json::testing {
namespace {

const std::string kFile = "../openwec/openwec.ndjson";

const OwnedEvent* AtLine(const std::vector<OwnedEvent>& events, uint64_t line) {
  for (const auto& e : events) {
    if (e.line == line) return &e;
  }
  return nullptr;
}

std::string Field(const OwnedEvent& e, const std::string& name) {
  for (const auto& [n, v] : e.data) {
    if (n == name) return v;
  }
  return "<missing>";
}

TEST(OpenWecShape, SystemEventDataAndRenderingInfo) {
  Decoded d = DecodeClean(kFile);
  ASSERT_EQ(d.events.size(), 58u);
  const OwnedEvent& e = d.events[0];  // line 1: EX01's first EEMS 1008
  EXPECT_EQ(e.provider, "MSExchange Mitigation Service");
  EXPECT_EQ(e.event_id, 1008u);
  EXPECT_TRUE(e.has_qualifiers);
  EXPECT_EQ(e.qualifiers, 49152u);
  EXPECT_EQ(e.level, 2);
  EXPECT_EQ(e.task, 1u);
  EXPECT_EQ(e.keywords, 0x80000000000000u);
  EXPECT_EQ(e.channel, "Application");
  EXPECT_EQ(e.computer, "ex01.contoso.com");
  EXPECT_EQ(e.record_id, 81001u);
  EXPECT_EQ(e.process_id, 4312u);
  EXPECT_EQ(e.thread_id, 5120u);
  EXPECT_EQ(FormatRfc3339(e.time, 7), "2026-11-20T23:05:12.3450000Z");
  EXPECT_EQ(e.message.rfind("An unexpected exception occurred.", 0), 0u);
  // EventData.Data: unnamed values; OpenWEC's own metadata is not data.
  ASSERT_EQ(e.data.size(), 1u);
  EXPECT_EQ(e.data[0].first, "");
  EXPECT_EQ(e.data[0].second.rfind("Exception encountered while fetching mitigations", 0), 0u);
}

TEST(OpenWecShape, NamedDataGuidUserAndUserDataXml) {
  Decoded d = DecodeClean(kFile);
  bool saw_4624 = false, saw_1102 = false;
  for (const auto& e : d.events) {
    if (e.event_id == 4624) {
      saw_4624 = true;
      EXPECT_EQ(e.provider_guid, "{54849625-5478-4994-A5BA-3E3B0328C30D}");
      EXPECT_EQ(e.user_sid, "S-1-5-18");
      EXPECT_EQ(e.keywords, 0x8020000000000000u);
      EXPECT_EQ(Field(e, "TargetUserName"), "HealthMailbox01");
      EXPECT_EQ(Field(e, "IpAddress"), "10.0.0.12");  // the event's, not OpenWEC's
    }
    if (e.event_id == 1102) {
      saw_1102 = true;
      EXPECT_EQ(e.line, 31u);
      EXPECT_EQ(e.channel, "Security");
      EXPECT_EQ(Field(e, "SubjectUserName"), "Administrator");
      EXPECT_EQ(Field(e, "SubjectLogonId"), "0x3e7");
      EXPECT_EQ(e.message, "The audit log was cleared.");
    }
  }
  EXPECT_TRUE(saw_4624);
  EXPECT_TRUE(saw_1102);
}

TEST(OpenWecShape, TimeReceivedStandsInAndBadEventIdsAreErrors) {
  Decoded d = DecodeBytes(
      R"({"System":{"Provider":{"EventSourceName":"MSExchange Mitigation Service"},"EventID":1008,)"
      R"("Channel":"Application","Computer":"ex01"},"OpenWEC":{"IpAddress":"10.0.0.1",)"
      R"("TimeReceived":"2022-12-14T17:07:03.331+01:00"}})"
      "\n"
      R"({"System":{"EventID":70000,"Computer":"ex01"}})"
      "\n"
      R"({"System":{"EventID":"x","Computer":"ex01"}})"
      "\n");
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].provider, "MSExchange Mitigation Service");
  EXPECT_EQ(FormatRfc3339(d.events[0].time, 3), "2022-12-14T16:07:03.331Z");
  ASSERT_EQ(d.reports.size(), 2u);
  EXPECT_NE(d.reports[0].ToString().find("System.EventID"), std::string::npos)
      << d.reports[0].ToString();
  EXPECT_NE(d.reports[1].ToString().find("System.EventID"), std::string::npos)
      << d.reports[1].ToString();
}

}  // namespace
}  // namespace eventsift::json::testing
