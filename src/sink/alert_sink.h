#pragma once
// AlertSink: where alerts go (stdout/file NDJSON, table, Kafka). Sinks are
// nouns; each counts received, delivered and failed alerts.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "src/alert/alert.h"
#include "src/core/stats.h"
#include "src/core/status.h"

namespace eventsift {

// Outcome of one delivery (fluent-bit FLB_OK/RETRY/ERROR, Vector EventStatus).
enum class DeliveryStatus : uint8_t { kDelivered, kRetry, kRejected };

struct SinkStats {
  Counter received;
  Counter delivered;
  Counter spooled;  // not delivered yet, kept durably for replay
  Counter failed;   // could neither be delivered nor spooled (must stay 0)
};

class AlertSink {
 public:
  virtual ~AlertSink() = default;
  virtual std::string_view name() const = 0;
  // `json` is the alert's wire form (RenderAlertJson) so it is rendered once.
  virtual Status Send(const Alert& alert, std::string_view json) = 0;
  // The same with `json` shared: a sink that delivers later may keep it,
  // and so its bytes, until it no longer needs them instead of copying
  // them (Kafka: until the alert's delivery report). By default, Send.
  virtual Status SendShared(const Alert& alert, std::shared_ptr<const std::string> json) {
    return Send(alert, *json);
  }
  // Waits up to `timeout` for outstanding deliveries; anything still pending
  // is spooled (Kafka) before this returns.
  virtual Status Flush(std::chrono::milliseconds timeout) = 0;
  const SinkStats& stats() const { return stats_; }

 protected:
  SinkStats stats_;
};

}  // namespace eventsift
