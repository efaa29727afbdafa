#pragma once
// Sigma's Windows logsources and field names mapped onto our Event
// (docs/sigma.md has the same tables): a logsource becomes one or more
// variants, each a channel with optional event ids and, for the variants
// whose events name fields differently (Security 4688 for
// process_creation), a field-name mapping.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/status.h"
#include "src/detect/rule.h"
#include "src/detect/sigma_rule.h"

namespace eventsift::detect {

struct FieldAlias {
  std::string_view sigma;  // the name the rule uses
  std::string_view event;  // the EventData name this variant's events carry
};

struct LogsourceVariant {
  std::vector<std::string> channels;  // as Windows spells them; empty: any channel
  std::vector<uint32_t> event_ids;    // empty: any id
  std::vector<FieldAlias> aliases;
};

// The variants of a Windows logsource, or an error naming what is not
// supported (another product, a category without a Windows log).
Status ResolveLogsource(const SigmaLogsource& logsource, std::vector<LogsourceVariant>* out);

// Where a Sigma field name is read: EventID, Channel, Provider_Name,
// Computer, ... are header fields; any other name is an EventData value
// (after the variant's alias). "Data" reads every EventData value (classic
// PowerShell logs carry unnamed <Data> elements).
FieldRef SigmaFieldRef(std::string_view sigma_name, const LogsourceVariant& variant);

}  // namespace eventsift::detect
