#pragma once
// CveCatalog: the exploited Exchange CVEs whose exposure eventsift judges per
// server, read at start from a data file (data/exchange-cves.csv, installed to
// <prefix>/share/eventsift/exchange-cves.csv; format: docs/exchange-cves.md),
// so that a new CVE or fix needs a file update, not a release.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/result.h"
#include "src/core/status.h"
#include "src/correlate/exchange_build.h"

namespace eventsift::correlate {

// The first fixed build of one CU. `revision_known` false: the CU has a fix
// whose build number could not be confirmed ("15.1.2507.?").
struct CveFix {
  ExchangeVersion build;
  bool revision_known = true;
};

struct CveEntry {
  std::string id;                    // "CVE-2026-42897"
  std::string title;                 // for people
  std::string disclosed;             // "2026-05-14"
  std::string kev_added;             // "2026-05-15"; empty: not in KEV (or not confirmed)
  std::string eems_mitigation;       // "M2"; empty: EEMS has no mitigation for it
  std::vector<CveFix> fixes;         // one per CU, file order
  std::vector<std::string> sources;  // URLs
  std::string note;
  uint64_t line = 0;

  bool kev() const { return !kev_added.empty(); }
};

// Whether a build carries a CVE's fix.
enum class FixState : uint8_t {
  kFixed,     // at or above the fix of its CU, or a CU newer than every fixed one
  kNotFixed,  // below its CU's fix, or a CU with no fix (older than the fixed ones)
  kUnknown,   // the CU's fix build is unconfirmed, or only the CU is known and its
              // release predates the fix
};

struct FixCheck {
  FixState state = FixState::kUnknown;
  std::string
      detail;  // one sentence: "15.1.2507.69 is at or above 15.1.2507.69, the fix for this CU."
};

class CveCatalog {
 public:
  // Reads `path`. A missing file is kIOError; a bad row is kInvalidArgument
  // naming the file and line.
  static Result<CveCatalog> Load(const std::string& path);
  // The same from text; `name` is used in errors and by path().
  static Result<CveCatalog> Parse(std::string_view text, const std::string& name);

  // Whether `v` carries `cve`'s fix. Pure.
  static FixCheck CheckFix(const CveEntry& cve, const ExchangeVersion& v);

  // KEV entries first (newest KEV date first), then the rest by disclosure,
  // newest first: the order of report columns.
  std::vector<const CveEntry*> Ordered() const;

  const std::vector<CveEntry>& entries() const { return entries_; }
  const std::string& path() const { return path_; }

 private:
  CveCatalog() = default;
  std::vector<CveEntry> entries_;
  std::string path_;
};

// $EVENTSIFT_CVES, then <binary dir>/../share/eventsift/exchange-cves.csv,
// then the source tree's data/exchange-cves.csv.
std::string DefaultCveCatalogPath();

// Loads `path`, or DefaultCveCatalogPath() when it is empty.
Result<CveCatalog> LoadCveCatalog(const std::string& path);

// Loads `path` (empty: the default) and makes it the process's catalog.
// Call at start so a broken file stops the command with its error.
Status LoadDefaultCveCatalog(const std::string& path = "");
// Replaces the process's catalog (a reload that checked it first). Thread-safe.
void SetDefaultCveCatalog(std::shared_ptr<const CveCatalog> catalog);
// The catalog set above, else the default path loaded on first use. Null when
// that failed; `*error` then receives why. Thread-safe.
std::shared_ptr<const CveCatalog> DefaultCveCatalog(Status* error = nullptr);

}  // namespace eventsift::correlate
