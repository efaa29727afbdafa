#include "src/correlate/record_tracker.h"

#include <algorithm>

#include <fmt/format.h>

#include "src/alert/alert_id.h"
#include "src/core/short_text.h"
#include "src/event/event_ecs_json.h"

namespace eventsift::correlate {

namespace {

constexpr size_t kMaxClearIds = 16;

bool IsEventlogProvider(std::string_view provider) {
  return provider == "Microsoft-Windows-Eventlog" || provider == "Eventlog";
}

}  // namespace

bool RecordTracker::WantsPayload(const Event& header) {
  return header.event_id == 104 && header.channel == "System" &&
         IsEventlogProvider(header.provider);
}

size_t RecordTracker::KeyIndex(std::string_view host, std::string_view channel) {
  if (last_key_ != SIZE_MAX && stats_[last_key_].channel == channel &&
      stats_[last_key_].host == host) {
    return last_key_;
  }
  scratch_key_.assign(host);
  scratch_key_.push_back('\0');
  scratch_key_.append(channel);
  auto it = index_.find(scratch_key_);
  if (it == index_.end()) {
    if (stats_.size() >= options_.max_keys) return SIZE_MAX;
    it = index_.emplace(scratch_key_, stats_.size()).first;
    state_.emplace_back();
    RecordKeyStats s;
    s.host = std::string(host);
    s.channel = std::string(channel);
    stats_.push_back(std::move(s));
  }
  last_key_ = it->second;
  return last_key_;
}

void RecordTracker::Add(const Event& e) {
  if (last_host_.empty() || !SameShortText(e.computer, last_computer_)) NoteHost(e.computer);
  if (e.record_id != 0) {
    // The host is the last event's: only the channel can change the key.
    if (event_key_ == SIZE_MAX || !SameShortText(stats_[event_key_].channel, e.channel)) {
      event_key_ = KeyIndex(last_host_, e.channel);
    }
    AddToKey(event_key_, e.record_id);
  }
  // Clear events are rare: their checks stay out of the per-record path.
  if (e.event_id == 1102 || e.event_id == 104) [[unlikely]]
    NoteClear(e);
}

void RecordTracker::NoteHost(std::string_view computer) {
  last_computer_.assign(computer);
  AssignEventHostKey(computer, &last_host_);
  event_key_ = SIZE_MAX;
}

void RecordTracker::NoteClear(const Event& e) {
  const bool security_clear = e.event_id == 1102 && e.channel == "Security";
  const bool log_clear =
      e.event_id == 104 && e.channel == "System" && IsEventlogProvider(e.provider);
  if (!security_clear && !log_clear) return;
  std::string_view cleared = e.channel;
  if (log_clear) {
    if (const DataField* f = e.FindData("Channel"); f != nullptr && !f->value.empty()) {
      cleared = f->value;
    }
  }
  size_t key = KeyIndex(last_host_, cleared);
  if (key == SIZE_MAX) return;
  ++stats_[key].clears;
  KeyState& st = state_[key];
  if (cleared == e.channel) {
    if (st.clear_ids.size() < kMaxClearIds) st.clear_ids.push_back(e.record_id);
  } else {
    st.cleared_elsewhere = true;
  }
}

void RecordTracker::Add(std::string_view host, std::string_view channel, uint64_t record_id) {
  if (record_id == 0) return;  // no id: nothing to track
  AddToKey(KeyIndex(host, channel), record_id);
}

void RecordTracker::AddToKey(size_t key, uint64_t record_id) {
  if (key == SIZE_MAX) {
    ++untracked_;
    return;
  }
  RecordKeyStats& s = stats_[key];
  KeyState& st = state_[key];
  // The per-record path: a channel's ids mostly come in order (one past the
  // range the last id went into, which grows in place unless that reaches
  // the next range) or again in order (inside that range). Either way the
  // id lies above a range's first id, so `lowest` does not move.
  if (st.has_hint) {
    auto& range = *st.hint;
    if (record_id - range.first <= range.second - range.first) {
      ++s.seen;
      ++s.repeats;
      return;
    }
    if (record_id == range.second + 1 &&
        (st.hint_next_first == KeyState::kNoNext || record_id + 1 < st.hint_next_first)) {
      ++s.seen;
      s.highest = std::max(s.highest, record_id);
      range.second = record_id;
      return;
    }
  }
  AddOutsideHint(key, record_id);
}

void RecordTracker::AddOutsideHint(size_t key, uint64_t record_id) {
  RecordKeyStats& s = stats_[key];
  if (s.seen == 0 || record_id < s.lowest) s.lowest = record_id;
  s.highest = std::max(s.highest, record_id);
  ++s.seen;
  InsertRange(key, record_id, record_id);
}

void RecordTracker::InsertRange(size_t key, uint64_t first, uint64_t last) {
  KeyState& st = state_[key];
  RecordKeyStats& s = stats_[key];
  if (last < st.floor) {
    s.late += last - first + 1;
    return;
  }
  if (first < st.floor) {
    s.late += st.floor - first;
    first = st.floor;
  }
  auto& ranges = st.ranges;
  // A channel's records mostly arrive in order: one past the highest range
  // extends it in place (no other range can touch it).
  if (first == last && !ranges.empty() && ranges.rbegin()->second + 1 == first) {
    ranges.rbegin()->second = first;
    st.SetHint(std::prev(ranges.end()));
    return;
  }
  auto it = ranges.upper_bound(first);
  if (it != ranges.begin()) {
    auto prev = std::prev(it);  // prev->first <= first
    if (prev->second >= last) {
      // Already seen, all of it: the same log read twice, or overlapping
      // exports. Counted without touching the map.
      s.repeats += last - first + 1;
      st.SetHint(prev);
      return;
    }
    if (prev->second + 1 >= first) {  // overlaps or touches
      if (it == ranges.end() || it->first > last + 1) {
        // Reaches no later range: grows in place (its key stays).
        if (prev->second >= first) s.repeats += prev->second - first + 1;
        prev->second = last;
        st.SetHint(prev);
        return;
      }
      it = prev;
    }
  }
  uint64_t lo = first, hi = last;
  // The first range merged gives its node to the result: a merge allocates
  // nothing (a map's node is only allocated for a range that touches none).
  std::map<uint64_t, uint64_t>::node_type node;
  while (it != ranges.end() && it->first <= last + 1) {
    const uint64_t a = std::max(it->first, first), b = std::min(it->second, last);
    if (a <= b) s.repeats += b - a + 1;
    lo = std::min(lo, it->first);
    hi = std::max(hi, it->second);
    auto next = std::next(it);
    if (node.empty()) {
      node = ranges.extract(it);
    } else {
      ranges.erase(it);
    }
    it = next;
  }
  if (node.empty()) {
    st.SetHint(ranges.emplace(lo, hi).first);
  } else {
    node.key() = lo;
    node.mapped() = hi;
    st.SetHint(ranges.insert(std::move(node)).position);
  }
  if (ranges.size() > options_.max_ranges) {
    std::vector<std::pair<size_t, RecordGap>> settled;
    SettleLowest(key, &settled);
  }
}

void RecordTracker::SettleLowest(size_t key, std::vector<std::pair<size_t, RecordGap>>* out) {
  KeyState& st = state_[key];
  RecordKeyStats& s = stats_[key];
  auto first = st.ranges.begin();
  auto second = std::next(first);
  RecordGap gap{first->second + 1, second->first - 1, st.cleared_elsewhere};
  for (uint64_t id : st.clear_ids) {
    if (id == second->first) gap.cleared = true;  // the clear event right above the gap
  }
  st.floor = second->first;
  if (st.has_hint && st.hint == first) st.has_hint = false;
  st.ranges.erase(first);
  ++s.gaps;
  s.missing += gap.size();
  s.recent.push_back(gap);
  if (s.recent.size() > options_.max_gaps_kept) s.recent.erase(s.recent.begin());
  out->emplace_back(key, gap);
}

void RecordTracker::Merge(const RecordTracker& other) {
  for (size_t i = 0; i < other.stats_.size(); ++i) {
    const RecordKeyStats& o = other.stats_[i];
    size_t key = KeyIndex(o.host, o.channel);
    if (key == SIZE_MAX) {
      untracked_ += o.seen;
      continue;
    }
    RecordKeyStats& s = stats_[key];
    if (o.seen > 0) {
      s.lowest = s.seen == 0 ? o.lowest : std::min(s.lowest, o.lowest);
      s.highest = std::max(s.highest, o.highest);
    }
    s.seen += o.seen;
    s.repeats += o.repeats;
    s.late += o.late;
    s.clears += o.clears;
    s.gaps += o.gaps;
    s.missing += o.missing;
    s.recent.insert(s.recent.end(), o.recent.begin(), o.recent.end());
    if (s.recent.size() > options_.max_gaps_kept) {
      s.recent.erase(s.recent.begin(), s.recent.end() - options_.max_gaps_kept);
    }
    const KeyState& os = other.state_[i];
    KeyState& st = state_[key];
    st.floor = std::max(st.floor, os.floor);
    st.cleared_elsewhere = st.cleared_elsewhere || os.cleared_elsewhere;
    for (uint64_t id : os.clear_ids) {
      if (st.clear_ids.size() < kMaxClearIds) st.clear_ids.push_back(id);
    }
    for (const auto& [a, b] : os.ranges) InsertRange(key, a, b);
  }
  untracked_ += other.untracked_;
}

std::vector<std::pair<size_t, RecordGap>> RecordTracker::Settle(bool finish) {
  std::vector<std::pair<size_t, RecordGap>> out;
  for (size_t key = 0; key < state_.size(); ++key) {
    KeyState& st = state_[key];
    const uint64_t highest = stats_[key].highest;
    while (st.ranges.size() >= 2) {
      const uint64_t hole_top = std::next(st.ranges.begin())->first - 1;
      if (!finish && hole_top + options_.reorder_window >= highest) break;
      SettleLowest(key, &out);
    }
  }
  return out;
}

uint64_t RecordTracker::total_missing() const {
  uint64_t n = 0;
  for (const auto& s : stats_) n += s.missing;
  return n;
}

uint64_t RecordTracker::total_repeats() const {
  uint64_t n = 0;
  for (const auto& s : stats_) n += s.repeats;
  return n;
}

Alert PipelineGapAlert(const RecordKeyStats& key, const std::vector<RecordGap>& gaps,
                       uint64_t missing) {
  Alert a;
  a.rule.id = "pipeline_gap";
  a.rule.title = "Events lost before eventsift (EventRecordID gap)";
  a.rule.severity = "medium";
  a.rule.description =
      "Records of this host and channel never arrived: the forwarder, collector or transport "
      "upstream lost them, or the log was cleared before they were sent.";
  a.rule.remediation =
      "Check the forwarder's own logs and queues for the time of the gap; a log_cleared gap "
      "sits beside a Security 1102 or System 104 event.";
  a.rule.format = "eventsift";
  a.host = key.host;
  a.host_names = {key.host};
  a.count = missing;
  std::string ranges;
  bool cleared = false;
  for (const auto& g : gaps) {
    ranges += fmt::format("{}{}-{}", ranges.empty() ? "" : ",", g.first, g.last);
    cleared = cleared || g.cleared;
  }
  a.matched = {{"channel", key.channel},
               {"missing_ranges", ranges},
               {"log_cleared", cleared ? "true" : "false"}};
  // One alert per host, channel and first missing id: the same gap, seen
  // again after a restart, gets the same id.
  const uint64_t first = gaps.empty() ? 0 : gaps.front().first;
  a.alert_id =
      ComputeAlertId("pipeline_gap", key.host + "/" + key.channel, static_cast<FileTime>(first));
  return a;
}

}  // namespace eventsift::correlate
