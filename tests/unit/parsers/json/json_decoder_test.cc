// The decoder's entry points (Decoder, DecodeJsonBuffer, JsonLineDecoder),
// framing of NDJSON vs arrays, encodings, and error reporting.

#include "parsers/json/json_decoder.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "parsers/json/input_buffer.h"
#include "tests/unit/parsers/json/json_test_util.h"
#include "tests/unit/parsers/shrink_test_util.h"

namespace eventsift::json::testing {
namespace {

// Two small NXLog events, by hand.
constexpr std::string_view kEventA =
    R"({"EventID":1008,"SourceName":"MSExchange Mitigation Service","Hostname":"ex01","SeverityValue":4,"Message":"a"})";
constexpr std::string_view kEventB =
    R"({"EventID":7036,"SourceName":"Service Control Manager","Hostname":"ex02","SeverityValue":2,"param1":"x"})";

std::string Gzip(std::string_view in) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void ExpectAB(const Decoded& d) {
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  ASSERT_TRUE(d.reports.empty()) << d.reports[0].ToString();
  ASSERT_EQ(d.events.size(), 2u);
  EXPECT_EQ(d.events[0].event_id, 1008u);
  EXPECT_EQ(d.events[0].computer, "ex01");
  EXPECT_EQ(d.events[0].level, 2);
  EXPECT_EQ(d.events[0].message, "a");
  EXPECT_EQ(d.events[1].event_id, 7036u);
  EXPECT_EQ(d.events[1].level, 4);
  ASSERT_EQ(d.events[1].data.size(), 1u);
  EXPECT_EQ(d.events[1].data[0].first, "param1");
  EXPECT_EQ(d.events[1].data[0].second, "x");
}

TEST(JsonDecodeBuffer, NdjsonLinesAndOffsets) {
  std::string text = std::string(kEventA) + "\n\n" + std::string(kEventB) + "\n";
  Decoded d = DecodeBytes(text);
  ExpectAB(d);
  EXPECT_EQ(d.events[0].line, 1u);
  EXPECT_EQ(d.events[0].offset, 0u);
  EXPECT_EQ(d.events[1].line, 3u);  // the blank line 2 is skipped silently
  EXPECT_EQ(d.events[1].offset, kEventA.size() + 2);
  EXPECT_EQ(d.events[0].file, "buf");
}

TEST(JsonDecodeBuffer, ArrayGivesTheSameEvents) {
  std::string compact = "[" + std::string(kEventA) + "," + std::string(kEventB) + "]";
  ExpectAB(DecodeBytes(compact));
  std::string pretty = "[\n  " + std::string(kEventA) + ",\n  " + std::string(kEventB) + "\n]\n";
  Decoded d = DecodeBytes(pretty);
  ExpectAB(d);
  EXPECT_EQ(d.events[0].line, 2u);
  EXPECT_EQ(d.events[0].offset, 4u);
  EXPECT_EQ(d.events[1].line, 3u);
}

TEST(JsonDecodeBuffer, PrettyPrintedObjectsOneAfterAnother) {
  // ConvertTo-Json of a single event prints one indented object, no array.
  std::string text =
      "{\n  \"Id\": 1008,\n  \"ProviderName\": \"MSExchange Mitigation Service\",\n"
      "  \"Level\": 2,\n  \"MachineName\": \"ex01\"\n}\n{\n  \"Id\": 1005,\n  \"Level\": 4\n}\n";
  Decoded d = DecodeBytes(text);
  ASSERT_TRUE(d.reports.empty()) << d.reports[0].ToString();
  ASSERT_EQ(d.events.size(), 2u);
  EXPECT_EQ(d.events[0].event_id, 1008u);
  EXPECT_EQ(d.events[0].provider, "MSExchange Mitigation Service");
  EXPECT_EQ(d.events[0].line, 1u);
  EXPECT_EQ(d.events[1].event_id, 1005u);
  EXPECT_EQ(d.events[1].line, 7u);
}

TEST(JsonDecodeBuffer, GzipDetectedByMagic) {
  std::string text = std::string(kEventA) + "\n" + std::string(kEventB) + "\n";
  ExpectAB(DecodeBytes(Gzip(text)));
  // Two concatenated gzip members (cat a.gz b.gz).
  std::string two = Gzip(std::string(kEventA) + "\n") + Gzip(std::string(kEventB) + "\n");
  ExpectAB(DecodeBytes(two));
}

TEST(JsonDecodeBuffer, TruncatedGzipKeepsEventsBeforeTheCut) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += std::string(kEventA) + "\n";
  std::string gz = Gzip(text);
  Decoded d = DecodeBytes(std::string_view(gz).substr(0, gz.size() - 12));
  EXPECT_TRUE(d.status.ok()) << d.status.ToString();
  ASSERT_FALSE(d.reports.empty());
  EXPECT_EQ(d.reports[0].code(), StatusCode::kTruncated);
  EXPECT_GT(d.events.size(), 100u);
}

TEST(JsonDecodeBuffer, Utf8BomIsSkippedButCounted) {
  std::string text = "\xEF\xBB\xBF" + std::string(kEventA) + "\n" + std::string(kEventB) + "\n";
  Decoded d = DecodeBytes(text);
  ExpectAB(d);
  EXPECT_EQ(d.events[0].offset, 3u);
}

std::string ToUtf16(std::string_view ascii, bool big_endian) {
  std::string out = big_endian ? std::string("\xFE\xFF") : std::string("\xFF\xFE");
  for (char c : ascii) {
    if (big_endian) out.push_back('\0');
    out.push_back(c);
    if (!big_endian) out.push_back('\0');
  }
  return out;
}

TEST(JsonDecodeBuffer, Utf16WithBom) {
  std::string text = "[" + std::string(kEventA) + ",\r\n" + std::string(kEventB) + "]\r\n";
  ExpectAB(DecodeBytes(ToUtf16(text, false)));
  ExpectAB(DecodeBytes(ToUtf16(text, true)));
  // Non-ASCII survives: "é" (U+00E9) as UTF-16LE E9 00.
  std::string le = ToUtf16(R"({"EventID":1,"SourceName":"S","Message":"caf)", false) +
                   std::string("\xE9\x00", 2) + ToUtf16(R"("})", false).substr(2);
  Decoded d = DecodeBytes(le);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].message, "caf\xC3\xA9");
}

TEST(JsonDecodeBuffer, MalformedLinesReportedAndDecodingGoesOn) {
  std::string text = std::string(kEventA) + "\n" + R"({"EventID":1008,"SourceName":)" + "\n" +
                     R"({"foo":1})" + "\n" + std::string(kEventB) + "\n";
  KeepingHandler handler;
  CollectingReporter reporter;
  DecoderStats stats;
  ASSERT_TRUE(DecodeJsonBuffer(text, "mem.ndjson", handler, reporter, &stats).ok());
  ASSERT_EQ(handler.events.size(), 2u);
  EXPECT_EQ(handler.events[1].line, 4u);
  auto reports = reporter.reports();
  ASSERT_EQ(reports.size(), 2u);
  ASSERT_NE(reports[0].where(), nullptr);
  EXPECT_EQ(reports[0].where()->file, "mem.ndjson");
  EXPECT_EQ(reports[0].where()->line, 2u);
  EXPECT_EQ(reports[0].code(), StatusCode::kCorruption);
  EXPECT_EQ(reports[1].where()->line, 3u);
  EXPECT_NE(reports[1].message().find("unknown event shape"), std::string_view::npos);
  EXPECT_EQ(stats.events.Get(), 2u);
  EXPECT_EQ(stats.errors.Get(), 2u);
  EXPECT_EQ(stats.bytes.Get(), text.size());
  EXPECT_EQ(stats.bytes_dropped.Get(), 29u + 9u);  // the two bad lines
}

TEST(JsonDecodeBuffer, OverlongLineIsReportedAndSkipped) {
  std::string huge = R"({"EventID":1,"SourceName":"S","Message":")";
  huge.append(kMaxDocumentBytes, 'x');
  huge += "\"}";
  std::string text = std::string(kEventA) + "\n" + huge + "\n" + std::string(kEventB) + "\n";
  Decoded d = DecodeBytes(text);
  ASSERT_EQ(d.reports.size(), 1u);
  EXPECT_EQ(d.reports[0].code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(d.reports[0].where()->line, 2u);
  // The events around it still decode.
  ASSERT_EQ(d.events.size(), 2u);
  EXPECT_EQ(d.events[0].event_id, 1008u);
  EXPECT_EQ(d.events[1].event_id, 7036u);
  EXPECT_EQ(d.events[1].line, 3u);
}

TEST(JsonDecodeBuffer, EmptyAndWhitespaceInputsHaveNoEvents) {
  for (std::string_view text : {std::string_view(""), std::string_view("\n\n  \r\n"),
                                std::string_view("[]"), std::string_view("\xEF\xBB\xBF")}) {
    Decoded d = DecodeBytes(text);
    EXPECT_TRUE(d.status.ok());
    EXPECT_TRUE(d.events.empty());
    EXPECT_TRUE(d.reports.empty()) << d.reports[0].ToString();
  }
}

// Writes `bytes` to a fresh file under the test temp dir; returns its path.
std::string WriteTemp(const std::string& name, std::string_view bytes) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  EXPECT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);
  return path;
}

// Files bigger than the decoder's 8 MiB block: lines cut by block edges must
// keep their numbers and offsets, plain and gzip.
TEST(JsonDecoderFile, StreamsLargeNdjsonAcrossBlocks) {
  std::string text;
  const size_t line_bytes = kEventA.size() + 1;
  const size_t lines = (20u << 20) / line_bytes;  // about 20 MiB
  text.reserve(lines * line_bytes);
  for (size_t i = 0; i < lines; ++i) text.append(kEventA).push_back('\n');
  for (bool gz : {false, true}) {
    std::string path = WriteTemp(gz ? "big.ndjson.gz" : "big.ndjson", gz ? Gzip(text) : text);
    auto decoder = NewJsonDecoder({});
    CollectingReporter reporter;
    struct LastHandler : EventHandler {
      void OnEvent(const Event& e) override {
        ++count;
        ok = ok && e.event_id == 1008 && e.message == "a" && e.where.line == count &&
             e.where.offset == (count - 1) * line_bytes;
      }
      size_t line_bytes = 0;
      uint64_t count = 0;
      bool ok = true;
    } handler;
    handler.line_bytes = line_bytes;
    ASSERT_TRUE(decoder->Decode(InputSpec{path, "big"}, handler, reporter).ok());
    EXPECT_EQ(reporter.count(), 0u);
    EXPECT_EQ(handler.count, lines) << gz;
    EXPECT_TRUE(handler.ok) << "a line number or offset drifted, gzip=" << gz;
    EXPECT_EQ(decoder->stats().bytes.Get(), text.size());
  }
}

// A plain file's blocks arrive in pieces and each piece's complete lines are
// decoded at once: events and reports must still come in file order, with
// whole-file lines and offsets, whatever the line lengths (short lines, lines
// longer than a piece, a bad line, blank lines) and wherever the pieces cut.
TEST(JsonDecoderFile, PiecewiseReadKeepsFileOrder) {
  std::string text;
  std::vector<std::string> want;  // "E<line>@<offset>" or "R<line>@<offset>"
  uint64_t line = 1;
  for (int i = 0; text.size() < (20u << 20); ++i, ++line) {
    const uint64_t offset = text.size();
    if (i % 997 == 500) {
      text += "{\"EventID\":1,\"SourceName\":\"S\",\"Message\":\"" + std::string(700u << 10, 'y') +
              "\"}\n";  // longer than a read piece, shorter than a block
      want.push_back("E" + std::to_string(line) + "@" + std::to_string(offset));
    } else if (i % 1009 == 3) {
      text += "{\"EventID\": oops}\n";
      want.push_back("R" + std::to_string(line) + "@" + std::to_string(offset));
    } else if (i % 101 == 7) {
      text += "\n";
    } else {
      text.append(i % 2 ? kEventA : kEventB).push_back('\n');
      want.push_back("E" + std::to_string(line) + "@" + std::to_string(offset));
    }
  }
  std::vector<std::string> got;
  struct Handler : EventHandler {
    explicit Handler(std::vector<std::string>* g) : got(g) {}
    void OnEvent(const Event& e) override {
      got->push_back("E" + std::to_string(e.where.line) + "@" + std::to_string(e.where.offset));
    }
    std::vector<std::string>* got;
  } handler(&got);
  struct Reporter : CorruptionReporter {
    explicit Reporter(std::vector<std::string>* g) : got(g) {}
    void Report(const Status& s, uint64_t) override {
      got->push_back("R" + std::to_string(s.where()->line) + "@" +
                     std::to_string(s.where()->offset));
    }
    std::vector<std::string>* got;
  } reporter(&got);
  auto decoder = NewJsonDecoder({});
  ASSERT_TRUE(
      decoder->Decode(InputSpec{WriteTemp("pieces.ndjson", text), "pieces"}, handler, reporter)
          .ok());
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << "entry " << i;
  EXPECT_EQ(decoder->stats().bytes.Get(), text.size());
}

// Two sizes: one whose end arrives in the same 8 MiB block that shows it is
// too long, and one that has to be dropped block by block as it streams past.
class OverlongStreamedLine : public ::testing::TestWithParam<size_t> {};

TEST_P(OverlongStreamedLine, IsReportedOnceAndSkipped) {
  std::string huge = R"({"EventID":1,"SourceName":"S","Message":")";
  huge.append(GetParam(), 'x');
  huge += "\"}";
  std::string text = std::string(kEventA) + "\n" + huge + "\n" + std::string(kEventB) + "\n";
  Decoded d;
  {
    KeepingHandler handler;
    CollectingReporter reporter;
    auto decoder = NewJsonDecoder({});
    d.status =
        decoder->Decode(InputSpec{WriteTemp("huge.ndjson", text), "huge"}, handler, reporter);
    d.events = std::move(handler.events);
    d.reports = reporter.reports();
    EXPECT_EQ(decoder->stats().bytes_dropped.Get(), huge.size());
  }
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.reports.size(), 1u);
  EXPECT_EQ(d.reports[0].code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(d.reports[0].where()->line, 2u);
  EXPECT_EQ(d.reports[0].where()->offset, kEventA.size() + 1);
  ASSERT_EQ(d.events.size(), 2u);
  EXPECT_EQ(d.events[1].event_id, 7036u);
  EXPECT_EQ(d.events[1].line, 3u);
  EXPECT_EQ(d.events[1].offset, kEventA.size() + 1 + huge.size() + 1);
}

INSTANTIATE_TEST_SUITE_P(JsonDecoderFile, OverlongStreamedLine,
                         ::testing::Values(kMaxDocumentBytes + 100,
                                           kMaxDocumentBytes + (12u << 20)));

TEST(JsonDecoderFile, MalformedFileLineNumbers) {
  Decoded d = DecodeFile("malformed.ndjson");
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  // Good lines: 1 NXLog, 4 Winlogbeat, 9 PowerShell, 11 evtx_dump, 14 NXLog+CRLF.
  ASSERT_EQ(d.events.size(), 5u);
  const uint64_t good[] = {1, 4, 9, 11, 14};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(d.events[i].line, good[i]);
    EXPECT_EQ(d.events[i].event_id, 1008u);
    EXPECT_EQ(d.events[i].file, "malformed.ndjson");
  }
  ASSERT_EQ(d.reports.size(), 7u);
  struct Want {
    uint64_t line;
    std::string_view says;
  };
  const Want want[] = {
      {3, "cut off"},
      {5, "must start with '{'"},
      {6, "unknown event shape"},
      {7, "JSON array"},
      {8, "EventID is not a number"},
      {10, "followed by other text"},
      {12, "without Event.System.EventID"},
  };
  for (size_t i = 0; i < 7; ++i) {
    const Status& r = d.reports[i];
    ASSERT_NE(r.where(), nullptr);
    EXPECT_EQ(r.where()->line, want[i].line);
    EXPECT_EQ(r.where()->file, "malformed.ndjson");
    EXPECT_NE(r.message().find(want[i].says), std::string_view::npos) << r.ToString();
  }
}

TEST(JsonDecoderFile, TruncatedArrayElement) {
  Decoded d = DecodeFile("truncated_array.json");
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.events.size(), 2u);
  EXPECT_EQ(d.events[0].line, 2u);
  EXPECT_EQ(d.events[1].line, 37u);
  EXPECT_EQ(d.events[1].event_id, 1005u);
  ASSERT_EQ(d.reports.size(), 1u);
  EXPECT_EQ(d.reports[0].code(), StatusCode::kTruncated);
  EXPECT_EQ(d.reports[0].where()->line, 72u);
  EXPECT_NE(d.reports[0].message().find("truncated array element"), std::string_view::npos);
}

TEST(JsonDecoderFile, StrictTurnsReportsIntoFailure) {
  DecoderOptions strict;
  strict.strict = true;
  Decoded d = DecodeFile("malformed.ndjson", strict);
  EXPECT_FALSE(d.status.ok());
  EXPECT_EQ(d.status.code(), StatusCode::kCorruption);
  Decoded clean = DecodeFile("nxlog.ndjson", strict);
  EXPECT_TRUE(clean.status.ok());
}

TEST(JsonDecoderFile, MissingFileIsAnIoError) {
  Decoded d = DecodeFile("no_such_file.json");
  EXPECT_EQ(d.status.code(), StatusCode::kIOError);
}

TEST(JsonDecoderFile, StatsCountInputsEventsAndErrors) {
  auto decoder = NewJsonDecoder({});
  KeepingHandler handler;
  CollectingReporter reporter;
  ASSERT_TRUE(decoder->Decode(InputSpec{DataPath("malformed.ndjson"), ""}, handler, reporter).ok());
  ASSERT_TRUE(decoder->Decode(InputSpec{DataPath("nxlog.ndjson"), ""}, handler, reporter).ok());
  EXPECT_EQ(decoder->stats().inputs.Get(), 2u);
  EXPECT_EQ(decoder->stats().events.Get(), 5u + 57u);
  EXPECT_EQ(decoder->stats().errors.Get(), 7u);
  EXPECT_EQ(decoder->name(), "json");
  // display_name empty: events name the path.
  EXPECT_EQ(handler.events.back().file, DataPath("nxlog.ndjson"));
}

// WantPayload sees the header without payload; saying no empties data and
// message but still delivers the event.
class PickyHandler : public EventHandler {
 public:
  bool WantPayload(const Event& header) override {
    ++asked;
    EXPECT_TRUE(header.data.empty());
    EXPECT_TRUE(header.message.empty());
    EXPECT_NE(header.event_id, 0u);
    return want_all || header.event_id == 1008;
  }
  void OnEvent(const Event& e) override {
    events.push_back(OwnedEvent::From(e));
    declined.push_back(e.payload_declined);
  }
  bool want_all = false;
  int asked = 0;
  std::vector<OwnedEvent> events;
  std::vector<bool> declined;  // Event::payload_declined, per event
};

TEST(JsonDecoderFile, WantPayloadAskedOncePerEvent) {
  for (const char* file :
       {"nxlog.ndjson", "evtx_dump.jsonl", "winlogbeat.ndjson", "powershell_array.json"}) {
    PickyHandler handler;
    CollectingReporter reporter;
    auto decoder = NewJsonDecoder({});
    ASSERT_TRUE(decoder->Decode(InputSpec{DataPath(file), file}, handler, reporter).ok());
    EXPECT_EQ(static_cast<size_t>(handler.asked), handler.events.size()) << file;
    for (size_t i = 0; i < handler.events.size(); ++i) {
      const OwnedEvent& e = handler.events[i];
      EXPECT_EQ(handler.declined[i], e.event_id != 1008) << file << " " << e.event_id;
      if (e.event_id == 1008) {
        EXPECT_FALSE(e.data.empty() && e.message.empty()) << file;
      } else {
        EXPECT_TRUE(e.data.empty()) << file << " " << e.event_id;
        EXPECT_TRUE(e.message.empty()) << file;
      }
    }
  }
}

// A handler that wants every payload (WantsEveryPayload) is never asked:
// each document is read once, whole, and its events are those a handler
// saying yes to every header gets through the header pass and the full one.
class EveryPayloadHandler : public PickyHandler {
 public:
  bool WantsEveryPayload() const override { return true; }
};

TEST(JsonDecoderFile, EveryPayloadWantedReadsEachDocumentOnce) {
  for (const char* file :
       {"nxlog.ndjson", "evtx_dump.jsonl", "winlogbeat.ndjson", "powershell_array.json",
        "powershell_utf16le.json", "malformed.ndjson", "mixed_shapes.ndjson.gz",
        "otrf_smbexec_head200.json.gz", "truncated_array.json"}) {
    PickyHandler asked;
    asked.want_all = true;
    EveryPayloadHandler every;
    CollectingReporter r1;
    CollectingReporter r2;
    const Status s1 = NewJsonDecoder({})->Decode(InputSpec{DataPath(file), file}, asked, r1);
    const Status s2 = NewJsonDecoder({})->Decode(InputSpec{DataPath(file), file}, every, r2);
    EXPECT_EQ(s1.ToString(), s2.ToString()) << file;
    EXPECT_EQ(every.asked, 0) << file;
    EXPECT_EQ(static_cast<size_t>(asked.asked), asked.events.size()) << file;
    ASSERT_EQ(every.events.size(), asked.events.size()) << file;
    ASSERT_FALSE(every.events.empty()) << file;
    for (size_t i = 0; i < every.events.size(); ++i) {
      EXPECT_EQ(every.events[i], asked.events[i]) << file << " event " << i;
      EXPECT_FALSE(every.declined[i]) << file;
    }
    ASSERT_EQ(r1.reports().size(), r2.reports().size()) << file;
    for (size_t i = 0; i < r1.reports().size(); ++i) {
      EXPECT_EQ(r1.reports()[i].ToString(), r2.reports()[i].ToString()) << file;
    }
  }
}

// Flat shapes are read twice when the payload is wanted: a header pass, then
// a full pass after rewinding. Escaped strings on both sides of that rewind
// (header and payload) must come out right, and the two handlers' events
// must agree on the header.
TEST(JsonDecoderFile, WantedFlatEventsReadInFullAfterTheHeaderPass) {
  const std::string lines =
      R"({"SourceName":"MSExchange\tMitigation","Hostname":"ex\u0031","EventID":1009,)"
      R"("Message":"line1\r\nline2 \"q\"","Param":"C:\\temp","Data":["a\/b",7]})"
      "\n"
      R"({"winlog":{"provider_name":"P\u0041","event_id":4,"event_data":)"
      R"({"Cmd":"x\ty","param1":"p"},"computer_name":"h"},"message":"m\u00e9"})"
      "\n"
      R"({"Id":7,"ProviderName":"Q\\R","Properties":[{"Value":"v\"1"}],"Message":"pm"})"
      "\n";
  for (bool want : {true, false}) {
    PickyHandler picky;
    picky.want_all = want;
    CollectingReporter reporter;
    ASSERT_TRUE(DecodeJsonBuffer(lines, "b", picky, reporter, nullptr).ok());
    ASSERT_TRUE(reporter.reports().empty()) << reporter.reports()[0].ToString();
    ASSERT_EQ(picky.events.size(), 3u);
    EXPECT_EQ(picky.asked, 3);
    const OwnedEvent& nx = picky.events[0];
    EXPECT_EQ(nx.provider, "MSExchange\tMitigation");
    EXPECT_EQ(nx.computer, "ex1");
    EXPECT_EQ(nx.event_id, 1009u);
    EXPECT_EQ(picky.events[1].provider, "PA");
    EXPECT_EQ(picky.events[1].event_id, 4u);
    EXPECT_EQ(picky.events[1].computer, "h");
    EXPECT_EQ(picky.events[2].provider, "Q\\R");
    EXPECT_EQ(picky.events[2].event_id, 7u);
    if (!want) {
      for (const auto& e : picky.events) {
        EXPECT_TRUE(e.data.empty());
        EXPECT_TRUE(e.message.empty());
      }
      continue;
    }
    EXPECT_EQ(nx.message, "line1\r\nline2 \"q\"");
    ASSERT_EQ(nx.data.size(), 3u);
    EXPECT_EQ(NameAt(nx, 0), "Param");
    EXPECT_EQ(DataAt(nx, 0), "C:\\temp");
    EXPECT_EQ(DataAt(nx, 1), "a/b");
    EXPECT_EQ(DataAt(nx, 2), "7");
    const OwnedEvent& ecs = picky.events[1];
    EXPECT_EQ(ecs.message, "m\xc3\xa9");
    ASSERT_EQ(ecs.data.size(), 2u);
    EXPECT_EQ(DataAt(ecs, 0), "x\ty");
    const OwnedEvent& ps = picky.events[2];
    EXPECT_EQ(ps.message, "pm");
    ASSERT_EQ(ps.data.size(), 1u);
    EXPECT_EQ(DataAt(ps, 0), "v\"1");
  }
}

// The header pass leaves payload values unread: an event no one wants costs
// no unescaping, so a broken value inside its payload goes unnoticed, while
// the same line is reported when its payload is wanted.
TEST(JsonDecoderFile, UnwantedPayloadIsNotRead) {
  const std::string line = R"({"EventID":4624,"SourceName":"S","X":"bad \q escape"})";
  PickyHandler picky;  // wants only 1008
  CollectingReporter reporter;
  ASSERT_TRUE(DecodeJsonBuffer(line, "b", picky, reporter, nullptr).ok());
  EXPECT_TRUE(reporter.reports().empty());
  ASSERT_EQ(picky.events.size(), 1u);
  EXPECT_EQ(picky.events[0].event_id, 4624u);
  Decoded all = DecodeBytes(line);  // KeepingHandler wants every payload
  EXPECT_TRUE(all.events.empty());
  EXPECT_EQ(all.reports.size(), 1u);
}

// Keys are scanned a word at a time and hashed from their first and last 8
// bytes: escapes before, inside and after the first word, keys of 7, 8, 9
// and 16+ bytes, and unknown keys sharing a known key's head and tail.
TEST(JsonDecoderFile, KeysOfEveryLengthAndEscapes) {
  Decoded d = DecodeBytes(
      R"({"\u0045ventID":1,"SourceNam\u0065":"S","Hostname":"h","Channel":"c",)"
      R"("Keywords":"0x10","TaskValue":3,"ExecutionProcessID":4,"ExecutionXProcessID":9,)"
      R"("Ex":"a","ExecutionThreadID":5,"RecordNumber":6,"Opcode":2,"Level":1,"k\"ey":"q"})"
      "\n");
  ASSERT_EQ(d.events.size(), 1u) << (d.reports.empty() ? "" : d.reports[0].ToString());
  const OwnedEvent& e = d.events[0];
  EXPECT_EQ(e.event_id, 1u);
  EXPECT_EQ(e.provider, "S");
  EXPECT_EQ(e.computer, "h");
  EXPECT_EQ(e.channel, "c");
  EXPECT_EQ(e.keywords, 0x10u);
  EXPECT_EQ(e.task, 3u);
  EXPECT_EQ(e.process_id, 4u);
  EXPECT_EQ(e.thread_id, 5u);
  EXPECT_EQ(e.record_id, 6u);
  EXPECT_EQ(e.opcode, 2u);
  EXPECT_EQ(e.level, 1u);
  // Unknown keys stay NXLog data, with their names unescaped.
  ASSERT_EQ(e.data.size(), 3u);
  EXPECT_EQ(NameAt(e, 0), "ExecutionXProcessID");
  EXPECT_EQ(NameAt(e, 1), "Ex");
  EXPECT_EQ(NameAt(e, 2), "k\"ey");
  EXPECT_EQ(DataAt(e, 2), "q");
}

TEST(JsonLineDecoder, DecodesOneLine) {
  JsonLineDecoder decoder;
  KeepingHandler handler;
  std::string line = std::string(kEventA) + "\r\n";
  ASSERT_TRUE(decoder.DecodeLine(line, 42, "tcp:10.0.0.5", handler).ok());
  ASSERT_EQ(handler.events.size(), 1u);
  EXPECT_EQ(handler.events[0].event_id, 1008u);
  EXPECT_EQ(handler.events[0].line, 42u);
  EXPECT_EQ(handler.events[0].file, "tcp:10.0.0.5");
  EXPECT_EQ(handler.events[0].offset, UINT64_MAX);
  EXPECT_EQ(handler.events[0].message, "a");
  // Reuse: a second, different shape on the same decoder.
  ASSERT_TRUE(decoder.DecodeLine(kEventB, 43, "tcp:10.0.0.5", handler).ok());
  ASSERT_EQ(handler.events.size(), 2u);
  EXPECT_EQ(handler.events[1].event_id, 7036u);
  EXPECT_EQ(decoder.stats().events.Get(), 2u);
}

TEST(JsonLineDecoder, BlankLineIsSkipped) {
  JsonLineDecoder decoder;
  KeepingHandler handler;
  EXPECT_TRUE(decoder.DecodeLine("  \r\n", 7, "f", handler).ok());
  EXPECT_TRUE(handler.events.empty());
  EXPECT_EQ(decoder.stats().errors.Get(), 0u);
}

TEST(JsonLineDecoder, BadLineNamesFileAndLine) {
  JsonLineDecoder decoder;
  KeepingHandler handler;
  Status s = decoder.DecodeLine(R"({"EventID":1,"SourceName":"S")", 9, "app.ndjson", handler);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  ASSERT_NE(s.where(), nullptr);
  EXPECT_EQ(s.where()->file, "app.ndjson");
  EXPECT_EQ(s.where()->line, 9u);
  EXPECT_EQ(s.ToString().find("corruption: app.ndjson:9: "), 0u) << s.ToString();
  EXPECT_TRUE(handler.events.empty());
  EXPECT_EQ(decoder.stats().errors.Get(), 1u);
  // And the decoder still works afterwards.
  EXPECT_TRUE(decoder.DecodeLine(kEventA, 10, "app.ndjson", handler).ok());
  EXPECT_EQ(handler.events.size(), 1u);
}

using ::eventsift::shrink_test::FullGuardTable;
using ::eventsift::shrink_test::TruncatingHandler;

// Lines of kEventA to about `bytes`.
std::string ManyLines(size_t bytes) {
  std::string text;
  while (text.size() < bytes) text.append(kEventA).append("\n");
  return text;
}

TEST(JsonDecoderFile, AFileThatShrinksWhileDecodedFailsNamingItsFile) {
  const std::string text = ManyLines(4u << 20);
  const size_t total = text.size() / (kEventA.size() + 1);
  // Cut inside a line and a page (zeros to the page's end, no fault: the
  // failed parse asks the size), and at a page boundary (the next page
  // faults).
  for (const uint64_t cut : {uint64_t{100000}, uint64_t{1u << 20}}) {
    SCOPED_TRACE(cut);
    const std::string path = WriteTemp("shrinks.ndjson", text);
    TruncatingHandler handler(path, cut);
    CollectingReporter reporter;
    auto decoder = NewJsonDecoder({});
    const Status s = decoder->Decode(InputSpec{path, "shrinks"}, handler, reporter);
    EXPECT_EQ(s.code(), StatusCode::kIOError) << s.ToString();
    EXPECT_NE(s.ToString().find("shrinks@0x"), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("file shrank while read"), std::string::npos) << s.ToString();
    // Every event wholly before the cut arrived, none after; nothing read
    // from the zeros was reported as a bad line.
    EXPECT_EQ(handler.events, cut / (kEventA.size() + 1));
    EXPECT_LT(handler.events, total);
    for (const Status& r : reporter.reports()) ADD_FAILURE() << r.ToString();
    EXPECT_EQ(decoder->stats().events.Get(), handler.events);
  }
}

TEST(JsonDecoderFile, ARangeOfAFileThatShrinksFailsNamingItsFile) {
  const std::string text = ManyLines(4u << 20);
  const std::string path = WriteTemp("shrinks_range.ndjson", text);
  const std::vector<LineRange> ranges = SplitNdjsonFile(path, 2);
  ASSERT_EQ(ranges.size(), 2u);
  TruncatingHandler handler(path, ranges[1].begin + 5000);
  CollectingReporter reporter;
  uint64_t lines = 0;
  const Status s =
      DecodeJsonLineRange(path, ranges[1], "shrinks", handler, reporter, nullptr, &lines);
  EXPECT_EQ(s.code(), StatusCode::kIOError) << s.ToString();
  EXPECT_NE(s.message().find("file shrank while read"), std::string::npos) << s.ToString();
  EXPECT_GT(handler.events, 0u);
  EXPECT_LT(handler.events, 5000u / kEventA.size() + 1);
  for (const Status& r : reporter.reports()) ADD_FAILURE() << r.ToString();
}

TEST(JsonDecoderFile, AFileThatCannotBeMappedIsReadAsAStream) {
  const std::string text = ManyLines(3u << 20);
  const std::string path = WriteTemp("unmapped.ndjson", text);
  for (const bool mapped : {true, false}) {
    SCOPED_TRACE(mapped);
    std::optional<FullGuardTable> full;
    if (!mapped) full.emplace();
    EXPECT_EQ(MappedInput::Open(path) != nullptr, mapped);
    KeepingHandler handler;
    CollectingReporter reporter;
    auto decoder = NewJsonDecoder({});
    ASSERT_TRUE(decoder->Decode(InputSpec{path, "unmapped"}, handler, reporter).ok());
    EXPECT_EQ(handler.events.size(), text.size() / (kEventA.size() + 1));
    EXPECT_EQ(decoder->stats().bytes.Get(), text.size());
    EXPECT_EQ(reporter.count(), 0u);
  }
}

TEST(JsonLineDecoder, ValuesRenderedAsText) {
  JsonLineDecoder decoder;
  KeepingHandler handler;
  std::string line =
      R"({"EventID":"4688","SourceName":"S","Count":12,"Ratio":-1.5,"On":true,"Nothing":null,)"
      R"("List":[1,"a"],"Obj":{"k":"v"},"Esc":"tab\there \"q\" \u00e9"})";
  ASSERT_TRUE(decoder.DecodeLine(line, 1, "f", handler).ok());
  ASSERT_EQ(handler.events.size(), 1u);
  const OwnedEvent& e = handler.events[0];
  EXPECT_EQ(e.event_id, 4688u);  // a string EventID
  ASSERT_EQ(e.data.size(), 7u);
  EXPECT_EQ(e.data[0], (std::pair<std::string, std::string>{"Count", "12"}));
  EXPECT_EQ(e.data[1].second, "-1.5");
  EXPECT_EQ(e.data[2].second, "true");
  EXPECT_EQ(e.data[3].second, "");  // null: an empty <Data/>
  EXPECT_EQ(e.data[4].second, R"([1,"a"])");
  EXPECT_EQ(e.data[5].second, R"({"k":"v"})");
  EXPECT_EQ(e.data[6].second, "tab\there \"q\" \xC3\xA9");
}

}  // namespace
}  // namespace eventsift::json::testing
