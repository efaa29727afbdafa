#pragma once
// StateStore: what the daemon must remember across restarts, in one file
// <state_dir>/state.json, replaced atomically (write a temp file, fsync it,
// rename it over the old one, fsync the directory): a crash leaves either
// the old or the new state, never a torn one.
//
// The state holds, consistently with each other:
//   * per tracked file, where reading resumes (source::FileCheckpoint);
//   * the correlation state as the rule hits still in open windows, and the
//     ids of alerts already emitted whose windows might be rebuilt (see
//     docs/operations.md "Restart semantics");
//   * the event-time high water mark the watermark is derived from.
// It is written only after the sinks were flushed, so an offset never gets
// ahead of the alerts its events produced.

#include <cstdint>
#include <string>
#include <vector>

#include "src/core/result.h"
#include "src/core/time_util.h"
#include "src/event/owned_event.h"
#include "src/source/file_checkpoint.h"

namespace eventsift::daemon {

struct PendingHit {
  std::string rule_id;  // ids, not indices: a reload may reorder rules
  OwnedEvent event;
};

// An alert already sent: enough to find the hits that would raise it again.
struct EmittedAlert {
  std::string alert_id;
  std::string rule_id;
  std::vector<std::string> host_names;  // raw computer names of its events
  FileTime window_start = 0;
  FileTime window_end = 0;
};

// The highest Exchange build seen for a host (correlate::ExchangeVersion's
// fields, kept plain so the state format does not depend on correlate/).
struct SavedBuild {
  std::string host;  // raw computer name as seen
  uint32_t major = 0, minor = 0, build = 0, revision = 0;
  bool revision_known = true;
  std::string source;
};

// The correlation state of one Kafka partition (its own watermark, windows
// and suppression), saved with the checkpoint. Where reading resumes is in
// DaemonState::files (path "kafka:<topic>/<partition>").
struct PartitionState {
  std::string source;  // the kafka source's name
  int32_t partition = 0;
  FileTime max_event_time = 0;
  std::vector<PendingHit> hits;
  std::vector<EmittedAlert> emitted;
  std::vector<SavedBuild> builds;
  std::string sigma_correlation;  // SigmaCorrelator::SaveState JSON, or empty
  std::string exchange_cves;      // correlate::CveWatch::SaveState JSON, or empty
};

struct DaemonState {
  static constexpr int kVersion = 1;
  int64_t saved_at_unix_ms = 0;
  FileTime max_event_time = 0;
  std::vector<source::FileCheckpoint> files;
  std::vector<PendingHit> hits;
  std::vector<EmittedAlert> emitted;
  std::vector<SavedBuild> builds;
  // Kafka partitions, each correlated apart (absent in older files: none).
  std::vector<PartitionState> partitions;
  // The Sigma correlation engine's state (SigmaCorrelator::SaveState JSON;
  // absent in older files and when no correlation is loaded: empty).
  std::string sigma_correlation;
  // The per-server CVE verdicts' inputs (correlate::CveWatch::SaveState
  // JSON; absent in older files: empty).
  std::string exchange_cves;
};

class StateStore {
 public:
  explicit StateStore(std::string dir) : dir_(std::move(dir)) {}

  // Creates the directory if needed and checks it is writable.
  Status Open();
  // NotFound when there is no state yet (first start).
  Result<DaemonState> Load() const;
  Status Save(const DaemonState& state) const;

  std::string path() const { return dir_ + "/state.json"; }

 private:
  std::string dir_;
};

// The JSON form (exposed for tests).
std::string SerializeState(const DaemonState& state);
Result<DaemonState> ParseState(std::string_view json, const std::string& origin);

}  // namespace eventsift::daemon
