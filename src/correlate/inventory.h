#pragma once
// Host inventory: which Exchange build each server runs, given by the user
// (`scan --inventory FILE`), in CSV or JSON (docs/exchange-builds.md,
// "Host inventory"). Parsing only; Correlator::LoadInventory applies it.

#include <string>
#include <string_view>
#include <vector>

#include "src/core/result.h"
#include "src/correlate/exchange_build.h"

namespace eventsift::correlate {

struct InventoryEntry {
  std::string host;  // as written (not normalized)
  ExchangeVersion version;
  std::string source;  // "inventory FILE:LINE", for Alert::exchange->source
  // EEMS mitigation ids applied on the host ("M2.1.0"), when the inventory
  // has a mitigations column or field (docs/exchange-cves.md).
  std::vector<std::string> mitigations;
};

// Reads an inventory file. The format is chosen by content: JSON when the
// first character (after a UTF-8 or UTF-16LE BOM and blanks) is '[' or '{',
// else CSV.
//   CSV:  "host,build" rows; a header line, "#TYPE" lines, quotes, BOM and
//         CRLF accepted; extra columns ignored (Get-ExchangeServer | Select
//         Name,AdminDisplayVersion | Export-Csv), except a header-named
//         "Mitigations" or "MitigationsApplied" column, whose mitigation ids
//         ("M2.1.0", any separator) are kept.
//   JSON: an array of objects (or one object) with a host key ("host",
//         "fqdn" or "name") and a build key ("build", "version" or
//         "AdminDisplayVersion"); the build is a string, or an object with
//         Major/Minor/Build/Revision numbers or a "value" string
//         (Get-ExchangeServer | Select Name,AdminDisplayVersion | ConvertTo-Json);
//         a "Mitigations" or "MitigationsApplied" string or array of strings
//         gives the applied mitigation ids.
//         Key names are compared case-insensitively.
// The whole file or nothing: the first bad entry fails the load with the
// file and line (kInvalidArgument); an unreadable file is kIOError.
Result<std::vector<InventoryEntry>> LoadInventoryFile(const std::string& path);

// The same from text already read; `path` is used in sources and errors.
Result<std::vector<InventoryEntry>> ParseInventory(std::string_view text, const std::string& path);

}  // namespace eventsift::correlate
