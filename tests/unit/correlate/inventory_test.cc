// Host inventories in CSV and JSON (src/correlate/inventory.h).

#include "src/correlate/inventory.h"

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace eventsift::correlate {
namespace {

ExchangeVersion V(uint32_t major, uint32_t minor, uint32_t build, uint32_t revision,
                  bool revision_known = true) {
  return ExchangeVersion{major, minor, build, revision, revision_known};
}

std::vector<InventoryEntry> Parse(std::string_view text) {
  auto entries = ParseInventory(text, "inv");
  EXPECT_TRUE(entries) << entries.error().ToString();
  return entries ? entries.value() : std::vector<InventoryEntry>{};
}

Status Error(std::string_view text) {
  auto entries = ParseInventory(text, "inv");
  EXPECT_FALSE(entries);
  return entries ? Status::OK() : entries.error();
}

TEST(InventoryCsvTest, HostBuildRowsWithHeader) {
  auto e = Parse("host,build\nEX01,15.1.2507.23\n\n\"EX02.contoso.com\",\"15.02.1118.026\"\n");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].host, "EX01");
  EXPECT_EQ(e[0].version, V(15, 1, 2507, 23));
  EXPECT_EQ(e[0].source, "inventory inv:2");
  EXPECT_EQ(e[1].host, "EX02.contoso.com");
  EXPECT_EQ(e[1].version, V(15, 2, 1118, 26));
  EXPECT_EQ(e[1].source, "inventory inv:4");
}

TEST(InventoryCsvTest, BadRowNamesLineAndWhy) {
  Status s = Error("host,build\nEX01,15.1.2507.23\nEX02,16.0.1.1\n");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  ASSERT_NE(s.where(), nullptr);
  EXPECT_EQ(s.where()->ToString(), "inv:3");
  EXPECT_NE(std::string(s.message()).find("major version 16"), std::string::npos) << s.ToString();
  EXPECT_EQ(Error("EX01,15.1.2507.23\n,15.1.2507.23\n").where()->line, 2u);  // empty host
  EXPECT_EQ(Error("host,build\nEX01\n").where()->line, 2u);                  // one column
}

// A header-named mitigations column gives the applied ids; other extra
// columns are still ignored, even when they hold id-like text.
TEST(InventoryCsvTest, MitigationsColumn) {
  auto e = Parse(
      "Name,AdminDisplayVersion,Site,MitigationsApplied\n"
      "EX01,15.1.2507.66,M5-site,\"M1.1.0, m2.1.x\"\n"
      "EX02,15.1.2507.66,M5-site,\n"
      "EX03,15.1.2507.66\n");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].mitigations, (std::vector<std::string>{"M1.1.0", "M2.1.x"}));
  EXPECT_TRUE(e[1].mitigations.empty());
  EXPECT_TRUE(e[2].mitigations.empty());
  // No such column: nothing read from the extra ones.
  auto plain = Parse("host,build,note\nEX01,15.1.2507.66,M2.1.0\n");
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_TRUE(plain[0].mitigations.empty());
}

TEST(InventoryJsonTest, MitigationsField) {
  auto e = Parse(
      "[{\"Name\": \"EX01\", \"AdminDisplayVersion\": \"15.1.2507.66\", "
      "\"MitigationsApplied\": [\"M1.1.0\", \"M2.1.0\"]},\n"
      " {\"Name\": \"EX02\", \"build\": \"15.1.2507.66\", \"mitigations\": \"M2.1.0 PING1\"},\n"
      " {\"Name\": \"EX03\", \"build\": \"15.1.2507.66\", \"Mitigations\": null}]");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].mitigations, (std::vector<std::string>{"M1.1.0", "M2.1.0"}));
  EXPECT_EQ(e[1].mitigations, (std::vector<std::string>{"M2.1.0"}));
  EXPECT_TRUE(e[2].mitigations.empty());
  Status s = Error("[{\"Name\": \"EX01\", \"build\": \"15.1.2507.66\", \"Mitigations\": 3}]");
  EXPECT_NE(std::string(s.message()).find("Mitigations"), std::string::npos) << s.ToString();
}

// Get-ExchangeServer | Select Name,AdminDisplayVersion | ConvertTo-Json, with
// the version as a string (remote PowerShell) and as a ServerVersion object.
// Found by lists_fuzzer: a malformed value where MitigationsApplied is read
// threw from simdjson (is_null taken as a bool) instead of being reported.
TEST(InventoryJsonTest, MalformedMitigationsValueIsAnErrorNotAThrow) {
  for (const char* value : {"tru", "nul", "-", "{"}) {
    Status s = Error(std::string("[{\"Name\": \"EX01\", \"build\": \"15.1.2507.66\", ") +
                     "\"MitigationsApplied\": " + value + "}]");
    EXPECT_FALSE(s.ok()) << value;
    EXPECT_FALSE(s.message().empty()) << value;
  }
}

TEST(InventoryJsonTest, ConvertToJsonShapes) {
  auto e = Parse(
      "[\n"
      "    {\n"
      "        \"Name\":  \"EX01\",\n"
      "        \"AdminDisplayVersion\":  \"Version 15.1 (Build 2507.6)\"\n"
      "    },\n"
      "    {\n"
      "        \"Name\":  \"EX02\",\n"
      "        \"AdminDisplayVersion\":  {\"Major\": 15, \"Minor\": 2, \"Build\": 1118,\n"
      "                                 \"Revision\": 7, \"FilePatchLevelDescription\": \"\"}\n"
      "    },\n"
      "    {\"host\": \"ex03.contoso.com\", \"build\": \"15.2.1258.16\", \"Name\": \"EX03\"},\n"
      "    {\"Fqdn\": \"ex04.contoso.com\", \"AdminDisplayVersion\": {\"value\": \"Version 15.2 "
      "(Build 986.5)\"}}\n"
      "]\n");
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].host, "EX01");
  EXPECT_EQ(e[0].version, V(15, 1, 2507, 6, false));
  EXPECT_EQ(e[0].source, "inventory inv:2");
  EXPECT_EQ(e[1].version, V(15, 2, 1118, 7, false));  // AdminDisplayVersion: CU only
  EXPECT_EQ(e[1].source, "inventory inv:6");
  EXPECT_EQ(e[2].host, "ex03.contoso.com");  // "host" beats "Name"
  EXPECT_EQ(e[2].version, V(15, 2, 1258, 16));
  EXPECT_EQ(e[2].source, "inventory inv:11");
  EXPECT_EQ(e[3].host, "ex04.contoso.com");
  EXPECT_EQ(e[3].version, V(15, 2, 986, 5, false));
}

TEST(InventoryJsonTest, SingleObjectAndUtf16Bom) {
  auto one = Parse("{\"Name\":\"EX01\",\"AdminDisplayVersion\":\"Version 15.2 (Build 1118.7)\"}");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].source, "inventory inv:1");
  // PowerShell 5.1 `> file` writes UTF-16LE with a BOM.
  const std::string ascii = "[{\"host\":\"EX05\",\"build\":\"15.2.1748.10\"}]";
  std::string utf16 = "\xFF\xFE";
  for (char c : ascii) {
    utf16.push_back(c);
    utf16.push_back('\0');
  }
  auto e = Parse(utf16);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].host, "EX05");
  EXPECT_EQ(e[0].version, V(15, 2, 1748, 10));
}

TEST(InventoryJsonTest, BadEntriesNameIndexAndLine) {
  Status s = Error("[\n {\"host\":\"EX01\",\"build\":\"15.1.2507.23\"},\n {\"host\":\"EX02\"}\n]");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.where()->ToString(), "inv:3");
  EXPECT_NE(std::string(s.message()).find("entry 1: no build"), std::string::npos) << s.ToString();

  s = Error("[{\"host\":\"EX01\",\"build\":\"15.1.x.2\"}]");
  EXPECT_NE(std::string(s.message()).find("\"15.1.x.2\" is not an Exchange version"),
            std::string::npos)
      << s.ToString();
  s = Error("[{\"build\":\"15.1.2507.23\"}]");
  EXPECT_NE(std::string(s.message()).find("no host"), std::string::npos);
  s = Error("[\"EX01\"]");
  EXPECT_NE(std::string(s.message()).find("entry 0 is not an object"), std::string::npos);
  s = Error("[{\"host\":\"EX01\",\"build\":{\"Major\":15}}]");
  EXPECT_NE(std::string(s.message()).find("Major, Minor, Build and Revision"), std::string::npos);
  s = Error("[{\"host\":\"EX01\",\"build\":\"15.1.2507.23\"} ");  // truncated
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  s = Error("[{\"host\":\"EX01\",\"build\":\"15.1.2507.23\"}] {}");  // two documents
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

// Malformed JSON names the line where the parser stopped, as bad entries do
// (lists_fuzzer checks that every rejection has a message; these had no line).
TEST(InventoryJsonTest, SyntaxErrorsNameTheLine) {
  const std::string good = "[\n {\"host\":\"EX01\",\"build\":\"15.1.2507.23\"},\n";
  Status s = Error(good + " {\"host\" \"EX02\"}\n]\n");  // no colon
  ASSERT_NE(s.where(), nullptr);
  EXPECT_EQ(s.where()->ToString(), "inv:3") << s.ToString();
  s = Error(good + " 42\n]\n");
  ASSERT_NE(s.where(), nullptr);
  EXPECT_EQ(s.where()->ToString(), "inv:3") << s.ToString();
  EXPECT_NE(std::string(s.message()).find("entry 1 is not an object"), std::string::npos);
  s = Error(good + " {\"host\":\"EX02\",\"build\":\"15.1.2507.23\"}\n\n {}");  // no ]
  ASSERT_NE(s.where(), nullptr);
  EXPECT_EQ(s.where()->ToString(), "inv:5") << s.ToString();  // where the text ends
  s = Error(good + " {\"host\":\"EX02\",\"build\":\"15.1.2507.23\"}\n\n {}\n");
  ASSERT_NE(s.where(), nullptr);
  EXPECT_EQ(s.where()->ToString(), "inv:5") << s.ToString();  // not the empty line 6
}

// Every entry's line used to be counted from the start of the text, so a
// large inventory took quadratic time (seen reading the parser for
// lists_fuzzer: 4 MB, 100,000 entries did not finish in 2 minutes in the fuzz
// build; this test had not finished after 90 s). Lines must still be right, and
// the same after an entry spanning several lines.
TEST(InventoryJsonTest, ManyEntriesCountLinesOnce) {
  constexpr int kEntries = 200000;
  std::string text = "[\n";
  for (int i = 0; i < kEntries; ++i) {
    text += fmt::format("{{\"host\":\"ex{}\",\n \"build\":\"15.2.1118.26\"}}{}\n", i,
                        i + 1 < kEntries ? "," : "");
  }
  text += "]\n";
  auto e = Parse(text);
  ASSERT_EQ(e.size(), static_cast<size_t>(kEntries));
  for (int i : {0, 1, kEntries / 2, kEntries - 1}) {
    EXPECT_EQ(e[i].host, fmt::format("ex{}", i));
    EXPECT_EQ(e[i].source, fmt::format("inventory inv:{}", 2 + 2 * i));  // two lines each
  }
}

TEST(InventoryFileTest, MissingFileIsIoError) {
  auto e = LoadInventoryFile("/nonexistent/eventsift/inventory.json");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), StatusCode::kIOError);
}

}  // namespace
}  // namespace eventsift::correlate
