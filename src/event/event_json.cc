#include "src/event/event_json.h"

#include <charconv>
#include <cstring>

namespace eventsift {

namespace {

// Scratch bytes a thread keeps between records.
constexpr size_t kScratchKeep = size_t{1} << 20;

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

// Everything after the time, from the provider on.
void WriteEventTail(const Event& e, const EventJsonOptions& opts, JsonCursor& c) {
  c.StringAfter(e.time != 0 ? "\",\"provider\":" : ",\"provider\":", e.provider);
  if (!e.provider_guid.empty()) c.StringAfter(",\"provider_guid\":", e.provider_guid);
  c.UIntAfter(",\"event_id\":", e.event_id);
  if (e.has_qualifiers) c.UIntAfter(",\"qualifiers\":", e.qualifiers);
  c.UIntAfter(",\"version\":", e.version);
  c.UIntAfter(",\"level\":", e.level);
  c.UIntAfter(",\"task\":", e.task);
  c.UIntAfter(",\"opcode\":", e.opcode);
  {
    constexpr std::string_view kKeywords = ",\"keywords\":\"0x";
    char buf[48];
    std::memcpy(buf, kKeywords.data(), kKeywords.size());
    auto [end, ec] = std::to_chars(buf + kKeywords.size(), buf + sizeof(buf) - 1, e.keywords, 16);
    *end++ = '"';
    c.Raw(std::string_view(buf, static_cast<size_t>(end - buf)));
  }
  c.StringAfter(",\"channel\":", e.channel);
  c.StringAfter(",\"computer\":", e.computer);
  if (!e.user_sid.empty()) c.StringAfter(",\"user_sid\":", e.user_sid);
  c.UIntAfter(",\"process_id\":", e.process_id);
  c.UIntAfter(",\"thread_id\":", e.thread_id);
  c.Raw(",\"data\":{");
  std::string key_scratch;
  // A key whose length and first byte match no earlier key's (a 64-bit
  // filter) cannot repeat one, so it is its own name without DataKey's scan
  // of the earlier keys: that scan is quadratic in the field count.
  uint64_t seen = 0;
  for (size_t i = 0; i < e.data.size(); ++i) {
    const std::string_view name = e.data[i].name;
    const uint64_t bit =
        name.empty() ? 0 : uint64_t{1} << ((name.size() * 7 + static_cast<uint8_t>(name[0])) & 63);
    const std::string_view key = (seen & bit) == 0 && bit != 0 ? name : DataKey(e, i, &key_scratch);
    seen |= bit;
    c.StringAfter(i == 0 ? std::string_view() : std::string_view(","), key);
    c.StringAfter(":", e.data[i].value);
  }
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

// Runs once per record in `dump --format jsonl`, on the decoding threads.
void AppendEventJson(const Event& e, std::string* out, const EventJsonOptions& opts) {
  AppendUIntField(out, "{\"record_id\":", e.record_id);
  if (e.time != 0) {
    out->append(",\"time\":\"");
    AppendRfc3339(out, e.time);  // its closing quote starts the provider key
  } else {
    out->append(",\"time\":null");
  }
  // The rest goes through a JsonCursor (no per-field std::string calls) into
  // a per-thread scratch buffer, appended in one copy: the scratch keeps its
  // size between records, so the cursor's room needs no zero-filling
  // (growing `out` itself zero-filled ~2 KiB per record).
  thread_local std::string scratch;
  {
    JsonCursor c = JsonCursor::Scratch(&scratch);
    WriteEventTail(e, opts, c);
    out->append(c.Written());
  }
  // One huge event (a JSON export can carry megabytes) should not pin its
  // buffer for the thread's life.
  if (scratch.size() > kScratchKeep) std::string().swap(scratch);
}

}  // namespace eventsift
