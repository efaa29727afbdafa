// EventPipeline's EVTX tailing resumes by the record header's number, which
// grows with a live file, not by record_id (the EventRecordID), which in an
// exported or forwarded log follows another log's numbering. The input is a
// copy of tests/data/evtx/system_chunk3.evtx whose headers are renumbered
// 1.. (EventRecordIDs stay 327..), checksums fixed, as `wevtutil epl` writes.

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "src/daemon/event_pipeline.h"

namespace eventsift::daemon {
namespace {

constexpr size_t kFileHeader = 4096;
constexpr size_t kChunk = 65536;

uint32_t U32(const std::vector<uint8_t>& b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}
void Put32(std::vector<uint8_t>& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }
void Put64(std::vector<uint8_t>& b, size_t at, uint64_t v) { std::memcpy(b.data() + at, &v, 8); }
uint32_t Crc(const std::vector<uint8_t>& b, size_t at, size_t n) {
  return static_cast<uint32_t>(crc32(0, b.data() + at, static_cast<uInt>(n)));
}

// Renumbers the record headers of a one-chunk file from 1; returns the count.
uint64_t RenumberOneChunk(std::vector<uint8_t>& b) {
  const size_t base = kFileHeader;
  const uint32_t free = U32(b, base + 48);
  uint64_t n = 0;
  for (size_t pos = 512; pos + 24 <= free;) {
    if (U32(b, base + pos) != 0x00002a2a) break;
    const uint32_t size = U32(b, base + pos + 4);
    Put64(b, base + pos + 8, ++n);
    pos += size;
  }
  for (size_t at : {8, 16}) Put64(b, base + at, at == 8 ? 1 : n);
  for (size_t at : {24, 32}) Put64(b, base + at, at == 24 ? 1 : n);
  Put32(b, base + 52, Crc(b, base + 512, free - 512));
  std::vector<uint8_t> header(b.begin() + base, b.begin() + base + 120);
  header.insert(header.end(), b.begin() + base + 128, b.begin() + base + 512);
  Put32(b, base + 124, Crc(header, 0, header.size()));
  Put64(b, 24, n + 1);
  Put32(b, 124, Crc(b, 0, 120));
  return n;
}

TEST(EventPipelineEvtx, ResumesByHeaderNumberOfAnExportedLog) {
  std::ifstream in(std::string(ES_SOURCE_DIR) + "/tests/data/evtx/system_chunk3.evtx",
                   std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_EQ(bytes.size(), kFileHeader + kChunk);
  const uint64_t n = RenumberOneChunk(bytes);
  ASSERT_EQ(n, 118u);

  auto rules =
      detect::RuleSet::Load({std::string(ES_SOURCE_DIR) + "/rules/eems_mitigation_error.yaml"});
  ASSERT_TRUE(rules.has_value()) << rules.error().ToString();
  HitJournal journal;
  EventPipeline pipeline(std::move(rules).value(), correlate::CorrelatorOptions{}, 0, &journal);

  // First read: every record, and the resume point is the last header number
  // (118), not the last EventRecordID (444).
  const uint64_t after = pipeline.OnEvtx(source::EvtxRecord{"exported.evtx", bytes, 0, 0});
  EXPECT_EQ(after, n);
  EXPECT_EQ(pipeline.stats().events.Get(), n);
  EXPECT_EQ(pipeline.stats().evtx_records_skipped.Get(), 0u);
  // The chunk read again (a live log's last chunk): nothing twice.
  EXPECT_EQ(pipeline.OnEvtx(source::EvtxRecord{"exported.evtx", bytes, 0, after}), n);
  EXPECT_EQ(pipeline.stats().events.Get(), n);
  EXPECT_EQ(pipeline.stats().evtx_records_skipped.Get(), n);
  // Resumed from a checkpoint two records short: exactly those two.
  EXPECT_EQ(pipeline.OnEvtx(source::EvtxRecord{"exported.evtx", bytes, 0, n - 2}), n);
  EXPECT_EQ(pipeline.stats().events.Get(), n + 2);
}

}  // namespace
}  // namespace eventsift::daemon
