// Damaged input never crashes and costs only the damaged records: byte flips,
// truncation at every 4 KiB boundary, broken records in the middle of a chunk,
// runaway nesting, and carving of slack space.

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <fmt/format.h>

#include "parsers/evtx/chunk_decoder.h"
#include "parsers/evtx/evtx_decoder.h"
#include "parsers/evtx/file_header.h"
#include "tests/unit/parsers/evtx/evtx_test_util.h"

namespace eventsift::evtx {
namespace {

using testing::DataPath;
using testing::Decode;
using testing::DumpXml;
using testing::DumpXmlAndReports;
using testing::ReadFile;

void PutU32(std::vector<uint8_t>* b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*b)[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// Recomputes chunk 0's header and records CRCs after a test edited it, so
// only the intended damage is reported.
void FixChunkCrcs(std::vector<uint8_t>* image) {
  std::span<const uint8_t> chunk(image->data() + 4096, kChunkSize);
  uint32_t free_space = 0;
  std::memcpy(&free_space, chunk.data() + 48, 4);
  PutU32(image, 4096 + 52, Crc32(chunk.subspan(512, free_space - 512)));
  PutU32(image, 4096 + 124, Crc32(chunk.subspan(128, 384), Crc32(chunk.first(120))));
}

// Offsets (in the file) and sizes of the records of a clean file.
std::vector<std::pair<size_t, size_t>> RecordSpans(const std::vector<uint8_t>& image) {
  std::vector<std::pair<size_t, size_t>> spans;
  for (const auto& e : Decode(image).events) {
    RecordHeader h;
    const size_t chunk_start = 4096 + size_t{e.chunk} * kChunkSize;
    const RecordCheck check =
        ReadRecordHeader(ChunkBytes(image, e.chunk), e.offset - chunk_start, &h);
    EXPECT_EQ(check, RecordCheck::kValid);
    spans.emplace_back(e.offset, h.size);
  }
  return spans;
}

TEST(CorruptionTest, RandomByteFlipsNeverCrash) {
  std::mt19937 rng(20261123);
  for (const char* name : {"Security_short_selected.evtx", "MSExchange_Management_wec.evtx",
                           "system_chunk3.evtx", "new-user-security.evtx"}) {
    SCOPED_TRACE(name);
    const auto clean = ReadFile(DataPath(name));
    for (int round = 0; round < 300; ++round) {
      auto image = clean;
      const int flips = 1 + static_cast<int>(rng() % 16);
      for (int i = 0; i < flips; ++i) {
        const size_t at = 4096 + rng() % (image.size() - 4096);
        image[at] ^= static_cast<uint8_t>(1 + rng() % 255);
      }
      DecoderOptions options;
      options.carve = (round % 2) == 1;
      auto d = Decode(image, options);
      ASSERT_TRUE(d.status.ok());  // the file header was not touched
      EXPECT_GT(d.events.size() + d.reports.size(), 0u);
      if (round % 10 == 0) {
        EXPECT_EQ(DumpXml(image).empty(), d.events.empty());
      }
    }
  }
}

TEST(CorruptionTest, TruncationKeepsEveryRecordBeforeTheCut) {
  const auto clean = ReadFile(DataPath("system_chunk3.evtx"));
  const auto spans = RecordSpans(clean);
  ASSERT_EQ(spans.size(), 118u);
  for (size_t cut = 4096; cut < clean.size(); cut += 4096) {
    SCOPED_TRACE(cut);
    const std::vector<uint8_t> image(clean.begin(), clean.begin() + cut);
    auto d = Decode(image);
    ASSERT_TRUE(d.status.ok());
    size_t whole = 0;
    for (const auto& [offset, size] : spans) whole += offset + size <= cut ? 1 : 0;
    EXPECT_EQ(d.events.size(), whole);
    if (cut > 4096) {
      EXPECT_FALSE(d.reports.empty());  // the cut is reported, not silent
    }
    for (size_t i = 0; i < d.events.size(); ++i) EXPECT_EQ(d.events[i].offset, spans[i].first);
  }
}

TEST(CorruptionTest, BadRecordInTheMiddleIsSkippedAndTheRestRecovered) {
  auto image = ReadFile(DataPath("Security_short_selected.evtx"));
  const auto spans = RecordSpans(image);
  ASSERT_EQ(spans.size(), 7u);
  // Break record 2's signature and record 4's size copy... and record 5's
  // BinXml (an unknown token right after its fragment header).
  image[spans[1].first] = 0x00;
  image[spans[4].first + 24 + 4] = 0xEE;
  FixChunkCrcs(&image);
  auto d = Decode(image);
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.events.size(), 5u);
  EXPECT_EQ(d.events[0].offset, spans[0].first);
  EXPECT_EQ(d.events[1].offset, spans[2].first);  // resynchronised after record 2
  EXPECT_EQ(d.events[3].offset, spans[5].first);
  // Records 3, 4, 6 and 7 were reached by the resync: without it they were
  // lost (record 5's BinXml failed, it is not counted).
  EXPECT_EQ(d.records_recovered, 4u);
  EXPECT_EQ(d.chunks_found, 1u);
  ASSERT_EQ(d.reports.size(), 2u);
  EXPECT_NE(d.reports[0].message().find("chunk 0"), std::string::npos);
  ASSERT_NE(d.reports[0].where(), nullptr);
  EXPECT_EQ(d.reports[0].where()->offset, spans[1].first);
  EXPECT_NE(d.reports[1].message().find("unknown BinXml token 0xee"), std::string::npos);
}

TEST(CorruptionTest, RunawayNestingIsBounded) {
  auto image = ReadFile(DataPath("Security_short_selected.evtx"));
  const auto spans = RecordSpans(image);
  // Replace the last record's BinXml (earlier records define the templates
  // the others use) with nested elements, the first with an inline name, the
  // others pointing back at it.
  const size_t chunk = 4096;
  size_t at = spans[6].first + 24;
  const size_t end = spans[6].first + spans[6].second - 4;
  auto put = [&](std::initializer_list<int> bytes) {
    for (int b : bytes) image[at++] = static_cast<uint8_t>(b);
  };
  put({0x0f, 0x01, 0x01, 0x00});
  const uint32_t name_offset = static_cast<uint32_t>(at - chunk + 11);
  put({0x01, 0xff, 0xff, 0, 0, 0, 0});
  PutU32(&image, at, name_offset);
  at += 4;
  put({0, 0, 0, 0, 0, 0, 1, 0, 'a', 0, 0, 0});  // next, hash, 1 char, "a", NUL
  while (at + 11 <= end) {
    put({0x01, 0xff, 0xff, 0, 0, 0, 0});
    PutU32(&image, at, name_offset);
    at += 4;
  }
  FixChunkCrcs(&image);
  auto d = Decode(image);
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.events.size(), 6u);
  ASSERT_EQ(d.reports.size(), 1u);
  EXPECT_EQ(d.reports[0].code(), StatusCode::kResourceExhausted);
}

TEST(CorruptionTest, CarvingRecoversRecordsAfterTheFreeSpaceOffset) {
  auto image = ReadFile(DataPath("Security_short_selected.evtx"));
  const auto spans = RecordSpans(image);
  // Pretend the last two records were freed: move the free-space offset back.
  PutU32(&image, 4096 + 48, static_cast<uint32_t>(spans[5].first - 4096));
  FixChunkCrcs(&image);
  auto plain = Decode(image);
  EXPECT_EQ(plain.events.size(), 5u);
  EXPECT_TRUE(plain.reports.empty());
  EXPECT_EQ(plain.records_recovered, 0u);
  DecoderOptions carve;
  carve.carve = true;
  auto carved = Decode(image, carve);
  ASSERT_EQ(carved.events.size(), 7u);
  EXPECT_EQ(carved.events[6].offset, spans[6].first);
  EXPECT_EQ(carved.records_recovered, 2u);
}

TEST(CorruptionTest, ChunksTheHeaderAnnouncesAgainstChunksFound) {
  // system_chunk3.evtx: chunk 3 of system.evtx behind that file's header,
  // which announces 3 chunks.
  auto image = ReadFile(DataPath("system_chunk3.evtx"));
  auto clean = Decode(image);
  EXPECT_EQ(clean.chunks_declared, 3u);
  EXPECT_EQ(clean.chunks_found, 1u);
  EXPECT_EQ(clean.chunks_empty, 0u);
  EXPECT_EQ(clean.records_recovered, 0u);
  // Two more chunks: one never written (all zero), one a copy of the first
  // with a broken signature, whose records are found by scanning.
  const std::vector<uint8_t> first(image.begin() + 4096, image.begin() + 4096 + kChunkSize);
  image.insert(image.end(), kChunkSize, 0);
  image.insert(image.end(), first.begin(), first.end());
  image[4096 + 2 * kChunkSize] = 'X';
  auto d = Decode(image);
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.chunks_declared, 3u);
  EXPECT_EQ(d.chunks_found, 3u);
  EXPECT_EQ(d.chunks_empty, 1u);
  EXPECT_EQ(d.events.size(), 2 * clean.events.size());
  EXPECT_EQ(d.records_recovered, clean.events.size());
}

void WriteFile(const std::string& path, const std::vector<uint8_t>& image) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(image.data()),
             static_cast<std::streamsize>(image.size()));
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / name).string();
}

// Files are read up to each chunk's free-space offset only; whatever is
// wrong in a chunk, the output must be what decoding the whole chunk gives
// (the in-memory decode always sees every byte).
TEST(CorruptionTest, FilesDecodeAsTheirImagesWhateverTheDamage) {
  const auto clean = ReadFile(DataPath("Security_short_selected.evtx"));
  const auto spans = RecordSpans(clean);
  ASSERT_EQ(spans.size(), 7u);
  uint32_t free_space = 0;
  std::memcpy(&free_space, clean.data() + 4096 + 48, 4);
  ASSERT_LT(free_space + 64, kChunkSize);  // room for a name in the slack
  std::vector<std::pair<std::string, std::vector<uint8_t>>> cases;
  cases.emplace_back("clean", clean);
  {
    auto image = clean;  // resynchronised past a broken record
    image[spans[1].first] = 0x00;
    FixChunkCrcs(&image);
    cases.emplace_back("bad record", image);
  }
  {
    auto image = clean;  // records CRC mismatch
    image[spans[3].first + 40] ^= 0x5a;
    cases.emplace_back("records crc", image);
  }
  {
    auto image = clean;  // free-space offset past the chunk: the whole chunk is scanned
    PutU32(&image, 4096 + 48, 0x20000);
    cases.emplace_back("free space out of range", image);
  }
  {
    auto image = clean;  // two records freed: their stale copies are in the slack
    PutU32(&image, 4096 + 48, static_cast<uint32_t>(spans[5].first - 4096));
    FixChunkCrcs(&image);
    cases.emplace_back("records in the slack", image);
  }
  {
    // The last record's template definition copied into the slack, past the
    // free-space offset, and the record pointed at the copy (definitions may
    // be anywhere in their chunk).
    auto image = clean;
    const size_t instance = spans[6].first + 24 + 4;  // after the fragment header
    ASSERT_EQ(image[instance], 0x0c);
    uint32_t def = 0, data_size = 0;
    std::memcpy(&def, image.data() + instance + 6, 4);
    ASSERT_NE(4096 + def, instance + 10);  // not inline: a reference
    std::memcpy(&data_size, image.data() + 4096 + def + 20, 4);
    const uint32_t moved = free_space + 16;
    ASSERT_LT(moved + 24 + data_size, kChunkSize);
    std::memcpy(image.data() + 4096 + moved, image.data() + 4096 + def, 24 + size_t{data_size});
    PutU32(&image, instance + 6, moved);
    FixChunkCrcs(&image);
    cases.emplace_back("template in the slack", image);
  }
  {
    auto image = clean;  // a second chunk cut short: read whole
    image.insert(image.end(), clean.begin() + 4096, clean.begin() + 4096 + 40000);
    cases.emplace_back("partial last chunk", image);
  }
  const std::string path = TempPath("corruption_test_file_reads.evtx");
  for (const auto& [what, image] : cases) {
    for (bool carve : {false, true}) {
      for (int threads : {1, 2}) {
        SCOPED_TRACE(fmt::format("{}, carve {}, {} threads", what, carve, threads));
        DecoderOptions o;
        o.carve = carve;
        o.threads = threads;
        WriteFile(path, image);
        const std::string from_memory = DumpXmlAndReports(image, o);
        EXPECT_EQ(DumpXmlAndReports(image, o, path), from_memory);
        if (what == "template in the slack") {
          // The definition was read from the slack: compiled there (where
          // its inline names are no longer inline, hence the token error),
          // not reported as missing.
          EXPECT_NE(from_memory.find("record 7 at chunk offset 0x1e00: unknown BinXml token"),
                    std::string::npos)
              << from_memory;
          EXPECT_EQ(from_memory.find("template definition"), std::string::npos) << from_memory;
        }
      }
    }
  }
  std::filesystem::remove(path);
}

// Cuts the file being decoded, when the first event arrives, right after the
// used part of its second (last) chunk.
class CuttingHandler : public RecordXmlHandler {
 public:
  CuttingHandler(std::string path, uint64_t size) : path_(std::move(path)), size_(size) {}
  void OnRecordXml(const Event&, std::string_view) override {
    if (records++ == 0) std::filesystem::resize_file(path_, size_);
  }
  size_t records = 0;

 private:
  std::string path_;
  uint64_t size_;
};

// Without --carve a chunk's slack is never read: a file whose slack goes
// away while it is decoded still gives every record; with --carve the slack
// is read, and the cut is an error naming the file.
TEST(CorruptionTest, SlackIsReadOnlyWhenCarving) {
  const auto sample = ReadFile(DataPath("Security_short_selected.evtx"));
  uint32_t free_space = 0;
  std::memcpy(&free_space, sample.data() + 4096 + 48, 4);
  auto image = sample;
  image.insert(image.end(), sample.begin() + 4096, sample.begin() + 4096 + kChunkSize);
  const std::string path = TempPath("corruption_test_slack.evtx");
  for (bool carve : {false, true}) {
    SCOPED_TRACE(carve);
    WriteFile(path, image);
    DecoderOptions o;
    o.carve = carve;
    CuttingHandler h(path, 4096 + kChunkSize + free_space);
    CollectingReporter r;
    const Status s = DecodeEvtxFileText(path, "slack.evtx", o, RecordFormat::kXml, h, r, nullptr);
    if (!carve) {
      EXPECT_TRUE(s.ok()) << s.ToString();
      EXPECT_TRUE(r.reports().empty());
      EXPECT_EQ(h.records, 14u);
    } else {
      EXPECT_EQ(s.code(), StatusCode::kIOError) << s.ToString();
      EXPECT_NE(s.message().find("file shrank while read"), std::string::npos) << s.ToString();
      EXPECT_EQ(h.records, 7u);
    }
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace eventsift::evtx
