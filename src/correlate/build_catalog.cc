#include "src/correlate/build_catalog.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <system_error>
#include <tuple>

#include <fmt/format.h>

#include "src/correlate/csv_line.h"
#include "src/correlate/default_data.h"

#ifndef ES_BUILDS_FILE
#error "ES_BUILDS_FILE must be defined by src/correlate/CMakeLists.txt"
#endif

namespace eventsift::correlate {

namespace {

constexpr std::string_view kHeader = "product,cu,update,build,released,kb,source";

// Same Exchange line and CU: major.minor.build.
bool SameCu(const ExchangeVersion& a, const ExchangeVersion& b) {
  return a.major == b.major && a.minor == b.minor && a.build == b.build;
}

std::string LegacyProduct(uint32_t major, uint32_t minor) {
  if (major == 8) return "Exchange Server 2007";
  if (major == 14) return "Exchange Server 2010";
  if (major == 15 && minor == 0) return "Exchange Server 2013";
  return "";
}

// Fills the fields that follow from the status (the rule of docs/alerts.md
// "Build status"): older_than_march_2023 and eems_mitigations.
void SetVerdict(BuildStatus status, ExchangeBuildInfo* info) {
  info->status = status;
  switch (status) {
    case BuildStatus::kOutdated:
    case BuildStatus::kNoEems:
      info->older_than_march_2023 = true;
      info->eems_mitigations = EemsMitigations::kNo;
      break;
    case BuildStatus::kBorderline:
    case BuildStatus::kCurrent:
      info->older_than_march_2023 = false;
      info->eems_mitigations = EemsMitigations::kYes;
      break;
    case BuildStatus::kIndeterminate:
    case BuildStatus::kUnknown:
      info->older_than_march_2023.reset();
      info->eems_mitigations = EemsMitigations::kUnknown;
      break;
  }
}

}  // namespace

std::string BuildRow::Name() const {
  std::string name = fmt::format("{} {}", product, cu);
  if (!update.empty()) fmt::format_to(std::back_inserter(name), " {}", update);
  return name;
}

Result<BuildCatalog> BuildCatalog::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::IOError(
               "cannot open the Exchange build list (--builds FILE or $EVENTSIFT_BUILDS)")
        .At(path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

Result<BuildCatalog> BuildCatalog::Parse(std::string_view text, const std::string& name) {
  BuildCatalog catalog;
  catalog.path_ = name;
  bool header_seen = false;
  std::map<std::tuple<uint32_t, uint32_t, uint32_t, uint32_t>, uint64_t> seen;  // -> line
  Status status = ForEachCsvLine(text, [&](uint64_t line_no, std::string_view line) -> Status {
    const auto bad = [&](std::string why) {
      return Status::InvalidArgument(fmt::format("Exchange build list: {}", why))
          .At(name, Where::kNone, line_no);
    };
    if (!header_seen) {
      if (line != kHeader) return bad(fmt::format("expected the header \"{}\"", kHeader));
      header_seen = true;
      return Status::OK();
    }
    std::vector<std::string> f = SplitCsvLine(line);
    if (f.size() != 7) {
      return bad(fmt::format("expected 7 columns ({}), got {}", kHeader, f.size()));
    }
    BuildRow row;
    row.product = TrimCsv(f[0]);
    row.cu = TrimCsv(f[1]);
    row.update = TrimCsv(f[2]);
    row.released = TrimCsv(f[4]);
    row.kb = TrimCsv(f[5]);
    row.source = TrimCsv(f[6]);
    row.line = line_no;
    if (row.product.empty() || row.cu.empty()) return bad("product and cu must not be empty");
    auto version = ParseExchangeVersion(f[3]);
    if (!version || !version->revision_known || version->major != 15) {
      return bad(fmt::format("build \"{}\" is not a four-part 15.x.y.z version", f[3]));
    }
    row.version = *version;
    if (!IsCsvDate(row.released)) {
      return bad(fmt::format("released \"{}\" is not a YYYY-MM-DD date", row.released));
    }
    const auto key =
        std::make_tuple(version->major, version->minor, version->build, version->revision);
    if (auto [it, inserted] = seen.emplace(key, line_no); !inserted) {
      return bad(fmt::format("build {} is listed twice (first on line {})",
                             FormatExchangeVersion(*version), it->second));
    }
    catalog.rows_.push_back(std::move(row));
    return Status::OK();
  });
  if (!status.ok()) return status;
  if (!header_seen) {
    return Status::InvalidArgument("Exchange build list: no header and no rows").At(name);
  }
  // Every update needs its CU's row (the CU's release date and name), and the
  // March 2023 SU rows must exist and agree on their date: classification
  // hangs on them.
  // The CUs are collected first: looking each row's CU up in all rows was
  // quadratic in the file's length.
  std::set<std::tuple<uint32_t, uint32_t, uint32_t>> cus;
  for (const BuildRow& row : catalog.rows_) {
    if (row.is_cu()) cus.emplace(row.version.major, row.version.minor, row.version.build);
  }
  for (const BuildRow& row : catalog.rows_) {
    if (!cus.contains({row.version.major, row.version.minor, row.version.build})) {
      return Status::InvalidArgument(
                 fmt::format("Exchange build list: {} has no row for its CU (an empty update)",
                             FormatExchangeVersion(row.version)))
          .At(name, Where::kNone, row.line);
    }
    if (row.update != kMarch2023Update) continue;
    if (catalog.march_2023_date_.empty()) {
      catalog.march_2023_date_ = row.released;
    } else if (catalog.march_2023_date_ != row.released) {
      return Status::InvalidArgument(
                 fmt::format("Exchange build list: \"{}\" rows disagree on the date ({} and {})",
                             kMarch2023Update, catalog.march_2023_date_, row.released))
          .At(name, Where::kNone, row.line);
    }
  }
  if (catalog.march_2023_date_.empty()) {
    return Status::InvalidArgument(fmt::format("Exchange build list: no \"{}\" row; classification "
                                               "needs the March 2023 SU",
                                               kMarch2023Update))
        .At(name);
  }
  return catalog;
}

const BuildRow* BuildCatalog::Find(const ExchangeVersion& v) const {
  for (const BuildRow& row : rows_) {
    if (SameCu(row.version, v) && row.version.revision == v.revision) return &row;
  }
  return nullptr;
}

const BuildRow* BuildCatalog::Newest(std::string_view product) const {
  const BuildRow* best = nullptr;
  for (const BuildRow& row : rows_) {
    if (row.product != product) continue;
    if (best == nullptr ||
        std::tie(row.released, row.version.build, row.version.revision) >
            std::tie(best->released, best->version.build, best->version.revision)) {
      best = &row;
    }
  }
  return best;
}

ExchangeBuildInfo BuildCatalog::Classify(const ExchangeVersion& v) const {
  ExchangeBuildInfo info;
  info.version = FormatExchangeVersion(v);
  const std::string& mar23 = march_2023_date_;

  // The CUs of v's line (15.1, 15.2), by build.
  std::vector<const BuildRow*> cus;
  for (const BuildRow& row : rows_) {
    if (row.is_cu() && row.version.major == v.major && row.version.minor == v.minor) {
      cus.push_back(&row);
    }
  }
  std::sort(cus.begin(), cus.end(), [](const BuildRow* a, const BuildRow* b) {
    return a->version.build < b->version.build;
  });

  if (cus.empty()) {
    // Exchange 2013 and older are not in the list (it starts where EEMS
    // starts), but are known to have no EEMS at all: a rule, not data.
    if (std::string legacy = LegacyProduct(v.major, v.minor); !legacy.empty()) {
      info.product = std::move(legacy);
      SetVerdict(BuildStatus::kNoEems, &info);
      info.older_than_march_2023.reset();  // their own SUs are not in the list
      info.reason = fmt::format("{} has no Emergency Mitigation Service at all.", info.product);
      return info;
    }
    info.product = fmt::format("unknown Exchange version {}.{}", v.major, v.minor);
    SetVerdict(BuildStatus::kUnknown, &info);
    info.reason =
        fmt::format("{}.{} is not an Exchange Server 2016, 2019 or SE line in the build list ({}).",
                    v.major, v.minor, path_);
    return info;
  }

  // Below the line's first listed CU: the list starts with the first CU that
  // shipped EEMS (E2016 CU22, E2019 CU11; docs/exchange-builds.md).
  if (v.build < cus.front()->version.build) {
    info.product = fmt::format("{} (build {})", cus.front()->product, v.build);
    SetVerdict(BuildStatus::kNoEems, &info);
    info.reason = fmt::format(
        "Build {} predates {} ({}), the first CU with the Emergency Mitigation Service: "
        "there is no EEMS to receive mitigations.",
        v.build, cus.front()->Name(), cus.front()->released);
    return info;
  }

  const BuildRow* cu = nullptr;
  for (const BuildRow* c : cus) {
    if (c->version.build == v.build) cu = c;
  }

  if (cu == nullptr) {
    // A build between listed CUs (not a public release) or after the last.
    const BuildRow* prev = nullptr;
    const BuildRow* next = nullptr;
    for (const BuildRow* c : cus) {
      if (c->version.build < v.build) prev = c;
      if (c->version.build > v.build && next == nullptr) next = c;
    }
    info.product = fmt::format("{} (build {})", prev->product, v.build);
    if (next == nullptr) {
      SetVerdict(BuildStatus::kCurrent, &info);
      info.reason = fmt::format(
          "Build {} is not in the build list; it is above {}, the newest CU listed, so it is "
          "taken as newer than the March 2023 SU.",
          v.build, prev->Name());
    } else if (prev->released > mar23) {
      SetVerdict(BuildStatus::kCurrent, &info);
      info.reason = fmt::format(
          "Build {} is not in the build list; it lies between {} and {}, both released after "
          "the March 2023 SU.",
          v.build, prev->Name(), next->Name());
    } else {
      SetVerdict(BuildStatus::kOutdated, &info);
      info.reason = fmt::format(
          "Build {} is not in the build list; it lies between {} ({}) and {}, and no public "
          "build in between carries the March 2023 SU, so it is taken as older.",
          v.build, prev->Name(), prev->released, next->Name());
    }
    return info;
  }

  // A listed CU: its updates, by revision (the CU's own row first).
  std::vector<const BuildRow*> updates;
  for (const BuildRow& row : rows_) {
    if (SameCu(row.version, v)) updates.push_back(&row);
  }
  std::sort(updates.begin(), updates.end(), [](const BuildRow* a, const BuildRow* b) {
    return a->version.revision < b->version.revision;
  });
  const BuildRow* mar23_row = nullptr;
  for (const BuildRow* u : updates) {
    if (u->update == kMarch2023Update) mar23_row = u;
  }
  info.product = fmt::format("{} {}", cu->product, cu->cu);

  if (!v.revision_known) {
    // AdminDisplayVersion ("Version 15.1 (Build 2507.6)") names the CU only.
    info.release_date = cu->released;
    const BuildRow* last = updates.back();
    if (cu->released > mar23) {
      SetVerdict(BuildStatus::kCurrent, &info);
      info.reason = fmt::format(
          "Only the CU is known, and {} was released on {}, after the March 2023 SU: every "
          "build of it is newer.",
          cu->Name(), cu->released);
    } else if (last->released < mar23) {
      SetVerdict(BuildStatus::kOutdated, &info);
      info.reason = fmt::format(
          "Only the CU is known, but {} never received the March 2023 SU (its last update is "
          "{}, {}): every build of it is older.",
          cu->Name(), last->Name(), last->released);
    } else {
      SetVerdict(BuildStatus::kIndeterminate, &info);
      info.reason = fmt::format(
          "Only the CU is known (AdminDisplayVersion does not change with SUs) and {} has "
          "updates before and after the March 2023 SU: only the ExSetup.exe file version can "
          "tell.",
          cu->Name());
    }
    return info;
  }

  const BuildRow* exact = nullptr;
  const BuildRow* floor = nullptr;  // the last listed update at or below v
  for (const BuildRow* u : updates) {
    if (u->version.revision <= v.revision) floor = u;
    if (u->version.revision == v.revision) exact = u;
  }
  if (exact != nullptr) {
    info.product = exact->Name();
    info.release_date = exact->released;
  }
  const std::string unlisted =
      exact != nullptr ? "" : fmt::format("Revision {} is not in the build list; ", v.revision);
  if (floor == nullptr) {
    // Below the CU's own release revision: a pre-release of this CU.
    floor = cu;
  }
  if (exact != nullptr && exact == mar23_row) {
    SetVerdict(BuildStatus::kBorderline, &info);
    info.reason =
        "Exactly the March 2023 SU: Microsoft's post says servers \"newer than March 2023\" "
        "(its Japanese translation \"March 2023 or later\") can receive mitigations; counted as "
        "able to, but borderline: verify, or install a later SU.";
  } else if (floor->released > mar23 || (floor == mar23_row && exact == nullptr)) {
    SetVerdict(BuildStatus::kCurrent, &info);
    info.reason =
        exact != nullptr
            ? fmt::format("Released on {}, after the March 2023 SU ({}).", exact->released, mar23)
            : fmt::format("{}it is above {} ({}), so newer than the March 2023 SU.", unlisted,
                          floor->Name(), floor->released);
  } else if (floor->released == mar23) {
    // Another row dated like the March 2023 SU (a re-release): as borderline.
    SetVerdict(BuildStatus::kBorderline, &info);
    info.reason = fmt::format(
        "{}released with the March 2023 SU ({}): borderline, as Microsoft's wording is "
        "ambiguous about March 2023 itself.",
        unlisted, mar23);
  } else {
    SetVerdict(BuildStatus::kOutdated, &info);
    info.reason =
        mar23_row != nullptr
            ? fmt::format(
                  "{}older than {} (revision {}): EEMS cannot trust the Office Config Service's "
                  "new "
                  "certificate and cannot receive mitigations.",
                  unlisted, mar23_row->Name(), mar23_row->version.revision)
            : fmt::format(
                  "{}{} never received the March 2023 SU: EEMS cannot trust the Office Config "
                  "Service's new certificate and cannot receive mitigations.",
                  unlisted, cu->Name());
  }
  // The branches above start with "Revision N is not ..." or in lower case.
  if (info.reason[0] >= 'a' && info.reason[0] <= 'z') info.reason[0] -= 'a' - 'A';
  return info;
}

std::string BuildCatalog::Remediation(const ExchangeVersion& v,
                                      const ExchangeBuildInfo& info) const {
  // The newest listed build of the host's product line, as the target.
  std::string product;
  for (const BuildRow& row : rows_) {
    if (row.version.major == v.major && row.version.minor == v.minor &&
        row.version.build <= v.build) {
      product = row.product;
    }
  }
  if (product.empty()) {
    for (const BuildRow& row : rows_) {
      if (row.version.major == v.major && row.version.minor == v.minor) {
        product = row.product;
        break;
      }
    }
  }
  const BuildRow* newest = product.empty() ? nullptr : Newest(product);
  const std::string target =
      newest == nullptr ? std::string("the latest CU and SU")
                        : fmt::format("{} ({}, {})", newest->Name(),
                                      FormatExchangeVersion(newest->version), newest->released);
  switch (info.status) {
    case BuildStatus::kOutdated:
      return fmt::format(
          "Update to a supported CU with its latest SU, at least past the March 2023 SU; the "
          "newest build listed is {}.",
          target);
    case BuildStatus::kNoEems:
      if (newest == nullptr) {
        return "Migrate to a supported Exchange Server version (2019 CU14 or later, or SE).";
      }
      return fmt::format(
          "Update to a CU with EEMS and its latest SU; the newest build listed is {}.", target);
    case BuildStatus::kBorderline:
      return fmt::format("Install a later SU to be clearly covered; the newest build listed is {}.",
                         target);
    case BuildStatus::kCurrent:
      return fmt::format("None needed for EEMS; the newest build listed is {}.", target);
    case BuildStatus::kIndeterminate:
      return "Read the exact build from the ExSetup.exe file version (HealthChecker shows it, or "
             "Get-Command ExSetup.exe | ForEach-Object { $_.FileVersionInfo }) and check that.";
    case BuildStatus::kUnknown:
      break;
  }
  return fmt::format(
      "Check the version string; the build list ({}) knows Exchange 2016, 2019 and SE.", path_);
}

std::string DefaultBuildCatalogPath() {
  return DefaultDataPath("EVENTSIFT_BUILDS", "exchange-builds.csv", ES_BUILDS_FILE);
}

Result<BuildCatalog> LoadBuildCatalog(const std::string& path) {
  return BuildCatalog::Load(path.empty() ? DefaultBuildCatalogPath() : path);
}

namespace {

DefaultData<BuildCatalog>& Default() {
  static DefaultData<BuildCatalog> data(
      &LoadBuildCatalog);  // function-local: no static-init order issue
  return data;
}

}  // namespace

void SetDefaultBuildCatalog(std::shared_ptr<const BuildCatalog> catalog) {
  Default().Set(std::move(catalog));
}

Status LoadDefaultBuildCatalog(const std::string& path) { return Default().Load(path); }

std::shared_ptr<const BuildCatalog> DefaultBuildCatalog(Status* error) {
  return Default().Get(error);
}

}  // namespace eventsift::correlate
