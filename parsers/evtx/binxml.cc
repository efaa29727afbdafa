#include "parsers/evtx/binxml.h"

#include <algorithm>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "parsers/evtx/template_cache.h"
#include "src/core/byte_reader.h"
#include "src/core/utf16.h"

namespace eventsift::evtx {

namespace {

// Token codes (libyal "Token types"); 0x40 marks "more data follows".
enum Token : uint8_t {
  kEof = 0x00,
  kOpenStart = 0x01,
  kCloseStartTok = 0x02,
  kCloseEmptyTok = 0x03,
  kEndTok = 0x04,
  kValueTok = 0x05,
  kAttributeTok = 0x06,
  kCDataTok = 0x07,
  kCharRefTok = 0x08,
  kEntityRefTok = 0x09,
  kPiTargetTok = 0x0a,
  kPiDataTok = 0x0b,
  kTemplateInstanceTok = 0x0c,
  kNormalSubstTok = 0x0d,
  kOptionalSubstTok = 0x0e,
  kFragmentHeaderTok = 0x0f,
};

// A name structure: u32 next | u16 hash | u16 chars | UTF-16 | u16 NUL.
// Returns its total size, or 0 if it does not fit or lacks its terminator.
size_t NameSizeAt(std::span<const uint8_t> chunk, uint32_t offset) {
  uint16_t chars = 0;
  if (!ByteReader::LoadAt(chunk, size_t{offset} + 6, &chars)) return 0;
  const size_t size = 8 + 2 * size_t{chars} + 2;
  uint16_t nul = 1;
  if (!ByteReader::LoadAt(chunk, size_t{offset} + size - 2, &nul) || nul != 0) return 0;
  return size;
}

Op MakeOp(OpKind kind, std::string_view text = {}) {
  Op op;
  op.kind = kind;
  op.text = text;
  return op;
}

}  // namespace

uint8_t ElementLayout(std::span<const uint8_t> chunk, size_t p, size_t limit) {
  uint32_t with_dep = 0, without_dep = 0;
  const bool have_with = ByteReader::LoadAt(chunk, p + 7, &with_dep) && p + 11 <= limit;
  const bool have_without = ByteReader::LoadAt(chunk, p + 5, &without_dep) && p + 9 <= limit;
  if (have_with && with_dep == p + 11) return 10;
  if (have_without && without_dep == p + 9) return 8;
  if (have_with && with_dep < p && NameSizeAt(chunk, with_dep) != 0) return 10;
  if (have_without && without_dep < p && NameSizeAt(chunk, without_dep) != 0) return 8;
  return 0;
}

namespace {

class Compiler {
 public:
  Compiler(ChunkContext& ctx, uint32_t begin, uint32_t end, int depth, std::vector<Op>* ops,
           CompileLog* log)
      : ctx_(ctx),
        r_(ctx.chunk().first(std::min<size_t>(end, ctx.chunk().size()))),
        begin_(begin),
        depth_(depth),
        ops_(ops),
        first_op_(ops->size()),
        log_(log) {}

  Status Run() {
    if (depth_ > kMaxNesting) {
      return Status::ResourceExhausted("BinXml nested too deeply").AtOffset(begin_);
    }
    ES_RETURN_IF_ERROR(r_.Seek(begin_, "BinXml fragment"));
    while (!r_.at_end()) {
      const uint32_t token_pos = static_cast<uint32_t>(r_.pos());
      uint8_t token = 0;
      ES_RETURN_IF_ERROR(r_.ReadU8("BinXml token", &token));
      if (token == kEof) break;
      Status s = Token(token, token_pos);
      if (!s.ok()) return s;
    }
    // Repair unclosed elements so visitors always see balanced events.
    while (!open_.empty()) Close(OpKind::kEndElement);
    return Status::OK();
  }

 private:
  Status Token(uint8_t token, uint32_t token_pos) {
    switch (token & 0xBF) {
      case kOpenStart:
        return OpenStart(token, token_pos);
      case kCloseStartTok:
        return Push(MakeOp(OpKind::kCloseStart));
      case kCloseEmptyTok:
      case kEndTok:
        if (open_.empty()) {
          return Status::Corruption("BinXml end of element without start").AtOffset(token_pos);
        }
        Close((token & 0xBF) == kEndTok ? OpKind::kEndElement : OpKind::kCloseEmpty);
        return Status::OK();
      case kValueTok:
        return ValueText(token_pos);
      case kAttributeTok: {
        std::string_view name;
        ES_RETURN_IF_ERROR(NameField("attribute name", &name));
        return Push(MakeOp(OpKind::kAttribute, name));
      }
      case kCDataTok:
      case kPiDataTok: {
        std::string_view text;
        ES_RETURN_IF_ERROR(Utf16Field("CDATA/PI data", &text));
        return Push(MakeOp((token & 0xBF) == kCDataTok ? OpKind::kCData : OpKind::kPiData, text));
      }
      case kCharRefTok: {
        uint16_t unit = 0;
        ES_RETURN_IF_ERROR(r_.ReadU16("character reference", &unit));
        Op op = MakeOp(OpKind::kCharRef);
        op.index = unit;
        return Push(op);
      }
      case kEntityRefTok:
      case kPiTargetTok: {
        std::string_view name;
        ES_RETURN_IF_ERROR(NameField("entity/PI name", &name));
        return Push(
            MakeOp((token & 0xBF) == kEntityRefTok ? OpKind::kEntityRef : OpKind::kPiTarget, name));
      }
      case kTemplateInstanceTok:
        return TemplateInstance();
      case kNormalSubstTok:
      case kOptionalSubstTok: {
        Op op = MakeOp(OpKind::kSubstitution);
        op.optional = (token & 0xBF) == kOptionalSubstTok;
        ES_RETURN_IF_ERROR(r_.ReadU16("substitution id", &op.index));
        ES_RETURN_IF_ERROR(r_.ReadU8("substitution type", &op.value_type));
        return Push(op);
      }
      case kFragmentHeaderTok:
        return r_.Skip(3, "fragment header");
      default:
        return Status::Corruption(fmt::format("unknown BinXml token 0x{:02x}", token))
            .AtOffset(token_pos);
    }
  }

  Status Push(Op op) {
    if (ops_->size() - first_op_ >= kMaxOpsPerRecord) {
      return Status::ResourceExhausted("BinXml fragment has too many tokens").AtOffset(r_.pos());
    }
    ops_->push_back(op);
    return Status::OK();
  }

  void Close(OpKind kind) {
    const size_t start = open_.back();
    open_.pop_back();
    const size_t n = ops_->size();
    if (kind == OpKind::kEndElement && n >= start + 3 &&
        (*ops_)[n - 1].kind == OpKind::kSubstitution &&
        (*ops_)[n - 2].kind == OpKind::kCloseStart) {
      (*ops_)[start].single_subst = static_cast<uint32_t>(n - 1 - start + 1);  // relative, +1
    }
    ops_->push_back(MakeOp(kind, (*ops_)[start].text));
    (*ops_)[start].end = static_cast<uint32_t>(ops_->size());
  }

  // Element start: token | [u16 dependency id] | u32 size | u32 name offset |
  // [inline name] | [u32 attribute list size if token has 0x40].
  // The dependency id is absent in some writers' BinXml (WEC-forwarded
  // records, nested values), so both layouts are tried: the one whose name
  // offset is inline, else the one whose name offset holds a valid name.
  Status OpenStart(uint8_t token, uint32_t token_pos) {
    if (open_.size() >= kMaxElementDepth) {
      return Status::ResourceExhausted("elements nested too deeply").AtOffset(token_pos);
    }
    // Bytes after the token up to the name offset's end.
    const size_t skip = ElementLayout(ctx_.chunk(), token_pos, r_.size());
    if (skip == 0) {
      return Status::Corruption("element start: no valid name offset").AtOffset(token_pos);
    }
    if (log_ != nullptr) {
      log_->layouts.push_back(CompileLog::Layout{token_pos - begin_, static_cast<uint8_t>(skip)});
    }
    uint16_t dependency = kNoDependency;
    if (skip == 10) ES_RETURN_IF_ERROR(r_.ReadU16("dependency id", &dependency));
    ES_RETURN_IF_ERROR(r_.Skip(4, "element size"));
    std::string_view name;
    ES_RETURN_IF_ERROR(NameField("element name", &name));
    if (token & 0x40) ES_RETURN_IF_ERROR(r_.Skip(4, "attribute list size"));
    open_.push_back(ops_->size());
    Op op = MakeOp(OpKind::kStartElement, name);
    // A fragment's root has no parent to be left out of: it is always
    // rendered (as evtx_dump renders it), whatever its DependencyId says.
    if (open_.size() > 1) op.dependency = dependency;
    return Push(op);
  }

  // u32 name offset; the name follows inline when the offset points here.
  Status NameField(const char* what, std::string_view* out) {
    uint32_t offset = 0;
    const size_t field = r_.pos();
    ES_RETURN_IF_ERROR(r_.ReadU32(what, &offset));
    ES_RETURN_IF_ERROR(ctx_.Name(offset, out));
    if (log_ != nullptr) {
      log_->names.push_back(
          CompileLog::NameRef{static_cast<uint32_t>(field - begin_), offset == r_.pos(), *out});
    }
    if (offset == r_.pos()) {
      const size_t size = NameSizeAt(ctx_.chunk(), offset);
      if (size == 0)
        return Status::Corruption(fmt::format("{}: bad inline name", what)).AtOffset(offset);
      ES_RETURN_IF_ERROR(r_.Skip(size, what));
    }
    return Status::OK();
  }

  // u16 character count | UTF-16LE.
  Status Utf16Field(const char* what, std::string_view* out) {
    uint16_t chars = 0;
    ES_RETURN_IF_ERROR(r_.ReadU16(what, &chars));
    std::span<const uint8_t> bytes;
    ES_RETURN_IF_ERROR(r_.ReadBytes(2 * size_t{chars}, what, &bytes));
    *out = Utf16LeToUtf8(bytes, &ctx_.arena());
    return Status::OK();
  }

  // Value token: u8 type, then the value. Only strings occur in practice;
  // fixed-size types are rendered to text here.
  Status ValueText(uint32_t token_pos) {
    uint8_t type = 0;
    ES_RETURN_IF_ERROR(r_.ReadU8("value type", &type));
    std::string_view text;
    if (type == kString) {
      ES_RETURN_IF_ERROR(Utf16Field("value text", &text));
    } else if (size_t size = FixedSizeOf(type); size != 0) {
      std::span<const uint8_t> bytes;
      ES_RETURN_IF_ERROR(r_.ReadBytes(size, "value", &bytes));
      std::string rendered;
      AppendValueText(ValueRef{type, bytes, 0}, &rendered);
      text = ctx_.arena().Copy(rendered);
    } else {
      return Status::Corruption(fmt::format("value token of type 0x{:02x}", type))
          .AtOffset(token_pos);
    }
    return Push(MakeOp(OpKind::kText, text));
  }

  // Template instance: u8 unknown | u32 template id | u32 definition offset |
  // [inline definition] | value array.
  Status TemplateInstance() {
    if (log_ != nullptr) log_->cacheable = false;  // its values sit at chunk offsets
    uint8_t unknown = 0;
    uint32_t template_id = 0, def_offset = 0;
    ES_RETURN_IF_ERROR(r_.ReadU8("template instance", &unknown));
    ES_RETURN_IF_ERROR(r_.ReadU32("template id", &template_id));
    const uint32_t def_field_pos = static_cast<uint32_t>(r_.pos());
    ES_RETURN_IF_ERROR(r_.ReadU32("template definition offset", &def_offset));
    const Template* tmpl = nullptr;
    ES_RETURN_IF_ERROR(ctx_.GetTemplate(def_offset, depth_ + 1, &tmpl));
    uint32_t id_in_def = 0;
    std::memcpy(&id_in_def, tmpl->guid, 4);
    if (id_in_def != template_id) {
      return Status::Corruption("template id does not match its definition")
          .AtOffset(def_field_pos);
    }
    if (def_offset == r_.pos()) {
      ES_RETURN_IF_ERROR(r_.Skip(24 + size_t{tmpl->data_size}, "inline template definition"));
    }
    const uint32_t values_offset = static_cast<uint32_t>(r_.pos());
    uint32_t values_end = 0;
    ES_RETURN_IF_ERROR(ReadValueArray(r_.data(), values_offset, nullptr, &values_end));
    ES_RETURN_IF_ERROR(r_.Seek(values_end, "template values"));
    Op op = MakeOp(OpKind::kTemplateInstance);
    op.offset = values_offset;
    op.tmpl = tmpl;
    return Push(op);
  }

  ChunkContext& ctx_;
  ByteReader r_;
  uint32_t begin_;
  int depth_;
  std::vector<Op>* ops_;
  size_t first_op_;
  std::vector<size_t> open_;  // indices of open kStartElement ops
  CompileLog* log_;
};

}  // namespace

Status ChunkContext::Name(uint32_t offset, std::string_view* out) {
  if (auto it = names_.find(offset); it != names_.end()) {
    *out = it->second;
    return Status::OK();
  }
  const size_t size = NameSizeAt(chunk_, offset);
  if (size == 0) return Status::Corruption("bad name structure").AtOffset(offset);
  *out = Utf16LeToUtf8(chunk_.subspan(size_t{offset} + 8, size - 10), &arena_);
  names_.emplace(offset, *out);
  return Status::OK();
}

Status ChunkContext::GetTemplate(uint32_t offset, int depth, const Template** out) {
  if (auto it = templates_.find(offset); it != templates_.end()) {
    if (it->second->compiling) {
      return Status::Corruption("template refers to itself").AtOffset(offset);
    }
    *out = it->second.get();
    return Status::OK();
  }
  // Definition: u32 next offset | GUID | u32 data size | data.
  ByteReader r(chunk_);
  auto t = std::make_unique<Template>();
  t->def_offset = offset;
  std::span<const uint8_t> guid;
  ES_RETURN_IF_ERROR(r.Seek(offset, "template definition"));
  ES_RETURN_IF_ERROR(r.Skip(4, "template next offset"));
  ES_RETURN_IF_ERROR(r.ReadBytes(16, "template GUID", &guid));
  std::memcpy(t->guid, guid.data(), 16);
  ES_RETURN_IF_ERROR(r.ReadU32("template data size", &t->data_size));
  if (t->data_size > r.remaining()) {
    return Status::Corruption("template data runs past the chunk").AtOffset(offset);
  }
  Template* raw = t.get();
  // Compiled in an earlier chunk? (Past kMaxNesting compiling fails, so the
  // cache is not asked there.)
  const bool use_cache = cache_ != nullptr && depth <= kMaxNesting;
  if (use_cache) {
    if (CachedTemplate* hit = cache_->Find(*this, offset, raw->guid, raw->data_size)) {
      raw->ops = hit->ops;
      raw->shared = hit;
      templates_.emplace(offset, std::move(t));
      *out = raw;
      return Status::OK();
    }
  }
  raw->compiling = true;
  templates_.emplace(offset, std::move(t));
  const uint32_t body = offset + 24;
  CompileLog log;
  Status s = CompileFragment(*this, body, body + raw->data_size, depth, &raw->own_ops,
                             use_cache ? &log : nullptr);
  raw->compiling = false;
  if (!s.ok()) {
    templates_.erase(offset);
    return s;
  }
  raw->ops = raw->own_ops;
  if (use_cache && log.cacheable) raw->shared = cache_->Insert(*this, offset, *raw, log);
  *out = raw;
  return Status::OK();
}

Status CompileFragment(ChunkContext& ctx, uint32_t begin, uint32_t end, int depth,
                       std::vector<Op>* ops, CompileLog* log) {
  return Compiler(ctx, begin, end, depth, ops, log).Run();
}

bool ParseSingleInstance(ChunkContext& ctx, uint32_t begin, uint32_t end, const Template** tmpl,
                         uint32_t* values_offset, std::vector<ValueRef>* values) {
  auto chunk = ctx.chunk();
  if (end > chunk.size()) return false;
  uint32_t head = 0, template_id = 0, def_offset = 0;
  // [0F 01 01 00] | 0C | u8 | u32 template id | u32 definition offset. Nested
  // BinXml values may omit the fragment header.
  if (ByteReader::LoadAt(chunk, begin, &head) && head == 0x0001010F) begin += 4;
  // The instance header must end by `end`, which is inside the chunk: one
  // check covers its three fields.
  if (size_t{begin} + 10 > end) return false;
  const uint8_t* instance = chunk.data() + begin;
  if (instance[0] != kTemplateInstanceTok) return false;
  std::memcpy(&template_id, instance + 2, 4);
  std::memcpy(&def_offset, instance + 6, 4);
  if (!ctx.GetTemplate(def_offset, 1, tmpl).ok()) return false;
  uint32_t id_in_def = 0;
  std::memcpy(&id_in_def, (*tmpl)->guid, 4);
  if (id_in_def != template_id) return false;
  uint64_t pos = begin + 10;
  if (def_offset == pos) pos += 24 + uint64_t{(*tmpl)->data_size};
  if (pos > end) return false;
  uint32_t values_end = 0;
  if (!ReadValueArray(chunk.first(end), static_cast<uint32_t>(pos), values, &values_end).ok()) {
    return false;
  }
  uint8_t next = 0;
  if (values_end < end && (!ByteReader::LoadAt(chunk, values_end, &next) || next != kEof))
    return false;
  *values_offset = static_cast<uint32_t>(pos);
  return true;
}

namespace {

// ReadValueArray's error for value `i`, the first that runs past the chunk.
[[gnu::cold]] Status ValueOutsideChunk(uint32_t i, uint16_t size, size_t have, size_t pos) {
  return Status::Truncated(
             fmt::format("substitution value {}: need {} bytes, have {}", i, size, have))
      .AtOffset(pos);
}

}  // namespace

Status ReadValueArray(std::span<const uint8_t> chunk, uint32_t offset,
                      std::vector<ValueRef>* values, uint32_t* end) {
  uint32_t count = 0;
  if (!ByteReader::LoadAt(chunk, offset, &count)) [[unlikely]] {
    // The ByteReader's own messages, for the same cases.
    ByteReader r(chunk);
    ES_RETURN_IF_ERROR(r.Seek(offset, "substitution array"));
    return r.ReadU32("substitution count", &count);
  }
  const size_t descriptors = size_t{offset} + 4;
  if (count > kMaxValues || size_t{count} * 4 > chunk.size() - descriptors) {
    return Status::Corruption(fmt::format("substitution count {} too large", count))
        .AtOffset(offset);
  }
  // The count check above keeps every descriptor inside the chunk, so they
  // are read straight from memory; each value's bytes are bounds-checked in
  // turn. One pass per record on the hot path: descriptors are 4 bytes
  // (u16 size, u8 type, u8 padding). Two loops, so the one that fills values
  // (nearly every call) does not ask per value whether to.
  const uint8_t* desc = chunk.data() + descriptors;
  size_t pos = descriptors + size_t{count} * 4;
  if (values == nullptr) {
    for (uint32_t i = 0; i < count; ++i) {
      uint16_t size = 0;
      std::memcpy(&size, desc + 4 * size_t{i}, 2);
      if (size > chunk.size() - pos) return ValueOutsideChunk(i, size, chunk.size() - pos, pos);
      pos += size;
    }
    *end = static_cast<uint32_t>(pos);
    return Status::OK();
  }
  // Every item is overwritten below, so resizing a reused vector constructs
  // nothing in steady state (clear() first would re-initialise them all).
  values->resize(count);
  ValueRef* out = values->data();
  for (uint32_t i = 0; i < count; ++i) {
    uint16_t size = 0;
    std::memcpy(&size, desc + 4 * size_t{i}, 2);
    if (size > chunk.size() - pos) return ValueOutsideChunk(i, size, chunk.size() - pos, pos);
    out[i].type = desc[4 * size_t{i} + 2];
    out[i].chunk_offset = static_cast<uint32_t>(pos);
    out[i].bytes = {chunk.data() + pos, size};  // inside: checked above
    pos += size;
  }
  *end = static_cast<uint32_t>(pos);
  return Status::OK();
}

void SplitArray(const ValueRef& v, std::vector<ValueRef>* items) {
  items->clear();
  const uint8_t base = v.type & ~kArrayFlag;
  std::span<const uint8_t> b = v.bytes;
  auto add = [&](size_t pos, size_t len) {
    items->push_back(
        ValueRef{base, b.subspan(pos, len), v.chunk_offset + static_cast<uint32_t>(pos)});
  };
  if (base == kString) {
    size_t n = b.size() & ~size_t{1};
    // The last item's terminator ends the array, it does not start an item.
    if (n >= 2 && b[n - 1] == 0 && b[n - 2] == 0) n -= 2;
    size_t start = 0;
    for (size_t pos = 0; pos + 1 < n; pos += 2) {
      if (b[pos] == 0 && b[pos + 1] == 0) {
        add(start, pos - start);
        start = pos + 2;
      }
    }
    add(start, n >= start ? n - start : 0);
  } else if (base == kSid) {
    size_t pos = 0;
    while (pos + 8 <= b.size()) {
      const size_t len = 8 + 4 * size_t{b[pos + 1]};
      if (pos + len > b.size()) break;
      add(pos, len);
      pos += len;
    }
  } else {
    size_t size = base == kSizeT ? 8 : FixedSizeOf(base);
    if (size == 0 || b.size() % size != 0) size = b.size();  // unsplittable: one item
    for (size_t pos = 0; size != 0 && pos < b.size(); pos += size) add(pos, size);
  }
  if (items->empty()) add(0, 0);
}

std::vector<Op>& Walker::OpScratch(int depth) {
  if (op_scratch_.size() <= static_cast<size_t>(depth)) op_scratch_.resize(depth + 1);
  return op_scratch_[depth];
}

std::vector<ValueRef>& Walker::ValueScratch(int depth) {
  if (value_scratch_.size() <= static_cast<size_t>(depth)) value_scratch_.resize(depth + 1);
  return value_scratch_[depth];
}

Status Walker::WalkFragment(uint32_t begin, uint32_t end, BinXmlVisitor& visitor) {
  visitor_ = &visitor;
  ops_walked_ = 0;
  return Fragment(begin, end, 0);
}

Status Walker::Fragment(uint32_t begin, uint32_t end, int depth) {
  if (depth > kMaxNesting)
    return Status::ResourceExhausted("BinXml nested too deeply").AtOffset(begin);
  // Take the buffer out while it is in use: deeper levels may grow
  // op_scratch_, which would move the vector we iterate.
  std::vector<Op> ops = std::move(OpScratch(depth));
  ops.clear();
  Status s = CompileFragment(ctx_, begin, end, depth, &ops);
  if (s.ok()) s = Ops(ops, {}, depth);
  OpScratch(depth) = std::move(ops);
  return s;
}

Status Walker::Instance(const Op& op, int depth) {
  std::vector<ValueRef> values = std::move(ValueScratch(depth));
  uint32_t end = 0;
  Status s = ReadValueArray(ctx_.chunk(), op.offset, &values, &end);
  if (s.ok()) s = Ops(op.tmpl->ops, values, depth + 1);
  ValueScratch(depth) = std::move(values);
  return s;
}

Status Walker::Substitute(const Op& op, std::span<const ValueRef> values, int depth) {
  if (&op == override_op_) {
    visitor_->Value(override_value_);
    return Status::OK();
  }
  if (op.index >= values.size()) {
    ++missing_values_;
    return Status::OK();
  }
  const ValueRef& v = values[op.index];
  if (v.is_null()) return Status::OK();
  if (v.type == kBinXml) {
    return Fragment(v.chunk_offset, v.chunk_offset + static_cast<uint32_t>(v.bytes.size()),
                    depth + 1);
  }
  visitor_->Value(v);
  return Status::OK();
}

Status Walker::Element(std::span<const Op> ops, size_t i, std::span<const ValueRef> values,
                       int depth, size_t* next) {
  const Op& op = ops[i];
  const size_t end = std::min<size_t>(std::max<size_t>(op.end, i + 1), ops.size());
  // MS-EVEN6 2.2.12: an element whose DependencyId names a NULL value is not
  // rendered; a value past the array is not NULL.
  if (op.dependency < values.size() && values[op.dependency].is_null()) {
    *next = end;
    return Status::OK();
  }
  if (op.single_subst != 0 && i + op.single_subst - 1 < end) {
    const Op& sub = ops[i + op.single_subst - 1];
    if (&sub != override_op_) {
      const bool missing = sub.index >= values.size();
      const ValueRef* v = missing ? nullptr : &values[sub.index];
      if ((missing || v->is_null()) && sub.optional) {
        *next = end;  // an optional NULL drops the whole element
        return Status::OK();
      }
      if (v != nullptr && v->is_array() && (v->type & ~kArrayFlag) != kBinXml) {
        // The element repeats once per array item.
        std::vector<ValueRef> items;
        SplitArray(*v, &items);
        const Op* saved_op = override_op_;
        const ValueRef saved_value = override_value_;
        Status s;
        for (const ValueRef& item : items) {
          override_op_ = &sub;
          override_value_ = item;
          s = Ops(ops.subspan(i, end - i), values, depth);
          if (!s.ok()) break;
        }
        override_op_ = saved_op;
        override_value_ = saved_value;
        *next = end;
        return s;
      }
    }
  }
  if (!visitor_->StartElement(op.text)) {
    visitor_->EndElement(op.text, true);
    *next = end;
  }
  return Status::OK();
}

Status Walker::Ops(std::span<const Op> ops, std::span<const ValueRef> values, int depth) {
  if (depth > kMaxNesting) return Status::ResourceExhausted("templates nested too deeply");
  auto is_null_part = [&](const Op& p) {
    return p.kind == OpKind::kSubstitution &&
           (p.index >= values.size() || RendersEmpty(values[p.index]));
  };
  for (size_t i = 0; i < ops.size(); ++i) {
    if (++ops_walked_ > kMaxOpsPerRecord) {
      return Status::ResourceExhausted("record expands to too many BinXml tokens");
    }
    const Op& op = ops[i];
    switch (op.kind) {
      case OpKind::kStartElement: {
        size_t next = i + 1;
        ES_RETURN_IF_ERROR(Element(ops, i, values, depth, &next));
        i = next - 1;
        break;
      }
      case OpKind::kAttribute: {
        size_t j = i + 1;
        bool all_null = true;
        while (j < ops.size() &&
               (ops[j].kind == OpKind::kText || ops[j].kind == OpKind::kSubstitution ||
                ops[j].kind == OpKind::kCharRef || ops[j].kind == OpKind::kEntityRef)) {
          all_null = all_null && is_null_part(ops[j]);
          ++j;
        }
        // An attribute with no value, or only NULL substitutions, is left out,
        // as Event Viewer does (<Security UserID=...> with no user).
        if (all_null) {
          i = j - 1;
          break;
        }
        visitor_->Attribute(op.text);
        for (size_t k = i + 1; k < j; ++k) {
          const Op& part = ops[k];
          switch (part.kind) {
            case OpKind::kText:
              visitor_->Text(part.text);
              break;
            case OpKind::kCharRef:
              visitor_->CharRef(part.index);
              break;
            case OpKind::kEntityRef:
              visitor_->EntityRef(part.text);
              break;
            default:
              ES_RETURN_IF_ERROR(Substitute(part, values, depth));
              break;
          }
        }
        visitor_->AttributeEnd();
        i = j - 1;
        break;
      }
      case OpKind::kCloseStart:
        visitor_->StartContent();
        break;
      case OpKind::kCloseEmpty:
      case OpKind::kEndElement:
        visitor_->EndElement(op.text, false);
        break;
      case OpKind::kText:
        visitor_->Text(op.text);
        break;
      case OpKind::kCData:
        visitor_->CData(op.text);
        break;
      case OpKind::kCharRef:
        visitor_->CharRef(op.index);
        break;
      case OpKind::kEntityRef:
        visitor_->EntityRef(op.text);
        break;
      case OpKind::kPiTarget: {
        std::string_view data;
        if (i + 1 < ops.size() && ops[i + 1].kind == OpKind::kPiData) data = ops[++i].text;
        visitor_->Pi(op.text, data);
        break;
      }
      case OpKind::kPiData:
        visitor_->Pi({}, op.text);
        break;
      case OpKind::kSubstitution:
        ES_RETURN_IF_ERROR(Substitute(op, values, depth));
        break;
      case OpKind::kTemplateInstance:
        ES_RETURN_IF_ERROR(Instance(op, depth));
        break;
    }
  }
  return Status::OK();
}

}  // namespace eventsift::evtx
