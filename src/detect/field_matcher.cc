#include "src/detect/field_matcher.h"

#include <algorithm>

#include "src/detect/regex_limits.h"

namespace eventsift::detect {

namespace {
// Where long values are cut for matching (RegexText); per thread because the
// match calls are const and shared. It only grows, to the bound, once.
std::string& CutScratch() {
  thread_local std::string scratch;
  return scratch;
}
// Whether `regex` may anchor to the start or end of the text: an unescaped
// ^ or $ anywhere (also where it is literal, inside a class or \Q...\E:
// such a pattern is only kept out of the joined pass), \A or \z.
bool MayAnchor(std::string_view regex) {
  for (size_t i = 0; i < regex.size(); ++i) {
    const char c = regex[i];
    if (c == '^' || c == '$') return true;
    if (c == '\\' && i + 1 < regex.size()) {
      ++i;
      if (regex[i] == 'A' || regex[i] == 'z') return true;
    }
  }
  return false;
}

}  // namespace

RE2::Options FieldMatcher::MakeOptions() {
  RE2::Options options;
  options.set_max_mem(kSetMaxMem);
  // Errors are returned to the loader with the rule's file and id; RE2's own
  // logging would only duplicate them on stderr.
  options.set_log_errors(false);
  return options;
}

FieldMatcher::FieldMatcher()
    : options_(MakeOptions()), set_(std::make_unique<RE2::Set>(options_, RE2::UNANCHORED)) {}

FieldMatcher::~FieldMatcher() = default;

int FieldMatcher::Add(std::string_view regex, bool case_insensitive, std::string* error) {
  return AddPattern(regex, case_insensitive, false, error);
}

int FieldMatcher::AddChecked(std::string_view regex, bool case_insensitive, std::string* error) {
  return AddPattern(regex, case_insensitive, true, error);
}

int FieldMatcher::AddPattern(std::string_view regex, bool case_insensitive, bool checked,
                             std::string* error) {
  // One set shares one Options, so case-insensitivity is a per-pattern flag.
  std::string pattern = case_insensitive ? "(?i)" + std::string(regex) : std::string(regex);
  if (auto it = index_.find(pattern); it != index_.end()) return it->second;

  std::unique_ptr<RE2> single;
  if (!checked) {
    single = std::make_unique<RE2>(pattern, options_);
    if (!single->ok()) {
      *error = single->error();
      return -1;
    }
    if (std::string limit = RegexLimitError(*single); !limit.empty()) {
      *error = std::move(limit);
      return -1;
    }
  }
  int index = set_->Add(pattern, error);
  if (index >= 0 && MayAnchor(pattern)) joinable_ = false;
  if (index < 0) return -1;
  index_.emplace(pattern, index);
  patterns_.push_back(std::move(pattern));
  single_.push_back(std::move(single));
  single_once_.emplace_back();
  literals_.push_back(LiteralPattern::Parse(patterns_.back()));
  if (!literals_.back() || literals_.back()->anchored()) join_exact_ = false;
  return index;
}

const RE2& FieldMatcher::Single(int index) const {
  std::call_once(single_once_[index], [&] {
    if (single_[index] == nullptr)
      single_[index] = std::make_unique<RE2>(patterns_[index], options_);
  });
  return *single_[index];
}

bool FieldMatcher::Compile() {
  if (!set_->Compile()) return false;
  BuildLiteralPath();
  return true;
}

void FieldMatcher::BuildLiteralPath() {
  std::vector<int> rest;
  for (size_t i = 0; i < patterns_.size(); ++i) {
    const std::optional<LiteralPattern>& literal = literals_[i];
    if (literal && literal->text().empty()) {
      // `''`, `^` or `$` matches any text, `^$` only the empty one. No pass
      // is needed for them: one SigmaHQ field has `contains: ''`, which as
      // an RE2::Set of its own hit on every value and was listed each time.
      const bool only_empty = literal->anchored_start() && literal->anchored_end();
      (only_empty ? empty_only_ : empty_any_).push_back(static_cast<int>(i));
    } else if (literal) {
      literal_set_.Add(static_cast<int>(i), literal->text(), literal->case_insensitive(),
                       literal->anchored_start(), literal->anchored_end());
    } else if (!NeverMatchesAsciiText(patterns_[i])) {
      // A literal needing a character that is not ASCII (SigmaHQ's emoji
      // rule: 3,682 of CommandLine's 9,005 patterns) is left out: the path
      // only sees ASCII text.
      rest.push_back(static_cast<int>(i));
    }
  }
  if (literal_set_.empty()) {
    DropLiteralPath();
    return;
  }
  if (!rest.empty()) {
    auto rest_set = std::make_unique<RE2::Set>(options_, RE2::UNANCHORED);
    std::string error;
    bool ok = true;
    for (int i : rest) ok = ok && rest_set->Add(patterns_[i], &error) >= 0;
    if (!ok || !rest_set->Compile()) {
      DropLiteralPath();
      return;
    }
    rest_set_ = std::move(rest_set);
    rest_index_ = std::move(rest);
  }
  literal_ready_ = literal_set_.Compile();
  if (!literal_ready_) DropLiteralPath();
}

void FieldMatcher::DropLiteralPath() {
  literal_ready_ = false;
  rest_set_.reset();
  rest_index_.clear();
  empty_any_.clear();
  empty_only_.clear();
}

namespace {

// RE2::Set passes: a DFA out of memory counts as a hit for the first (the
// caller then asks pattern by pattern) and as a failure for the second.
bool SetMatchesAny(const RE2::Set& set, std::string_view text) {
  RE2::Set::ErrorInfo info{};
  if (set.Match(re2::StringPiece(text.data(), text.size()), nullptr, &info)) return true;
  return info.kind != RE2::Set::kNoError;
}

bool SetMatchAll(const RE2::Set& set, std::string_view text, std::vector<int>* hits) {
  RE2::Set::ErrorInfo info{};
  return set.Match(re2::StringPiece(text.data(), text.size()), hits, &info) ||
         info.kind == RE2::Set::kNoError;
}

}  // namespace

bool FieldMatcher::MatchesAny(std::string_view text) const {
  return MatchesAnyInJoined(RegexText(text, &CutScratch()));
}

bool FieldMatcher::MatchesAnyInJoined(std::string_view joined) const {
  if (patterns_.empty()) return false;
  if (TakesLiteralPath(joined)) {
    if (!empty_any_.empty() || (joined.empty() && !empty_only_.empty())) return true;
    bool ok = false;
    if (literal_set_.FindAny(joined, &ok)) return true;
    if (ok) return rest_set_ != nullptr && SetMatchesAny(*rest_set_, joined);
  }
  return SetMatchesAny(*set_, joined);
}

bool FieldMatcher::MatchAllInJoined(std::string_view joined, std::vector<int>* hits) const {
  hits->clear();
  if (patterns_.empty()) return true;
  if (TakesLiteralPath(joined)) {
    if (literal_set_.FindAll(joined, hits)) {
      hits->insert(hits->end(), empty_any_.begin(), empty_any_.end());
      if (joined.empty()) hits->insert(hits->end(), empty_only_.begin(), empty_only_.end());
      if (rest_set_ == nullptr) return true;
      thread_local std::vector<int> rest_hits;
      if (!SetMatchAll(*rest_set_, joined, &rest_hits)) return false;
      for (int r : rest_hits) hits->push_back(rest_index_[r]);
      return true;
    }
    hits->clear();
  }
  return SetMatchAll(*set_, joined, hits);
}

bool FieldMatcher::MatchesPattern(int index, std::string_view text) const {
  text = RegexText(text, &CutScratch());
  if (const std::optional<LiteralPattern>& literal = literals_[index]) {
    thread_local std::string lowered;
    const LiteralPattern::Answer answer = literal->Find(text, &lowered);
    if (answer != LiteralPattern::Answer::kAskRegex) return answer == LiteralPattern::Answer::kYes;
  }
  return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), Single(index));
}

bool FieldMatcher::MatchAll(std::string_view text, std::vector<int>* hits) const {
  text = RegexText(text, &CutScratch());
  if (MatchAllInJoined(text, hits)) return false;
  // The DFA ran out of memory: ask each pattern on its own, where RE2 falls
  // back to its linear-time NFA, rather than miss a hit.
  hits->clear();
  for (size_t i = 0; i < patterns_.size(); ++i) {
    if (MatchesPattern(static_cast<int>(i), text)) hits->push_back(static_cast<int>(i));
  }
  return true;
}

}  // namespace eventsift::detect
