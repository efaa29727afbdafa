// Plans of hand-written template ops: the shapes the walker gives meaning to
// (docs/evtx-format.md), without a chunk.

#include "parsers/evtx/event_plan.h"

#include <gtest/gtest.h>

#include <vector>

namespace eventsift::evtx {
namespace {

// Builds op lists with element ends filled in.
class Ops {
 public:
  // `<name>`; returns the op index (for Close()).
  size_t Open(std::string_view name) {
    Op op;
    op.kind = OpKind::kStartElement;
    op.text = name;
    ops_.push_back(op);
    Push(OpKind::kCloseStart);
    return ops_.size() - 2;
  }
  void Subst(uint16_t index, bool optional = false) {
    Op op;
    op.kind = OpKind::kSubstitution;
    op.index = index;
    op.optional = optional;
    ops_.push_back(op);
  }
  // `</name>` of the element opened at `start`; an element whose only
  // content is a substitution records it, as the compiler does.
  void Close(size_t start) {
    Push(OpKind::kEndElement);
    ops_[start].end = static_cast<uint32_t>(ops_.size());
    if (ops_.size() - start == 4 && ops_[start + 2].kind == OpKind::kSubstitution) {
      ops_[start].single_subst = 3;
    }
  }
  const std::vector<Op>& ops() const { return ops_; }

 private:
  void Push(OpKind kind) {
    Op op;
    op.kind = kind;
    ops_.push_back(op);
  }
  std::vector<Op> ops_;
};

// <Event><section>%0</section></Event>: the System-log shape (UserData).
EventPlan PayloadSubstitutionPlan(std::string_view section) {
  Ops o;
  const size_t event = o.Open("Event");
  const size_t payload = o.Open(section);
  o.Subst(0);
  o.Close(payload);
  o.Close(event);
  return BuildEventPlan(o.ops());
}

TEST(EventPlanTest, UserDataBinXmlBecomesANestedItemBehindThePayloadStart) {
  const EventPlan plan = PayloadSubstitutionPlan("UserData");
  ASSERT_TRUE(plan.usable);
  ASSERT_EQ(plan.items.size(), 2u);
  EXPECT_EQ(plan.items[0].kind, PlanItem::kPayloadStart);
  EXPECT_EQ(plan.items[1].kind, PlanItem::kNested);
  EXPECT_EQ(plan.items[1].subst, 0);
  EXPECT_EQ(plan.items[1].start, (PlanStart{3, PlanSection::kUserData}));
  EXPECT_TRUE(plan.fallback_if_set.empty());
  EXPECT_EQ(plan.payload_nested, std::vector<uint16_t>{0});
  // The header can still be planned alone behind a gate.
  EXPECT_TRUE(plan.header_split);
}

TEST(EventPlanTest, NestedUserDataLeavesAreFieldsAndArraysRepeatThem) {
  // The nested instance: <EventXML><Param1>%0</Param1><Param2>x%1</Param2></EventXML>
  // at depth 3 inside UserData.
  Ops o;
  const size_t root = o.Open("EventXML");
  const size_t p1 = o.Open("Param1");
  o.Subst(0);
  o.Close(p1);
  const size_t p2 = o.Open("Param2");
  o.Subst(1);
  o.Close(p2);
  o.Close(root);
  const EventPlan plan = BuildEventPlan(o.ops(), PlanStart{3, PlanSection::kUserData});
  ASSERT_TRUE(plan.usable);
  ASSERT_EQ(plan.items.size(), 2u);
  EXPECT_EQ(plan.items[0].target, Target::kDataValue);
  EXPECT_EQ(plan.items[0].name, "Param1");
  EXPECT_TRUE(plan.items[0].repeat);
  EXPECT_EQ(plan.items[1].name, "Param2");
  // An array value repeats the element (both substitutions are their
  // element's only content here).
  EXPECT_EQ(plan.repeat_substs, (std::vector<uint16_t>{0, 1}));
  EXPECT_TRUE(plan.read_substs.empty());
  // The same ops one level higher are not payload: nothing is a field.
  EXPECT_TRUE(BuildEventPlan(o.ops(), PlanStart{3, PlanSection::kNone}).items.empty());
}

TEST(EventPlanTest, UserDataParentWhoseChildrenMayAllDropIsWalked) {
  // <Parent><Child>%0?</Child></Parent> at depth 4: with %0 NULL the walker
  // drops <Child>, and <Parent> becomes a field of its own, which the plan
  // cannot know in advance.
  for (bool optional : {true, false}) {
    Ops o;
    const size_t root = o.Open("EventXML");
    const size_t parent = o.Open("Parent");
    const size_t child = o.Open("Child");
    o.Subst(0, optional);
    o.Close(child);
    o.Close(parent);
    o.Close(root);
    const EventPlan plan = BuildEventPlan(o.ops(), PlanStart{3, PlanSection::kUserData});
    EXPECT_EQ(plan.usable, !optional);
  }
}

TEST(EventPlanTest, PayloadNestedMayFitLooksForATemplateInstance) {
  const EventPlan plan = PayloadSubstitutionPlan("EventData");
  const uint8_t instance[] = {0x0F, 0x01, 0x01, 0x00, 0x0C, 0x01};
  const uint8_t bare_instance[] = {0x0C, 0x01};
  const uint8_t element[] = {0x0F, 0x01, 0x01, 0x00, 0x41, 0x01};
  auto fits = [&](std::span<const uint8_t> bytes, uint8_t type) {
    const ValueRef v{type, bytes, 0};
    return PayloadNestedMayFit(plan, std::span<const ValueRef>(&v, 1));
  };
  EXPECT_TRUE(fits(instance, kBinXml));
  EXPECT_TRUE(fits(bare_instance, kBinXml));
  EXPECT_FALSE(fits(element, kBinXml));
  EXPECT_FALSE(fits({}, kBinXml));
  EXPECT_TRUE(fits(element, kString));  // not BinXml: nothing to expand
}

}  // namespace
}  // namespace eventsift::evtx
