#include "src/detect/field_values.h"

#include <algorithm>

#include "src/detect/sigma_rule.h"

namespace eventsift::detect {

std::vector<std::pair<std::string, FieldRef>> RuleFields(const Rule& rule) {
  if (rule.sigma != nullptr) return rule.sigma->fields;
  std::vector<std::pair<std::string, FieldRef>> out;
  for (const FieldCondition& c : rule.match.fields) {
    // Multi-valued fields (data.*, any) would show an arbitrary value.
    if (c.field.kind == FieldKind::kDataAny || c.field.kind == FieldKind::kMessageOrDataAny) {
      continue;
    }
    std::string name = c.field.ToString();
    if (std::none_of(out.begin(), out.end(), [&](const auto& f) { return f.first == name; })) {
      out.emplace_back(std::move(name), c.field);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> FieldValuesOf(
    const std::vector<std::pair<std::string, FieldRef>>& fields, const Event& event) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& field : fields) {
    // Named, not a structured binding: clang 14 (the fuzz build) cannot
    // capture a binding in a lambda.
    const std::string& name = field.first;
    const FieldRef& ref = field.second;
    if (std::any_of(out.begin(), out.end(), [&](const auto& o) { return o.first == name; })) {
      continue;  // a Sigma name read under two logsource variants: the first found wins
    }
    ForEachFieldValue(event, ref, [&](std::string_view v) {
      if (v.empty()) return false;
      out.emplace_back(name, std::string(v));
      return true;
    });
  }
  return out;
}

}  // namespace eventsift::detect
