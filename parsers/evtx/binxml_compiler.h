#pragma once
// BinXml token compiler: a token stream (record body, template body or
// BinXml value) becomes a flat list of Ops, with names and literal text
// already converted to UTF-8 (docs/evtx-format.md, "BinXml").

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "parsers/evtx/binxml_value.h"
#include "src/core/byte_reader.h"
#include "src/core/status.h"

namespace eventsift::evtx {

// Bounds that keep hostile input from using unbounded stack, time or memory.
inline constexpr int kMaxNesting = 24;               // template/BinXml nesting
inline constexpr size_t kMaxElementDepth = 64;       // elements open in one fragment
inline constexpr size_t kMaxOpsPerRecord = 1 << 20;  // walked ops per record

enum class OpKind : uint8_t {
  kStartElement,      // text = name; end = index just past the element's last op
  kAttribute,         // text = name; value parts follow
  kCloseStart,        // '>' : content follows
  kCloseEmpty,        // '/>': element ends
  kEndElement,        // '</name>'
  kText,              // text = UTF-8 literal (unescaped)
  kCData,             // text = UTF-8
  kCharRef,           // index = code unit
  kEntityRef,         // text = entity name
  kPiTarget,          // text = target name
  kPiData,            // text = UTF-8
  kSubstitution,      // index = value index, value_type, optional
  kTemplateInstance,  // tmpl, offset = chunk offset of its value array
};

struct Template;
struct CachedTemplate;
class TemplateCache;

// An element without a DependencyId.
inline constexpr uint16_t kNoDependency = 0xFFFF;

struct Op {
  OpKind kind = OpKind::kText;
  bool optional = false;
  uint8_t value_type = 0;
  uint16_t index = 0;
  // kStartElement: its DependencyId, the value whose NULL leaves the element
  // out (MS-EVEN6 2.2.12); kNoDependency when it has none or is a root.
  uint16_t dependency = kNoDependency;
  uint32_t offset = 0;
  uint32_t end = 0;
  // kStartElement: 1 + index of its only content op when that op is a
  // substitution (0 otherwise). Such an element is dropped when an optional
  // value is NULL and repeated per item for an array value.
  uint32_t single_subst = 0;
  std::string_view text;           // lives in the ChunkContext arena
  const Template* tmpl = nullptr;  // owned by the ChunkContext cache
};

struct Template {
  uint32_t def_offset = 0;
  uint8_t guid[16] = {};
  uint32_t data_size = 0;
  // The compiled body: own_ops, or a cached template's ops (which outlive
  // the chunk), so a template met again in a later chunk is not copied.
  std::span<const Op> ops;
  std::vector<Op> own_ops;
  bool compiling = false;  // set while its body compiles: catches self-reference
  // The cross-chunk cache entry these ops came from or went to (null: not
  // cached); it also holds the template's plans.
  CachedTemplate* shared = nullptr;
};

// What compiling a template body read besides its own bytes (positions are
// relative to the body's start), so TemplateCache can tell whether the same
// definition in another chunk compiles to the same ops.
struct CompileLog {
  struct NameRef {
    uint32_t rel = 0;          // the u32 name-offset field
    bool inline_name = false;  // the name structure follows the field
    std::string_view name;     // its text (checked for names elsewhere)
  };
  struct Layout {
    uint32_t rel = 0;  // an element-start token
    uint8_t skip = 0;  // ElementLayout's answer
  };
  std::vector<NameRef> names;  // ascending rel
  std::vector<Layout> layouts;
  bool cacheable = true;  // false: a template instance inside (chunk offsets)
};

// The layout of the element start token at chunk offset `p` in a fragment
// ending at `limit`: 10 or 8 bytes from the token's next byte to the end of
// its name-offset field (with or without the dependency id), or 0 if neither
// layout has a valid name offset.
uint8_t ElementLayout(std::span<const uint8_t> chunk, size_t p, size_t limit);

// A name structure: u32 next | u16 hash | u16 chars | UTF-16 | u16 NUL.
// Returns its total size, or 0 if it does not fit or lacks its terminator.
// Inline: template look-ups and matches check names of every chunk.
inline size_t NameSizeAt(std::span<const uint8_t> chunk, uint32_t offset) {
  uint16_t chars = 0;
  if (!ByteReader::LoadAt(chunk, size_t{offset} + 6, &chars)) return 0;
  const size_t size = 8 + 2 * size_t{chars} + 2;
  uint16_t nul = 1;
  if (!ByteReader::LoadAt(chunk, size_t{offset} + size - 2, &nul) || nul != 0) return 0;
  return size;
}

class ChunkContext;

// Compiles the token stream in [begin, end) of the chunk (a fragment: record
// body, template body or BinXml value) into `ops`, appending. Stops at EOF or
// `end`. `log`, if not null, records what was read outside [begin, end).
Status CompileFragment(ChunkContext& ctx, uint32_t begin, uint32_t end, int depth,
                       std::vector<Op>* ops, CompileLog* log = nullptr);

// The common record layout, checked without compiling: a fragment header,
// one template instance, then EOF or the end. On success `*tmpl` is its
// (compiled) template and `*values_offset` the chunk offset of its values,
// read into `*values` too unless it is null (one pass over the descriptors).
bool ParseSingleInstance(ChunkContext& ctx, uint32_t begin, uint32_t end, const Template** tmpl,
                         uint32_t* values_offset, std::vector<ValueRef>* values = nullptr);

}  // namespace eventsift::evtx
