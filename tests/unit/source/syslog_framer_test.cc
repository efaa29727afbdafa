// SyslogFramer and ParseSyslogMessage on byte streams made here: both
// framings, split at every byte, and each kind of framing error.

#include "src/source/syslog_framer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace eventsift::source {
namespace {

struct Collected {
  std::vector<std::string> frames;
  std::vector<std::pair<std::string, uint64_t>> errors;
};

// Feeds `stream` in pieces of `step` bytes, then finishes.
Collected Frame(const std::string& stream, size_t step, size_t max = 64) {
  SyslogFramer f(max);
  Collected c;
  auto on_frame = [&](std::string_view frame, uint64_t) { c.frames.emplace_back(frame); };
  auto on_error = [&](std::string what, uint64_t off) { c.errors.emplace_back(what, off); };
  for (size_t i = 0; i < stream.size(); i += step) {
    f.Feed(std::string_view(stream).substr(i, step), on_frame, on_error);
  }
  f.Finish(on_frame, on_error);
  return c;
}

TEST(SyslogFramer, OctetCountedAndLineFramedAtAnySplit) {
  std::string a = "<13>1 - h a - - - {\"x\":1}";
  std::string b = "<13>1 - h a - - - <Event/>";
  std::string stream = std::to_string(a.size()) + " " + a + b + "\n" + std::to_string(a.size()) +
                       " " + a + b + "\r\n" + b;  // the last without LF, at the end
  for (size_t step = 1; step <= stream.size(); ++step) {
    Collected c = Frame(stream, step);
    ASSERT_EQ(c.frames, (std::vector<std::string>{a, b, a, b, b})) << "step " << step;
    EXPECT_TRUE(c.errors.empty());
  }
}

TEST(SyslogFramer, ErrorsAreNamedAndFramingResumes) {
  std::string ok = "<13>1 - h a - - - m";
  std::string framed = std::to_string(ok.size()) + " " + ok;
  std::string stream = "junk\n" + framed + "12x3 more\n" + framed + "999 " + std::string(999, 'z') +
                       framed + "<13>" + std::string(100, 'y') + "\n" + framed + "40 <13>1 cut";
  Collected c = Frame(stream, 7);
  EXPECT_EQ(c.frames, (std::vector<std::string>{ok, ok, ok, ok}));
  ASSERT_EQ(c.errors.size(), 5u);
  EXPECT_NE(c.errors[0].first.find("expected a frame length"), std::string::npos);
  EXPECT_EQ(c.errors[0].second, 0u);
  EXPECT_EQ(c.errors[1].first, "bad frame length");
  EXPECT_EQ(c.errors[1].second, 5 + framed.size());
  EXPECT_NE(c.errors[2].first.find("frame of 999 bytes is over max_line_bytes (64)"),
            std::string::npos);
  EXPECT_NE(c.errors[3].first.find("without a line feed"), std::string::npos);
  EXPECT_EQ(c.errors[4].first, "connection closed inside a frame");
}

TEST(SyslogMessage, Rfc5424And3164) {
  EXPECT_EQ(ParseSyslogMessage("<134>1 2026-01-01T00:00:00Z host app 12 ID - {\"a\":1}").msg,
            "{\"a\":1}");
  // Structured data with an escaped bracket and quote, and a BOM before MSG.
  SyslogMessage m = ParseSyslogMessage(
      "<134>1 2026-01-01T00:00:00Z host app - - [x@1 k=\"a\\]b\\\"c\"][y@2 z=\"\"] \xEF\xBB\xBF"
      "<Event/>");
  EXPECT_TRUE(m.error.empty()) << m.error;
  EXPECT_EQ(m.msg, "<Event/>");
  EXPECT_EQ(ParseSyslogMessage("<14>Dec  7 00:00:00 host nxlog: {\"EventID\":1}").msg,
            "{\"EventID\":1}");
  EXPECT_EQ(ParseSyslogMessage("no pri").error, "no <PRI> at the start of the message");
  EXPECT_EQ(ParseSyslogMessage("<999>1 x").error, "bad <PRI>");
  EXPECT_EQ(ParseSyslogMessage("<13>1 2026 host").error, "RFC 5424 header cut short");
  EXPECT_EQ(ParseSyslogMessage("<13>1 t h a p m [unclosed").error, "bad RFC 5424 structured data");
}

}  // namespace
}  // namespace eventsift::source
