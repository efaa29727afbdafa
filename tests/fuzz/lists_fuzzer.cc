// libFuzzer target for the small text parsers of src/correlate: the Exchange
// build list, host inventories, Exchange version strings and host names.
//
// Input layout: one selector byte, then the text. selector % 6 picks:
//   0: build list CSV   BuildCatalog::Parse (--builds FILE, $EVENTSIFT_BUILDS);
//                       when it parses, every row's version and its
//                       neighbours are classified against it.
//   1: inventory CSV    ParseInventory (scan --inventory FILE); the format is
//   2: inventory JSON   sniffed by content as LoadInventoryFile does, so 1 and
//                       2 differ in their seeds only. Bit 7 of the selector
//                       re-encodes the text as UTF-16LE with a BOM first
//                       (PowerShell 5.1's Export-Csv -Encoding Unicode).
//                       Every entry is classified against the default list.
//   3: version string   ParseExchangeVersionText, then Classify and
//                       Remediation: `eventsift builds check VERSION`.
//   4: host names       NormalizeHostName on every line, then HostResolver.
//   5: CVE list CSV     CveCatalog::Parse (--cves FILE, $EVENTSIFT_CVES, the
//                       daemon's exchange_cves:); when it parses, every fix
//                       and its neighbours go through CheckFix, the
//                       `builds check` answer and the per-server verdicts;
//                       and the text through ExtractMitigationIds (the EEMS
//                       success messages it reads).
//
// Results are read field by field (copied into a sink) so ASan sees a view
// into freed or foreign memory. A rejected input must come back as a Status
// with a message: none of these APIs documents an exception, and the CLI
// (cmd_builds.cc, Correlator::LoadInventory) prints the message as it is.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/correlate/build_catalog.h"
#include "src/correlate/cve_catalog.h"
#include "src/correlate/cve_verdict.h"
#include "src/correlate/exchange_build.h"
#include "src/correlate/host_key.h"
#include "src/correlate/inventory.h"

namespace {

namespace cr = eventsift::correlate;

volatile size_t g_sink;  // keeps the work observable

size_t Touch(std::string_view s) {
  size_t h = s.size();
  for (char c : s) h = h * 31 + static_cast<unsigned char>(c);
  return h;
}

size_t Touch(const eventsift::ExchangeBuildInfo& info) {
  return Touch(info.version) + Touch(info.product) + static_cast<size_t>(info.status) +
         info.older_than_march_2023.value_or(false) + static_cast<size_t>(info.eems_mitigations) +
         Touch(info.reason) + Touch(info.release_date) + Touch(info.source);
}

// A rejected input: the error must say what is wrong (and the CLI prints it).
size_t CheckError(const eventsift::Status& s) {
  if (s.ok() || s.message().empty()) __builtin_trap();
  return Touch(s.ToString());
}

size_t Classify(const cr::BuildCatalog& catalog, const cr::ExchangeVersion& v) {
  const eventsift::ExchangeBuildInfo info = catalog.Classify(v);
  return Touch(info) + Touch(catalog.Remediation(v, info)) + Touch(cr::FormatExchangeVersion(v));
}

const cr::BuildCatalog& DefaultCatalog() {
  // The shipped data/exchange-builds.csv, loaded once; it must load.
  static const std::shared_ptr<const cr::BuildCatalog> catalog = cr::DefaultBuildCatalog();
  if (!catalog) __builtin_trap();
  return *catalog;
}

// A build list error names its line, but for the two about the whole file.
bool NamesLineOrWholeFile(const eventsift::Status& s) {
  const std::string_view m = s.message();
  return (s.where() != nullptr && s.where()->line > 0) ||
         m.find("no header and no rows") != std::string_view::npos ||
         m.find("classification needs the March 2023 SU") != std::string_view::npos;
}

size_t FuzzBuildList(std::string_view text) {
  auto parsed = cr::BuildCatalog::Parse(text, "fuzz-builds.csv");
  if (!parsed) {
    if (!NamesLineOrWholeFile(parsed.error())) __builtin_trap();
    return CheckError(parsed.error());
  }
  const cr::BuildCatalog& catalog = parsed.value();
  size_t sum = Touch(catalog.path()) + Touch(catalog.march_2023_date());
  for (const cr::BuildRow& row : catalog.rows()) {
    sum += Touch(row.Name()) + Touch(row.released) + Touch(row.kb) + Touch(row.source) + row.line;
    // The row itself, a CU-only reading of it and its neighbours on every
    // axis, so the between-rows and below-the-first-CU branches run too.
    cr::ExchangeVersion v = row.version;
    sum += Classify(catalog, v);
    v.revision_known = false;
    sum += Classify(catalog, v);
    for (int d : {-1, 1}) {
      cr::ExchangeVersion n = row.version;
      n.revision += d;
      sum += Classify(catalog, n);
      n = row.version;
      n.build += d;
      sum += Classify(catalog, n);
      n = row.version;
      n.minor += d;
      sum += Classify(catalog, n);
    }
  }
  return sum;
}

std::string ToUtf16Le(std::string_view text) {
  std::string out = "\xFF\xFE";
  for (char c : text) {
    out.push_back(c);
    out.push_back('\0');
  }
  return out;
}

size_t FuzzInventory(std::string_view text, bool utf16) {
  const std::string wide = utf16 ? ToUtf16Le(text) : std::string();
  auto parsed = cr::ParseInventory(utf16 ? std::string_view(wide) : text, "fuzz-inventory");
  if (!parsed) return CheckError(parsed.error());
  size_t sum = 0;
  for (const cr::InventoryEntry& e : parsed.value()) {
    sum += Touch(e.host) + Touch(cr::NormalizeHostName(e.host)) + Touch(e.source);
    sum += Classify(DefaultCatalog(), e.version);
  }
  return sum;
}

size_t FuzzVersion(std::string_view text) {
  size_t sum = 0;
  if (auto strict = cr::ParseExchangeVersion(text))
    sum += Touch(cr::FormatExchangeVersion(*strict));
  auto parsed = cr::ParseExchangeVersionText(text);
  if (!parsed) return sum + CheckError(parsed.error());
  return sum + Classify(DefaultCatalog(), parsed.value()) +
         Touch(cr::ClassifyExchangeBuild(parsed.value()));
}

size_t FuzzHosts(std::string_view text) {
  std::vector<std::string> names;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    names.push_back(cr::NormalizeHostName(text.substr(0, nl)));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  size_t sum = 0;
  for (bool merge : {false, true}) {
    cr::HostResolver resolver(merge);
    for (const std::string& n : names) {
      for (char c : n) {
        if (c >= 'A' && c <= 'Z') __builtin_trap();  // the key is lower case
      }
      resolver.See(n);
    }
    for (size_t i = 0; i < names.size(); ++i) {
      sum += Touch(resolver.Resolve(names[i]));
      if (i % 2 == 0) resolver.Freeze(names[i]);
    }
  }
  return sum;
}

size_t FuzzCveList(std::string_view text) {
  size_t sum = 0;
  for (const std::string& id : cr::ExtractMitigationIds(text)) sum += Touch(id);
  auto parsed = cr::CveCatalog::Parse(text, "fuzz-cves.csv");
  if (!parsed) return sum + CheckError(parsed.error());
  const cr::CveCatalog& catalog = parsed.value();
  for (const cr::CveEntry* e : catalog.Ordered()) {
    sum += Touch(e->id) + Touch(e->title) + Touch(e->disclosed) + Touch(e->kev_added);
    for (const cr::CveFix& fix : e->fixes) {
      for (int d : {-1, 0, 1}) {
        cr::ExchangeVersion v = fix.build;
        v.revision += d;
        const cr::FixCheck check = cr::CveCatalog::CheckFix(*e, v);
        sum += static_cast<size_t>(check.state) + Touch(check.detail);
        const eventsift::ExchangeBuildInfo info = DefaultCatalog().Classify(v);
        sum += Touch(cr::AnswerForBuild(*e, v, info).text);
        cr::HostCveInput in;
        in.build = info;
        in.eems_errors = d == 1;
        in.eems_failing = d == 1;
        in.mitigations.push_back({e->eems_mitigation + ".1.0", 0, "fuzz"});
        const cr::CveVerdict verdict = cr::JudgeCve(*e, in);
        sum += Touch(verdict.text) + Touch(verdict.evidence) + Touch(verdict.exposed_from) +
               Touch(cr::CveRemediation(*e, verdict.kind));
      }
    }
  }
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t selector = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t sum = 0;
  switch ((selector & 0x7F) % 6) {
    case 0:
      sum = FuzzBuildList(text);
      break;
    case 1:
    case 2:
      sum = FuzzInventory(text, (selector & 0x80) != 0);
      break;
    case 3:
      sum = FuzzVersion(text);
      break;
    case 4:
      sum = FuzzHosts(text);
      break;
    default:
      sum = FuzzCveList(text);
      break;
  }
  g_sink = sum;
  return 0;
}
