#pragma once
// Small readers over simdjson On-Demand values shared by the dialects. None
// throws; each returns simdjson's error_code. Returned views borrow from the
// parser's string buffer (unescaped strings) or from the input (raw tokens),
// so they live until the parser iterates the next document.

#include <simdjson.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "src/core/arena.h"
#include "src/core/time_util.h"

namespace eventsift::json {

// Passed by reference throughout: a copy of simdjson's value struct, stored
// member by member and reloaded 16 bytes at a time, stalls on store
// forwarding, and scan reads ~10 values in each of millions of events.
using JsonValue = simdjson::ondemand::value;
using JsonObject = simdjson::ondemand::object;
using JsonError = simdjson::error_code;

// Up to 8 bytes of s from `pos`, little-endian, as one number. At run time
// a full word is one unaligned load; in constant evaluation (case labels)
// the same value is built byte by byte.
constexpr uint64_t KeyWord(std::string_view s, size_t pos, size_t n) {
  if (!std::is_constant_evaluated() && n == 8 && std::endian::native == std::endian::little) {
    uint64_t w;
    std::memcpy(&w, s.data() + pos, 8);
    return w;
  }
  uint64_t w = 0;
  for (size_t i = 0; i < n; ++i) w |= uint64_t{static_cast<uint8_t>(s[pos + i])} << (8 * i);
  return w;
}

// A hash of a key, so dialects can `switch` on key names: its length and its
// first and last 8 bytes, mixed. Two loads and a few multiplies whatever the
// key's length (FNV-1a, byte by byte, was a tenth of NDJSON scan time). Keys
// alike in all three collide; two such labels in one switch do not compile,
// and every case label re-checks the string (ES_JSON_KEY), so a collision
// with an unknown key only costs a compare.
constexpr uint64_t KeyHash(std::string_view s) {
  const size_t n = s.size();
  const uint64_t head = KeyWord(s, 0, n < 8 ? n : 8);
  const uint64_t tail = n > 8 ? KeyWord(s, n - 8, 8) : 0;
  uint64_t h = (head ^ (tail * 0x9E3779B97F4A7C15ULL) ^ n) * 0xC2B2AE3D27D4EB4FULL;
  return h ^ (h >> 29);
}
// Inside `switch (KeyHash(key))`: a case for `name` that falls out of the
// switch when only the hash matched.
#define ES_JSON_KEY(name)                \
  case ::eventsift::json::KeyHash(name): \
    if (key != (name)) break;

// The text an Event::data value gets: strings unescaped, numbers and booleans
// as their JSON token ("4624", "true"), null as "" (evtx_dump writes an empty
// <Data/> as null), objects and arrays as their JSON text.
JsonError RenderValue(JsonValue& v, std::string_view* out);

// An unsigned integer from a JSON number or a decimal / "0x" hex string.
// Negative integers are taken as two's complement (NXLog prints Keywords
// 0x8000000000000000 as -9223372036854775808). *present is false for null,
// booleans, containers and strings that are not numbers.
JsonError ReadUint(JsonValue& v, uint64_t* out, bool* present);

// ReadUint into a narrower field, left unchanged when the value is absent;
// *present (optional) says which.
template <typename T>
JsonError ReadInto(JsonValue& v, T* out, bool* present = nullptr) {
  uint64_t u = 0;
  bool found = false;
  if (auto err = ReadUint(v, &u, &found)) return err;
  if (found) *out = static_cast<T>(u);
  if (present != nullptr) *present = found;
  return simdjson::SUCCESS;
}

// Windows event ids are 16 bits. The qualifiers that the legacy API kept in
// the high word travel in a field of their own in every shape we read
// (evtx_dump's EventID/#attributes/Qualifiers, PowerShell's Qualifiers), so
// a larger, negative or fractional id is a malformed event, not one to wrap.
inline constexpr uint32_t kMaxEventId = 0xFFFF;
enum class EventIdRead : uint8_t {
  kAbsent,      // null, boolean, container, or a string that is no number
  kValid,       // a whole number 0..kMaxEventId
  kOutOfRange,  // a number, but not a 16-bit event id
};
// An event id from a JSON number or a decimal / "0x" string; *out is set
// only when kValid.
JsonError ReadEventId(JsonValue& v, uint32_t* out, EventIdRead* read);
// The same from a value's text (a number's token or a string's content).
EventIdRead ParseEventIdText(std::string_view text, uint32_t* out);
// "<field> is out of range: ...", the report for kOutOfRange.
std::string EventIdOutOfRangeMessage(std::string_view field);

// The first '"' or '\\' at or after p. One must come within the readable
// bytes, less 15: true of a key or string inside a document, which has
// kPadding (64) readable bytes after it. x86-64 compares 16 bytes at a time
// (SSE2 is part of the base ISA); elsewhere byte by byte.
inline const char* FindQuoteOrBackslash(const char* p) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i slash = _mm_set1_epi8('\\');
  for (;; p += 16) {
    __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    auto mask = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(w, quote), _mm_cmpeq_epi8(w, slash))));
    if (mask != 0) return p + std::countr_zero(mask);
  }
#else
  while (*p != '"' && *p != '\\') ++p;
  return p;
#endif
}

// A member's key, unescaped. Keys almost never hold escapes, so the key is
// borrowed from the input when it has none (no copy into the parser's string
// buffer); otherwise simdjson unescapes it. Inline: it runs for every key.
inline JsonError FieldKey(simdjson::ondemand::field& field, std::string_view* key) {
  // raw() points just past the opening quote; stage 1 has validated that a
  // closing quote follows inside the document.
  const char* raw = field.key().raw();
  const char* at = FindQuoteOrBackslash(raw);
  if (*at == '\\') [[unlikely]] {
    return field.unescaped_key().get(*key);
  }
  *key = std::string_view(raw, static_cast<size_t>(at - raw));
  return simdjson::SUCCESS;
}

// Calls fn(key, value) for each member of an object, in document order; keys
// are unescaped. Anything but an object is skipped (absent), not an error.
template <typename Fn>
JsonError ForEachField(JsonValue& v, Fn&& fn) {
  simdjson::ondemand::json_type t;
  if (auto err = v.type().get(t)) return err;
  if (t != simdjson::ondemand::json_type::object) return simdjson::SUCCESS;
  JsonObject obj;
  if (auto err = v.get_object().get(obj)) return err;
  for (auto field_result : obj) {
    // Used in place, not copied out (see EventParser::ParseRoot).
    if (auto err = field_result.error()) return err;
    simdjson::ondemand::field& field = field_result.value_unsafe();
    std::string_view key;
    if (auto err = FieldKey(field, &key)) return err;
    if (auto err = fn(key, field.value())) return err;
  }
  return simdjson::SUCCESS;
}

// Calls fn(element) for each element of an array, in order. Anything but an
// array is skipped (absent), not an error.
template <typename Fn>
JsonError ForEachElement(JsonValue& v, Fn&& fn) {
  simdjson::ondemand::json_type t;
  if (auto err = v.type().get(t)) return err;
  if (t != simdjson::ondemand::json_type::array) return simdjson::SUCCESS;
  simdjson::ondemand::array arr;
  if (auto err = v.get_array().get(arr)) return err;
  for (auto item : arr) {
    JsonValue element;
    // simdjson_result::get() is &&-qualified: the move selects it.
    if (auto err = std::move(item).get(element)) return err;  // NOLINT(performance-move-const-arg)
    if (auto err = fn(element)) return err;
  }
  return simdjson::SUCCESS;
}

// Parses "1008", " 42 ", "0x8020000000000000". False if not a whole number.
bool ParseUintText(std::string_view s, uint64_t* out);

std::string_view TrimSpace(std::string_view s);

// Windows level from a level or severity name, case-insensitive: critical 1,
// error 2, warning 3, information/info 4, verbose/debug 5. -1 if unknown.
int LevelFromName(std::string_view name);

// "{...}" form of a GUID; adds the braces (in arena storage) when missing.
std::string_view BracedGuid(std::string_view guid, Arena* arena);

// True when a time string says which zone it is in (Z, +hh:mm, -hh:mm, or a
// .NET /Date(ms)/ which is UTC by definition).
bool HasZone(std::string_view time_text);

}  // namespace eventsift::json
