#pragma once
// EVTX (Windows XML Event Log) decoder: see docs/evtx-format.md.

#include <memory>

#include "src/pipeline/decoder.h"

namespace eventsift::evtx {

std::unique_ptr<Decoder> NewEvtxDecoder(const DecoderOptions& options);

}  // namespace eventsift::evtx
