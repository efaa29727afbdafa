#include "src/event/event_json.h"

#include <fmt/format.h>

namespace eventsift {

std::string_view DataKey(const Event& e, size_t i, std::string* scratch) {
  const DataField& f = e.data[i];
  if (f.name.empty()) {
    *scratch = fmt::format("param{}", i + 1);
    return *scratch;
  }
  size_t dup = 1;
  for (size_t j = 0; j < i; ++j) {
    if (e.data[j].name == f.name) ++dup;
  }
  if (dup == 1) return f.name;
  *scratch = fmt::format("{}_{}", f.name, dup);
  return *scratch;
}

void WriteEventJson(const Event& e, JsonWriter* w, const EventJsonOptions& opts) {
  w->BeginObject();
  w->KVUInt("record_id", e.record_id);
  w->Key("time");
  if (e.time != 0) {
    w->String(FormatRfc3339(e.time));
  } else {
    w->Null();
  }
  w->KV("provider", e.provider);
  if (!e.provider_guid.empty()) w->KV("provider_guid", e.provider_guid);
  w->KVUInt("event_id", e.event_id);
  if (e.has_qualifiers) w->KVUInt("qualifiers", e.qualifiers);
  w->KVUInt("version", e.version);
  w->KVUInt("level", e.level);
  w->KVUInt("task", e.task);
  w->KVUInt("opcode", e.opcode);
  w->KV("keywords", fmt::format("0x{:x}", e.keywords));
  w->KV("channel", e.channel);
  w->KV("computer", e.computer);
  if (!e.user_sid.empty()) w->KV("user_sid", e.user_sid);
  w->KVUInt("process_id", e.process_id);
  w->KVUInt("thread_id", e.thread_id);
  w->Key("data");
  w->BeginObject();
  std::string scratch;
  for (size_t i = 0; i < e.data.size(); ++i) {
    w->KV(DataKey(e, i, &scratch), e.data[i].value);
  }
  w->EndObject();
  if (!e.message.empty()) w->KV("message", e.message);
  if (opts.include_source) {
    w->Key("source");
    w->BeginObject();
    w->KV("file", e.where.file);
    if (e.where.offset != UINT64_MAX) w->KVUInt("offset", e.where.offset);
    if (e.where.line != 0) w->KVUInt("line", e.where.line);
    if (e.where.chunk != UINT32_MAX) w->KVUInt("chunk", e.where.chunk);
    w->EndObject();
  }
  w->EndObject();
}

void AppendEventJson(const Event& e, std::string* out, const EventJsonOptions& opts) {
  JsonWriter w(out);
  WriteEventJson(e, &w, opts);
}

}  // namespace eventsift
