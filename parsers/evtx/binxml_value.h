#pragma once
// BinXml value types and their text forms (docs/evtx-format.md, "Values").
// Text forms follow what evtx_dump 0.15 prints, so `dump --format xml` can be
// diffed against it and EventData values match the ones SIEMs already index.

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace eventsift::evtx {

// Value type codes (libyal "Value types"). kArrayFlag marks an array of the
// base type: the bytes hold the items back to back (strings NUL-separated).
enum ValueType : uint8_t {
  kNull = 0x00,
  kString = 0x01,  // UTF-16LE
  kAnsiString = 0x02,
  kInt8 = 0x03,
  kUInt8 = 0x04,
  kInt16 = 0x05,
  kUInt16 = 0x06,
  kInt32 = 0x07,
  kUInt32 = 0x08,
  kInt64 = 0x09,
  kUInt64 = 0x0a,
  kReal32 = 0x0b,
  kReal64 = 0x0c,
  kBool = 0x0d,
  kBinary = 0x0e,
  kGuid = 0x0f,
  kSizeT = 0x10,
  kFileTime = 0x11,
  kSysTime = 0x12,
  kSid = 0x13,
  kHexInt32 = 0x14,
  kHexInt64 = 0x15,
  kEvtHandle = 0x20,
  kBinXml = 0x21,
  kEvtXml = 0x23,
  kArrayFlag = 0x80,
};

// A typed value borrowed from the chunk: `bytes` points into the chunk image
// and lives as long as it; `chunk_offset` is where bytes[0] sits in the chunk
// (nested BinXml refers to templates by chunk offset).
struct ValueRef {
  uint8_t type = kNull;
  std::span<const uint8_t> bytes;
  uint32_t chunk_offset = 0;

  bool is_null() const { return type == kNull; }
  bool is_array() const { return (type & kArrayFlag) != 0; }
};

// A UTF-16 string value's bytes without its trailing NULs (values are sized
// in bytes and usually include the terminator) and without an odd last byte.
std::span<const uint8_t> TrimUtf16Nuls(std::span<const uint8_t> b);

// NULL, zero-length or an all-NUL string: renders as nothing. An attribute
// whose value parts are all like this is left out (as evtx_dump does).
bool RendersEmpty(const ValueRef& v);

// Appends the text form of a scalar or array value (not BinXml: the walker
// expands those). Arrays are rendered item by item joined with `separator`
// ("," as evtx_dump's XML does). Never fails: bytes that do not fit the type
// are rendered as uppercase hex, as for kBinary.
void AppendValueText(const ValueRef& v, std::string* out, std::string_view separator = ",");

// The text AppendValueText gives the common scalars (integers, hex integers,
// bool, GUID, FILETIME, and SIDs of up to kMaxSidWrittenDirectly
// sub-authorities), written at `out`, which has kMaxScalarText bytes; returns
// its end, or null (nothing written) for any other value, which takes
// AppendValueText. For renderers writing into their output buffer; the text
// is ASCII that JSON and XML need not escape.
inline constexpr size_t kMaxSidWrittenDirectly = 15;
inline constexpr size_t kMaxScalarText = 192;  // "S-255-" + 15 digits + 15 x "-4294967295"
char* WriteScalarText(const ValueRef& v, char* out);
// Binary as uppercase hex (AppendValueText's kBinary form) at `out`, which
// has 2 bytes per input byte; returns the end.
char* WriteHexUpper(std::span<const uint8_t> b, char* out);

// Scalar text forms, exposed for tests and for the event builder.
void AppendGuid(std::span<const uint8_t> b16, std::string* out);  // {xxxxxxxx-...} lowercase
void AppendSid(std::span<const uint8_t> b, std::string* out);     // S-1-5-21-...
void AppendHexUpper(std::span<const uint8_t> b, std::string* out);
// SYSTEMTIME (8 x u16) as RFC 3339 with 7 fractional digits; false if invalid.
bool AppendSystemTime(std::span<const uint8_t> b16, std::string* out);

// Integer value of a numeric value (ints, hex ints, bool, size_t, FILETIME);
// false for other types, and for a value too short for its type (*out is
// then 0). Inline: every record's numeric header fields come through here,
// and the call cost more than the switch.
inline bool ValueAsUInt64(const ValueRef& v, uint64_t* out) {
  const size_t n = v.bytes.size();
  auto load = [&v, n]<typename T>(T zero) -> uint64_t {
    T x = zero;
    if (n >= sizeof(T)) std::memcpy(&x, v.bytes.data(), sizeof(T));
    return x;
  };
  switch (v.type) {
    case kInt8:
    case kUInt8:
      *out = load(uint8_t{0});
      return n >= 1;
    case kInt16:
    case kUInt16:
      *out = load(uint16_t{0});
      return n >= 2;
    case kInt32:
    case kUInt32:
    case kHexInt32:
    case kBool:
      *out = load(uint32_t{0});
      return n >= 4;
    case kInt64:
    case kUInt64:
    case kHexInt64:
    case kFileTime:
      *out = load(uint64_t{0});
      return n >= 8;
    case kSizeT:
      *out = n == 4 ? load(uint32_t{0}) : load(uint64_t{0});
      return n == 4 || n == 8;
    default:
      return false;
  }
}

// Size in bytes of one item of a fixed-size type, or 0 for variable-size types.
size_t FixedSizeOf(uint8_t base_type);

}  // namespace eventsift::evtx
