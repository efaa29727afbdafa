// `eventsift dump` end to end, when the binary is built (ES_BINARY).

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace {

// Runs a shell command, returns its stdout; *status gets the exit code.
std::string RunCommand(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int rc = pclose(p);
  *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

class DumpCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(ES_BINARY)) GTEST_SKIP() << "eventsift binary not built";
  }
};

TEST_F(DumpCliTest, JsonlOneObjectPerRecord) {
  int status = -1;
  const std::string out = RunCommand(
      std::string(ES_BINARY) +
          " dump --format jsonl tests/data/evtx/Security_short_selected.evtx 2>/dev/null",
      &status);
  EXPECT_EQ(status, 0);
  size_t lines = 0;
  for (char c : out) lines += c == '\n';
  EXPECT_EQ(lines, 7u);
  // An exported log: EventRecordID 319457771 under record header 1.
  EXPECT_EQ(out.rfind("{\"record_id\":319457771,\"record_number\":1,"
                      "\"time\":\"2016-06-29T15:24:34.3460000Z\"",
                      0),
            0u);
}

TEST_F(DumpCliTest, XmlMatchesEvtxDumpAndJsonIsAnArray) {
  int status = -1;
  const std::string xml = RunCommand(
      std::string(ES_BINARY) +
          " dump --format xml -j 2 tests/data/evtx/MSExchange_Management_wec.evtx 2>/dev/null",
      &status);
  EXPECT_EQ(status, 0);
  FILE* f = fopen("tests/data/evtx/MSExchange_Management_wec.evtx.evtx_dump.xml", "rb");
  ASSERT_NE(f, nullptr);
  std::string want;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) want.append(buf, n);
  fclose(f);
  EXPECT_EQ(xml, want);
  const std::string json =
      RunCommand(std::string(ES_BINARY) +
                     " dump --format json tests/data/evtx/new-user-security.evtx 2>/dev/null",
                 &status);
  EXPECT_EQ(json.front(), '[');
  EXPECT_EQ(json.substr(json.size() - 3), "\n]\n");
}

TEST_F(DumpCliTest, SummaryAndExitCodes) {
  int status = -1;
  const std::string err =
      RunCommand(std::string(ES_BINARY) +
                     " dump tests/data/evtx/new-user-security.evtx no-such-file 2>&1 >/dev/null",
                 &status);
  EXPECT_EQ(status, 3);  // kExitInputError: one input could not be read
  EXPECT_NE(err.find("4 records from 2 inputs"), std::string::npos);
  RunCommand(
      std::string(ES_BINARY) +
          " dump --strict tests/data/evtx/Microsoft-Windows-HelloForBusiness%4Operational.evtx "
          ">/dev/null 2>&1",
      &status);
  EXPECT_EQ(status, 5);  // kExitCorruption
  RunCommand(std::string(ES_BINARY) + " dump --format bogus x 2>/dev/null", &status);
  EXPECT_EQ(status, 2);
}

}  // namespace
