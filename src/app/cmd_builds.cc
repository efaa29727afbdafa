// `eventsift builds check|list`: classify Exchange builds against the March
// 2023 SU that EEMS needs, or show the build list. Both load the list exactly
// as scan classifies with it (correlate::LoadDefaultBuildCatalog, default
// path from correlate::DefaultBuildCatalogPath); docs/exchange-builds.md.

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include "src/alert/alert_json.h"
#include "src/app/cli_args.h"
#include "src/app/command.h"
#include "src/app/exit_codes.h"
#include "src/core/json_writer.h"
#include "src/correlate/build_catalog.h"
#include "src/correlate/cve_catalog.h"
#include "src/correlate/cve_verdict.h"

namespace po = boost::program_options;

namespace eventsift::app {

namespace {

constexpr char kBuildsHelp[] =
    "Usage: eventsift builds check [--format text|json] [--builds FILE] [--cves FILE] VERSION...\n"
    "       eventsift builds list [--format text|json] [--builds FILE]\n\n"
    "  check  classify each VERSION against the March 2023 SU that the Exchange\n"
    "         Emergency Mitigation Service (EEMS) needs: older than the March 2023\n"
    "         SU, the March 2023 SU exactly (borderline), newer, pre-EEMS, or\n"
    "         unknown; says whether the server can receive EEMS mitigations (yes,\n"
    "         no, unknown, and why), the product, release date and what to do.\n"
    "         VERSION may be 15.2.1118.20, zero-padded (15.02.1118.020, as ExSetup\n"
    "         and Watson reports write it), Get-ExchangeServer's\n"
    "         \"Version 15.2 (Build 1118.7)\" (names the CU only), or text that\n"
    "         holds one of these. Then, per CVE of the exploited-CVE list (KEV\n"
    "         first): fixed, EEMS can mitigate, or cannot, and why.\n"
    "  list   print every row of the build list\n\n"
    "The build list is a CSV data file (docs/exchange-builds.md): --builds FILE,\n"
    "else $EVENTSIFT_BUILDS, else <binary dir>/../share/eventsift/exchange-builds.csv,\n"
    "else the source tree's data/exchange-builds.csv. The CVE list\n"
    "(docs/exchange-cves.md) is found the same way: --cves FILE, $EVENTSIFT_CVES,\n"
    "share/eventsift/exchange-cves.csv, data/exchange-cves.csv.\n\n"
    "Examples:\n"
    "  eventsift builds check 15.2.1118.20\n"
    "  eventsift builds check 15.01.2507.023 \"Version 15.1 (Build 2507.6)\" 15.2.2562.17\n"
    "  eventsift builds check --format json 15.1.2507.21 | jq -r '.[].eems_mitigations'\n"
    "  eventsift builds list --builds my-builds.csv\n\n"
    "Exit codes: 0 every VERSION parsed; 2 bad usage or a missing/broken build\n"
    "list; 3 a VERSION is not an Exchange version (the others are still printed).\n\n"
    "Options";

std::string_view ClassificationText(BuildStatus s) {
  switch (s) {
    case BuildStatus::kOutdated:
      return "older than the March 2023 SU";
    case BuildStatus::kBorderline:
      return "the March 2023 SU exactly (borderline)";
    case BuildStatus::kCurrent:
      return "newer than the March 2023 SU";
    case BuildStatus::kNoEems:
      return "pre-EEMS (no Emergency Mitigation Service)";
    case BuildStatus::kIndeterminate:
      return "indeterminate (CU known, SU not)";
    case BuildStatus::kUnknown:
      break;
  }
  return "unknown";
}

struct Checked {
  std::string input;
  std::string error;  // non-empty: the input did not parse
  correlate::ExchangeVersion version;
  ExchangeBuildInfo info;
  std::string remediation;
  struct Cve {
    std::string id, kev_added;
    std::string_view answer;
    std::string text;
  };
  std::vector<Cve> cves;  // the CVE list's, KEV first
};

void PrintText(const std::vector<Checked>& results) {
  std::string out;
  for (const Checked& c : results) {
    if (!c.error.empty()) continue;  // on stderr
    fmt::format_to(
        std::back_inserter(out),
        "{}{}\n"
        "  product:          {}\n"
        "  released:         {}\n"
        "  classification:   {}\n"
        "  EEMS mitigations: {}: {}\n"
        "  remediation:      {}\n",
        c.info.version, c.version.revision_known ? "" : " (CU only: the SU is not in this form)",
        c.info.product, c.info.release_date.empty() ? "not in the build list" : c.info.release_date,
        ClassificationText(c.info.status), EemsMitigationsName(c.info.eems_mitigations),
        c.info.reason, c.remediation);
    for (const auto& cve : c.cves) {
      fmt::format_to(std::back_inserter(out), "  {}{}: {}\n", cve.id,
                     cve.kev_added.empty() ? "" : fmt::format(" (KEV {})", cve.kev_added),
                     cve.text);
    }
  }
  std::fputs(out.c_str(), stdout);
}

void PrintJson(const std::vector<Checked>& results) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  for (const Checked& c : results) {
    w.BeginObject();
    w.KV("input", c.input);
    if (!c.error.empty()) {
      w.KV("error", c.error);
      w.EndObject();
      continue;
    }
    w.KV("version", c.info.version);
    w.KVBool("revision_known", c.version.revision_known);
    w.KV("product", c.info.product);
    w.Key("release_date");
    if (c.info.release_date.empty()) {
      w.Null();
    } else {
      w.String(c.info.release_date);
    }
    w.KV("status", BuildStatusJsonName(c.info.status));  // as in alerts
    w.KV("classification", ClassificationText(c.info.status));
    w.Key("older_than_march_2023");
    if (c.info.older_than_march_2023) {
      w.Bool(*c.info.older_than_march_2023);
    } else {
      w.Null();
    }
    w.KV("eems_mitigations", EemsMitigationsName(c.info.eems_mitigations));
    w.KV("reason", c.info.reason);
    w.KV("remediation", c.remediation);
    w.Key("cves");
    w.BeginArray();
    for (const auto& cve : c.cves) {
      w.BeginObject();
      w.KV("id", cve.id);
      w.Key("kev_added");
      if (cve.kev_added.empty()) {
        w.Null();
      } else {
        w.String(cve.kev_added);
      }
      w.KV("answer", cve.answer);
      w.KV("text", cve.text);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  out.push_back('\n');
  std::fputs(out.c_str(), stdout);
}

void PrintList(const correlate::BuildCatalog& catalog, bool json) {
  std::string out;
  if (json) {
    JsonWriter w(&out);
    w.BeginArray();
    for (const auto& r : catalog.rows()) {
      w.BeginObject();
      w.KV("product", r.product);
      w.KV("cu", r.cu);
      w.KV("update", r.update);
      w.KV("name", r.Name());
      w.KV("build", correlate::FormatExchangeVersion(r.version));
      w.KV("released", r.released);
      w.KV("kb", r.kb);
      w.KV("source", r.source);
      w.KVUInt("line", r.line);
      w.EndObject();
    }
    w.EndArray();
    out.push_back('\n');
  } else {
    size_t name_w = 4;
    for (const auto& r : catalog.rows()) name_w = std::max(name_w, r.Name().size());
    fmt::format_to(std::back_inserter(out), "{:<14}  {:<10}  {:<{}}  {}\n", "BUILD", "RELEASED",
                   "NAME", name_w, "KB");
    for (const auto& r : catalog.rows()) {
      fmt::format_to(std::back_inserter(out), "{:<14}  {:<10}  {:<{}}  {}\n",
                     correlate::FormatExchangeVersion(r.version), r.released, r.Name(), name_w,
                     r.kb);
    }
    fmt::format_to(std::back_inserter(out), "{} builds from {}; March 2023 SU released {}\n",
                   catalog.rows().size(), catalog.path(), catalog.march_2023_date());
  }
  std::fputs(out.c_str(), stdout);
}

}  // namespace

int RunBuilds(const std::vector<std::string>& args) {
  std::string format;
  std::string builds_file, cves_file;
  std::vector<std::string> versions;
  po::options_description opts(kBuildsHelp);
  opts.add_options()("help,h", "show this help")(
      "format,f", po::value(&format)->default_value("text"), "text or json")(
      "builds", po::value(&builds_file), "the Exchange build list (CSV) to use")(
      "cves", po::value(&cves_file), "the exploited-CVE list (CSV) to check against");
  std::string sub;
  if (auto stop = ParseSubcommandArgs("builds", args, {"check", "list"}, opts, &sub, &versions)) {
    return *stop;
  }
  if (format != "text" && format != "json") {
    fmt::print(stderr, "eventsift builds: --format must be text or json, not '{}'\n", format);
    return kExitUsage;
  }
  if (sub == "check" && versions.empty()) {
    fmt::print(stderr,
               "eventsift builds check: give at least one VERSION, e.g. 15.2.1118.20\n"
               "Try 'eventsift builds --help'.\n");
    return kExitUsage;
  }
  if (sub == "list" && !versions.empty()) {
    fmt::print(stderr, "eventsift builds list: takes no arguments (got '{}')\n", versions[0]);
    return kExitUsage;
  }

  if (Status s = correlate::LoadDefaultBuildCatalog(builds_file); !s.ok()) {
    fmt::print(stderr, "eventsift builds: {}\n", s.ToString());
    return kExitUsage;
  }
  if (Status s = correlate::LoadDefaultCveCatalog(cves_file); !s.ok()) {
    fmt::print(stderr, "eventsift builds: {}\n", s.ToString());
    return kExitUsage;
  }
  auto catalog = correlate::DefaultBuildCatalog();
  auto cves = correlate::DefaultCveCatalog();
  if (sub == "list") {
    PrintList(*catalog, format == "json");
    return kExitOk;
  }

  std::vector<Checked> results;
  bool all_parsed = true;
  for (const std::string& input : versions) {
    Checked& c = results.emplace_back();
    c.input = input;
    auto version = correlate::ParseExchangeVersionText(input);
    if (!version) {
      c.error = std::string(version.error().message());
      fmt::print(stderr, "eventsift builds check: {}\n", c.error);
      all_parsed = false;
      continue;
    }
    c.version = version.value();
    c.info = catalog->Classify(c.version);
    c.remediation = catalog->Remediation(c.version, c.info);
    for (const correlate::CveEntry* e : cves->Ordered()) {
      auto answer = correlate::AnswerForBuild(*e, c.version, c.info);
      c.cves.push_back({e->id, e->kev_added, answer.code, std::move(answer.text)});
    }
  }
  if (format == "json") {
    PrintJson(results);
  } else {
    PrintText(results);
  }
  return all_parsed ? kExitOk : kExitInputError;
}

}  // namespace eventsift::app
