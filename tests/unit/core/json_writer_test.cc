#include "src/core/json_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "src/core/utf16.h"

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

// Reference escaper written from RFC 8259 and the UTF-8 rules (RFC 3629),
// one byte at a time, not from the code under test: decodes each sequence to
// its code point and keeps it only if it is the shortest form, not a
// surrogate and at most U+10FFFF; anything else is one U+FFFD per byte.
std::string Reference(std::string_view s) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      static const char* const kNamed[] = {"\\b", "\\t", "\\n", nullptr, "\\f", "\\r"};
      if (c == '"') {
        out += "\\\"";
      } else if (c == '\\') {
        out += "\\\\";
      } else if (c >= 0x08 && c <= 0x0D && kNamed[c - 0x08] != nullptr) {
        out += kNamed[c - 0x08];
      } else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out += buf;
      } else {
        out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    uint32_t cp = len == 4 ? (c & 0x07) : len == 3 ? (c & 0x0F) : (c & 0x1F);
    bool ok = len != 0 && c < 0xF8 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto ck = static_cast<unsigned char>(s[i + k]);
      ok = (ck & 0xC0) == 0x80;
      cp = (cp << 6) | (ck & 0x3F);
    }
    const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    ok = ok && cp >= min_cp[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out + "\"";
}

TEST(JsonWriterTest, EveryEscapeAtEveryPositionAroundTheBlocks) {
  // Each byte that needs a look, placed at each position of strings that span
  // one and two 16-byte SSE2 blocks and the 8-byte and bytewise tails.
  const std::vector<std::string> specials = {"\"",
                                             "\\",
                                             "\n",
                                             "\r",
                                             "\t",
                                             "\b",
                                             "\f",
                                             std::string(1, '\0'),
                                             "\x1f",
                                             "\x7f",
                                             "\xC3\xA9",
                                             "\xE2\x82\xAC",
                                             "\xF0\x9F\x98\x80",
                                             "\xFF",
                                             "\xC3",
                                             "\xE0\x80\x80",
                                             "\xED\xA0\x80",
                                             "\xF4\x90\x80\x80",
                                             "\xC0\xAF"};
  for (const std::string& special : specials) {
    for (size_t len : {0u, 7u, 15u, 16u, 17u, 31u, 40u}) {
      for (size_t pos = 0; pos <= len; ++pos) {
        std::string s;
        for (size_t i = 0; i < len; ++i) s.push_back(static_cast<char>('a' + i % 26));
        s.insert(pos, special);
        std::string out;
        AppendJsonString(&out, s);
        ASSERT_EQ(out, Reference(s))
            << "special " << testing::PrintToString(special) << " len " << len << " pos " << pos;
      }
    }
  }
}

TEST(JsonWriterTest, PrefixIsWrittenVerbatimBeforeTheString) {
  std::string out = "{";
  AppendJsonStringAfter(&out, "\"k\":", "v\"1");
  AppendJsonStringAfter(&out, ",\"e\":", "");
  AppendJsonStringAfter(&out, {}, "plain");
  EXPECT_EQ(out, "{\"k\":\"v\\\"1\",\"e\":\"\"\"plain\"");
}

TEST(JsonWriterTest, PseudoRandomBytesMatchTheReference) {
  uint32_t state = 7;
  auto next = [&] {
    state = state * 1103515245u + 12345u;
    return state >> 8;
  };
  for (int round = 0; round < 3000; ++round) {
    std::string s(next() % 80, ' ');
    for (char& c : s) {
      const uint32_t r = next() % 100;
      c = static_cast<char>(r < 80 ? 0x20 + next() % 0x5F : next() % 256);
    }
    std::string out = "x";
    AppendJsonString(&out, s);
    ASSERT_EQ(out, "x" + Reference(s)) << round;
  }
}

TEST(JsonCursorTest, PiecesGrowTheStringAndFinishTrimsThePadding) {
  std::string out = "[";
  std::string expected = "[";
  {
    JsonCursor c(&out);
    // Enough pieces to grow several times past the cursor's step, with
    // escaped strings whose worst-case room is far above what they write.
    for (int i = 0; i < 500; ++i) {
      const std::string value = "v" + std::to_string(i) + (i % 3 == 0 ? "\"q\\" : "");
      c.StringAfter(i == 0 ? "" : ",", value);
      expected += (i == 0 ? "" : ",") + Reference(value);
      c.UIntAfter(",", static_cast<uint64_t>(i) * 1000003u);
      expected += "," + std::to_string(static_cast<uint64_t>(i) * 1000003u);
    }
    c.UIntAfter(",", UINT64_MAX);
    expected += ",18446744073709551615";
    c.Raw(",null");
    c.Char(']');
    expected += ",null]";
    c.Finish();
    EXPECT_EQ(out, expected);  // trimmed at Finish, no zero padding left
    c.Raw("!");                // and the cursor may go on
  }
  EXPECT_EQ(out, expected + "!");  // the destructor trims again
}

TEST(JsonCursorTest, EmptyPiecesWriteNothing) {
  std::string out;
  {
    JsonCursor c(&out);
    c.Raw({});
    c.StringAfter({}, {});
  }
  EXPECT_EQ(out, "\"\"");
}

TEST(JsonCursorTest, ScratchIsReusedUntrimmedAndItsOldBytesDoNotLeak) {
  std::string buf;
  {
    // Leaves quotes and controls in the buffer after the cursor's end.
    JsonCursor c = JsonCursor::Scratch(&buf);
    c.StringAfter("{\"a\":", std::string(40, '"') + "\n\x01");
    c.Char('}');
    std::string expected = "{\"a\":\"";
    for (int i = 0; i < 40; ++i) expected += "\\\"";
    EXPECT_EQ(c.Written(), expected + "\\n\\u0001\"}");
  }
  const size_t kept = buf.size();
  EXPECT_GT(kept, 90u);  // not trimmed: the next use writes over it
  {
    // A short safe string whose 16-byte check overlaps those old bytes:
    // lanes past its end must not count.
    JsonCursor c = JsonCursor::Scratch(&buf);
    c.StringAfter({}, "ok");
    c.UIntAfter(",", 5);
    EXPECT_EQ(c.Written(), "\"ok\",5");
  }
  EXPECT_EQ(buf.size(), kept);
}

TEST(JsonCursorTest, Utf16StringAfterEqualsConvertingThenEscaping) {
  // Straight from UTF-16 must equal StringAfter over the UTF-8 conversion, for
  // ASCII, escapes, non-ASCII and unpaired surrogates at every position.
  uint32_t state = 11;
  auto next = [&] {
    state = state * 1103515245u + 12345u;
    return state >> 8;
  };
  const uint16_t specials[] = {'"',    '\\',   '\n',   0x01,   0x7F, 0xE9,
                               0x4E2D, 0xD83D, 0xDE00, 0xDC00, 0};
  for (int round = 0; round < 2000; ++round) {
    std::vector<uint8_t> utf16;
    const size_t units = next() % 70;
    for (size_t i = 0; i < units; ++i) {
      const uint16_t u = next() % 4 == 0 ? specials[next() % std::size(specials)]
                                         : static_cast<uint16_t>(0x20 + next() % 0x5F);
      utf16.push_back(static_cast<uint8_t>(u));
      utf16.push_back(static_cast<uint8_t>(u >> 8));
    }
    std::string utf8;
    AppendUtf16LeAsUtf8(utf16, &utf8);
    std::string expected = "[1,";
    AppendJsonStringAfter(&expected, ",\"k\":", utf8);
    std::string buf = "[1,";
    {
      JsonCursor c = JsonCursor::At(&buf, 3);
      c.Utf16StringAfter(",\"k\":", utf16);
      ASSERT_EQ(std::string_view(buf).substr(0, c.pos()), expected) << round;
    }
  }
}

TEST(JsonCursorTest, AtWritesAfterEarlierRecordsAndRewinds) {
  std::string buf;
  size_t first_end = 0;
  {
    JsonCursor c = JsonCursor::At(&buf, 0);
    c.StringAfter("{\"a\":", "one");
    c.Char('}');
    first_end = c.pos();
  }
  JsonCursor c = JsonCursor::At(&buf, first_end);
  c.StringAfter("{\"b\":", std::string(300, 'x'));  // grows the buffer
  c.Rewind(first_end);                              // dropped again
  c.UIntAfter("{\"c\":", 7);
  c.Char('}');
  EXPECT_EQ(std::string_view(buf).substr(0, c.pos()), R"({"a":"one"}{"c":7})");
  EXPECT_EQ(c.Written(), R"({"c":7})");
}

}  // namespace
}  // namespace eventsift
