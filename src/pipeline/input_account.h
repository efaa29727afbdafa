#pragma once
// What became of each input, so that every file is accounted for
// (docs/cli.md, "Accounting"): for EVTX, the chunks its header announces and
// the chunks the file holds, the records decoded and how many of them were
// recovered by scanning, and every stretch of bytes skipped with its reason
// and offset; for JSON exports, the events decoded and the lines skipped with
// their reason and line. `dump` and `scan` print it on stderr and write it as
// JSON with --stats FILE.

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/status.h"
#include "src/decoder/corruption_reporter.h"
#include "src/decoder/decoder.h"

namespace eventsift {

struct InputAccount {
  // Skips listed per input; the rest are counted in `skips` only, so a badly
  // damaged file cannot make the account grow without bound.
  static constexpr size_t kMaxListed = 100;

  struct Skip {
    uint64_t offset = Where::kNone;  // byte offset in the input (EVTX, JSON)
    uint64_t line = 0;               // 1-based line (JSON), 0 if none
    uint64_t bytes = 0;              // bytes dropped, 0 when unknown
    std::string reason;
  };

  std::string input;
  std::string format;  // "evtx" or "json"; empty when the input was not read
  std::string error;   // why the input could not be read or was stopped; empty if none
  // EVTX only.
  uint64_t chunks_declared = 0;
  uint64_t chunks_found = 0;
  uint64_t chunks_empty = 0;
  uint64_t records_recovered = 0;
  // JSON only: the line ranges of a large NDJSON file decoded side by side
  // (scan --threads), 1 when it was read in one pass.
  uint64_t parts = 1;
  // Both formats.
  uint64_t records_decoded = 0;  // events delivered
  uint64_t problems = 0;         // corruption reports, repaired ones (CRC) included
  uint64_t skips = 0;            // records, byte ranges or lines skipped
  uint64_t bytes_skipped = 0;
  std::vector<Skip> skipped;  // the first kMaxListed skips, in the order found

  bool is_evtx() const { return format == "evtx"; }
  // Takes the counts a decoder kept for this input (records, chunks).
  void Take(const DecoderStats& stats);
  // Notes one corruption report: a problem, and a skip when bytes were
  // dropped (EVTX) or a line produced no event (JSON).
  void Note(const Status& status, uint64_t bytes_dropped);
  // Nothing skipped, recovered or failed, and the header's chunk count is
  // the number of chunks that hold data (found, less the never-written).
  bool Clean() const;
};

// Forwards reports to `next` and notes them in `account`; thread-safe (EVTX
// chunk workers report concurrently). Both must outlive it.
class AccountingReporter : public CorruptionReporter {
 public:
  AccountingReporter(CorruptionReporter* next, InputAccount* account)
      : next_(next), account_(account) {}
  void Report(const Status& status, uint64_t bytes_dropped) override;

 private:
  CorruptionReporter* next_;
  InputAccount* account_;
  std::mutex mu_;
};

// One line for stderr: "<input>: <format>, header announces 3 chunks, 15 found
// (0 empty), 1881 records decoded (0 recovered), 2 problems, 1 skip of 512
// bytes (first at 0x1a2b: <reason>)".
std::string AccountLine(const InputAccount& account);
// The totals over all inputs, for the summary.
std::string AccountTotals(std::span<const InputAccount> accounts);
// The accounts as one JSON document (docs/cli.md, "--stats").
std::string AccountsJson(std::string_view command, std::span<const InputAccount> accounts);
// Writes AccountsJson to `path` ("-": stdout is not allowed, it carries the
// records or alerts).
Status WriteAccountsJson(const std::string& path, std::string_view command,
                         std::span<const InputAccount> accounts);

}  // namespace eventsift
