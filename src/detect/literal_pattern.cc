#include "src/detect/literal_pattern.h"

#include <cstdint>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include <re2/re2.h>

#include "src/detect/rule.h"

namespace eventsift::detect {

namespace {

bool IsPlainAscii(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x20 && u < 0x7f;
}

// Bytes of the UTF-8 character led by `lead`, 0 when `lead` leads none.
size_t Utf8Length(unsigned char lead) {
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  if (lead >= 0xe0) return lead <= 0xef ? 3 : 0;
  if (lead >= 0xc2) return 2;
  return 0;
}

// Whether RE2 finds "(?i)" + `character` somewhere in the 127 ASCII
// characters; asked once per character (a daemon may load rules on two
// threads at once).
bool FoldsToAscii(const std::string& character) {
  static std::mutex mutex;
  static std::unordered_map<std::string, bool> answers;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = answers.find(character); it != answers.end()) return it->second;
  std::string ascii;
  for (int c = 1; c < 0x80; ++c) ascii.push_back(static_cast<char>(c));
  RE2 probe("(?i)" + RE2::QuoteMeta(character));
  // A character RE2 will not read is not one it could match either; count
  // it as folding so the pattern stays with RE2.
  const bool folds = !probe.ok() || RE2::PartialMatch(ascii, probe);
  answers.emplace(character, folds);
  return folds;
}

}  // namespace

bool NeverMatchesAsciiText(std::string_view regex) {
  size_t i = 0;
  bool case_insensitive = false;
  while (regex.substr(i).starts_with("(?")) {
    size_t j = i + 2;
    for (; j < regex.size() && regex[j] != ')'; ++j) {
      if (regex[j] == 'i') {
        case_insensitive = true;
      } else if (regex[j] != 's') {
        return false;
      }
    }
    if (j == regex.size() || j == i + 2) return false;
    i = j + 1;
  }
  if (i < regex.size() && regex[i] == '^') ++i;
  std::string needed;  // the first character outside ASCII
  for (; i < regex.size(); ++i) {
    const char c = regex[i];
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\') {
      if (i + 1 == regex.size() || !IsRegexMeta(regex[i + 1])) return false;
      ++i;
    } else if (c == '$' && i + 1 == regex.size()) {
      break;
    } else if (IsRegexMeta(c)) {
      return false;
    } else if (u >= 0x80 && needed.empty()) {
      const size_t length = Utf8Length(u);
      if (length == 0 || i + length > regex.size()) return false;
      needed.assign(regex.substr(i, length));
      for (size_t k = 1; k < length; ++k) {
        if ((static_cast<unsigned char>(needed[k]) & 0xc0) != 0x80) return false;
      }
      i += length - 1;
    }
  }
  if (needed.empty()) return false;
  return !case_insensitive || !FoldsToAscii(needed);
}

bool HasCharacterFoldingToAscii(std::string_view regex) {
  for (size_t i = 0; i < regex.size(); ++i) {
    const auto u = static_cast<unsigned char>(regex[i]);
    if (u < 0x80) continue;
    const size_t length = Utf8Length(u);
    if (length == 0 || i + length > regex.size()) return true;
    if (FoldsToAscii(std::string(regex.substr(i, length)))) return true;
    i += length - 1;
  }
  return false;
}

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
  } else if (!IsAsciiText(text)) {
    return Answer::kAskRegex;
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

bool IsAsciiText(std::string_view text) {
  // Four 16-byte words a step, OR-ed together and tested once: the loop has no
  // branch per word and compiles to SSE2 on any x86-64. Its speed matters:
  // each text a field's literal path searches is tested first, and on
  // NDJSON with SigmaHQ's rules that is a gigabyte of text per 512 MiB
  // input (a word at a time it was 6 % of the scan phase).
  using Word = uint64_t __attribute__((vector_size(16)));
  constexpr size_t kStep = 4 * sizeof(Word);
  const char* p = text.data();
  size_t n = text.size();
  Word seen{};
  for (; n >= kStep; p += kStep, n -= kStep) {
    Word w[4];
    std::memcpy(w, p, sizeof w);
    seen |= (w[0] | w[1]) | (w[2] | w[3]);
  }
  uint64_t rest = seen[0] | seen[1];
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);
    rest |= word;
  }
  for (; n > 0; ++p, --n) rest |= static_cast<unsigned char>(*p);
  return (rest & 0x8080808080808080ULL) == 0;
}

}  // namespace eventsift::detect
