#pragma once
// The alert wire format: one JSON object per alert, one line, keys in a fixed
// order. schemas/alert.schema.json describes exactly this output and
// docs/alerts.md explains every field.
//
// Versioning: kAlertSchemaVersion ("eventsift.alert/v1") is the `schema`
// field. Adding a field keeps v1 (readers ignore keys they do not know);
// removing or retyping a field bumps it to v2.

#include <optional>
#include <string>
#include <string_view>

#include "src/alert/alert.h"
#include "src/core/result.h"

namespace eventsift {

// "unknown", "outdated", "borderline", "current", "no_eems", "indeterminate".
std::string_view BuildStatusJsonName(BuildStatus status);
std::optional<BuildStatus> ParseBuildStatusJsonName(std::string_view name);

// The version of this eventsift build ("0.1.0"), the `producer.version` of
// alerts whose Alert::producer_version is empty.
std::string_view ProducerVersion();

// One line, no newline.
std::string RenderAlertJson(const Alert& alert);

// Parses what RenderAlertJson wrote (simdjson On-Demand): rendering the result
// gives the same bytes back. Keys it does not know are skipped, so v1 readers
// accept additive changes; a `schema` other than v1 is kUnsupported. Sample
// data keys come back as written ("param1" for an unnamed value). Thread-safe
// (one parser per thread).
Result<Alert> ParseAlertJson(std::string_view json);

}  // namespace eventsift
