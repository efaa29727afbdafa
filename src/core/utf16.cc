#include "src/core/utf16.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace eventsift {

namespace {

inline uint32_t UnitAt(const uint8_t* p, size_t i) {
  return static_cast<uint32_t>(p[2 * i]) | (static_cast<uint32_t>(p[2 * i + 1]) << 8);
}

// Copies the leading run of ASCII units (below 0x80; and non-NUL when
// `stop_at_nul`) from p[i..units) to *out, advancing both. EVTX text is
// nearly all ASCII, so this is where conversion spends its time: 8 units per
// SSE2 step (a 16-byte load, one compare, one pack), then 4 per 64-bit word.
// An SSE2 step stores 8 bytes whatever the run's length, but only with 8 or
// more units left, which have at least 24 bytes of room.
inline void CopyAsciiRun(const uint8_t* p, size_t units, bool stop_at_nul, size_t* i_io,
                         char** out_io) {
  size_t i = *i_io;
  char* out = *out_io;
#if defined(__SSE2__)
  const __m128i high = _mm_set1_epi16(static_cast<int16_t>(0xFF80));
  const __m128i zero = _mm_setzero_si128();
  while (i + 8 <= units) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * i));
    // 0xFFFF in every lane that is ASCII (and, if asked, not NUL).
    __m128i ok = _mm_cmpeq_epi16(_mm_and_si128(v, high), zero);
    if (stop_at_nul) ok = _mm_andnot_si128(_mm_cmpeq_epi16(v, zero), ok);
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(ok));
    // Lanes past the first non-ASCII unit are stored too but not counted:
    // the slow path overwrites them.
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packus_epi16(v, v));
    if (mask != 0xFFFF) {
      const auto n = static_cast<size_t>(__builtin_ctz(~mask)) / 2;
      *i_io = i + n;
      *out_io = out + n;
      return;
    }
    i += 8;
    out += 8;
  }
#endif
  // Portable path and the SSE2 tail: 4 units per 64-bit word.
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
  *i_io = i;
  *out_io = out;
}

// Writes UTF-8 into `dst` (room for 3 bytes per input unit); returns bytes
// written.
size_t ConvertInto(std::span<const uint8_t> bytes, char* dst, bool stop_at_nul) {
  const size_t units = bytes.size() / 2;
  const uint8_t* p = bytes.data();
  char* out = dst;
  size_t i = 0;
  while (i < units) {
    CopyAsciiRun(p, units, stop_at_nul, &i, &out);
    // One unit (or surrogate pair) at a time, until the next ASCII run long
    // enough for the block copy: text in another script stays here.
    while (i < units) {
      const uint32_t cu = UnitAt(p, i);
      if (cu < 0x80) {
        if (cu == 0 && stop_at_nul) return static_cast<size_t>(out - dst);
        *out++ = static_cast<char>(cu);
        ++i;
        // Back to the block copy when the next few units may be ASCII too.
        if (i + 4 <= units && UnitAt(p, i) < 0x80) break;
        continue;
      }
      ++i;
      if (cu < 0x800) {
        *out++ = static_cast<char>(0xC0 | (cu >> 6));
        *out++ = static_cast<char>(0x80 | (cu & 0x3F));
        continue;
      }
      uint32_t cp = cu;
      if (cu >= 0xD800 && cu <= 0xDFFF) {
        // A high surrogate followed by a low one is a pair; any other
        // surrogate is unpaired and becomes U+FFFD.
        const uint32_t lo = i < units ? UnitAt(p, i) : 0;
        if (cu <= 0xDBFF && lo >= 0xDC00 && lo <= 0xDFFF) {
          cp = 0x10000 + ((cu - 0xD800) << 10) + (lo - 0xDC00);
          ++i;
          // A pair is 2 units (6 bytes of budget) and needs 4 bytes.
          *out++ = static_cast<char>(0xF0 | (cp >> 18));
          *out++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
          *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          *out++ = static_cast<char>(0x80 | (cp & 0x3F));
          continue;
        }
        cp = 0xFFFD;
      }
      *out++ = static_cast<char>(0xE0 | (cp >> 12));
      *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out++ = static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return static_cast<size_t>(out - dst);
}

}  // namespace

size_t Utf16LeToUtf8Into(std::span<const uint8_t> bytes, char* dst) {
  return ConvertInto(bytes, dst, false);
}

void AppendUtf16LeAsUtf8(std::span<const uint8_t> bytes, std::string* out, bool stop_at_nul) {
  const size_t old = out->size();
  out->resize(old + Utf16ToUtf8Room(bytes.size() / 2));
  size_t n = ConvertInto(bytes, out->data() + old, stop_at_nul);
  out->resize(old + n);
}

std::string_view Utf16LeToUtf8(std::span<const uint8_t> bytes, Arena* arena, bool stop_at_nul) {
  if (bytes.size() < 2) return {};
  char* dst = arena->Allocate(Utf16ToUtf8Room(bytes.size() / 2));
  size_t n = ConvertInto(bytes, dst, stop_at_nul);
  return {dst, n};
}

}  // namespace eventsift
