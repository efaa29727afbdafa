#pragma once
// JSON export decoder (NDJSON and arrays; Winlogbeat/ECS, NXLog, PowerShell,
// evtx_dump shapes): see docs/json-exports.md.

#include <memory>

#include "src/pipeline/decoder.h"

namespace eventsift::json {

std::unique_ptr<Decoder> NewJsonDecoder(const DecoderOptions& options);

}  // namespace eventsift::json
