#include "src/daemon/hit_journal.h"

#include <fmt/format.h>

#include <cstring>

#include <charconv>

#include <algorithm>
#include <set>
#include <string_view>
#include <utility>

namespace eventsift::daemon {

namespace {
constexpr size_t kMaxBuilds = 10000;
using SeriesKey = std::pair<std::string_view, std::string_view>;  // rule id, computer
// Keeps what counting and host names need; drops the payload.
void Thin(OwnedEvent* e) {
  e->message.clear();
  e->message.shrink_to_fit();
  e->data.clear();
  e->data.shrink_to_fit();
  e->user_sid.clear();
  e->provider_guid.clear();
  e->file.clear();
}

}  // namespace

void HitJournal::Add(const std::string& rule_id, const OwnedEvent& event) {
  hits_.push_back(PendingHit{rule_id, event});
  ++generation_;
}

std::string HitJournal::EmittedId(const Alert& a) {
  return a.revision == 1 ? fmt::format("{}{}{}", a.alert_id, kImmediateMark, a.count) : a.alert_id;
}

void HitJournal::NoteEmitted(const Alert& a) {
  emitted_.push_back(
      EmittedAlert{EmittedId(a), a.rule.id, a.host_names, a.window_start, a.window_end});
  Index(emitted_.back().alert_id);
  ++generation_;
}

void HitJournal::Index(const std::string& emitted_id) {
  const size_t mark = emitted_id.find(kImmediateMark);
  if (mark == std::string::npos) {
    emitted_ids_.insert(emitted_id);
    return;
  }
  uint64_t count = 0;
  const char* digits = emitted_id.data() + mark + std::strlen(kImmediateMark);
  std::from_chars(digits, emitted_id.data() + emitted_id.size(), count);
  immediate_counts_[emitted_id.substr(0, mark)] = count;
}

bool HitJournal::WasEmitted(const Alert& a) const {
  // The window's final alert (or follow-up) covers its immediate one too.
  return WasEmitted(a.alert_id) || (a.revision == 1 && ImmediateCount(a.alert_id).has_value());
}

std::optional<uint64_t> HitJournal::ImmediateCount(const std::string& alert_id) const {
  auto it = immediate_counts_.find(alert_id);
  if (it == immediate_counts_.end()) return std::nullopt;
  return it->second;
}

bool HitJournal::WasEmitted(const std::string& emitted_id) const {
  return emitted_ids_.contains(emitted_id);
}

void HitJournal::NoteBuild(SavedBuild b) {
  for (const auto& have : builds_) {
    if (have.host == b.host && have.major == b.major && have.minor == b.minor &&
        have.build == b.build && have.revision == b.revision &&
        have.revision_known == b.revision_known) {
      return;  // the first source of a build is as good as a later one
    }
  }
  if (builds_.size() >= kMaxBuilds) return;
  builds_.push_back(std::move(b));
  ++generation_;
}

void HitJournal::Prune(FileTime watermark, const std::map<std::string, RuleHorizon>& rules) {
  if (watermark <= 0) return;
  // Timed hits of each series, earliest first; the first one anchors the grid.
  std::map<SeriesKey, std::vector<size_t>> series;
  for (size_t i = 0; i < hits_.size(); ++i) {
    if (hits_[i].event.time != 0) series[{hits_[i].rule_id, hits_[i].event.computer}].push_back(i);
  }
  for (auto& [key, idx] : series) {
    std::stable_sort(idx.begin(), idx.end(),
                     [&](size_t a, size_t b) { return hits_[a].event.time < hits_[b].event.time; });
  }
  std::vector<bool> keep(hits_.size(), false);
  std::vector<bool> anchor(hits_.size(), false);
  for (const auto& [key, idx] : series) anchor[idx.front()] = true;
  for (size_t i = 0; i < hits_.size(); ++i) {
    auto rule = rules.find(hits_[i].rule_id);
    if (rule == rules.end()) continue;  // the rule is gone: its hits cannot alert
    const RuleHorizon& h = rule->second;
    keep[i] = anchor[i] || hits_[i].event.time == 0 || h.window_seconds <= 0 ||
              hits_[i].event.time > watermark - h.window_seconds * kTicksPerSecond;
  }
  // Alerts that can still fold a later window into themselves keep the hits
  // that raise them again; alerts starting at an anchor stay known, since the
  // anchor's replay raises them again too.
  std::vector<EmittedAlert> emitted;
  for (auto& e : emitted_) {
    auto rule = rules.find(e.rule_id);
    if (rule == rules.end()) continue;
    const RuleHorizon& h = rule->second;
    bool can_suppress =
        e.window_end >= watermark - (h.window_seconds + h.suppress_seconds) * kTicksPerSecond;
    bool at_anchor = false;
    std::vector<size_t> in_window;
    for (const auto& name : e.host_names) {
      auto it = series.find({e.rule_id, name});
      if (it == series.end()) continue;
      at_anchor = at_anchor || hits_[it->second.front()].event.time == e.window_start;
      for (size_t i : it->second) {
        FileTime t = hits_[i].event.time;
        if (t >= e.window_start && t < e.window_end) in_window.push_back(i);
      }
    }
    if (can_suppress) {
      std::sort(in_window.begin(), in_window.end(),
                [&](size_t a, size_t b) { return hits_[a].event.time < hits_[b].event.time; });
      for (size_t k = 0; k < in_window.size() && k < h.threshold; ++k) keep[in_window[k]] = true;
    }
    if (can_suppress || at_anchor || e.window_end == 0) emitted.push_back(std::move(e));
  }
  emitted_ = std::move(emitted);
  IndexEmitted();
  // Past the samples of its window, a hit only counts.
  for (const auto& [key, idx] : series) {
    auto rule = rules.find(std::string(key.first));
    if (rule == rules.end() || rule->second.window_seconds <= 0) continue;
    FileTime window = rule->second.window_seconds * kTicksPerSecond;
    FileTime t0 = hits_[idx.front()].event.time;
    int64_t current = -1;
    uint32_t full = 0;
    for (size_t i : idx) {  // earliest first
      int64_t k = (hits_[i].event.time - t0) / window;
      if (k != current) {
        current = k;
        full = 0;
      }
      if (!keep[i]) continue;
      if (full < rule->second.max_samples) {
        ++full;
      } else if (!hits_[i].event.message.empty() || !hits_[i].event.data.empty()) {
        Thin(&hits_[i].event);
        ++generation_;
      }
    }
  }
  // Over the bound: the oldest hits that are not anchors go first.
  size_t kept = static_cast<size_t>(std::count(keep.begin(), keep.end(), true));
  if (kept > max_hits_) {
    std::vector<size_t> order;
    for (size_t i = 0; i < hits_.size(); ++i) {
      if (keep[i] && !anchor[i] && hits_[i].event.time != 0) order.push_back(i);
    }
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return hits_[a].event.time < hits_[b].event.time; });
    for (size_t k = 0; k < order.size() && kept > max_hits_; ++k, --kept) {
      keep[order[k]] = false;
      ++dropped_;
    }
  }
  std::vector<PendingHit> hits;
  for (size_t i = 0; i < hits_.size(); ++i) {
    if (keep[i]) hits.push_back(std::move(hits_[i]));
  }
  if (hits.size() != hits_.size()) ++generation_;
  hits_ = std::move(hits);
}

void HitJournal::set_sigma_state(std::string state) {
  if (state == sigma_state_) return;
  sigma_state_ = std::move(state);
  ++generation_;
}

void HitJournal::set_cve_state(std::string state) {
  if (state == cve_state_) return;
  cve_state_ = std::move(state);
  ++generation_;
}

void HitJournal::IndexEmitted() {
  emitted_ids_.clear();
  immediate_counts_.clear();
  for (const auto& e : emitted_) Index(e.alert_id);
}

void HitJournal::SaveTo(DaemonState* state) const {
  state->hits = hits_;
  state->emitted = emitted_;
  state->builds = builds_;
  state->sigma_correlation = sigma_state_;
  state->exchange_cves = cve_state_;
}

void HitJournal::LoadFrom(const DaemonState& state) {
  hits_ = state.hits;
  emitted_ = state.emitted;
  IndexEmitted();
  builds_ = state.builds;
  sigma_state_ = state.sigma_correlation;
  cve_state_ = state.exchange_cves;
  ++generation_;
}

}  // namespace eventsift::daemon
