#include "src/correlate/exchange_build.h"

#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "src/correlate/build_catalog.h"

namespace eventsift::correlate {

namespace {

// Parses decimal digits at s[*pos] (1-9 digits), advancing *pos.
bool ParseNumber(std::string_view s, size_t* pos, uint32_t* out) {
  size_t i = *pos;
  uint32_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - *pos < 9) {
    v = v * 10 + static_cast<uint32_t>(s[i] - '0');
    ++i;
  }
  if (i == *pos || (i < s.size() && s[i] >= '0' && s[i] <= '9')) return false;
  *pos = i;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, std::string_view lit) {
  if (s.substr(*pos, lit.size()) != lit) return false;
  *pos += lit.size();
  return true;
}

// "15.1.2507.23" at s[*pos]; advances past it.
bool ParseDotted(std::string_view s, size_t* pos, ExchangeVersion* v) {
  size_t i = *pos;
  if (!ParseNumber(s, &i, &v->major) || !Expect(s, &i, ".") || !ParseNumber(s, &i, &v->minor) ||
      !Expect(s, &i, ".") || !ParseNumber(s, &i, &v->build) || !Expect(s, &i, ".") ||
      !ParseNumber(s, &i, &v->revision)) {
    return false;
  }
  v->revision_known = true;
  *pos = i;
  return true;
}

// "Version 15.1 (Build 2507.6)" at s[*pos]; advances past it.
bool ParseAdminDisplay(std::string_view s, size_t* pos, ExchangeVersion* v) {
  size_t i = *pos;
  if (!Expect(s, &i, "Version ") || !ParseNumber(s, &i, &v->major) || !Expect(s, &i, ".") ||
      !ParseNumber(s, &i, &v->minor) || !Expect(s, &i, " (Build ") ||
      !ParseNumber(s, &i, &v->build) || !Expect(s, &i, ".") || !ParseNumber(s, &i, &v->revision) ||
      !Expect(s, &i, ")")) {
    return false;
  }
  v->revision_known = false;
  *pos = i;
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// The first "Version 15.x (Build N.N)" inside `text`.
std::optional<ExchangeVersion> FindAdminDisplay(std::string_view text) {
  // "Version 15.1 " is at most "Version " + 9 + 1 + 9 + 1 bytes before
  // "(Build ": search only that window. An unbounded backward search made
  // text full of "(Build " and without "Version " quadratic (minutes for
  // 100 KB, a lists_fuzzer timeout).
  constexpr size_t kMaxBackUp = 28;
  constexpr std::string_view kVersion = "Version ";
  for (size_t at = text.find("(Build "); at != std::string_view::npos;
       at = text.find("(Build ", at + 1)) {
    const size_t from = at > kMaxBackUp ? at - kMaxBackUp : 0;
    const size_t found = text.substr(from, at - from + kVersion.size()).rfind(kVersion);
    if (found == std::string_view::npos) continue;
    size_t pos = from + found;
    ExchangeVersion v;
    if (ParseAdminDisplay(text, &pos, &v) && v.major == 15) return v;
  }
  return std::nullopt;
}

// The Exchange version among a Watson report's parameters:
// "... with parameters: E12, c-RTL-AMD64, 15.00.1104.005, w3wp#..., ...".
// The third parameter is the version; when the layout differs, the first
// dotted major-15 version anywhere in the text.
std::optional<ExchangeVersion> FindWatsonVersion(std::string_view text) {
  constexpr std::string_view kParams = "parameters: ";
  if (size_t p = text.find(kParams); p != std::string_view::npos) {
    size_t pos = p + kParams.size();
    for (int skip = 0; skip < 2 && pos != std::string_view::npos; ++skip) {
      pos = text.find(", ", pos);
      if (pos != std::string_view::npos) pos += 2;
    }
    ExchangeVersion v;
    if (pos != std::string_view::npos && ParseDotted(text, &pos, &v) && v.major == 15) return v;
  }
  for (size_t at = text.find("15."); at != std::string_view::npos; at = text.find("15.", at + 1)) {
    if (at > 0 && ((text[at - 1] >= '0' && text[at - 1] <= '9') || text[at - 1] == '.')) continue;
    size_t pos = at;
    ExchangeVersion v;
    if (ParseDotted(text, &pos, &v) &&
        (pos == text.size() || !(text[pos] == '.' || (text[pos] >= '0' && text[pos] <= '9')))) {
      return v;
    }
  }
  return std::nullopt;
}

bool ContainsExchange(std::string_view s) { return s.find("Exchange") != std::string_view::npos; }

}  // namespace

std::string FormatExchangeVersion(const ExchangeVersion& v) {
  return fmt::format("{}.{}.{}.{}", v.major, v.minor, v.build, v.revision);
}

std::optional<ExchangeVersion> ParseExchangeVersion(std::string_view text) {
  text = Trim(text);
  ExchangeVersion v;
  size_t pos = 0;
  if (ParseDotted(text, &pos, &v) && pos == text.size()) return v;
  pos = 0;
  if (ParseAdminDisplay(text, &pos, &v) && pos == text.size()) return v;
  return std::nullopt;
}

Result<ExchangeVersion> ParseExchangeVersionText(std::string_view raw) {
  const std::string_view text = Trim(raw);
  const auto error = [&](std::string_view why) {
    return Status::InvalidArgument(fmt::format("\"{}\" is not an Exchange version: {}", raw, why));
  };
  if (text.empty()) return error("the string is empty");
  // A run of 10+ digits cannot be one of the four numbers (uint32, and real
  // ones have at most 4 digits): say so rather than "no version found".
  size_t run = 0;
  for (char c : text) {
    run = (c >= '0' && c <= '9') ? run + 1 : 0;
    if (run > 9) return error("a number has more than 9 digits");
  }
  std::vector<ExchangeVersion> found;
  if (auto whole = ParseExchangeVersion(text)) {
    found.push_back(*whole);
  } else {
    if (auto admin = FindAdminDisplay(text)) found.push_back(*admin);
    // Dotted versions standing alone in the text: not glued to letters,
    // digits or dots on either side ("15.1.2507.23x" and "1.15.1.2.3" are not).
    const auto glued = [](char c) {
      return (c >= '0' && c <= '9') || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    };
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9' || (i > 0 && glued(text[i - 1]))) continue;
      size_t pos = i;
      ExchangeVersion v;
      if (ParseDotted(text, &pos, &v) && (pos == text.size() || !glued(text[pos]))) {
        if (found.empty() || !(found.front() == v)) found.push_back(v);
        i = pos;
      }
    }
  }
  if (found.empty()) {
    return error(
        "expected four numbers like 15.2.1118.20 (zero padding such as 15.02.1118.020 is "
        "fine) or \"Version 15.2 (Build 1118.7)\"");
  }
  // Windows or .NET versions may sit beside the Exchange one: keep Exchange's
  // majors (2007 = 8, 2010 = 14, 2013/2016/2019/SE = 15).
  std::vector<ExchangeVersion> exchange;
  for (const ExchangeVersion& v : found) {
    if (v.major == 8 || v.major == 14 || v.major == 15) exchange.push_back(v);
  }
  if (exchange.empty()) {
    return error(fmt::format(
        "major version {} is no Exchange Server (2007 is 8, 2010 is 14, 2013 to SE are 15)",
        found.front().major));
  }
  if (exchange.size() > 1) {
    return error(fmt::format("it holds several versions ({} and {})",
                             FormatExchangeVersion(exchange[0]),
                             FormatExchangeVersion(exchange[1])));
  }
  return exchange.front();
}

ExchangeBuildInfo ClassifyExchangeBuild(const ExchangeVersion& v) {
  Status error;
  if (auto catalog = DefaultBuildCatalog(&error)) return catalog->Classify(v);
  ExchangeBuildInfo info;
  info.version = FormatExchangeVersion(v);
  info.product = fmt::format("Exchange version {}.{}", v.major, v.minor);
  info.status = BuildStatus::kUnknown;
  info.reason = fmt::format("the Exchange build list could not be loaded: {}", error.ToString());
  return info;
}

bool NewerExchangeVersion(const ExchangeVersion& a, const ExchangeVersion& b) {
  return std::tie(a.major, a.minor, a.build, a.revision, a.revision_known) >
         std::tie(b.major, b.minor, b.build, b.revision, b.revision_known);
}

std::optional<ExchangeVersion> ExtractExchangeBuild(const Event& e) {
  if (e.event_id == 4999 && e.provider == "MSExchange Common") {
    for (const DataField& f : e.data) {
      if (auto v = FindWatsonVersion(f.value)) return v;
    }
    if (auto v = FindWatsonVersion(e.message)) return v;
  }
  if (e.event_id == 1036 && e.provider == "MsiInstaller") {
    // Data: product name, product version, language, update name, ...
    // MsiInstaller logs every product, so the name must say Exchange.
    const bool is_exchange =
        (!e.data.empty() && ContainsExchange(e.data[0].value)) || ContainsExchange(e.message);
    if (is_exchange && e.data.size() >= 2) {
      if (auto v = ParseExchangeVersion(e.data[1].value); v && v->major == 15) return v;
    }
  }
  for (const DataField& f : e.data) {
    if (f.value.size() < 20 || f.value.find("(Build ") == std::string_view::npos) continue;
    if (auto v = FindAdminDisplay(f.value)) return v;
  }
  if (e.message.find("(Build ") != std::string_view::npos) return FindAdminDisplay(e.message);
  return std::nullopt;
}

}  // namespace eventsift::correlate
