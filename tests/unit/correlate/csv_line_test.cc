#include "src/correlate/csv_line.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace eventsift::correlate {
namespace {

// The dialect character by character, as RFC 4180 reads it: the reference
// SplitCsvLine (which appends whole runs) must agree with.
std::vector<std::string> ReferenceSplit(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') {
        fields.back().push_back(c);
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        fields.back().push_back('"');
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back().push_back(c);
    }
  }
  return fields;
}

TEST(CsvLineTest, ExportCsvLines) {
  EXPECT_EQ(SplitCsvLine(R"("Exchange Server 2019 CU12 Mar23SU","15.2.1118.26","2023-03-14")"),
            (std::vector<std::string>{"Exchange Server 2019 CU12 Mar23SU", "15.2.1118.26",
                                      "2023-03-14"}));
  EXPECT_EQ(SplitCsvLine(R"(a,"b ""quoted"", c",,d)"),
            (std::vector<std::string>{"a", R"(b "quoted", c)", "", "d"}));
  EXPECT_EQ(SplitCsvLine(""), (std::vector<std::string>{""}));
  EXPECT_EQ(SplitCsvLine(R"("unterminated, still one field)"),
            (std::vector<std::string>{"unterminated, still one field"}));
}

// Random lines of quotes, commas and text (quotes mid-field, doubled quotes
// at a run's end, an unterminated quote) split as the reference does.
TEST(CsvLineTest, AgreesWithTheCharacterByCharacterReference) {
  std::mt19937 rng(7);
  const char alphabet[] = {'a', 'b', ' ', ',', '"', '"'};
  int fields = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string line;
    const size_t n = rng() % 24;
    for (size_t i = 0; i < n; ++i) line.push_back(alphabet[rng() % sizeof alphabet]);
    const std::vector<std::string> want = ReferenceSplit(line);
    ASSERT_EQ(SplitCsvLine(line), want) << "line: " << line;
    fields += static_cast<int>(want.size());
  }
  EXPECT_GT(fields, 5000);
}

}  // namespace
}  // namespace eventsift::correlate
