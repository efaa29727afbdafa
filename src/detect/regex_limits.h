#pragma once
// What one rule regex may cost, whichever rule format it came from (every
// pattern goes through FieldMatcher, which applies these).
//
// RE2 runs in time linear in the text, but the constant grows with the
// program: its DFA builds states that hold up to ProgramSize() instructions,
// so a pathological pattern costs about (text bytes) x (program size) steps
// per value ([a-z]+ repeated 60,000 times took 44 s on one 100 KB message).
// Bounding both factors bounds every value's cost; docs/rules.md ("Limits")
// gives the figures measured at these bounds.

#include <cstddef>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <re2/re2.h>

namespace eventsift::detect {

// RE2::ProgramSize() past which a pattern is refused at load. The shipped
// rules' largest is 96, an alternation of 300 file paths about 1,850; the
// worst value's cost grows with it (docs/rules.md, Limits).
inline constexpr int kMaxRegexProgramSize = 2000;

// Bytes of each field value that regexes see: the first kMaxRegexTextBytes.
// An EVTX record fits in a 64 KiB chunk, so no value Windows logged is longer
// in ASCII; longer values come from elsewhere and are matched on their start.
inline constexpr size_t kMaxRegexTextBytes = 64u << 10;

// Empty when `re` (compiled) is within the limits, else why it is refused.
inline std::string RegexLimitError(const RE2& re) {
  const int size = re.ProgramSize();
  if (size <= kMaxRegexProgramSize) return {};
  return fmt::format("regex program size {} is over the limit of {} (docs/rules.md, Limits)", size,
                     kMaxRegexProgramSize);
}

// A regex as error messages quote it: whole when short, else its start and
// its length, so refusing a megabyte regex does not print it.
inline std::string RegexForMessage(std::string_view regex) {
  constexpr size_t kShown = 80;
  if (regex.size() <= kShown) return std::string(regex);
  return fmt::format("{}... ({} bytes)", regex.substr(0, kShown), regex.size());
}

// The part of a value that regexes see: the value itself when short enough,
// else its first kMaxRegexTextBytes in *scratch followed by one 0xFF byte.
// That byte is invalid UTF-8, which no regex character or class matches, so
// a cut value does not end where it was cut: '$' and '\z' cannot match there
// ('(a+)+$' must not hit a long run of 'a' that goes on past the cut).
inline std::string_view RegexText(std::string_view value, std::string* scratch) {
  if (value.size() <= kMaxRegexTextBytes) return value;
  scratch->assign(value.data(), kMaxRegexTextBytes);
  scratch->push_back('\xff');
  return *scratch;
}

// Appends RegexText(value) to *joined: the same bytes, so a pass over a
// joined text sees each value as the per-value pass does.
inline void AppendRegexText(std::string_view value, std::string* joined) {
  if (value.size() <= kMaxRegexTextBytes) {
    joined->append(value);
    return;
  }
  joined->append(value.data(), kMaxRegexTextBytes);
  joined->push_back('\xff');
}

}  // namespace eventsift::detect
