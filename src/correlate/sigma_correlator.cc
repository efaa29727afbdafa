#include "src/correlate/sigma_correlator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <simdjson.h>

#include "src/alert/alert_id.h"
#include "src/core/json_writer.h"
#include "src/correlate/host_key.h"
#include "src/detect/field_values.h"
#include "src/detect/sigma_logsource.h"
#include "src/event/owned_event_json.h"

namespace eventsift::correlate {

using detect::SigmaCondition;
using detect::SigmaCorrelation;
using detect::SigmaCorrelationType;

namespace {

constexpr FileTime kMaxTime = std::numeric_limits<FileTime>::max();
constexpr int kStateVersion = 1;

bool EqualsAsciiCaseless(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// "1234", "-5", "2.5", "0x1f" (Windows writes many numbers in hex).
std::optional<double> ParseNumber(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), v, 16);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return static_cast<double>(v);
  }
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string GroupKey(const std::vector<std::string>& values) {
  std::string key;
  for (const auto& v : values) {
    key += v;
    key.push_back('\x1f');
  }
  return key;
}

// The host fields: grouped by as alerts key hosts (NormalizeHostName), so
// "EX01", "ex01", "EX01." and "\\EX01" fall into one group (FQDNs stay apart).
bool IsHostField(std::string_view field) {
  return EqualsAsciiCaseless(field, "Computer") || EqualsAsciiCaseless(field, "ComputerName") ||
         EqualsAsciiCaseless(field, "Hostname");
}

FileTime AddTicks(FileTime t, int64_t ticks) { return t > kMaxTime - ticks ? kMaxTime : t + ticks; }

}  // namespace

std::optional<std::string> DefaultSigmaField(uint32_t /*base_index*/, const OwnedEvent& e,
                                             std::string_view field) {
  if (field == "Computer" || field == "ComputerName" || field == "Hostname") return e.computer;
  if (field == "EventID") return std::to_string(e.event_id);
  if (field == "Channel") return e.channel;
  if (field == "Provider_Name" || field == "Provider") return e.provider;
  for (const auto& [name, value] : e.data) {
    if (name == field) return value;
  }
  for (const auto& [name, value] : e.data) {
    if (EqualsAsciiCaseless(name, field)) return value;
  }
  return std::nullopt;
}

SigmaFieldLookup RuleSetFieldLookup(std::shared_ptr<const detect::RuleSet> rules) {
  // Each Sigma rule's logsource variants, resolved once.
  auto variants =
      std::make_shared<std::vector<std::vector<detect::LogsourceVariant>>>(rules->rules().size());
  for (size_t i = 0; i < rules->rules().size(); ++i) {
    const detect::Rule& r = rules->rules()[i];
    if (r.sigma != nullptr) (void)detect::ResolveLogsource(r.sigma->logsource, &(*variants)[i]);
  }
  return [rules = std::move(rules), variants](uint32_t base_index, const OwnedEvent& event,
                                              std::string_view field) {
    if (base_index < variants->size() && !(*variants)[base_index].empty()) {
      const Event view = event.View();
      for (const detect::LogsourceVariant& v : (*variants)[base_index]) {
        std::optional<std::string> found;
        detect::ForEachFieldValue(view, detect::SigmaFieldRef(field, v), [&](std::string_view x) {
          found = std::string(x);
          return true;
        });
        if (found) return found;
      }
    }
    return DefaultSigmaField(base_index, event, field);
  };
}

// A hit on its way to one correlation: from a base rule, or from a
// correlation's alert (chain).
struct SigmaCorrelator::Item {
  FileTime time = 0;
  uint32_t node = 0;
  uint32_t slot = 0;
  std::vector<std::string> group;           // group-by values, in group-by order
  std::optional<std::string> value;         // the `field` value (value_* types)
  std::string host;                         // raw computer name
  uint64_t line = 0;                        // input line (Kafka: offset + 1), 0 when none
  std::shared_ptr<const OwnedEvent> event;  // sample candidate; null for chained hits
  uint64_t seq = 0;
};

struct SigmaCorrelator::Entry {
  FileTime time = 0;
  uint32_t slot = 0;
  std::optional<std::string> value;
  std::optional<double> number;  // value as a number (value_sum, value_avg)
  std::string host;
  uint64_t line = 0;
  std::shared_ptr<const OwnedEvent> event;  // kept for the latest max_samples entries
};

struct SigmaCorrelator::Group {
  std::vector<std::string> values;
  std::deque<Entry> entries;  // by time
  // Aggregates of `entries`, kept as they come and go.
  std::map<std::string, uint64_t> value_counts;
  std::vector<uint64_t> slot_counts;
  double sum = 0;
  uint64_t numbers = 0;
  uint64_t with_event = 0;
  FileTime last_time = 0;  // newest entry ever pushed (eviction order)
  // After an alert, hits before its window's end are absorbed: one alert per
  // group and window, not one per hit past the threshold.
  FileTime quiet_until = 0;
};

struct SigmaCorrelator::Node {
  SigmaCorrelation spec;
  uint32_t index = 0;        // in nodes_
  SigmaCondition condition;  // spec.condition, or "all rules" for temporal types
  int64_t span = 0;          // timespan in ticks
  bool standalone = true;
  std::map<std::string, Group> groups;  // by GroupKey(values)

  // The field that group-by entry `g` reads in events of rule slot `slot`.
  const std::string& GroupField(size_t g, uint32_t slot) const {
    const std::string& name = spec.group_by[g];
    auto alias = spec.aliases.find(name);
    if (alias != spec.aliases.end()) {
      auto it = alias->second.find(spec.rules[slot]);
      if (it != alias->second.end()) return it->second;
    }
    return name;
  }
  // Whether a condition can only be decided once the window closed: an
  // upper bound (a later entry can make it false), or a metric that new
  // entries can lower (sum of negative values, average, share).
  bool DecideAtClose() const {
    return condition.HasUpperBound() || spec.type == SigmaCorrelationType::kValueSum ||
           spec.type == SigmaCorrelationType::kValueAvg ||
           spec.type == SigmaCorrelationType::kValuePercentile;
  }
};

SigmaCorrelator::SigmaCorrelator(std::vector<SigmaCorrelation> correlations,
                                 std::vector<SigmaRuleRef> base_rules, std::vector<Status>* refused,
                                 SigmaCorrelatorOptions options)
    : base_consumers_(base_rules.size()),
      base_standalone_(base_rules.size(), true),
      options_(std::move(options)),
      stats_(options_.stats != nullptr ? options_.stats
                                       : std::make_shared<SigmaCorrelatorStats>()) {
  if (!options_.field_lookup) options_.field_lookup = DefaultSigmaField;
  const size_t n = correlations.size();
  detect::SigmaResolution res = detect::ResolveSigmaCorrelations(correlations, base_rules);
  if (refused != nullptr) {
    std::move(res.refused.begin(), res.refused.end(), std::back_inserter(*refused));
  }
  std::vector<int64_t> node_of(n, -1);
  for (size_t c = 0; c < n; ++c) {
    if (!res.accepted[c]) continue;
    node_of[c] = static_cast<int64_t>(nodes_.size());
    auto node = std::make_unique<Node>();
    node->spec = correlations[c];
    node->index = static_cast<uint32_t>(nodes_.size());
    node->condition = node->spec.condition;
    if (node->condition.Empty()) node->condition.gte = static_cast<double>(node->spec.rules.size());
    node->span = node->spec.timespan_seconds * kTicksPerSecond;
    max_timespan_seconds_ = std::max(max_timespan_seconds_, node->spec.timespan_seconds);
    nodes_.push_back(std::move(node));
  }
  node_consumers_.resize(nodes_.size());
  // A rule alerts on its own unless correlations name it, none of them
  // with `generate: true`.
  std::vector<int> base_named(base_rules.size(), 0), base_generate(base_rules.size(), 0);
  std::vector<int> node_named(nodes_.size(), 0), node_generate(nodes_.size(), 0);
  for (size_t c = 0; c < n; ++c) {
    if (node_of[c] < 0) continue;
    const auto outer = static_cast<uint32_t>(node_of[c]);
    for (uint32_t slot = 0; slot < res.refs[c].size(); ++slot) {
      const detect::SigmaRef r = res.refs[c][slot];
      const bool gen = correlations[c].generate;
      if (!r.correlation) {
        base_consumers_[r.index].push_back(Consumer{outer, slot});
        base_named[r.index] = 1;
        base_generate[r.index] |= gen ? 1 : 0;
      } else {
        const auto inner = static_cast<size_t>(node_of[r.index]);
        node_consumers_[inner].push_back(Consumer{outer, slot});
        node_named[inner] = 1;
        node_generate[inner] |= gen ? 1 : 0;
      }
    }
  }
  for (size_t b = 0; b < base_rules.size(); ++b) {
    base_standalone_[b] = !base_named[b] || base_generate[b];
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    nodes_[i]->standalone = !node_named[i] || node_generate[i];
  }
}

SigmaCorrelator::~SigmaCorrelator() {
  stats_->windows_open.fetch_sub(groups_counted_);
  stats_->hits_held.fetch_sub(hits_counted_);
}

void SigmaCorrelator::CountHeld() {
  int64_t groups = 0;
  for (const auto& node : nodes_) groups += static_cast<int64_t>(node->groups.size());
  auto hits = static_cast<int64_t>(open_entries());
  stats_->windows_open.fetch_add(groups - groups_counted_);
  stats_->hits_held.fetch_add(hits - hits_counted_);
  groups_counted_ = groups;
  hits_counted_ = hits;
}

const SigmaCorrelation& SigmaCorrelator::correlation(size_t i) const { return nodes_[i]->spec; }

bool SigmaCorrelator::Uses(uint32_t base_index) const {
  return base_index < base_consumers_.size() && !base_consumers_[base_index].empty();
}

bool SigmaCorrelator::Standalone(uint32_t base_index) const {
  return base_index >= base_standalone_.size() || base_standalone_[base_index];
}

void SigmaCorrelator::AddHit(uint32_t base_index, const OwnedEvent& event) {
  if (!Uses(base_index)) return;
  stats_->hits_received.Add();
  if (event.time == 0) {
    stats_->hits_untimed.Add();
    return;
  }
  if (event.time <= applied_until_) {
    stats_->hits_late.Add();
    return;
  }
  auto shared = std::make_shared<const OwnedEvent>(event);
  auto lookup = [&](const std::string& field) {
    return options_.field_lookup(base_index, event, field);
  };
  for (const Consumer& c : base_consumers_[base_index]) {
    Item item = MakeItem(c, event.time, lookup);
    item.host = event.computer;
    item.line = event.line;
    item.event = shared;
    Push(std::move(item));
  }
}

SigmaCorrelator::Item SigmaCorrelator::MakeItem(
    const Consumer& c, FileTime time,
    const std::function<std::optional<std::string>(const std::string&)>& lookup) const {
  const Node& node = *nodes_[c.node];
  Item item;
  item.time = time;
  item.node = c.node;
  item.slot = c.slot;
  for (size_t g = 0; g < node.spec.group_by.size(); ++g) {
    const std::string& field = node.GroupField(g, c.slot);
    std::string value = lookup(field).value_or(std::string());
    item.group.push_back(IsHostField(field) ? NormalizeHostName(value) : std::move(value));
  }
  if (!node.spec.field.empty()) item.value = lookup(node.spec.field);
  return item;
}

void SigmaCorrelator::Push(Item item) {
  item.seq = seq_++;
  pending_.push_back(std::move(item));
  stats_->hits_held.fetch_add(1);  // exact again at the next Apply
  ++hits_counted_;
  if (pending_.size() <= options_.max_pending) return;
  // Over the bound: apply the oldest hits now, as if the watermark had
  // moved to the newest pending time minus the longest timespan.
  FileTime newest = 0;
  for (const Item& i : pending_) newest = std::max(newest, i.time);
  FileTime forced = newest - max_timespan_seconds_ * kTicksPerSecond;
  std::vector<Alert> alerts = Apply(std::max(forced, applied_until_ + 1), /*final=*/false);
  forced_.insert(forced_.end(), std::make_move_iterator(alerts.begin()),
                 std::make_move_iterator(alerts.end()));
}

std::vector<Alert> SigmaCorrelator::Drain(FileTime watermark) {
  std::vector<Alert> out = std::move(forced_);
  forced_.clear();
  if (watermark <= applied_until_) return out;
  std::vector<Alert> more = Apply(watermark, /*final=*/false);
  std::move(more.begin(), more.end(), std::back_inserter(out));
  return out;
}

std::vector<Alert> SigmaCorrelator::Finish() {
  std::vector<Alert> out = std::move(forced_);
  forced_.clear();
  std::vector<Alert> more = Apply(kMaxTime, /*final=*/true);
  std::move(more.begin(), more.end(), std::back_inserter(out));
  return out;
}

std::vector<Alert> SigmaCorrelator::Apply(FileTime watermark, bool final) {
  std::vector<Alert> out;
  // Content first, arrival last: the same hits give the same alerts in any
  // input order.
  auto less = [](const Item& a, const Item& b) {
    return std::tie(a.time, a.node, a.slot, a.group, a.value, a.host, a.line, a.seq) <
           std::tie(b.time, b.node, b.slot, b.group, b.value, b.host, b.line, b.seq);
  };
  auto greater = [&](const Item& a, const Item& b) { return less(b, a); };
  // The hits due now, sorted once; chained hits (few) go to a heap beside.
  std::vector<Item> ready;
  std::vector<Item> keep;
  for (Item& item : pending_) {
    (final || item.time <= watermark ? ready : keep).push_back(std::move(item));
  }
  pending_ = std::move(keep);
  std::sort(ready.begin(), ready.end(), less);
  std::vector<Item> chained;  // a min-heap by `greater`
  std::vector<Item> derived;
  auto take_derived = [&] {
    for (Item& d : derived) {
      stats_->chained_hits.Add();
      d.seq = seq_++;
      if (final || d.time <= watermark) {
        chained.push_back(std::move(d));
        std::push_heap(chained.begin(), chained.end(), greater);
      } else {
        pending_.push_back(std::move(d));
      }
    }
    derived.clear();
  };
  size_t next = 0;
  for (;;) {
    while (next < ready.size() || !chained.empty()) {
      Item item;
      if (!chained.empty() && (next == ready.size() || less(chained.front(), ready[next]))) {
        std::pop_heap(chained.begin(), chained.end(), greater);
        item = std::move(chained.back());
        chained.pop_back();
      } else {
        item = std::move(ready[next++]);
      }
      ApplyItem(std::move(item), &derived, &out);
      take_derived();
    }
    // Windows ending at or before the watermark are complete: decide them.
    for (uint32_t n = 0; n < nodes_.size(); ++n) {
      Node& node = *nodes_[n];
      for (auto it = node.groups.begin(); it != node.groups.end();) {
        Group& group = it->second;
        CloseUntil(node, group, final ? kMaxTime : watermark, &derived, &out);
        const bool idle = group.entries.empty() && (final || group.quiet_until <= watermark);
        it = idle ? node.groups.erase(it) : std::next(it);
      }
    }
    if (derived.empty()) break;
    take_derived();
  }
  if (!final) applied_until_ = std::max(applied_until_, watermark);
  CountHeld();
  return out;
}

void SigmaCorrelator::ApplyItem(Item item, std::vector<Item>* derived, std::vector<Alert>* out) {
  Node& node = *nodes_[item.node];
  std::string key = GroupKey(item.group);
  auto it = node.groups.find(key);
  if (it == node.groups.end()) {
    if (node.groups.size() >= options_.max_groups_per_correlation) EvictGroups(node);
    it = node.groups.emplace(std::move(key), Group{}).first;
    it->second.values = item.group;
    it->second.slot_counts.assign(node.spec.rules.size(), 0);
  }
  Group& group = it->second;
  // Windows the new entry is past are complete.
  CloseUntil(node, group, item.time, derived, out);
  if (item.time < group.quiet_until) {
    stats_->hits_absorbed.Add();
    return;
  }
  Entry entry;
  entry.time = item.time;
  entry.slot = item.slot;
  if (item.value) entry.number = ParseNumber(*item.value);
  entry.value = std::move(item.value);
  entry.host = std::move(item.host);
  entry.line = item.line;
  entry.event = std::move(item.event);
  PushEntry(node, group, std::move(entry));
  if (node.DecideAtClose()) return;
  double metric = 0;
  std::string value;
  if (Evaluate(node, group, &metric, &value)) Fire(node, group, metric, value, derived, out);
}

void SigmaCorrelator::CloseUntil(Node& node, Group& group, FileTime limit,
                                 std::vector<Item>* derived, std::vector<Alert>* out) {
  while (!group.entries.empty() && AddTicks(group.entries.front().time, node.span) <= limit) {
    double metric = 0;
    std::string value;
    if (node.DecideAtClose() && Evaluate(node, group, &metric, &value)) {
      Fire(node, group, metric, value, derived, out);
      continue;
    }
    // Entries of the same time anchor the same window: all go.
    const FileTime t = group.entries.front().time;
    while (!group.entries.empty() && group.entries.front().time == t) PopFront(node, group);
  }
}

void SigmaCorrelator::PushEntry(Node& node, Group& group, Entry entry) {
  if (group.entries.size() >= options_.max_entries_per_group) {
    PopFront(node, group);
    stats_->entries_dropped.Add();
  }
  if (entry.value) ++group.value_counts[*entry.value];
  if (entry.slot < group.slot_counts.size()) ++group.slot_counts[entry.slot];
  if (entry.number) {
    group.sum += *entry.number;
    ++group.numbers;
  }
  group.last_time = std::max(group.last_time, entry.time);
  // Chained hits may come slightly out of order; keep the deque by time.
  auto pos = group.entries.end();
  while (pos != group.entries.begin() && std::prev(pos)->time > entry.time) --pos;
  if (entry.event) ++group.with_event;
  group.entries.insert(pos, std::move(entry));
  // Only the latest max_samples entries keep their event: the one past them,
  // found from the back (entries arrive mostly in time order), lets go.
  if (group.with_event > options_.max_samples) {
    uint32_t seen = 0;
    for (auto e = group.entries.rbegin(); e != group.entries.rend(); ++e) {
      if (e->event && ++seen > options_.max_samples) {
        e->event.reset();
        --group.with_event;
        break;
      }
    }
  }
}

void SigmaCorrelator::PopFront(Node& node, Group& group) {
  (void)node;
  Entry& e = group.entries.front();
  if (e.value) {
    auto it = group.value_counts.find(*e.value);
    if (it != group.value_counts.end() && --it->second == 0) group.value_counts.erase(it);
  }
  if (e.slot < group.slot_counts.size()) --group.slot_counts[e.slot];
  if (e.number) {
    group.sum -= *e.number;
    --group.numbers;
  }
  if (e.event) --group.with_event;
  group.entries.pop_front();
  if (group.numbers == 0) group.sum = 0;  // no drift from float subtraction
}

bool SigmaCorrelator::Evaluate(const Node& node, const Group& group, double* metric,
                               std::string* value) const {
  if (group.entries.empty()) return false;
  const SigmaCondition& cond = node.condition;
  switch (node.spec.type) {
    case SigmaCorrelationType::kEventCount:
      *metric = static_cast<double>(group.entries.size());
      return cond.Holds(*metric);
    case SigmaCorrelationType::kValueCount:
      *metric = static_cast<double>(group.value_counts.size());
      return cond.Holds(*metric);
    case SigmaCorrelationType::kTemporal:
      *metric = static_cast<double>(std::count_if(
          group.slot_counts.begin(), group.slot_counts.end(), [](uint64_t c) { return c > 0; }));
      return cond.Holds(*metric);
    case SigmaCorrelationType::kTemporalOrdered: {
      // The longest prefix of `rules` seen in that order: taking the
      // earliest entry of each next rule never misses a longer chain.
      size_t stage = 0;
      for (const Entry& e : group.entries) {
        if (stage < node.spec.rules.size() && e.slot == stage) ++stage;
      }
      *metric = static_cast<double>(stage);
      return cond.Holds(*metric);
    }
    case SigmaCorrelationType::kValueSum:
      if (group.numbers == 0) return false;
      *metric = group.sum;
      return cond.Holds(*metric);
    case SigmaCorrelationType::kValueAvg:
      if (group.numbers == 0) return false;
      *metric = group.sum / static_cast<double>(group.numbers);
      return cond.Holds(*metric);
    case SigmaCorrelationType::kValuePercentile: {
      // The share (percent) of the window's entries carrying each value;
      // the rarest value satisfying the condition is reported.
      uint64_t total = 0;
      for (const auto& [v, c] : group.value_counts) total += c;
      if (total == 0) return false;
      bool found = false;
      for (const auto& [v, c] : group.value_counts) {
        const double share = 100.0 * static_cast<double>(c) / static_cast<double>(total);
        if (cond.Holds(share) && (!found || share < *metric)) {
          found = true;
          *metric = share;
          *value = v;
        }
      }
      return found;
    }
  }
  return false;
}

void SigmaCorrelator::Fire(Node& node, Group& group, double metric, const std::string& value,
                           std::vector<Item>* derived, std::vector<Alert>* out) {
  const uint32_t node_index = node.index;
  const Entry& front = group.entries.front();
  const Entry& back = group.entries.back();
  if (node.standalone) {
    const SigmaCorrelation& s = node.spec;
    Alert alert;
    alert.rule = AlertRule{s.Key(),       s.title,
                           s.description, s.level.empty() ? std::string("medium") : s.level,
                           std::string(), s.references};
    std::set<std::string> names, keys;
    for (const Entry& e : group.entries) {
      if (!e.host.empty()) {
        names.insert(e.host);
        keys.insert(NormalizeHostName(e.host));
      }
    }
    alert.host_names.assign(names.begin(), names.end());
    // One machine under several spellings is still one host.
    if (keys.size() == 1) alert.host = *keys.begin();
    alert.first_seen = front.time;
    alert.last_seen = back.time;
    alert.window_start = front.time;
    alert.window_end = AddTicks(front.time, node.span);
    alert.count = group.entries.size();
    for (const Entry& e : group.entries) {
      if (e.event) alert.samples.push_back(*e.event);
    }
    AlertCorrelation info;
    info.type = std::string(detect::SigmaCorrelationTypeName(s.type));
    info.condition = node.condition.ToString();
    info.metric = metric;
    info.field = s.field;
    info.value = value;
    info.rules = s.rules;
    for (size_t g = 0; g < s.group_by.size(); ++g) {
      info.group.emplace_back(s.group_by[g], group.values[g]);
    }
    alert.correlation = std::move(info);
    // The group stands where the host key stands in the id recipe.
    alert.alert_id = ComputeAlertId(s.Key(), GroupKey(group.values), alert.window_start);
    stats_->alerts_emitted.Add();
    out->push_back(std::move(alert));
  }
  // A chained hit's fields are this correlation's group-by values.
  auto lookup = [&](const std::string& field) -> std::optional<std::string> {
    for (size_t g = 0; g < node.spec.group_by.size(); ++g) {
      if (node.spec.group_by[g] == field) return group.values[g];
    }
    return std::nullopt;
  };
  for (const Consumer& c : node_consumers_[node_index]) {
    Item item = MakeItem(c, back.time, lookup);
    item.host = back.host;
    item.line = front.line;
    derived->push_back(std::move(item));
  }
  group.quiet_until = AddTicks(front.time, node.span);
  while (!group.entries.empty()) PopFront(node, group);
}

void SigmaCorrelator::EvictGroups(Node& node) {
  // The least recently seen tenth goes at once, so a flood of new groups
  // costs one sort per tenth of the bound, not a scan per group.
  using GroupIt = std::map<std::string, Group>::iterator;
  std::vector<std::pair<FileTime, GroupIt>> order;
  order.reserve(node.groups.size());
  for (auto it = node.groups.begin(); it != node.groups.end(); ++it) {
    order.emplace_back(it->second.last_time, it);
  }
  const size_t n = std::max<size_t>(1, order.size() / 10);
  if (order.empty()) return;
  std::nth_element(order.begin(), order.begin() + static_cast<ptrdiff_t>(n - 1), order.end(),
                   [](const auto& a, const auto& b) {
                     return std::tie(a.first, a.second->first) < std::tie(b.first, b.second->first);
                   });
  for (size_t i = 0; i < n; ++i) node.groups.erase(order[i].second);
  stats_->groups_dropped.Add(n);
}

uint64_t SigmaCorrelator::OldestOpenLine() const {
  uint64_t oldest = 0;
  auto see = [&](uint64_t line) {
    if (line != 0 && (oldest == 0 || line < oldest)) oldest = line;
  };
  for (const Item& i : pending_) see(i.line);
  for (const auto& node : nodes_) {
    for (const auto& [key, group] : node->groups) {
      for (const Entry& e : group.entries) see(e.line);
    }
  }
  return oldest;
}

size_t SigmaCorrelator::open_entries() const {
  size_t n = pending_.size();
  for (const auto& node : nodes_) {
    for (const auto& [key, group] : node->groups) n += group.entries.size();
  }
  return n;
}

// --- State ---------------------------------------------------------------

std::string SigmaCorrelator::SaveState() const {
  std::string out;
  JsonWriter w(&out);
  auto write_common = [&](FileTime time, const std::string& rule,
                          const std::optional<std::string>& value, const std::string& host,
                          uint64_t line, const std::shared_ptr<const OwnedEvent>& event) {
    w.KVInt("time", time);
    w.KV("rule", rule);
    if (value) w.KV("value", *value);
    if (!host.empty()) w.KV("host", host);
    if (line != 0) w.KVUInt("line", line);
    if (event) {
      w.Key("event");
      WriteOwnedEventJson(*event, &w);
    }
  };
  auto write_strings = [&](const char* key, const std::vector<std::string>& list) {
    w.Key(key);
    w.BeginArray();
    for (const auto& s : list) w.String(s);
    w.EndArray();
  };
  w.BeginObject();
  w.KVInt("version", kStateVersion);
  w.KVInt("applied_until", applied_until_);
  w.Key("pending");
  w.BeginArray();
  for (const Item& i : pending_) {
    const Node& node = *nodes_[i.node];
    w.BeginObject();
    w.KV("correlation", node.spec.Key());
    write_strings("group", i.group);
    write_common(i.time, node.spec.rules[i.slot], i.value, i.host, i.line, i.event);
    w.EndObject();
  }
  w.EndArray();
  w.Key("windows");
  w.BeginArray();
  for (const auto& node : nodes_) {
    for (const auto& [key, group] : node->groups) {
      w.BeginObject();
      w.KV("correlation", node->spec.Key());
      write_strings("group", group.values);
      if (group.quiet_until != 0) w.KVInt("quiet_until", group.quiet_until);
      w.Key("entries");
      w.BeginArray();
      for (const Entry& e : group.entries) {
        w.BeginObject();
        write_common(e.time, node->spec.rules[e.slot], e.value, e.host, e.line, e.event);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  return out;
}

Status SigmaCorrelator::LoadState(std::string_view json, const std::string& origin) {
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (auto err = parser.parse(json.data(), json.size()).get(root)) {
    return Status::Corruption(
               fmt::format("sigma correlation state is not JSON: {}", simdjson::error_message(err)))
        .At(origin);
  }
  auto bad = [&](std::string what) {
    return Status::Corruption(fmt::format("sigma correlation state: {}", what)).At(origin);
  };
  int64_t version = 0;
  if (root["version"].get(version) || version != kStateVersion) {
    return bad("unknown version");
  }
  std::map<std::string, uint32_t> node_by_key;
  for (uint32_t n = 0; n < nodes_.size(); ++n) node_by_key.emplace(nodes_[n]->spec.Key(), n);
  // Reads the fields shared by pending hits and window entries; false when
  // the correlation or rule no longer exists (skipped, not an error).
  struct Common {
    uint32_t node = 0, slot = 0;
    std::vector<std::string> group;
    FileTime time = 0;
    std::optional<std::string> value;
    std::string host;
    uint64_t line = 0;
    std::shared_ptr<const OwnedEvent> event;
  };
  auto read_group = [&](simdjson::dom::object o, Common* c) -> Status {
    std::string_view key;
    if (o["correlation"].get(key)) return bad("an entry has no correlation");
    simdjson::dom::array group;
    if (o["group"].get(group)) return bad("an entry has no group");
    for (simdjson::dom::element g : group) {
      std::string_view v;
      if (g.get(v)) return bad("a group value is no string");
      c->group.emplace_back(v);
    }
    auto it = node_by_key.find(std::string(key));
    c->node = it == node_by_key.end() ? UINT32_MAX : it->second;
    if (c->node != UINT32_MAX && c->group.size() != nodes_[c->node]->spec.group_by.size()) {
      c->node = UINT32_MAX;  // the group-by changed: the old windows mean nothing now
    }
    return Status::OK();
  };
  auto read_common = [&](simdjson::dom::object o, Common* c) -> Status {
    std::string_view rule, s;
    if (o["time"].get(c->time) || o["rule"].get(rule)) return bad("an entry lacks time or rule");
    if (!o["value"].get(s)) c->value = std::string(s);
    if (!o["host"].get(s)) c->host = std::string(s);
    uint64_t line = 0;
    if (!o["line"].get(line)) c->line = line;
    simdjson::dom::object ev;
    if (!o["event"].get(ev)) {
      OwnedEvent e;
      Status st = ReadOwnedEventJson(ev, &e);
      if (!st.ok()) return std::move(st).At(origin);
      c->event = std::make_shared<const OwnedEvent>(std::move(e));
    }
    if (c->node == UINT32_MAX) return Status::OK();
    const auto& rules = nodes_[c->node]->spec.rules;
    auto pos = std::find(rules.begin(), rules.end(), rule);
    if (pos == rules.end()) {
      c->node = UINT32_MAX;
    } else {
      c->slot = static_cast<uint32_t>(pos - rules.begin());
    }
    return Status::OK();
  };
  std::vector<Item> pending;
  struct Window {
    uint32_t node;
    std::vector<std::string> group;
    FileTime quiet_until = 0;
    std::vector<Entry> entries;
  };
  std::vector<Window> windows;
  simdjson::dom::array arr;
  if (!root["pending"].get(arr)) {
    for (simdjson::dom::element el : arr) {
      simdjson::dom::object o;
      if (el.get(o)) return bad("a pending hit is no object");
      Common c;
      ES_RETURN_IF_ERROR(read_group(o, &c));
      ES_RETURN_IF_ERROR(read_common(o, &c));
      if (c.node == UINT32_MAX) continue;
      Item item;
      item.time = c.time;
      item.node = c.node;
      item.slot = c.slot;
      item.group = std::move(c.group);
      item.value = std::move(c.value);
      item.host = std::move(c.host);
      item.line = c.line;
      item.event = std::move(c.event);
      pending.push_back(std::move(item));
    }
  }
  if (!root["windows"].get(arr)) {
    for (simdjson::dom::element el : arr) {
      simdjson::dom::object o;
      simdjson::dom::array entries;
      if (el.get(o) || o["entries"].get(entries)) return bad("a window is no object with entries");
      Common head;
      ES_RETURN_IF_ERROR(read_group(o, &head));
      std::vector<Entry> list;
      uint32_t node = head.node;
      for (simdjson::dom::element ee : entries) {
        simdjson::dom::object eo;
        if (ee.get(eo)) return bad("a window entry is no object");
        Common c;
        c.node = node;
        ES_RETURN_IF_ERROR(read_common(eo, &c));
        if (c.node == UINT32_MAX) continue;
        Entry e;
        e.time = c.time;
        e.slot = c.slot;
        e.value = std::move(c.value);
        e.host = std::move(c.host);
        e.line = c.line;
        e.event = std::move(c.event);
        list.push_back(std::move(e));
      }
      int64_t quiet = 0;
      if (o["quiet_until"].get(quiet) == simdjson::INCORRECT_TYPE) return bad("bad quiet_until");
      if (node != UINT32_MAX)
        windows.push_back({node, std::move(head.group), quiet, std::move(list)});
    }
  }
  // All read: replace the state.
  int64_t applied = 0;
  if (root["applied_until"].get(applied)) return bad("no applied_until");
  for (auto& node : nodes_) node->groups.clear();
  pending_.clear();
  applied_until_ = applied;
  // State saved before host group-by values were normalized joins the
  // groups new hits fall into.
  auto normalize_hosts = [&](uint32_t n, std::vector<std::string>* values) {
    const auto& names = nodes_[n]->spec.group_by;
    for (size_t g = 0; g < values->size() && g < names.size(); ++g) {
      if (IsHostField(names[g])) (*values)[g] = NormalizeHostName((*values)[g]);
    }
  };
  for (Item& item : pending) {
    normalize_hosts(item.node, &item.group);
    item.seq = seq_++;
    pending_.push_back(std::move(item));
  }
  for (Window& w : windows) {
    normalize_hosts(w.node, &w.group);
    Node& node = *nodes_[w.node];
    Group& group = node.groups[GroupKey(w.group)];
    group.values = w.group;
    group.quiet_until = w.quiet_until;
    group.slot_counts.assign(node.spec.rules.size(), 0);
    for (Entry& e : w.entries) {
      if (e.value) e.number = ParseNumber(*e.value);
      PushEntry(node, group, std::move(e));
    }
  }
  CountHeld();
  return Status::OK();
}

}  // namespace eventsift::correlate
