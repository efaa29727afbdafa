#pragma once
// Helpers shared by the EVTX tests: load a file, decode it, keep the events.

#include <cstdint>
#include <string>
#include <vector>

#include "src/core/status.h"
#include "src/decoder/decoder.h"
#include "src/event/owned_event.h"

namespace eventsift::evtx::testing {

// Path of a file under tests/data/evtx (tests run from the repository root).
std::string DataPath(const std::string& name);

std::vector<uint8_t> ReadFile(const std::string& path);

struct Decoded {
  Status status;
  std::vector<OwnedEvent> events;
  std::vector<Status> reports;
  // DecoderStats' accounting counts for the image.
  uint64_t chunks_declared = 0;
  uint64_t chunks_found = 0;
  uint64_t chunks_empty = 0;
  uint64_t records_recovered = 0;
};

// Decodes an in-memory image with DecodeEvtxBuffer.
Decoded Decode(const std::vector<uint8_t>& image, const DecoderOptions& options = {});

// Renders every record as `dump --format xml` prints it.
std::string DumpXml(const std::vector<uint8_t>& image, const DecoderOptions& options = {});

}  // namespace eventsift::evtx::testing
