#include "src/detect/sigma_correlation.h"

#include <cmath>
#include <map>

#include <fmt/format.h>

#include "src/detect/rule.h"

namespace eventsift::detect {

namespace {

constexpr std::pair<SigmaCorrelationType, std::string_view> kTypeNames[] = {
    {SigmaCorrelationType::kEventCount, "event_count"},
    {SigmaCorrelationType::kValueCount, "value_count"},
    {SigmaCorrelationType::kTemporal, "temporal"},
    {SigmaCorrelationType::kTemporalOrdered, "temporal_ordered"},
    {SigmaCorrelationType::kValueSum, "value_sum"},
    {SigmaCorrelationType::kValueAvg, "value_avg"},
    {SigmaCorrelationType::kValuePercentile, "value_percentile"},
};

// 100 and 2.5 print as written, not as 100.000000.
std::string Number(double v) { return fmt::format("{}", v); }

}  // namespace

std::string_view SigmaCorrelationTypeName(SigmaCorrelationType type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "unknown";
}

std::optional<SigmaCorrelationType> SigmaCorrelationTypeFromName(std::string_view name) {
  for (const auto& [t, n] : kTypeNames) {
    if (n == name) return t;
  }
  return std::nullopt;
}

bool SigmaCondition::Holds(double v) const {
  if (gt && !(v > *gt)) return false;
  if (gte && !(v >= *gte)) return false;
  if (lt && !(v < *lt)) return false;
  if (lte && !(v <= *lte)) return false;
  if (eq && !(v == *eq)) return false;
  if (neq && !(v != *neq)) return false;
  return true;
}

std::string SigmaCondition::ToString() const {
  std::string out;
  auto add = [&](const char* op, const std::optional<double>& bound) {
    if (!bound) return;
    if (!out.empty()) out += " and ";
    out += fmt::format("{} {}", op, Number(*bound));
  };
  add("gt", gt);
  add("gte", gte);
  add("lt", lt);
  add("lte", lte);
  add("eq", eq);
  add("neq", neq);
  return out;
}

const std::string& SigmaCorrelation::Key() const {
  if (!id.empty()) return id;
  if (!name.empty()) return name;
  return title;
}

SigmaResolution ResolveSigmaCorrelations(const std::vector<SigmaCorrelation>& correlations,
                                         const std::vector<SigmaRuleRef>& base) {
  const size_t n = correlations.size();
  SigmaResolution res;
  res.accepted.assign(n, false);
  res.refs.resize(n);
  // An id names one rule (RuleSet refuses duplicates); a name shared by
  // several rules names none of them. Ids win over names.
  constexpr uint32_t kAmbiguous = UINT32_MAX;
  std::map<std::string, uint32_t> base_by_ref;
  for (uint32_t b = 0; b < base.size(); ++b) {
    if (!base[b].name.empty()) {
      auto [it, inserted] = base_by_ref.emplace(base[b].name, b);
      if (!inserted) it->second = kAmbiguous;
    }
  }
  for (uint32_t b = 0; b < base.size(); ++b) {
    if (!base[b].id.empty()) base_by_ref[base[b].id] = b;
  }
  std::vector<std::string> error(n);
  std::map<std::string, uint32_t> corr_by_ref;
  for (uint32_t c = 0; c < n; ++c) {
    for (const std::string* ref : {&correlations[c].id, &correlations[c].name}) {
      if (ref->empty()) continue;
      auto [it, inserted] = corr_by_ref.emplace(*ref, c);
      if (!inserted && it->second != c && error[c].empty()) {
        error[c] = fmt::format("'{}' is already defined at {}:{}", *ref,
                               correlations[it->second].file, correlations[it->second].line);
      } else if (inserted && base_by_ref.contains(*ref) && error[c].empty()) {
        error[c] = fmt::format("'{}' is also the id or name of a rule", *ref);
      }
    }
  }
  for (uint32_t c = 0; c < n; ++c) {
    for (const std::string& ref : correlations[c].rules) {
      if (auto b = base_by_ref.find(ref); b != base_by_ref.end()) {
        if (b->second == kAmbiguous && error[c].empty()) {
          error[c] = fmt::format("'rules' names '{}', the name of more than one rule", ref);
        }
        res.refs[c].push_back(SigmaRef{false, b->second});
      } else if (auto k = corr_by_ref.find(ref); k != corr_by_ref.end()) {
        res.refs[c].push_back(SigmaRef{true, k->second});
        if (k->second == c && error[c].empty()) {
          error[c] = fmt::format("it names itself ('{}') in 'rules'", ref);
        }
      } else if (error[c].empty()) {
        error[c] = fmt::format("'rules' names '{}', which is no loaded rule id or name", ref);
      }
    }
  }
  // A correlation is accepted once everything it names is; refusal spreads
  // to the correlations naming a refused one; what stays undecided is a cycle.
  std::vector<int> state(n, 0);  // 0 undecided, 1 accepted, 2 refused
  for (size_t c = 0; c < n; ++c) {
    if (!error[c].empty()) state[c] = 2;
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t c = 0; c < n; ++c) {
      if (state[c] != 0) continue;
      bool ready = true;
      for (const SigmaRef& r : res.refs[c]) {
        if (!r.correlation) continue;
        if (state[r.index] == 2) {
          state[c] = 2;
          error[c] = fmt::format("it names correlation '{}', which was refused",
                                 correlations[r.index].Key());
          break;
        }
        if (state[r.index] == 0) ready = false;
      }
      if (state[c] == 0 && ready) state[c] = 1;
      changed = changed || state[c] != 0;
    }
  }
  for (size_t c = 0; c < n; ++c) {
    if (state[c] == 0) error[c] = "its 'rules' form a cycle of correlations";
    res.accepted[c] = state[c] == 1;
    if (res.accepted[c]) continue;
    res.refused.push_back(
        Status::InvalidArgument(
            fmt::format("correlation '{}' refused: {}", correlations[c].Key(), error[c]))
            .At(correlations[c].file, Where::kNone, static_cast<uint64_t>(correlations[c].line)));
  }
  return res;
}

std::optional<int64_t> ParseSigmaTimespan(std::string_view text) {
  // The specification's form only: digits, then one lower-case unit (the
  // rule format's ParseDuration also takes "1h30m" and a bare number).
  if (text.size() < 2 || text[0] < '1' || text[0] > '9') return std::nullopt;
  if (std::string_view("smhd").find(text.back()) == std::string_view::npos) return std::nullopt;
  for (char ch : text.substr(0, text.size() - 1)) {
    if (ch < '0' || ch > '9') return std::nullopt;
  }
  return ParseDuration(text);
}

}  // namespace eventsift::detect
