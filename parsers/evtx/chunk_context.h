#pragma once
// Per-chunk BinXml state: decoded names and the templates compiled in one
// chunk, with the cross-chunk TemplateCache behind them.

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <unordered_map>

#include "parsers/evtx/binxml_compiler.h"
#include "src/core/arena.h"
#include "src/core/status.h"

namespace eventsift::evtx {

class TemplateCache;

// Per-chunk state: the chunk image, decoded names and compiled templates.
// Names and literal text are allocated in `arena`, so events may point at
// them for as long as that arena lives (the chunk's output arena); template
// ops live until the context dies.
class ChunkContext {
 public:
  // `chunk` and `arena` must outlive the context.
  // `cache`, if not null, shares compiled templates with other chunks.
  ChunkContext(std::span<const uint8_t> chunk, Arena* arena, TemplateCache* cache = nullptr)
      : chunk_(chunk), arena_(*arena), cache_(cache) {}
  ChunkContext(const ChunkContext&) = delete;  // templates point at our arena
  ChunkContext& operator=(const ChunkContext&) = delete;

  std::span<const uint8_t> chunk() const { return chunk_; }
  Arena& arena() { return arena_; }

  // Name structure at `offset`: UTF-8, cached.
  Status Name(uint32_t offset, std::string_view* out);
  // Compiled template whose definition starts at `offset` (compiled now if new).
  Status GetTemplate(uint32_t offset, int depth, const Template** out);

  size_t templates_compiled() const { return templates_.size(); }

 private:
  std::span<const uint8_t> chunk_;
  Arena& arena_;
  TemplateCache* cache_;
  std::unordered_map<uint32_t, std::string_view> names_;
  std::unordered_map<uint32_t, std::unique_ptr<Template>> templates_;
  // Templates found recently, direct-mapped by definition offset: each
  // record asks for its template, and a chunk's records use a handful, so
  // most asks are answered here without hashing. Only finished templates
  // enter (never one still compiling), and nothing leaves templates_ once
  // finished, so an entry stays valid for the context's life.
  struct RecentTemplate {
    uint32_t offset = 0;
    const Template* tmpl = nullptr;
  };
  std::array<RecentTemplate, 16> recent_templates_{};
  static size_t RecentSlot(uint32_t offset) { return (offset * 2654435761u) >> 28; }
};

}  // namespace eventsift::evtx
