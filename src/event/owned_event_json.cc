#include "src/event/owned_event_json.h"

#include <fmt/format.h>

namespace eventsift {

void WriteOwnedEventJson(const OwnedEvent& e, JsonWriter* w) {
  w->BeginObject();
  auto str = [&](const char* k, const std::string& v) {
    if (!v.empty()) w->KV(k, v);
  };
  auto num = [&](const char* k, uint64_t v) {
    if (v != 0) w->KVUInt(k, v);
  };
  str("provider", e.provider);
  str("provider_guid", e.provider_guid);
  str("channel", e.channel);
  str("computer", e.computer);
  str("user_sid", e.user_sid);
  str("message", e.message);
  str("file", e.file);
  num("event_id", e.event_id);
  num("qualifiers", e.qualifiers);
  if (e.has_qualifiers) w->KVBool("has_qualifiers", true);
  num("version", e.version);
  num("level", e.level);
  num("opcode", e.opcode);
  num("task", e.task);
  num("keywords", e.keywords);
  if (e.time != 0) w->KVInt("time", e.time);
  num("record_id", e.record_id);
  num("record_number", e.record_number);
  num("process_id", e.process_id);
  num("thread_id", e.thread_id);
  if (e.offset != UINT64_MAX) w->KVUInt("offset", e.offset);
  num("line", e.line);
  if (e.chunk != UINT32_MAX) w->KVUInt("chunk", e.chunk);
  if (!e.data.empty()) {
    w->Key("data");
    w->BeginArray();
    for (const auto& [name, value] : e.data) {
      w->BeginArray();
      w->String(name);
      w->String(value);
      w->EndArray();
    }
    w->EndArray();
  }
  w->EndObject();
}

namespace {

// Typed getters: a missing field keeps its default, a wrong type is an error.
struct Reader {
  simdjson::dom::object o;
  Status status;

  template <typename T>
  T Get(const char* key, T fallback) {
    T v{};
    auto err = o[key].get(v);
    if (err == simdjson::NO_SUCH_FIELD) return fallback;
    if (err && status.ok()) status = Status::Corruption(fmt::format("bad field '{}'", key));
    return err ? fallback : v;
  }
  std::string Str(const char* key) { return std::string(Get<std::string_view>(key, "")); }
  uint64_t U(const char* key) { return Get<uint64_t>(key, 0); }
};

}  // namespace

Status ReadOwnedEventJson(simdjson::dom::object o, OwnedEvent* out) {
  Reader r{o, Status::OK()};
  OwnedEvent& e = *out;
  e.provider = r.Str("provider");
  e.provider_guid = r.Str("provider_guid");
  e.channel = r.Str("channel");
  e.computer = r.Str("computer");
  e.user_sid = r.Str("user_sid");
  e.message = r.Str("message");
  e.file = r.Str("file");
  e.event_id = static_cast<uint32_t>(r.U("event_id"));
  e.qualifiers = static_cast<uint16_t>(r.U("qualifiers"));
  e.has_qualifiers = r.Get<bool>("has_qualifiers", false);
  e.version = static_cast<uint8_t>(r.U("version"));
  e.level = static_cast<uint8_t>(r.U("level"));
  e.opcode = static_cast<uint8_t>(r.U("opcode"));
  e.task = static_cast<uint16_t>(r.U("task"));
  e.keywords = r.U("keywords");
  e.time = r.Get<int64_t>("time", 0);
  e.record_id = r.U("record_id");
  e.record_number = r.U("record_number");
  e.process_id = static_cast<uint32_t>(r.U("process_id"));
  e.thread_id = static_cast<uint32_t>(r.U("thread_id"));
  e.offset = r.Get<uint64_t>("offset", UINT64_MAX);
  e.line = r.U("line");
  e.chunk = static_cast<uint32_t>(r.Get<uint64_t>("chunk", UINT32_MAX));
  simdjson::dom::array data;
  if (!o["data"].get(data)) {
    for (simdjson::dom::element pair : data) {
      simdjson::dom::array kv;
      std::string_view name, value;
      if (pair.get(kv) || kv.at(0).get(name) || kv.at(1).get(value)) {
        return Status::Corruption("bad event data pair");
      }
      e.data.emplace_back(std::string(name), std::string(value));
    }
  }
  return r.status;
}

}  // namespace eventsift
