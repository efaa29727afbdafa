#include "src/event/event_ecs_json.h"

#include <charconv>
#include <cstring>

#include "src/core/json_writer.h"
#include "src/core/time_util.h"
#include "src/event/event_json.h"

namespace eventsift {

namespace {

// Winlogbeat's log.level: the level's name in lower case; Security audit
// events carry level 0 (LogAlways) and show as "information".
std::string_view LevelName(uint8_t level) {
  switch (level) {
    case 1:
      return "critical";
    case 2:
      return "error";
    case 3:
      return "warning";
    case 5:
      return "verbose";
    default:
      return "information";
  }
}

// The Security log's audit keywords (winmeta.xml) give ECS event.outcome.
constexpr uint64_t kAuditFailure = 0x0010000000000000ULL;
constexpr uint64_t kAuditSuccess = 0x0020000000000000ULL;

}  // namespace

void AssignEventHostKey(std::string_view computer, std::string* out) {
  out->assign(computer);
  for (char& c : *out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

std::string EventHostKey(std::string_view computer) {
  std::string key;
  AssignEventHostKey(computer, &key);
  return key;
}

namespace {

void WriteEventEcsJson(const Event& e, JsonCursor& c) {
  if (e.time != 0) {
    constexpr std::string_view kTime = "{\"@timestamp\":\"";
    char* p = c.Reserve(kTime.size() + kRfc3339MaxSize);
    std::memcpy(p, kTime.data(), kTime.size());
    c.Advance(WriteRfc3339(p + kTime.size(), e.time, 3));
    c.Char('"');
  } else {
    c.Raw("{\"@timestamp\":null");
  }
  if (!e.message.empty()) c.StringAfter(",\"message\":", e.message);
  {
    char code[12];
    auto end = std::to_chars(code, code + sizeof code, e.event_id).ptr;
    const std::string_view id(code, static_cast<size_t>(end - code));
    c.StringAfter(",\"event\":{\"kind\":\"event\",\"code\":", id);
    c.StringAfter(",\"provider\":", e.provider);
    if ((e.keywords & kAuditSuccess) != 0) c.Raw(",\"outcome\":\"success\"");
    if ((e.keywords & kAuditFailure) != 0) c.Raw(",\"outcome\":\"failure\"");
    c.StringAfter("},\"log\":{\"level\":", LevelName(e.level));
    thread_local std::string host;
    AssignEventHostKey(e.computer, &host);
    c.StringAfter("},\"host\":{\"name\":", host);
    c.StringAfter("},\"winlog\":{\"channel\":", e.channel);
    c.StringAfter(",\"computer_name\":", e.computer);
    c.UIntAfter(",\"record_id\":", e.record_id);
    c.StringAfter(",\"event_id\":", id);
  }
  c.StringAfter(",\"provider_name\":", e.provider);
  if (!e.provider_guid.empty()) c.StringAfter(",\"provider_guid\":", e.provider_guid);
  c.UIntAfter(",\"version\":", e.version);
  if (e.process_id != 0 || e.thread_id != 0) {
    c.UIntAfter(",\"process\":{\"pid\":", e.process_id);
    c.UIntAfter(",\"thread\":{\"id\":", e.thread_id);
    c.Raw("}}");
  }
  if (!e.user_sid.empty()) {
    c.StringAfter(",\"user\":{\"identifier\":", e.user_sid);
    c.Char('}');
  }
  c.Raw(",\"event_data\":{");
  thread_local DataKeys keys;
  keys.Reset();
  keys.set_arrays(false);
  for (const DataField& f : e.data) c.StringAfter(keys.Begin(c, f.name), f.value);
  keys.Close(c);
  c.Raw("}}");
  c.Raw(",\"eventsift\":{\"schema\":\"");
  c.Raw(kEventSchemaVersion);
  c.UIntAfter("\",\"level\":", e.level);
  c.UIntAfter(",\"task\":", e.task);
  c.UIntAfter(",\"opcode\":", e.opcode);
  {
    constexpr std::string_view kKeywords = ",\"keywords\":\"0x";
    char* p = c.Reserve(kKeywords.size() + 17);
    std::memcpy(p, kKeywords.data(), kKeywords.size());
    char* end = std::to_chars(p + kKeywords.size(), p + kKeywords.size() + 16, e.keywords, 16).ptr;
    *end++ = '"';
    c.Advance(end);
  }
  c.StringAfter(",\"source\":{\"file\":", e.where.file);
  if (e.where.offset != UINT64_MAX) c.UIntAfter(",\"offset\":", e.where.offset);
  if (e.where.line != 0) c.UIntAfter(",\"line\":", e.where.line);
  c.Raw("}}}");
}

}  // namespace

void AppendEventEcsJson(const Event& e, std::string* out) {
  JsonCursor c(out);
  WriteEventEcsJson(e, c);
}

std::string_view RenderEventEcsJson(const Event& e, std::string* scratch) {
  JsonCursor c = JsonCursor::Scratch(scratch);
  WriteEventEcsJson(e, c);
  return c.Written();
}

}  // namespace eventsift
