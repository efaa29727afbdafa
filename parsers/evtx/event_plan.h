#pragma once
// The compiled form of a template for filling Events: which substitution (or
// literal) feeds which System field or EventData/UserData field, worked out
// once per template per chunk. Records whose values fit the plan (no arrays,
// no nested BinXml where it matters) are then filled without walking the
// template's ops; the others fall back to the walker and EventBuilder, which
// the plan mirrors (tests check both paths give the same events on the corpus).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/evtx/binxml.h"

namespace eventsift::evtx {

// What a piece of text belongs to, for EventBuilder and plans alike.
enum class Target : uint8_t {
  kNone,
  kProviderName,
  kProviderGuid,
  kEventSourceName,
  kEventId,
  kQualifiers,
  kVersion,
  kLevel,
  kTask,
  kOpcode,
  kKeywords,
  kSystemTime,
  kProcessId,
  kThreadId,
  kEventRecordId,
  kChannel,
  kComputer,
  kUserId,
  kDataName,
  kDataValue,
};

// The fields a rule's header filter reads (detect::Matcher::MayMatch):
// provider (or the classic EventSourceName), event id, level and channel.
inline bool IsFilterTarget(Target t) {
  return t == Target::kProviderName || t == Target::kEventSourceName || t == Target::kEventId ||
         t == Target::kLevel || t == Target::kChannel;
}

// What a declined record carries in lean mode (EventHandler::
// FullHeaderWhenDeclined): the filter's fields, and the computer and
// EventRecordID that record-id tracking keys every record on.
inline bool IsLeanTarget(Target t) {
  return IsFilterTarget(t) || t == Target::kComputer || t == Target::kEventRecordId;
}

// <System> child element -> its content's target (kNone if not captured).
Target SystemElementTarget(std::string_view element);
// Attribute of a <System> child -> target (kNone if not captured).
Target SystemAttributeTarget(std::string_view element, std::string_view attribute);

// The payload section a plan's root elements sit in (kNone: outside any).
enum class PlanSection : uint8_t { kNone, kEventData, kUserData };

// Where a plan's root elements sit, as the walker would meet them: depth 1 is
// a record's <Event>, 2 a nested instance right under <Event> (Security's
// EventData), 3 and deeper a nested instance inside EventData/UserData.
struct PlanStart {
  uint8_t depth = 1;
  PlanSection section = PlanSection::kNone;
  bool operator==(const PlanStart&) const = default;
};

struct PlanItem {
  enum Kind : uint8_t {
    kField,         // a System field (target) or a data field (kDataValue + name)
    kPayloadStart,  // EventData/UserData begins: ask the payload gate here
    kNested,        // a substitution the walker would expand as BinXml: right
                    // under <Event> (Security: its instance holds EventData)
                    // or inside EventData/UserData (its instance holds the
                    // payload elements); `start` places the instance's plan
  };
  Kind kind = kField;
  Target target = Target::kNone;
  bool attribute = false;     // an attribute: left out when its value renders empty
  PlanStart start;            // kNested: where the nested instance's roots sit
  bool repeat = false;        // a data field that is its element's only content
                              // substitution: an array value repeats the
                              // element, one field per item, as the walker does
  int32_t subst = -1;         // substitution index, or -1: `literal`
  int32_t drop_if_null = -1;  // the element is dropped when this optional value is NULL
  std::string_view name;      // data field name
  std::string_view literal;   // text when subst < 0 (lives in the ChunkContext arena)
  int32_t data_index = -1;    // a data field's position among the plan's data fields
  // The data field before it in the plan has the same (non-empty) name: when
  // both are written, this one continues that one's array (event_json.h), so
  // its key is not known in advance.
  bool follows_same_name = false;
};

struct EventPlan {
  bool usable = false;  // false: always walk this template
  std::vector<PlanItem> items;
  // Substitutions the plan does not read but the walker would expand into
  // payload elements (a BinXml value under <UserData>): a record where one of
  // them is not NULL takes the walker.
  std::vector<uint16_t> fallback_if_set;
  // DependencyIds of elements the items do not drop by themselves (an
  // element with children, or whose content is not its own optional
  // substitution): a record where one of these values is NULL takes the
  // walker, which leaves the element out.
  std::vector<uint16_t> walk_if_null;
  // Substitutions the kField items read, each once, ascending: PlanFits
  // checks their types without walking the items. Those only `repeat` items
  // read may hold arrays too (repeat_substs); the others may not (read_substs).
  std::vector<uint16_t> read_substs;
  std::vector<uint16_t> repeat_substs;
  // Substitutions of the kNested items inside EventData/UserData.
  std::vector<uint16_t> payload_nested;
  // For records whose payload the plan cannot fill (an array, or a nested
  // instance the plan cannot fill): the header can still come from the plan,
  // and the gate be asked, before any walk; `scan` declines most payloads, so
  // most such records are then never walked. Set when the plan has a payload
  // element and no nested instance before it.
  bool header_split = false;
  std::vector<uint16_t> header_read_substs;      // read before the payload, ascending
  std::vector<uint16_t> header_fallback_if_set;  // outside EventData/UserData
  // Direct JSON: the text before data field k's value (`,"key":`, no comma
  // for k = 0) when the record's data fields so far are exactly this plan's
  // fields 0..k-1, so its key (event_json.h's rule for repeated and unnamed
  // fields) is known in advance: formatted and escaped once per template.
  std::vector<std::string> data_json_keys;
  // Lean mode (EventBuilder::set_lean_declined): the kField items with a
  // lean target (IsLeanTarget) before the payload starts, in plan order,
  // and whether the gate is then asked (a kPayloadStart or kNested item
  // follows). Most records are declined, and for those only these are
  // filled, so they are picked out once here rather than per record.
  std::vector<PlanItem> filter_items;
  bool gate_after_filter = false;
};

// Builds the plan of a template's ops whose root elements sit at `start`.
EventPlan BuildEventPlan(std::span<const Op> ops, PlanStart start = {});

// Whether a record's values let the plan fill its event exactly as the walker
// would: no array or BinXml value among those the plan reads. kNested items
// are checked when they are reached (EventBuilder::ApplyPlan resolves them).
bool PlanFits(const EventPlan& plan, std::span<const ValueRef> values);

// Whether every BinXml value of plan.payload_nested starts like a single
// template instance (the first check of ParseSingleInstance, on its bytes
// alone). One that does not (CAPI2's UserData is plain BinXml) needs the
// walker: `dump` checks before anything is filled, so such a record is
// walked once, not planned up to its payload and then walked.
bool PayloadNestedMayFit(const EventPlan& plan, std::span<const ValueRef> values);

// Whether the plan can fill everything before the payload exactly as the
// walker would (plan.header_split must be set).
bool PlanFitsHeader(const EventPlan& plan, std::span<const ValueRef> values);

}  // namespace eventsift::evtx
