#include "parsers/json/property_names.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace eventsift::json {

// data/event-fields.tsv as text, generated into the build by CMake
// (event_fields_data.cc.in).
extern const char kEventFieldsTsv[];

namespace {

std::string Key(std::string_view provider, uint32_t event_id, uint32_t version, size_t count) {
  std::string key(provider);
  key += '\t';
  key += std::to_string(event_id);
  key += '\t';
  key += std::to_string(version);
  key += '\t';
  key += std::to_string(count);
  return key;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

bool ToUint(std::string_view s, uint32_t* out) {
  if (s.empty() || s.size() > 5) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  *out = v;
  return true;
}

using Table = std::unordered_map<std::string, std::vector<std::string_view>>;

// The file is ours and checked by a test; a malformed line is skipped
// rather than trusted.
Table Parse(std::string_view text) {
  Table table;
  for (std::string_view line : Split(text, '\n')) {
    if (line.empty() || line[0] == '#' || line.starts_with("provider\t")) continue;
    const std::vector<std::string_view> cols = Split(line, '\t');
    uint32_t id = 0, version = 0;
    if (cols.size() != 4 || !ToUint(cols[1], &id) || !ToUint(cols[2], &version)) continue;
    std::vector<std::string_view> names = Split(cols[3], ',');
    table.emplace(Key(cols[0], id, version, names.size()), std::move(names));
  }
  return table;
}

}  // namespace

std::span<const std::string_view> PropertyNamesFor(std::string_view provider, uint16_t event_id,
                                                   uint8_t version, size_t count) {
  static const Table table = Parse(kEventFieldsTsv);
  if (count == 0) return {};
  auto it = table.find(Key(provider, event_id, version, count));
  if (it == table.end()) return {};
  return it->second;
}

}  // namespace eventsift::json
