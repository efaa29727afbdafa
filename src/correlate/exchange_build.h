#pragma once
// Exchange builds: parsing the forms they are written in, classifying them
// against the March 2023 SU that EEMS needs (the build list in
// data/exchange-builds.csv, src/correlate/build_catalog.h;
// docs/exchange-builds.md), and spotting them in events.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "src/alert/alert.h"
#include "src/core/result.h"
#include "src/event/event.h"

namespace eventsift::correlate {

struct ExchangeVersion {
  uint32_t major = 0, minor = 0, build = 0, revision = 0;
  // False when the text names only the CU ("Version 15.1 (Build 2507.6)" from
  // Get-ExchangeServer's AdminDisplayVersion): `revision` is then the CU's
  // release revision, a lower bound, since SUs do not change that string.
  bool revision_known = true;

  friend bool operator==(const ExchangeVersion&, const ExchangeVersion&) = default;
};

// "15.1.2507.23"; the `revision_known` flag is not part of the text.
std::string FormatExchangeVersion(const ExchangeVersion& v);

// Whole-text parse (surrounding whitespace ignored) of
//   "15.1.2507.23", "15.01.2507.023" (ExSetup/Watson zero padding) and
//   "Version 15.1 (Build 2507.6)" (revision_known = false).
// Strict: used on event fields, where a near miss is not a version.
std::optional<ExchangeVersion> ParseExchangeVersion(std::string_view text);

// Lenient, for what people type and inventories hold: the forms above, also
// inside surrounding text ("ExSetup.exe 15.02.1118.026", "CU12 (15.2.1118.20)"),
// as long as exactly one Exchange version (major 8, 14 or 15) is in it.
// Anything else is kInvalidArgument with a message that quotes `text` and
// says what was expected.
Result<ExchangeVersion> ParseExchangeVersionText(std::string_view text);

// Product name ("Exchange Server 2016 CU23 Mar23 SU"), status, the
// older-than-March-2023 flag, eems_mitigations, reason and release date,
// against the process's default build list (DefaultBuildCatalog(), loaded on
// first use when LoadDefaultBuildCatalog was not called). `source` is left
// empty for the caller. When the build list cannot be loaded, the status is
// kUnknown and the reason carries the load error.
ExchangeBuildInfo ClassifyExchangeBuild(const ExchangeVersion& v);

// True when `a` is the newer observation: higher version first; for the same
// numbers an exact revision beats a CU-only one.
bool NewerExchangeVersion(const ExchangeVersion& a, const ExchangeVersion& b);

// The Exchange build an event reveals, if any:
//   - MSExchange Common 4999 (Watson report): the third Watson parameter,
//     "E12, c-RTL-AMD64, 15.00.1104.005, w3wp#...";
//   - MsiInstaller 1036 whose product is Exchange: the product version
//     (unconfirmed for Exchange, see domain.md);
//   - any data value or message containing "Version 15.x (Build NNNN.N)".
// Pure and thread-safe. Called on every event, so each path starts with an
// exact provider/id compare or a substring search.
std::optional<ExchangeVersion> ExtractExchangeBuild(const Event& e);

}  // namespace eventsift::correlate
