#include "parsers/evtx/event_builder.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "src/core/time_util.h"
#include "src/core/utf16.h"

namespace eventsift::evtx {

namespace {

// "123", "0x1f" (Keywords, forwarded events store numbers as text).
uint64_t ParseNumber(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  uint64_t v = 0;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    std::from_chars(s.data() + 2, s.data() + s.size(), v, 16);
  } else {
    std::from_chars(s.data(), s.data() + s.size(), v, 10);
  }
  return v;
}

void AppendCodePoint(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // a lone surrogate
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

void EventBuilder::Begin(Event* event) {
  event_ = event;
  depth_ = 0;
  section_ = Section::kNone;
  elem_target_ = attr_target_ = Target::kNone;
  in_attribute_ = false;
  gate_asked_ = payload_skipped_ = payload_wanted_ = false;
  pending_name_ = {};
  system_element_ = {};
  elem_text_.clear();
  attr_text_.clear();
  parts_ = 0;
  pending_value_ = false;
  json_head_ = json_stale_ = false;
  if (json_ != nullptr) json_->Rewind(json_start_);
  json_keys_.Reset();
  json_key_plan_ = nullptr;
  json_planned_keys_ = 0;
}

bool EventBuilder::FinishJson(const EventJsonOptions& opts) {
  if (json_stale_) return false;
  StartJsonPayload();
  json_keys_.Close(*json_);
  WriteEventJsonTail(*event_, opts, *json_);
  return true;
}

void EventBuilder::EmitData(std::string_view name, std::string_view json_key) {
  if (json_ == nullptr) {
    event_->data.push_back(DataField{name, TakeString()});
    return;
  }
  WriteJsonValue(StartJsonField(name, json_key));
}

std::string_view EventBuilder::StartJsonField(std::string_view name, std::string_view planned) {
  StartJsonPayload();
  if (!planned.empty()) {
    json_keys_.Close(*json_);
    json_keys_.Add(name, json_->pos() + planned.size());
    return planned;
  }
  return json_keys_.Begin(*json_, name);
}

std::string_view EventBuilder::PlannedJsonKey(const EventPlan& plan, const PlanItem& item) {
  // By induction every planned key so far was data field i of this plan at
  // position i, so the fields so far are the plan's fields 0..count-1, the
  // names its key for `item` was computed after.
  const size_t count = json_keys_.size();
  if (item.follows_same_name) return {};  // may continue an array
  if (item.data_index < 0 || static_cast<size_t>(item.data_index) != count ||
      json_planned_keys_ != count || (count != 0 && json_key_plan_ != &plan) ||
      count >= plan.data_json_keys.size()) {
    return {};
  }
  json_key_plan_ = &plan;
  ++json_planned_keys_;
  return plan.data_json_keys[count];
}

void EventBuilder::WriteJsonValue(std::string_view prefix) {
  if (!pending_value_) {
    json_->StringAfter(prefix, Buffer());
    return;
  }
  // One typed value: written from its bytes, without TakeString's copy.
  pending_value_ = false;
  WriteJsonValueOf(prefix, single_value_);
}

void EventBuilder::WriteJsonValueOf(std::string_view prefix, const ValueRef& v) {
  if (v.type == kString) {
    json_->Utf16StringAfter(prefix, TrimUtf16Nuls(v.bytes));  // TakeString's text
    return;
  }
  // Scalars and binary are ASCII that needs no escaping: written in place.
  const size_t room = v.type == kBinary ? 2 * v.bytes.size() : kMaxScalarText;
  char* p = json_->Reserve(prefix.size() + 2 + room);
  if (!prefix.empty()) std::memcpy(p, prefix.data(), prefix.size());
  p[prefix.size()] = '"';
  char* end = v.type == kBinary ? WriteHexUpper(v.bytes, p + prefix.size() + 1)
                                : WriteScalarText(v, p + prefix.size() + 1);
  if (end != nullptr) {
    *end++ = '"';
    json_->Advance(end);
    return;
  }
  value_text_.clear();
  AppendValueText(v, &value_text_);
  json_->StringAfter(prefix, value_text_);
}

bool EventBuilder::StartElement(std::string_view name) {
  ++depth_;
  const int d = depth_;
  if (d < kMaxTrackedDepth) has_child_[d] = false;
  if (d - 1 >= 0 && d - 1 < kMaxTrackedDepth) has_child_[d - 1] = true;
  elem_target_ = Target::kNone;
  in_attribute_ = false;
  ResetParts();
  if (d == 2) {
    if (name == "System") {
      section_ = Section::kSystem;
    } else if (name == "EventData" || name == "UserData") {
      section_ = name == "EventData" ? Section::kEventData : Section::kUserData;
      if (!gate_asked_ && gate_ != nullptr) {
        gate_asked_ = true;
        if (!gate_(gate_ctx_, *event_)) {
          payload_skipped_ = true;
          return false;
        }
      }
      if (payload_skipped_) return false;
      StartJsonPayload();
    } else {
      section_ = Section::kOther;
    }
    return true;
  }
  if (section_ == Section::kSystem && d == 3) {
    system_element_ = name;
    elem_target_ = SystemElementTarget(name);
  } else if (section_ == Section::kEventData && d == 3) {
    // <Data Name="x">; other children (<Binary>) are named after themselves.
    pending_name_ = name == "Data" ? std::string_view() : name;
    elem_target_ = Target::kDataValue;
  } else if (section_ == Section::kUserData && d >= 4) {
    pending_name_ = name;
    elem_target_ = Target::kDataValue;
  }
  return true;
}

void EventBuilder::Attribute(std::string_view name) {
  in_attribute_ = true;
  attr_target_ = Target::kNone;
  ResetParts();
  if (section_ == Section::kSystem && depth_ == 3) {
    attr_target_ = SystemAttributeTarget(system_element_, name);
  } else if (section_ == Section::kEventData && depth_ == 3 && name == "Name") {
    attr_target_ = Target::kDataName;
  }
}

void EventBuilder::AttributeEnd() {
  Assign(attr_target_);
  attr_target_ = Target::kNone;
  in_attribute_ = false;
  ResetParts();
}

void EventBuilder::EndElement(std::string_view name, bool skipped) {
  const int d = depth_;
  if (!skipped) {
    if (section_ == Section::kSystem && d == 3) {
      Assign(elem_target_);
    } else if ((section_ == Section::kEventData && d == 3) ||
               (section_ == Section::kUserData && d >= 4 &&
                !(d < kMaxTrackedDepth && has_child_[d]))) {
      if (elem_target_ == Target::kDataValue) EmitData(pending_name_);
    }
  }
  elem_target_ = Target::kNone;
  ResetParts();
  if (d == 2) section_ = Section::kNone;
  if (depth_ > 0) --depth_;
}

void EventBuilder::FlushPending() {
  if (pending_value_) {
    AppendValueText(single_value_, &Buffer());
    pending_value_ = false;
  }
}

void EventBuilder::Text(std::string_view utf8) {
  if (!Collecting()) return;
  FlushPending();
  Buffer().append(utf8);
  ++parts_;
}

void EventBuilder::Value(const ValueRef& v) {
  if (!Collecting()) return;
  if (parts_ == 0) {
    single_value_ = v;
    pending_value_ = true;
  } else {
    FlushPending();
    AppendValueText(v, &Buffer());
  }
  ++parts_;
}

void EventBuilder::CharRef(uint16_t unit) {
  if (!Collecting()) return;
  FlushPending();
  AppendCodePoint(&Buffer(), unit);
  ++parts_;
}

void EventBuilder::EntityRef(std::string_view name) {
  if (!Collecting()) return;
  FlushPending();
  std::string& b = Buffer();
  if (name == "lt") {
    b.push_back('<');
  } else if (name == "gt") {
    b.push_back('>');
  } else if (name == "amp") {
    b.push_back('&');
  } else if (name == "quot") {
    b.push_back('"');
  } else if (name == "apos") {
    b.push_back('\'');
  } else {
    b.push_back('&');
    b.append(name);
    b.push_back(';');
  }
  ++parts_;
}

void EventBuilder::ApplyFilterFieldsAndAsk(const EventPlan& plan,
                                           std::span<const ValueRef> values) {
  for (const PlanItem& item : plan.filter_items) ApplyField(plan, item, values);
  // The payload starts after them, in this plan or in a nested instance's
  // (Security's EventData): ask once, and the nested plan will not ask again.
  if (plan.gate_after_filter) {
    gate_asked_ = true;
    payload_skipped_ = !gate_(gate_ctx_, *event_);
  }
}

bool EventBuilder::ApplyPlan(const EventPlan& plan, std::span<const ValueRef> values,
                             NestedLookup nested, void* nested_ctx, bool header_only) {
  return ApplyItems(plan, values, nested, nested_ctx, header_only, 1);
}

bool EventBuilder::ApplyItems(const EventPlan& plan, std::span<const ValueRef> values,
                              NestedLookup nested, void* nested_ctx, bool header_only, int level) {
  // Lean mode: most records are declined by the gate, and for those only the
  // filter's fields are worth filling.
  const bool filter_done = lean_declined_ && gate_ != nullptr && !gate_asked_;
  if (filter_done) {
    ApplyFilterFieldsAndAsk(plan, values);
    if (payload_skipped_) return true;
  }
  for (const PlanItem& item : plan.items) {
    if (item.kind == PlanItem::kNested) {
      if (!ApplyNested(item, values, nested, nested_ctx, level)) return false;
      if (payload_skipped_) return true;
      continue;
    }
    if (item.kind == PlanItem::kPayloadStart) {
      if (!gate_asked_ && gate_ != nullptr) {
        gate_asked_ = true;
        if (!gate_(gate_ctx_, *event_)) {
          payload_skipped_ = true;
          return true;
        }
      }
      if (header_only) {
        payload_wanted_ = true;
        return true;
      }
      StartJsonPayload();
      continue;
    }
    if (filter_done && IsLeanTarget(item.target)) continue;  // filled before the gate
    if (item.repeat && static_cast<size_t>(item.subst) < values.size() &&
        values[item.subst].is_array()) {
      ApplyRepeated(plan, item, values[item.subst]);
      continue;
    }
    ApplyField(plan, item, values);
  }
  return true;
}

void EventBuilder::ApplyRepeated(const EventPlan& plan, const PlanItem& item,
                                 const ValueRef& array) {
  // The walker walks the element once per item (SplitArray), its only
  // content rendering that item.
  SplitArray(array, &array_items_);
  PlanItem one = item;
  one.subst = 0;
  one.drop_if_null = -1;  // an array is not NULL: the element stays
  for (const ValueRef& v : array_items_) ApplyField(plan, one, std::span<const ValueRef>(&v, 1));
}

bool EventBuilder::ApplyNested(const PlanItem& item, std::span<const ValueRef> values,
                               NestedLookup nested, void* nested_ctx, int level) {
  // As the walker's Substitute: a missing or NULL value expands to nothing,
  // and neither does one of another type (its text would land in an element
  // the builder does not collect: <Event>, EventData/UserData or a UserData
  // element with children). An array is the walker's to repeat.
  if (static_cast<size_t>(item.subst) >= values.size()) return true;
  const ValueRef& v = values[item.subst];
  if (v.is_null()) return true;
  if (v.is_array()) return false;
  if (v.type != kBinXml) return true;
  const NestedFrame* frame = nested != nullptr ? nested(nested_ctx, item, v, level) : nullptr;
  if (frame == nullptr) return false;
  return ApplyItems(*frame->plan, frame->values, nested, nested_ctx, false, level + 1);
}

void EventBuilder::ApplyField(const EventPlan& plan, const PlanItem& item,
                              std::span<const ValueRef> values) {
  if (item.drop_if_null >= 0 && (static_cast<size_t>(item.drop_if_null) >= values.size() ||
                                 values[item.drop_if_null].is_null())) {
    return;  // the walker drops the whole element
  }
  const ValueRef* v = nullptr;
  if (item.subst >= 0 && static_cast<size_t>(item.subst) < values.size()) v = &values[item.subst];
  if (json_ != nullptr && item.target == Target::kDataValue && item.subst >= 0) {
    // Direct JSON of a substituted data value: what Value() + EmitData()
    // write, without collecting parts (most items of a record are these).
    const std::string_view prefix = StartJsonField(item.name, PlannedJsonKey(plan, item));
    if (v == nullptr || v->is_null()) {
      json_->StringAfter(prefix, {});
    } else {
      WriteJsonValueOf(prefix, *v);
    }
    return;
  }
  if (item.attribute && item.subst >= 0 && (v == nullptr || RendersEmpty(*v))) return;
  // Numbers straight from their value: what Value() + Assign() would store,
  // without the text machinery (most header items are numbers).
  if (v != nullptr && AssignNumber(item.target, *v)) return;
  // A header string written into the template (the Computer of many
  // logs): the event points at the plan's text, which outlives it (the
  // chunk's arena or the template cache's), instead of a copy per record.
  if (v == nullptr && item.subst < 0 && AssignLiteral(item.target, item.literal)) return;
  in_attribute_ = item.attribute;
  (item.attribute ? attr_target_ : elem_target_) = item.target;
  ResetParts();
  if (v != nullptr) {
    if (!v->is_null()) Value(*v);
  } else if (item.subst < 0 && !item.literal.empty()) {
    Text(item.literal);
  }
  if (item.target == Target::kDataValue) {
    EmitData(item.name, json_ != nullptr ? PlannedJsonKey(plan, item) : std::string_view());
  } else {
    Assign(item.target);
  }
  ResetParts();
  in_attribute_ = false;
  attr_target_ = elem_target_ = Target::kNone;
}

inline void EventBuilder::StoreNumber(Target target, uint64_t n) {
  Event& e = *event_;
  switch (target) {
    case Target::kEventId:
      e.event_id = static_cast<uint32_t>(n);
      break;
    case Target::kQualifiers:
      e.qualifiers = static_cast<uint16_t>(n);
      e.has_qualifiers = true;
      break;
    case Target::kVersion:
      e.version = static_cast<uint8_t>(n);
      break;
    case Target::kLevel:
      e.level = static_cast<uint8_t>(n);
      break;
    case Target::kTask:
      e.task = static_cast<uint16_t>(n);
      break;
    case Target::kOpcode:
      e.opcode = static_cast<uint8_t>(n);
      break;
    case Target::kKeywords:
      e.keywords = n;
      break;
    case Target::kProcessId:
      e.process_id = static_cast<uint32_t>(n);
      break;
    case Target::kThreadId:
      e.thread_id = static_cast<uint32_t>(n);
      break;
    case Target::kEventRecordId:
      e.record_id = n;
      break;
    default:
      break;
  }
}

inline bool EventBuilder::AssignNumber(Target target, const ValueRef& v) {
  Event& e = *event_;
  uint64_t n = 0;
  if (target == Target::kSystemTime) {
    if (v.type != kFileTime || !ValueAsUInt64(v, &n)) return false;
    CheckHeaderOrder(target);
    e.time = static_cast<FileTime>(n);
    return true;
  }
  // The numeric targets are the eleven from kEventId to kEventRecordId in
  // event_plan.h's order (kSystemTime among them is handled above); a target
  // added inside that range breaks this assertion.
  static_assert(static_cast<int>(Target::kEventRecordId) - static_cast<int>(Target::kEventId) ==
                10);
  if (target < Target::kEventId || target > Target::kEventRecordId) return false;
  if (!ValueAsUInt64(v, &n)) return false;
  CheckHeaderOrder(target);  // Assign's check, on this path that skips it
  StoreNumber(target, n);
  return true;
}

inline bool EventBuilder::AssignLiteral(Target target, std::string_view literal) {
  std::string_view* field = nullptr;
  switch (target) {
    case Target::kProviderName:
      field = &event_->provider;
      break;
    case Target::kChannel:
      field = &event_->channel;
      break;
    case Target::kComputer:
      field = &event_->computer;
      break;
    case Target::kUserId:
      field = &event_->user_sid;
      break;
    default:
      return false;
  }
  CheckHeaderOrder(target);  // Assign's check, on this path that skips it
  *field = literal;
  return true;
}

std::string_view EventBuilder::TakeString() {
  if (pending_value_ && single_value_.type == kString) {
    // One UTF-16 value: convert straight into the arena, without its NULs.
    pending_value_ = false;
    return Utf16LeToUtf8(TrimUtf16Nuls(single_value_.bytes), arena_);
  }
  FlushPending();
  return arena_->Copy(Buffer());
}

std::string_view EventBuilder::TakeStringMemo(Memo* memo) {
  if (!pending_value_) return TakeString();
  const ValueRef& v = single_value_;
  if (memo->type == v.type && memo->raw.size() == v.bytes.size() &&
      std::equal(v.bytes.begin(), v.bytes.end(), memo->raw.begin())) {
    pending_value_ = false;
    return memo->text;
  }
  memo->type = v.type;
  memo->raw = v.bytes;
  memo->text = TakeString();
  return memo->text;
}

uint64_t EventBuilder::TakeNumber() {
  uint64_t v = 0;
  if (pending_value_ && ValueAsUInt64(single_value_, &v)) {
    pending_value_ = false;
    return v;
  }
  FlushPending();
  return ParseNumber(Buffer());
}

void EventBuilder::Assign(Target target) {
  CheckHeaderOrder(target);
  Event& e = *event_;
  switch (target) {
    case Target::kNone:
    case Target::kDataValue:
      return;
    case Target::kProviderName:
      e.provider = TakeStringMemo(&provider_memo_);
      return;
    case Target::kEventSourceName:
      if (e.provider.empty()) e.provider = TakeString();
      return;
    case Target::kProviderGuid:
      // Every record of a provider carries the same GUID: format it once.
      if (pending_value_ && single_value_.type == kGuid && single_value_.bytes.size() == 16 &&
          !last_guid_text_.empty() &&
          std::equal(single_value_.bytes.begin(), single_value_.bytes.end(), last_guid_)) {
        pending_value_ = false;
        e.provider_guid = last_guid_text_;
        return;
      }
      if (pending_value_ && single_value_.type == kGuid && single_value_.bytes.size() == 16) {
        std::copy(single_value_.bytes.begin(), single_value_.bytes.end(), last_guid_);
        e.provider_guid = last_guid_text_ = TakeString();
        return;
      }
      e.provider_guid = TakeString();
      return;
    case Target::kEventId:
    case Target::kQualifiers:
    case Target::kVersion:
    case Target::kLevel:
    case Target::kTask:
    case Target::kOpcode:
    case Target::kKeywords:
    case Target::kProcessId:
    case Target::kThreadId:
    case Target::kEventRecordId:
      StoreNumber(target, TakeNumber());
      return;
    case Target::kSystemTime:
      if (pending_value_ && single_value_.type == kFileTime) {
        uint64_t t = 0;
        ValueAsUInt64(single_value_, &t);
        e.time = static_cast<FileTime>(t);
        pending_value_ = false;
      } else {
        FlushPending();
        if (auto t = ParseEventTime(Buffer())) e.time = *t;
      }
      return;
    case Target::kChannel:
      e.channel = TakeStringMemo(&channel_memo_);
      return;
    case Target::kComputer:
      e.computer = TakeStringMemo(&computer_memo_);
      return;
    case Target::kUserId:
      e.user_sid = TakeStringMemo(&user_memo_);
      return;
    case Target::kDataName:
      pending_name_ = TakeString();
      return;
  }
}

}  // namespace eventsift::evtx
