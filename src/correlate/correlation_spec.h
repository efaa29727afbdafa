#pragma once
// How a rule's hits are grouped into alerts, per normalized host. Rules carry
// one (detect/), the correlator applies it (correlate/).

#include <cstdint>

namespace eventsift {

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
};

}  // namespace eventsift
