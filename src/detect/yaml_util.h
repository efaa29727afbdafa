#pragma once
// Small helpers shared by the YAML rule readers (our format, Sigma
// correlations): where a node is, and lists of allowed names in errors.

#include <span>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

namespace eventsift::detect {

// 1-based line of a node, or 0 when yaml-cpp has none (null mark).
inline int LineOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

// "a, b, c"
inline std::string Join(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

}  // namespace eventsift::detect
