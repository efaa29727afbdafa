// Placeholder until the decoder lands; replaced by the evtx work.
#include "parsers/evtx/evtx_decoder.h"

namespace eventsift::evtx {
namespace {
class PendingDecoder : public Decoder {
 public:
  std::string_view name() const override { return "evtx"; }
  Status Decode(const InputSpec& input, EventHandler&, CorruptionReporter&) override {
    return Status::Unsupported("evtx decoder not built yet").At(input.name());
  }
};
}  // namespace
std::unique_ptr<Decoder> NewEvtxDecoder(const DecoderOptions&) {
  return std::make_unique<PendingDecoder>();
}
}  // namespace eventsift::evtx
