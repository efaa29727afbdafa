#include "src/core/utf16.h"

#include <cstring>

namespace eventsift {

namespace {

// Writes UTF-8 into `dst` (room for 3 bytes per input unit); returns bytes written.
size_t ConvertInto(std::span<const uint8_t> bytes, char* dst, bool stop_at_nul) {
  const size_t units = bytes.size() / 2;
  const uint8_t* p = bytes.data();
  char* out = dst;
  size_t i = 0;
  while (i < units) {
    // ASCII fast path: 4 units at a time while the high bytes are zero and the
    // low bytes are below 0x80 and non-NUL.
    while (i + 4 <= units) {
      uint64_t w;
      std::memcpy(&w, p + 2 * i, 8);
      if ((w & 0xFF80FF80FF80FF80ULL) != 0) break;
      if (stop_at_nul && (((w & 0xFFULL) == 0) || ((w & 0xFF0000ULL) == 0) ||
                          ((w & 0xFF00000000ULL) == 0) || ((w & 0xFF000000000000ULL) == 0))) {
        break;
      }
      out[0] = static_cast<char>(w);
      out[1] = static_cast<char>(w >> 16);
      out[2] = static_cast<char>(w >> 32);
      out[3] = static_cast<char>(w >> 48);
      out += 4;
      i += 4;
    }
    if (i >= units) break;
    uint32_t cu = static_cast<uint32_t>(p[2 * i]) | (static_cast<uint32_t>(p[2 * i + 1]) << 8);
    ++i;
    if (cu == 0 && stop_at_nul) break;
    uint32_t cp = cu;
    if (cu >= 0xD800 && cu <= 0xDBFF) {
      if (i < units) {
        uint32_t lo = static_cast<uint32_t>(p[2 * i]) | (static_cast<uint32_t>(p[2 * i + 1]) << 8);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
          cp = 0x10000 + ((cu - 0xD800) << 10) + (lo - 0xDC00);
          ++i;
        } else {
          cp = 0xFFFD;
        }
      } else {
        cp = 0xFFFD;
      }
    } else if (cu >= 0xDC00 && cu <= 0xDFFF) {
      cp = 0xFFFD;
    }
    if (cp < 0x80) {
      *out++ = static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out++ = static_cast<char>(0xC0 | (cp >> 6));
      *out++ = static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out++ = static_cast<char>(0xE0 | (cp >> 12));
      *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out++ = static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      // A surrogate pair is 2 units (4 bytes of budget) and needs 4 bytes.
      *out++ = static_cast<char>(0xF0 | (cp >> 18));
      *out++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out++ = static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return static_cast<size_t>(out - dst);
}

}  // namespace

void AppendUtf16LeAsUtf8(std::span<const uint8_t> bytes, std::string* out, bool stop_at_nul) {
  const size_t old = out->size();
  out->resize(old + MaxUtf8ForUtf16Units(bytes.size() / 2) + 4);
  size_t n = ConvertInto(bytes, out->data() + old, stop_at_nul);
  out->resize(old + n);
}

std::string_view Utf16LeToUtf8(std::span<const uint8_t> bytes, Arena* arena, bool stop_at_nul) {
  if (bytes.size() < 2) return {};
  char* dst = arena->Allocate(MaxUtf8ForUtf16Units(bytes.size() / 2) + 4);
  size_t n = ConvertInto(bytes, dst, stop_at_nul);
  return {dst, n};
}

}  // namespace eventsift
