#pragma once
// The values an event holds for a FieldRef, as rules see them: numeric
// header fields as decimal text, keywords as 0x + 16 hex digits, EventData
// by name or all of it. One definition for the regex scan and for Sigma's
// direct checks, so both read the same values.

#include <charconv>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/detect/rule.h"
#include "src/event/event.h"

namespace eventsift::detect {

// Decimal text of a numeric header field.
inline std::string_view FormatDecimal(uint64_t value, char (&buf)[24]) {
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  return {buf, static_cast<size_t>(end - buf)};
}

// Keywords as EVTX XML prints them: 0x and 16 hex digits.
inline std::string_view FormatKeywords(uint64_t value, char (&buf)[24]) {
  static constexpr char kHex[] = "0123456789abcdef";
  buf[0] = '0';
  buf[1] = 'x';
  for (int i = 0; i < 16; ++i) buf[2 + i] = kHex[(value >> (60 - 4 * i)) & 0xf];
  return {buf, 18};
}

// Calls fn(value) for each value of `field` in `event`; fn returns true to
// stop early.
template <typename Fn>
void ForEachFieldValue(const Event& event, const FieldRef& field, Fn&& fn) {
  char buf[24];
  switch (field.kind) {
    case FieldKind::kProvider:
      fn(event.provider);
      return;
    case FieldKind::kProviderGuid:
      fn(event.provider_guid);
      return;
    case FieldKind::kChannel:
      fn(event.channel);
      return;
    case FieldKind::kComputer:
      fn(event.computer);
      return;
    case FieldKind::kUserSid:
      fn(event.user_sid);
      return;
    case FieldKind::kMessage:
      fn(event.message);
      return;
    case FieldKind::kEventId:
      fn(FormatDecimal(event.event_id, buf));
      return;
    case FieldKind::kLevel:
      fn(FormatDecimal(event.level, buf));
      return;
    case FieldKind::kTask:
      fn(FormatDecimal(event.task, buf));
      return;
    case FieldKind::kOpcode:
      fn(FormatDecimal(event.opcode, buf));
      return;
    case FieldKind::kKeywords:
      fn(FormatKeywords(event.keywords, buf));
      return;
    case FieldKind::kRecordId:
      fn(FormatDecimal(event.record_id, buf));
      return;
    case FieldKind::kDataNamed:
      for (const DataField& f : event.data) {
        if (f.name == field.data_name && fn(f.value)) return;
      }
      return;
    case FieldKind::kMessageOrDataAny:
      if (fn(event.message)) return;
      [[fallthrough]];
    case FieldKind::kDataAny:
      for (const DataField& f : event.data) {
        if (fn(f.value)) return;
      }
      return;
  }
}

// The fields a rule's conditions read, as (name as the rule spells it, where
// it is read): Sigma names for Sigma rules, "data.Name"-style for ours.
std::vector<std::pair<std::string, FieldRef>> RuleFields(const Rule& rule);

// The first non-empty value of each field, once per name, in order; for
// Alert::matched.
std::vector<std::pair<std::string, std::string>> FieldValuesOf(
    const std::vector<std::pair<std::string, FieldRef>>& fields, const Event& event);

}  // namespace eventsift::detect
