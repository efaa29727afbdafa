#include "src/correlate/cve_catalog.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "src/correlate/csv_line.h"
#include "src/correlate/default_data.h"

#ifndef ES_CVES_FILE
#error "ES_CVES_FILE must be defined by src/correlate/CMakeLists.txt"
#endif

namespace eventsift::correlate {

namespace {

constexpr std::string_view kHeader =
    "cve,title,disclosed,kev_added,eems_mitigation,fixed_builds,source,note";
constexpr size_t kColumns = 8;

bool IsCveId(std::string_view s) {
  if (!s.starts_with("CVE-") || s.size() < 13 || s[8] != '-') return false;
  for (size_t i = 4; i < s.size(); ++i) {
    if (i != 8 && (s[i] < '0' || s[i] > '9')) return false;
  }
  return true;
}

// "M2", "M1": a letter and digits; finer ids ("M2.1.0") are matched by prefix.
bool IsMitigationId(std::string_view s) {
  if (s.size() < 2 || (s[0] != 'M' && s[0] != 'm')) return false;
  return std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Splits on any of `seps`, trimming and dropping empty pieces.
std::vector<std::string_view> SplitList(std::string_view s, std::string_view seps) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const size_t at = s.find_first_of(seps);
    std::string_view piece = TrimCsv(s.substr(0, at));
    if (!piece.empty()) out.push_back(piece);
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

Result<CveFix> ParseFix(std::string_view text) {
  CveFix fix;
  std::string_view numbers = text;
  if (text.ends_with(".?")) {
    fix.revision_known = false;
    numbers = text.substr(0, text.size() - 2);
    auto v = ParseExchangeVersion(fmt::format("{}.0", numbers));
    if (!v || v->major != 15) {
      return Status::InvalidArgument(fmt::format("fixed build \"{}\" is not 15.x.y.?", text));
    }
    fix.build = *v;
    return fix;
  }
  auto v = ParseExchangeVersion(numbers);
  if (!v || !v->revision_known || v->major != 15) {
    return Status::InvalidArgument(
        fmt::format("fixed build \"{}\" is not a four-part 15.x.y.z version (or 15.x.y.?)", text));
  }
  fix.build = *v;
  return fix;
}

}  // namespace

Result<CveCatalog> CveCatalog::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::IOError("cannot open the Exchange CVE list (--cves FILE or $EVENTSIFT_CVES)")
        .At(path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

Result<CveCatalog> CveCatalog::Parse(std::string_view text, const std::string& name) {
  CveCatalog catalog;
  catalog.path_ = name;
  bool header_seen = false;
  std::set<std::string> seen;
  Status status = ForEachCsvLine(text, [&](uint64_t line_no, std::string_view line) -> Status {
    const auto bad = [&](std::string why) {
      return Status::InvalidArgument(fmt::format("Exchange CVE list: {}", why))
          .At(name, Where::kNone, line_no);
    };
    if (!header_seen) {
      if (line != kHeader) return bad(fmt::format("expected the header \"{}\"", kHeader));
      header_seen = true;
      return Status::OK();
    }
    std::vector<std::string> f = SplitCsvLine(line);
    if (f.size() != kColumns) {
      return bad(fmt::format("expected {} columns ({}), got {}", kColumns, kHeader, f.size()));
    }
    CveEntry e;
    e.id = TrimCsv(f[0]);
    e.title = TrimCsv(f[1]);
    e.disclosed = TrimCsv(f[2]);
    e.kev_added = TrimCsv(f[3]);
    e.eems_mitigation = TrimCsv(f[4]);
    e.note = TrimCsv(f[7]);
    e.line = line_no;
    if (!IsCveId(e.id)) return bad(fmt::format("\"{}\" is not a CVE id (CVE-YYYY-NNNN)", e.id));
    if (!seen.insert(e.id).second) return bad(fmt::format("{} is listed twice", e.id));
    if (e.title.empty()) return bad("title must not be empty");
    if (!IsCsvDate(e.disclosed)) {
      return bad(fmt::format("disclosed \"{}\" is not a YYYY-MM-DD date", e.disclosed));
    }
    if (!e.kev_added.empty() && !IsCsvDate(e.kev_added)) {
      return bad(fmt::format("kev_added \"{}\" is not a YYYY-MM-DD date (or empty)", e.kev_added));
    }
    if (!e.eems_mitigation.empty() && !IsMitigationId(e.eems_mitigation)) {
      return bad(fmt::format("eems_mitigation \"{}\" is not a mitigation id like M2 (or empty)",
                             e.eems_mitigation));
    }
    if (!e.eems_mitigation.empty()) e.eems_mitigation[0] = 'M';
    std::set<std::tuple<uint32_t, uint32_t, uint32_t>> cus;
    for (std::string_view piece : SplitList(f[5], ";")) {
      auto fix = ParseFix(piece);
      if (!fix) return bad(std::string(fix.error().message()));
      const auto& b = fix.value().build;
      if (!cus.emplace(b.major, b.minor, b.build).second) {
        return bad(fmt::format("two fixed builds for the CU {}.{}.{}", b.major, b.minor, b.build));
      }
      e.fixes.push_back(fix.value());
    }
    for (std::string_view url : SplitList(f[6], " ")) {
      if (!url.starts_with("https://") && !url.starts_with("http://")) {
        return bad(fmt::format("source \"{}\" is not a URL", url));
      }
      e.sources.emplace_back(url);
    }
    if (e.sources.empty()) return bad("source must name at least one URL");
    catalog.entries_.push_back(std::move(e));
    return Status::OK();
  });
  if (!status.ok()) return status;
  if (!header_seen) {
    return Status::InvalidArgument("Exchange CVE list: no header and no rows").At(name);
  }
  return catalog;
}

FixCheck CveCatalog::CheckFix(const CveEntry& cve, const ExchangeVersion& v) {
  FixCheck out;
  const CveFix* same_cu = nullptr;
  const CveFix* newest = nullptr;  // the fixed CU of v's line with the highest build
  for (const CveFix& fix : cve.fixes) {
    if (fix.build.major != v.major || fix.build.minor != v.minor) continue;
    if (fix.build.build == v.build) same_cu = &fix;
    if (newest == nullptr || fix.build.build > newest->build.build) newest = &fix;
  }
  const std::string have = FormatExchangeVersion(v);
  if (same_cu != nullptr) {
    const std::string fix_text = same_cu->revision_known
                                     ? FormatExchangeVersion(same_cu->build)
                                     : fmt::format("{}.{}.{}.?", v.major, v.minor, v.build);
    if (!same_cu->revision_known) {
      out.state = FixState::kUnknown;
      out.detail = fmt::format("{} has a fix for this CU, but its build ({}) is not confirmed.",
                               cve.id, fix_text);
    } else if (v.revision >= same_cu->build.revision) {
      out.state = FixState::kFixed;
      out.detail = fmt::format("{} is at or above {}, the fix for this CU.", have, fix_text);
    } else if (!v.revision_known) {
      out.state = FixState::kUnknown;
      out.detail = fmt::format(
          "Only the CU is known ({}); its fix is {}, so only the ExSetup.exe version can tell.",
          have, fix_text);
    } else {
      out.state = FixState::kNotFixed;
      out.detail = fmt::format("{} is below {}, the fix for this CU.", have, fix_text);
    }
    return out;
  }
  if (newest == nullptr) {
    out.state = FixState::kUnknown;
    out.detail = fmt::format("The CVE list names no fix for Exchange {}.{}.", v.major, v.minor);
  } else if (v.build > newest->build.build) {
    // Later CUs carry the SUs released before them.
    out.state = FixState::kFixed;
    out.detail = fmt::format("CU build {} is newer than every CU with a listed fix ({} and older).",
                             v.build, newest->build.build);
  } else {
    out.state = FixState::kNotFixed;
    out.detail = fmt::format(
        "No fix was released for this CU (build {}): only a newer CU can carry it.", v.build);
  }
  return out;
}

std::vector<const CveEntry*> CveCatalog::Ordered() const {
  std::vector<const CveEntry*> out;
  for (const CveEntry& e : entries_) out.push_back(&e);
  std::stable_sort(out.begin(), out.end(), [](const CveEntry* a, const CveEntry* b) {
    if (a->kev() != b->kev()) return a->kev();
    if (a->kev() && a->kev_added != b->kev_added) return a->kev_added > b->kev_added;
    return a->disclosed > b->disclosed;
  });
  return out;
}

std::string DefaultCveCatalogPath() {
  return DefaultDataPath("EVENTSIFT_CVES", "exchange-cves.csv", ES_CVES_FILE);
}

Result<CveCatalog> LoadCveCatalog(const std::string& path) {
  return CveCatalog::Load(path.empty() ? DefaultCveCatalogPath() : path);
}

namespace {

DefaultData<CveCatalog>& Default() {
  static DefaultData<CveCatalog> data(
      &LoadCveCatalog);  // function-local: no static-init order issue
  return data;
}

}  // namespace

void SetDefaultCveCatalog(std::shared_ptr<const CveCatalog> catalog) {
  Default().Set(std::move(catalog));
}

Status LoadDefaultCveCatalog(const std::string& path) { return Default().Load(path); }

std::shared_ptr<const CveCatalog> DefaultCveCatalog(Status* error) { return Default().Get(error); }

}  // namespace eventsift::correlate
