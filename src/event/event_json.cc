#include "src/event/event_json.h"

#include <charconv>

namespace eventsift {

namespace {

void AppendUInt(std::string* out, uint64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, static_cast<size_t>(p - buf));
}

// ,"key": (keys are ASCII literals: no escaping needed)
void AppendKey(std::string* out, std::string_view key) {
  out->append(",\"");
  out->append(key);
  out->append("\":");
}

void AppendUIntField(std::string* out, std::string_view key, uint64_t v) {
  AppendKey(out, key);
  AppendUInt(out, v);
}

void AppendStringField(std::string* out, std::string_view key, std::string_view v) {
  AppendKey(out, key);
  AppendJsonString(out, v);
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
  out->append("{\"record_id\":");
  AppendUInt(out, e.record_id);
  AppendKey(out, "time");
  if (e.time != 0) {
    out->push_back('"');
    AppendRfc3339(out, e.time);
    out->push_back('"');
  } else {
    out->append("null");
  }
  AppendStringField(out, "provider", e.provider);
  if (!e.provider_guid.empty()) AppendStringField(out, "provider_guid", e.provider_guid);
  AppendUIntField(out, "event_id", e.event_id);
  if (e.has_qualifiers) AppendUIntField(out, "qualifiers", e.qualifiers);
  AppendUIntField(out, "version", e.version);
  AppendUIntField(out, "level", e.level);
  AppendUIntField(out, "task", e.task);
  AppendUIntField(out, "opcode", e.opcode);
  AppendKey(out, "keywords");
  char hex[24];
  auto [end, ec] = std::to_chars(hex, hex + sizeof(hex), e.keywords, 16);
  out->append("\"0x");
  out->append(hex, static_cast<size_t>(end - hex));
  out->push_back('"');
  AppendStringField(out, "channel", e.channel);
  AppendStringField(out, "computer", e.computer);
  if (!e.user_sid.empty()) AppendStringField(out, "user_sid", e.user_sid);
  AppendUIntField(out, "process_id", e.process_id);
  AppendUIntField(out, "thread_id", e.thread_id);
  AppendKey(out, "data");
  out->push_back('{');
  std::string scratch;
  for (size_t i = 0; i < e.data.size(); ++i) {
    if (i != 0) out->push_back(',');
    AppendJsonString(out, DataKey(e, i, &scratch));
    out->push_back(':');
    AppendJsonString(out, e.data[i].value);
  }
  out->push_back('}');
  if (!e.message.empty()) AppendStringField(out, "message", e.message);
  if (opts.include_source) {
    AppendKey(out, "source");
    out->append("{\"file\":");
    AppendJsonString(out, e.where.file);
    if (e.where.offset != UINT64_MAX) AppendUIntField(out, "offset", e.where.offset);
    if (e.where.line != 0) AppendUIntField(out, "line", e.where.line);
    if (e.where.chunk != UINT32_MAX) AppendUIntField(out, "chunk", e.where.chunk);
    out->push_back('}');
  }
  out->push_back('}');
}

}  // namespace eventsift
