#include "src/core/json_writer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "src/core/utf16.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace eventsift {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if invalid.
size_t Utf8SeqLen(std::string_view s, size_t i) {
  const auto c0 = static_cast<unsigned char>(s[i]);
  auto cont = [&](size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  if (c0 >= 0xC2 && c0 <= 0xDF) return cont(1) ? 2 : 0;
  if (c0 >= 0xE0 && c0 <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c0 == 0xE0 && c1 < 0xA0) return 0;   // overlong
    if (c0 == 0xED && c1 >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c0 >= 0xF0 && c0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c0 == 0xF0 && c1 < 0x90) return 0;
    if (c0 == 0xF4 && c1 >= 0x90) return 0;
    return 4;
  }
  return 0;
}

constexpr char kHex[] = "0123456789abcdef";

// The two-character escapes of RFC 8259 (`\n` for LF, ...), by byte; 0 means
// \u00XX (other controls).
constexpr std::array<char, 128> kShortEscape = [] {
  std::array<char, 128> t{};
  t['"'] = '"';
  t['\\'] = '\\';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  t['\b'] = 'b';
  t['\f'] = 'f';
  return t;
}();

// The bytes that end a safe run: controls, quote, backslash, and non-ASCII
// (which must be checked as UTF-8). One load per byte instead of four tests.
constexpr std::array<bool, 256> kNeedsLook = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  return t;
}();

// Most bytes a JSON string body can grow to per input byte: a control byte
// becomes \u00XX (an invalid UTF-8 byte only U+FFFD, 3 bytes).
constexpr size_t kMaxEscapedPerByte = 6;

// Index of the first byte at or after i that needs a look (kNeedsLook), or
// s.size(). 16 bytes per SSE2 step: a signed compare with 0x20 catches the
// controls and every byte >= 0x80 at once. The tail goes 8 at a time (SWAR
// "has byte less than / equal to"), then bytewise by table.
size_t SafePrefix(std::string_view s, size_t i) {
  const size_t n = s.size();
  const char* d = s.data();
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i slash = _mm_set1_epi8('\\');
  while (i + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
    const __m128i look = _mm_or_si128(
        _mm_cmplt_epi8(v, space), _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)));
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(look));
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
    i += 16;
  }
#endif
  while (i + 8 <= n) {
    uint64_t w;
    std::memcpy(&w, d + i, 8);
    constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
    const uint64_t q = w ^ (kOnes * '"'), b = w ^ (kOnes * '\\');
    const uint64_t flags =
        (w | ((w - kOnes * 0x20) & ~w) | ((q - kOnes) & ~q) | ((b - kOnes) & ~b)) & kHigh;
    if (flags != 0) break;
    i += 8;
  }
  while (i < n && !kNeedsLook[static_cast<unsigned char>(d[i])]) ++i;
  return i;
}

// Bytes a padded scan may read past the end of what it checks.
constexpr size_t kScanPad = 16;

// As SafePrefix(string_view(d, n), 0), over bytes the caller owns with
// kScanPad bytes of padding after them: whole 16-byte loads, the lanes past
// n masked off, so no tail loop. Used on the copy just written, never on
// input.
size_t FirstToLookPadded(const char* d, size_t n) {
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i slash = _mm_set1_epi8('\\');
  for (size_t i = 0; i < n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
    const __m128i look = _mm_or_si128(
        _mm_cmplt_epi8(v, space), _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)));
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(look));
    if (n - i < 16) mask &= (1u << (n - i)) - 1;
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
  }
  return n;
#else
  return SafePrefix(std::string_view(d, n), 0);
#endif
}

char* Put(char* p, std::string_view s) {
  // An empty view may have a null data(); memcpy(dst, nullptr, 0) is UB
  // (UBSan reports it; found by json_fuzzer).
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// One byte that needs a look (kNeedsLook) written at p: a valid UTF-8
// sequence as it is, an invalid byte as U+FFFD, a control, quote or
// backslash escaped. Advances *i past what it consumed; returns the end.
char* EscapeOne(char* p, std::string_view s, size_t* i) {
  const auto c = static_cast<unsigned char>(s[*i]);
  if (c >= 0x80) {
    const size_t len = Utf8SeqLen(s, *i);
    if (len != 0) {
      std::memcpy(p, s.data() + *i, len);
      *i += len;
      return p + len;
    }
    ++*i;
    return Put(p, "\xEF\xBF\xBD");
  }
  ++*i;
  const char short_form = kShortEscape[c];
  if (short_form != 0) {
    p[0] = '\\';
    p[1] = short_form;
    return p + 2;
  }
  const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
  std::memcpy(p, esc, sizeof(esc));
  return p + sizeof(esc);
}

// Writes s[i, end) escaped, then the closing quote, at p (room:
// kMaxEscapedPerByte bytes per byte left, plus 1); s[i] needs escaping.
// Returns the end. Strings that need escaping at all often need it many
// times (XML and JSON carried in event data: a quote every few words), so
// the runs between escapes are copied 16 bytes per step in line, a whole
// block stored before its first byte to escape is known.
char* EscapeFrom(char* p, std::string_view s, size_t i) {
  const size_t n = s.size();
  const char* d = s.data();
  while (i < n) {
#if defined(__SSE2__)
    const __m128i space = _mm_set1_epi8(0x20);
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i slash = _mm_set1_epi8('\\');
    bool escape_next = false;
    while (i + 16 <= n) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
      // 16 bytes of room: at least 16 input bytes are left, each with
      // kMaxEscapedPerByte bytes of room.
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
      const __m128i look =
          _mm_or_si128(_mm_cmplt_epi8(v, space),
                       _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)));
      const auto mask = static_cast<unsigned>(_mm_movemask_epi8(look));
      if (mask == 0) {
        i += 16;
        p += 16;
        continue;
      }
      const auto k = static_cast<size_t>(__builtin_ctz(mask));
      i += k;
      p += k;
      escape_next = true;
      break;
    }
    if (!escape_next) {
      while (i < n && !kNeedsLook[static_cast<unsigned char>(d[i])]) *p++ = d[i++];
      if (i == n) break;
    }
#else
    const size_t run_end = SafePrefix(s, i);
    p = Put(p, s.substr(i, run_end - i));
    i = run_end;
    if (i == n) break;
#endif
    p = EscapeOne(p, s, &i);
  }
  *p++ = '"';
  return p;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) { AppendJsonStringAfter(out, {}, s); }

// One-off strings (alerts, logs) are checked on the input first and written
// with one exactly sized resize when nothing needs escaping: a cursor's
// padding and trim cost more than they save for a single string.
void AppendJsonStringAfter(std::string* out, std::string_view prefix, std::string_view s) {
  const size_t safe = SafePrefix(s, 0);
  const size_t rest = s.size() - safe;
  const size_t old = out->size();
  out->resize(old + prefix.size() + 2 + safe + kMaxEscapedPerByte * rest);
  char* p = Put(out->data() + old, prefix);
  *p++ = '"';
  p = Put(p, s.substr(0, safe));
  if (rest == 0) {
    *p++ = '"';
  } else {
    p = EscapeFrom(p, s, safe);
  }
  out->resize(static_cast<size_t>(p - out->data()));
}

void JsonCursor::Grow(size_t n) {
  // A cursor at the end of a string grows by what is asked (the padding is
  // zero-filled and trimmed again); a scratch buffer doubles, and keeps it.
  out_->resize(pos_ + n + (trim_ ? 0 : std::max(n, cap_)));
  cap_ = out_->size();
}

// The common case is one copy of the prefix and of `s`, then a check of the
// copy: strings needing no escaping are the vast majority in event logs.
size_t JsonCursor::CloseIfSafe(size_t head, char* body, size_t n) {
  const size_t bad = FirstToLookPadded(body, n);
  if (bad == n) {
    body[n] = '"';
    pos_ += head + n + 1;
  }
  return bad;
}

void JsonCursor::StringAfter(std::string_view prefix, std::string_view s) {
  const size_t n = s.size();
  char* p = Room(prefix.size() + 2 + n + kScanPad);
  char* body = Put(p, prefix);
  *body++ = '"';
  Put(body, s);
  const size_t bad = CloseIfSafe(prefix.size() + 1, body, n);
  if (bad != n) EscapeRest(prefix.size() + 1, s, bad);
}

void JsonCursor::Utf16StringAfter(std::string_view prefix, std::span<const uint8_t> utf16) {
  char* p = Room(prefix.size() + 2 + Utf16ToUtf8Room(utf16.size() / 2) + kScanPad);
  char* body = Put(p, prefix);
  *body++ = '"';
  const size_t n = Utf16LeToUtf8Into(utf16, body);
  const size_t bad = CloseIfSafe(prefix.size() + 1, body, n);
  if (bad == n) return;
  // Rare (non-ASCII or a control character): escape from a copy, since the
  // escaped text overwrites the converted text in place.
  thread_local std::string converted;
  converted.assign(body, n);
  EscapeRest(prefix.size() + 1, converted, bad);
}

void JsonCursor::EscapeRest(size_t head, std::string_view s, size_t bad) {
  // Room may move the buffer; what is written at the cursor stays.
  char* p = Room(head + bad + kMaxEscapedPerByte * (s.size() - bad) + 1);
  char* end = EscapeFrom(p + head + bad, s, bad);
  pos_ += static_cast<size_t>(end - p);
}

void JsonCursor::UIntAfter(std::string_view prefix, uint64_t v) {
  char* p = Room(prefix.size() + 20);  // 20 digits: UINT64_MAX
  char* q = Put(p, prefix);
  q = WriteDecimal(q, v);
  pos_ += static_cast<size_t>(q - p);
}

}  // namespace eventsift
