#pragma once
// Walking compiled BinXml with its substitution values, in document order.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "parsers/evtx/binxml_compiler.h"
#include "parsers/evtx/binxml_value.h"
#include "parsers/evtx/chunk_context.h"
#include "parsers/evtx/value_array.h"
#include "src/core/status.h"

namespace eventsift::evtx {

// What one record may expand to, whatever its templates nest (the bounds of
// evtx 0.15): a few hundred bytes of BinXml that instantiate a template of 16
// instances of a template of 16 instances ... render gigabytes. Past either
// bound the record fails with kResourceExhausted (reported; the chunk goes
// on). Text counts the UTF-8 bytes of names, literal text and entity names
// and the raw bytes of values, before XML/JSON escaping; each visitor call
// adds at most one value or name past the bound before the walk stops.
inline constexpr size_t kMaxRecordNodes = size_t{1} << 18;
inline constexpr size_t kMaxRecordTextBytes = size_t{16} << 20;
// All records of one chunk together (each walked once for its event and once
// more for dump's XML): chunks are decoded several at a time, so a chunk of
// a thousand records each just under the record bound stays bounded too.
inline constexpr uint64_t kMaxChunkTextBytes = uint64_t{64} << 20;

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
  Status Exhausted() const;

  BinXmlVisitor* visitor_ = nullptr;
  size_t ops_walked_ = 0;
  size_t text_bytes_ = 0;          // this record's, see kMaxRecordTextBytes
  uint64_t chunk_text_bytes_ = 0;  // earlier records' of this chunk
  // While an array value is expanded, its substitution op renders this item.
  const Op* override_op_ = nullptr;
  ValueRef override_value_;
  uint64_t missing_values_ = 0;
  // Scratch per nesting level, reused across records so steady-state walking
  // does not allocate.
  std::vector<std::vector<Op>> op_scratch_;
  std::vector<std::vector<ValueRef>> value_scratch_;
};

}  // namespace eventsift::evtx
