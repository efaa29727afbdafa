// The cross-chunk template cache must be invisible: every chunk decodes to the
// same events, text and reports with the cache as without it, including
// chunks whose template definitions differ from a cached one in a single byte.

#include "parsers/evtx/template_cache.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "parsers/evtx/chunk_decoder.h"
#include "parsers/evtx/evtx_decoder.h"
#include "tests/unit/parsers/evtx/evtx_test_util.h"

namespace eventsift::evtx {
namespace {

using testing::DataPath;
using testing::ReadFile;

const char* const kFiles[] = {"Security_short_selected.evtx",
                              "MSExchange_Management_wec.evtx",
                              "new-user-security.evtx",
                              "Application_no_crc32.evtx",
                              "Microsoft-Windows-HelloForBusiness%4Operational.evtx",
                              "system_chunk3.evtx"};

// Everything a chunk decode produces that a caller can see.
std::string Render(std::span<const uint8_t> chunk, ChunkDecodeOptions::Render render,
                   TemplateCache* cache) {
  ChunkDecodeOptions o;
  o.render = render;
  ChunkOutput out;
  DecodeChunk(chunk, 0, 4096, "f", o, &out, cache);
  std::string all(out.rendered());
  for (const auto& r : out.reports) all += "\nreport: " + r.status.ToString();
  all += "\nevents: " + std::to_string(out.events.size());
  return all;
}

TEST(TemplateCacheTest, ChunksDecodeAlikeWithAndWithoutTheCache) {
  for (auto render : {ChunkDecodeOptions::Render::kJson, ChunkDecodeOptions::Render::kXml}) {
    TemplateCache cache;
    // Twice over every sample: the second round takes its templates from the
    // cache (the same definitions, so every one must hit).
    for (int round = 0; round < 2; ++round) {
      for (const char* name : kFiles) {
        SCOPED_TRACE(name);
        const auto image = ReadFile(DataPath(name));
        const auto chunk = ChunkBytes(image, 0);
        const uint64_t hits_before = cache.hits();
        EXPECT_EQ(Render(chunk, render, &cache), Render(chunk, render, nullptr));
        // (Forwarded WEC records carry plain BinXml: no templates to cache.)
        if (round == 1 && std::string(name) != "MSExchange_Management_wec.evtx") {
          EXPECT_GT(cache.hits(), hits_before);
        }
      }
    }
  }
}

TEST(TemplateCacheTest, AlteredDefinitionsAreNotTakenFromTheCache) {
  // Single-byte changes anywhere in a chunk's records area (template bodies,
  // name structures, values) after its templates were cached: the output
  // must equal an uncached decode of the altered chunk, whether the change
  // breaks the template, renames an element or only alters a value.
  std::mt19937 rng(7);
  for (const char* name : {"Security_short_selected.evtx", "system_chunk3.evtx"}) {
    SCOPED_TRACE(name);
    const auto image = ReadFile(DataPath(name));
    const auto original = ChunkBytes(image, 0);
    TemplateCache cache;
    Render(original, ChunkDecodeOptions::Render::kXml, &cache);
    ASSERT_GT(cache.size(), 0u);
    std::uniform_int_distribution<size_t> where(kChunkHeaderSize, 8192);
    // 60 mutations per file, alternating JSON and XML rendering, keep this
    // to a few seconds under ASan.
    for (int i = 0; i < 60; ++i) {
      std::vector<uint8_t> altered(original.begin(), original.end());
      const size_t at = where(rng);
      altered[at] ^= static_cast<uint8_t>(1 + rng() % 255);
      SCOPED_TRACE(at);
      const auto render =
          i % 2 == 0 ? ChunkDecodeOptions::Render::kJson : ChunkDecodeOptions::Render::kXml;
      ASSERT_EQ(Render(altered, render, &cache), Render(altered, render, nullptr));
    }
  }
}

TEST(TemplateCacheTest, EmptyTemplateBodyIsComparedSafely) {
  // A definition whose data size is 0 compiles to no ops and is cached with
  // an empty body; matching it again must not hand memcmp a null pointer
  // (found by evtx_fuzzer under UBSan).
  const auto image = ReadFile(DataPath("Security_short_selected.evtx"));
  std::vector<uint8_t> chunk(ChunkBytes(image, 0).begin(), ChunkBytes(image, 0).end());
  // First record: header (24 bytes), fragment header (4), 0x0C, u8, u32 id,
  // u32 definition offset; the definition: u32 next, GUID, u32 data size.
  const size_t instance = kChunkHeaderSize + 24 + 4;
  ASSERT_EQ(chunk[instance], 0x0C);
  uint32_t def = 0;
  std::memcpy(&def, &chunk[instance + 6], 4);
  ASSERT_LT(size_t{def} + 24, chunk.size());
  std::memset(&chunk[def + 20], 0, 4);
  TemplateCache cache;
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(Render(chunk, ChunkDecodeOptions::Render::kXml, &cache),
              Render(chunk, ChunkDecodeOptions::Render::kXml, nullptr));
  }
  EXPECT_GT(cache.hits(), 0u);
}

TEST(TemplateCacheTest, TemplatesMovedToOtherOffsetsAreReused) {
  // A real multi-chunk log: each chunk repeats its templates at its own
  // offsets, with names shared inside the chunk. Whole-file decodes with the
  // cache (DecodeEvtxBufferText always uses one) must equal chunk-by-chunk
  // decodes without it, and the cache must be hit across chunks.
  const std::string path = std::string(ES_SOURCE_DIR) + "/../shared/corpus/evtx/security.evtx";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "corpus not present: " << path;
  const auto image = ReadFile(path);
  TemplateCache cache;
  for (uint64_t i = 0; i < ChunkCountForSize(image.size()); ++i) {
    const auto chunk = ChunkBytes(image, i);
    EXPECT_EQ(Render(chunk, ChunkDecodeOptions::Render::kJson, &cache),
              Render(chunk, ChunkDecodeOptions::Render::kJson, nullptr))
        << "chunk " << i;
  }
  EXPECT_GT(cache.hits(), 0u);
}

}  // namespace
}  // namespace eventsift::evtx
