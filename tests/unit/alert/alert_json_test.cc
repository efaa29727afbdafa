#include "src/alert/alert_json.h"

#include <gtest/gtest.h>

#include "tests/unit/alert/alert_test_util.h"

namespace eventsift {
namespace {

using testing::FullAlert;
using testing::SparseAlert;

TEST(RenderAlertJsonTest, FixedKeyOrderOnOneLine) {
  const std::string json = RenderAlertJson(FullAlert());
  EXPECT_EQ(json.find('\n'), std::string::npos);
  const std::string prefix = std::string(R"({"schema":"eventsift.alert/v1",)") +
                             R"("alert_id":"0123456789abcdef0123456789abcdef",)" +
                             R"("producer":{"name":"eventsift","version":")" +
                             std::string(ProducerVersion()) +
                             R"("},"rule":{"id":"eems-mitigation-error",)";
  EXPECT_EQ(json.substr(0, prefix.size()), prefix);
  EXPECT_NE(
      json.find(
          R"("host":"ex01.contoso.com","host_names":["EX01","EX01.contoso.com"],)"
          R"("exchange":{"version":"15.1.2507.21","product":"Exchange Server 2016 CU23 Feb23 SU",)"
          R"("status":"outdated","older_than_march_2023":true,)"),
      std::string::npos)
      << json;
  EXPECT_NE(
      json.find(
          R"("window":{"start":"2025-01-24T10:00:00.0000000Z",)"
          R"("end":"2025-01-25T10:00:00.0000000Z"},)"
          R"("first_seen":"2025-01-24T10:15:30.1234567Z",)"
          R"("last_seen":"2025-01-24T23:15:30.0000000Z","count":14,"suppressed":3,"matched":{},)"
          R"("samples":[{"record_id":4711,)"),
      std::string::npos)
      << json;
  // Samples are WriteEventJson objects with their source location.
  EXPECT_NE(json.find(R"("data":{"param1":"fetching mitigations","Detail":"tab\there",)"
                      R"("Detail_2":"second"})"),
            std::string::npos);
  EXPECT_NE(json.find(R"("source":{"file":"C:\\logs\\Application.evtx","offset":69632,"chunk":1})"),
            std::string::npos);
  EXPECT_NE(json.find(R"("source":{"file":"export.jsonl","line":17})"), std::string::npos);
  EXPECT_EQ(json.back(), '}');
}

TEST(RenderAlertJsonTest, UnknownBuildAndUntimedWindowAreNull) {
  const std::string json = RenderAlertJson(SparseAlert());
  EXPECT_NE(json.find(R"("host":"","host_names":[],"exchange":null,)"
                      R"("window":{"start":null,"end":null},"first_seen":null,"last_seen":null,)"
                      R"("count":1,"suppressed":0,"matched":{},"samples":[]})"),
            std::string::npos)
      << json;
}

TEST(RenderAlertJsonTest, UndecidableBuildHasNullFlag) {
  Alert a = SparseAlert();
  a.exchange.emplace();
  a.exchange->version = "15.1.2507.6";
  a.exchange->product = "Exchange Server 2016 CU23";
  a.exchange->status = BuildStatus::kIndeterminate;
  a.exchange->source = "inventory x.csv:2";
  EXPECT_NE(RenderAlertJson(a).find(R"("status":"indeterminate","older_than_march_2023":null,)"),
            std::string::npos);
}

// A sample from an exported or forwarded EVTX log carries the record
// header's number beside its EventRecordID; both survive a round trip.
TEST(ParseAlertJsonTest, RoundTripsSampleRecordNumber) {
  Alert original = FullAlert();
  original.samples[0].record_number = 12;
  const std::string json = RenderAlertJson(original);
  EXPECT_NE(json.find(R"("record_id":4711,"record_number":12,)"), std::string::npos) << json;
  Result<Alert> parsed = ParseAlertJson(json);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed.value().samples[0].record_id, 4711u);
  EXPECT_EQ(parsed.value().samples[0].record_number, 12u);
  EXPECT_EQ(RenderAlertJson(parsed.value()), json);
}

TEST(ParseAlertJsonTest, RoundTripsFullAlert) {
  const Alert original = FullAlert();
  const std::string json = RenderAlertJson(original);
  Result<Alert> parsed = ParseAlertJson(json);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  const Alert& a = parsed.value();
  EXPECT_EQ(RenderAlertJson(a), json);
  EXPECT_EQ(a.alert_id, original.alert_id);
  EXPECT_EQ(a.producer_version, ProducerVersion());
  EXPECT_EQ(a.rule.references, original.rule.references);
  EXPECT_EQ(a.host_names, original.host_names);
  ASSERT_TRUE(a.exchange.has_value());
  EXPECT_EQ(a.exchange->status, BuildStatus::kOutdated);
  EXPECT_EQ(a.exchange->older_than_march_2023, true);
  EXPECT_EQ(a.window_start, original.window_start);
  EXPECT_EQ(a.first_seen, original.first_seen);
  EXPECT_EQ(a.count, 14u);
  EXPECT_EQ(a.suppressed, 3u);
  ASSERT_EQ(a.samples.size(), 2u);
  const OwnedEvent& s = a.samples[0];
  EXPECT_EQ(s.message, original.samples[0].message);
  EXPECT_EQ(s.time, original.samples[0].time);
  EXPECT_TRUE(s.has_qualifiers);
  EXPECT_EQ(s.qualifiers, 16384u);
  EXPECT_EQ(s.keywords, 0x80000000000000ULL);
  EXPECT_EQ(s.offset, 69632u);
  EXPECT_EQ(s.chunk, 1u);
  EXPECT_EQ(s.file, "C:\\logs\\Application.evtx");
  // Unnamed and repeated data names come back as the keys they were written under.
  ASSERT_EQ(s.data.size(), 3u);
  EXPECT_EQ(s.data[0], (std::pair<std::string, std::string>{"param1", "fetching mitigations"}));
  EXPECT_EQ(s.data[2], (std::pair<std::string, std::string>{"Detail_2", "second"}));
  EXPECT_FALSE(a.samples[1].has_qualifiers);
  EXPECT_EQ(a.samples[1].line, 17u);
  EXPECT_EQ(a.samples[1].offset, UINT64_MAX);
}

TEST(ParseAlertJsonTest, RoundTripsSparseAlert) {
  const std::string json = RenderAlertJson(SparseAlert());
  Result<Alert> parsed = ParseAlertJson(json);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_FALSE(parsed.value().exchange.has_value());
  EXPECT_EQ(parsed.value().window_start, 0);
  EXPECT_EQ(RenderAlertJson(parsed.value()), json);
}

// A Sigma rule's alert: format, source, status, tags, falsepositives and the
// matched values are written and read back unchanged.
TEST(ParseAlertJsonTest, RoundTripsSigmaFields) {
  Alert alert = SparseAlert();
  alert.rule.format = "sigma";
  alert.rule.source = "rules/windows/proc_creation_win_x.yml";
  alert.rule.status = "test";
  alert.rule.tags = {"attack.execution", "attack.t1059.001"};
  alert.rule.falsepositives = {"Admin scripts"};
  alert.matched = {{"Image", "C:\\Windows\\cmd.exe"}, {"CommandLine", "cmd /c \"x\""}};
  const std::string json = RenderAlertJson(alert);
  EXPECT_NE(json.find(R"("format":"sigma","source":"rules/windows/proc_creation_win_x.yml",)"
                      R"("status":"test","tags":["attack.execution","attack.t1059.001"],)"
                      R"("falsepositives":["Admin scripts"]})"),
            std::string::npos)
      << json;
  Result<Alert> parsed = ParseAlertJson(json);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed.value().rule.tags, alert.rule.tags);
  EXPECT_EQ(parsed.value().matched, alert.matched);
  EXPECT_EQ(RenderAlertJson(parsed.value()), json);
}

TEST(ParseAlertJsonTest, RoundTripsCveFields) {
  Alert original = SparseAlert();
  original.cve = CveExposure{"CVE-2026-42897",
                             "OWA XSS",
                             "2026-05-15",
                             "exposed_eems_failing",
                             "exposed: EEMS failing since 2026-05-01T07:00:00Z",
                             "2026-05-14",
                             133821504000000000LL,
                             "evidence",
                             "M2"};
  original.exposed_cves = {"CVE-2026-42897"};
  const std::string json = RenderAlertJson(original);
  Result<Alert> parsed = ParseAlertJson(json);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  ASSERT_TRUE(parsed.value().cve.has_value());
  EXPECT_EQ(parsed.value().cve->since, 133821504000000000LL);
  EXPECT_EQ(parsed.value().cve->kev_added, "2026-05-15");
  EXPECT_EQ(parsed.value().exposed_cves, original.exposed_cves);
  EXPECT_EQ(RenderAlertJson(parsed.value()), json);
  // Empty optional strings are null and read back empty.
  original.cve->kev_added.clear();
  original.cve->exposed_from.clear();
  const std::string sparse = RenderAlertJson(original);
  EXPECT_NE(sparse.find("\"kev_added\":null"), std::string::npos) << sparse;
  auto again = ParseAlertJson(sparse);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(RenderAlertJson(again.value()), sparse);
}

TEST(ParseAlertJsonTest, IgnoresFieldsAddedLater) {
  std::string json = RenderAlertJson(SparseAlert());
  json.insert(1, R"("added_in_v1_1":{"nested":[1,2,{"x":null}]},)");
  Result<Alert> parsed = ParseAlertJson(json);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed.value().rule.id, "r");
}

TEST(ParseAlertJsonTest, RejectsOtherSchemaVersions) {
  std::string json = RenderAlertJson(SparseAlert());
  json.replace(json.find("alert/v1"), 8, "alert/v2");
  Result<Alert> parsed = ParseAlertJson(json);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code(), StatusCode::kUnsupported);
}

TEST(ParseAlertJsonTest, RejectsMalformedInput) {
  const std::string good = RenderAlertJson(SparseAlert());
  EXPECT_FALSE(ParseAlertJson("").has_value());
  EXPECT_FALSE(ParseAlertJson("not json").has_value());
  EXPECT_FALSE(ParseAlertJson(R"({"alert_id":"x"})").has_value());  // no schema
  EXPECT_FALSE(ParseAlertJson(good + " {}").has_value());           // trailing object
  EXPECT_FALSE(ParseAlertJson(good.substr(0, good.size() - 5)).has_value());
  std::string bad_count = good;
  bad_count.replace(bad_count.find(R"("count":1)"), 9, R"("count":"1")");
  EXPECT_FALSE(ParseAlertJson(bad_count).has_value());
  std::string bad_status = RenderAlertJson(FullAlert());
  bad_status.replace(bad_status.find("outdated"), 8, "obsolete");
  EXPECT_FALSE(ParseAlertJson(bad_status).has_value());
}

TEST(BuildStatusJsonNameTest, RoundTripsEveryStatus) {
  for (BuildStatus s : {BuildStatus::kUnknown, BuildStatus::kOutdated, BuildStatus::kBorderline,
                        BuildStatus::kCurrent, BuildStatus::kNoEems, BuildStatus::kIndeterminate}) {
    EXPECT_EQ(ParseBuildStatusJsonName(BuildStatusJsonName(s)), s);
  }
  EXPECT_EQ(BuildStatusJsonName(BuildStatus::kNoEems), "no_eems");
  EXPECT_FALSE(ParseBuildStatusJsonName("Outdated").has_value());
}

}  // namespace
}  // namespace eventsift
