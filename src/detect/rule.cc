#include "src/detect/rule.h"

#include <charconv>
#include <limits>

namespace eventsift::detect {

namespace {

struct NamedField {
  std::string_view name;
  FieldKind kind;
};

// The table behind ParseFieldRef and FieldRef::ToString; docs/rules.md and
// schemas/rule.schema.json list the same names.
constexpr NamedField kNamedFields[] = {
    {"provider", FieldKind::kProvider},
    {"provider_guid", FieldKind::kProviderGuid},
    {"channel", FieldKind::kChannel},
    {"computer", FieldKind::kComputer},
    {"user_sid", FieldKind::kUserSid},
    {"message", FieldKind::kMessage},
    {"event_id", FieldKind::kEventId},
    {"level", FieldKind::kLevel},
    {"task", FieldKind::kTask},
    {"opcode", FieldKind::kOpcode},
    {"keywords", FieldKind::kKeywords},
    {"record_id", FieldKind::kRecordId},
    {"data.*", FieldKind::kDataAny},
    {"message|data.*", FieldKind::kMessageOrDataAny},
    {"any", FieldKind::kMessageOrDataAny},
};

constexpr std::string_view kDataPrefix = "data.";

}  // namespace

std::string FieldRef::ToString() const {
  if (kind == FieldKind::kDataNamed) return std::string(kDataPrefix) + data_name;
  for (const auto& f : kNamedFields) {
    if (f.kind == kind) return std::string(f.name);
  }
  return "?";
}

std::optional<FieldRef> ParseFieldRef(std::string_view name) {
  for (const auto& f : kNamedFields) {
    if (f.name == name) return FieldRef{f.kind, {}};
  }
  if (name.starts_with(kDataPrefix) && name.size() > kDataPrefix.size()) {
    std::string_view data_name = name.substr(kDataPrefix.size());
    // "data.*x" or "data.a*" would suggest globbing, which we do not do.
    if (data_name.find('*') != std::string_view::npos) return std::nullopt;
    return FieldRef{FieldKind::kDataNamed, std::string(data_name)};
  }
  return std::nullopt;
}

std::optional<uint8_t> LevelFromName(std::string_view name) {
  std::string lower = AsciiLower(name);
  struct LevelName {
    std::string_view name;
    uint8_t level;
  };
  static constexpr LevelName kLevels[] = {
      {"logalways", 0},   {"critical", 1}, {"error", 2},         {"warning", 3},
      {"information", 4}, {"info", 4},     {"informational", 4}, {"verbose", 5},
  };
  for (const auto& l : kLevels) {
    if (l.name == lower) return l.level;
  }
  return std::nullopt;
}

std::optional<int64_t> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), n);
    if (ec != std::errc() || n < 0) return std::nullopt;
    pos = static_cast<size_t>(end - text.data());
    int64_t unit = 1;
    if (pos < text.size()) {
      switch (text[pos]) {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        default:
          return std::nullopt;
      }
      ++pos;
    } else if (start != 0) {
      return std::nullopt;  // "1h30": a bare number only stands alone
    }
    // Bound durations to ~100 years so later arithmetic cannot overflow.
    constexpr int64_t kMaxSeconds = 100LL * 366 * 86400;
    if (n > kMaxSeconds / unit || total + n * unit > kMaxSeconds) return std::nullopt;
    total += n * unit;
  }
  return total;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = LowerAscii(c);
  return out;
}

bool EqualsLowered(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (LowerAscii(s[i]) != lower[i]) return false;
  }
  return true;
}

}  // namespace eventsift::detect
