#include "src/detect/matcher.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "src/core/short_text.h"
#include "src/detect/compiled_rules.h"
#include "src/detect/field_matcher.h"
#include "src/detect/field_values.h"
#include "src/detect/literal_pattern.h"
#include "src/detect/regex_limits.h"
#include "src/detect/rule.h"
#include "src/detect/sigma_rule.h"
#include "src/detect/sigma_value.h"

namespace eventsift::detect {

// What an event header (event id, level, provider, channel) decides.
struct Matcher::Plan {
  std::vector<uint32_t> candidates;        // pass the exact filters, ascending
  std::vector<uint32_t> always;            // candidates evaluated even without a hit
  std::vector<uint32_t> slots;             // every slot a candidate reads
  std::vector<std::vector<int>> relevant;  // per slots[i]: its patterns some candidate uses
  // Per slots[i]: a literal set of its relevant patterns only, or null
  // (FieldMatcher::SubsetFor).
  std::vector<const LiteralSet*> subsets;
  uint32_t channel_id = CompiledRules::kNoChannelId;  // CompiledRules::ChannelId(channel)

  size_t Bytes() const {
    size_t n = sizeof(Plan) + 4 * (candidates.size() + always.size() + slots.size()) +
               sizeof(const LiteralSet*) * subsets.size();
    for (const auto& r : relevant) n += sizeof(r) + 4 * r.size();
    return n;
  }
};

// Per-thread working memory. Vectors only grow, and every entry set during a
// Match is reset before it returns, so a thread can alternate between
// matchers of different sizes and steady state allocates nothing.
struct Matcher::Scratch {
  std::vector<uint32_t> merged;          // spare buffer for merging candidate lists
  std::vector<uint8_t> rule_candidate;   // by rule index, while a plan is built
  std::vector<uint8_t> rule_touched;     // by rule index: a condition of it hit
  std::vector<uint32_t> touched;         // the rules marked in rule_touched
  std::vector<uint8_t> cond_hit;         // by condition id
  std::vector<uint32_t> hit_conditions;  // the conditions set in cond_hit
  std::vector<uint32_t> evaluate;        // rules whose condition is evaluated
  std::vector<int> pattern_hits;
  std::string joined;       // a field's values joined by '\n' (ScanSlot)
  uint32_t channel_id = 0;  // the event's Plan::channel_id, during Match
  std::string lowered;
  // Plans by header, for the matcher `plans_owner` only; cleared when
  // another matcher uses this thread or the cache reaches its bounds.
  uint64_t plans_owner = 0;
  std::unordered_map<std::string, Plan> plans;
  size_t plans_bytes = 0;
  std::string key;
  // Plans of recent headers, direct-mapped by a cheap mix of the header: a
  // log cycles through a few dozen headers, so most events find theirs here
  // with a few compares, without building and hashing the map's key (which
  // cost more than the rest of MayMatch on dense logs). Emptied whenever
  // `plans` is cleared: the entries point into it.
  struct RecentPlan {
    uint32_t event_id = 0;
    uint8_t level = 0;
    std::string provider, channel;
    const Plan* plan = nullptr;  // null: an empty slot
  };
  std::array<RecentPlan, 512> recent;
  Plan unindexed_plan;  // rebuilt per event on the unindexed path

  void ForgetPlans() {
    plans.clear();
    plans_bytes = 0;
    for (RecentPlan& r : recent) r.plan = nullptr;
  }
};

namespace {

// When a value hits a field's set, which patterns matched? Up to this many
// candidate patterns, ask each alone: allocation-free, but each is its own
// pass over the value. Beyond it, one more set pass that lists the matches is
// faster, though RE2::Set allocates that list. Measured (bench/
// detect_bench.cc, 2 cores): the 17 ProxyShell patterns on a cmdlet event
// cost 7.5 us one by one and 1.6 us with a set pass; the EEMS event, 0.84 us
// asking its one pattern and 1.56 us with a set pass.
constexpr size_t kMaxPatternsAskedOneByOne = 4;

// A field read as all of an event's data (Sigma keywords: message and every
// EventData value) first has its values joined by '\n' and passed through
// its set once when the set allows it (FieldMatcher::joinable): most events
// hit nothing, and one pass costs less than one per value, RE2's set-up
// being paid once (the first passes of a 512 MiB scan with SigmaHQ's rules
// went from 3.74 G to 2.2 G instructions: the DFA's cost is mostly per
// byte; docs/perf/sigma.md). Only when the joined pass hits are the values
// passed one by one, as before, to learn which patterns hit (or, when all
// patterns are literal, the joined text is listed: join_exact). Past this
// many joined bytes the values go one by one straight away (the scratch
// stays under this plus one cut value, RegexText's bound).
constexpr size_t kMaxJoinedBytes = size_t{256} << 10;

bool ReadsManyValues(const FieldRef& field) {
  return field.kind == FieldKind::kMessageOrDataAny || field.kind == FieldKind::kDataAny;
}

// Bounds of the per-thread plan cache. A real log has tens to a few
// hundred distinct headers; hostile input with ever new providers only
// makes the cache start over, and its memory stays under kMaxPlanBytes.
constexpr size_t kMaxPlans = 4096;
constexpr size_t kMaxPlanBytes = size_t{16} << 20;

std::atomic<uint64_t> g_next_instance{1};

template <typename T>
void GrowTo(std::vector<T>* v, size_t n) {
  if (v->size() < n) v->resize(n);
}

// Which slot of Scratch::recent a header takes: its event id, level,
// lengths and the provider's last 8 bytes (where names differ most: "...-
// Kernel-General", "...-Kernel-Power"), mixed. Equality is checked in full.
size_t RecentSlot(const Event& e) {
  uint64_t tail = 0;
  const size_t n = std::min<size_t>(e.provider.size(), sizeof(tail));
  if (n > 0) std::memcpy(&tail, e.provider.data() + e.provider.size() - n, n);
  uint64_t h = (uint64_t{e.event_id} << 8 | e.level) * 0x9E3779B97F4A7C15ull;
  h ^= (tail + e.provider.size() * 0x100000001B3ull + e.channel.size()) * 0xC2B2AE3D27D4EB4Full;
  return static_cast<size_t>(h ^ (h >> 31) ^ (h >> 47));
}

void LowerInto(std::string_view s, std::string* out) {
  out->assign(s);
  for (char& c : *out) c = LowerAscii(c);
}

// Whether some rule is a candidate whatever the header: one without exact
// filters, which the indexed path files as unindexed and the reference path
// looks at like every rule.
bool CandidateForEveryHeader(const CompiledRules& compiled, bool indexed) {
  const auto& entries = compiled.entries();
  auto unfiltered = [&](uint32_t r) { return !entries[r].has_exact_filters; };
  if (indexed) {
    return std::any_of(compiled.unindexed().begin(), compiled.unindexed().end(), unfiltered);
  }
  for (uint32_t r = 0; r < entries.size(); ++r) {
    if (unfiltered(r)) return true;
  }
  return false;
}

bool IndexDisabledByEnvironment() {
  const char* env = std::getenv("EVENTSIFT_NO_RULE_INDEX");
  return env != nullptr && *env != '\0' && std::string_view(env) != "0";
}

}  // namespace

Matcher::Matcher(std::shared_ptr<const RuleSet> rules)
    : Matcher(std::move(rules), !IndexDisabledByEnvironment()) {}

Matcher::Matcher(std::shared_ptr<const RuleSet> rules, bool indexed)
    : rules_(std::move(rules)),
      compiled_(rules_->compiled()),
      indexed_(indexed),
      instance_(g_next_instance.fetch_add(1)),
      every_header_(CandidateForEveryHeader(compiled_, indexed_)) {}

Matcher::Scratch& Matcher::ThreadScratch() const {
  thread_local Scratch scratch;
  return scratch;
}

bool Matcher::PassesHeader(const Rule& rule, const Event& event) const {
  const MatchSpec& m = rule.match;
  if (!m.event_ids.empty() &&
      std::find(m.event_ids.begin(), m.event_ids.end(), event.event_id) == m.event_ids.end()) {
    return false;
  }
  if (!m.levels.empty() &&
      std::find(m.levels.begin(), m.levels.end(), event.level) == m.levels.end()) {
    return false;
  }
  if (!m.providers.empty() &&
      std::none_of(m.providers.begin(), m.providers.end(),
                   [&](const std::string& p) { return EqualsLowered(event.provider, p); })) {
    return false;
  }
  if (!m.channels.empty() &&
      std::none_of(m.channels.begin(), m.channels.end(),
                   [&](const std::string& c) { return EqualsLowered(event.channel, c); })) {
    return false;
  }
  return true;
}

void Matcher::Candidates(const Event& event, Scratch* scratch, std::vector<uint32_t>* out) const {
  out->clear();
  const auto& rules = rules_->rules();
  const auto& entries = compiled_.entries();
  if (!indexed_) {
    for (uint32_t r = 0; r < rules.size(); ++r) {
      if (!entries[r].has_exact_filters || PassesHeader(rules[r], event)) out->push_back(r);
    }
    return;
  }
  // A provider of a length no rule is filed under cannot be in the index.
  // (ASCII lower-casing keeps the length.)
  const std::vector<uint32_t>* lists[4];
  size_t list_count = 0;
  if (compiled_.MayHaveEventId(event.event_id)) {
    lists[list_count++] = &compiled_.ByEventId(event.event_id);
  }
  if (compiled_.MayHaveProvider(event.provider.size())) {
    LowerInto(event.provider, &scratch->lowered);
    lists[list_count++] = &compiled_.ByProvider(scratch->lowered);
  }
  if (compiled_.HasChannelIndex()) {
    LowerInto(event.channel, &scratch->lowered);
    lists[list_count++] = &compiled_.ByChannel(scratch->lowered);
  }
  if (!compiled_.unindexed().empty()) lists[list_count++] = &compiled_.unindexed();
  // The lists are ascending and disjoint (each rule is filed once), so
  // merging them gives the ascending union in linear time.
  for (const auto* list : std::span(lists, list_count)) {
    const auto middle = static_cast<std::ptrdiff_t>(out->size());
    for (uint32_t r : *list) {
      if (!entries[r].has_exact_filters || PassesHeader(rules[r], event)) out->push_back(r);
    }
    if (middle != 0 && middle != static_cast<std::ptrdiff_t>(out->size())) {
      scratch->merged.clear();
      std::merge(out->begin(), out->begin() + middle, out->begin() + middle, out->end(),
                 std::back_inserter(scratch->merged));
      out->swap(scratch->merged);
    }
  }
}

void Matcher::BuildPlan(const Event& event, Scratch* scratch, Plan* plan) const {
  Candidates(event, scratch, &plan->candidates);
  plan->channel_id = compiled_.ChannelId(event.channel);
  const auto& entries = compiled_.entries();
  const auto& slots = compiled_.slots();
  const auto& conditions = compiled_.conditions();
  plan->always.clear();
  plan->slots.clear();
  GrowTo(&scratch->rule_candidate, entries.size());
  for (uint32_t r : plan->candidates) {
    scratch->rule_candidate[r] = 1;
    // Unindexed, every candidate is evaluated: the reference path.
    if (!indexed_ || !entries[r].needs_hit) plan->always.push_back(r);
    for (uint32_t s : entries[r].slots) plan->slots.push_back(s);
  }
  std::sort(plan->slots.begin(), plan->slots.end());
  plan->slots.erase(std::unique(plan->slots.begin(), plan->slots.end()), plan->slots.end());
  plan->relevant.resize(plan->slots.size());
  plan->subsets.assign(plan->slots.size(), nullptr);
  for (size_t i = 0; i < plan->slots.size(); ++i) {
    const CompiledRules::Slot& slot = slots[plan->slots[i]];
    std::vector<int>& relevant = plan->relevant[i];
    relevant.clear();
    for (size_t p = 0; p < slot.pattern_conditions.size(); ++p) {
      for (uint32_t c : slot.pattern_conditions[p]) {
        if (scratch->rule_candidate[conditions[c].rule]) {
          relevant.push_back(static_cast<int>(p));
          break;
        }
      }
    }
    // The unindexed path (the reference) builds a plan per event: no subsets.
    if (indexed_ && relevant.size() > kMaxPatternsAskedOneByOne) {
      plan->subsets[i] = slot.matcher->SubsetFor(relevant);
    }
  }
  for (uint32_t r : plan->candidates) scratch->rule_candidate[r] = 0;
}

const Matcher::Plan& Matcher::PlanFor(const Event& event, Scratch* scratch) const {
  if (!indexed_) {
    BuildPlan(event, scratch, &scratch->unindexed_plan);
    return scratch->unindexed_plan;
  }
  if (scratch->plans_owner != instance_) {
    scratch->ForgetPlans();
    scratch->plans_owner = instance_;
  }
  Scratch::RecentPlan& recent = scratch->recent[RecentSlot(event) % scratch->recent.size()];
  if (recent.plan != nullptr && recent.event_id == event.event_id && recent.level == event.level &&
      SameShortText(recent.channel, event.channel) &&
      SameShortText(recent.provider, event.provider)) {
    return *recent.plan;
  }
  // The key holds the raw header: lengths first, so that no two headers
  // share a key.
  std::string& key = scratch->key;
  key.clear();
  const uint32_t sizes[] = {event.event_id, event.level,
                            static_cast<uint32_t>(event.provider.size()),
                            static_cast<uint32_t>(event.channel.size())};
  key.append(reinterpret_cast<const char*>(sizes), sizeof(sizes));
  key.append(event.provider);
  key.append(event.channel);
  const Plan* plan = nullptr;
  if (auto it = scratch->plans.find(key); it != scratch->plans.end()) {
    plan = &it->second;  // a map's elements stay put as it grows
  } else {
    if (scratch->plans.size() >= kMaxPlans || scratch->plans_bytes >= kMaxPlanBytes) {
      scratch->ForgetPlans();
    }
    Plan& built = scratch->plans[key];
    BuildPlan(event, scratch, &built);
    scratch->plans_bytes += key.size() + built.Bytes();
    plan = &built;
  }
  recent.event_id = event.event_id;
  recent.level = event.level;
  recent.provider.assign(event.provider);
  recent.channel.assign(event.channel);
  recent.plan = plan;
  return *plan;
}

bool Matcher::MayMatch(const Event& header) const {
  stats_.header_checks.Add();
  // Most events' ids and provider lengths are no rule's: when every rule is
  // filed by event id or provider (no channel index, nothing unindexed), the
  // two bitmaps answer as Candidates would, with no plan look-up.
  if (indexed_ && compiled_.unindexed().empty() && !compiled_.HasChannelIndex() &&
      !compiled_.MayHaveEventId(header.event_id) &&
      !compiled_.MayHaveProvider(header.provider.size())) {
    stats_.header_skips.Add();
    return false;
  }
  Scratch& scratch = ThreadScratch();
  bool any = !PlanFor(header, &scratch).candidates.empty();
  if (!any) stats_.header_skips.Add();
  return any;
}

void Matcher::ScanSlot(uint32_t slot_index, const std::vector<int>& relevant,
                       const LiteralSet* subset, const Event& event, Scratch* scratch) const {
  const CompiledRules::Slot& slot = compiled_.slots()[slot_index];
  const auto& conditions = compiled_.conditions();
  auto mark = [&](int p) {
    for (uint32_t c : slot.pattern_conditions[p]) {
      if (scratch->cond_hit[c]) continue;
      scratch->cond_hit[c] = 1;
      scratch->hit_conditions.push_back(c);
      uint32_t r = conditions[c].rule;
      if (!scratch->rule_touched[r]) {
        scratch->rule_touched[r] = 1;
        scratch->touched.push_back(r);
      }
    }
  };
  auto scan = [&](std::string_view value) {
    if (relevant.size() <= kMaxPatternsAskedOneByOne) {
      // Few candidates: ask each pattern alone, without a pass of the
      // field's whole set (every rule's patterns on it, most not this
      // event's candidates). Also allocation-free, where RE2::Set would
      // allocate the list of matching patterns.
      for (int p : relevant) {
        if (!scratch->cond_hit[slot.pattern_conditions[p].front()] &&
            slot.matcher->MatchesPattern(p, value)) {
          mark(p);
        }
      }
      return;
    }
    // One set pass decides whether anything matched; that pass allocates
    // nothing, and it is all most values need. When listing costs no more
    // (FieldMatcher::ListsInOnePass), the hits are listed at once.
    // Whether the value is ASCII is looked up once for the calls below.
    const FieldMatcher::Ascii ascii = FieldMatcher::AsciiOf(value);
    if (!slot.matcher->ListsInOnePass(value, ascii) && !slot.matcher->MatchesAny(value, ascii)) {
      return;
    }
    if (slot.matcher->MatchAll(value, &scratch->pattern_hits, ascii, subset)) {
      stats_.regex_fallbacks.Add();
    }
    for (int p : scratch->pattern_hits) mark(p);
  };
  if (relevant.size() > kMaxPatternsAskedOneByOne && ReadsManyValues(slot.field) &&
      slot.matcher->joinable()) {
    std::string& joined = scratch->joined;
    joined.clear();
    bool fits = true;
    ForEachFieldValue(event, slot.field, [&](std::string_view value) {
      AppendRegexText(value, &joined);
      joined.push_back('\n');
      fits = joined.size() <= kMaxJoinedBytes;
      return !fits;
    });
    // No value: nothing to find (a pattern matching the empty text would
    // still match the empty joined text).
    if (joined.empty()) return;
    if (fits) {
      FieldMatcher::Ascii ascii = FieldMatcher::AsciiOf(joined);
      if (ascii == FieldMatcher::Ascii::kNo && slot.matcher->join_exact() &&
          slot.matcher->has_literal_path()) {
        // Mostly one value is not ASCII (a name, a message): that one goes
        // through the field's RE2::Set alone, and the others, joined again,
        // still take the literal path in one pass, where the whole text
        // went through the RE2::Set. As the patterns are literal (join_exact),
        // the hits of the two parts are the hits of all the values.
        joined.clear();
        ForEachFieldValue(event, slot.field, [&](std::string_view value) {
          if (value.size() <= kMaxRegexTextBytes && IsAsciiText(value)) {
            joined.append(value);
            joined.push_back('\n');
          } else {
            scan(value);
          }
          return false;
        });
        if (joined.empty()) return;
        ascii = FieldMatcher::Ascii::kYes;
      }
      const bool list_now =
          slot.matcher->join_exact() && slot.matcher->ListsInOnePass(joined, ascii);
      if (!list_now && !slot.matcher->MatchesAnyInJoined(joined, ascii)) return;
      // Literal patterns: the joined text's hits are the values' hits.
      if (slot.matcher->join_exact() &&
          slot.matcher->MatchAllInJoined(joined, &scratch->pattern_hits, ascii, subset)) {
        for (int p : scratch->pattern_hits) mark(p);
        return;
      }
    }
  }
  // fn returns bool (stop early); the scan looks at every value.
  ForEachFieldValue(event, slot.field, [&](std::string_view value) {
    scan(value);
    return false;
  });
}

namespace {

bool ParseNumber(std::string_view text, double* out) {
  if (text.empty() || text.size() > 63) return false;
  char buf[64];
  text.copy(buf, text.size());
  buf[text.size()] = '\0';
  char* end = nullptr;
  // Windows prints some numbers in hex (4688's NewProcessId: 0x1a2c).
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    *out = static_cast<double>(std::strtoull(buf + 2, &end, 16));
  } else {
    *out = std::strtod(buf, &end);
  }
  return end == buf + text.size();
}

bool SameText(std::string_view a, std::string_view b, bool cased) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (cased ? a[i] != b[i] : LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

bool CompareText(SigmaCheck::Op op, std::string_view value, std::string_view other, bool cased) {
  switch (op) {
    case SigmaCheck::Op::kStartsWith:
      return value.size() >= other.size() && SameText(value.substr(0, other.size()), other, cased);
    case SigmaCheck::Op::kEndsWith:
      return value.size() >= other.size() &&
             SameText(value.substr(value.size() - other.size()), other, cased);
    case SigmaCheck::Op::kContains:
      for (size_t i = 0; i + other.size() <= value.size(); ++i) {
        if (SameText(value.substr(i, other.size()), other, cased)) return true;
      }
      return false;
    default:
      return SameText(value, other, cased);
  }
}

// Out of line: EvalSigma recurses per node, and inlined this would give
// every node visit its large frame.
[[gnu::noinline]] bool SigmaCheckHolds(const SigmaCheck& check, const Event& event) {
  bool holds = false;
  switch (check.kind) {
    case SigmaCheck::Kind::kChannelIs:
      return EqualsLowered(event.channel, check.text);
    case SigmaCheck::Kind::kEventIdIn:
      return std::find(check.ids.begin(), check.ids.end(), event.event_id) != check.ids.end();
    case SigmaCheck::Kind::kExists:
      ForEachFieldValue(event, check.field, [&](std::string_view) { return holds = true; });
      return holds;
    case SigmaCheck::Kind::kNull:
      // Absent, or present and empty.
      holds = true;
      ForEachFieldValue(event, check.field, [&](std::string_view v) {
        if (!v.empty()) holds = false;
        return !holds;
      });
      return holds;
    case SigmaCheck::Kind::kNumber:
      ForEachFieldValue(event, check.field, [&](std::string_view v) {
        double n = 0;
        if (!ParseNumber(v, &n)) return false;
        switch (check.op) {
          case SigmaCheck::Op::kGt:
            holds = n > check.number;
            break;
          case SigmaCheck::Op::kGte:
            holds = n >= check.number;
            break;
          case SigmaCheck::Op::kLt:
            holds = n < check.number;
            break;
          case SigmaCheck::Op::kLte:
            holds = n <= check.number;
            break;
          default:
            holds = n == check.number;
        }
        return holds;
      });
      return holds;
    case SigmaCheck::Kind::kCidr:
      ForEachFieldValue(event, check.field,
                        [&](std::string_view v) { return holds = CidrContains(check, v); });
      return holds;
    case SigmaCheck::Kind::kFieldRef:
      ForEachFieldValue(event, check.field, [&](std::string_view v) {
        ForEachFieldValue(event, check.other, [&](std::string_view o) {
          return holds = CompareText(check.op, v, o, check.cased);
        });
        return holds;
      });
      return holds;
  }
  return false;
}

// A leaf node's value without a call: 1 or 0, or -1 for an inner node and
// a check that reads the event's data (SigmaCheckHolds). Most nodes met
// are leaves, so EvalSigma's loops ask this before recursing.
inline int LeafValue(const CompiledRules::FlatNode& node, uint32_t first_condition,
                     const Event& event, const std::vector<uint8_t>& cond_hit,
                     uint32_t channel_id) {
  switch (node.kind) {
    case SigmaNode::Kind::kTrue:
      return 1;
    case SigmaNode::Kind::kFalse:
      return 0;
    case SigmaNode::Kind::kCondition:
      return cond_hit[first_condition + node.arg] != 0 ? 1 : 0;
    case SigmaNode::Kind::kCheck:
      switch (node.header_check) {
        case CompiledRules::HeaderCheck::kChannel:
          return node.arg == channel_id ? 1 : 0;
        case CompiledRules::HeaderCheck::kEventId:
          return node.arg == event.event_id ? 1 : 0;
        case CompiledRules::HeaderCheck::kNone:
          return -1;
      }
      return -1;
    default:
      return -1;
  }
}

}  // namespace

bool Matcher::EvalSigma(uint32_t node_index, const CompiledRules::RuleEntry& entry,
                        const Event& event, const Scratch& scratch) const {
  const auto& nodes = compiled_.sigma_nodes();
  const CompiledRules::FlatNode& node = nodes[node_index];
  const int leaf =
      LeafValue(node, entry.first_condition, event, scratch.cond_hit, scratch.channel_id);
  if (leaf >= 0) return leaf != 0;
  const uint32_t* children = compiled_.sigma_children().data() + node.first_child;
  const uint32_t* children_end = children + node.child_count;
  auto holds = [&](uint32_t c) {
    const int v =
        LeafValue(nodes[c], entry.first_condition, event, scratch.cond_hit, scratch.channel_id);
    return v >= 0 ? v != 0 : EvalSigma(c, entry, event, scratch);
  };
  switch (node.kind) {
    case SigmaNode::Kind::kCheck:
      return SigmaCheckHolds(entry.sigma->checks[node.arg], event);
    case SigmaNode::Kind::kNot:
      return !holds(*children);
    case SigmaNode::Kind::kAnd:
      for (const uint32_t* c = children; c != children_end; ++c) {
        if (!holds(*c)) return false;
      }
      return true;
    case SigmaNode::Kind::kOr:
      for (const uint32_t* c = children; c != children_end; ++c) {
        if (holds(*c)) return true;
      }
      return false;
    case SigmaNode::Kind::kAtLeast: {
      uint32_t held = 0;
      for (const uint32_t* c = children; c != children_end; ++c) {
        if (holds(*c) && ++held >= node.arg) return true;
      }
      return node.arg == 0;
    }
    default:
      return false;  // leaves were answered above
  }
}

void Matcher::Match(const Event& event, std::vector<uint32_t>* rule_indices) const {
  stats_.received.Add();
  Scratch& scratch = ThreadScratch();
  const Plan& plan = PlanFor(event, &scratch);
  if (plan.candidates.empty()) return;
  scratch.channel_id = plan.channel_id;

  const auto& entries = compiled_.entries();
  GrowTo(&scratch.cond_hit, compiled_.conditions().size());
  GrowTo(&scratch.rule_touched, entries.size());
  for (size_t i = 0; i < plan.slots.size(); ++i) {
    ScanSlot(plan.slots[i], plan.relevant[i], plan.subsets[i], event, &scratch);
  }

  // The candidates that can match: those a hit touched (a set pass may
  // also hit other rules' patterns) and those that need no hit.
  scratch.evaluate.assign(plan.always.begin(), plan.always.end());
  for (uint32_t r : scratch.touched) {
    if (entries[r].needs_hit && indexed_ &&
        std::binary_search(plan.candidates.begin(), plan.candidates.end(), r)) {
      scratch.evaluate.push_back(r);
    }
  }

  const auto& conditions = compiled_.conditions();
  size_t before = rule_indices->size();
  for (uint32_t r : scratch.evaluate) {
    const CompiledRules::RuleEntry& entry = entries[r];
    if (entry.sigma_root != CompiledRules::kNoSigma) {
      if (EvalSigma(entry.sigma_root, entry, event, scratch)) rule_indices->push_back(r);
      continue;
    }
    const bool all = entry.all;
    // No field conditions: the exact filters alone decide.
    bool result = entry.condition_count == 0 || all;
    for (uint32_t c = entry.first_condition; c < entry.first_condition + entry.condition_count;
         ++c) {
      bool holds = (scratch.cond_hit[c] != 0) != conditions[c].negate;
      if (all && !holds) {
        result = false;
        break;
      }
      if (!all && holds) {
        result = true;
        break;
      }
    }
    if (result) rule_indices->push_back(r);
  }
  std::sort(rule_indices->begin() + static_cast<std::ptrdiff_t>(before), rule_indices->end());

  for (uint32_t c : scratch.hit_conditions) scratch.cond_hit[c] = 0;
  scratch.hit_conditions.clear();
  for (uint32_t r : scratch.touched) scratch.rule_touched[r] = 0;
  scratch.touched.clear();
  size_t hits = rule_indices->size() - before;
  if (hits > 0) {
    stats_.matched.Add();
    stats_.rule_hits.Add(hits);
  }
}

}  // namespace eventsift::detect
