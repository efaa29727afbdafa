// Framing without JSON parsing: where documents start and end.

#include "parsers/json/framing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parsers/json/input_buffer.h"

namespace eventsift::json {
namespace {

struct Collected : DocumentSink {
  void OnDocument(std::string_view doc, uint64_t offset, uint64_t line) override {
    docs.emplace_back(doc);
    lines.push_back(line);
    offsets.push_back(offset);
  }
  void OnFramingError(Status status, uint64_t offset, uint64_t line, uint64_t bytes) override {
    errors.push_back(status);
    error_lines.push_back(line);
  }
  std::vector<std::string> docs;
  std::vector<uint64_t> lines, offsets, error_lines;
  std::vector<Status> errors;
};

Collected Split(std::string_view text) {
  PaddedBuffer buf;
  buf.Assign(text);
  Collected c;
  SplitDocuments(buf.view(), 0, DetectFraming(buf.view()), 1 << 20, c);
  return c;
}

TEST(JsonFraming, Detect) {
  EXPECT_EQ(DetectFraming("[{\"a\":1}]"), Framing::kStructured);
  EXPECT_EQ(DetectFraming("  \r\n[\r\n"), Framing::kStructured);
  EXPECT_EQ(DetectFraming("{\r\n  \"Id\": 1\r\n}"), Framing::kStructured);
  EXPECT_EQ(DetectFraming("{\"a\":1}\n{\"a\":2}\n"), Framing::kLines);
  EXPECT_EQ(DetectFraming(""), Framing::kLines);
}

TEST(JsonFraming, BracesAndQuotesInsideStrings) {
  Collected c = Split(R"([{"m":"}]\"{ [\\"},{"b":1}])");
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[0], R"({"m":"}]\"{ [\\"})");
  EXPECT_EQ(c.docs[1], R"({"b":1})");
  EXPECT_TRUE(c.errors.empty());
}

TEST(JsonFraming, NonObjectElementIsReportedAndSkipped) {
  Collected c = Split("[{\"a\":1},\n 42,\n {\"b\":2}]");
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.lines[1], 3u);
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.error_lines[0], 2u);
  EXPECT_NE(c.errors[0].message().find("expected an object, found '42"), std::string_view::npos);
}

TEST(JsonFraming, UnclosedArrayAndCutElement) {
  Collected open = Split("[{\"a\":1}\n");
  ASSERT_EQ(open.docs.size(), 1u);
  ASSERT_EQ(open.errors.size(), 1u);
  EXPECT_EQ(open.errors[0].code(), StatusCode::kTruncated);
  EXPECT_NE(open.errors[0].message().find("not closed"), std::string_view::npos);

  Collected cut = Split("[{\"a\":1},\n{\"b\":\"x");
  ASSERT_EQ(cut.docs.size(), 1u);
  ASSERT_EQ(cut.errors.size(), 1u);
  EXPECT_EQ(cut.error_lines[0], 2u);
  EXPECT_NE(cut.errors[0].message().find("truncated array element"), std::string_view::npos);
}

TEST(JsonFraming, AppendedArrays) {
  // `Get-WinEvent ... | ConvertTo-Json >> out.json` twice.
  Collected c = Split("[{\"a\":1}]\r\n[{\"b\":2},{\"c\":3}]\r\n");
  EXPECT_EQ(c.docs.size(), 3u);
  EXPECT_TRUE(c.errors.empty());
  EXPECT_EQ(c.lines[2], 2u);
}

TEST(JsonFraming, NdjsonTrimsCrLfAndSpaces) {
  Collected c = Split("{\"a\":1}\r\n  {\"b\":2}  \r\n\r\n{\"c\":3}");
  ASSERT_EQ(c.docs.size(), 3u);
  EXPECT_EQ(c.docs[1], "{\"b\":2}");
  EXPECT_EQ(c.offsets[1], 11u);
  EXPECT_EQ(c.lines[2], 4u);
}

}  // namespace
}  // namespace eventsift::json
