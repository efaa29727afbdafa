#include "parsers/json/framing.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace eventsift::json {

namespace {

inline bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Counts '\n' in [p, end) with memchr, which glibc vectorises.
uint64_t CountNewlines(const char* p, const char* end) {
  uint64_t n = 0;
  while (p < end) {
    const void* hit = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (hit == nullptr) break;
    ++n;
    p = static_cast<const char*>(hit) + 1;
  }
  return n;
}

// Returns one past the '}' or ']' closing the value that opens at *p, or
// nullptr when input ends first. Strings are skipped with memchr for '"' and a
// backslash count, so braces inside messages do not count.
const char* FindValueEnd(const char* p, const char* end) {
  int64_t depth = 0;
  while (p < end) {
    char c = *p;
    if (c == '"') {
      ++p;
      for (;;) {
        const char* q = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
        if (q == nullptr) return nullptr;
        const char* r = q;
        while (r > p && r[-1] == '\\') --r;
        p = q + 1;
        if (((q - r) & 1) == 0) break;  // an even run of backslashes escapes nothing
      }
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return p + 1;
    }
    ++p;
  }
  return nullptr;
}

void SplitStructured(std::string_view text, size_t start, size_t max_bytes, DocumentSink& sink) {
  const char* base = text.data();
  const char* p = base + start;
  const char* end = base + text.size();
  uint64_t line = 1;
  const char* counted = p;  // newlines before `counted` are in `line`
  auto line_at = [&](const char* q) {
    line += CountNewlines(counted, q);
    counted = q;
    return line;
  };
  bool in_array = false;
  uint64_t array_offset = 0, array_line = 0;
  while (true) {
    while (p < end && (IsSpace(*p) || *p == ',')) ++p;
    if (p >= end) break;
    char c = *p;
    if (c == '[' && !in_array) {
      in_array = true;
      array_offset = static_cast<uint64_t>(p - base);
      array_line = line_at(p);
      ++p;
      continue;
    }
    if (c == ']' && in_array) {
      in_array = false;
      ++p;
      continue;
    }
    if (c == '{' || c == '[') {
      const char* e = FindValueEnd(p, end);
      auto offset = static_cast<uint64_t>(p - base);
      uint64_t at_line = line_at(p);
      if (e == nullptr) {
        sink.OnFramingError(
            Status::Truncated(in_array ? "truncated array element: input ends inside it"
                                       : "truncated object: input ends inside it"),
            offset, at_line, static_cast<uint64_t>(end - p));
        return;
      }
      auto size = static_cast<size_t>(e - p);
      if (size > max_bytes) {
        sink.OnFramingError(
            Status::ResourceExhausted(fmt::format(
                "element is {} bytes, longer than the {} byte limit; skipped", size, max_bytes)),
            offset, at_line, size);
      } else {
        // Arrays as elements are not events; the parser says so.
        sink.OnDocument({p, size}, offset, at_line);
      }
      p = e;
      continue;
    }
    // Not a document: skip to the next place one could start.
    const char* q = p + 1;
    while (q < end && *q != '{' && *q != '[' && *q != ']') ++q;
    sink.OnFramingError(Status::Corruption(fmt::format(
                            "expected an object, found '{}'",
                            std::string_view(p, std::min<size_t>(static_cast<size_t>(q - p), 32)))),
                        static_cast<uint64_t>(p - base), line_at(p), static_cast<uint64_t>(q - p));
    p = q;
  }
  if (in_array) {
    sink.OnFramingError(Status::Truncated("top-level array is not closed: input ends before ']'"),
                        array_offset, array_line, 0);
  }
}

}  // namespace

size_t SplitLineBlock(std::string_view text, size_t start, uint64_t base_offset, uint64_t* line,
                      bool final, size_t max_bytes, DocumentSink& sink) {
  const char* base = text.data();
  const char* p = base + start;
  const char* end = base + text.size();
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (nl == nullptr && !final) break;  // the rest of this line is in the next block
    const char* le = nl != nullptr ? nl : end;
    const char* b = p;
    while (b < le && IsSpace(*b)) ++b;
    const char* e = le;
    while (e > b && IsSpace(e[-1])) --e;
    if (b < e) {
      auto size = static_cast<size_t>(e - b);
      uint64_t offset = base_offset + static_cast<uint64_t>(b - base);
      if (size > max_bytes) {
        sink.OnFramingError(
            Status::ResourceExhausted(fmt::format(
                "line is {} bytes, longer than the {} byte limit; skipped", size, max_bytes)),
            offset, *line, size);
      } else {
        sink.OnDocument({b, size}, offset, *line);
      }
    }
    ++*line;
    p = le + 1;
  }
  return static_cast<size_t>(std::min(p, end) - base);
}

Framing DetectFraming(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && IsSpace(text[i])) ++i;
  if (i == text.size()) return Framing::kLines;
  if (text[i] == '[') return Framing::kStructured;
  if (text[i] == '{') {
    // Pretty-printed: the opening brace stands alone on its line.
    size_t j = i + 1;
    while (j < text.size() && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r')) ++j;
    if (j < text.size() && text[j] == '\n') return Framing::kStructured;
  }
  return Framing::kLines;
}

void SplitDocuments(std::string_view text, size_t start, Framing framing, size_t max_document_bytes,
                    DocumentSink& sink) {
  if (framing == Framing::kLines) {
    uint64_t line = 1;
    SplitLineBlock(text, start, 0, &line, true, max_document_bytes, sink);
  } else {
    SplitStructured(text, start, max_document_bytes, sink);
  }
}

}  // namespace eventsift::json
