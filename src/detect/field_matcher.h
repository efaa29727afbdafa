#pragma once
// FieldMatcher: every regex that rules apply to one field, compiled into one
// RE2::Set, so a value is scanned once however many rules look at it. RE2
// runs in time linear in the input, and regex_limits.h bounds both the
// program and the text, so neither a hostile value nor a hostile rule can
// stall matching.
//
// On ASCII text the patterns that are literal (literal_pattern.h) are
// searched by a LiteralSet (Hyperscan's literal matcher, also linear) and
// only the others by RE2, in a second RE2::Set of their own; other text goes
// through the whole RE2::Set as before (literal_set.h says why the answers
// agree).

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <re2/filtered_re2.h>
#include <re2/re2.h>
#include <re2/set.h>

#include "src/detect/literal_pattern.h"
#include "src/detect/literal_set.h"

namespace eventsift::detect {

class FieldMatcher {
 public:
  // Memory for one set's program and DFA cache (RE2::Options::max_mem). RE2's
  // default (8 MiB) is sized for one regex; a set holds all rules' regexes on
  // a field. RE2::Set::Compile already fails when the DFA has too little
  // memory to run; should a match still run out, Match falls back to one RE2
  // per pattern (NFA, still linear) rather than miss.
  static constexpr int64_t kSetMaxMem = 64 << 20;

  // Whether a text is ASCII (every byte below 0x80), which decides whether
  // the literal path answers for it. A caller that asks several questions
  // of one text looks once (IsAsciiText) and says so; kUnknown: the call
  // looks. A value longer than kMaxRegexTextBytes is cut with a 0xFF byte
  // (RegexText), so the calls that cut treat a long value as not ASCII.
  enum class Ascii : uint8_t { kUnknown, kYes, kNo };
  static Ascii AsciiOf(std::string_view text) {
    return IsAsciiText(text) ? Ascii::kYes : Ascii::kNo;
  }

  FieldMatcher();
  ~FieldMatcher();
  FieldMatcher(const FieldMatcher&) = delete;  // owns compiled RE2 programs
  FieldMatcher& operator=(const FieldMatcher&) = delete;

  // Adds a pattern (identical patterns share one index). Returns its index,
  // or -1 with *error set when RE2 refuses it or it is over
  // kMaxRegexProgramSize. Only before Compile(). The match calls below see
  // only the first kMaxRegexTextBytes of `text`.
  int Add(std::string_view regex, bool case_insensitive, std::string* error);
  // The same for a regex the caller already compiled alone (same case
  // sensitivity) and found within regex_limits.h: only the set parses it
  // here, and its single RE2 is compiled when first needed (MatchesPattern,
  // the per-pattern fallback), which most patterns never are.
  int AddChecked(std::string_view regex, bool case_insensitive, std::string* error);
  // False when RE2 cannot build the set within kSetMaxMem. Also builds the
  // literal path; when Hyperscan refuses it, every text goes to RE2.
  bool Compile();
  // Whether ASCII text takes the literal path (the tests look).
  [[nodiscard]] bool has_literal_path() const { return literal_ready_; }
  // Whether listing the hits in `text` (MatchAll, MatchAllInJoined) costs
  // what asking whether there is one does, and allocates nothing: `text`
  // takes the literal path (one Hyperscan pass; the filtered patterns run
  // only when their atoms were found) and the patterns outside it are few
  // enough to ask one by one. Then the caller lists at once instead of
  // asking first, which on a hit took every pass twice.
  [[nodiscard]] bool ListsInOnePass(std::string_view text, Ascii ascii = Ascii::kUnknown) const {
    return rest_index_.size() <= kMaxRestAskedOneByOne && TakesLiteralPath(text, ascii);
  }

  size_t size() const { return patterns_.size(); }

  // True when any pattern is found in `text`. Allocates nothing, so it is the
  // first test on every value; most values hit no pattern at all. A DFA that
  // ran out of memory answers true, so the caller asks per pattern.
  [[nodiscard]] bool MatchesAny(std::string_view text, Ascii ascii = Ascii::kUnknown) const;

  // True when no pattern has an anchor to the start or end of the text (^,
  // $, \A, \z, judged conservatively: any unescaped ^ or $ counts). Then a
  // pattern found in one value is also found in a text that holds that value
  // between two '\n' (the other empty-width tests, \b and \B, see a '\n'
  // there as they see the text's start or end), so one pass over a field's
  // values joined by '\n' can tell that none of them hits.
  [[nodiscard]] bool joinable() const { return joinable_; }

  // MatchesAny on a text the caller built from values already cut to
  // RegexText's bound (AppendRegexText); the text itself is not cut.
  // MatchesAny is this on the value cut.
  [[nodiscard]] bool MatchesAnyInJoined(std::string_view joined,
                                        Ascii ascii = Ascii::kUnknown) const;

  // True when every pattern is unanchored literal printable ASCII
  // (literal_pattern.h): such a pattern is found in the joined text exactly
  // when it is found in one of the values, as none can span a '\n' (nor the
  // 0xFF after a cut value). MatchAllInJoined then lists the hits of all the
  // values at once.
  [[nodiscard]] bool join_exact() const { return join_exact_; }

  // MatchAll on a joined text (not cut). False, with *hits unspecified, when
  // the DFA ran out of memory: the caller then asks value by value (MatchAll,
  // which is this on the value cut, then asks pattern by pattern).
  //
  // `subset` (from SubsetFor) searches only the patterns it was made for:
  // the others, which the caller does not need, may then be missed.
  [[nodiscard]] bool MatchAllInJoined(std::string_view joined, std::vector<int>* hits,
                                      Ascii ascii = Ascii::kUnknown,
                                      const LiteralSet* subset = nullptr) const;

  // A literal set of only the literal patterns among `relevant` (indexes,
  // ascending: the ones an event's candidate rules use) and every atom, for
  // a field of many patterns of which `relevant` is at most half; else
  // null. Hyperscan's literal matcher runs much faster on few literals (on
  // NDJSON events, 133 literals: 3.2 GB/s, 20: 8.3 GB/s): SigmaHQ's
  // keyword field holds 133 while a typical event's candidates use about
  // 20, its Image field 1,862 while an image-load event's use 43. Built on
  // first request and kept for the matcher's life (at most kMaxSubsets per
  // field; past that, null), so steady state builds none.
  const LiteralSet* SubsetFor(const std::vector<int>& relevant) const;

  // Whether pattern `index` alone is found in `text`: by comparing bytes
  // when the pattern is literal ASCII text and `text` is ASCII
  // (literal_pattern.h), else RE2::PartialMatch (DFA, NFA when that fails;
  // no allocation once warm).
  [[nodiscard]] bool MatchesPattern(int index, std::string_view text) const;

  // Replaces *hits with the indexes of the patterns found in `text`, in no
  // particular order, in one set pass. RE2 allocates its result set here,
  // so the matcher uses this only when many patterns are in play. Returns
  // true when the DFA ran out of memory and the per-pattern path was used.
  bool MatchAll(std::string_view text, std::vector<int>* hits, Ascii ascii = Ascii::kUnknown,
                const LiteralSet* subset = nullptr) const;

 private:
  static RE2::Options MakeOptions();
  void BuildLiteralPath();
  // Files the patterns `rest` (indexes) that have atoms under them (their
  // atoms into literal_set_); returns the others.
  std::vector<int> FilterByAtoms(const std::vector<int>& rest);
  void DropLiteralPath();
  struct PathScratch;
  static PathScratch& ThreadPathScratch();
  // Empties the scratch's atoms and returns them for a Hyperscan pass to
  // fill, or null when no pattern is filtered by atoms.
  std::vector<int>* AtomsFor(PathScratch* scratch) const;
  // The filtered patterns that the atoms in this thread's PathScratch let
  // through and that match `text`: appended to *hits, or (hits null)
  // whether there is one.
  bool FilteredMatch(std::string_view text, std::vector<int>* hits) const;
  // The literal path answers for this text: ASCII, and the path was built.
  bool TakesLiteralPath(std::string_view text, Ascii ascii) const {
    if (!literal_ready_) return false;
    return ascii == Ascii::kUnknown ? IsAsciiText(text) : ascii == Ascii::kYes;
  }
  int AddPattern(std::string_view regex, bool case_insensitive, bool checked, std::string* error);
  const RE2& Single(int index) const;
  // Pattern `index`'s own RE2 on `text` as given (not cut).
  bool RegexFinds(int index, std::string_view text) const;

  RE2::Options options_;
  std::unique_ptr<RE2::Set> set_;
  std::vector<std::string> patterns_;
  bool joinable_ = true;
  bool join_exact_ = true;
  std::unordered_map<std::string, int> index_;  // pattern -> its index in patterns_
  // Same patterns, one RE2 each, compiled at Add or on first use (const
  // calls from many threads: once per pattern).
  mutable std::vector<std::unique_ptr<RE2>> single_;
  std::vector<std::optional<LiteralPattern>> literals_;  // by pattern index
  mutable std::deque<std::once_flag> single_once_;

  // The literal path: the literal patterns, and an RE2::Set of the others
  // (null when all are literal) with each one's index in patterns_.
  LiteralSet literal_set_;
  // The other patterns that require literal atoms (RE2's FilteredRE2 works
  // them out): their atoms go into the same Hyperscan pass, and a pattern
  // runs, alone, only when one of its atoms was found and all of the atoms
  // it cannot match without were. By slot: the pattern's index in
  // patterns_ and its required atoms; by atom: the slots it lets through.
  static constexpr int kMinAtomBytes = 3;
  std::vector<int> filtered_index_;
  std::vector<std::vector<int>> required_atoms_;
  std::vector<std::vector<int>> atom_patterns_;
  std::vector<std::string> atom_texts_;  // by atom, for SubsetFor
  // The others: an RE2::Set (null when none), with each one's index. Up to
  // kMaxRestAskedOneByOne of them are listed one by one (RE2::PartialMatch,
  // allocation-free once warm) rather than by the set, whose listing
  // allocates its result: SigmaHQ's Image field has one such pattern,
  // `[a-zA-Z]:\\`, which nearly every value matches.
  static constexpr size_t kMaxRestAskedOneByOne = 4;
  std::unique_ptr<RE2::Set> rest_set_;
  std::vector<int> rest_index_;
  // SubsetFor's sets, by their patterns.
  static constexpr size_t kMinPatternsForSubsets = 32;
  static constexpr size_t kMaxSubsets = 64;
  mutable std::mutex subsets_mutex_;
  mutable std::map<std::vector<int>, std::unique_ptr<LiteralSet>> subsets_;  // null: refused
  // Empty literals: those matching any text, and those (^$) only the empty one.
  std::vector<int> empty_any_;
  std::vector<int> empty_only_;
  bool literal_ready_ = false;
};

}  // namespace eventsift::detect
