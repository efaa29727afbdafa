#include "src/detect/compiled_rules.h"

#include <algorithm>

#include <fmt/format.h>

#include "src/detect/regex_limits.h"
#include "src/detect/sigma_rule.h"

namespace eventsift::detect {

namespace {

Status RuleError(const Rule& rule, int line, const std::string& reason) {
  return Status::InvalidArgument(fmt::format("rule '{}': {}", rule.id, reason))
      .At(rule.file, Where::kNone, static_cast<uint64_t>(line > 0 ? line : rule.line));
}

// Whether the condition under `node` can only hold when one of the rule's
// field conditions hit. Negations and direct checks can hold on an event
// that hit nothing, so they do not count; `false` holds on nothing, so it
// vacuously does.
bool SigmaNeedsHit(const SigmaRule& sigma, uint32_t node_index) {
  const SigmaNode& node = sigma.nodes[node_index];
  switch (node.kind) {
    case SigmaNode::Kind::kCondition:
    case SigmaNode::Kind::kFalse:
      return true;
    case SigmaNode::Kind::kAnd:
      return std::any_of(node.children.begin(), node.children.end(),
                         [&](uint32_t c) { return SigmaNeedsHit(sigma, c); });
    case SigmaNode::Kind::kAtLeast:
      if (node.count == 0) return false;
      [[fallthrough]];
    case SigmaNode::Kind::kOr:
      return !node.children.empty() &&
             std::all_of(node.children.begin(), node.children.end(),
                         [&](uint32_t c) { return SigmaNeedsHit(sigma, c); });
    default:
      return false;
  }
}

bool NeedsHit(const Rule& rule) {
  if (rule.sigma != nullptr) return SigmaNeedsHit(*rule.sigma, rule.sigma->root);
  const auto& fields = rule.match.fields;
  if (fields.empty()) return false;
  auto positive = [](const FieldCondition& c) { return !c.negate; };
  // all: one positive condition must hold; any: holds only through a
  // positive one unless some condition is negated.
  return rule.match.mode == CombineMode::kAll ? std::any_of(fields.begin(), fields.end(), positive)
                                              : std::all_of(fields.begin(), fields.end(), positive);
}

// Appends the tree under `node_index` to nodes/children depth-first; returns
// the id of its root there.
uint32_t Flatten(const SigmaRule& sigma, uint32_t node_index,
                 std::unordered_map<std::string, uint32_t>* channel_ids,
                 std::vector<CompiledRules::FlatNode>* nodes, std::vector<uint32_t>* children) {
  const SigmaNode& node = sigma.nodes[node_index];
  const auto id = static_cast<uint32_t>(nodes->size());
  uint32_t arg = node.kind == SigmaNode::Kind::kAtLeast ? node.count : node.index;
  auto header_check = CompiledRules::HeaderCheck::kNone;
  if (node.kind == SigmaNode::Kind::kCheck) {
    const SigmaCheck& check = sigma.checks[node.index];
    if (check.kind == SigmaCheck::Kind::kChannelIs) {
      header_check = CompiledRules::HeaderCheck::kChannel;
      arg = channel_ids->try_emplace(check.text, static_cast<uint32_t>(channel_ids->size()))
                .first->second;
    } else if (check.kind == SigmaCheck::Kind::kEventIdIn && check.ids.size() == 1) {
      header_check = CompiledRules::HeaderCheck::kEventId;
      arg = check.ids[0];
    }
  }
  nodes->push_back({node.kind, header_check, arg, 0, static_cast<uint32_t>(node.children.size())});
  std::vector<uint32_t> ids;
  ids.reserve(node.children.size());
  for (uint32_t c : node.children) ids.push_back(Flatten(sigma, c, channel_ids, nodes, children));
  (*nodes)[id].first_child = static_cast<uint32_t>(children->size());
  children->insert(children->end(), ids.begin(), ids.end());
  return id;
}

void FileUnder(std::unordered_map<std::string, std::vector<uint32_t>>* index,
               const std::vector<std::string>& keys, uint32_t r) {
  for (const std::string& key : keys) {
    auto& bucket = (*index)[key];
    if (bucket.empty() || bucket.back() != r) bucket.push_back(r);
  }
}

}  // namespace

std::unique_ptr<const CompiledRules> CompiledRules::Build(const std::vector<Rule>& rules,
                                                          std::vector<Status>* errors) {
  auto out = std::make_unique<CompiledRules>();
  // The first condition naming a slot's field, for errors when its set fails.
  std::vector<std::pair<uint32_t, int>> slot_origin;  // rule index, line

  for (uint32_t r = 0; r < rules.size(); ++r) {
    const Rule& rule = rules[r];
    RuleEntry entry;
    entry.first_condition = static_cast<uint32_t>(out->conditions_.size());
    entry.has_exact_filters = !rule.match.providers.empty() || !rule.match.channels.empty() ||
                              !rule.match.event_ids.empty() || !rule.match.levels.empty();
    entry.all = rule.match.mode == CombineMode::kAll;
    entry.needs_hit = NeedsHit(rule);
    if (rule.sigma != nullptr) {
      entry.sigma = rule.sigma.get();
      entry.sigma_root = Flatten(*rule.sigma, rule.sigma->root, &out->channel_ids_,
                                 &out->sigma_nodes_, &out->sigma_children_);
    }
    for (const FieldCondition& cond : rule.match.fields) {
      uint32_t slot_index = 0;
      while (slot_index < out->slots_.size() && !(out->slots_[slot_index].field == cond.field)) {
        ++slot_index;
      }
      if (slot_index == out->slots_.size()) {
        out->slots_.push_back(Slot{cond.field, std::make_unique<FieldMatcher>(), {}, {}});
        slot_origin.emplace_back(r, cond.line);
      }
      Slot& slot = out->slots_[slot_index];
      std::string error;
      int pattern = cond.checked
                        ? slot.matcher->AddChecked(cond.regex, cond.case_insensitive, &error)
                        : slot.matcher->Add(cond.regex, cond.case_insensitive, &error);
      if (pattern < 0) {
        errors->push_back(
            RuleError(rule, cond.line,
                      fmt::format("field '{}': invalid regex '{}': {}", cond.field.ToString(),
                                  RegexForMessage(cond.regex), error)));
        continue;
      }
      auto condition_id = static_cast<uint32_t>(out->conditions_.size());
      if (slot.pattern_conditions.size() <= static_cast<size_t>(pattern)) {
        slot.pattern_conditions.resize(pattern + 1);
      }
      slot.pattern_conditions[pattern].push_back(condition_id);
      slot.conditions.push_back(condition_id);
      out->conditions_.push_back(Condition{slot_index, r, cond.negate});
      if (std::find(entry.slots.begin(), entry.slots.end(), slot_index) == entry.slots.end()) {
        entry.slots.push_back(slot_index);
      }
    }
    entry.condition_count = static_cast<uint32_t>(out->conditions_.size()) - entry.first_condition;
    out->entries_.push_back(std::move(entry));

    if (!rule.match.event_ids.empty()) {
      for (uint32_t id : rule.match.event_ids) {
        auto& bucket = out->by_event_id_[id];
        if (bucket.empty() || bucket.back() != r) bucket.push_back(r);
        if (id < kIdBits) {
          out->id_bits_[id / 64] |= uint64_t{1} << (id % 64);
        } else {
          out->large_ids_ = true;
        }
      }
    } else if (!rule.match.providers.empty()) {
      FileUnder(&out->by_provider_, rule.match.providers, r);
      for (const std::string& p : rule.match.providers) {
        if (p.size() < out->provider_lengths_.size()) {
          out->provider_lengths_[p.size()] = 1;
        } else {
          out->long_providers_ = true;
        }
      }
    } else if (!rule.match.channels.empty()) {
      FileUnder(&out->by_channel_, rule.match.channels, r);
    } else {
      out->unindexed_.push_back(r);
    }
  }

  for (size_t s = 0; s < out->slots_.size(); ++s) {
    if (!out->slots_[s].matcher->Compile()) {
      const auto& [rule_index, line] = slot_origin[s];
      errors->push_back(RuleError(
          rules[rule_index], line,
          fmt::format("the {} regexes on field '{}' do not compile into one set within {} MiB",
                      out->slots_[s].matcher->size(), out->slots_[s].field.ToString(),
                      FieldMatcher::kSetMaxMem >> 20)));
    }
  }
  return out;
}

const std::vector<uint32_t>& CompiledRules::ByEventId(uint32_t event_id) const {
  if (!MayHaveEventId(event_id)) return empty_;
  auto it = by_event_id_.find(event_id);
  return it == by_event_id_.end() ? empty_ : it->second;
}

const std::vector<uint32_t>& CompiledRules::ByProvider(const std::string& lowered_provider) const {
  auto it = by_provider_.find(lowered_provider);
  return it == by_provider_.end() ? empty_ : it->second;
}

const std::vector<uint32_t>& CompiledRules::ByChannel(const std::string& lowered_channel) const {
  auto it = by_channel_.find(lowered_channel);
  return it == by_channel_.end() ? empty_ : it->second;
}

uint32_t CompiledRules::ChannelId(std::string_view channel) const {
  if (channel_ids_.empty()) return kNoChannelId;
  // AsciiLower is EqualsLowered's folding, so ids agree with SigmaCheckHolds.
  auto it = channel_ids_.find(AsciiLower(channel));
  return it == channel_ids_.end() ? kNoChannelId : it->second;
}

}  // namespace eventsift::detect
