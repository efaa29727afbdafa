#pragma once
// The compiled form of a template for filling Events: which substitution (or
// literal) feeds which System field or EventData/UserData field, worked out
// once per template per chunk. Records whose values fit the plan (no arrays,
// no nested BinXml where it matters) are then filled without walking the
// template's ops; the others fall back to the walker and EventBuilder, which
// the plan mirrors (tests check both paths give the same events on the corpus).

#include <cstdint>
#include <span>
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

// <System> child element -> its content's target (kNone if not captured).
Target SystemElementTarget(std::string_view element);
// Attribute of a <System> child -> target (kNone if not captured).
Target SystemAttributeTarget(std::string_view element, std::string_view attribute);

struct PlanItem {
  enum Kind : uint8_t {
    kField,         // a System field (target) or a data field (kDataValue + name)
    kPayloadStart,  // EventData/UserData begins: ask the payload gate here
    kNested,        // a substitution right under <Event>: a BinXml value whose
                    // template instance holds EventData/UserData (Security)
  };
  Kind kind = kField;
  Target target = Target::kNone;
  bool attribute = false;     // an attribute: left out when its value renders empty
  int32_t subst = -1;         // substitution index, or -1: `literal`
  int32_t drop_if_null = -1;  // the element is dropped when this optional value is NULL
  std::string_view name;      // data field name
  std::string_view literal;   // text when subst < 0 (lives in the ChunkContext arena)
};

struct EventPlan {
  bool usable = false;  // false: always walk this template
  std::vector<PlanItem> items;
  // Substitutions the plan does not read but the walker would expand into
  // payload elements (a BinXml value under <UserData>): a record where one of
  // them is not NULL takes the walker.
  std::vector<uint16_t> fallback_if_set;
  // Substitutions the kField items read, each once, ascending: PlanFits
  // checks their types without walking the items.
  std::vector<uint16_t> read_substs;
  // For records whose payload the plan cannot fill (an array, or a BinXml
  // value under <UserData>): the header can still come from the plan, and
  // the gate be asked, before any walk; `scan` declines most payloads, so
  // most such records are then never walked. Set when the plan has a payload
  // element and no nested instance.
  bool header_split = false;
  std::vector<uint16_t> header_read_substs;      // read before the payload, ascending
  std::vector<uint16_t> header_fallback_if_set;  // outside EventData/UserData
  // Lean mode (EventBuilder::set_lean_declined): the kField items with a
  // filter target (IsFilterTarget) before the payload starts, in plan order,
  // and whether the gate is then asked (a kPayloadStart or kNested item
  // follows). Most records are declined, and for those only these are
  // filled, so they are picked out once here rather than per record.
  std::vector<PlanItem> filter_items;
  bool gate_after_filter = false;
};

// Builds the plan of a template's ops whose root elements sit at `depth`
// (1: a record's <Event>; 2: a nested instance under <Event>).
EventPlan BuildEventPlan(std::span<const Op> ops, int depth = 1);

// Whether a record's values let the plan fill its event exactly as the walker
// would: no array or BinXml value among those the plan reads. kNested items
// are checked by the caller, which resolves their templates.
bool PlanFits(const EventPlan& plan, std::span<const ValueRef> values);

// Whether the plan can fill everything before the payload exactly as the
// walker would (plan.header_split must be set).
bool PlanFitsHeader(const EventPlan& plan, std::span<const ValueRef> values);

}  // namespace eventsift::evtx
