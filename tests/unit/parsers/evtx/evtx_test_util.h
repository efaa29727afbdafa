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

// DumpXml followed by one "report: ..." line per corruption report and the
// final status: from the image in memory, or with `path` not empty from the
// file there (which must hold the image), read a chunk at a time as `dump`
// reads files. Both name the input "test.evtx".
std::string DumpXmlAndReports(const std::vector<uint8_t>& image, const DecoderOptions& options,
                              const std::string& path = "");

}  // namespace eventsift::evtx::testing
