#include "src/correlate/cve_verdict.h"

#include <algorithm>

#include <fmt/format.h>

namespace eventsift::correlate {

EemsFailing DecideEemsFailing(uint64_t successes, FileTime first_error, FileTime last_success,
                              FileTime error_after_success) {
  if (successes == 0 || last_success == 0 || error_after_success != 0 || first_error == 0) {
    return {true, error_after_success != 0 ? error_after_success : first_error};
  }
  return {};  // every error came before the last success
}

void NoteAppliedMitigation(AppliedMitigation m, std::vector<AppliedMitigation>* to) {
  for (auto& have : *to) {
    if (have.id != m.id) continue;
    if (m.time != 0 && (have.time == 0 || m.time < have.time)) have = std::move(m);
    return;
  }
  to->push_back(std::move(m));
}

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

std::string Time(FileTime t) { return FormatRfc3339(t, 0); }

// The disclosure date as a time (midnight UTC), 0 if it cannot be read.
FileTime DateTime(const std::string& date) {
  return ParseEventTime(date + "T00:00:00Z").value_or(0);
}

// The applied mitigation covering `want`: the earliest timed one, else one
// from the inventory; null when none.
const AppliedMitigation* Covering(const std::vector<AppliedMitigation>& applied,
                                  std::string_view want) {
  const AppliedMitigation* best = nullptr;
  for (const AppliedMitigation& m : applied) {
    if (!MitigationCovers(m.id, want)) continue;
    if (best == nullptr || (m.time != 0 && (best->time == 0 || m.time < best->time))) best = &m;
  }
  return best;
}

std::string EemsEvidence(const HostCveInput& in) {
  if (!in.in_logs) return "Only the inventory lists this server: no EEMS events were scanned.";
  if (in.eems_errors == 0 && in.eems_successes == 0) {
    return "No EEMS event (1005, 1006 or 1008) in the scanned logs.";
  }
  std::string s = fmt::format("EEMS: {} error(s) (1008), {} success(es) (1005/1006)",
                              in.eems_errors, in.eems_successes);
  if (in.last_success != 0) s += fmt::format(", last success {}", Time(in.last_success));
  if (in.eems_failing && in.failing_since != 0) {
    s += fmt::format(", failing since {}", Time(in.failing_since));
  }
  return s + ".";
}

}  // namespace

std::vector<std::string> ExtractMitigationIds(std::string_view text) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c != 'M' && c != 'm') || (i > 0 && IsWordChar(text[i - 1]))) continue;
    size_t j = i + 1;
    if (j >= text.size() || !IsDigit(text[j])) continue;
    while (j < text.size() && IsDigit(text[j])) ++j;
    // ".1", ".0", ".x" parts.
    while (j + 1 < text.size() && text[j] == '.' &&
           (IsDigit(text[j + 1]) || text[j + 1] == 'x' || text[j + 1] == 'X')) {
      if (IsDigit(text[j + 1])) {
        j += 1;
        while (j < text.size() && IsDigit(text[j])) ++j;
      } else {
        j += 2;
      }
    }
    if (j < text.size() && IsWordChar(text[j])) {
      i = j;  // "M21a", "M2.1.xyz": not an id
      continue;
    }
    std::string id(text.substr(i, j - i));
    for (char& ch : id) {
      if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    }
    if (id.size() > 2 && id.back() == 'X' && id[id.size() - 2] == '.') id.back() = 'x';
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(std::move(id));
    i = j - 1;
  }
  return out;
}

std::vector<std::string> MitigationIdsOfEvent(const OwnedEvent& e) {
  std::vector<std::string> out = ExtractMitigationIds(e.message);
  for (const auto& [name, value] : e.data) {
    for (auto& id : ExtractMitigationIds(value)) {
      if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(std::move(id));
    }
  }
  return out;
}

bool MitigationCovers(std::string_view seen, std::string_view want) {
  if (want.empty() || seen.size() < want.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    const auto up = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; };
    if (up(seen[i]) != up(want[i])) return false;
  }
  return seen.size() == want.size() || seen[want.size()] == '.';
}

std::string_view CveVerdictCode(CveVerdictKind k) {
  switch (k) {
    case CveVerdictKind::kPatched:
      return "patched";
    case CveVerdictKind::kMitigated:
      return "mitigated";
    case CveVerdictKind::kExposedCannotFetch:
      return "exposed_eems_cannot_fetch";
    case CveVerdictKind::kExposedFailing:
      return "exposed_eems_failing";
    case CveVerdictKind::kExposedSilent:
      return "exposed_eems_silent";
    case CveVerdictKind::kExposedNotFixed:
      return "exposed_not_fixed";
    case CveVerdictKind::kUnknown:
      break;
  }
  return "unknown";
}

bool IsExposed(CveVerdictKind k) {
  return k == CveVerdictKind::kExposedCannotFetch || k == CveVerdictKind::kExposedFailing ||
         k == CveVerdictKind::kExposedSilent || k == CveVerdictKind::kExposedNotFixed;
}

CveVerdict JudgeCve(const CveEntry& cve, const HostCveInput& in) {
  CveVerdict v;
  v.cve = &cve;
  // The fix: from the build, when one is known.
  FixCheck fix;
  if (in.build) {
    auto parsed = ParseExchangeVersion(in.build->version);
    if (parsed) {
      // Get-ExchangeServer's AdminDisplayVersion names the CU only; the
      // classification says so in its reason (build_catalog.cc).
      parsed->revision_known = !in.build->reason.starts_with("Only the CU is known");
      fix = CveCatalog::CheckFix(cve, *parsed);
    } else {
      fix.detail = fmt::format("The build \"{}\" cannot be read.", in.build->version);
    }
    fix.detail = fmt::format("Build {} ({}; from {}): {}", in.build->version, in.build->product,
                             in.build->source.empty() ? "events" : in.build->source, fix.detail);
  } else {
    fix.detail = "No build is known for this server (no 4999 event, no inventory row).";
  }
  const std::string eems = EemsEvidence(in);
  if (fix.state == FixState::kFixed) {
    v.kind = CveVerdictKind::kPatched;
    v.text = "patched";
    v.evidence = fix.detail;
    return v;
  }
  const FileTime disclosed = DateTime(cve.disclosed);
  if (!cve.eems_mitigation.empty()) {
    if (const AppliedMitigation* m = Covering(in.mitigations, cve.eems_mitigation)) {
      v.kind = CveVerdictKind::kMitigated;
      v.mitigation_id = m->id;
      v.since = m->time;
      if (m->time != 0) {
        v.text = fmt::format("mitigated since {}", Time(m->time));
        if (disclosed != 0 && m->time > disclosed) v.exposed_from = cve.disclosed;
      } else {
        v.text = "mitigated (inventory)";
      }
      v.evidence = fmt::format(
          "{} {} covers {} ({}){}. {}", m->source, m->id, cve.id, cve.eems_mitigation,
          v.exposed_from.empty()
              ? std::string()
              : fmt::format("; exposed from the disclosure ({}) until then", cve.disclosed),
          fix.detail);
      return v;
    }
  }
  if (fix.state == FixState::kUnknown) {
    v.kind = CveVerdictKind::kUnknown;
    v.text = "unknown";
    v.evidence = fmt::format("{} {}", fix.detail, eems);
    return v;
  }
  // Not fixed, not mitigated.
  v.exposed_from = cve.disclosed;
  if (cve.eems_mitigation.empty()) {
    v.kind = CveVerdictKind::kExposedNotFixed;
    v.text = "exposed: build not fixed";
    v.evidence = fmt::format("{} EEMS has no mitigation for {}.", fix.detail, cve.id);
    return v;
  }
  if (in.build && in.build->eems_mitigations == EemsMitigations::kNo) {
    v.kind = CveVerdictKind::kExposedCannotFetch;
    v.text = "exposed: EEMS cannot fetch (build older than March 2023)";
    v.evidence = fmt::format("{} {} {}", fix.detail, in.build->reason, eems);
    return v;
  }
  if (!in.in_logs) {
    v.kind = CveVerdictKind::kUnknown;
    v.text = "unknown";
    v.exposed_from.clear();
    v.evidence = fmt::format("{} {} Whether {} was applied cannot be told from logs.", fix.detail,
                             eems, cve.eems_mitigation);
    return v;
  }
  if (in.eems_failing) {
    v.kind = CveVerdictKind::kExposedFailing;
    v.since = in.failing_since;
    v.text = in.failing_since != 0
                 ? fmt::format("exposed: EEMS failing since {}", Time(in.failing_since))
                 : "exposed: EEMS failing";
    v.evidence =
        fmt::format("{} {} No success event named {}.", fix.detail, eems, cve.eems_mitigation);
    return v;
  }
  if (in.eems_errors == 0 && in.eems_successes == 0) {
    v.kind = CveVerdictKind::kExposedSilent;
    v.text = "exposed: no mitigation seen, EEMS silent";
    v.evidence = fmt::format("{} {}", fix.detail, eems);
    return v;
  }
  // EEMS works but no success event named the mitigation: the event text may
  // not carry the id, so this is not proof either way.
  v.kind = CveVerdictKind::kUnknown;
  v.text = "unknown";
  v.exposed_from.clear();
  v.evidence = fmt::format(
      "{} {} EEMS works, but no success event named {}: check with Get-Mitigations.ps1.",
      fix.detail, eems, cve.eems_mitigation);
  return v;
}

std::vector<CveVerdict> JudgeCves(const CveCatalog& catalog, const HostCveInput& in) {
  std::vector<CveVerdict> out;
  for (const CveEntry* e : catalog.Ordered()) out.push_back(JudgeCve(*e, in));
  return out;
}

BuildCveAnswer AnswerForBuild(const CveEntry& cve, const ExchangeVersion& v,
                              const ExchangeBuildInfo& info) {
  const FixCheck fix = CveCatalog::CheckFix(cve, v);
  if (fix.state == FixState::kFixed) return {"fixed", "fixed: " + fix.detail};
  const std::string fix_text =
      fix.state == FixState::kUnknown ? "fix unknown: " + fix.detail : "not fixed: " + fix.detail;
  if (cve.eems_mitigation.empty()) {
    return {fix.state == FixState::kUnknown ? "unknown" : "cannot",
            fmt::format("{} EEMS has no mitigation for it.", fix_text)};
  }
  switch (info.eems_mitigations) {
    case EemsMitigations::kYes:
      return {
          "eems_can_mitigate",
          fmt::format("EEMS can mitigate it ({}), if it can reach the Office Config Service; {}",
                      cve.eems_mitigation, fix_text)};
    case EemsMitigations::kNo:
      return {fix.state == FixState::kUnknown ? "unknown" : "cannot",
              fmt::format("EEMS cannot mitigate it on this build (older than March 2023, or no "
                          "EEMS); {} Only EOMT.ps1 -CVE {} can.",
                          fix_text, cve.id)};
    case EemsMitigations::kUnknown:
      break;
  }
  return {"unknown", fmt::format("whether EEMS can fetch {} is unknown for this build; {}",
                                 cve.eems_mitigation, fix_text)};
}

std::string CveRemediation(const CveEntry& cve, CveVerdictKind kind) {
  std::string s = fmt::format(
      "Install the security update that fixes {} for this CU (for Exchange 2016 and 2019 after "
      "their end of support, through the Extended Security Update programme), or move to a CU "
      "that has one.",
      cve.id);
  if (cve.eems_mitigation.empty()) return s;
  s += fmt::format(
      " Until then apply mitigation {} with the Exchange On-premises Mitigation Tool "
      "(EOMT.ps1 -CVE \"{}\", https://aka.ms/UnifiedEOMT).",
      cve.eems_mitigation, cve.id);
  if (kind == CveVerdictKind::kExposedCannotFetch) {
    s += " EEMS on this build cannot fetch mitigations: update past the March 2023 SU.";
  } else {
    s += " For EEMS to apply it, allow outbound HTTPS from the Mailbox servers to the "
         "Office Config Service (officeclient.microsoft.com), without TLS inspection, and check "
         "with Test-MitigationServiceConnectivity.ps1.";
  }
  return s;
}

}  // namespace eventsift::correlate
