#pragma once
// RecordTracker: which EventRecordIDs of each host and channel arrived, to
// show what the pipeline upstream lost (gaps) and delivered twice (repeats).
//
// Windows numbers each channel's records 1, 2, 3, ... per computer. Per key
// (host in lower case, channel) the tracker keeps the ids seen as a set of
// disjoint ranges, merged as ids fill them in, so records arriving out of
// order (several files, several partitions) close their hole instead of
// counting as a gap. A hole becomes a gap only when it is *settled*:
//   - Settle(finish=true): at the end of a scan, every hole;
//   - Settle(finish=false): in a stream, holes whose top is more than
//     `reorder_window` ids below the highest id seen for the key;
//   - when a key holds more than `max_ranges` ranges, its lowest hole.
// Everything below the lowest settled hole's top is the key's floor: an id
// under it can no longer be told apart (a repeat of an old record, or a
// record of a gap already reported arriving very late) and counts as `late`.
// An id inside a range already seen is a repeat. Ids below the first id seen
// are not a gap: where a log starts is unknown.
//
// Memory: at most `max_ranges` ranges (16 bytes each plus the map node) and
// `max_gaps_kept` gap ranges per key, and at most `max_keys` keys; events of
// further keys are counted as untracked.
//
// A log-clear event (Security 1102, System 104 naming the channel) beside a
// gap marks the gap `cleared`: a gap right below the clear event's own id in
// the same channel, or any gap of the channel another log's 104 names.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/alert/alert.h"
#include "src/event/event.h"

namespace eventsift::correlate {

struct RecordTrackerOptions {
  uint32_t max_ranges = 1024;        // per key
  uint32_t max_keys = 100000;        // host/channel pairs
  uint32_t max_gaps_kept = 32;       // gap ranges kept per key for reports (the newest)
  uint64_t reorder_window = 100000;  // ids; Settle(false) leaves holes within it open
};

struct RecordGap {
  uint64_t first = 0;  // missing ids first..last
  uint64_t last = 0;
  bool cleared = false;  // a log-clear event sits beside it
  uint64_t size() const { return last - first + 1; }
};

struct RecordKeyStats {
  std::string host;     // lower case
  std::string channel;  // as logged
  uint64_t seen = 0;    // records added
  uint64_t lowest = 0, highest = 0;
  uint64_t missing = 0;  // records in settled gaps
  uint64_t gaps = 0;     // settled gaps
  uint64_t repeats = 0;
  uint64_t late = 0;
  uint64_t clears = 0;            // log-clear events naming this channel
  std::vector<RecordGap> recent;  // the newest settled gaps, oldest first
};

class RecordTracker {
 public:
  explicit RecordTracker(RecordTrackerOptions options = {}) : options_(options) {}
  // Movable, not copyable: KeyState::hint points into the tracker's own maps.
  RecordTracker(const RecordTracker&) = delete;
  RecordTracker& operator=(const RecordTracker&) = delete;
  RecordTracker(RecordTracker&&) = default;
  RecordTracker& operator=(RecordTracker&&) = default;

  // Whether the tracker needs this event's payload (a System 104 names the
  // cleared channel in its data).
  static bool WantsPayload(const Event& header);
  // Notes one event (its computer, channel and record_id; a clear event).
  void Add(const Event& e);
  void Add(std::string_view host, std::string_view channel, uint64_t record_id);
  // Adds everything `other` saw (a scan keeps one tracker per input): ranges
  // seen by both count as repeats.
  void Merge(const RecordTracker& other);
  // Settles holes (see above); returns the gaps settled by this call, each
  // with its key's index in keys().
  std::vector<std::pair<size_t, RecordGap>> Settle(bool finish);

  // Every key's counts, in first-seen order.
  const std::vector<RecordKeyStats>& keys() const { return stats_; }
  uint64_t untracked() const { return untracked_; }
  uint64_t total_missing() const;
  uint64_t total_repeats() const;

 private:
  struct KeyState {
    std::map<uint64_t, uint64_t> ranges;  // first id -> last id, disjoint, not adjacent
    // The range the key's last id went into (valid while has_hint): a log
    // read again, or exports that overlap, repeat ids in order, and each then
    // falls in that range or just past it, found without a search.
    std::map<uint64_t, uint64_t>::iterator hint;
    bool has_hint = false;
    // The first id of the range after the hint (kNoNext: the hint is the
    // highest range), so that an id one past the hint's end is known to
    // extend it in place without reading another node. Every change to the
    // ranges outside the per-record path ends in SetHint.
    static constexpr uint64_t kNoNext = UINT64_MAX;
    uint64_t hint_next_first = kNoNext;
    void SetHint(std::map<uint64_t, uint64_t>::iterator range) {
      hint = range;
      has_hint = true;
      const auto next = std::next(range);
      hint_next_first = next == ranges.end() ? kNoNext : next->first;
    }
    uint64_t floor = 0;               // ids below are settled
    std::vector<uint64_t> clear_ids;  // record ids of clear events in this channel (bounded)
    bool cleared_elsewhere = false;   // a 104 in another channel named this one
  };
  // Add's rarer cases: the event's host differs from the last one's; a
  // Security 1102 or System 104 event (a log clear, if the rest fits).
  void NoteHost(std::string_view computer);
  void NoteClear(const Event& e);
  // The key's index, or SIZE_MAX when the key bound is reached.
  size_t KeyIndex(std::string_view host, std::string_view channel);
  // Notes a record id under a key from KeyIndex (SIZE_MAX: untracked).
  void AddToKey(size_t key, uint64_t record_id);
  // AddToKey's other cases, apart so that its per-record path stays small
  // enough to be inlined into Add.
  void AddOutsideHint(size_t key, uint64_t record_id);
  void InsertRange(size_t key, uint64_t first, uint64_t last);
  void SettleLowest(size_t key, std::vector<std::pair<size_t, RecordGap>>* out);

  RecordTrackerOptions options_;
  std::map<std::string, size_t, std::less<>> index_;  // host '\0' channel -> index
  std::string scratch_key_;
  std::vector<KeyState> state_;
  std::vector<RecordKeyStats> stats_;
  size_t last_key_ = SIZE_MAX;  // events of one key come in runs
  // The last event's computer as given and as a host key: events of one host
  // come in runs, so the key is lower-cased once per run, not per event.
  std::string last_computer_;
  std::string last_host_;
  // The key of the last event given to Add(const Event&), SIZE_MAX when its
  // host changed since (keys are never removed, so an index stays valid).
  size_t event_key_ = SIZE_MAX;
  uint64_t untracked_ = 0;
};

// The pipeline_gap alert of `missing` records of one host and channel, the
// ranges in matched.missing_ranges (docs/alerts.md). Its id is stable per
// host, channel and first missing id.
Alert PipelineGapAlert(const RecordKeyStats& key, const std::vector<RecordGap>& gaps,
                       uint64_t missing);

}  // namespace eventsift::correlate
