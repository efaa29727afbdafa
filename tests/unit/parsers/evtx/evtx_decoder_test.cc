// Record-level checks against evtx_dump 0.15.1 output (the *.evtx_dump.xml
// files next to the samples were written by it; values below are copied from
// them).

#include "parsers/evtx/evtx_decoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>

#include "parsers/evtx/binxml.h"
#include "parsers/evtx/chunk_decoder.h"
#include "parsers/evtx/template_cache.h"
#include "src/event/event_json.h"
#include "tests/unit/parsers/evtx/evtx_test_util.h"
#include "tests/unit/parsers/shrink_test_util.h"

namespace eventsift::evtx {
namespace {

using testing::DataPath;
using testing::Decode;
using testing::DumpXml;
using testing::DumpXmlAndReports;
using testing::ReadFile;

std::string Slurp(const std::string& path) {
  auto b = ReadFile(path);
  return std::string(b.begin(), b.end());
}

TEST(EvtxDecoderTest, ForwardedMsExchangeRecordDecodesCompletely) {
  // Plain BinXml without templates or dependency ids: both Debian peers fail.
  auto d = Decode(ReadFile(DataPath("MSExchange_Management_wec.evtx")));
  ASSERT_TRUE(d.status.ok());
  EXPECT_TRUE(d.reports.empty());
  ASSERT_EQ(d.events.size(), 1u);
  const OwnedEvent& e = d.events[0];
  EXPECT_EQ(e.provider, "MSExchange CmdletLogs");
  EXPECT_EQ(e.event_id, 1u);
  EXPECT_TRUE(e.has_qualifiers);
  EXPECT_EQ(e.qualifiers, 16384);
  EXPECT_EQ(e.level, 4);
  EXPECT_EQ(e.task, 1);
  EXPECT_EQ(e.keywords, 0x80000000000000u);
  EXPECT_EQ(FormatRfc3339(e.time), "2021-11-19T16:52:33.8337335Z");
  EXPECT_EQ(e.record_id, 3229u);   // System/EventRecordID (forwarded by WEC)
  EXPECT_EQ(e.record_number, 1u);  // the collector's record header
  EXPECT_EQ(e.channel, "MSExchange Management");
  EXPECT_EQ(e.computer, "WEC.ave.local");
  EXPECT_EQ(e.offset, 4096u + 512);
  EXPECT_EQ(e.chunk, 0u);
  ASSERT_EQ(e.data.size(), 27u);
  for (const auto& [name, value] : e.data) EXPECT_EQ(name, "");
  EXPECT_EQ(e.data[0].second, "Set-Mailbox");
  EXPECT_EQ(e.data[1].second,
            "-Identity \"Administrateur\" -DeliverToMailboxAndForward \"False\" "
            "-ForwardingSmtpAddress \"smtp:test2@example.com\"");
  EXPECT_EQ(e.data[2].second, "ave.local/Users/Administrateur");
  EXPECT_EQ(e.data[3].second, "S-1-5-21-186559946-3925841745-111227986-500");
  EXPECT_EQ(e.data[5].second, "Remote-ManagementShell-Unknown");
  EXPECT_EQ(e.data[6].second, "5668 w3wp#MSExchangePowerShellAppPool");
  EXPECT_EQ(e.data[7].second, "");
  EXPECT_EQ(e.data[9].second, "00:00:26.0389557");
  EXPECT_EQ(e.data[10].second.substr(0, 37), "Afficher la for\xC3\xAAt enti\xC3\xA8re : 'False'");
  EXPECT_EQ(e.data[23].second, "ActivityId: a3591746-a27b-447a-b8be-ff54ae3a46f1");
  EXPECT_EQ(e.data[26].second, "fr-FR");
}

TEST(EvtxDecoderTest, SecurityRecordFields) {
  auto d = Decode(ReadFile(DataPath("Security_short_selected.evtx")));
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.events.size(), 7u);
  const OwnedEvent& e = d.events[0];
  EXPECT_EQ(e.provider, "Microsoft-Windows-Security-Auditing");
  EXPECT_EQ(e.provider_guid, "{54849625-5478-4994-a5ba-3e3b0328c30d}");
  EXPECT_EQ(e.event_id, 5152u);
  EXPECT_FALSE(e.has_qualifiers);
  EXPECT_EQ(e.version, 0);
  EXPECT_EQ(e.level, 0);
  EXPECT_EQ(e.task, 12809);
  EXPECT_EQ(e.opcode, 0);
  EXPECT_EQ(e.keywords, 0x8010000000000000u);
  EXPECT_EQ(FormatRfc3339(e.time), "2016-06-29T15:24:34.3460000Z");
  EXPECT_EQ(e.process_id, 4u);
  EXPECT_EQ(e.thread_id, 80u);
  EXPECT_EQ(e.channel, "Security");
  EXPECT_EQ(e.computer, "temporal");
  EXPECT_EQ(e.user_sid, "");
  const std::vector<std::pair<std::string, std::string>> want = {
      {"ProcessId", "0"},       {"Application", "-"},
      {"Direction", "%%14592"}, {"SourceAddress", "23.94.153.202"},
      {"SourcePort", "59639"},  {"DestAddress", "169.46.6.101"},
      {"DestPort", "3389"},     {"Protocol", "6"},
      {"FilterRTID", "67607"},  {"LayerName", "%%14597"},
      {"LayerRTID", "13"}};
  EXPECT_EQ(e.data, want);
  const OwnedEvent& e2 = d.events[1];
  EXPECT_EQ(e2.event_id, 4611u);
  EXPECT_EQ(e2.process_id, 768u);
  ASSERT_EQ(e2.data.size(), 5u);
  EXPECT_EQ(e2.data[0], (std::pair<std::string, std::string>{"SubjectUserSid", "S-1-5-18"}));
  EXPECT_EQ(e2.data[3], (std::pair<std::string, std::string>{"SubjectLogonId", "0x3e7"}));
}

TEST(EvtxDecoderTest, XmlMatchesEvtxDump) {
  for (const char* name :
       {"Security_short_selected.evtx", "MSExchange_Management_wec.evtx", "new-user-security.evtx",
        "Application_no_crc32.evtx", "system_chunk3.evtx"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(DumpXml(ReadFile(DataPath(name))),
              Slurp(DataPath(std::string(name) + ".evtx_dump.xml")));
  }
}

TEST(EvtxDecoderTest, UserDataLeavesBecomeFields) {
  // system_chunk3.evtx: system.evtx's header and its chunk 3. evtx_dump shows
  // record 337 as <UserData><UMDFReflectorDependencyMissing ...>
  // <Dependency>WUDFPf</Dependency>...
  auto d = Decode(ReadFile(DataPath("system_chunk3.evtx")));
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.events.size(), 118u);
  const OwnedEvent* found = nullptr;
  for (const auto& e : d.events) {
    if (e.record_id == 337) found = &e;
  }
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->provider, "Microsoft-Windows-DriverFrameworks-UserMode");
  EXPECT_EQ(found->event_id, 10114u);
  EXPECT_EQ(found->user_sid, "S-1-5-18");
  EXPECT_EQ(found->data,
            (std::vector<std::pair<std::string, std::string>>{{"Dependency", "WUDFPf"}}));
}

// The repo's samples whose first chunk covers the plan shapes.
std::vector<std::string> SamplePaths() {
  std::vector<std::string> paths;
  for (const char* name :
       {"Security_short_selected.evtx", "MSExchange_Management_wec.evtx", "new-user-security.evtx",
        "Application_no_crc32.evtx", "Microsoft-Windows-HelloForBusiness%4Operational.evtx",
        "system_chunk3.evtx"}) {
    paths.push_back(DataPath(name));
  }
  return paths;
}

TEST(EvtxDecoderTest, PlansAndWalkerAgree) {
  for (const std::string& path : SamplePaths()) {
    SCOPED_TRACE(path);
    const auto image = ReadFile(path);
    std::string with, without;
    for (bool plans : {true, false}) {
      ChunkDecodeOptions o;
      o.use_plans = plans;
      o.render = ChunkDecodeOptions::Render::kJson;
      ChunkOutput out;
      DecodeChunk(ChunkBytes(image, 0), 0, 4096, "f", o, &out);
      (plans ? with : without) = out.rendered();
    }
    EXPECT_FALSE(with.empty());
    EXPECT_EQ(with, without);
  }
}

// Every EVTX file of the shared corpus (when it is checked out next to the
// repository) and of tests/data/evtx.
std::vector<std::string> CorpusPaths() {
  std::vector<std::string> paths;
  for (const char* dir : {"/../shared/corpus/evtx", "/tests/data/evtx"}) {
    const std::filesystem::path d = std::string(ES_SOURCE_DIR) + dir;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(d, ec)) {
      if (entry.path().extension() == ".evtx") paths.push_back(entry.path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

// Records of a chunk of the two shapes the plans once left to the walker,
// found from the records' template ops and values alone, without plans.
struct Shapes {
  // <UserData> or <EventData> content is a BinXml substitution holding a
  // template instance (the System-log shape).
  uint64_t payload_binxml = 0;
  // A nested instance right under <Event> (the Security shape) has an array
  // value.
  uint64_t nested_array = 0;
};

// The values of the template instance a BinXml value holds, if it is one.
bool InstanceValues(ChunkContext& ctx, const ValueRef& v, std::vector<ValueRef>* values) {
  const Template* tmpl = nullptr;
  uint32_t values_offset = 0;
  return v.type == kBinXml &&
         ParseSingleInstance(ctx, v.chunk_offset,
                             v.chunk_offset + static_cast<uint32_t>(v.bytes.size()), &tmpl,
                             &values_offset, values);
}

bool HasPayloadBinXml(ChunkContext& ctx, const Template& tmpl, std::span<const ValueRef> values) {
  const std::span<const Op> ops = tmpl.ops;
  std::vector<ValueRef> inner;
  for (size_t i = 0; i + 2 < ops.size(); ++i) {
    const bool payload = ops[i].kind == OpKind::kStartElement &&
                         (ops[i].text == "UserData" || ops[i].text == "EventData");
    if (payload && ops[i + 1].kind == OpKind::kCloseStart &&
        ops[i + 2].kind == OpKind::kSubstitution && ops[i + 2].index < values.size() &&
        InstanceValues(ctx, values[ops[i + 2].index], &inner)) {
      return true;
    }
  }
  return false;
}

bool HasNestedArray(ChunkContext& ctx, std::span<const ValueRef> values) {
  std::vector<ValueRef> inner;
  for (const ValueRef& v : values) {
    if (!InstanceValues(ctx, v, &inner)) continue;
    for (const ValueRef& w : inner) {
      if (w.is_array()) return true;
    }
  }
  return false;
}

Shapes CountShapes(std::span<const uint8_t> chunk) {
  Arena arena(64 * 1024);
  ChunkContext ctx(chunk, &arena);
  Shapes shapes;
  for (size_t pos = kChunkHeaderSize; pos + kRecordHeaderSize < chunk.size();) {
    RecordHeader h;
    if (ReadRecordHeader(chunk, pos, &h) != RecordCheck::kValid) break;
    const Template* tmpl = nullptr;
    uint32_t values_offset = 0;
    std::vector<ValueRef> values;
    const auto begin = static_cast<uint32_t>(pos + kRecordHeaderSize);
    if (ParseSingleInstance(ctx, begin, static_cast<uint32_t>(pos + h.size - 4), &tmpl,
                            &values_offset, &values)) {
      if (HasPayloadBinXml(ctx, *tmpl, values)) ++shapes.payload_binxml;
      if (HasNestedArray(ctx, values)) ++shapes.nested_array;
    }
    pos += h.size;
  }
  return shapes;
}

TEST(EvtxDecoderTest, PlansAndWalkerAgreeOnTheWholeCorpus) {
  // Every chunk of every corpus file: the plans (through the cross-chunk
  // template cache, as the app runs them, and per chunk) give the walker's
  // events, and records whose payload is a nested BinXml instance take the
  // plan path.
  struct Shape {
    uint64_t records = 0;  // of the shape
    uint64_t walked = 0;   // in the chunks that hold them
    void Add(uint64_t of_shape, uint64_t walked_in_chunk) {
      records += of_shape;
      if (of_shape > 0) walked += walked_in_chunk;
    }
  };
  Shape payload_binxml, nested_array;
  uint64_t records = 0;
  for (const std::string& path : CorpusPaths()) {
    SCOPED_TRACE(path);
    const auto image = ReadFile(path);
    TemplateCache cache;
    for (uint64_t i = 0; i < ChunkCountForSize(image.size()); ++i) {
      std::string text[3];
      uint64_t walked_here[3] = {};
      size_t reports[3] = {};
      for (int run = 0; run < 3; ++run) {  // walker, plans per chunk, cached plans
        ChunkDecodeOptions o;
        o.use_plans = run > 0;
        o.render = ChunkDecodeOptions::Render::kJson;
        ChunkOutput out;
        DecodeChunk(ChunkBytes(image, i), static_cast<uint32_t>(i), 4096, "f", o, &out,
                    run == 2 ? &cache : nullptr);
        text[run] = out.rendered();
        reports[run] = out.reports.size();
        walked_here[run] = out.records_walked;
        if (run == 0) records += out.events.size();
      }
      EXPECT_EQ(text[1], text[0]) << "chunk " << i;
      EXPECT_EQ(text[2], text[0]) << "chunk " << i;
      EXPECT_EQ(reports[1], reports[0]) << "chunk " << i;
      EXPECT_EQ(reports[2], reports[0]) << "chunk " << i;
      EXPECT_EQ(walked_here[2], walked_here[1]) << "chunk " << i;
      const Shapes shapes = CountShapes(ChunkBytes(image, i));
      payload_binxml.Add(shapes.payload_binxml, walked_here[1]);
      nested_array.Add(shapes.nested_array, walked_here[1]);
    }
  }
  // Were the records of a shape walked (as they were before plans covered
  // them), the chunks holding them would walk at least that many records.
  EXPECT_GT(payload_binxml.records, 0u);
  EXPECT_LT(payload_binxml.walked, payload_binxml.records);
  EXPECT_GT(nested_array.records, 0u);
  EXPECT_LT(nested_array.walked, nested_array.records);
}

TEST(EvtxDecoderTest, DirectJsonEqualsTheEventsJson) {
  // dump's JSON is written while decoding, straight from the values; it must
  // be exactly AppendEventJson of the Event the same record decodes to, on
  // every chunk of the samples and of the shared corpus (plans and walker).
  const std::vector<std::string> paths = CorpusPaths();
  if (!std::filesystem::is_directory(std::string(ES_SOURCE_DIR) + "/../shared/corpus/evtx")) {
    std::cerr << "shared corpus absent: tests/data/evtx only\n";
  }
  size_t records = 0;
  for (const std::string& path : paths) {
    SCOPED_TRACE(path);
    const auto image = ReadFile(path);
    for (uint64_t i = 0; i < ChunkCountForSize(image.size()); ++i) {
      for (bool plans : {true, false}) {
        ChunkDecodeOptions events_only, json;
        events_only.use_plans = json.use_plans = plans;
        json.render = ChunkDecodeOptions::Render::kJson;
        ChunkOutput a, b;
        DecodeChunk(ChunkBytes(image, i), static_cast<uint32_t>(i), 4096, "f", events_only, &a);
        DecodeChunk(ChunkBytes(image, i), static_cast<uint32_t>(i), 4096, "f", json, &b);
        ASSERT_EQ(a.events.size(), b.text_ranges.size()) << "chunk " << i;
        for (size_t r = 0; r < a.events.size(); ++r) {
          Event e = a.events[r];
          e.data.assign(a.fields.begin() + a.ranges[r].first,
                        a.fields.begin() + a.ranges[r].second);
          std::string expected;
          AppendEventJson(e, &expected);
          const auto [begin, end] = b.text_ranges[r];
          ASSERT_EQ(std::string_view(b.text).substr(begin, end - begin), expected)
              << "chunk " << i << " record " << r << (plans ? " (plans)" : " (walker)");
          ++records;
        }
      }
    }
  }
  EXPECT_GT(records, 1000u);
}

// Collects records one by one, or as JSON lines a chunk at a time.
class TextCollector : public RecordTextHandler {
 public:
  explicit TextCollector(bool lines) : lines_(lines) {}
  void OnRecordText(const Event&, std::string_view text) override {
    text_.append(text);
    text_.push_back('\n');
    ++records_;
  }
  bool WantsRecordLines() const override { return lines_; }
  void OnRecordLines(size_t records, std::string_view lines) override {
    text_.append(lines);
    records_ += records;
    ++calls_;
  }
  bool lines_;
  std::string text_;
  size_t records_ = 0, calls_ = 0;
};

class NoReports : public CorruptionReporter {
 public:
  void Report(const Status&, uint64_t) override {}
};

TEST(EvtxDecoderTest, JsonLinesByChunkEqualRecordByRecord) {
  for (const std::string& path : SamplePaths()) {
    SCOPED_TRACE(path);
    const auto image = ReadFile(path);
    TextCollector one(false), lines(true);
    NoReports reports;
    DecoderOptions o;
    o.threads = 2;
    ASSERT_TRUE(
        DecodeEvtxBufferText(image, path, o, RecordFormat::kJson, one, reports, nullptr).ok());
    ASSERT_TRUE(
        DecodeEvtxBufferText(image, path, o, RecordFormat::kJson, lines, reports, nullptr).ok());
    EXPECT_GT(one.records_, 0u);
    EXPECT_EQ(lines.records_, one.records_);
    EXPECT_EQ(lines.text_, one.text_);
    EXPECT_GE(lines.calls_, 1u);
    EXPECT_LE(lines.calls_, ChunkCountForSize(image.size()));
  }
}

// Gates that decline or accept by event id parity: both answers on one chunk.
bool WantOddIds(void*, const Event& header) { return header.event_id % 2 == 1; }
bool WantNone(void*, const Event&) { return false; }
bool WantAll(void*, const Event&) { return true; }

TEST(EvtxDecoderTest, PlansAndWalkerAgreeBehindThePayloadGate) {
  // With a gate, a record whose payload the plan cannot fill (arrays) takes
  // its header from the plan and asks the gate before any walk, and nested
  // instances inside EventData/UserData are read only once the gate said
  // yes; events, declined payloads and reported problems (a corrupt nested
  // instance is reported exactly when the walker would meet it) must still
  // be the walker's, answer for answer, on every chunk of the corpus. Lean
  // headers (scan) differ from the walker's for declined records by design,
  // so there only the event and report counts are compared.
  for (const std::string& path : CorpusPaths()) {
    SCOPED_TRACE(path);
    const auto image = ReadFile(path);
    for (auto gate : {&WantOddIds, &WantNone, &WantAll}) {
      for (bool lean : {false, true}) {
        TemplateCache cache;
        for (uint64_t i = 0; i < ChunkCountForSize(image.size()); ++i) {
          ChunkOutput out[2];
          for (bool plans : {true, false}) {
            ChunkDecodeOptions o;
            o.use_plans = plans;
            o.render = lean ? ChunkDecodeOptions::Render::kNone : ChunkDecodeOptions::Render::kJson;
            o.want_payload = gate;
            o.full_header_when_declined = !lean;
            DecodeChunk(ChunkBytes(image, i), static_cast<uint32_t>(i), 4096, "f", o, &out[plans],
                        plans ? &cache : nullptr);
          }
          EXPECT_EQ(out[1].rendered(), out[0].rendered()) << "chunk " << i;
          EXPECT_EQ(out[1].events.size(), out[0].events.size()) << "chunk " << i;
          EXPECT_EQ(out[1].reports.size(), out[0].reports.size()) << "chunk " << i;
          // Lean mode asks the gate at a nested instance under <Event> even
          // when there is none to expand (the walker then never asks): a
          // known difference in the count, not in the events.
          if (!lean) {
            EXPECT_EQ(out[1].records_skipped_payload, out[0].records_skipped_payload)
                << "chunk " << i;
          }
        }
      }
    }
  }
}

TEST(EvtxDecoderTest, DeclinedEventsSaySo) {
  // scan skips matching for events whose payload its gate declined: the flag
  // must be set on exactly those (the even ids here), with and without plans.
  for (const std::string& path : SamplePaths()) {
    SCOPED_TRACE(path);
    const auto image = ReadFile(path);
    for (bool plans : {true, false}) {
      for (bool lean : {false, true}) {
        ChunkDecodeOptions o;
        o.use_plans = plans;
        o.want_payload = &WantOddIds;
        o.full_header_when_declined = !lean;
        ChunkOutput out;
        DecodeChunk(ChunkBytes(image, 0), 0, 4096, "f", o, &out);
        uint64_t declined = 0;
        for (const Event& e : out.events) {
          if (!e.payload_declined) continue;
          ++declined;
          EXPECT_EQ(e.event_id % 2, 0u) << e.record_id;
        }
        EXPECT_EQ(declined, out.records_skipped_payload);
      }
    }
  }
}

TEST(EvtxDecoderTest, LeanHeaderForDeclinedRecords) {
  // EventHandler::FullHeaderWhenDeclined() == false (scan): a declined record
  // carries the header filter's fields and the record's key (computer,
  // EventRecordID) exactly as a full decode has them, and a wanted record is
  // the full decode's event, field for field.
  std::vector<std::string> paths;
  for (const char* name :
       {"Security_short_selected.evtx", "MSExchange_Management_wec.evtx", "new-user-security.evtx",
        "Application_no_crc32.evtx", "system_chunk3.evtx"}) {
    paths.push_back(DataPath(name));
  }
  uint64_t declined_without_keywords = 0;
  for (const std::string& path : paths) {
    SCOPED_TRACE(path);
    const auto image = ReadFile(path);
    for (uint64_t i = 0; i < std::min<uint64_t>(ChunkCountForSize(image.size()), 8); ++i) {
      ChunkOutput out[2];  // [0] full header, [1] lean
      for (int lean : {0, 1}) {
        ChunkDecodeOptions o;
        o.want_payload = &WantOddIds;
        o.full_header_when_declined = lean == 0;
        DecodeChunk(ChunkBytes(image, i), static_cast<uint32_t>(i), 4096, "f", o, &out[lean]);
      }
      ASSERT_EQ(out[1].events.size(), out[0].events.size()) << "chunk " << i;
      EXPECT_EQ(out[1].records_skipped_payload, out[0].records_skipped_payload);
      for (size_t k = 0; k < out[0].events.size(); ++k) {
        const Event& full = out[0].events[k];
        const Event& lean = out[1].events[k];
        // The lean header stops at the filter's fields and the record's
        // key (what record-id tracking reads).
        EXPECT_EQ(lean.record_number, full.record_number);
        EXPECT_EQ(lean.provider, full.provider);
        EXPECT_EQ(lean.event_id, full.event_id);
        EXPECT_EQ(lean.level, full.level);
        EXPECT_EQ(lean.channel, full.channel);
        EXPECT_EQ(lean.record_id, full.record_id);
        EXPECT_EQ(lean.computer, full.computer);
        if (full.event_id % 2 == 1) {
          EXPECT_EQ(lean.time, full.time);
          EXPECT_EQ(lean.user_sid, full.user_sid);
          EXPECT_EQ(lean.keywords, full.keywords);
          EXPECT_EQ(out[1].ranges[k].second - out[1].ranges[k].first,
                    out[0].ranges[k].second - out[0].ranges[k].first);
        } else if (lean.keywords == 0 && full.keywords != 0) {
          ++declined_without_keywords;
        }
      }
    }
  }
  // The lean path was taken (declined records skipped the rest of the header).
  EXPECT_GT(declined_without_keywords, 0u);
}

class CountingHandler : public EventHandler {
 public:
  bool WantPayload(const Event& header) override {
    ++asked;
    EXPECT_NE(header.event_id, 0u);  // System is filled before the question
    return header.event_id != 5152;
  }
  void OnEvent(const Event& e) override {
    ids.push_back(e.record_id);
    if (e.event_id == 5152) {
      EXPECT_TRUE(e.data.empty());
    } else {
      EXPECT_FALSE(e.data.empty());
    }
  }
  int asked = 0;
  std::vector<uint64_t> ids;
};

TEST(EvtxDecoderTest, WantPayloadSkipsEventData) {
  const auto image = ReadFile(DataPath("Security_short_selected.evtx"));
  CountingHandler h;
  CollectingReporter r;
  DecoderStats stats;
  ASSERT_TRUE(DecodeEvtxBuffer(image, "f", {}, h, r, &stats).ok());
  EXPECT_EQ(h.asked, 7);
  EXPECT_EQ(h.ids.size(), 7u);
  EXPECT_EQ(stats.events.Get(), 7u);
  EXPECT_EQ(stats.inputs.Get(), 1u);
  EXPECT_EQ(stats.bytes.Get(), image.size());
}

TEST(EvtxDecoderTest, ThreadsKeepFileOrder) {
  // Eight chunks from three files, decoded with 1 and 4 threads.
  std::vector<uint8_t> image = ReadFile(DataPath("Security_short_selected.evtx"));
  for (const char* name :
       {"new-user-security.evtx", "MSExchange_Management_wec.evtx", "Application_no_crc32.evtx"}) {
    const auto other = ReadFile(DataPath(name));
    for (int i = 0; i < 2; ++i) image.insert(image.end(), other.begin() + 4096, other.end());
  }
  image.insert(image.end(), image.begin() + 4096, image.begin() + 4096 + kChunkSize);
  auto one = Decode(image);
  DecoderOptions four;
  four.threads = 4;
  auto many = Decode(image, four);
  ASSERT_EQ(one.events.size(), 7u + 2 * (4 + 1 + 17) + 7u);
  ASSERT_EQ(one.events.size(), many.events.size());
  for (size_t i = 0; i < one.events.size(); ++i) {
    EXPECT_EQ(one.events[i].offset, many.events[i].offset);
    EXPECT_EQ(one.events[i].data, many.events[i].data);
  }
  EXPECT_EQ(one.reports.size(), many.reports.size());
}

TEST(EvtxDecoderTest, ManyChunksOnThreadsStopWhereStrictSaysSo) {
  // 41 chunks (more than the decoders keep in flight, not a multiple of the
  // emitter's batch) with a records-CRC mismatch in chunk 29: every thread
  // count delivers the same events in order; under --strict all of them stop
  // after chunk 28, without hanging.
  const auto sample = ReadFile(DataPath("Security_short_selected.evtx"));
  std::vector<uint8_t> image(sample.begin(), sample.begin() + 4096);
  for (int i = 0; i < 41; ++i) {
    image.insert(image.end(), sample.begin() + 4096, sample.begin() + 4096 + kChunkSize);
  }
  image[4096 + 29 * kChunkSize + 700] ^= 0x5A;  // inside the records: a CRC mismatch
  const auto one = Decode(image);
  ASSERT_EQ(one.events.size(), 41u * 7u);  // the flipped byte is in a value
  for (int threads : {2, 3, 4}) {
    SCOPED_TRACE(threads);
    DecoderOptions o;
    o.threads = threads;
    const auto many = Decode(image, o);
    ASSERT_EQ(many.events.size(), one.events.size());
    for (size_t i = 0; i < one.events.size(); ++i) {
      ASSERT_EQ(many.events[i].offset, one.events[i].offset);
    }
    o.strict = true;
    const auto strict = Decode(image, o);
    EXPECT_EQ(strict.status.code(), StatusCode::kCorruption);
    EXPECT_EQ(strict.events.size(), 29u * 7u);
  }
}

TEST(EvtxDecoderTest, DecoderReadsFilesThroughTheRegistryInterface) {
  auto decoder = NewEvtxDecoder({});
  EXPECT_EQ(decoder->name(), "evtx");
  CountingHandler h;
  CollectingReporter r;
  EXPECT_TRUE(decoder->Decode(InputSpec{DataPath("Security_short_selected.evtx"), ""}, h, r).ok());
  EXPECT_EQ(h.ids.size(), 7u);
  EXPECT_EQ(decoder->Decode(InputSpec{DataPath("missing.evtx"), ""}, h, r).code(),
            StatusCode::kIOError);
}

using ::eventsift::shrink_test::FullGuardTable;
using ::eventsift::shrink_test::TruncatingHandler;

TEST(EvtxDecoderTest, AFileThatShrinksWhileDecodedFailsNamingItsFile) {
  const auto sample = ReadFile(DataPath("Security_short_selected.evtx"));
  std::vector<uint8_t> image(sample.begin(), sample.begin() + 4096);
  for (int i = 0; i < 40; ++i) {
    image.insert(image.end(), sample.begin() + 4096, sample.begin() + 4096 + 65536);
  }
  const std::string path =
      (std::filesystem::temp_directory_path() / "evtx_decoder_test_shrinks.evtx").string();
  // Cut 100 bytes into chunk 1 (the rest of that page reads zeros from a
  // mapping without a fault: only the size check finds it), and at a chunk
  // boundary (the next page faults).
  for (const uint64_t cut : {uint64_t{4096 + 65536 + 100}, uint64_t{4096 + 3 * 65536}}) {
    for (const bool mapped : {true, false}) {
      for (int threads : {1, 2}) {
        SCOPED_TRACE(::testing::Message()
                     << "cut " << cut << " mapped " << mapped << " threads " << threads);
        std::ofstream(path, std::ios::binary)
            .write(reinterpret_cast<const char*>(image.data()),
                   static_cast<std::streamsize>(image.size()));
        std::optional<FullGuardTable> full;
        if (!mapped) full.emplace();
        {
          auto file = EvtxFile::Open(path);
          ASSERT_TRUE(file);
          EXPECT_EQ(file.value()->mapped(), mapped);
        }
        DecoderOptions o;
        o.threads = threads;
        auto decoder = NewEvtxDecoder(o);
        TruncatingHandler h(path, cut);
        CollectingReporter r;
        const Status s = decoder->Decode(InputSpec{path, "shrinks.evtx"}, h, r);
        EXPECT_EQ(s.code(), StatusCode::kIOError) << s.ToString();
        EXPECT_NE(s.ToString().find("shrinks.evtx@0x"), std::string::npos) << s.ToString();
        EXPECT_NE(s.message().find("file shrank while read"), std::string::npos) << s.ToString();
        EXPECT_GT(h.events, 0u);       // what was read before is delivered
        EXPECT_LT(h.events, 40u * 7);  // and decoding stopped
        // Nothing decoded from zeros was reported as corruption first.
        for (const Status& report : r.reports()) ADD_FAILURE() << report.ToString();
      }
    }
  }
  std::filesystem::remove(path);
}

TEST(EvtxDecoderTest, AMappedFileDecodesAsThePreadPathAndTheImage) {
  // A clean file and one with a damaged chunk (decoded whole after its used
  // part reported), at 1 and 2 threads.
  auto image = ReadFile(DataPath("Security_short_selected.evtx"));
  auto damaged = image;
  damaged[4096 + 700] ^= 0x5A;
  const std::string path =
      (std::filesystem::temp_directory_path() / "evtx_decoder_test_mapped.evtx").string();
  for (const auto* bytes : {&image, &damaged}) {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes->data()),
               static_cast<std::streamsize>(bytes->size()));
    for (int threads : {1, 2}) {
      DecoderOptions o;
      o.threads = threads;
      const std::string from_memory = DumpXmlAndReports(*bytes, o);
      EXPECT_NE(from_memory.find("<Event"), std::string::npos);
      for (const bool mapped : {true, false}) {
        SCOPED_TRACE(::testing::Message() << "mapped " << mapped << " threads " << threads);
        std::optional<FullGuardTable> full;
        if (!mapped) full.emplace();
        EXPECT_EQ(EvtxFile::Open(path).value()->mapped(), mapped);
        EXPECT_EQ(DumpXmlAndReports(*bytes, o, path), from_memory);
      }
    }
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace eventsift::evtx
