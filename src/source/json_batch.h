#pragma once
// SplitJsonBatch: the records of one HTTP request body, as collectors' HTTP
// outputs send them: NDJSON (one event per line: syslog-ng, rsyslog omhttp,
// Vector's newline-delimited framing) or one JSON array of events (Fluent
// Bit's `format json`, Logstash's `json_batch`). The elements are found
// without decoding them (the pipeline decodes each), so the cost is one scan
// of the body. Records over max_record_bytes are refused, each named by its
// number, and the rest of the body goes on; a structural error in an array
// (an unterminated string or array, text after the closing bracket) refuses
// the rest of the array from the offset where it was found.

#include <cstdint>
#include <string>
#include <string_view>

namespace eventsift::source {

struct BatchRefusal {
  uint64_t record = 0;  // 1-based line (NDJSON) or element (array) number
  std::string reason;
};

// Calls on_record(std::string_view text, uint64_t number) for each record
// and on_refused(const BatchRefusal&) for each record refused.
template <typename OnRecord, typename OnRefused>
void SplitJsonBatch(std::string_view body, size_t max_record_bytes, OnRecord&& on_record,
                    OnRefused&& on_refused);

namespace json_batch_detail {

inline bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

inline std::string TooLong(size_t size, size_t max) {
  return "record of " + std::to_string(size) + " bytes is over max_line_bytes (" +
         std::to_string(max) + ")";
}

template <typename OnRecord, typename OnRefused>
void SplitLines(std::string_view body, size_t max, OnRecord& on_record, OnRefused& on_refused) {
  uint64_t line_no = 0;
  while (!body.empty()) {
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (Trim(line).empty()) continue;
    if (line.size() > max) {
      on_refused(BatchRefusal{line_no, TooLong(line.size(), max)});
      continue;
    }
    on_record(line, line_no);
  }
}

// `body` starts with '['.
template <typename OnRecord, typename OnRefused>
void SplitArray(std::string_view body, size_t max, OnRecord& on_record, OnRefused& on_refused) {
  size_t i = 1;
  uint64_t element = 0;
  auto fail = [&](size_t at, std::string_view why) {
    on_refused(BatchRefusal{element + 1, std::string(why) + " at byte offset " +
                                             std::to_string(at) + "; the rest is refused"});
  };
  for (;;) {
    while (i < body.size() && IsSpace(body[i])) ++i;
    if (i >= body.size()) return fail(i, "unterminated JSON array");
    if (body[i] == ']' && element == 0) {
      ++i;
      break;
    }
    size_t start = i;
    int depth = 0;
    bool in_string = false;
    for (; i < body.size(); ++i) {
      char c = body[i];
      if (in_string) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0) break;  // the array's own ']'
        --depth;
      } else if (c == ',' && depth == 0) {
        break;
      }
    }
    if (i >= body.size()) return fail(start, "unterminated JSON array element");
    if (body[i] == '}') return fail(i, "unbalanced '}'");
    std::string_view text = Trim(body.substr(start, i - start));
    ++element;
    if (text.empty()) return fail(start, "empty JSON array element");
    if (text.size() > max) {
      on_refused(BatchRefusal{element, TooLong(text.size(), max)});
    } else {
      on_record(text, element);
    }
    if (body[i++] == ']') break;
  }
  while (i < body.size() && IsSpace(body[i])) ++i;
  if (i < body.size()) {
    on_refused(BatchRefusal{
        element + 1, "text after the JSON array at byte offset " + std::to_string(i) + " refused"});
  }
}

}  // namespace json_batch_detail

template <typename OnRecord, typename OnRefused>
void SplitJsonBatch(std::string_view body, size_t max_record_bytes, OnRecord&& on_record,
                    OnRefused&& on_refused) {
  size_t first = 0;
  while (first < body.size() && json_batch_detail::IsSpace(body[first])) ++first;
  if (first < body.size() && body[first] == '[') {
    json_batch_detail::SplitArray(body.substr(first), max_record_bytes, on_record, on_refused);
  } else {
    json_batch_detail::SplitLines(body, max_record_bytes, on_record, on_refused);
  }
}

}  // namespace eventsift::source
