#include "src/detect/field_matcher.h"

#include <algorithm>
#include <unordered_map>

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
  rest = FilterByAtoms(rest);
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

std::vector<int> FieldMatcher::FilterByAtoms(const std::vector<int>& rest) {
  std::vector<int> unfiltered;
  std::unordered_map<std::string, int> atom_ids;
  for (int i : rest) {
    // RE2 works out the literal atoms a pattern requires (an AND/OR tree of
    // them: any match holds at least one). A pattern with none, or whose
    // atoms RE2 might lower-case across the ASCII border, is not filtered.
    std::vector<std::string> atoms;
    std::vector<bool> required;
    if (!HasCharacterFoldingToAscii(patterns_[i])) {
      re2::FilteredRE2 one(kMinAtomBytes);
      int id = -1;
      if (one.Add(patterns_[i], options_, &id) == RE2::NoError) {
        one.Compile(&atoms);
        std::vector<int> potential;
        one.AllPotentials({}, &potential);
        if (!potential.empty()) atoms.clear();
        // An atom is required when the pattern is no longer possible
        // without it: the condition is monotone, so then no text lacking
        // that atom can match (`python3.*\.dll\+` on CallTrace needs
        // "python3", where ".dll+" alone let it run on every value).
        std::vector<int> others;
        for (size_t a = 0; a < atoms.size(); ++a) {
          others.clear();
          for (size_t b = 0; b < atoms.size(); ++b) {
            if (b != a) others.push_back(static_cast<int>(b));
          }
          potential.clear();
          one.AllPotentials(others, &potential);
          required.push_back(potential.empty());
        }
      }
    }
    if (atoms.empty()) {
      unfiltered.push_back(i);
      continue;
    }
    const int slot = static_cast<int>(filtered_index_.size());
    filtered_index_.push_back(i);
    required_atoms_.emplace_back();
    for (size_t a = 0; a < atoms.size(); ++a) {
      auto [it, added] = atom_ids.emplace(atoms[a], static_cast<int>(atom_patterns_.size()));
      if (added) {
        atom_patterns_.emplace_back();
        atom_texts_.push_back(atoms[a]);
        literal_set_.AddAtom(it->second, atoms[a]);
      }
      atom_patterns_[it->second].push_back(slot);
      if (required[a]) required_atoms_.back().push_back(it->second);
    }
  }
  return unfiltered;
}

void FieldMatcher::DropLiteralPath() {
  literal_ready_ = false;
  filtered_index_.clear();
  required_atoms_.clear();
  atom_patterns_.clear();
  atom_texts_.clear();
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

// The literal path's scratch, per thread (the match calls are const and
// shared); it only grows, so matching allocates nothing once warm: the
// atoms a pass found, which filtered patterns they let through (marked by
// slot), the unfiltered set's hits.
struct FieldMatcher::PathScratch {
  std::vector<int> atoms;
  std::vector<uint8_t> atom_found;  // by atom, while FilteredMatch runs
  std::vector<uint8_t> marked;
  std::vector<int> candidates;
  std::vector<int> rest_hits;
};

FieldMatcher::PathScratch& FieldMatcher::ThreadPathScratch() {
  thread_local PathScratch scratch;
  return scratch;
}

std::vector<int>* FieldMatcher::AtomsFor(PathScratch* scratch) const {
  scratch->atoms.clear();
  return filtered_index_.empty() ? nullptr : &scratch->atoms;
}

bool FieldMatcher::FilteredMatch(std::string_view text, std::vector<int>* hits) const {
  PathScratch& scratch = ThreadPathScratch();
  if (scratch.marked.size() < filtered_index_.size()) scratch.marked.resize(filtered_index_.size());
  if (scratch.atom_found.size() < atom_patterns_.size()) {
    scratch.atom_found.resize(atom_patterns_.size());
  }
  scratch.candidates.clear();
  for (int atom : scratch.atoms) {
    scratch.atom_found[atom] = 1;
    for (int slot : atom_patterns_[atom]) {
      if (scratch.marked[slot] != 0) continue;
      scratch.marked[slot] = 1;
      scratch.candidates.push_back(slot);
    }
  }
  // Keep the slots whose required atoms were all found.
  size_t kept = 0;
  for (int slot : scratch.candidates) {
    scratch.marked[slot] = 0;
    const std::vector<int>& required = required_atoms_[slot];
    if (std::all_of(required.begin(), required.end(),
                    [&](int r) { return scratch.atom_found[r] != 0; })) {
      scratch.candidates[kept++] = slot;
    }
  }
  scratch.candidates.resize(kept);
  for (int atom : scratch.atoms) scratch.atom_found[atom] = 0;
  bool any = false;
  for (int slot : scratch.candidates) {
    const int index = filtered_index_[slot];
    if (!RegexFinds(index, text)) continue;
    any = true;
    if (hits == nullptr) return true;
    hits->push_back(index);
  }
  return any;
}

namespace {

// The ASCII hint of a value once RegexText has cut it: a cut value ends in
// 0xFF.
FieldMatcher::Ascii AfterCut(std::string_view value, FieldMatcher::Ascii ascii) {
  return value.size() > kMaxRegexTextBytes ? FieldMatcher::Ascii::kNo : ascii;
}

}  // namespace

bool FieldMatcher::MatchesAny(std::string_view text, Ascii ascii) const {
  return MatchesAnyInJoined(RegexText(text, &CutScratch()), AfterCut(text, ascii));
}

bool FieldMatcher::MatchesAnyInJoined(std::string_view joined, Ascii ascii) const {
  if (patterns_.empty()) return false;
  if (TakesLiteralPath(joined, ascii)) {
    if (!empty_any_.empty() || (joined.empty() && !empty_only_.empty())) return true;
    PathScratch& scratch = ThreadPathScratch();
    std::vector<int>* atoms = AtomsFor(&scratch);
    bool ok = false;
    if (literal_set_.FindAny(joined, &ok, atoms)) return true;
    if (ok) {
      if (!scratch.atoms.empty() && FilteredMatch(joined, nullptr)) return true;
      return rest_set_ != nullptr && SetMatchesAny(*rest_set_, joined);
    }
  }
  return SetMatchesAny(*set_, joined);
}

bool FieldMatcher::MatchAllInJoined(std::string_view joined, std::vector<int>* hits, Ascii ascii,
                                    const LiteralSet* subset) const {
  hits->clear();
  if (patterns_.empty()) return true;
  if (TakesLiteralPath(joined, ascii)) {
    PathScratch& scratch = ThreadPathScratch();
    std::vector<int>* atoms = AtomsFor(&scratch);
    // A subset holds the relevant literals and every atom.
    const LiteralSet& set = subset != nullptr ? *subset : literal_set_;
    if (set.FindAll(joined, hits, atoms)) {
      hits->insert(hits->end(), empty_any_.begin(), empty_any_.end());
      if (joined.empty()) hits->insert(hits->end(), empty_only_.begin(), empty_only_.end());
      if (!scratch.atoms.empty()) FilteredMatch(joined, hits);
      if (rest_set_ == nullptr) return true;
      if (rest_index_.size() <= kMaxRestAskedOneByOne) {
        for (int index : rest_index_) {
          if (RegexFinds(index, joined)) {
            hits->push_back(index);
          }
        }
        return true;
      }
      if (!SetMatchAll(*rest_set_, joined, &scratch.rest_hits)) return false;
      for (int r : scratch.rest_hits) hits->push_back(rest_index_[r]);
      return true;
    }
    hits->clear();
  }
  return SetMatchAll(*set_, joined, hits);
}

const LiteralSet* FieldMatcher::SubsetFor(const std::vector<int>& relevant) const {
  if (!literal_ready_ || patterns_.size() < kMinPatternsForSubsets ||
      relevant.size() * 2 > patterns_.size()) {
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(subsets_mutex_);
  if (auto it = subsets_.find(relevant); it != subsets_.end()) return it->second.get();
  if (subsets_.size() >= kMaxSubsets) return nullptr;
  auto subset = std::make_unique<LiteralSet>();
  for (int p : relevant) {
    // Patterns outside the literal set (the empty literals, those no ASCII
    // text matches) are answered as for the whole set.
    const std::optional<LiteralPattern>& literal = literals_[p];
    if (!literal || literal->text().empty()) continue;
    subset->Add(p, literal->text(), literal->case_insensitive(), literal->anchored_start(),
                literal->anchored_end());
  }
  // Every atom, so that the filtered patterns are let through as by the
  // whole set (relevant or not: the caller ignores the others' hits).
  for (size_t a = 0; a < atom_texts_.size(); ++a) {
    subset->AddAtom(static_cast<int>(a), atom_texts_[a]);
  }
  // Nothing to search, or Hyperscan refused: the whole set answers.
  if (subset->empty() || !subset->Compile()) subset.reset();
  return subsets_.emplace(relevant, std::move(subset)).first->second.get();
}

bool FieldMatcher::MatchesPattern(int index, std::string_view text) const {
  text = RegexText(text, &CutScratch());
  if (const std::optional<LiteralPattern>& literal = literals_[index]) {
    thread_local std::string lowered;
    const LiteralPattern::Answer answer = literal->Find(text, &lowered);
    if (answer != LiteralPattern::Answer::kAskRegex) return answer == LiteralPattern::Answer::kYes;
  }
  return RegexFinds(index, text);
}

bool FieldMatcher::RegexFinds(int index, std::string_view text) const {
  return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), Single(index));
}

bool FieldMatcher::MatchAll(std::string_view text, std::vector<int>* hits, Ascii ascii,
                            const LiteralSet* subset) const {
  ascii = AfterCut(text, ascii);
  text = RegexText(text, &CutScratch());
  if (MatchAllInJoined(text, hits, ascii, subset)) return false;
  // The DFA ran out of memory: ask each pattern on its own, where RE2 falls
  // back to its linear-time NFA, rather than miss a hit.
  hits->clear();
  for (size_t i = 0; i < patterns_.size(); ++i) {
    if (MatchesPattern(static_cast<int>(i), text)) hits->push_back(static_cast<int>(i));
  }
  return true;
}

}  // namespace eventsift::detect
