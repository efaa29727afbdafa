// EventBuilder driven as the walker drives it (visitor calls), for shapes no
// sample file has.

#include "parsers/evtx/event_builder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace eventsift::evtx {
namespace {

std::vector<uint8_t> Utf16(std::string_view ascii) {
  std::vector<uint8_t> v;
  for (char c : ascii) {
    v.push_back(static_cast<uint8_t>(c));
    v.push_back(0);
  }
  return v;
}

// <Event><System><EventID>4</EventID></System><EventData><Data Name="A">x
// </Data></EventData>[<System><EventID>7</EventID></System>]</Event>
void Walk(EventBuilder& b, const std::vector<uint8_t>& x, bool system_after_payload) {
  auto system = [&](const std::vector<uint8_t>& id) {
    b.StartElement("System");
    b.StartElement("EventID");
    b.Value(ValueRef{kUInt16, id, 0});
    b.EndElement("EventID", false);
    b.EndElement("System", false);
  };
  const std::vector<uint8_t> four = {4, 0}, seven = {7, 0};
  b.StartElement("Event");
  system(four);
  b.StartElement("EventData");
  b.StartElement("Data");
  b.Attribute("Name");
  b.Text("A");
  b.AttributeEnd();
  b.Value(ValueRef{kString, x, 0});
  b.EndElement("Data", false);
  b.EndElement("EventData", false);
  if (system_after_payload) system(seven);
  b.EndElement("Event", false);
}

TEST(EventBuilderTest, DirectJsonEqualsTheEventsJson) {
  Arena arena;
  EventBuilder b(&arena);
  const auto x = Utf16("x\"y");
  Event collected;
  b.Begin(&collected);
  Walk(b, x, false);
  std::string expected;
  AppendEventJson(collected, &expected);

  std::string text;
  JsonCursor c = JsonCursor::At(&text, 0);
  Event direct;
  b.Begin(&direct);
  b.set_json(&c);
  Walk(b, x, false);
  ASSERT_TRUE(b.FinishJson(EventJsonOptions{}));
  EXPECT_EQ(std::string_view(text).substr(0, c.pos()), expected);
  EXPECT_TRUE(direct.data.empty());  // the values went to the JSON only
  EXPECT_NE(expected.find(R"("event_id":4,)"), std::string::npos);
  EXPECT_NE(expected.find(R"("data":{"A":"x\"y"})"), std::string::npos);
}

TEST(EventBuilderTest, SystemAfterThePayloadMakesDirectJsonAskForARedo) {
  // The head was written when EventData began; a later <System> changes the
  // event id, so the direct text is not the event's and FinishJson says so.
  Arena arena;
  EventBuilder b(&arena);
  const auto x = Utf16("x");
  std::string text;
  JsonCursor c = JsonCursor::At(&text, 0);
  Event e;
  b.Begin(&e);
  b.set_json(&c);
  Walk(b, x, true);
  EXPECT_FALSE(b.FinishJson(EventJsonOptions{}));
  EXPECT_EQ(e.event_id, 7u);
  // Decoded again without JSON, the event renders whole.
  Event again;
  b.set_json(nullptr);
  b.Begin(&again);
  Walk(b, x, true);
  std::string json;
  AppendEventJson(again, &json);
  EXPECT_NE(json.find(R"("event_id":7,)"), std::string::npos);
  EXPECT_NE(json.find(R"("data":{"A":"x"})"), std::string::npos);
}

}  // namespace
}  // namespace eventsift::evtx
