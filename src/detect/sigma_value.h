#pragma once
// Sigma values and their modifiers (docs/sigma.md, "Values and modifiers"):
// a value with its modifiers becomes either regexes for the field's RE2::Set
// (wildcards, contains/startswith/endswith, re, base64, base64offset,
// utf16*, windash, cased, expand) or a SigmaCheck made directly on the
// event (exists, null, gt/gte/lt/lte, cidr, fieldref).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/status.h"
#include "src/detect/sigma_rule.h"

namespace eventsift::detect {

enum class Utf16Form : uint8_t { kNone, kLittleEndian, kBigEndian, kLittleEndianBom };

struct SigmaModifiers {
  bool contains = false, startswith = false, endswith = false, all = false;
  bool re = false, re_i = false, re_m = false, re_s = false;
  bool base64 = false, base64offset = false, windash = false;
  bool cidr = false, exists = false, cased = false, fieldref = false, expand = false;
  Utf16Form utf16 = Utf16Form::kNone;
  std::optional<SigmaCheck::Op> compare;  // gt, gte, lt, lte
};

// Placeholder name (without %) -> values, for the expand modifier.
using SigmaPlaceholders = std::map<std::string, std::vector<std::string>>;

// "contains", "all", "re", "i", ... in order; an unknown or misplaced one is
// an Unsupported error naming it.
Status ParseModifiers(const std::vector<std::string>& names, SigmaModifiers* out);

// One regex: the value, unanchored where it starts or ends with an unescaped
// wildcard or where any_prefix / any_suffix say (contains, startswith,
// endswith). `*` `?` are wildcards; `\*` `\?` `\\` their literal characters;
// any other backslash is literal. With windash, each '-' also matches '/',
// en dash, em dash and horizontal bar.
std::string SigmaGlobToRegex(std::string_view value, bool windash, bool any_prefix = false,
                             bool any_suffix = false);

// The regexes (any of which may match) of one string value under the
// modifiers, and whether they compare case-sensitively. Refuses what cannot
// be expressed (e.g. an re that RE2 cannot run).
struct SigmaPatterns {
  std::vector<std::string> regexes;
  bool cased = false;
};
Status SigmaValuePatterns(std::string_view value, const SigmaModifiers& mods,
                          const SigmaPlaceholders& placeholders, SigmaPatterns* out);

// Standard base64 with padding.
std::string Base64Encode(std::string_view bytes);
// The three base64 forms of `bytes` at offsets 0, 1 and 2 of a longer
// encoded text, with the characters that depend on the neighbours cut.
std::vector<std::string> Base64OffsetForms(std::string_view bytes);
// UTF-8 text as UTF-16 bytes.
std::string ToUtf16(std::string_view utf8, Utf16Form form);

// A CIDR range ("10.0.0.0/8", "fe80::/10") into check->network/prefix_bits.
Status ParseCidr(std::string_view text, SigmaCheck* check);
// Whether `ip` (text) lies inside the check's range.
bool CidrContains(const SigmaCheck& check, std::string_view ip);

}  // namespace eventsift::detect
