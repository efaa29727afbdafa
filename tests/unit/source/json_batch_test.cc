#include "src/source/json_batch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace eventsift::source {
namespace {

struct Split {
  std::vector<std::string> records;
  std::vector<uint64_t> numbers;
  std::vector<BatchRefusal> refused;
};

Split SplitAll(std::string_view body, size_t max = 64) {
  Split s;
  SplitJsonBatch(
      body, max,
      [&](std::string_view text, uint64_t n) {
        s.records.emplace_back(text);
        s.numbers.push_back(n);
      },
      [&](const BatchRefusal& r) { s.refused.push_back(r); });
  return s;
}

TEST(JsonBatchTest, NdjsonLinesWithCrlfBlankLinesAndNoFinalNewline) {
  Split s = SplitAll("{\"a\":1}\r\n\n  \n{\"b\":2}\n{\"c\":3}");
  EXPECT_EQ(s.records, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}));
  EXPECT_EQ(s.numbers, (std::vector<uint64_t>{1, 4, 5}));
  EXPECT_TRUE(s.refused.empty());
}

TEST(JsonBatchTest, ALineOverTheBoundIsRefusedByNumberAndTheRestGoesOn) {
  std::string long_line = "{\"x\":\"" + std::string(100, 'y') + "\"}";
  Split s = SplitAll("{\"a\":1}\n" + long_line + "\n{\"b\":2}\n");
  EXPECT_EQ(s.records, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  ASSERT_EQ(s.refused.size(), 1u);
  EXPECT_EQ(s.refused[0].record, 2u);
  EXPECT_NE(s.refused[0].reason.find("108 bytes is over max_line_bytes (64)"), std::string::npos)
      << s.refused[0].reason;
}

TEST(JsonBatchTest, ArrayElementsAreSplitWithoutBeingFooledByStringsOrNesting) {
  Split s =
      SplitAll(" [ {\"m\":\"a],b\\\"}\"}, {\"n\":[1,{\"o\":2}]} ,\n{\"p\":\"\\\\\"} ] \n", 200);
  EXPECT_EQ(s.records, (std::vector<std::string>{"{\"m\":\"a],b\\\"}\"}", "{\"n\":[1,{\"o\":2}]}",
                                                 "{\"p\":\"\\\\\"}"}));
  EXPECT_EQ(s.numbers, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(s.refused.empty());
}

TEST(JsonBatchTest, EmptyArrayHasNoRecords) {
  Split s = SplitAll("[]");
  EXPECT_TRUE(s.records.empty());
  EXPECT_TRUE(s.refused.empty());
}

TEST(JsonBatchTest, BrokenArraysRefuseTheRestNamingWhere) {
  Split cut = SplitAll("[{\"a\":1},{\"b\":\"never closed");
  EXPECT_EQ(cut.records, (std::vector<std::string>{"{\"a\":1}"}));
  ASSERT_EQ(cut.refused.size(), 1u);
  EXPECT_EQ(cut.refused[0].record, 2u);
  EXPECT_NE(cut.refused[0].reason.find("unterminated"), std::string::npos);

  Split trailing = SplitAll("[{\"a\":1}] {\"b\":2}");
  EXPECT_EQ(trailing.records.size(), 1u);
  ASSERT_EQ(trailing.refused.size(), 1u);
  EXPECT_NE(trailing.refused[0].reason.find("text after the JSON array"), std::string::npos);

  Split unbalanced = SplitAll("[{\"a\":1}}]");
  EXPECT_TRUE(unbalanced.records.empty());
  ASSERT_EQ(unbalanced.refused.size(), 1u);
}

TEST(JsonBatchTest, AnArrayElementOverTheBoundIsRefusedAndTheNextKept) {
  std::string big = "{\"x\":\"" + std::string(100, 'y') + "\"}";
  Split s = SplitAll("[" + big + ",{\"b\":2}]");
  EXPECT_EQ(s.records, (std::vector<std::string>{"{\"b\":2}"}));
  EXPECT_EQ(s.numbers, (std::vector<uint64_t>{2}));
  ASSERT_EQ(s.refused.size(), 1u);
  EXPECT_EQ(s.refused[0].record, 1u);
}

}  // namespace
}  // namespace eventsift::source
