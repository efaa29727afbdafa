// Lines holding a whole event as XML (syslog messages, TCP lines) decoded by
// JsonLineDecoder through EventXmlToJson and the OpenWEC dialect.

#include "parsers/json/event_xml.h"

#include <gtest/gtest.h>

#include <string>

#include "src/core/time_util.h"
#include "tests/unit/parsers/json/json_test_util.h"

namespace eventsift::json::testing {
namespace {

constexpr char kXml[] =
    "<?xml version=\"1.0\"?><Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">"
    "<System><Provider Name=\"MSExchange Mitigation Service\" Guid=\"{11111111-2222-3333-4444-"
    "555555555555}\"/><EventID Qualifiers=\"49152\">1008</EventID><Version>0</Version>"
    "<Level>2</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x80000000000000</Keywords>"
    "<TimeCreated SystemTime=\"2026-11-20T23:05:12.3450000Z\"/><EventRecordID>81001"
    "</EventRecordID><Correlation/><Execution ProcessID=\"4312\" ThreadID=\"5120\"/>"
    "<Channel>Application</Channel><Computer>ex01.contoso.com</Computer>"
    "<Security UserID=\"S-1-5-18\"/></System><EventData><Data Name=\"a\">x &amp; y</Data>"
    "<Data Name=\"b\"/></EventData><RenderingInfo Culture=\"en-US\"><Message>fetching "
    "mitigations &lt;failed&gt;</Message><Level>Error</Level></RenderingInfo></Event>";

Decoded DecodeLines(const std::vector<std::string>& lines) {
  KeepingHandler handler;
  JsonLineDecoder decoder;
  Decoded d;
  uint64_t n = 0;
  for (const auto& line : lines) {
    Status s = decoder.DecodeLine(line, ++n, "x.log", handler);
    if (!s.ok()) d.reports.push_back(s);
  }
  d.events = std::move(handler.events);
  return d;
}

TEST(EventXml, WholeEventIsDecodedLikeOpenWec) {
  EXPECT_TRUE(LooksLikeEventXml(kXml));
  EXPECT_FALSE(LooksLikeEventXml("<Events>"));
  Decoded d = DecodeLines({kXml});
  ASSERT_TRUE(d.reports.empty()) << d.reports[0].ToString();
  ASSERT_EQ(d.events.size(), 1u);
  const OwnedEvent& e = d.events[0];
  EXPECT_EQ(e.provider, "MSExchange Mitigation Service");
  EXPECT_EQ(e.provider_guid, "{11111111-2222-3333-4444-555555555555}");
  EXPECT_EQ(e.event_id, 1008u);
  EXPECT_EQ(e.qualifiers, 49152u);
  EXPECT_EQ(e.level, 2);
  EXPECT_EQ(e.keywords, 0x80000000000000u);
  EXPECT_EQ(FormatRfc3339(e.time, 3), "2026-11-20T23:05:12.345Z");
  EXPECT_EQ(e.record_id, 81001u);
  EXPECT_EQ(e.process_id, 4312u);
  EXPECT_EQ(e.channel, "Application");
  EXPECT_EQ(e.computer, "ex01.contoso.com");
  EXPECT_EQ(e.user_sid, "S-1-5-18");
  EXPECT_EQ(e.message, "fetching mitigations <failed>");
  ASSERT_EQ(e.data.size(), 2u);
  EXPECT_EQ(e.data[0], (std::pair<std::string, std::string>{"a", "x & y"}));
  EXPECT_EQ(e.data[1], (std::pair<std::string, std::string>{"b", ""}));
}

TEST(EventXml, UserDataAndBrokenXmlAreReported) {
  std::string user_data =
      "<Event><System><EventID>1102</EventID><Channel>Security</Channel><Computer>dc1</Computer>"
      "</System><UserData><LogFileCleared xmlns=\"x\"><SubjectUserName>Administrator"
      "</SubjectUserName></LogFileCleared></UserData></Event>";
  Decoded d = DecodeLines({user_data, "<Event><System><EventID>1</EventID></System>",
                           "<Event><System><EventID a=b>1</EventID></System></Event>"});
  ASSERT_EQ(d.events.size(), 1u);
  ASSERT_EQ(d.events[0].data.size(), 1u);
  EXPECT_EQ(d.events[0].data[0].second, "Administrator");
  ASSERT_EQ(d.reports.size(), 2u);
  EXPECT_NE(d.reports[0].ToString().find("<Event> not closed"), std::string::npos)
      << d.reports[0].ToString();
  EXPECT_NE(d.reports[1].ToString().find("attribute value not quoted"), std::string::npos)
      << d.reports[1].ToString();
  EXPECT_NE(d.reports[1].ToString().find("x.log:3"), std::string::npos);
}

}  // namespace
}  // namespace eventsift::json::testing
