#pragma once
// A regex that stands for literal ASCII text, perhaps anchored at the start
// or end of the value: what most Sigma values compile to ("(?i)(?s)^cmd\.exe$"
// for `Image: cmd.exe`). Asked alone (FieldMatcher::MatchesPattern, a field
// with few candidate patterns), RE2 spends ~500 instructions per call before
// the first byte; a compare of the bytes answers the same for a fraction.
//
// Same answers as RE2 on the same text, because:
//  - only (?i) and (?s) flags are accepted; (?s) changes nothing without '.',
//    and without (?m) '^' and '$' are the text's start and end in RE2 ('$'
//    does not match before a final '\n' as in PCRE);
//  - the literal is ASCII, and a text with any byte >= 0x80 is left to RE2:
//    (?i) folds Unicode there ('k' also matches U+212A KELVIN SIGN, 's' also
//    U+017F), and cut values end in 0xFF (regex_limits.h). On ASCII text,
//    ASCII case folding is RE2's folding.

#include <optional>
#include <string>
#include <string_view>

namespace eventsift::detect {

// RE2 metacharacters: a backslash before one makes it stand for itself.
// sigma_value.cc escapes exactly these when it writes a value's literal
// text, and LiteralPattern::Parse reads them back.
inline bool IsRegexMeta(char c) {
  return c != '\0' && std::string_view("\\.+*?()|[]{}^$").find(c) != std::string_view::npos;
}

// Whether `regex` (as FieldMatcher holds it) is literal text, read as
// LiteralPattern::Parse reads it but with any bytes, that holds a character
// no ASCII text can match: one outside ASCII whose case variants under (?i),
// as RE2 itself answers (U+212A KELVIN SIGN matches 'k'), are all outside
// ASCII too. Such a pattern never matches ASCII text.
bool NeverMatchesAsciiText(std::string_view regex);

// Whether `regex` holds a character outside ASCII that (?i) makes match an
// ASCII one (U+212A KELVIN SIGN matches 'k', U+017F LONG S 's'), or bytes
// that are not UTF-8. RE2's FilteredRE2 lower-cases the atoms it requires,
// and a (?i) atom holding such a character would have to be found in ASCII
// text through its ASCII variant; rather than rely on how RE2 lower-cases
// it, such a pattern is kept out of the filter. No SigmaHQ rule has one.
bool HasCharacterFoldingToAscii(std::string_view regex);

class LiteralPattern {
 public:
  enum class Answer { kNo, kYes, kAskRegex };

  // The literal that `regex` (as FieldMatcher holds it, with its "(?i)")
  // stands for, or nullopt when it is anything more than escaped literal
  // ASCII between optional ^ and $.
  static std::optional<LiteralPattern> Parse(std::string_view regex);

  // Whether the literal is found in `text` as RE2 would find the regex, or
  // kAskRegex when `text` holds a byte >= 0x80. `scratch` holds the
  // lower-cased text for case-insensitive literals.
  Answer Find(std::string_view text, std::string* scratch) const;

  bool anchored() const { return anchored_start_ || anchored_end_; }
  bool anchored_start() const { return anchored_start_; }
  bool anchored_end() const { return anchored_end_; }
  bool case_insensitive() const { return case_insensitive_; }
  // The literal text, lower case when case_insensitive().
  const std::string& text() const { return literal_; }

 private:
  std::string literal_;  // lower case when case_insensitive_
  bool case_insensitive_ = false;
  bool anchored_start_ = false;
  bool anchored_end_ = false;
};

// Whether every byte of `text` is below 0x80: the texts LiteralPattern
// and the literal sets answer for by comparing bytes.
bool IsAsciiText(std::string_view text);

}  // namespace eventsift::detect
