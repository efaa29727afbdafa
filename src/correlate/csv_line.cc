#include "src/correlate/csv_line.h"

#include <algorithm>

namespace eventsift::correlate {

std::vector<std::string> SplitCsvLine(std::string_view line) {
  // Runs of plain characters are appended whole: every start loads the build
  // list (114 lines), and appending byte by byte was most of its cost.
  std::vector<std::string> fields(1);
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ',') {
      fields.emplace_back();
      ++i;
    } else if (line[i] == '"') {
      // A quoted run, to its closing quote (or the line's end); "" is one quote.
      ++i;
      while (i < line.size()) {
        const size_t quote = line.find('"', i);
        if (quote == std::string_view::npos) {
          fields.back().append(line.substr(i));
          i = line.size();
        } else {
          fields.back().append(line.substr(i, quote - i));
          i = quote + 1;
          if (i < line.size() && line[i] == '"') {
            fields.back().push_back('"');
            ++i;
            continue;
          }
        }
        break;
      }
    } else {
      const size_t stop = std::min(line.find_first_of(",\"", i), line.size());
      fields.back().append(line.substr(i, stop - i));
      i = stop;
    }
  }
  return fields;
}

std::string_view TrimCsv(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool IsCsvDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  const int month = (s[5] - '0') * 10 + (s[6] - '0');
  const int day = (s[8] - '0') * 10 + (s[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

}  // namespace eventsift::correlate
