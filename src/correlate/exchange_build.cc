#include "src/correlate/exchange_build.h"

#include <array>
#include <tuple>

#include <fmt/format.h>

namespace eventsift::correlate {

namespace {

// The revisions of the March 2023 SU (KB5024296) per CU that received it.
constexpr uint32_t kE16Cu23Build = 2507, kE16Cu23Mar23 = 23;
constexpr uint32_t kE19Cu11Build = 986, kE19Cu11Mar23 = 42;
constexpr uint32_t kE19Cu12Build = 1118, kE19Cu12Mar23 = 26;
// First builds with EEMS (E2016 CU22, E2019 CU11) and the first CU released
// after March 2023 (E2019 CU13, all of whose builds are newer).
constexpr uint32_t kE16Cu22Build = 2375, kE19Cu13Build = 1258, kSeRtmBuild = 2562;

struct SuRevision {
  uint32_t revision;
  const char* label;
};

struct CuInfo {
  uint32_t minor, build;
  const char* product;  // without "Exchange Server "
  const SuRevision* revisions;
  size_t revision_count;
};

// domain.md section 2, the table of CUs and their SU revisions; the first
// entry of each row is the CU's own release.
constexpr SuRevision kE16Cu22[] = {{7, ""},          {12, "Oct21 SU"}, {17, "Nov21 SU"},
                                   {18, "Jan22 SU"}, {24, "Mar22 SU"}, {28, "May22 SU"},
                                   {31, "Aug22 SU"}, {32, "Oct22 SU"}, {37, "Nov22 SU"}};
constexpr SuRevision kE16Cu23[] = {{6, ""},          {9, "May22 SU"},    {12, "Aug22 SU"},
                                   {13, "Oct22 SU"}, {16, "Nov22 SU"},   {17, "Jan23 SU"},
                                   {21, "Feb23 SU"}, {23, "Mar23 SU"},   {27, "Jun23 SU"},
                                   {31, "Aug23 SU"}, {32, "Aug23v2 SU"}, {34, "Oct23 SU"},
                                   {35, "Nov23 SU"}, {37, "Mar24 SU"},   {39, "Apr24 HU"},
                                   {43, "Nov24 SU"}, {44, "Nov24v2 SU"}, {55, "Apr25 HU"},
                                   {57, "May25 HU"}, {58, "Aug25 SU"},   {59, "Sep25 HU"},
                                   {61, "Oct25 SU"}, {63, "Dec25 SU"},   {66, "Feb26 SU"},
                                   {69, "Jun26 SU"}, {71, "Jul26 SU"},   {72, "Aug26 SU"}};
constexpr SuRevision kE19Cu11[] = {{5, ""},          {9, "Oct21 SU"},  {14, "Nov21 SU"},
                                   {15, "Jan22 SU"}, {22, "Mar22 SU"}, {26, "May22 SU"},
                                   {29, "Aug22 SU"}, {30, "Oct22 SU"}, {36, "Nov22 SU"},
                                   {37, "Jan23 SU"}, {41, "Feb23 SU"}, {42, "Mar23 SU"}};
constexpr SuRevision kE19Cu12[] = {{7, ""},          {9, "May22 SU"},    {12, "Aug22 SU"},
                                   {15, "Oct22 SU"}, {20, "Nov22 SU"},   {21, "Jan23 SU"},
                                   {25, "Feb23 SU"}, {26, "Mar23 SU"},   {30, "Jun23 SU"},
                                   {36, "Aug23 SU"}, {37, "Aug23v2 SU"}, {39, "Oct23 SU"},
                                   {40, "Nov23 SU"}};
constexpr SuRevision kE19Cu13[] = {
    {12, ""},         {16, "Jun23 SU"}, {23, "Aug23 SU"}, {25, "Aug23v2 SU"}, {27, "Oct23 SU"},
    {28, "Nov23 SU"}, {32, "Mar24 SU"}, {34, "Apr24 HU"}, {38, "Nov24 SU"},   {39, "Nov24v2 SU"}};
constexpr SuRevision kE19Cu14[] = {
    {4, ""},          {9, "Mar24 SU"},  {11, "Apr24 HU"}, {13, "Nov24 SU"}, {14, "Nov24v2 SU"},
    {25, "Apr25 HU"}, {27, "May25 HU"}, {33, "Aug25 SU"}, {34, "Sep25 HU"}, {36, "Oct25 SU"},
    {37, "Dec25 SU"}, {39, "Feb26 SU"}, {41, "Jun26 SU"}, {43, "Jul26 SU"}, {44, "Aug26 SU"}};
constexpr SuRevision kE19Cu15[] = {{10, ""},         {24, "Apr25 HU"}, {26, "May25 HU"},
                                   {36, "Aug25 SU"}, {37, "Sep25 HU"}, {39, "Oct25 SU"},
                                   {42, "Dec25 SU"}, {43, "Feb26 SU"}, {46, "Jun26 SU"},
                                   {48, "Jul26 SU"}, {49, "Aug26 SU"}};
constexpr SuRevision kSeRtm[] = {
    {17, ""},         {20, "Aug25 SU"}, {27, "Sep25 HU"}, {29, "Oct25 SU"}, {35, "Dec25 SU"},
    {37, "Feb26 SU"}, {41, "May26 HU"}, {43, "Jun26 SU"}, {45, "Jul26 SU"}, {46, "Aug26 SU"}};

template <size_t N>
constexpr CuInfo Cu(uint32_t minor, uint32_t build, const char* product,
                    const SuRevision (&revisions)[N]) {
  return CuInfo{minor, build, product, revisions, N};
}

constexpr std::array<CuInfo, 8> kCus = {
    Cu(1, 2375, "2016 CU22", kE16Cu22), Cu(1, 2507, "2016 CU23", kE16Cu23),
    Cu(2, 986, "2019 CU11", kE19Cu11),  Cu(2, 1118, "2019 CU12", kE19Cu12),
    Cu(2, 1258, "2019 CU13", kE19Cu13), Cu(2, 1544, "2019 CU14", kE19Cu14),
    Cu(2, 1748, "2019 CU15", kE19Cu15), Cu(2, 2562, "SE RTM", kSeRtm)};

const CuInfo* FindCu(const ExchangeVersion& v) {
  if (v.major != 15) return nullptr;
  for (const CuInfo& cu : kCus) {
    if (cu.minor == v.minor && cu.build == v.build) return &cu;
  }
  return nullptr;
}

std::string ProductName(const ExchangeVersion& v) {
  if (const CuInfo* cu = FindCu(v)) {
    std::string name = fmt::format("Exchange Server {}", cu->product);
    if (!v.revision_known) return name;
    for (size_t i = 1; i < cu->revision_count; ++i) {
      if (cu->revisions[i].revision == v.revision) {
        return fmt::format("{} {}", name, cu->revisions[i].label);
      }
    }
    return name;
  }
  switch (v.major) {
    case 8:
      return "Exchange Server 2007";
    case 14:
      return "Exchange Server 2010";
    case 15:
      if (v.minor == 0) return "Exchange Server 2013";
      if (v.minor == 1) return fmt::format("Exchange Server 2016 (build {})", v.build);
      if (v.minor == 2) {
        return fmt::format("Exchange Server {} (build {})", v.build >= kSeRtmBuild ? "SE" : "2019",
                           v.build);
      }
      break;
    default:
      break;
  }
  return fmt::format("unknown Exchange version {}.{}", v.major, v.minor);
}

// Status of a CU that got the Mar23 SU, from its revision.
BuildStatus StatusAgainstMar23(const ExchangeVersion& v, uint32_t mar23_revision) {
  if (v.revision < mar23_revision) {
    // A CU-only revision is a lower bound: SUs on top are unknown.
    return v.revision_known ? BuildStatus::kOutdated : BuildStatus::kIndeterminate;
  }
  if (v.revision == mar23_revision) {
    return v.revision_known ? BuildStatus::kBorderline : BuildStatus::kIndeterminate;
  }
  return BuildStatus::kCurrent;
}

BuildStatus Status(const ExchangeVersion& v) {
  if (v.major == 8 || v.major == 14 || (v.major == 15 && v.minor == 0)) return BuildStatus::kNoEems;
  if (v.major != 15) return BuildStatus::kUnknown;
  if (v.minor == 1) {
    if (v.build < kE16Cu22Build) return BuildStatus::kNoEems;
    if (v.build < kE16Cu23Build) return BuildStatus::kOutdated;  // CU22 never got Mar23
    if (v.build == kE16Cu23Build) return StatusAgainstMar23(v, kE16Cu23Mar23);
    return BuildStatus::kCurrent;
  }
  if (v.minor == 2) {
    if (v.build < kE19Cu11Build) return BuildStatus::kNoEems;
    if (v.build == kE19Cu11Build) return StatusAgainstMar23(v, kE19Cu11Mar23);
    if (v.build == kE19Cu12Build) return StatusAgainstMar23(v, kE19Cu12Mar23);
    // Builds between the listed CUs are not public releases; all of them
    // predate CU13 (May 2023).
    if (v.build < kE19Cu13Build) return BuildStatus::kOutdated;
    return BuildStatus::kCurrent;
  }
  return BuildStatus::kUnknown;
}

std::optional<bool> OlderThanMarch2023(const ExchangeVersion& v, BuildStatus status) {
  switch (status) {
    case BuildStatus::kOutdated:
      return true;
    case BuildStatus::kBorderline:
    case BuildStatus::kCurrent:
      return false;
    // Pre-EEMS 2016/2019 builds shipped before September 2021. Exchange 2013
    // and older had their own SUs (2013 got a Mar23 one): domain.md does not
    // cover them, so no claim.
    case BuildStatus::kNoEems:
      if (v.major == 15 && v.minor >= 1) return true;
      return std::nullopt;
    case BuildStatus::kIndeterminate:
    case BuildStatus::kUnknown:
      return std::nullopt;
  }
  return std::nullopt;
}

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
  for (size_t at = text.find("(Build "); at != std::string_view::npos;
       at = text.find("(Build ", at + 1)) {
    // Back up over "Version 15.1 " (at most "Version " + 9 + 1 + 9 + 1).
    const size_t begin = text.rfind("Version ", at);
    if (begin == std::string_view::npos || at - begin > 28) continue;
    size_t pos = begin;
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

ExchangeBuildInfo ClassifyExchangeBuild(const ExchangeVersion& v) {
  ExchangeBuildInfo info;
  info.version = FormatExchangeVersion(v);
  info.product = ProductName(v);
  info.status = Status(v);
  info.older_than_march_2023 = OlderThanMarch2023(v, info.status);
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
