#include "src/event/event_json.h"

#include <charconv>
#include <cstring>

namespace eventsift {

namespace {

void AppendUInt(std::string* out, uint64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, static_cast<size_t>(p - buf));
}

// Each field is one append: `field` is the whole `,"key":` literal (keys are
// ASCII literals that need no escaping), written with the value it precedes.
// Per-character and per-piece appends were the top cost of `dump`.
void AppendUIntField(std::string* out, std::string_view field, uint64_t v) {
  char buf[64];
  if (field.size() > sizeof(buf) - 24) {  // no literal here is this long
    out->append(field);
    AppendUInt(out, v);
    return;
  }
  std::memcpy(buf, field.data(), field.size());
  auto [p, ec] = std::to_chars(buf + field.size(), buf + sizeof(buf), v);
  out->append(buf, static_cast<size_t>(p - buf));
}

void AppendStringField(std::string* out, std::string_view field, std::string_view v) {
  AppendJsonStringAfter(out, field, v);
}

}  // namespace

std::string_view DataKey(const Event& e, size_t i, std::string* scratch) {
  const DataField& f = e.data[i];
  if (f.name.empty()) {
    scratch->assign("param");
    AppendUInt(scratch, i + 1);
    return *scratch;
  }
  size_t dup = 1;
  for (size_t j = 0; j < i; ++j) {
    if (e.data[j].name == f.name) ++dup;
  }
  if (dup == 1) return f.name;
  scratch->assign(f.name);
  scratch->push_back('_');
  AppendUInt(scratch, dup);
  return *scratch;
}

void WriteEventJson(const Event& e, JsonWriter* w, const EventJsonOptions& opts) {
  std::string json;
  AppendEventJson(e, &json, opts);
  w->Raw(json);
}

// Appends straight into `out` (no per-field temporaries): this runs once per
// record in `dump --format jsonl`.
void AppendEventJson(const Event& e, std::string* out, const EventJsonOptions& opts) {
  AppendUIntField(out, "{\"record_id\":", e.record_id);
  if (e.time != 0) {
    out->append(",\"time\":\"");
    AppendRfc3339(out, e.time);
    out->push_back('"');
  } else {
    out->append(",\"time\":null");
  }
  AppendStringField(out, ",\"provider\":", e.provider);
  if (!e.provider_guid.empty()) AppendStringField(out, ",\"provider_guid\":", e.provider_guid);
  AppendUIntField(out, ",\"event_id\":", e.event_id);
  if (e.has_qualifiers) AppendUIntField(out, ",\"qualifiers\":", e.qualifiers);
  AppendUIntField(out, ",\"version\":", e.version);
  AppendUIntField(out, ",\"level\":", e.level);
  AppendUIntField(out, ",\"task\":", e.task);
  AppendUIntField(out, ",\"opcode\":", e.opcode);
  {
    constexpr std::string_view kKeywords = ",\"keywords\":\"0x";
    char buf[48];
    std::memcpy(buf, kKeywords.data(), kKeywords.size());
    auto [end, ec] = std::to_chars(buf + kKeywords.size(), buf + sizeof(buf) - 1, e.keywords, 16);
    *end++ = '"';
    out->append(buf, static_cast<size_t>(end - buf));
  }
  AppendStringField(out, ",\"channel\":", e.channel);
  AppendStringField(out, ",\"computer\":", e.computer);
  if (!e.user_sid.empty()) AppendStringField(out, ",\"user_sid\":", e.user_sid);
  AppendUIntField(out, ",\"process_id\":", e.process_id);
  AppendUIntField(out, ",\"thread_id\":", e.thread_id);
  out->append(",\"data\":{");
  std::string scratch;
  for (size_t i = 0; i < e.data.size(); ++i) {
    AppendJsonStringAfter(out, i == 0 ? std::string_view() : std::string_view(","),
                          DataKey(e, i, &scratch));
    AppendJsonStringAfter(out, ":", e.data[i].value);
  }
  out->push_back('}');
  if (!e.message.empty()) AppendStringField(out, ",\"message\":", e.message);
  if (opts.include_source) {
    AppendJsonStringAfter(out, ",\"source\":{\"file\":", e.where.file);
    if (e.where.offset != UINT64_MAX) AppendUIntField(out, ",\"offset\":", e.where.offset);
    if (e.where.line != 0) AppendUIntField(out, ",\"line\":", e.where.line);
    if (e.where.chunk != UINT32_MAX) AppendUIntField(out, ",\"chunk\":", e.where.chunk);
    out->push_back('}');
  }
  out->push_back('}');
}

}  // namespace eventsift
