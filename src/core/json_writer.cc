#include "src/core/json_writer.h"

#include <cstdint>
#include <cstring>

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
    if (c0 == 0xE0 && c1 < 0xA0) return 0;  // overlong
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

}  // namespace

namespace {

// Length of the prefix of `s` that needs no escaping, 8 bytes at a time
// while none needs a look: no control byte, quote, backslash or non-ASCII
// byte (SWAR "has byte less than / equal to").
size_t SafePrefix(std::string_view s, size_t i) {
  const size_t n = s.size();
  while (i + 8 <= n) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
    const uint64_t quote = w ^ (kOnes * '"'), slash = w ^ (kOnes * '\\');
    const uint64_t flags = (w | ((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) |
                            ((slash - kOnes) & ~slash)) & kHigh;
    if (flags != 0) break;
    i += 8;
  }
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
    ++i;
  }
  return i;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  AppendJsonStringAfter(out, {}, s);
}

void AppendJsonStringAfter(std::string* out, std::string_view prefix, std::string_view s) {
  // Common case: nothing to escape, one append.
  if (SafePrefix(s, 0) == s.size()) {
    const size_t old = out->size();
    out->resize(old + prefix.size() + s.size() + 2);
    char* p = out->data() + old;
    // An empty view may have a null data(); memcpy(dst, nullptr, 0) is UB
    // (UBSan reports it; found by json_fuzzer).
    if (!prefix.empty()) std::memcpy(p, prefix.data(), prefix.size());
    p += prefix.size();
    p[0] = '"';
    if (!s.empty()) std::memcpy(p + 1, s.data(), s.size());
    p[s.size() + 1] = '"';
    return;
  }
  out->append(prefix);
  out->push_back('"');
  size_t run_start = 0;
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    i = SafePrefix(s, i);
    if (i >= n) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t len = Utf8SeqLen(s, i);
      if (len != 0) {
        i += len;
        continue;
      }
      out->append(s.data() + run_start, i - run_start);
      out->append("\xEF\xBF\xBD");
      ++i;
      run_start = i;
      continue;
    }
    out->append(s.data() + run_start, i - run_start);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default: {
        char buf[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(buf, 6);
      }
    }
    ++i;
    run_start = i;
  }
  out->append(s.data() + run_start, n - run_start);
  out->push_back('"');
}

}  // namespace eventsift
