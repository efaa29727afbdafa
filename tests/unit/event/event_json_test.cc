#include "src/event/event_json.h"

#include <gtest/gtest.h>

#include "src/event/owned_event.h"

namespace eventsift {
namespace {

Event MakeEvent() {
  Event e;
  e.provider = "MSExchange CmdletLogs";
  e.event_id = 1;
  e.qualifiers = 16384;
  e.has_qualifiers = true;
  e.level = 4;
  e.keywords = 0x80000000000000ULL;
  e.time = *ParseEventTime("2021-11-19T16:52:33.8337335Z");
  e.record_id = 3229;
  e.channel = "MSExchange Management";
  e.computer = "WEC.ave.local";
  e.data = {{"", "Set-Mailbox"}, {"", "-Identity \"Administrateur\""}, {"User", "a"},
            {"User", "b"}};
  e.where = SourceLocation{"x.evtx", 4608, 0, 0};
  return e;
}

TEST(EventJsonTest, RendersFieldsInOrderWithPositionalAndRepeatedKeys) {
  std::string out;
  AppendEventJson(MakeEvent(), &out);
  EXPECT_EQ(out,
            R"({"record_id":3229,"time":"2021-11-19T16:52:33.8337335Z","provider":"MSExchange CmdletLogs",)"
            R"("event_id":1,"qualifiers":16384,"version":0,"level":4,"task":0,"opcode":0,)"
            R"("keywords":"0x80000000000000","channel":"MSExchange Management","computer":"WEC.ave.local",)"
            R"("process_id":0,"thread_id":0,"data":{"param1":"Set-Mailbox",)"
            R"("param2":"-Identity \"Administrateur\"","User":"a","User_2":"b"},)"
            R"("source":{"file":"x.evtx","offset":4608,"chunk":0}})");
}

TEST(EventJsonTest, OwnedEventRoundTripsThroughView) {
  Event e = MakeEvent();
  e.message = "Cmdlet succeeded.";
  OwnedEvent owned = OwnedEvent::From(e);
  std::string a, b;
  AppendEventJson(e, &a);
  AppendEventJson(owned.View(), &b);
  EXPECT_EQ(a, b);
  e.Reset();
  EXPECT_TRUE(e.data.empty());
  EXPECT_GE(e.data.capacity(), 4u);  // Reset keeps the capacity for reuse
}

TEST(EventJsonTest, OmitsUnknownTimeAndEmptyOptionalFields) {
  Event e;
  e.provider = "p";
  std::string out;
  EventJsonOptions opts;
  opts.include_source = false;
  AppendEventJson(e, &out, opts);
  EXPECT_NE(out.find(R"("time":null)"), std::string::npos);
  EXPECT_EQ(out.find("qualifiers"), std::string::npos);
  EXPECT_EQ(out.find("source"), std::string::npos);
  EXPECT_EQ(out.find("message"), std::string::npos);
}

}  // namespace
}  // namespace eventsift
