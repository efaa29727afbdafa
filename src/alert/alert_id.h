#pragma once
// alert_id: the same alert gets the same id on every run, whatever the thread
// scheduling or file order, so consumers can de-duplicate re-scans and
// at-least-once Kafka redeliveries on it. docs/alerts.md states the recipe;
// tests/unit/alert/alert_id_test.cc pins it.

#include <string>
#include <string_view>

#include "src/core/time_util.h"

namespace eventsift {

// Lowercase hex (32 digits) of XXH3-128, canonical (big-endian) byte order,
// over "<schema major>\x1f<rule id>\x1f<host key>\x1f<window start>", the
// window start as decimal FILETIME ticks (0 for the untimed window).
std::string ComputeAlertId(std::string_view rule_id, std::string_view host, FileTime window_start);

// exchange_cve_exposure alerts: the same hash over
// "<schema major>\x1fexchange_cve_exposure\x1f<host key>\x1f<CVE>\x1f<verdict>",
// so a re-scan with the same verdict repeats the id and a changed verdict
// makes a new one.
std::string ComputeCveAlertId(std::string_view host, std::string_view cve,
                              std::string_view verdict);

}  // namespace eventsift
