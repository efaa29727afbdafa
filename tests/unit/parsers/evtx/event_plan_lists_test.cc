// EventPlan's precomputed lists (scan's lean fill) must say what the per-record loops they
// replace would have worked out, on every template the corpus uses: the
// header filter's items (lean mode) and the sorted substitution lists
// (PlanFits, PlanFitsHeader).

#include "parsers/evtx/event_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "parsers/evtx/binxml.h"
#include "parsers/evtx/chunk_decoder.h"
#include "parsers/evtx/evtx_decoder.h"
#include "parsers/evtx/file_header.h"
#include "src/core/arena.h"
#include "tests/unit/parsers/evtx/evtx_test_util.h"

namespace eventsift::evtx {
namespace {

using testing::ReadFile;

// The loop EventBuilder::ApplyFilterFieldsAndAsk ran over plan.items before
// filter_items existed: the filter fields up to the first payload or nested
// item, and whether the gate was then asked.
struct Visited {
  std::vector<PlanItem> fields;
  bool gate = false;
};

Visited OldFilterLoop(const EventPlan& plan) {
  Visited v;
  for (const PlanItem& item : plan.items) {
    if (item.kind == PlanItem::kPayloadStart || item.kind == PlanItem::kNested) {
      v.gate = true;
      return v;
    }
    if (IsLeanTarget(item.target)) v.fields.push_back(item);
  }
  return v;
}

bool SameItem(const PlanItem& a, const PlanItem& b) {
  return a.kind == b.kind && a.target == b.target && a.attribute == b.attribute &&
         a.subst == b.subst && a.drop_if_null == b.drop_if_null && a.name == b.name &&
         a.literal == b.literal;
}

// Counts of what the corpus walk saw, so the test cannot pass on nothing.
struct Seen {
  uint64_t plans = 0;
  uint64_t with_filter_items = 0;
  uint64_t with_gate = 0;
  uint64_t nested = 0;
};

// The substitutions PlanFits and PlanFitsHeader check, worked out from the
// items: every kField item's (each once; those only `repeat` items read may
// be arrays, so they are listed apart), and those before the payload (used
// only when the header can be split from it).
void CheckReadSubsts(const EventPlan& plan) {
  std::set<uint16_t> all;
  std::vector<uint16_t> header;
  bool payload = false;
  for (const PlanItem& item : plan.items) {
    if (item.kind == PlanItem::kPayloadStart || item.kind == PlanItem::kNested) payload = true;
    if (item.kind != PlanItem::kField || item.subst < 0) continue;
    if (!item.repeat) all.insert(static_cast<uint16_t>(item.subst));
    if (!payload) header.push_back(static_cast<uint16_t>(item.subst));
  }
  // SubstsFit relies on the order: ascending, so the last index bounds them all.
  EXPECT_EQ(plan.read_substs, std::vector<uint16_t>(all.begin(), all.end()));
  if (plan.header_split) {
    std::sort(header.begin(), header.end());
    EXPECT_EQ(plan.header_read_substs, header);
  }
}

void CheckPlan(const EventPlan& plan, Seen* seen) {
  CheckReadSubsts(plan);
  const Visited old = OldFilterLoop(plan);
  ASSERT_EQ(plan.filter_items.size(), old.fields.size());
  for (size_t i = 0; i < old.fields.size(); ++i) {
    EXPECT_TRUE(SameItem(plan.filter_items[i], old.fields[i])) << "filter item " << i;
  }
  EXPECT_EQ(plan.gate_after_filter, old.gate);
  ++seen->plans;
  if (!plan.filter_items.empty()) ++seen->with_filter_items;
  if (plan.gate_after_filter) ++seen->with_gate;
}

// Every record of the chunk that is one template instance: its template's
// plan at depth 1, and the plans of the instances its BinXml values hold at
// depth 2 (Security's EventData), as ChunkRun builds them.
void CheckChunk(std::span<const uint8_t> chunk, Seen* seen) {
  Arena arena(64 * 1024);
  ChunkContext ctx(chunk, &arena);
  std::vector<ValueRef> values, nested_values;
  size_t pos = kChunkHeaderSize;
  RecordHeader h;
  while (pos + kRecordHeaderSize <= chunk.size() &&
         ReadRecordHeader(chunk, pos, &h) != RecordCheck::kBad) {
    const auto begin = static_cast<uint32_t>(pos + kRecordHeaderSize);
    const auto end = static_cast<uint32_t>(pos + h.size - 4);
    const Template* tmpl = nullptr;
    uint32_t values_offset = 0;
    if (ParseSingleInstance(ctx, begin, end, &tmpl, &values_offset, &values)) {
      CheckPlan(BuildEventPlan(tmpl->ops, PlanStart{1, PlanSection::kNone}), seen);
      for (const ValueRef& v : values) {
        if (v.type != kBinXml) continue;
        const Template* inner = nullptr;
        uint32_t inner_offset = 0;
        const uint32_t vb = v.chunk_offset;
        if (ParseSingleInstance(ctx, vb, vb + static_cast<uint32_t>(v.bytes.size()), &inner,
                                &inner_offset, &nested_values)) {
          CheckPlan(BuildEventPlan(inner->ops, PlanStart{2, PlanSection::kNone}), seen);
          ++seen->nested;
        }
      }
    }
    pos += h.size;
  }
}

TEST(EventPlanTest, PrecomputedListsMatchTheItemsOnTheCorpus) {
  std::vector<std::string> paths;
  const std::string root = ES_SOURCE_DIR;
  for (const std::string& dir : {root + "/tests/data/evtx", root + "/../shared/corpus/evtx"}) {
    if (!std::filesystem::is_directory(dir)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() == ".evtx") paths.push_back(entry.path().string());
    }
  }
  Seen seen;
  for (const std::string& path : paths) {
    SCOPED_TRACE(path);
    const auto image = ReadFile(path);
    for (uint64_t i = 0; i < ChunkCountForSize(image.size()); ++i) {
      CheckChunk(ChunkBytes(image, i), &seen);
    }
  }
  // Plans with filter fields and a gate, and nested ones, were all seen.
  EXPECT_GT(seen.plans, 1000u);
  EXPECT_GT(seen.with_filter_items, 0u);
  EXPECT_GT(seen.with_gate, 0u);
  EXPECT_GT(seen.nested, 0u);
}

}  // namespace
}  // namespace eventsift::evtx
