#include "src/correlate/inventory.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <limits>
#include <optional>
#include <span>
#include <sstream>

#include <fmt/format.h>
#include <simdjson.h>

#include "src/core/utf16.h"
#include "src/correlate/csv_line.h"
#include "src/correlate/cve_verdict.h"

namespace eventsift::correlate {

namespace ondemand = simdjson::ondemand;

namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

bool IsAnyOf(std::string_view key, std::initializer_list<std::string_view> names) {
  return std::any_of(names.begin(), names.end(),
                     [&](std::string_view n) { return EqualsNoCase(key, n); });
}

bool IsMitigationsKey(std::string_view key) {
  return IsAnyOf(key, {"mitigations", "MitigationsApplied"});
}

Result<std::vector<InventoryEntry>> ParseCsv(std::string_view text, const std::string& path) {
  std::vector<InventoryEntry> entries;
  bool header_allowed = true;
  size_t mitigations_column = 0;  // 0: none (column 0 is the host)
  Status status = ForEachCsvLine(text, [&](uint64_t line_no, std::string_view line) -> Status {
    std::vector<std::string> fields = SplitCsvLine(line);
    const std::string_view host = fields.size() >= 2 ? TrimCsv(fields[0]) : std::string_view();
    auto version = fields.size() >= 2 ? ParseExchangeVersionText(fields[1])
                                      : Result<ExchangeVersion>(Status::InvalidArgument(
                                            "expected two columns, host and build"));
    // The first row may be a header ("Name","AdminDisplayVersion").
    const bool header = header_allowed && !version;
    header_allowed = false;
    if (header) {
      for (size_t i = 1; i < fields.size(); ++i) {
        if (IsMitigationsKey(TrimCsv(fields[i]))) mitigations_column = i;
      }
      return Status::OK();
    }
    if (host.empty() || !version) {
      const std::string why =
          !version ? std::string(version.error().message()) : std::string("the host is empty");
      return Status::InvalidArgument(
                 fmt::format("inventory: expected \"host,build\", got \"{}\": {}", line, why))
          .At(path, Where::kNone, line_no);
    }
    InventoryEntry entry{
        std::string(host), version.value(), fmt::format("inventory {}:{}", path, line_no), {}};
    if (mitigations_column != 0 && mitigations_column < fields.size()) {
      entry.mitigations = ExtractMitigationIds(fields[mitigations_column]);
    }
    entries.push_back(std::move(entry));
    return Status::OK();
  });
  if (!status.ok()) return status;
  return entries;
}

// A JSON build value: a string, or an object with Major/Minor/Build/Revision
// numbers (ServerVersion as ConvertTo-Json writes it) or a "value" string.
Result<ExchangeVersion> ReadBuild(ondemand::value& v, bool cu_only) {
  ondemand::json_type type;
  if (auto ec = v.type().get(type)) return Status::InvalidArgument(simdjson::error_message(ec));
  if (type == ondemand::json_type::string) {
    std::string_view s;
    if (auto ec = v.get_string().get(s))
      return Status::InvalidArgument(simdjson::error_message(ec));
    return ParseExchangeVersionText(s);
  }
  if (type != ondemand::json_type::object) {
    return Status::InvalidArgument("the build is neither a string nor an object");
  }
  ondemand::object object;
  if (auto ec = v.get_object().get(object))
    return Status::InvalidArgument(simdjson::error_message(ec));
  std::optional<uint64_t> parts[4];  // Major, Minor, Build, Revision
  std::optional<std::string> text;
  for (auto member : object) {
    ondemand::field field;
    if (auto ec = std::move(member).get(field))
      return Status::InvalidArgument(simdjson::error_message(ec));
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key))
      return Status::InvalidArgument(simdjson::error_message(ec));
    constexpr std::string_view kParts[] = {"Major", "Minor", "Build", "Revision"};
    for (size_t i = 0; i < 4; ++i) {
      uint64_t n = 0;
      if (EqualsNoCase(key, kParts[i]) && !field.value().get_uint64().get(n)) parts[i] = n;
    }
    std::string_view s;
    if (EqualsNoCase(key, "value") && !field.value().get_string().get(s)) text = std::string(s);
  }
  if (text) return ParseExchangeVersionText(*text);
  for (const auto& p : parts) {
    if (!p || *p > std::numeric_limits<uint32_t>::max()) {
      return Status::InvalidArgument(
          "the build object needs Major, Minor, Build and Revision numbers or a \"value\" string");
    }
  }
  const std::string dotted = fmt::format("{}.{}.{}.{}", *parts[0], *parts[1], *parts[2], *parts[3]);
  auto parsed = ParseExchangeVersionText(dotted);
  if (!parsed) return parsed.error();
  ExchangeVersion version = parsed.value();
  // AdminDisplayVersion's Revision is the CU's, not the SU's.
  version.revision_known = !cu_only;
  return version;
}

// One JSON object; `line` is where it starts.
Status ReadEntry(ondemand::object& object, const std::string& path, uint64_t line, size_t index,
                 std::vector<InventoryEntry>* out) {
  const auto bad = [&](std::string why) {
    return Status::InvalidArgument(fmt::format("inventory: entry {}: {}", index, why))
        .At(path, Where::kNone, line);
  };
  std::string host;
  int host_rank = 0;  // host > fqdn > name
  std::optional<Result<ExchangeVersion>> build;
  std::vector<std::string> mitigations;
  for (auto member : object) {
    ondemand::field field;
    if (auto ec = std::move(member).get(field)) return bad(simdjson::error_message(ec));
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key)) return bad(simdjson::error_message(ec));
    const int rank = EqualsNoCase(key, "host")   ? 3
                     : EqualsNoCase(key, "fqdn") ? 2
                     : EqualsNoCase(key, "name") ? 1
                                                 : 0;
    if (rank > host_rank) {
      std::string_view s;
      if (field.value().get_string().get(s) != simdjson::SUCCESS) {
        return bad(fmt::format("\"{}\" is not a string", key));
      }
      host = TrimCsv(s);
      host_rank = rank;
      continue;
    }
    if (IsMitigationsKey(key)) {
      // A string ("M1.1.0, M2.1.0") or an array of strings; ids are found leniently.
      ondemand::value value = field.value();
      std::string_view s;
      ondemand::array items;
      if (value.get_string().get(s) == simdjson::SUCCESS) {
        mitigations = ExtractMitigationIds(s);
      } else if (value.get_array().get(items) == simdjson::SUCCESS) {
        for (auto item : items) {
          if (item.get_string().get(s) != simdjson::SUCCESS) {
            return bad(fmt::format("\"{}\" holds a non-string", key));
          }
          for (auto& id : ExtractMitigationIds(s)) mitigations.push_back(std::move(id));
        }
      } else {
        // is_null() reports malformed JSON as an error; taken as a bool it
        // would throw.
        bool is_null = false;
        if (value.is_null().get(is_null) != simdjson::SUCCESS || !is_null) {
          return bad(fmt::format("\"{}\" is neither a string nor an array of strings", key));
        }
      }
      continue;
    }
    if (!build && IsAnyOf(key, {"build", "version", "AdminDisplayVersion"})) {
      ondemand::value value = field.value();
      build = ReadBuild(value, EqualsNoCase(key, "AdminDisplayVersion"));
    }
  }
  if (host.empty()) return bad("no host (a \"host\", \"fqdn\" or \"name\" string)");
  if (!build) return bad("no build (a \"build\", \"version\" or \"AdminDisplayVersion\" value)");
  if (!*build) return bad(std::string(build->error().message()));
  out->push_back(InventoryEntry{std::move(host), build->value(),
                                fmt::format("inventory {}:{}", path, line),
                                std::move(mitigations)});
  return Status::OK();
}

Result<std::vector<InventoryEntry>> ParseJson(std::string_view text, const std::string& path) {
  const simdjson::padded_string padded(text);
  ondemand::parser parser;
  ondemand::document doc;
  // Entries come in file order, so lines are counted on from where the last
  // count stopped: the text is scanned once. (Counting from the start for
  // every entry was quadratic: minutes for 100,000 entries.)
  const char* counted_to = padded.data();
  uint64_t line_at_counted = 1;
  const auto line_of = [&](const char* at) {
    const char* end = padded.data() + std::min<size_t>(at - padded.data(), padded.size());
    if (end < counted_to) {  // not in order after all: count from the start
      counted_to = padded.data();
      line_at_counted = 1;
    }
    line_at_counted += static_cast<uint64_t>(std::count(counted_to, end, '\n'));
    counted_to = end;
    return line_at_counted;
  };
  // Names the line where the parser stopped; errors found before there is a
  // document to ask (stage 1: bad UTF-8, an unclosed string) name the file.
  bool have_doc = false;
  const auto at_line = [&](Status s) {
    const char* at = nullptr;
    if (!have_doc || doc.current_location().get(at) != simdjson::SUCCESS || at == nullptr) {
      return std::move(s).At(path);
    }
    return std::move(s).At(path, Where::kNone, line_of(at));
  };
  const auto bad = [&](simdjson::error_code ec) {
    Status s = Status::InvalidArgument(
        fmt::format("inventory: not valid JSON: {}", simdjson::error_message(ec)));
    // simdjson finds an unclosed array or object at its start; the text
    // ended early, so name its last line (not the empty one after a final
    // newline) rather than the first.
    if (ec == simdjson::INCOMPLETE_ARRAY_OR_OBJECT) {
      const bool final_newline = !text.empty() && text.back() == '\n';
      return std::move(s).At(path, Where::kNone,
                             line_of(padded.data() + padded.size() - final_newline));
    }
    return at_line(std::move(s));
  };
  if (auto ec = parser.iterate(padded).get(doc)) return bad(ec);
  have_doc = true;
  std::vector<InventoryEntry> entries;
  // Each entry: its text first (for the line), then its fields.
  const auto read = [&](ondemand::value& item, size_t index) -> Status {
    ondemand::object object;
    if (auto ec = item.get_object().get(object)) {
      return at_line(Status::InvalidArgument(fmt::format("inventory: entry {} is not an object: {}",
                                                         index, simdjson::error_message(ec))));
    }
    std::string_view raw;
    if (auto ec = object.raw_json().get(raw)) return bad(ec);
    const uint64_t line = line_of(raw.data());
    bool ignored = false;
    if (auto ec = object.reset().get(ignored)) return bad(ec);
    return ReadEntry(object, path, line, index, &entries);
  };
  ondemand::json_type type;
  if (auto ec = doc.type().get(type)) return bad(ec);
  if (type == ondemand::json_type::array) {
    ondemand::array array;
    if (auto ec = doc.get_array().get(array)) return bad(ec);
    size_t index = 0;
    for (auto element : array) {
      ondemand::value item;
      if (auto ec = element.get(item)) return bad(ec);
      ES_RETURN_IF_ERROR(read(item, index++));
    }
  } else {
    // ConvertTo-Json writes a single server as an object, not an array.
    ondemand::value item;
    if (auto ec = doc.get_value().get(item)) return bad(ec);
    ES_RETURN_IF_ERROR(read(item, 0));
  }
  const char* rest = nullptr;
  if (!doc.current_location().get(rest)) {
    return Status::InvalidArgument("inventory: trailing content after the JSON value")
        .At(path, Where::kNone, line_of(rest));
  }
  return entries;
}

}  // namespace

Result<std::vector<InventoryEntry>> ParseInventory(std::string_view text, const std::string& path) {
  std::string utf8;
  if (text.starts_with("\xFF\xFE")) {
    // PowerShell 5.1's Out-File and Export-Csv -Encoding Unicode: UTF-16LE.
    text.remove_prefix(2);
    AppendUtf16LeAsUtf8(
        std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size() & ~size_t{1}), &utf8);
    text = utf8;
  } else if (text.starts_with("\xEF\xBB\xBF")) {
    text.remove_prefix(3);
  }
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (text[first] == '[' || text[first] == '{')) {
    return ParseJson(text, path);
  }
  return ParseCsv(text, path);
}

Result<std::vector<InventoryEntry>> LoadInventoryFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open inventory").At(path);
  std::ostringstream text;
  text << in.rdbuf();
  return ParseInventory(text.str(), path);
}

}  // namespace eventsift::correlate
