#include "src/detect/literal_pattern.h"

#include "src/detect/rule.h"

namespace eventsift::detect {

namespace {

bool IsPlainAscii(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x20 && u < 0x7f;
}

}  // namespace

std::optional<LiteralPattern> LiteralPattern::Parse(std::string_view regex) {
  LiteralPattern out;
  size_t i = 0;
  // Leading flag groups: (?i), (?s), (?is), (?si); nothing else.
  while (regex.substr(i).starts_with("(?")) {
    size_t j = i + 2;
    for (; j < regex.size() && regex[j] != ')'; ++j) {
      if (regex[j] == 'i') {
        out.case_insensitive_ = true;
      } else if (regex[j] != 's') {
        return std::nullopt;
      }
    }
    if (j == regex.size() || j == i + 2) return std::nullopt;
    i = j + 1;
  }
  if (i < regex.size() && regex[i] == '^') {
    out.anchored_start_ = true;
    ++i;
  }
  for (; i < regex.size(); ++i) {
    const char c = regex[i];
    if (c == '\\') {
      if (i + 1 == regex.size() || !IsRegexMeta(regex[i + 1])) return std::nullopt;
      out.literal_.push_back(regex[++i]);
    } else if (c == '$' && i + 1 == regex.size()) {
      out.anchored_end_ = true;
    } else if (IsRegexMeta(c) || !IsPlainAscii(c)) {
      return std::nullopt;
    } else {
      out.literal_.push_back(c);
    }
  }
  if (out.case_insensitive_) {
    for (char& c : out.literal_) c = LowerAscii(c);
  }
  return out;
}

LiteralPattern::Answer LiteralPattern::Find(std::string_view text, std::string* scratch) const {
  std::string_view seen = text;
  if (case_insensitive_) {
    scratch->resize(text.size());
    char* out = scratch->data();
    unsigned char high = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      high |= static_cast<unsigned char>(text[i]);
      out[i] = LowerAscii(text[i]);
    }
    if (high >= 0x80) return Answer::kAskRegex;
    seen = *scratch;
  } else {
    unsigned char high = 0;
    for (char c : text) high |= static_cast<unsigned char>(c);
    if (high >= 0x80) return Answer::kAskRegex;
  }
  bool found;
  if (anchored_start_ && anchored_end_) {
    found = seen == literal_;
  } else if (anchored_start_) {
    found = seen.starts_with(literal_);
  } else if (anchored_end_) {
    found = seen.ends_with(literal_);
  } else {
    found = seen.find(literal_) != std::string_view::npos;
  }
  return found ? Answer::kYes : Answer::kNo;
}

}  // namespace eventsift::detect
