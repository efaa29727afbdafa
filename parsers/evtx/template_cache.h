#pragma once
// Compiled templates kept across the chunks of a file (issue 3: "compile each
// template the first time it is seen"). Windows writes a template's definition
// again into every chunk that uses it, so a 200 MB log compiles the same few
// dozen templates thousands of times without this cache.
//
// A definition's compiled ops depend on more than its own bytes: element and
// attribute names may be references to name structures elsewhere in the chunk,
// name offsets are absolute chunk offsets (so the same template written at
// another offset has other bytes), and the element-start layout is guessed from
// the bytes around each element. An entry therefore records, while compiling,
// every such dependency (CompileLog), and a definition in another chunk reuses
// the entry only if it matches exactly: same GUID and size, the same body bytes
// except the name-offset fields, the same inline/external choice for each name
// with the same text for external names, and the same layout guess for each
// element start. Anything else, and any definition holding a template instance
// (chunk-relative value offsets), is compiled per chunk as before.
//
// One cache per decoding thread (no locks). Entries are never evicted while a
// decode runs, because events of chunks not yet delivered point at their text;
// past kMaxEntries entries or kMaxBytes of them new templates are simply not
// cached (they compile per chunk, as templates are defined per chunk in EVTX),
// so a file of many chunks each with its own large template keeps memory flat.

#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "parsers/evtx/binxml.h"
#include "parsers/evtx/event_plan.h"
#include "src/core/arena.h"

namespace eventsift::evtx {

// One template as compiled once, with what it depended on.
struct CachedTemplate {
  uint8_t guid[16] = {};
  uint32_t data_size = 0;
  std::vector<uint8_t> body;  // the definition's data bytes
  CompileLog log;             // dependencies on the rest of its chunk
  // For each of log.names, the UTF-16 characters of an external name as
  // they were in the chunk (empty for inline ones): a later chunk's name
  // with the same characters has the same text, so the match compares
  // bytes instead of looking each name up and converting it.
  std::vector<std::string_view> raw_names;
  std::vector<Op> ops;  // text in the cache's arena
  // The plans of the common starts (see PlanSlot), built on first use.
  static constexpr int kPlanSlots = 4;
  EventPlan plans[kPlanSlots];
  bool planned[kPlanSlots] = {};

  // Which of `plans` holds the plan at `start`, or -1: a record (depth 1), a
  // nested instance under <Event> (2), or the content of EventData/UserData (3).
  static int PlanSlot(PlanStart start);
  // The plan of these ops at `start` (PlanSlot(start) >= 0), built on first use.
  const EventPlan& Plan(PlanStart start);
};

class TemplateCache {
 public:
  static constexpr size_t kMaxEntries = 4096;
  // Real logs need a few dozen templates of a few KiB; a hostile file can
  // bring a new 60,000-token template (2.9 MB compiled) in every chunk.
  static constexpr size_t kMaxBytes = size_t{32} << 20;

  // The entry whose template matches the definition at `offset` of `ctx`'s
  // chunk (its data at offset + 24, `data_size` bytes, already checked to
  // lie within the chunk), or null.
  CachedTemplate* Find(ChunkContext& ctx, uint32_t offset, const uint8_t guid[16],
                       uint32_t data_size);

  // Stores `tmpl`, compiled at `offset` of `ctx`'s chunk with `log`; null
  // when the cache is full.
  CachedTemplate* Insert(ChunkContext& ctx, uint32_t offset, const Template& tmpl,
                         const CompileLog& log);

  size_t size() const { return count_; }
  // Memory held by the entries (counting plans as large as their ops), at
  // most kMaxBytes.
  size_t bytes() const { return bytes_; }
  uint64_t hits() const { return hits_; }

 private:
  struct Key {
    uint64_t guid_low = 0;
    uint64_t guid_high = 0;
    uint32_t data_size = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return static_cast<size_t>(k.guid_low ^ (k.guid_high * 0x9E3779B97F4A7C15ull) ^ k.data_size);
    }
  };
  static Key MakeKey(const uint8_t guid[16], uint32_t data_size);
  static bool Matches(ChunkContext& ctx, uint32_t offset, const CachedTemplate& e);

  Arena text_{64 * 1024};  // op and name text of every entry
  std::unordered_map<Key, std::vector<std::unique_ptr<CachedTemplate>>, KeyHash> entries_;
  size_t count_ = 0;
  size_t bytes_ = 0;
  uint64_t hits_ = 0;
};

}  // namespace eventsift::evtx
