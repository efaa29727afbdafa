// Renders alerts and validates them for real with tools/validate_alerts.py
// against schemas/alert.schema.json (python3-jsonschema, formats checked).

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "src/alert/alert_json.h"
#include "tests/unit/alert/alert_test_util.h"
#include "tests/unit/alert/validate_alerts_util.h"

namespace eventsift {
namespace {

using testing::RunCommand;
using RunResult = testing::CommandResult;

class AlertSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("eventsift_alerts_" + std::to_string(::getpid()) + ".ndjson"))
                .string();
    tool_ = testing::ValidateAlertsCommand();
  }
  void TearDown() override { std::remove(path_.c_str()); }
  void WriteLines(const std::vector<std::string>& lines) {
    std::ofstream out(path_, std::ios::binary);
    for (const auto& l : lines) out << l << '\n';
  }
  std::string path_;
  std::string tool_;
};

std::vector<std::string> RenderedAlerts() {
  Alert indeterminate = testing::SparseAlert();
  indeterminate.host = "ex02";
  indeterminate.host_names = {"EX02"};
  indeterminate.exchange.emplace();
  indeterminate.exchange->version = "15.1.2507.6";
  indeterminate.exchange->product = "Exchange Server 2016 CU23";
  indeterminate.exchange->status = BuildStatus::kIndeterminate;
  indeterminate.exchange->source = "inventory servers.csv:2";
  indeterminate.window_start = *ParseEventTime("2026-07-14T00:00:00Z");
  indeterminate.window_end = *ParseEventTime("2026-07-15T00:00:00Z");
  indeterminate.first_seen = indeterminate.last_seen = *ParseEventTime("2026-07-14T08:00:00Z");
  return {RenderAlertJson(testing::FullAlert()), RenderAlertJson(testing::SparseAlert()),
          RenderAlertJson(indeterminate)};
}

TEST_F(AlertSchemaTest, RenderedAlertsValidate) {
  WriteLines(RenderedAlerts());
  RunResult r = RunCommand(tool_ + " " + path_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3 alert(s) checked, 0 invalid"), std::string::npos) << r.output;
}

TEST_F(AlertSchemaTest, ReadsStdin) {
  WriteLines(RenderedAlerts());
  RunResult r = RunCommand(tool_ + " < " + path_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(AlertSchemaTest, ReportsBadLinesByNumber) {
  std::vector<std::string> lines = RenderedAlerts();
  // Line 2: a count of 0 is not an alert; line 4: not JSON at all; line 3
  // stays valid. A retyped field must fail too (line 5: count as string).
  lines[1].replace(lines[1].find(R"("count":1)"), 9, R"("count":0)");
  lines.push_back("{not json");
  std::string retyped = RenderAlertJson(testing::SparseAlert());
  retyped.replace(retyped.find(R"("count":1)"), 9, R"("count":"1")");
  lines.push_back(retyped);
  WriteLines(lines);
  RunResult r = RunCommand(tool_ + " " + path_);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(path_ + ":2: count:"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(path_ + ":3:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(path_ + ":4: not JSON"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(path_ + ":5: count:"), std::string::npos) << r.output;
}

TEST_F(AlertSchemaTest, ChecksTimeFormatAndUnknownKeys) {
  std::string bad_time = RenderAlertJson(testing::FullAlert());
  bad_time.replace(bad_time.find("2025-01-24T10:00:00.0000000Z"), 28,
                   "2025-13-24T10:00:00.0000000Z");
  std::string extra = RenderAlertJson(testing::SparseAlert());
  extra.insert(1, R"("undocumented":1,)");
  WriteLines({bad_time, extra});
  RunResult r = RunCommand(tool_ + " " + path_);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(path_ + ":1: window/start:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(path_ + ":2: (root):"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace eventsift
