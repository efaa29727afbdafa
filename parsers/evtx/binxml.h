#pragma once
// BinXml: compiling token streams into flat op lists, and walking them with
// substitution values (docs/evtx-format.md, "BinXml").
//
// A template definition is compiled once per chunk into a vector of Ops (names
// and literal text already converted to UTF-8) and cached by its chunk
// offset; each record then only reads its substitution array and walks the
// cached ops, handing typed values to a BinXmlVisitor. No DOM is built per
// record. Records that carry plain BinXml instead of a template instance (WEC
// forwarded events) are compiled into a scratch op list per record.

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "parsers/evtx/binxml_value.h"
#include "src/core/arena.h"
#include "src/core/status.h"

namespace eventsift::evtx {

// Bounds that keep hostile input from using unbounded stack, time or memory.
inline constexpr int kMaxNesting = 24;               // template/BinXml nesting
inline constexpr size_t kMaxElementDepth = 64;       // elements open in one fragment
inline constexpr size_t kMaxOpsPerRecord = 1 << 20;  // walked ops per record
inline constexpr size_t kMaxValues = 4096;           // substitutions per instance

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
};

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

// Receives a walked record in document order. Attribute value parts arrive
// between Attribute() and AttributeEnd(); content parts after StartContent().
class BinXmlVisitor {
 public:
  virtual ~BinXmlVisitor() = default;
  // Returns false to skip the element's attributes and content (EndElement is
  // still called, with skipped = true).
  virtual bool StartElement(std::string_view name) = 0;
  virtual void Attribute(std::string_view name) = 0;
  virtual void AttributeEnd() = 0;
  virtual void StartContent() = 0;
  virtual void EndElement(std::string_view name, bool skipped) = 0;
  virtual void Text(std::string_view utf8) = 0;
  virtual void Value(const ValueRef& v) = 0;
  virtual void CharRef(uint16_t unit) = 0;
  virtual void EntityRef(std::string_view name) = 0;
  virtual void CData(std::string_view utf8) = 0;
  virtual void Pi(std::string_view target, std::string_view data) = 0;
};

// Walks a record's BinXml: expands template instances with their values and
// nested BinXml values. Not thread-safe; one per chunk decode.
class Walker {
 public:
  // `ctx` must outlive the walker.
  explicit Walker(ChunkContext& ctx) : ctx_(ctx) {}

  // Walks the fragment in [begin, end) of the chunk.
  Status WalkFragment(uint32_t begin, uint32_t end, BinXmlVisitor& visitor);

  // Substitution ids past the value count seen (rendered as empty).
  uint64_t missing_values() const { return missing_values_; }

 private:
  Status Fragment(uint32_t begin, uint32_t end, int depth);
  Status Ops(std::span<const Op> ops, std::span<const ValueRef> values, int depth);
  Status Instance(const Op& op, int depth);
  Status Substitute(const Op& op, std::span<const ValueRef> values, int depth);
  Status Element(std::span<const Op> ops, size_t i, std::span<const ValueRef> values, int depth,
                 size_t* next);
  std::vector<Op>& OpScratch(int depth);
  std::vector<ValueRef>& ValueScratch(int depth);

  ChunkContext& ctx_;
  BinXmlVisitor* visitor_ = nullptr;
  size_t ops_walked_ = 0;
  // While an array value is expanded, its substitution op renders this item.
  const Op* override_op_ = nullptr;
  ValueRef override_value_;
  uint64_t missing_values_ = 0;
  // Scratch per nesting level, reused across records so steady-state walking
  // does not allocate.
  std::vector<std::vector<Op>> op_scratch_;
  std::vector<std::vector<ValueRef>> value_scratch_;
};

// Splits an array value (type | 0x80) into items of the base type: strings
// at their NUL terminators, fixed-size types by size, SIDs by their own
// length. An empty array yields one empty item.
void SplitArray(const ValueRef& v, std::vector<ValueRef>* items);

// Reads the substitution array at `offset` (u32 count, count x {u16 size,
// u8 type, u8 pad}, then the data) into `values` (may be null to only find
// the end); `*end` is the offset just past the data. On failure `*values`
// holds no meaningful items.
Status ReadValueArray(std::span<const uint8_t> chunk, uint32_t offset,
                      std::vector<ValueRef>* values, uint32_t* end);

}  // namespace eventsift::evtx
