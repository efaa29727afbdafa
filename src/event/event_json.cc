#include "src/event/event_json.h"

#include <charconv>
#include <cstring>

#include "src/core/time_util.h"

namespace eventsift {

namespace {

// Scratch bytes a thread keeps between records.
constexpr size_t kScratchKeep = size_t{1} << 20;

void AppendUInt(std::string* out, uint64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, static_cast<size_t>(p - buf));
}

}  // namespace

std::string_view DataKeys::Next(std::string_view name) {
  const size_t i = names_.size();
  names_.push_back(name);
  if (name.empty()) {
    scratch_.assign("param");
    AppendUInt(&scratch_, i + 1);
    return scratch_;
  }
  const uint64_t bit = Bit(name);
  const bool may_repeat = (seen_ & bit) != 0;
  seen_ |= bit;
  if (!may_repeat) return name;
  size_t dup = 1;
  for (size_t j = 0; j < i; ++j) {
    if (names_[j] == name) ++dup;
  }
  if (dup == 1) return name;
  scratch_.assign(name);
  scratch_.push_back('_');
  AppendUInt(&scratch_, dup);
  return scratch_;
}

void WriteEventJsonHead(const Event& e, JsonCursor& c) {
  c.UIntAfter("{\"record_id\":", e.record_id);
  // Only where it says something record_id does not.
  if (e.record_number != 0 && e.record_number != e.record_id) {
    c.UIntAfter(",\"record_number\":", e.record_number);
  }
  if (e.time != 0) {
    constexpr std::string_view kTime = ",\"time\":\"";
    char* p = c.Reserve(kTime.size() + kRfc3339MaxSize);
    std::memcpy(p, kTime.data(), kTime.size());
    c.Advance(WriteRfc3339(p + kTime.size(), e.time));
    // The time's closing quote starts the provider key.
    c.StringAfter("\",\"provider\":", e.provider);
  } else {
    c.StringAfter(",\"time\":null,\"provider\":", e.provider);
  }
  if (!e.provider_guid.empty()) c.StringAfter(",\"provider_guid\":", e.provider_guid);
  c.UIntAfter(",\"event_id\":", e.event_id);
  if (e.has_qualifiers) c.UIntAfter(",\"qualifiers\":", e.qualifiers);
  c.UIntAfter(",\"version\":", e.version);
  c.UIntAfter(",\"level\":", e.level);
  c.UIntAfter(",\"task\":", e.task);
  c.UIntAfter(",\"opcode\":", e.opcode);
  {
    constexpr std::string_view kKeywords = ",\"keywords\":\"0x";
    char* p = c.Reserve(kKeywords.size() + 17);  // 16 hex digits and the quote
    std::memcpy(p, kKeywords.data(), kKeywords.size());
    char* end = std::to_chars(p + kKeywords.size(), p + kKeywords.size() + 16, e.keywords, 16).ptr;
    *end++ = '"';
    c.Advance(end);
  }
  c.StringAfter(",\"channel\":", e.channel);
  c.StringAfter(",\"computer\":", e.computer);
  if (!e.user_sid.empty()) c.StringAfter(",\"user_sid\":", e.user_sid);
  c.UIntAfter(",\"process_id\":", e.process_id);
  c.UIntAfter(",\"thread_id\":", e.thread_id);
  c.Raw(",\"data\":{");
}

void WriteEventJsonTail(const Event& e, const EventJsonOptions& opts, JsonCursor& c) {
  c.Char('}');
  if (!e.message.empty()) c.StringAfter(",\"message\":", e.message);
  if (opts.include_source) {
    c.StringAfter(",\"source\":{\"file\":", e.where.file);
    if (e.where.offset != UINT64_MAX) c.UIntAfter(",\"offset\":", e.where.offset);
    if (e.where.line != 0) c.UIntAfter(",\"line\":", e.where.line);
    if (e.where.chunk != UINT32_MAX) c.UIntAfter(",\"chunk\":", e.where.chunk);
    c.Char('}');
  }
  c.Char('}');
}

void WriteEventJson(const Event& e, const EventJsonOptions& opts, JsonCursor& c) {
  WriteEventJsonHead(e, c);
  thread_local DataKeys keys;
  keys.Reset();
  for (const DataField& f : e.data) {
    keys.Write(c, f.name);
    c.StringAfter(":", f.value);
  }
  WriteEventJsonTail(e, opts, c);
}

void WriteEventJson(const Event& e, JsonWriter* w, const EventJsonOptions& opts) {
  std::string json;
  AppendEventJson(e, &json, opts);
  w->Raw(json);
}

// Runs once per record in `dump --format jsonl` of JSON exports, on the
// decoding threads.
void AppendEventJson(const Event& e, std::string* out, const EventJsonOptions& opts) {
  // Written through a JsonCursor (no per-field std::string calls) into a
  // per-thread scratch buffer, appended in one copy: the scratch keeps its
  // size between records, so the cursor's room needs no zero-filling
  // (growing `out` itself zero-filled ~2 KiB per record).
  thread_local std::string scratch;
  {
    JsonCursor c = JsonCursor::Scratch(&scratch);
    WriteEventJson(e, opts, c);
    out->append(c.Written());
  }
  // One huge event (a JSON export can carry megabytes) should not pin its
  // buffer for the thread's life.
  if (scratch.size() > kScratchKeep) std::string().swap(scratch);
}

}  // namespace eventsift
