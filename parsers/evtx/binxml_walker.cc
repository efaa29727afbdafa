#include "parsers/evtx/binxml_walker.h"

#include <algorithm>

#include <fmt/format.h>

namespace eventsift::evtx {

std::vector<Op>& Walker::OpScratch(int depth) {
  if (op_scratch_.size() <= static_cast<size_t>(depth)) op_scratch_.resize(depth + 1);
  return op_scratch_[depth];
}

std::vector<ValueRef>& Walker::ValueScratch(int depth) {
  if (value_scratch_.size() <= static_cast<size_t>(depth)) value_scratch_.resize(depth + 1);
  return value_scratch_[depth];
}

Status Walker::WalkFragment(uint32_t begin, uint32_t end, BinXmlVisitor& visitor) {
  if (chunk_text_bytes_ > kMaxChunkTextBytes) {
    return Status::ResourceExhausted(
        fmt::format("the chunk's records render past {} MiB", kMaxChunkTextBytes >> 20));
  }
  visitor_ = &visitor;
  ops_walked_ = 0;
  text_bytes_ = 0;
  Status s = Fragment(begin, end, 0);
  chunk_text_bytes_ += text_bytes_;
  return s;
}

Status Walker::Exhausted() const {
  if (ops_walked_ > kMaxRecordNodes) {
    return Status::ResourceExhausted(fmt::format("record expands past {} nodes", kMaxRecordNodes));
  }
  return Status::ResourceExhausted(
      fmt::format("record renders past {} MiB", kMaxRecordTextBytes >> 20));
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
    text_bytes_ += override_value_.bytes.size();
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
  text_bytes_ += v.bytes.size();
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
    const Op& op = ops[i];
    // One check for both bounds; an element's name counts twice (start and
    // end tag, each an op).
    text_bytes_ += op.text.size();
    if (++ops_walked_ > kMaxRecordNodes || text_bytes_ > kMaxRecordTextBytes) [[unlikely]] {
      return Exhausted();
    }
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
          text_bytes_ += part.text.size();
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
