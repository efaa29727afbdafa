#include "parsers/evtx/binxml_value.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <type_traits>

#include "parsers/evtx/real_text.h"
#include "src/core/byte_reader.h"
#include "src/core/decimal.h"
#include "src/core/time_util.h"
#include "src/core/utf16.h"

namespace eventsift::evtx {

namespace {

constexpr char kHexLower[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";

template <typename T>
T Load(std::span<const uint8_t> b, size_t off = 0) {
  T v{};
  ByteReader::LoadAt(b, off, &v);  // callers check sizes; a short read leaves 0
  return v;
}

char* PutHexFixed(char* p, uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i) *p++ = kHexLower[(v >> (4 * i)) & 0xF];
  return p;
}

template <typename T>
char* PutNumber(char* p, T v) {
  if constexpr (std::is_unsigned_v<T>) {
    return WriteDecimal(p, v);
  } else {
    return std::to_chars(p, p + 24, v).ptr;  // 24: any 64-bit integer
  }
}

char* PutHexLower(char* p, uint64_t v) {
  *p++ = '0';
  *p++ = 'x';
  return std::to_chars(p, p + 16, v, 16).ptr;
}

void AppendHexLower(std::string* out, uint64_t v) {
  char buf[18];  // "0x" and 16 digits
  out->append(buf, static_cast<size_t>(PutHexLower(buf, v) - buf));
}

// {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx} (38 bytes) of 16 bytes.
char* PutGuid(char* p, std::span<const uint8_t> b16) {
  *p++ = '{';
  p = PutHexFixed(p, Load<uint32_t>(b16, 0), 8);
  *p++ = '-';
  p = PutHexFixed(p, Load<uint16_t>(b16, 4), 4);
  *p++ = '-';
  p = PutHexFixed(p, Load<uint16_t>(b16, 6), 4);
  *p++ = '-';
  for (size_t i = 8; i < 16; ++i) {
    if (i == 10) *p++ = '-';
    *p++ = kHexLower[b16[i] >> 4];
    *p++ = kHexLower[b16[i] & 0xF];
  }
  *p++ = '}';
  return p;
}

// S-<revision>-<authority>-<sub>... of a SID whose size was checked
// (8 + 4 x count bytes at least).
char* PutSid(char* p, std::span<const uint8_t> b) {
  const size_t count = b[1];
  uint64_t authority = 0;
  for (size_t i = 2; i < 8; ++i) authority = (authority << 8) | b[i];
  *p++ = 'S';
  *p++ = '-';
  p = PutNumber(p, static_cast<unsigned>(b[0]));
  *p++ = '-';
  p = PutNumber(p, authority);
  for (size_t i = 0; i < count; ++i) {
    *p++ = '-';
    p = PutNumber(p, Load<uint32_t>(b, 8 + 4 * i));
  }
  return p;
}

bool SidFits(std::span<const uint8_t> b) {
  return b.size() >= 8 && b.size() >= 8 + 4 * size_t{b[1]};
}

// Windows-1252 as UTF-8 for the printable range; 0x80-0x9F map through the
// 1252 table, everything else is Latin-1 (what evtx_dump's default codec does).
void AppendAnsi(std::span<const uint8_t> b, std::string* out) {
  static constexpr uint16_t k1252[32] = {
      0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};
  size_t n = b.size();
  while (n > 0 && b[n - 1] == 0) --n;
  for (size_t i = 0; i < n; ++i) {
    // ASCII runs (nearly all ANSI strings) go in one append: a push_back per
    // byte here was a visible share of `dump --format jsonl`.
    size_t run = i;
    while (run < n && b[run] < 0x80) ++run;
    if (run != i) {
      out->append(reinterpret_cast<const char*>(b.data() + i), run - i);
      i = run;
      if (i == n) break;
    }
    uint32_t c = b[i];
    if (c >= 0x80 && c < 0xA0) c = k1252[c - 0x80];
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (c >> 6)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xE0 | (c >> 12)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
}

// One item of a fixed-size type; `b` has exactly FixedSizeOf(type) bytes.
// Integers, hex integers, bool, GUID and FILETIME are WriteScalarText's.
void AppendFixed(uint8_t type, std::span<const uint8_t> b, std::string* out) {
  char buf[kMaxScalarText];
  if (char* end = WriteScalarText(ValueRef{type, b, 0}, buf)) {
    out->append(buf, static_cast<size_t>(end - buf));
    return;
  }
  switch (type) {
    case kReal32:
      AppendReal32(out, Load<float>(b));
      return;
    case kReal64:
      AppendReal64(out, Load<double>(b));
      return;
    case kSysTime:
      if (!AppendSystemTime(b, out)) AppendHexUpper(b, out);
      return;
    default:
      AppendHexUpper(b, out);
      return;
  }
}

}  // namespace

std::span<const uint8_t> TrimUtf16Nuls(std::span<const uint8_t> b) {
  size_t n = b.size() & ~size_t{1};
  while (n >= 2 && b[n - 1] == 0 && b[n - 2] == 0) n -= 2;
  return b.first(n);
}

bool RendersEmpty(const ValueRef& v) {
  if (v.is_null() || v.bytes.empty()) return true;
  return v.type == kString &&
         std::all_of(v.bytes.begin(), v.bytes.end(), [](uint8_t c) { return c == 0; });
}

size_t FixedSizeOf(uint8_t base_type) {
  switch (base_type) {
    case kInt8:
    case kUInt8:
      return 1;
    case kInt16:
    case kUInt16:
      return 2;
    case kInt32:
    case kUInt32:
    case kReal32:
    case kBool:
    case kHexInt32:
      return 4;
    case kInt64:
    case kUInt64:
    case kReal64:
    case kFileTime:
    case kHexInt64:
      return 8;
    case kGuid:
    case kSysTime:
      return 16;
    default:
      return 0;
  }
}

char* WriteHexUpper(std::span<const uint8_t> b, char* out) {
  // Two characters per byte from one table load: Binary values (driver
  // dumps in System events) run to kilobytes.
  static constexpr auto kPairs = [] {
    std::array<char, 512> t{};
    for (int i = 0; i < 256; ++i) {
      t[2 * i] = kHexUpper[i >> 4];
      t[2 * i + 1] = kHexUpper[i & 0xF];
    }
    return t;
  }();
  for (uint8_t c : b) {
    std::memcpy(out, &kPairs[2 * size_t{c}], 2);
    out += 2;
  }
  return out;
}

void AppendHexUpper(std::span<const uint8_t> b, std::string* out) {
  const size_t old = out->size();
  out->resize(old + 2 * b.size());
  WriteHexUpper(b, out->data() + old);
}

void AppendGuid(std::span<const uint8_t> b, std::string* out) {
  if (b.size() < 16) {
    AppendHexUpper(b, out);
    return;
  }
  char buf[38];
  out->append(buf, static_cast<size_t>(PutGuid(buf, b) - buf));
}

void AppendSid(std::span<const uint8_t> b, std::string* out) {
  // revision u8 | sub-authority count u8 | 48-bit big-endian authority |
  // count x u32 LE sub-authorities.
  if (!SidFits(b)) {
    AppendHexUpper(b, out);
    return;
  }
  const size_t old = out->size();
  out->resize(old + 4 + 3 + 20 + 11 * size_t{b[1]});  // "S-", 3 + 20 digits, "-" + 10 each
  char* end = PutSid(out->data() + old, b);
  out->resize(static_cast<size_t>(end - out->data()));
}

bool AppendSystemTime(std::span<const uint8_t> b, std::string* out) {
  if (b.size() < 16) return false;
  const unsigned year = Load<uint16_t>(b, 0), month = Load<uint16_t>(b, 2),
                 day = Load<uint16_t>(b, 6), hour = Load<uint16_t>(b, 8),
                 minute = Load<uint16_t>(b, 10), second = Load<uint16_t>(b, 12),
                 millis = Load<uint16_t>(b, 14);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59 ||
      millis > 999) {
    return false;
  }
  const int64_t days = DaysFromCivil(year, month, day);
  const int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second;
  AppendRfc3339(out, secs * kTicksPerSecond + millis * 10000LL + kFileTimeUnixEpoch);
  return true;
}

void AppendValueText(const ValueRef& v, std::string* out, std::string_view separator) {
  const uint8_t base = v.type & ~kArrayFlag;
  std::span<const uint8_t> b = v.bytes;
  if (!v.is_array()) {
    switch (base) {
      case kNull:
        return;
      case kString:
        AppendUtf16LeAsUtf8(TrimUtf16Nuls(b), out);
        return;
      case kAnsiString:
        AppendAnsi(b, out);
        return;
      case kBinary:
        AppendHexUpper(b, out);
        return;
      case kSid:
        AppendSid(b, out);
        return;
      case kSizeT:
        if (b.size() == 4) {
          AppendHexLower(out, Load<uint32_t>(b));
        } else if (b.size() == 8) {
          AppendHexLower(out, Load<uint64_t>(b));
        } else {
          AppendHexUpper(b, out);
        }
        return;
      default:
        break;
    }
    const size_t size = FixedSizeOf(base);
    if (size == 0 || b.size() != size) {
      AppendHexUpper(b, out);
    } else {
      AppendFixed(base, b, out);
    }
    return;
  }
  // Arrays.
  if (base == kString) {
    // NUL-terminated UTF-16 items back to back.
    std::span<const uint8_t> rest = TrimUtf16Nuls(b);
    bool first = true;
    while (true) {
      size_t end = 0;
      while (end + 1 < rest.size() && (rest[end] != 0 || rest[end + 1] != 0)) end += 2;
      if (!first) out->append(separator);
      first = false;
      AppendUtf16LeAsUtf8(rest.first(std::min(end, rest.size())), out);
      if (end + 2 > rest.size()) break;
      rest = rest.subspan(end + 2);
    }
    return;
  }
  if (base == kSid) {
    size_t pos = 0;
    bool first = true;
    while (pos + 8 <= b.size()) {
      size_t len = 8 + 4 * static_cast<size_t>(b[pos + 1]);
      if (pos + len > b.size()) break;
      if (!first) out->append(separator);
      first = false;
      AppendSid(b.subspan(pos, len), out);
      pos += len;
    }
    return;
  }
  size_t size = FixedSizeOf(base);
  if (base == kSizeT) size = 8;  // 64-bit writers; 32-bit logs are rare
  if (size == 0 || b.size() % size != 0) {
    AppendHexUpper(b, out);
    return;
  }
  for (size_t pos = 0; pos < b.size(); pos += size) {
    if (pos != 0) out->append(separator);
    if (base == kSizeT) {
      AppendHexLower(out, Load<uint64_t>(b, pos));
    } else {
      AppendFixed(base, b.subspan(pos, size), out);
    }
  }
}

char* WriteScalarText(const ValueRef& v, char* out) {
  const std::span<const uint8_t> b = v.bytes;
  if (v.type == kSid) {
    return SidFits(b) && b[1] <= kMaxSidWrittenDirectly ? PutSid(out, b) : nullptr;
  }
  if (v.is_array() || b.size() != FixedSizeOf(v.type)) return nullptr;  // AppendHexUpper's case
  switch (v.type) {
    case kInt8:
      return PutNumber(out, static_cast<int>(Load<int8_t>(b)));
    case kUInt8:
      return PutNumber(out, static_cast<unsigned>(Load<uint8_t>(b)));
    case kInt16:
      return PutNumber(out, Load<int16_t>(b));
    case kUInt16:
      return PutNumber(out, Load<uint16_t>(b));
    case kInt32:
      return PutNumber(out, Load<int32_t>(b));
    case kUInt32:
      return PutNumber(out, Load<uint32_t>(b));
    case kInt64:
      return PutNumber(out, Load<int64_t>(b));
    case kUInt64:
      return PutNumber(out, Load<uint64_t>(b));
    case kHexInt32:
      return PutHexLower(out, Load<uint32_t>(b));
    case kHexInt64:
      return PutHexLower(out, Load<uint64_t>(b));
    case kGuid:
      return PutGuid(out, b);
    case kFileTime:
      return WriteRfc3339(out, static_cast<FileTime>(Load<uint64_t>(b)));
    case kBool: {
      const uint32_t n = Load<uint32_t>(b);
      if (n > 1) return PutNumber(out, n);  // as AppendFixed: other values print as numbers
      const std::string_view text = n == 1 ? "true" : "false";
      std::memcpy(out, text.data(), text.size());
      return out + text.size();
    }
    default:
      return nullptr;
  }
}

}  // namespace eventsift::evtx
