// File and chunk headers and their CRCs, on real files. Expected field values
// are read off the bytes (xxd) of the files in tests/data/evtx.

#include "parsers/evtx/file_header.h"

#include <gtest/gtest.h>

#include "parsers/evtx/evtx_decoder.h"
#include "tests/unit/parsers/evtx/evtx_test_util.h"

namespace eventsift::evtx {
namespace {

using testing::DataPath;
using testing::Decode;
using testing::ReadFile;

TEST(FileHeaderTest, ParsesSecurityShortSelected) {
  const auto image = ReadFile(DataPath("Security_short_selected.evtx"));
  ASSERT_EQ(image.size(), 69632u);
  auto h = ParseFileHeader(image);
  ASSERT_TRUE(h);
  EXPECT_EQ(h.value().first_chunk, 0u);
  EXPECT_EQ(h.value().last_chunk, 0u);
  EXPECT_EQ(h.value().next_record_id, 8u);
  EXPECT_EQ(h.value().header_size, 128u);
  EXPECT_EQ(h.value().minor_version, 1);
  EXPECT_EQ(h.value().major_version, 3);
  EXPECT_EQ(h.value().header_block_size, 4096);
  EXPECT_EQ(h.value().chunk_count, 1);
  EXPECT_EQ(h.value().checksum, 0xfb027480u);
  EXPECT_TRUE(h.value().checksum_ok());
  EXPECT_EQ(ChunkCountForSize(image.size()), 1u);

  auto c = ParseChunkHeader(ChunkBytes(image, 0));
  ASSERT_TRUE(c);
  EXPECT_EQ(c.value().first_record_number, 1u);
  EXPECT_EQ(c.value().last_record_number, 7u);
  EXPECT_EQ(c.value().first_record_id, 1u);
  EXPECT_EQ(c.value().last_record_id, 7u);
  EXPECT_EQ(c.value().last_record_offset, 0x1e00u);
  EXPECT_EQ(c.value().free_space_offset, 0x2250u);
  EXPECT_EQ(c.value().data_checksum, 0x962a6d81u);
  EXPECT_EQ(c.value().header_checksum, 0x788a2351u);
  EXPECT_TRUE(c.value().header_checksum_ok());
  EXPECT_TRUE(c.value().data_checksum_ok());
}

TEST(FileHeaderTest, RejectsWrongSignatures) {
  auto image = ReadFile(DataPath("Security_short_selected.evtx"));
  std::vector<uint8_t> copy = image;
  copy[0] = 'X';
  EXPECT_FALSE(ParseFileHeader(copy));
  EXPECT_FALSE(ParseFileHeader(std::span<const uint8_t>(image.data(), 64)));
  copy = image;
  copy[4096 + 3] = 'X';
  EXPECT_FALSE(ParseChunkHeader(ChunkBytes(copy, 0)));
  EXPECT_FALSE(Decode({'n', 'o', 'p', 'e'}).status.ok());
}

TEST(FileHeaderTest, HeaderCrcMismatchIsReportedAndStrictMakesItFatal) {
  auto image = ReadFile(DataPath("Security_short_selected.evtx"));
  image[24] ^= 0x01;  // next record id: covered by the header CRC
  auto d = Decode(image);
  EXPECT_TRUE(d.status.ok());
  EXPECT_EQ(d.events.size(), 7u);
  ASSERT_EQ(d.reports.size(), 1u);
  EXPECT_NE(d.reports[0].message().find("file header CRC32"), std::string::npos);
  DecoderOptions strict;
  strict.strict = true;
  auto s = Decode(image, strict);
  EXPECT_FALSE(s.status.ok());
  EXPECT_EQ(s.status.code(), StatusCode::kCorruption);
  EXPECT_TRUE(s.events.empty());
}

TEST(FileHeaderTest, ChunkDataCrcMismatch) {
  // Its chunk was being written when the file was copied: the records CRC
  // does not match (zlib crc32 over 0x200..free space, checked by hand).
  const auto image = ReadFile(DataPath("Microsoft-Windows-HelloForBusiness%4Operational.evtx"));
  auto c = ParseChunkHeader(ChunkBytes(image, 0));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c.value().header_checksum_ok());
  EXPECT_FALSE(c.value().data_checksum_ok());
  auto d = Decode(image);
  EXPECT_TRUE(d.status.ok());
  EXPECT_EQ(d.events.size(), 6u);  // as evtx_dump and python-evtx
  ASSERT_GE(d.reports.size(), 1u);
  EXPECT_NE(d.reports[0].message().find("chunk 0"), std::string::npos);
  EXPECT_NE(d.reports[0].message().find("records CRC32"), std::string::npos);
  ASSERT_NE(d.reports[0].where(), nullptr);
  EXPECT_EQ(d.reports[0].where()->offset, 4096u);
  DecoderOptions strict;
  strict.strict = true;
  EXPECT_FALSE(Decode(image, strict).status.ok());
}

TEST(FileHeaderTest, NoCrcFlagSkipsChecks) {
  // File flags 0x4 and chunk flags 0x5, with zero checksums.
  const auto image = ReadFile(DataPath("Application_no_crc32.evtx"));
  auto h = ParseFileHeader(image);
  ASSERT_TRUE(h);
  EXPECT_EQ(h.value().flags, 4u);
  EXPECT_FALSE(h.value().checksum_ok());
  auto d = Decode(image);
  EXPECT_TRUE(d.status.ok());
  EXPECT_EQ(d.events.size(), 17u);  // evtx_dump, python-evtx and libevtx agree
  EXPECT_TRUE(d.reports.empty());
}

TEST(FileHeaderTest, ChunkCountComesFromTheFileSize) {
  auto image = ReadFile(DataPath("Security_short_selected.evtx"));
  const std::vector<uint8_t> chunk(image.begin() + 4096, image.end());
  // A header that claims no chunks (its CRC fixed up, so only the count lies).
  image[42] = 0;
  const uint32_t crc = Crc32(std::span<const uint8_t>(image.data(), 120));
  for (int i = 0; i < 4; ++i) image[124 + i] = static_cast<uint8_t>(crc >> (8 * i));
  // Then an all-zero chunk (skipped silently) and a second copy of the chunk
  // past the header's count, as dirty files have.
  image.insert(image.end(), kChunkSize, 0);
  image.insert(image.end(), chunk.begin(), chunk.end());
  auto d = Decode(image);
  EXPECT_TRUE(d.status.ok());
  EXPECT_TRUE(d.reports.empty());
  ASSERT_EQ(d.events.size(), 14u);
  EXPECT_EQ(d.events[0].chunk, 0u);
  EXPECT_EQ(d.events[7].chunk, 2u);
  EXPECT_EQ(d.events[7].offset, 4096u + 2 * kChunkSize + 512);
}

}  // namespace
}  // namespace eventsift::evtx
