#pragma once
// BuildCatalog: the list of Exchange Server 2016, 2019 and SE builds (every CU
// and SU/HU, with release dates) read at start from a data file, so that a new
// SU needs a file update, not a release. Format: docs/exchange-builds.md;
// shipped as data/exchange-builds.csv and installed to
// <prefix>/share/eventsift/exchange-builds.csv.
//
// Classification places a build against the March 2023 SU, which EEMS needs
// to trust the Office Config Service's new certificate (docs/domain.md §2):
// listed builds by their row, unlisted ones by their position between rows.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/alert/alert.h"
#include "src/core/result.h"
#include "src/core/status.h"
#include "src/correlate/exchange_build.h"

namespace eventsift::correlate {

// One row of the data file.
struct BuildRow {
  std::string product;  // "Exchange Server 2019"
  std::string cu;       // "CU12", "RTM"
  std::string update;   // "Nov22 SU", "Apr24 HU"; empty for the CU's own release
  ExchangeVersion version;
  std::string released;  // "2022-11-08"
  std::string kb;        // "KB5019758"; may be empty
  std::string source;    // where the row comes from (URL)
  uint64_t line = 0;     // in the data file

  bool is_cu() const { return update.empty(); }
  // "Exchange Server 2019 CU12 Nov22 SU", "Exchange Server SE RTM".
  std::string Name() const;
};

class BuildCatalog {
 public:
  // The update name that marks the March 2023 SU rows.
  static constexpr std::string_view kMarch2023Update = "Mar23 SU";

  // Reads `path`. A missing file is kIOError; a bad row is kInvalidArgument
  // naming the file and line.
  static Result<BuildCatalog> Load(const std::string& path);
  // The same from text; `name` is used in errors and by path().
  static Result<BuildCatalog> Parse(std::string_view text, const std::string& name);

  // Everything but `source` (left empty for the caller). Pure.
  ExchangeBuildInfo Classify(const ExchangeVersion& v) const;
  // What to do about a classified build, one or two sentences for people
  // (`eventsift builds check`); alerts take their remediation from the rule.
  std::string Remediation(const ExchangeVersion& v, const ExchangeBuildInfo& info) const;

  // In file order.
  const std::vector<BuildRow>& rows() const { return rows_; }
  const std::string& path() const { return path_; }
  // The March 2023 SU's release date, "2023-03-14".
  const std::string& march_2023_date() const { return march_2023_date_; }

 private:
  BuildCatalog() = default;

  // The row with exactly this version, or null.
  const BuildRow* Find(const ExchangeVersion& v) const;
  // The newest row of `product` (by date, then version), or null.
  const BuildRow* Newest(std::string_view product) const;

  std::vector<BuildRow> rows_;
  std::string path_;
  std::string march_2023_date_;
};

// Where the build list is looked for, first hit wins: $EVENTSIFT_BUILDS, then
// <binary dir>/../share/eventsift/exchange-builds.csv (installed), then the
// source tree's data/exchange-builds.csv. Like detect::DefaultRulePaths().
std::string DefaultBuildCatalogPath();

// Loads `path`, or DefaultBuildCatalogPath() when it is empty.
Result<BuildCatalog> LoadBuildCatalog(const std::string& path);

// Makes `catalog` the one ClassifyExchangeBuild uses (a reload that checked
// it first, e.g. the daemon's SIGHUP). Thread-safe.
void SetDefaultBuildCatalog(std::shared_ptr<const BuildCatalog> catalog);

// Loads `path` (empty: DefaultBuildCatalogPath()) and makes it the catalog
// ClassifyExchangeBuild uses. Call at start so a missing or broken file stops
// the command with its error. Thread-safe.
Status LoadDefaultBuildCatalog(const std::string& path = "");

// The catalog set by LoadDefaultBuildCatalog, else the one at
// DefaultBuildCatalogPath() loaded on first use (once). Null when that load
// failed; `*error` (if given) then receives why. Thread-safe.
std::shared_ptr<const BuildCatalog> DefaultBuildCatalog(Status* error = nullptr);

}  // namespace eventsift::correlate
