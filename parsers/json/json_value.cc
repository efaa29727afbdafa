#include "parsers/json/json_value.h"

#include <charconv>
#include <cstring>

namespace eventsift::json {

using simdjson::SUCCESS;
using simdjson::ondemand::json_type;

std::string_view TrimSpace(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n'))
    --e;
  return s.substr(b, e - b);
}

JsonError RenderValue(JsonValue& v, std::string_view* out) {
  json_type type;
  if (auto err = v.type().get(type)) return err;
  switch (type) {
    case json_type::string: {
      // Most values have no escapes: borrow them from the input instead of
      // unescaping (copying) into the parser's string buffer.
      // The token runs to the next structural character, so it may end in
      // whitespace; it usually ends in the closing quote.
      std::string_view token = v.raw_json_token();
      if (token.empty() || token.back() != '"') token = TrimSpace(token);
      if (token.size() >= 2 && token.back() == '"' &&
          std::memchr(token.data() + 1, '\\', token.size() - 2) == nullptr) {
        *out = token.substr(1, token.size() - 2);
        return SUCCESS;
      }
      return v.get_string().get(*out);
    }
    case json_type::number:
    case json_type::boolean:
      *out = TrimSpace(v.raw_json_token());
      return SUCCESS;
    case json_type::null:
      *out = {};
      return SUCCESS;
    case json_type::object: {
      JsonObject obj;
      if (auto err = v.get_object().get(obj)) return err;
      return obj.raw_json().get(*out);
    }
    case json_type::array: {
      simdjson::ondemand::array arr;
      if (auto err = v.get_array().get(arr)) return err;
      return arr.raw_json().get(*out);
    }
  }
  return simdjson::INCORRECT_TYPE;
}

bool ParseUintText(std::string_view s, uint64_t* out) {
  s = TrimSpace(s);
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = b + s.size();
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    auto [p, ec] = std::from_chars(b + 2, e, *out, 16);
    return ec == std::errc() && p == e;
  }
  if (s[0] == '-') {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(b, e, v);
    if (ec != std::errc() || p != e) return false;
    *out = static_cast<uint64_t>(v);
    return true;
  }
  auto [p, ec] = std::from_chars(b, e, *out);
  return ec == std::errc() && p == e;
}

JsonError ReadUint(JsonValue& v, uint64_t* out, bool* present) {
  *present = false;
  json_type type;
  if (auto err = v.type().get(type)) return err;
  if (type == json_type::number) {
    std::string_view token = TrimSpace(v.raw_json_token());
    if (ParseUintText(token, out)) {
      *present = true;
      return SUCCESS;
    }
    // 1.0 or 1e3: rare, but a number all the same.
    double d = 0;
    if (auto err = v.get_double().get(d)) return err;
    if (d >= 0 && d < 1.8e19) {
      *out = static_cast<uint64_t>(d);
      *present = true;
    }
    return SUCCESS;
  }
  if (type == json_type::string) {
    std::string_view s;
    if (auto err = v.get_string().get(s)) return err;
    *present = ParseUintText(s, out);
  }
  return SUCCESS;
}

EventIdRead ParseEventIdText(std::string_view text, uint32_t* out) {
  text = TrimSpace(text);
  uint64_t u = 0;
  if (ParseUintText(text, &u)) {
    // ParseUintText reads "-1" as two's complement; that is out of range too.
    if (u > kMaxEventId) return EventIdRead::kOutOfRange;
    *out = static_cast<uint32_t>(u);
    return EventIdRead::kValid;
  }
  // 1008.0 and 1e3 are whole numbers written another way; 1008.9 is not.
  double d = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec == std::errc::result_out_of_range && p == text.data() + text.size()) {
    return EventIdRead::kOutOfRange;
  }
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) {
    return EventIdRead::kAbsent;
  }
  if (!(d >= 0 && d <= kMaxEventId) || d != static_cast<double>(static_cast<uint32_t>(d))) {
    return EventIdRead::kOutOfRange;
  }
  *out = static_cast<uint32_t>(d);
  return EventIdRead::kValid;
}

JsonError ReadEventId(JsonValue& v, uint32_t* out, EventIdRead* read) {
  *read = EventIdRead::kAbsent;
  json_type type;
  if (auto err = v.type().get(type)) return err;
  if (type != json_type::number && type != json_type::string) return SUCCESS;
  std::string_view text;
  if (auto err = RenderValue(v, &text)) return err;
  *read = ParseEventIdText(text, out);
  return SUCCESS;
}

std::string EventIdOutOfRangeMessage(std::string_view field) {
  return std::string(field) + " is out of range: event ids are whole numbers 0 to 65535";
}

int LevelFromName(std::string_view name) {
  auto eq = [&](std::string_view want) {
    if (name.size() != want.size()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
      char c = name[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != want[i]) return false;
    }
    return true;
  };
  if (eq("critical")) return 1;
  if (eq("error")) return 2;
  if (eq("warning")) return 3;
  if (eq("information") || eq("info")) return 4;
  if (eq("verbose") || eq("debug")) return 5;
  return -1;
}

std::string_view BracedGuid(std::string_view guid, Arena* arena) {
  if (guid.empty() || guid.front() == '{') return guid;
  char* p = arena->Allocate(guid.size() + 2);
  p[0] = '{';
  std::memcpy(p + 1, guid.data(), guid.size());
  p[guid.size() + 1] = '}';
  return {p, guid.size() + 2};
}

bool HasZone(std::string_view s) {
  s = TrimSpace(s);
  if (s.find("Date(") != std::string_view::npos) return true;
  if (s.size() <= 11) return false;  // a date alone
  // After "YYYY-MM-DDT". One pass over the bytes: find_first_of calls
  // memchr on the four zone characters for every byte, 1 % of an NDJSON
  // scan for a 28-byte timestamp.
  for (char c : s.substr(11)) {
    if (c == 'Z' || c == 'z' || c == '+' || c == '-') return true;
  }
  return false;
}

}  // namespace eventsift::json
