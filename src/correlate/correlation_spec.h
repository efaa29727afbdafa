#pragma once
// How a rule's hits are grouped into alerts, per normalized host. Rules carry
// one (detect/), the correlator applies it (correlate/).

#include <cstdint>

namespace eventsift {

// When a streaming correlator (the daemon) sends a window's alert.
enum class EmitMode : uint8_t {
  kAuto,       // kImmediate for threshold 1, else kWindowEnd (the rule format's default)
  kImmediate,  // as soon as the window holds `threshold` hits; a follow-up when it closes
  kWindowEnd,  // once the window has closed, with its final count
};

struct CorrelationSpec {
  // Hits of one rule on one host are grouped into tumbling windows of this
  // length, the first starting at the first hit.
  int64_t window_seconds = 24 * 3600;
  // A window becomes an alert once it holds at least this many hits.
  uint64_t threshold = 1;
  // After an alert, windows of the same rule and host that start within this
  // many seconds of the alert's window end are folded into it (counted in
  // Alert::suppressed) instead of raising new alerts. 0: no suppression.
  int64_t suppress_seconds = 0;
  // Sample events kept per alert, earliest first.
  uint32_t max_samples = 3;
  // Streaming only; a batch run (scan) sees whole windows and always emits
  // each alert once, with its final count.
  EmitMode emit = EmitMode::kAuto;

  bool immediate() const {
    return emit == EmitMode::kImmediate || (emit == EmitMode::kAuto && threshold == 1);
  }
};

}  // namespace eventsift
