// Placeholder until the decoder lands; replaced by the json work.
#include "parsers/json/json_decoder.h"

namespace eventsift::json {
namespace {
class PendingDecoder : public Decoder {
 public:
  std::string_view name() const override { return "json"; }
  Status Decode(const InputSpec& input, EventHandler&, CorruptionReporter&) override {
    return Status::Unsupported("json decoder not built yet").At(input.name());
  }
};
}  // namespace
std::unique_ptr<Decoder> NewJsonDecoder(const DecoderOptions&) {
  return std::make_unique<PendingDecoder>();
}
}  // namespace eventsift::json
