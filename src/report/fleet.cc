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

void DecideEems(FleetHost* h) {
  std::sort(h->error_times.begin(), h->error_times.end());
  std::sort(h->success_times.begin(), h->success_times.end());
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
  // Errors after the last success mean EEMS stopped working. Without times
  // on either side the order is unknown; an error then counts as failing,
  // since missing a broken server is worse than a second look at a good one.
  auto after = std::upper_bound(h->error_times.begin(), h->error_times.end(), h->last_success);
  if (h->eems_successes == 0 || h->last_success == 0 || after != h->error_times.end() ||
      h->error_times.empty()) {
    h->eems = EemsState::kFailing;
    h->failing_since = after != h->error_times.end() ? *after : h->first_error;
    return;
  }
  h->eems = EemsState::kWorking;  // every error came before the last success
}

// Keeps the earliest sighting of each mitigation id (timed beats untimed).
void NoteMitigation(correlate::AppliedMitigation m, FleetHost* h) {
  for (auto& have : h->mitigations) {
    if (have.id != m.id) continue;
    if (m.time != 0 && (have.time == 0 || m.time < have.time)) have = std::move(m);
    return;
  }
  h->mitigations.push_back(std::move(m));
}

// Rows for the inventory's hosts: a host the logs showed is marked as listed,
// any other gets a row of its own, so a server whose logs were not collected
// is still in the fleet. Its names go with the key's for the build lookup.
void AddInventoryHosts(const std::vector<std::string>& inventory,
                       const correlate::HostResolver& resolver,
                       std::map<std::string, FleetHost>* by_key,
                       std::map<std::string, std::set<std::string>>* normalized) {
  for (const auto& raw : inventory) {
    const std::string name = correlate::NormalizeHostName(raw);
    if (name.empty()) continue;  // the inventory parser rejects these already
    const std::string key = resolver.Resolve(name);
    auto [it, inserted] = by_key->try_emplace(key);
    FleetHost& row = it->second;
    if (inserted) {
      row.host = key;
      row.in_logs = false;
    }
    row.in_inventory = true;
    (*normalized)[key].insert(name);
  }
}

}  // namespace

std::vector<FleetHost> BuildFleet(const FleetInput& in) {
  const ScanObservations& obs = *in.observations;
  const auto& rules = in.rules->rules();
  // Keys as the correlator makes them: every name of the run is seen first,
  // so a short name merges with its one FQDN whichever file it came from.
  correlate::HostResolver resolver(in.merge_short_names);
  for (const auto& h : obs.exchange_hosts) resolver.See(correlate::NormalizeHostName(h.name));
  for (const auto& hit : obs.hits) resolver.See(correlate::NormalizeHostName(hit.computer));
  // The correlator sees the inventory's names too (Correlator::AddBuild), so
  // a logged "ex12" is keyed by the inventory's "ex12.contoso.com" in alerts
  // and here alike.
  for (const auto& h : obs.inventory_hosts) resolver.See(correlate::NormalizeHostName(h));

  std::map<std::string, FleetHost> by_key;
  std::map<std::string, std::set<std::string>> names;       // key -> raw names
  std::map<std::string, std::set<std::string>> normalized;  // key -> normalized names
  for (const auto& h : obs.exchange_hosts) {
    const std::string name = correlate::NormalizeHostName(h.name);
    const std::string key = resolver.Resolve(name);
    FleetHost& row = by_key[key];
    row.host = key;
    row.exchange_events += h.exchange_events;
    names[key].insert(h.name);
    normalized[key].insert(name);
  }
  AddInventoryHosts(obs.inventory_hosts, resolver, &by_key, &normalized);

  std::map<std::pair<std::string, uint32_t>, IndicatorHits> indicators;  // (key, rule)
  for (const auto& hit : obs.hits) {
    if (hit.rule >= rules.size()) continue;
    const detect::Rule& rule = rules[hit.rule];
    const std::string key = resolver.Resolve(correlate::NormalizeHostName(hit.computer));
    auto it = by_key.find(key);
    if (it == by_key.end()) continue;  // not an Exchange host (no rule of ours does that today)
    FleetHost& row = it->second;
    row.in_logs = true;  // an inventory host the logs named only in this hit
    if (rule.id == kEemsErrorRule) {
      ++row.eems_errors;
      Extend(hit.time, &row.first_error, &row.last_error);
      if (hit.time != 0) row.error_times.push_back(hit.time);
    } else if (rule.id == kEemsSuccessRule) {
      ++row.eems_successes;
      Extend(hit.time, &row.first_success, &row.last_success);
      if (hit.time != 0) row.success_times.push_back(hit.time);
      for (const auto& id : hit.mitigations) {
        NoteMitigation({id, hit.time, "EEMS success event (1005/1006)"}, &row);
      }
    } else if (rule.kind == detect::RuleKind::kAlert) {
      IndicatorHits& ind = indicators[{key, hit.rule}];
      ind.rule_id = rule.id;
      ind.title = rule.title;
      ind.severity = rule.severity;
      ++ind.count;
      Extend(hit.time, &ind.first, &ind.last);
      if (hit.time != 0) row.indicator_times.push_back(TimelineHit{hit.time, rule.id});
    }
  }
  for (const auto& inv : obs.inventory_mitigations) {
    auto it = by_key.find(resolver.Resolve(correlate::NormalizeHostName(inv.host)));
    if (it == by_key.end()) continue;
    for (const auto& id : inv.ids) NoteMitigation({id, 0, inv.source}, &it->second);
  }
  for (auto& [k, ind] : indicators) {
    FleetHost& row = by_key[k.first];
    row.indicator_hits += ind.count;
    row.indicators.push_back(std::move(ind));
  }

  std::vector<FleetHost> out;
  out.reserve(by_key.size());
  for (auto& [key, row] : by_key) {
    row.names.assign(names[key].begin(), names[key].end());
    std::sort(row.indicators.begin(), row.indicators.end(),
              [](const IndicatorHits& a, const IndicatorHits& b) { return a.rule_id < b.rule_id; });
    std::stable_sort(row.indicator_times.begin(), row.indicator_times.end(),
                     [](const TimelineHit& a, const TimelineHit& b) { return a.time < b.time; });
    DecideEems(&row);
    if (in.build_for) {
      // The correlator keys builds by its own view of the names; asking for
      // the key and then each name finds the build however it was keyed.
      row.build = in.build_for(key);
      for (auto it = normalized[key].begin(); !row.build && it != normalized[key].end(); ++it) {
        row.build = in.build_for(*it);
      }
    }
    std::sort(row.mitigations.begin(), row.mitigations.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    if (in.cves != nullptr) row.cves = correlate::JudgeCves(*in.cves, CveInputOf(row));
    out.push_back(std::move(row));
  }
  return out;
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
