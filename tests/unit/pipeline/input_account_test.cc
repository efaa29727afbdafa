#include "src/pipeline/input_account.h"

#include <gtest/gtest.h>

#include <string>

#include <simdjson.h>

namespace eventsift {
namespace {

InputAccount Evtx() {
  InputAccount a;
  a.input = "x.evtx";
  a.format = "evtx";
  a.chunks_declared = 3;
  a.chunks_found = 17;
  a.chunks_empty = 14;
  a.records_decoded = 72;
  return a;
}

TEST(InputAccountTest, NeverWrittenChunksDoNotMakeAHeaderStale) {
  InputAccount a = Evtx();
  EXPECT_TRUE(a.Clean());  // 3 announced, 17 found, 14 never written
  a.chunks_empty = 13;
  EXPECT_FALSE(a.Clean());  // one chunk holds data the header does not count
}

TEST(InputAccountTest, RepairedProblemsAreNotSkips) {
  InputAccount a = Evtx();
  a.Note(Status::Corruption("chunk 0 offset 0x0: chunk records CRC32 mismatch").At("x.evtx", 4096),
         0);
  EXPECT_EQ(a.problems, 1u);
  EXPECT_EQ(a.skips, 0u);
  EXPECT_FALSE(a.Clean());
  a.Note(Status::Corruption("bad record header").At("x.evtx", 0x1a2b), 152);
  ASSERT_EQ(a.skipped.size(), 1u);
  EXPECT_EQ(a.skipped[0].offset, 0x1a2bu);
  EXPECT_EQ(a.skipped[0].bytes, 152u);
  EXPECT_EQ(a.skipped[0].reason, "bad record header");
  EXPECT_EQ(a.bytes_skipped, 152u);
  EXPECT_EQ(AccountLine(a),
            "x.evtx: evtx, header announces 3 chunks, 17 found (14 empty), 72 records decoded "
            "(0 recovered), 2 problems, 1 range skipped (152 bytes), first at 0x1a2b: bad record "
            "header");
}

TEST(InputAccountTest, AJsonLineWithoutAnEventIsASkipByLine) {
  InputAccount a;
  a.input = "x.ndjson";
  a.format = "json";
  a.Note(Status::Corruption("not JSON").At("x.ndjson", 120, 5), 0);
  ASSERT_EQ(a.skipped.size(), 1u);
  EXPECT_EQ(a.skipped[0].line, 5u);
  EXPECT_NE(AccountLine(a).find("1 line skipped, first at line 5: not JSON"), std::string::npos)
      << AccountLine(a);
}

TEST(InputAccountTest, ListsTheFirstHundredSkipsAndCountsTheRest) {
  InputAccount a = Evtx();
  for (int i = 0; i < 250; ++i) a.Note(Status::Corruption("bad").At("x.evtx", 512 + i), 8);
  EXPECT_EQ(a.skips, 250u);
  EXPECT_EQ(a.skipped.size(), InputAccount::kMaxListed);
  EXPECT_EQ(a.bytes_skipped, 2000u);
}

TEST(InputAccountTest, JsonHasEveryInputAndTotals) {
  InputAccount unread;
  unread.input = "junk.bin";
  unread.error = "unsupported: not EVTX or JSON";
  InputAccount a = Evtx();
  a.records_recovered = 4;
  a.Note(Status::Corruption("bad \"record\"").At("x.evtx", 600), 40);
  const InputAccount accounts[] = {a, unread};
  const std::string json = AccountsJson("dump", accounts);
  simdjson::padded_string padded(json);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(padded).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(doc["command"]), "dump");
  simdjson::dom::array inputs = doc["inputs"];
  ASSERT_EQ(inputs.size(), 2u);
  simdjson::dom::element first = inputs.at(0);
  EXPECT_EQ(uint64_t(first["chunks_found"]), 17u);
  EXPECT_EQ(uint64_t(first["records_recovered"]), 4u);
  EXPECT_EQ(bool(first["clean"]), false);
  EXPECT_EQ(std::string_view(first["skipped"].at(0)["reason"]), "bad \"record\"");
  EXPECT_EQ(uint64_t(first["skipped"].at(0)["offset"]), 600u);
  simdjson::dom::element second = inputs.at(1);
  EXPECT_TRUE(second["format"].is_null());
  EXPECT_EQ(std::string_view(second["error"]), "unsupported: not EVTX or JSON");
  EXPECT_EQ(second["chunks_found"].error(), simdjson::NO_SUCH_FIELD);  // EVTX only
  EXPECT_EQ(uint64_t(doc["totals"]["records_decoded"]), 72u);
  EXPECT_EQ(uint64_t(doc["totals"]["bytes_skipped"]), 40u);
}

TEST(InputAccountTest, ReporterForwardsAndNotes) {
  InputAccount a = Evtx();
  CollectingReporter next;
  AccountingReporter reporter(&next, &a);
  reporter.Report(Status::Truncated("cut").At("x.evtx", 9000), 100);
  EXPECT_EQ(next.count(), 1u);
  EXPECT_EQ(a.skips, 1u);
}

}  // namespace
}  // namespace eventsift
