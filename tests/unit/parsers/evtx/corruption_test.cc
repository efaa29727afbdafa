// Damaged input never crashes and costs only the damaged records: byte flips,
// truncation at every 4 KiB boundary, broken records in the middle of a chunk,
// runaway nesting, and carving of slack space.

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "parsers/evtx/chunk_decoder.h"
#include "parsers/evtx/evtx_decoder.h"
#include "parsers/evtx/file_header.h"
#include "tests/unit/parsers/evtx/evtx_test_util.h"

namespace eventsift::evtx {
namespace {

using testing::DataPath;
using testing::Decode;
using testing::DumpXml;
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

}  // namespace
}  // namespace eventsift::evtx
