#include "parsers/evtx/event_plan.h"

#include <algorithm>
#include <array>

#include "src/core/json_writer.h"
#include "src/event/event_json.h"

namespace eventsift::evtx {

Target SystemElementTarget(std::string_view e) {
  if (e == "EventID") return Target::kEventId;
  if (e == "Version") return Target::kVersion;
  if (e == "Level") return Target::kLevel;
  if (e == "Task") return Target::kTask;
  if (e == "Opcode") return Target::kOpcode;
  if (e == "Keywords") return Target::kKeywords;
  if (e == "Channel") return Target::kChannel;
  if (e == "Computer") return Target::kComputer;
  if (e == "EventRecordID") return Target::kEventRecordId;
  return Target::kNone;
}

Target SystemAttributeTarget(std::string_view e, std::string_view a) {
  if (e == "Provider") {
    if (a == "Name") return Target::kProviderName;
    if (a == "Guid") return Target::kProviderGuid;
    if (a == "EventSourceName") return Target::kEventSourceName;
  } else if (e == "EventID") {
    if (a == "Qualifiers") return Target::kQualifiers;
  } else if (e == "TimeCreated") {
    if (a == "SystemTime") return Target::kSystemTime;
  } else if (e == "Execution") {
    if (a == "ProcessID") return Target::kProcessId;
    if (a == "ThreadID") return Target::kThreadId;
  } else if (e == "Security") {
    if (a == "UserID") return Target::kUserId;
  }
  return Target::kNone;
}

namespace {

enum class Section : uint8_t { kNone, kSystem, kEventData, kUserData, kOther };

Section FromPlanSection(PlanSection s) {
  switch (s) {
    case PlanSection::kEventData:
      return Section::kEventData;
    case PlanSection::kUserData:
      return Section::kUserData;
    case PlanSection::kNone:
      break;
  }
  return Section::kNone;
}

PlanSection ToPlanSection(Section s) {
  if (s == Section::kEventData) return PlanSection::kEventData;
  if (s == Section::kUserData) return PlanSection::kUserData;
  return PlanSection::kNone;
}

// Nested instances deeper than this many elements are walked (the walker
// bounds nesting itself, and PlanStart::depth must not wrap).
constexpr int kMaxPlanDepth = 200;

bool IsPart(OpKind k) {
  return k == OpKind::kText || k == OpKind::kSubstitution || k == OpKind::kCharRef ||
         k == OpKind::kEntityRef;
}

// Walks the template's element tree once, mirroring EventBuilder.
class PlanBuilder {
 public:
  explicit PlanBuilder(std::span<const Op> ops) : ops_(ops) {}

  EventPlan Build(PlanStart start) {
    plan_.usable = true;
    size_t i = 0;
    while (i < ops_.size() && plan_.usable) {
      const Op& op = ops_[i];
      if (op.kind == OpKind::kStartElement) {
        i = Element(i, start.depth, FromPlanSection(start.section));
      } else {
        if (op.kind == OpKind::kTemplateInstance) plan_.usable = false;
        if (op.kind == OpKind::kSubstitution) {
          plan_.fallback_if_set.push_back(op.index);
          plan_.header_fallback_if_set.push_back(op.index);
        }
        ++i;
      }
    }
    return std::move(plan_);
  }

 private:
  // A single literal or substitution (or nothing) as an item source; false if
  // the parts are anything else (mixed text, character references).
  bool Source(size_t begin, size_t end, PlanItem* item) {
    if (begin == end) {
      item->subst = -1;
      item->literal = {};
      return true;
    }
    if (end - begin != 1) return false;
    const Op& p = ops_[begin];
    if (p.kind == OpKind::kText) {
      item->subst = -1;
      item->literal = p.text;
      return true;
    }
    if (p.kind == OpKind::kSubstitution) {
      item->subst = p.index;
      return true;
    }
    return false;
  }

  void Fail() { plan_.usable = false; }

  // Whether the element at ops_[k] is dropped when an optional value is NULL.
  bool Droppable(size_t k) const {
    const Op& op = ops_[k];
    return op.single_subst != 0 && k + op.single_subst - 1 < ops_.size() &&
           ops_[k + op.single_subst - 1].optional;
  }

  // Whether every child element in [begin, end) may be dropped: a UserData
  // element then has no child for the walker, and becomes a data field the
  // plan does not have.
  bool AllChildrenDroppable(size_t begin, size_t end) const {
    for (size_t k = begin; k < end;) {
      if (ops_[k].kind != OpKind::kStartElement) {
        ++k;
        continue;
      }
      if (!Droppable(k)) return false;
      k = std::max<size_t>(ops_[k].end, k + 1);
    }
    return true;
  }

  // A substitution whose value, if BinXml, the walker expands into elements
  // whose roots sit at `depth` inside `section`.
  void Nested(uint16_t subst, int depth, Section section) {
    if (depth > kMaxPlanDepth) return Fail();
    PlanItem nested;
    nested.kind = PlanItem::kNested;
    nested.subst = subst;
    nested.start.depth = static_cast<uint8_t>(depth);
    nested.start.section = ToPlanSection(section);
    plan_.items.push_back(nested);
  }

  // Element at ops_[i] at `depth` inside `section`; returns the index after it.
  size_t Element(size_t i, int depth, Section section) {
    const Op& start = ops_[i];
    const size_t end = start.end;
    if (end <= i || end > ops_.size()) {
      Fail();
      return ops_.size();
    }
    const std::string_view name = start.text;
    int32_t drop = -1;
    if (start.single_subst != 0) {
      const Op& sub = ops_[i + start.single_subst - 1];
      if (sub.optional) drop = sub.index;
    }
    if (start.dependency != kNoDependency && start.dependency != drop) {
      plan_.walk_if_null.push_back(start.dependency);
    }
    // Attributes.
    struct Attr {
      std::string_view name;
      size_t begin, end;
    };
    std::vector<Attr> attrs;
    size_t j = i + 1;
    while (j < end && ops_[j].kind == OpKind::kAttribute) {
      size_t k = j + 1;
      while (k < end && IsPart(ops_[k].kind)) ++k;
      attrs.push_back(Attr{ops_[j].text, j + 1, k});
      j = k;
    }
    const bool has_content = j < end && ops_[j].kind == OpKind::kCloseStart;
    const size_t content_begin = has_content ? j + 1 : end;
    const size_t content_end = has_content ? end - 1 : end;  // before kEndElement
    bool has_children = false;
    for (size_t k = content_begin; k < content_end; ++k) {
      if (ops_[k].kind == OpKind::kStartElement) has_children = true;
    }

    if (depth == 2) {
      if (name == "System") {
        section = Section::kSystem;
      } else if (name == "EventData" || name == "UserData") {
        section = name == "EventData" ? Section::kEventData : Section::kUserData;
        PlanItem gate;
        gate.kind = PlanItem::kPayloadStart;
        plan_.items.push_back(gate);
      } else {
        section = Section::kOther;
      }
    }
    auto field = [&](Target target, bool attribute, size_t b, size_t e,
                     std::string_view field_name) {
      PlanItem item;
      item.target = target;
      item.attribute = attribute;
      item.drop_if_null = drop;
      item.name = field_name;
      if (!Source(b, e, &item)) return Fail();
      item.repeat = !attribute && target == Target::kDataValue && item.subst >= 0 &&
                    start.single_subst != 0 && b == i + start.single_subst - 1;
      // Attributes with no parts are left out entirely by the walker.
      if (attribute && b == e) return;
      plan_.items.push_back(item);
    };

    bool captured_content = false;
    if (section == Section::kSystem && depth == 3) {
      for (const Attr& a : attrs) {
        const Target t = SystemAttributeTarget(name, a.name);
        if (t != Target::kNone) field(t, true, a.begin, a.end, {});
      }
      const Target t = SystemElementTarget(name);
      if (t != Target::kNone) {
        if (has_children) Fail();
        field(t, false, content_begin, content_end, {});
        captured_content = true;
      }
    } else if (section == Section::kEventData && depth == 3) {
      std::string_view field_name = name == "Data" ? std::string_view() : name;
      for (const Attr& a : attrs) {
        if (a.name != "Name") continue;
        // The name must be literal text (it always is in practice).
        if (a.end - a.begin != 1 || ops_[a.begin].kind != OpKind::kText) Fail();
        field_name = ops_[a.begin].text;
      }
      if (has_children) Fail();
      field(Target::kDataValue, false, content_begin, content_end, field_name);
      captured_content = true;
    } else if (section == Section::kUserData && depth >= 4 && !has_children) {
      field(Target::kDataValue, false, content_begin, content_end, name);
      captured_content = true;
    } else if (section == Section::kUserData && depth >= 4 &&
               AllChildrenDroppable(content_begin, content_end)) {
      Fail();
    }
    if (!plan_.usable) return ops_.size();

    // Children, and substitutions the walker could expand into elements.
    const bool payload = section == Section::kEventData || section == Section::kUserData;
    size_t k = content_begin;
    while (k < content_end && plan_.usable) {
      const Op& op = ops_[k];
      if (op.kind == OpKind::kStartElement) {
        k = Element(k, depth + 1, section);
        continue;
      }
      if (op.kind == OpKind::kTemplateInstance) Fail();
      if (op.kind == OpKind::kSubstitution && !captured_content && (depth == 1 || payload)) {
        Nested(op.index, depth + 1, section);
      } else if (op.kind == OpKind::kSubstitution && !captured_content && depth <= 2) {
        // Content of <System> or another element under <Event>: a value the
        // plan does not read (BinXml there would expand into elements).
        plan_.fallback_if_set.push_back(op.index);
        plan_.header_fallback_if_set.push_back(op.index);
      }
      ++k;
    }
    return end;
  }

  std::span<const Op> ops_;
  EventPlan plan_;
};

// Fills plan->filter_items and gate_after_filter from plan->items.
void AddFilterItems(EventPlan* plan) {
  for (const PlanItem& item : plan->items) {
    if (item.kind == PlanItem::kPayloadStart || item.kind == PlanItem::kNested) {
      plan->gate_after_filter = true;
      return;
    }
    if (IsLeanTarget(item.target)) plan->filter_items.push_back(item);
  }
}

}  // namespace

namespace {

void NumberDataFields(EventPlan* plan) {
  DataKeys keys;
  const PlanItem* previous = nullptr;
  for (PlanItem& item : plan->items) {
    if (item.kind != PlanItem::kField || item.target != Target::kDataValue) continue;
    item.follows_same_name =
        previous != nullptr && !item.name.empty() && previous->name == item.name;
    previous = &item;
    item.data_index = static_cast<int32_t>(plan->data_json_keys.size());
    std::string text;
    {
      JsonCursor c(&text);
      c.StringAfter(item.data_index == 0 ? std::string_view() : std::string_view(","),
                    keys.Next(item.name));
      c.Char(':');
    }
    plan->data_json_keys.push_back(std::move(text));
  }
}

}  // namespace

EventPlan BuildEventPlan(std::span<const Op> ops, PlanStart start) {
  EventPlan plan = PlanBuilder(ops).Build(start);
  NumberDataFields(&plan);
  bool payload = false, nested = false;
  for (const PlanItem& item : plan.items) {
    if (item.kind == PlanItem::kPayloadStart) payload = true;
    if (item.kind == PlanItem::kNested && !payload) nested = true;
    if (payload || item.kind != PlanItem::kField || item.subst < 0) continue;
    plan.header_read_substs.push_back(static_cast<uint16_t>(item.subst));
  }
  plan.header_split = payload && !nested;
  AddFilterItems(&plan);
  std::sort(plan.header_read_substs.begin(), plan.header_read_substs.end());
  auto add = [](std::vector<uint16_t>* list, uint16_t index) {
    if (std::find(list->begin(), list->end(), index) == list->end()) list->push_back(index);
  };
  for (const PlanItem& item : plan.items) {
    if (item.kind != PlanItem::kField || item.subst < 0 || item.repeat) continue;
    add(&plan.read_substs, static_cast<uint16_t>(item.subst));
  }
  for (const PlanItem& item : plan.items) {
    const auto index = static_cast<uint16_t>(item.subst);
    if (item.kind != PlanItem::kField || item.subst < 0 || !item.repeat ||
        std::find(plan.read_substs.begin(), plan.read_substs.end(), index) !=
            plan.read_substs.end()) {
      continue;
    }
    add(&plan.repeat_substs, index);
  }
  for (const PlanItem& item : plan.items) {
    if (item.kind == PlanItem::kNested && item.start.section != PlanSection::kNone) {
      add(&plan.payload_nested, static_cast<uint16_t>(item.subst));
    }
  }
  std::sort(plan.read_substs.begin(), plan.read_substs.end());
  return plan;
}

namespace {

// 1 for the value types a plan cannot fill (arrays and BinXml: the walker
// expands them), 0 for the others.
constexpr std::array<uint8_t, 256> kWalkerOnly = [] {
  std::array<uint8_t, 256> t{};
  for (int type = 0; type < 256; ++type) {
    t[type] = (type & kArrayFlag) != 0 || type == kBinXml ? 1 : 0;
  }
  return t;
}();

bool SubstsFit(std::span<const uint16_t> read, std::span<const uint16_t> must_be_null,
               std::span<const ValueRef> values) {
  // Every record runs this on its plan's whole list, and nearly every record
  // fits: so no early exit, and the answers are ORed without a branch.
  // `read` is ascending (BuildEventPlan sorts it), so when its last index is
  // in range all are, and the loop needs no bounds check.
  uint8_t walker_only = 0;
  if (!read.empty() && read.back() < values.size()) {
    for (uint16_t index : read) walker_only |= kWalkerOnly[values[index].type];
  } else {
    for (uint16_t index : read) {
      if (index < values.size()) walker_only |= kWalkerOnly[values[index].type];
    }
  }
  if (walker_only != 0) return false;
  for (uint16_t index : must_be_null) {
    if (index < values.size() && !values[index].is_null()) return false;
  }
  return true;
}

}  // namespace

bool PayloadNestedMayFit(const EventPlan& plan, std::span<const ValueRef> values) {
  for (uint16_t index : plan.payload_nested) {
    if (index >= values.size() || values[index].type != kBinXml) continue;
    std::span<const uint8_t> b = values[index].bytes;
    // [0F 01 01 00] | 0C: a fragment header (optional here) and a template instance.
    if (b.size() >= 4 && b[0] == 0x0F && b[1] == 0x01 && b[2] == 0x01 && b[3] == 0x00) {
      b = b.subspan(4);
    }
    if (b.empty() || b[0] != 0x0C) return false;
  }
  return true;
}

namespace {

// Whether every value a dependency names is set (see EventPlan::walk_if_null).
bool DependenciesSet(std::span<const uint16_t> deps, std::span<const ValueRef> values) {
  for (uint16_t index : deps) {
    if (index < values.size() && values[index].is_null()) return false;
  }
  return true;
}

}  // namespace

bool PlanFitsHeader(const EventPlan& plan, std::span<const ValueRef> values) {
  return plan.usable && plan.header_split &&
         SubstsFit(plan.header_read_substs, plan.header_fallback_if_set, values) &&
         DependenciesSet(plan.walk_if_null, values);
}

namespace {

// Values of `repeat` items: any type but BinXml, which the walker expands
// into elements instead (a BinXml array it renders as one value).
bool RepeatsFit(std::span<const uint16_t> repeat, std::span<const ValueRef> values) {
  for (uint16_t index : repeat) {
    if (index < values.size() && (values[index].type & ~kArrayFlag) == kBinXml) return false;
  }
  return true;
}

}  // namespace

bool PlanFits(const EventPlan& plan, std::span<const ValueRef> values) {
  return plan.usable && SubstsFit(plan.read_substs, plan.fallback_if_set, values) &&
         RepeatsFit(plan.repeat_substs, values) && DependenciesSet(plan.walk_if_null, values);
}

}  // namespace eventsift::evtx
