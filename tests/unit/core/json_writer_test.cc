#include "src/core/json_writer.h"

#include <gtest/gtest.h>

namespace eventsift {
namespace {

TEST(JsonWriterTest, EscapesAndNests) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.KV("a", "q\"\\\n\x01");
  w.Key("list");
  w.BeginArray();
  w.Int(-1);
  w.Bool(true);
  w.Null();
  w.BeginObject();
  w.EndObject();
  w.EndArray();
  w.KVUInt("n", 7);
  w.EndObject();
  EXPECT_EQ(out, R"({"a":"q\"\\\n\u0001","list":[-1,true,null,{}],"n":7})");
}

TEST(JsonWriterTest, InvalidUtf8IsReplaced) {
  std::string out;
  AppendJsonString(&out, "ok\xC3\xA9 bad\xFF end\xE2\x82");
  EXPECT_EQ(out, "\"ok\xC3\xA9 bad\xEF\xBF\xBD end\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace eventsift
