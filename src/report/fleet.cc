#include "src/report/fleet.h"

#include <algorithm>
#include <map>
#include <set>

#include "src/correlate/host_key.h"

namespace eventsift::report {

std::string EemsStateName(EemsState s) {
  switch (s) {
    case EemsState::kNoEvents:
      return "no EEMS events";
    case EemsState::kWorking:
      return "working";
    case EemsState::kFailing:
      return "failing";
    case EemsState::kNotInLogs:
      return "no Exchange events in the scanned logs";
  }
  return "no EEMS events";
}

std::string BuildStatusName(BuildStatus s) {
  switch (s) {
    case BuildStatus::kUnknown:
      return "unknown";
    case BuildStatus::kOutdated:
      return "OUTDATED (<Mar 2023)";
    case BuildStatus::kBorderline:
      return "Mar 2023 SU (borderline)";
    case BuildStatus::kCurrent:
      return "current";
    case BuildStatus::kNoEems:
      return "no EEMS (pre-2021)";
    case BuildStatus::kIndeterminate:
      return "CU known, SU unknown";
  }
  return "unknown";
}

namespace {

// Widens [first, last] by a timed hit; untimed hits (0) only count.
void Extend(FileTime t, FileTime* first, FileTime* last) {
  if (t == 0) return;
  if (*first == 0 || t < *first) *first = t;
  if (t > *last) *last = t;
}

// `error_after_success`: the earliest timed error after the last success
// (correlate::DecideEemsFailing says how errors and successes decide).
void DecideEems(FleetHost* h, FileTime error_after_success) {
  if (!h->in_logs) {
    // Not "no EEMS events": nothing says whether EEMS runs there at all.
    h->eems = EemsState::kNotInLogs;
    return;
  }
  if (h->eems_errors == 0 && h->eems_successes == 0) {
    h->eems = EemsState::kNoEvents;
    return;
  }
  if (h->eems_errors == 0) {
    h->eems = EemsState::kWorking;
    return;
  }
  const correlate::EemsFailing f = correlate::DecideEemsFailing(
      h->eems_successes, h->first_error, h->last_success, error_after_success);
  h->eems = f.failing ? EemsState::kFailing : EemsState::kWorking;
  if (f.failing) h->failing_since = f.since;
}

// Rows for the inventory's hosts: a host the logs showed is marked as listed,
// any other gets a row of its own, so a server whose logs were not collected
// is still in the fleet. Its names go with the key's for the build lookup.
template <typename Row>
void AddInventoryHosts(const std::vector<std::string>& inventory,
                       const correlate::HostResolver& resolver, std::map<std::string, Row>* by_key,
                       std::map<std::string, std::set<std::string>>* normalized) {
  for (const auto& raw : inventory) {
    const std::string name = correlate::NormalizeHostName(raw);
    if (name.empty()) continue;  // the inventory parser rejects these already
    const std::string key = resolver.Resolve(name);
    auto [it, inserted] = by_key->try_emplace(key);
    FleetHost& row = it->second.host;
    if (inserted) {
      row.host = key;
      row.in_logs = false;
    }
    row.in_inventory = true;
    (*normalized)[key].insert(name);
  }
}

}  // namespace

FleetBuilder::FleetBuilder(const detect::RuleSet* rules, bool merge_short_names,
                           const correlate::CveCatalog* cves)
    : rules_(rules), merge_short_names_(merge_short_names), cves_(cves) {}

void FleetBuilder::FirstPass(uint32_t rule, std::string_view computer, FileTime time,
                             const std::vector<std::string>& mitigations) {
  auto& by_name = summaries_[rule];
  auto it = by_name.find(computer);
  if (it == by_name.end()) it = by_name.emplace(std::string(computer), Summary{}).first;
  ++it->second.count;
  Extend(time, &it->second.first, &it->second.last);
  for (const auto& id : mitigations) {
    correlate::NoteAppliedMitigation({id, time, "EEMS success event (1005/1006)"},
                                     &it->second.mitigations);
  }
}

void FleetBuilder::BetweenPasses(const ScanObservations& obs) {
  const auto& rules = rules_->rules();
  // Keys as the correlator makes them: every name of the run is seen first,
  // so a short name merges with its one FQDN whichever file it came from.
  correlate::HostResolver resolver(merge_short_names_);
  for (const auto& h : obs.exchange_hosts) resolver.See(correlate::NormalizeHostName(h.name));
  for (const auto& [rule, by_name] : summaries_) {
    for (const auto& [name, summary] : by_name) resolver.See(correlate::NormalizeHostName(name));
  }
  // The correlator sees the inventory's names too (Correlator::AddBuild), so
  // a logged "ex12" is keyed by the inventory's "ex12.contoso.com" in alerts
  // and here alike.
  for (const auto& h : obs.inventory_hosts) resolver.See(correlate::NormalizeHostName(h));

  for (const auto& h : obs.exchange_hosts) {
    const std::string name = correlate::NormalizeHostName(h.name);
    const std::string key = resolver.Resolve(name);
    FleetHost& row = by_key_[key].host;
    row.host = key;
    row.exchange_events += h.exchange_events;
    names_[key].insert(h.name);
    normalized_[key].insert(name);
  }
  AddInventoryHosts(obs.inventory_hosts, resolver, &by_key_, &normalized_);

  std::map<std::pair<std::string, uint32_t>, IndicatorHits> indicators;  // (key, rule)
  for (const auto& [rule_index, by_name] : summaries_) {
    if (rule_index >= rules.size()) continue;
    const detect::Rule& rule = rules[rule_index];
    for (const auto& [name, hits] : by_name) {
      const std::string key = resolver.Resolve(correlate::NormalizeHostName(name));
      auto it = by_key_.find(key);
      row_of_name_[name] = it != by_key_.end() ? &it->second : nullptr;
      if (it == by_key_.end()) continue;  // not an Exchange host (no rule of ours does that today)
      FleetHost& row = it->second.host;
      row.in_logs = true;  // an inventory host the logs named only in hits
      if (rule.id == kEemsErrorRule) {
        row.eems_errors += hits.count;
        Extend(hits.first, &row.first_error, &row.last_error);
        Extend(hits.last, &row.first_error, &row.last_error);
      } else if (rule.id == kEemsSuccessRule) {
        row.eems_successes += hits.count;
        Extend(hits.first, &row.first_success, &row.last_success);
        Extend(hits.last, &row.first_success, &row.last_success);
        for (const auto& m : hits.mitigations)
          correlate::NoteAppliedMitigation(m, &row.mitigations);
      } else if (rule.kind == detect::RuleKind::kAlert) {
        IndicatorHits& ind = indicators[{key, rule_index}];
        ind.rule_id = rule.id;
        ind.title = rule.title;
        ind.severity = rule.severity;
        ind.count += hits.count;
        Extend(hits.first, &ind.first, &ind.last);
        Extend(hits.last, &ind.first, &ind.last);
      } else {
        continue;  // other state rules are on no lane
      }
      Extend(hits.first, &span_first_, &span_last_);
      Extend(hits.last, &span_first_, &span_last_);
    }
  }
  for (const auto& inv : obs.inventory_mitigations) {
    auto it = by_key_.find(resolver.Resolve(correlate::NormalizeHostName(inv.host)));
    if (it == by_key_.end()) continue;
    for (const auto& id : inv.ids)
      correlate::NoteAppliedMitigation({id, 0, inv.source}, &it->second.host.mitigations);
  }
  for (auto& [k, ind] : indicators) {
    FleetHost& row = by_key_[k.first].host;
    row.indicator_hits += ind.count;
    row.indicators.push_back(std::move(ind));
  }
  summaries_.clear();
}

void FleetBuilder::Bucket(FileTime time, std::vector<TimelineBucket>* lane) const {
  const double span =
      span_last_ > span_first_ ? static_cast<double>(span_last_ - span_first_) : 1.0;
  const int index = std::clamp(
      static_cast<int>(static_cast<double>(time - span_first_) / span * kTimelineBuckets), 0,
      kTimelineBuckets - 1);
  auto it = std::lower_bound(lane->begin(), lane->end(), index,
                             [](const TimelineBucket& b, int i) { return b.index < i; });
  if (it == lane->end() || it->index != index)
    it = lane->insert(it, TimelineBucket{index, 0, time, time});
  ++it->count;
  it->first = std::min(it->first, time);
  it->last = std::max(it->last, time);
}

void FleetBuilder::SecondPass(uint32_t rule_index, std::string_view computer, FileTime time) {
  if (time == 0 || rule_index >= rules_->rules().size()) return;
  auto it = row_of_name_.find(computer);
  if (it == row_of_name_.end() || it->second == nullptr) return;
  Row& row = *it->second;
  const detect::Rule& rule = rules_->rules()[rule_index];
  if (rule.id == kEemsErrorRule) {
    if (time > row.host.last_success &&
        (row.error_after_success == 0 || time < row.error_after_success)) {
      row.error_after_success = time;
    }
    Bucket(time, &row.host.error_lane);
  } else if (rule.id == kEemsSuccessRule) {
    Bucket(time, &row.host.success_lane);
  } else if (rule.kind == detect::RuleKind::kAlert) {
    Bucket(time, &row.host.indicator_lane);
  }
}

std::vector<FleetHost> FleetBuilder::Build(const BuildLookup& build_for) {
  std::vector<FleetHost> out;
  out.reserve(by_key_.size());
  for (auto& [key, r] : by_key_) {
    FleetHost& row = r.host;
    row.names.assign(names_[key].begin(), names_[key].end());
    std::sort(row.indicators.begin(), row.indicators.end(),
              [](const IndicatorHits& a, const IndicatorHits& b) { return a.rule_id < b.rule_id; });
    DecideEems(&row, r.error_after_success);
    if (build_for) {
      // The correlator keys builds by its own view of the names; asking for
      // the key and then each name finds the build however it was keyed.
      row.build = build_for(key);
      for (auto it = normalized_[key].begin(); !row.build && it != normalized_[key].end(); ++it) {
        row.build = build_for(*it);
      }
    }
    std::sort(row.mitigations.begin(), row.mitigations.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    if (cves_ != nullptr) row.cves = correlate::JudgeCves(*cves_, CveInputOf(row));
    out.push_back(std::move(row));
  }
  by_key_.clear();
  row_of_name_.clear();
  return out;
}

std::vector<FleetHost> BuildFleet(const FleetInput& in) {
  FleetBuilder builder(in.rules, in.merge_short_names, in.cves);
  static const std::vector<HitSeen> kNone;
  const std::vector<HitSeen>& hits = in.hits != nullptr ? *in.hits : kNone;
  for (const auto& h : hits) builder.FirstPass(h.rule, h.computer, h.time, h.mitigations);
  builder.BetweenPasses(*in.observations);
  for (const auto& h : hits) builder.SecondPass(h.rule, h.computer, h.time);
  return builder.Build(in.build_for);
}

correlate::HostCveInput CveInputOf(const FleetHost& h) {
  correlate::HostCveInput in;
  in.build = h.build;
  in.in_logs = h.in_logs;
  in.mitigations = h.mitigations;
  in.eems_errors = h.eems_errors;
  in.eems_successes = h.eems_successes;
  in.eems_failing = h.eems == EemsState::kFailing;
  in.failing_since = h.failing_since;
  in.last_success = h.last_success;
  return in;
}

std::string MitigationsText(const FleetHost& h) {
  if (h.mitigations.empty()) return "-";
  std::string out;
  for (const auto& m : h.mitigations) {
    if (!out.empty()) out += ", ";
    out += m.id;
    out += m.time != 0 ? " (" + FormatRfc3339(m.time, 0) + ")" : std::string(" (inventory)");
  }
  return out;
}

}  // namespace eventsift::report
