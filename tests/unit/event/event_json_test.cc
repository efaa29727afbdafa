#include "src/event/event_json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

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
  e.data = {
      {"", "Set-Mailbox"}, {"", "-Identity \"Administrateur\""}, {"User", "a"}, {"User", "b"}};
  e.where = SourceLocation{"x.evtx", 4608, 0, 0};
  return e;
}

TEST(EventJsonTest, RendersFieldsInOrderWithPositionalAndRepeatedKeys) {
  std::string out;
  AppendEventJson(MakeEvent(), &out);
  EXPECT_EQ(
      out,
      R"({"record_id":3229,"time":"2021-11-19T16:52:33.8337335Z","provider":"MSExchange CmdletLogs",)"
      R"("event_id":1,"qualifiers":16384,"version":0,"level":4,"task":0,"opcode":0,)"
      R"("keywords":"0x80000000000000","channel":"MSExchange Management","computer":"WEC.ave.local",)"
      R"("process_id":0,"thread_id":0,"data":{"param1":"Set-Mailbox",)"
      R"("param2":"-Identity \"Administrateur\"","User":"a","User_2":"b"},)"
      R"("source":{"file":"x.evtx","offset":4608,"chunk":0}})");
}

// The EVTX header's number is printed beside record_id only where it differs
// (a forwarded or exported log), and the alert sample reader keeps it.
TEST(EventJsonTest, RecordNumberOnlyWhereItDiffers) {
  Event e = MakeEvent();
  e.record_number = 1;
  std::string out;
  AppendEventJson(e, &out);
  EXPECT_EQ(out.rfind(R"({"record_id":3229,"record_number":1,"time":)", 0), 0u) << out;
  e.record_number = 3229;
  out.clear();
  AppendEventJson(e, &out);
  EXPECT_EQ(out.find("record_number"), std::string::npos) << out;
  e.record_number = 0;  // JSON inputs
  out.clear();
  AppendEventJson(e, &out);
  EXPECT_EQ(out.find("record_number"), std::string::npos) << out;
}

TEST(EventJsonTest, PiecesWrittenFieldByFieldEqualTheWholeEvent) {
  // Head, then DataKeys::Write and ":"-prefixed values, then the tail: what a
  // decoder writing values as it decodes them produces.
  Event e = MakeEvent();
  e.data.push_back({"User", "c"});
  e.data.push_back({"", "positional"});
  e.data.push_back({"Tab\there", "v"});
  std::string whole;
  AppendEventJson(e, &whole);
  std::string pieces;
  {
    JsonCursor c(&pieces);
    WriteEventJsonHead(e, c);
    DataKeys keys;
    for (const DataField& f : e.data) {
      keys.Write(c, f.name);
      c.StringAfter(":", f.value);
    }
    WriteEventJsonTail(e, EventJsonOptions{}, c);
  }
  EXPECT_EQ(pieces, whole);
  EXPECT_NE(whole.find(R"("User_3":"c","param6":"positional","Tab\there":"v")"), std::string::npos);
}

TEST(EventJsonTest, DataKeysAddCountsKnownKeysForLaterRepeats) {
  DataKeys keys;
  keys.Add("A");
  keys.Add("");
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys.Next("A"), "A_2");
  EXPECT_EQ(keys.Next(""), "param4");
  EXPECT_EQ(keys.Next("B"), "B");
  keys.Reset();
  EXPECT_EQ(keys.Next("A"), "A");
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

TEST(EventJsonTest, EscapesEveryStringFieldAndWritesEveryOptionalField) {
  Event e;
  e.record_id = 1;
  e.time = *ParseEventTime("2021-11-19T16:52:33.0000001Z");
  e.provider = "P\"q";
  e.provider_guid = "{g}";
  e.event_id = 4294967295u;  // the largest event id, all digits written
  e.version = 255;
  e.level = 5;
  e.task = 65535;
  e.opcode = 1;
  e.keywords = UINT64_MAX;
  e.channel = "C\\h";
  e.computer = "tab\there";
  e.user_sid = "S-1-5-18";
  e.process_id = 4;
  e.thread_id = 8;
  e.data = {{"na\"me", "\x01"}, {"", "caf\xC3\xA9"}, {"bad", "\xFF"}};
  e.message = "line1\nline2";
  e.where = SourceLocation{"d\\x.json", UINT64_MAX, 12, UINT32_MAX};
  std::string out = "kept:";  // the chunk text holds earlier records
  AppendEventJson(e, &out);
  EXPECT_EQ(out,
            "kept:"
            R"({"record_id":1,"time":"2021-11-19T16:52:33.0000001Z","provider":"P\"q",)"
            R"("provider_guid":"{g}","event_id":4294967295,"version":255,"level":5,)"
            R"("task":65535,"opcode":1,"keywords":"0xffffffffffffffff","channel":"C\\h",)"
            R"("computer":"tab\there","user_sid":"S-1-5-18","process_id":4,"thread_id":8,)"
            R"("data":{"na\"me":"\u0001","param2":"caf)"
            "\xC3\xA9"
            R"(","bad":")"
            "\xEF\xBF\xBD"
            R"("},"message":"line1\nline2","source":{"file":"d\\x.json","line":12}})");
}

TEST(EventJsonTest, LongValuesAndManyFieldsAreWrittenWhole) {
  // Values far longer than the writer's growth step, and enough fields to
  // grow it many times within one record; appended after earlier output.
  Event e;
  e.time = 0;
  const std::string big(5000, 'x');
  const std::string big_quoted = std::string(3000, 'y') + "\"" + std::string(3000, 'z');
  std::vector<std::string> names;
  for (int i = 0; i < 300; ++i) names.push_back("Field" + std::to_string(i));
  for (const auto& n : names) e.data.push_back({n, "v"});
  e.data.push_back({"Big", big});
  e.data.push_back({"BigQuoted", big_quoted});
  EventJsonOptions opts;
  opts.include_source = false;
  std::string out(100, '#');
  AppendEventJson(e, &out, opts);
  std::string expected(100, '#');
  expected += R"({"record_id":0,"time":null,"provider":"","event_id":0,"version":0,"level":0,)"
              R"("task":0,"opcode":0,"keywords":"0x0","channel":"","computer":"","process_id":0,)"
              R"("thread_id":0,"data":{)";
  for (size_t i = 0; i < names.size(); ++i) {
    expected += (i == 0 ? "\"" : ",\"") + names[i] + "\":\"v\"";
  }
  expected += ",\"Big\":\"" + big + "\",\"BigQuoted\":\"" + std::string(3000, 'y') + "\\\"" +
              std::string(3000, 'z') + "\"}}";
  EXPECT_EQ(out, expected);
}

}  // namespace
}  // namespace eventsift
