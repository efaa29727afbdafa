#include "src/correlate/correlator.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "src/alert/alert_id.h"
#include "src/correlate/inventory.h"

namespace eventsift::correlate {

namespace {

constexpr FileTime kMaxTime = std::numeric_limits<FileTime>::max();

// A total order on hits that depends on nothing but their content: time
// first, then where they were read, then what they say.
bool EventLess(const OwnedEvent& a, const OwnedEvent& b) {
  return std::tie(a.time, a.file, a.offset, a.line, a.chunk, a.record_id, a.computer, a.provider,
                  a.event_id, a.channel, a.message, a.data) <
         std::tie(b.time, b.file, b.offset, b.line, b.chunk, b.record_id, b.computer, b.provider,
                  b.event_id, b.channel, b.message, b.data);
}

FileTime SaturatingAdd(FileTime a, int64_t b) { return a > kMaxTime - b ? kMaxTime : a + b; }

// A window's width in ticks; 0: one window for the whole run.
int64_t WindowTicks(int64_t window_seconds) {
  return window_seconds > 0 && window_seconds < kMaxTime / kTicksPerSecond
             ? window_seconds * kTicksPerSecond
             : 0;
}

// The start of the window holding `time` on the grid of `width`-tick windows
// anchored at t0. Times before t0 fall in earlier windows of the same grid:
// an immediate alert fixes t0 while earlier hits may still arrive in time.
FileTime WindowStart(FileTime t0, FileTime time, int64_t width) {
  if (time >= t0) return t0 + (time - t0) / width * width;
  return t0 - ((t0 - time) + width - 1) / width * width;
}

}  // namespace

Correlator::Correlator(std::vector<CorrelatedRule> rules, CorrelatorOptions options)
    : rules_(std::move(rules)),
      options_(options),
      hosts_(options.merge_short_names),
      pending_(rules_.size()) {}

void Correlator::AddHit(uint32_t rule_index, OwnedEvent event) {
  stats_.hits_received.Add();
  if (rule_index >= rules_.size()) {
    stats_.hits_rejected.Add();
    return;
  }
  std::string name = NormalizeHostName(event.computer);
  std::lock_guard lock(mu_);
  hosts_.See(name);
  pending_[rule_index].push_back(Hit{std::move(name), std::move(event)});
}

void Correlator::PlanHit(uint32_t rule_index, std::string_view computer, FileTime time) {
  if (rule_index >= rules_.size()) return;  // AddPlannedHit counts it as rejected
  std::string name = NormalizeHostName(computer);
  std::lock_guard lock(mu_);
  hosts_.See(name);
  auto [it, inserted] = plan_.try_emplace({rule_index, std::move(name)}, time);
  if (!inserted && time != 0 && (it->second == 0 || time < it->second)) it->second = time;
}

void Correlator::FixPlanLocked() {
  plan_fixed_ = true;
  for (const auto& [rule_name, time] : plan_) {
    PlannedSeries& series = planned_[{rule_name.first, hosts_.Resolve(rule_name.second)}];
    if (time != 0 && (series.t0 == 0 || time < series.t0)) series.t0 = time;
  }
  plan_.clear();
}

void Correlator::AddPlannedHit(uint32_t rule_index, OwnedEvent event) {
  stats_.hits_received.Add();
  if (rule_index >= rules_.size()) {
    stats_.hits_rejected.Add();
    return;
  }
  const std::string name = NormalizeHostName(event.computer);
  std::lock_guard lock(mu_);
  if (!plan_fixed_) FixPlanLocked();
  auto it = planned_.find({rule_index, hosts_.Resolve(name)});
  if (it == planned_.end() || (event.time != 0 && event.time < it->second.t0)) {
    stats_.hits_rejected.Add();  // never planned: its window would be wrong
    return;
  }
  PlannedSeries& series = it->second;
  const CorrelationSpec& spec = rules_[rule_index].spec;
  WindowSummary* window = &series.untimed;
  if (event.time != 0) {
    const int64_t width = WindowTicks(spec.window_seconds);
    const FileTime start = width > 0 ? WindowStart(series.t0, event.time, width) : series.t0;
    window = &series.windows[start];
  }
  FoldIntoWindow(std::move(event), spec.max_samples, window);
}

void Correlator::FoldIntoWindow(OwnedEvent event, uint32_t max_samples, WindowSummary* window) {
  if (window->count == 0 || event.time < window->first) window->first = event.time;
  if (window->count == 0 || event.time > window->last) window->last = event.time;
  ++window->count;
  if (!event.computer.empty() && !window->names.contains(event.computer)) {
    window->names.insert(event.computer);
  }
  // The earliest max_samples in EventLess order; an equal event goes after
  // those already kept, so input order breaks ties.
  auto& samples = window->samples;
  if (samples.size() >= max_samples && (samples.empty() || !EventLess(event, samples.back()))) {
    return;
  }
  samples.insert(std::upper_bound(samples.begin(), samples.end(), event, EventLess),
                 std::move(event));
  if (samples.size() > max_samples) samples.pop_back();
}

void Correlator::EmitPlannedLocked(std::vector<Alert>* out) {
  for (auto& [series_key, series] : planned_) {
    const auto& [rule_index, key] = series_key;
    const int64_t width = WindowTicks(rules_[rule_index].spec.window_seconds);
    SeriesState state;
    size_t last = SIZE_MAX;
    for (auto& [start, window] : series.windows) {
      // An unbounded window ends at its last hit.
      const FileTime end = width > 0 ? SaturatingAdd(start, width) : window.last;
      EmitWindow(rule_index, key, &state, std::move(window), start, end, /*untimed=*/false, &last,
                 out);
    }
    if (series.untimed.count > 0) {
      EmitWindow(rule_index, key, &state, std::move(series.untimed), 0, 0, /*untimed=*/true, &last,
                 out);
    }
  }
  planned_.clear();
}

Correlator::WindowSummary Correlator::Summarize(std::vector<Hit>::iterator begin,
                                                std::vector<Hit>::iterator end,
                                                uint32_t max_samples, bool copy_samples) {
  WindowSummary window;
  window.count = static_cast<uint64_t>(end - begin);
  window.first = begin->event.time;
  window.last = std::prev(end)->event.time;
  for (auto it = begin; it != end; ++it) {
    if (!it->event.computer.empty()) window.names.insert(it->event.computer);
  }
  const uint64_t kept = std::min<uint64_t>(window.count, max_samples);
  for (auto it = begin; it != begin + static_cast<ptrdiff_t>(kept); ++it) {
    window.samples.push_back(copy_samples ? it->event : std::move(it->event));
  }
  return window;
}

void Correlator::AddBuild(std::string_view raw_host, const ExchangeVersion& v, std::string source) {
  std::string name = NormalizeHostName(raw_host);
  std::lock_guard lock(mu_);
  AddBuildLocked(name, v, std::move(source));
}

void Correlator::AddBuildLocked(const std::string& name, const ExchangeVersion& v,
                                std::string source) {
  hosts_.See(name);
  auto [it, inserted] = builds_.try_emplace(name, BuildSeen{v, source});
  if (inserted) return;
  const BuildSeen& old = it->second;
  if (NewerExchangeVersion(v, old.version) || (v == old.version && source < old.source)) {
    it->second = BuildSeen{v, std::move(source)};
  }
}

Status Correlator::LoadInventory(const std::string& path) {
  // Parsing (CSV or JSON) is src/correlate/inventory.cc; nothing is applied
  // unless the whole file parsed.
  auto entries = LoadInventoryFile(path);
  if (!entries) return entries.error();
  std::lock_guard lock(mu_);
  for (InventoryEntry& entry : entries.value()) {
    AddBuildLocked(NormalizeHostName(entry.host), entry.version, std::move(entry.source));
  }
  return Status::OK();
}

std::vector<Alert> Correlator::Finish() {
  std::lock_guard lock(mu_);
  return CloseWindows(kMaxTime, /*final=*/true);
}

std::vector<Alert> Correlator::Drain(FileTime watermark) {
  std::lock_guard lock(mu_);
  return CloseWindows(watermark, /*final=*/false);
}

std::optional<ExchangeBuildInfo> Correlator::BuildFor(const std::string& host_key) const {
  std::lock_guard lock(mu_);
  return BuildForLocked(host_key);
}

std::optional<ExchangeBuildInfo> Correlator::BuildForLocked(const std::string& host_key) const {
  const BuildSeen* best = nullptr;
  for (const auto& [name, seen] : builds_) {
    if (hosts_.Resolve(name) != host_key) continue;
    if (best == nullptr || NewerExchangeVersion(seen.version, best->version) ||
        (seen.version == best->version && seen.source < best->source)) {
      best = &seen;
    }
  }
  if (best == nullptr) return std::nullopt;
  ExchangeBuildInfo info = ClassifyExchangeBuild(best->version);
  info.source = best->source;
  return info;
}

std::vector<Alert> Correlator::CloseWindows(FileTime limit, bool final) {
  std::vector<Alert> out;
  if (final) EmitPlannedLocked(&out);
  for (uint32_t r = 0; r < rules_.size(); ++r) {
    std::vector<Hit> hits = std::move(pending_[r]);
    pending_[r].clear();
    std::map<std::string, std::vector<Hit>> by_key;
    for (Hit& hit : hits) by_key[hosts_.Resolve(hit.name)].push_back(std::move(hit));
    for (auto& [key, series_hits] : by_key) {
      CloseSeries(r, key, std::move(series_hits), limit, final, &pending_[r], &out);
    }
  }
  // Rule indexes are visited in order, so equal (host, rule id, start)
  // triples (two rules sharing an id) keep a fixed order too.
  std::stable_sort(out.begin(), out.end(), [](const Alert& a, const Alert& b) {
    return std::tie(a.host, a.rule.id, a.window_start) <
           std::tie(b.host, b.rule.id, b.window_start);
  });
  return out;
}

void Correlator::CloseSeries(uint32_t rule_index, const std::string& key, std::vector<Hit> hits,
                             FileTime limit, bool final, std::vector<Hit>* keep,
                             std::vector<Alert>* out) {
  std::sort(hits.begin(), hits.end(),
            [](const Hit& a, const Hit& b) { return EventLess(a.event, b.event); });
  // Untimed hits first, in the same content order.
  auto timed = std::stable_partition(hits.begin(), hits.end(),
                                     [](const Hit& h) { return h.event.time == 0; });
  SeriesState& state = series_[{rule_index, key}];
  if (state.anchored) {
    auto on_time = std::partition_point(
        timed, hits.end(), [&](const Hit& h) { return h.event.time < state.closed_until; });
    stats_.hits_late.Add(static_cast<uint64_t>(on_time - timed));
    timed = hits.erase(timed, on_time);
  }
  const int64_t width = WindowTicks(rules_[rule_index].spec.window_seconds);
  const uint32_t max_samples = rules_[rule_index].spec.max_samples;
  const FileTime t0 = state.anchored ? state.t0 : (timed != hits.end() ? timed->event.time : 0);
  size_t last = SIZE_MAX;
  auto it = timed;
  bool closed_any = false;
  while (it != hits.end()) {
    FileTime start = t0;
    FileTime end = kMaxTime;
    if (width > 0) {
      start = WindowStart(t0, it->event.time, width);
      end = SaturatingAdd(start, width);
    }
    if (!final && (width == 0 || end > limit)) break;
    auto window_end =
        std::partition_point(it, hits.end(), [&](const Hit& h) { return h.event.time < end; });
    state.anchored = true;
    state.t0 = t0;
    state.closed_until = end;
    closed_any = true;
    // An unbounded window ends at its last hit.
    const FileTime reported_end = width > 0 ? end : std::prev(window_end)->event.time;
    EmitWindow(rule_index, key, &state, Summarize(it, window_end, max_samples), start, reported_end,
               /*untimed=*/false, &last, out);
    it = window_end;
  }
  if (final && timed != hits.begin()) {
    EmitWindow(rule_index, key, &state, Summarize(hits.begin(), timed, max_samples), 0, 0,
               /*untimed=*/true, &last, out);
    closed_any = true;
  }
  if (!final && it != hits.end() && rules_[rule_index].spec.immediate()) {
    const size_t before = out->size();
    EmitOpenWindows(rule_index, key, &state, t0, it, hits.end(), &last, out);
    closed_any = closed_any || out->size() != before;
  }
  if (closed_any) {
    // This key now owns state; later FQDNs must not move these names away.
    for (const Hit& h : hits) hosts_.Freeze(h.name);
  }
  if (final) return;
  std::move(hits.begin(), timed, std::back_inserter(*keep));
  std::move(it, hits.end(), std::back_inserter(*keep));
}

void Correlator::EmitOpenWindows(uint32_t rule_index, const std::string& key, SeriesState* state,
                                 FileTime t0, std::vector<Hit>::iterator begin,
                                 std::vector<Hit>::iterator end, size_t* last,
                                 std::vector<Alert>* out) {
  const CorrelationSpec& spec = rules_[rule_index].spec;
  const int64_t width = WindowTicks(spec.window_seconds);
  for (auto it = begin; it != end;) {
    FileTime start = t0;
    FileTime window_end = kMaxTime;
    if (width > 0) {
      start = WindowStart(t0, it->event.time, width);
      window_end = SaturatingAdd(start, width);
    }
    auto next =
        std::partition_point(it, end, [&](const Hit& h) { return h.event.time < window_end; });
    const auto count = static_cast<uint64_t>(next - it);
    if (count >= std::max<uint64_t>(spec.threshold, 1) && !state->sent_early.contains(start)) {
      // The window's start, and so its alert_id, must not move any more.
      state->anchored = true;
      state->t0 = t0;
      // An unbounded window ends at its last hit (so far).
      const FileTime reported_end = width > 0 ? window_end : std::prev(next)->event.time;
      const size_t before = out->size();
      EmitWindow(rule_index, key, state, Summarize(it, next, spec.max_samples, /*copy=*/true),
                 start, reported_end, /*untimed=*/false, last, out, /*revision=*/1);
      // Suppressed into an earlier alert: nothing sent, and the closed
      // window will be suppressed the same way.
      if (out->size() != before) state->sent_early[start] = count;
    }
    it = next;
  }
}

void Correlator::EmitWindow(uint32_t rule_index, const std::string& key, SeriesState* state,
                            WindowSummary window, FileTime window_start, FileTime window_end,
                            bool untimed, size_t* last, std::vector<Alert>* out,
                            uint32_t revision) {
  const CorrelatedRule& rule = rules_[rule_index];
  const uint64_t count = window.count;
  if (count < std::max<uint64_t>(rule.spec.threshold, 1)) {
    if (revision == 0) stats_.hits_below_threshold.Add(count);
    return;
  }
  // This window's immediate alert, when one was sent: the window is not
  // suppressed (it was not when that alert went out), and it needs a
  // follow-up only if its count grew.
  uint64_t sent_count = 0;
  if (revision == 0 && !untimed) {
    if (auto early = state->sent_early.find(window_start); early != state->sent_early.end()) {
      sent_count = early->second;
      state->sent_early.erase(early);
      if (count <= sent_count) {
        stats_.alerts_unchanged.Add();
        *last = SIZE_MAX;  // what later windows fold into is already out
        return;
      }
      revision = 2;
    }
  }
  const int64_t suppress_ticks =
      rule.spec.suppress_seconds > 0 && rule.spec.suppress_seconds < kMaxTime / kTicksPerSecond
          ? rule.spec.suppress_seconds * kTicksPerSecond
          : 0;
  if (sent_count == 0 && !untimed && suppress_ticks > 0 && state->has_alert &&
      window_start < SaturatingAdd(state->alert_end, suppress_ticks)) {
    if (revision == 1) return;  // counted when the window closes
    stats_.hits_suppressed.Add(count);
    if (*last != SIZE_MAX) (*out)[*last].suppressed += count;
    return;
  }
  Alert alert;
  alert.rule = rule.meta;
  alert.host = key;
  alert.window_start = window_start;
  alert.window_end = window_end;
  alert.first_seen = window.first;
  alert.last_seen = window.last;
  alert.count = count;
  alert.host_names.assign(window.names.begin(), window.names.end());
  alert.samples = std::move(window.samples);
  // Counted once per window: when it closes.
  if (revision != 1) stats_.samples_dropped.Add(count - alert.samples.size());
  if (rule.matched_values && !alert.samples.empty()) {
    alert.matched = rule.matched_values(alert.samples.front().View());
  }
  alert.exchange = BuildForLocked(key);
  alert.alert_id = ComputeAlertId(alert.rule.id, key, window_start);
  alert.revision = revision;
  if (revision == 1) stats_.alerts_immediate.Add();
  if (revision == 2) stats_.alerts_followed_up.Add();
  if (!untimed) {
    state->has_alert = true;
    state->alert_end = window_end;
  }
  stats_.alerts_emitted.Add();
  *last = out->size();
  out->push_back(std::move(alert));
}

}  // namespace eventsift::correlate
