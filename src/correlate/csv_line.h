#pragma once
// The small CSV dialect of the build list and of host inventories
// (PowerShell Export-Csv): RFC 4180 quoting, one record per line.

#include <string>
#include <string_view>
#include <vector>

namespace eventsift::correlate {

// The fields of one record; quotes removed, "" inside quotes is one quote.
// No embedded newlines (Export-Csv writes none for these columns).
std::vector<std::string> SplitCsvLine(std::string_view line);

// Without leading/trailing spaces, tabs, CR and LF.
std::string_view TrimCsv(std::string_view s);

// A "YYYY-MM-DD" date (month 1-12, day 1-31): the data files' date columns.
bool IsCsvDate(std::string_view s);

// Calls fn(line_number, text) for every line of `text` that is neither blank
// nor a comment ('#', which also skips Export-Csv's "#TYPE ..." line), with a
// UTF-8 BOM and CR removed and the line trimmed. Stops at and returns the
// first error fn returns.
template <typename Fn>
auto ForEachCsvLine(std::string_view text, Fn&& fn) -> decltype(fn(uint64_t{}, text)) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  uint64_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    line = TrimCsv(line);
    if (line.empty() || line.front() == '#') continue;
    auto status = fn(line_no, line);
    if (!status.ok()) return status;
  }
  return decltype(fn(uint64_t{}, text))();
}

}  // namespace eventsift::correlate
