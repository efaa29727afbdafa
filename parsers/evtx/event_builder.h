#pragma once
// Fills an Event from a walked record: <System> fields, then EventData /
// UserData as ordered name -> value pairs (docs/dump-format.md). Strings are
// copied into the caller's arena, so the Event lives as long as that arena.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/evtx/binxml.h"
#include "parsers/evtx/event_plan.h"
#include "src/core/arena.h"
#include "src/core/json_writer.h"
#include "src/event/event.h"
#include "src/event/event_json.h"

namespace eventsift::evtx {

class EventBuilder : public BinXmlVisitor {
 public:
  // Asked once, when the payload (EventData/UserData) starts, with the System
  // fields filled; false skips the payload. May be null (always decode).
  using PayloadGate = bool (*)(void* ctx, const Event& header);

  // `arena` must outlive every Event built with it.
  explicit EventBuilder(Arena* arena, PayloadGate gate = nullptr, void* gate_ctx = nullptr)
      : arena_(arena), gate_(gate), gate_ctx_(gate_ctx) {}

  // Starts a record; `event` must stay valid until the walk ends.
  void Begin(Event* event);

  bool StartElement(std::string_view name) override;
  void Attribute(std::string_view name) override;
  void AttributeEnd() override;
  void StartContent() override {}
  void EndElement(std::string_view name, bool skipped) override;
  void Text(std::string_view utf8) override;
  void Value(const ValueRef& v) override;
  void CharRef(uint16_t unit) override;
  void EntityRef(std::string_view name) override;
  void CData(std::string_view utf8) override { Text(utf8); }
  void Pi(std::string_view, std::string_view) override {}

  // Fills the started event from a template's plan and the record's values
  // instead of a walk (PlanFits(plan, values) must hold).
  // `nested` resolves the BinXml value of a kNested item, when the item is
  // reached (not before the gate), to its instance's plan and values at
  // nesting `level` (1: the record's own items); null when the plan cannot
  // fill it (not a single template instance, values that do not fit, nested
  // too deeply).
  struct NestedFrame {
    const EventPlan* plan;
    std::span<const ValueRef> values;
  };
  using NestedLookup = const NestedFrame* (*)(void* ctx, const PlanItem& item,
                                              const ValueRef& value, int level);
  // With `header_only` (PlanFitsHeader holds), filling stops at the payload
  // once the gate has been asked: if it said yes, payload_wanted() is set and
  // the record must be walked after Begin() and PresetGate(true).
  // Returns false when a nested instance cannot be filled from its plan: the
  // event is then partly filled, and the record must be walked after Begin()
  // (and PresetGate(true) if gate_asked(): the gate said yes).
  bool ApplyPlan(const EventPlan& plan, std::span<const ValueRef> values,
                 NestedLookup nested = nullptr, void* nested_ctx = nullptr,
                 bool header_only = false);
  bool payload_wanted() const { return payload_wanted_; }
  bool gate_asked() const { return gate_asked_; }
  // The gate's answer for this record is known: it is not asked again.
  void PresetGate(bool want) {
    gate_asked_ = true;
    payload_skipped_ = !want;
  }

  // Whether the gate was asked and said no (the payload was skipped).
  bool payload_skipped() const { return payload_skipped_; }

  // Direct JSON (`dump --format jsonl`): the record's JSON object is written
  // into `c` while it is decoded, as AppendEventJson would write it: the head
  // when the payload starts (the System fields are all known by then), each
  // data value straight from its typed value, never copied into the arena;
  // Event::data stays empty. Null (the default) collects Event::data instead.
  // Begin() rewinds `c` to where it stood here, so a record decoded again
  // from a clean start is written again from its start.
  void set_json(JsonCursor* c) {
    json_ = c;
    json_start_ = c != nullptr ? c->pos() : 0;
  }
  // Ends the record's JSON (the head if no payload came, then the tail).
  // False if the text cannot be the event's: a System field was decoded after
  // the payload started (no writer puts one there, but a file may); the
  // caller then decodes the record again without JSON and renders its Event.
  bool FinishJson(const EventJsonOptions& opts);

  // EventHandler::FullHeaderWhenDeclined() == false: ApplyPlan fills only
  // the header filter's fields and the record's key (IsLeanTarget) before
  // asking the gate, and
  // the rest of the header only when the payload is wanted.
  void set_lean_declined(bool lean) { lean_declined_ = lean; }

 private:
  enum class Section : uint8_t { kNone, kSystem, kEventData, kUserData, kOther };
  static constexpr int kMaxTrackedDepth = 64;

  void Assign(Target target);
  // A data field named `name` whose text is the collected parts: stored in
  // Event::data, or written as JSON in direct JSON mode, after `json_key`
  // (the plan's precomputed key text) or else the key DataKeys gives.
  void EmitData(std::string_view name, std::string_view json_key = {});
  // Direct JSON: the plan's precomputed key text for a data item, if the
  // record's fields so far are the plan's fields before it; else empty.
  std::string_view PlannedJsonKey(const EventPlan& plan, const PlanItem& item);
  // Direct JSON: starts a data field named `name`; returns the text to write
  // before its value (`planned`, a plan's precomputed key text, if not empty;
  // else ":" after the key DataKeys gives, written here).
  std::string_view StartJsonField(std::string_view name, std::string_view planned);
  // Direct JSON: `prefix`, then the collected value as a JSON string.
  void WriteJsonValue(std::string_view prefix);
  // Direct JSON: `prefix`, then the text of one typed value as a JSON string.
  void WriteJsonValueOf(std::string_view prefix, const ValueRef& v);
  // Direct JSON: the head, once, when the payload starts.
  void StartJsonPayload() {
    if (json_ != nullptr && !json_head_) {
      WriteEventJsonHead(*event_, *json_);
      json_head_ = true;
    }
  }
  // Direct JSON: a System field arriving after the head was written.
  void CheckHeaderOrder(Target target) {
    if (json_head_ && target != Target::kNone && target != Target::kDataValue &&
        target != Target::kDataName) {
      json_stale_ = true;
    }
  }
  // ApplyPlan for the items of a plan at nesting `level`.
  bool ApplyItems(const EventPlan& plan, std::span<const ValueRef> values, NestedLookup nested,
                  void* nested_ctx, bool header_only, int level);
  // A `repeat` item whose value is an array: one field per item.
  void ApplyRepeated(const EventPlan& plan, const PlanItem& item, const ValueRef& array);
  // A kNested item: false when its value needs the walker.
  bool ApplyNested(const PlanItem& item, std::span<const ValueRef> values, NestedLookup nested,
                   void* nested_ctx, int level);
  // One kField item of a plan: what the walker would store for it.
  void ApplyField(const EventPlan& plan, const PlanItem& item, std::span<const ValueRef> values);
  // Lean mode's first pass: the filter fields of the header, then the gate
  // where the payload (or a nested instance holding it) starts; a plan with
  // no payload leaves the gate unasked.
  void ApplyFilterFieldsAndAsk(const EventPlan& plan, std::span<const ValueRef> values);
  bool Collecting() const {
    return in_attribute_ ? attr_target_ != Target::kNone : elem_target_ != Target::kNone;
  }
  std::string& Buffer() { return in_attribute_ ? attr_text_ : elem_text_; }
  void ResetParts() {
    Buffer().clear();
    parts_ = 0;
    pending_value_ = false;
  }
  void FlushPending();
  std::string_view TakeString();  // the collected text, in the arena
  // A header string that repeats record after record (provider, channel,
  // computer, user SID): its text is the one converted last time when the
  // value's type and raw bytes are the same, so steady state converts none.
  struct Memo {
    uint8_t type = kNull;
    std::span<const uint8_t> raw;  // in the chunk image
    std::string_view text;         // in *arena_
  };
  std::string_view TakeStringMemo(Memo* memo);
  // A header string target (provider, channel, computer, user) given as a
  // template literal: assigned as the view it is. False for other targets.
  [[gnu::always_inline]] bool AssignLiteral(Target target, std::string_view literal);
  // A numeric header target filled from a number value as Assign() would;
  // false (nothing done) for other targets or values.
  [[gnu::always_inline]] bool AssignNumber(Target target, const ValueRef& v);
  [[gnu::always_inline]] void StoreNumber(Target target, uint64_t n);  // a numeric target's field
  uint64_t TakeNumber();

  Arena* arena_;
  PayloadGate gate_;
  void* gate_ctx_;
  Event* event_ = nullptr;
  int depth_ = 0;
  Section section_ = Section::kNone;
  Target elem_target_ = Target::kNone;
  Target attr_target_ = Target::kNone;
  bool in_attribute_ = false;
  bool gate_asked_ = false;
  bool payload_skipped_ = false;
  bool payload_wanted_ = false;  // header_only ApplyPlan stopped at a yes
  bool lean_declined_ = false;   // see set_lean_declined
  bool has_pending_name_ = false;
  std::string_view pending_name_;
  // The current content or attribute was exactly one typed value (no text):
  // numbers and times are then read from it directly, without text.
  int parts_ = 0;
  bool pending_value_ = false;  // single_value_ not yet rendered into Buffer()
  ValueRef single_value_;
  std::string_view system_element_;  // current element under <System>
  uint8_t last_guid_[16] = {};
  std::string_view last_guid_text_;  // in *arena_
  Memo provider_memo_, channel_memo_, computer_memo_, user_memo_;
  JsonCursor* json_ = nullptr;  // see set_json
  size_t json_start_ = 0;       // where this record's JSON starts in *json_
  bool json_head_ = false;      // the head is written
  bool json_stale_ = false;     // see FinishJson
  DataKeys json_keys_;
  // The plan whose precomputed keys gave every data field so far (their
  // count is json_keys_.size() while that holds); see PlannedJsonKey.
  const EventPlan* json_key_plan_ = nullptr;
  size_t json_planned_keys_ = 0;
  std::string value_text_;  // a non-string value's text, direct JSON mode
  std::string elem_text_;
  std::string attr_text_;
  bool has_child_[kMaxTrackedDepth] = {};
  std::vector<ValueRef> array_items_;  // ApplyRepeated's scratch
};

}  // namespace eventsift::evtx
