#include "parsers/evtx/binxml_compiler.h"

#include <algorithm>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "parsers/evtx/chunk_context.h"
#include "parsers/evtx/value_array.h"
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

}  // namespace eventsift::evtx
