#pragma once
// Inputs that can be read only once: FIFOs, process substitution
// (`<(zcat x.ndjson)` is /dev/fd/N, a pipe), character devices. Opening one
// and sniffing its format consumes what was read, so it is read once, whole,
// and decoded from memory; waiting for a writer must not block signals
// (open() of a FIFO without a writer blocks, and restarts after SIGINT).

#include <atomic>
#include <cstddef>
#include <string>

#include "src/core/result.h"

namespace eventsift {

// What one stream input may hold in memory (docs/cli.md).
inline constexpr size_t kMaxStreamInputBytes = size_t{1} << 30;

// True when `path` names something other than a regular file or a
// directory. "-" is not: standard input is read by the decoders themselves.
bool IsStreamInput(const std::string& path);

// Reads the stream at `path` whole. Waits for a writer and for data in
// steps of 200 ms, returning kUnavailable ("interrupted") once `*cancel` (if
// not null) is set; fails naming the path past `max_bytes`.
Result<std::string> ReadStreamInput(const std::string& path, const std::atomic<bool>* cancel,
                                    size_t max_bytes = kMaxStreamInputBytes);

}  // namespace eventsift
