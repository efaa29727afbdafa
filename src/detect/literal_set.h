#pragma once
// LiteralSet: a field's literal patterns (literal_pattern.h) searched all at
// once by Hyperscan's literal matcher, for ASCII text only.
//
// Why: with SigmaHQ's rules, most of a field's patterns are literal
// (`contains`, `startswith`, `endswith`, keywords), and RE2::Set's DFA costs
// ~19 instructions a byte on them and builds its states on first use (9,005
// CommandLine patterns: ~1.45 G instructions of warm-up per process);
// Hyperscan's literal engines (FDR, Teddy) scan such sets at a few
// instructions a byte with no warm-up (docs/perf/sigma.md).
//
// Same answers as RE2 on the same text, because:
//  - a literal is ASCII and the text is ASCII (the caller checks: on other
//    text RE2's (?i) folds Unicode, 'k' also matching U+212A, 's' U+017F);
//    on ASCII text, Hyperscan's HS_FLAG_CASELESS is RE2's (?i);
//  - '^' and '$' (start and end of the text, as in RE2 without (?m)) are
//    checked on each match's end offset: a literal of n bytes anchored at
//    the start matches when one ends at n, anchored at the end when one ends
//    at the text's end.
// RE2 keeps the final say on everything else: FieldMatcher passes the
// patterns that are not literal through an RE2::Set of their own.
//
// Hyperscan 5.4.0 (Debian's libhyperscan-dev) is used, not Vectorscan 5.4.9,
// which misses matches at vector edges (docs/perf/sigma.md);
// field_matcher_test checks every literal at every offset of texts of every
// length up to 300 bytes against a byte search.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/detect/literal_pattern.h"
#include "src/detect/literal_set_cache.h"

struct hs_database;

namespace eventsift::detect {

class LiteralSet {
 public:
  LiteralSet();
  ~LiteralSet();
  LiteralSet(const LiteralSet&) = delete;
  LiteralSet& operator=(const LiteralSet&) = delete;

  // Adds literal `text` (ASCII, lower case when case-insensitive, not empty)
  // standing for pattern `index` of the caller. Only before Compile().
  void Add(int index, std::string_view text, bool case_insensitive, bool anchored_start,
           bool anchored_end);
  // Adds `text` (lower case, not empty) as atom `atom` of an RE2
  // FilteredRE2: searched case-insensitively like the literals, but a match
  // only lists the atom (the caller's atoms vector), never a hit.
  void AddAtom(int atom, std::string_view text);
  // False when Hyperscan refuses the set or cannot run on this CPU (no
  // SSSE3); the caller then leaves the literals to RE2. The database comes
  // from the cache on disk when it holds this set (literal_set_cache.h),
  // and goes there when compiled.
  bool Compile();
  // Whether Compile() found the database in the cache.
  bool from_cache() const { return from_cache_; }

  bool empty() const { return entries_.empty(); }

  // Whether any literal is found in `text`, which must be ASCII. False with
  // *ok false when Hyperscan could not run (no scratch memory): the caller
  // asks RE2. Appends the atoms found to *atoms when given (all of them
  // when no literal is found).
  [[nodiscard]] bool FindAny(std::string_view text, bool* ok,
                             std::vector<int>* atoms = nullptr) const;
  // Appends the caller's index of every literal found in `text` (ASCII) to
  // *hits, each once, and the atoms found to *atoms when given. False when
  // Hyperscan could not run.
  [[nodiscard]] bool FindAll(std::string_view text, std::vector<int>* hits,
                             std::vector<int>* atoms = nullptr) const;

 private:
  struct Entry {
    int index;        // the caller's pattern index, or the atom's
    uint32_t length;  // bytes of the literal
    bool anchored_start;
    bool anchored_end;
    bool atom;
  };
  struct DatabaseDeleter {
    void operator()(hs_database* db) const;
  };
  friend struct LiteralSetScan;
  LiteralSetKey Key() const;

  std::vector<Entry> entries_;  // by Hyperscan id
  std::vector<std::string> texts_;
  std::vector<unsigned> flags_;
  std::unique_ptr<hs_database, DatabaseDeleter> database_;
  bool from_cache_ = false;
};

}  // namespace eventsift::detect
