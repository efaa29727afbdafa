#pragma once
// The explicit registry of decoders (no static-init magic): which formats
// exist, how an input is recognised, and how its decoder is made.

#include <memory>
#include <string>
#include <string_view>

#include "src/core/result.h"
#include "src/decoder/decoder.h"

namespace eventsift {

enum class InputFormat : uint8_t { kEvtx, kJson };

std::string_view InputFormatName(InputFormat f);

// Recognises an input by content, not by extension: "ElfFile\0" is EVTX;
// gzip, '{', '[', whitespace or a UTF-8/UTF-16 BOM is JSON. "-" (stdin) is
// JSON. Fails with kUnsupported for anything else, kIOError if unreadable.
Result<InputFormat> SniffInputFormat(const std::string& path);

// The same from the first bytes of an input already read (its first 8 are
// enough; gzip is JSON); `name` labels the error.
Result<InputFormat> SniffInputBytes(std::string_view bytes, const std::string& name);

std::unique_ptr<Decoder> CreateDecoder(InputFormat format, const DecoderOptions& options);

}  // namespace eventsift
