#include "src/daemon/hit_journal.h"

#include <algorithm>
#include <limits>

namespace eventsift::daemon {

namespace {
constexpr size_t kMaxBuilds = 10000;
}

void HitJournal::Add(const std::string& rule_id, const OwnedEvent& event) {
  hits_.push_back(PendingHit{rule_id, event});
}

void HitJournal::NoteEmitted(const std::string& alert_id, FileTime window_end) {
  emitted_[alert_id] = window_end;
}

void HitJournal::NoteBuild(SavedBuild b) {
  for (const auto& have : builds_) {
    if (have.host == b.host && have.major == b.major && have.minor == b.minor && have.build == b.build &&
        have.revision == b.revision && have.revision_known == b.revision_known) {
      return;  // the first source of a build is as good as a later one
    }
  }
  if (builds_.size() >= kMaxBuilds) return;
  builds_.push_back(std::move(b));
}

void HitJournal::Prune(FileTime watermark, const std::map<std::string, RuleHorizon>& rules) {
  if (watermark <= 0) return;
  // The earliest timed hit of each series anchors its window grid.
  std::map<std::pair<std::string_view, std::string_view>, size_t> earliest;
  for (size_t i = 0; i < hits_.size(); ++i) {
    if (hits_[i].event.time == 0) continue;
    auto key = std::make_pair(std::string_view(hits_[i].rule_id), std::string_view(hits_[i].event.computer));
    auto it = earliest.find(key);
    if (it == earliest.end() || hits_[i].event.time < hits_[it->second].event.time) earliest[key] = i;
  }
  std::vector<bool> anchor(hits_.size(), false);
  for (const auto& [key, i] : earliest) anchor[i] = true;

  FileTime min_horizon = std::numeric_limits<FileTime>::max();
  std::vector<bool> keep(hits_.size(), false);
  for (size_t i = 0; i < hits_.size(); ++i) {
    auto rule = rules.find(hits_[i].rule_id);
    if (rule == rules.end()) continue;  // the rule is gone: its hits cannot alert
    const RuleHorizon& h = rule->second;
    if (h.window_seconds <= 0 || hits_[i].event.time == 0 || anchor[i]) {
      keep[i] = true;
      continue;
    }
    FileTime horizon = watermark - (3 * h.window_seconds + 2 * h.suppress_seconds) * kTicksPerSecond;
    min_horizon = std::min(min_horizon, horizon);
    keep[i] = hits_[i].event.time >= horizon;
  }
  // Over the bound: the oldest prunable hits go first.
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
  hits_ = std::move(hits);
  if (min_horizon != std::numeric_limits<FileTime>::max()) {
    std::erase_if(emitted_, [&](const auto& kv) { return kv.second != 0 && kv.second < min_horizon; });
  }
}

void HitJournal::SaveTo(DaemonState* state) const {
  state->hits = hits_;
  state->emitted.clear();
  for (const auto& [id, end] : emitted_) state->emitted.push_back(EmittedAlert{id, end});
  state->builds = builds_;
}

void HitJournal::LoadFrom(const DaemonState& state) {
  hits_ = state.hits;
  emitted_.clear();
  for (const auto& e : state.emitted) emitted_[e.alert_id] = e.window_end;
  builds_ = state.builds;
}

}  // namespace eventsift::daemon
