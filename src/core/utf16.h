#pragma once
// UTF-16LE -> UTF-8. Unpaired surrogates become U+FFFD, never a crash (python-
// evtx #43, libevtx #20). Input is raw little-endian bytes because EVTX strings
// are not 2-byte aligned in the file.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "src/core/arena.h"

namespace eventsift {

// Appends the UTF-8 form of `units` UTF-16 code units at `bytes` to `out`.
// Stops at the first NUL when `stop_at_nul` is set.
void AppendUtf16LeAsUtf8(std::span<const uint8_t> bytes, std::string* out,
                         bool stop_at_nul = false);

// Converts into arena storage; the view lives as long as the arena.
std::string_view Utf16LeToUtf8(std::span<const uint8_t> bytes, Arena* arena,
                               bool stop_at_nul = false);

// Upper bound of UTF-8 bytes for n UTF-16 code units (3 bytes per unit).
inline constexpr size_t MaxUtf8ForUtf16Units(size_t units) { return units * 3; }

// Room Utf16LeToUtf8Into needs at `dst` for n units: the bound above plus
// the few bytes a block store may write past the text.
inline constexpr size_t Utf16ToUtf8Room(size_t units) { return MaxUtf8ForUtf16Units(units) + 4; }

// Writes the UTF-8 form of `bytes` (as AppendUtf16LeAsUtf8, not stopping at
// NUL) at `dst`, which has Utf16ToUtf8Room(bytes.size() / 2) bytes; returns
// the bytes of text written. For renderers that convert straight into their
// output buffer.
size_t Utf16LeToUtf8Into(std::span<const uint8_t> bytes, char* dst);

}  // namespace eventsift
