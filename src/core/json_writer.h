#pragma once
// Minimal streaming JSON writer into a std::string: escaping is the hot path of
// dump and alert rendering, so it appends runs of safe bytes in one go.

#include <cstdint>
#include <string>
#include <string_view>

namespace eventsift {

// Appends `s` as a JSON string literal (with quotes). Invalid UTF-8 is passed
// through byte for byte only if valid; otherwise replaced with U+FFFD.
void AppendJsonString(std::string* out, std::string_view s);

// Appends `prefix` verbatim (JSON punctuation or a key such as `,"time":`),
// then `s` as AppendJsonString does. One append in the common case where `s`
// needs no escaping: per-field appends dominated `dump --format jsonl`.
void AppendJsonStringAfter(std::string* out, std::string_view prefix, std::string_view s);

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject() { Sep(); out_->push_back('{'); first_ = true; }
  void EndObject() { out_->push_back('}'); first_ = false; }
  void BeginArray() { Sep(); out_->push_back('['); first_ = true; }
  void EndArray() { out_->push_back(']'); first_ = false; }
  void Key(std::string_view k) {
    Sep();
    AppendJsonString(out_, k);
    out_->push_back(':');
    after_key_ = true;
  }
  void String(std::string_view v) { Sep(); AppendJsonString(out_, v); }
  void Int(int64_t v) { Sep(); out_->append(std::to_string(v)); }
  void UInt(uint64_t v) { Sep(); out_->append(std::to_string(v)); }
  void Bool(bool v) { Sep(); out_->append(v ? "true" : "false"); }
  void Null() { Sep(); out_->append("null"); }
  void Raw(std::string_view json) { Sep(); out_->append(json); }

  // Key + value shorthands.
  void KV(std::string_view k, std::string_view v) { Key(k); String(v); }
  void KV(std::string_view k, const char* v) { Key(k); String(v); }
  void KVInt(std::string_view k, int64_t v) { Key(k); Int(v); }
  void KVUInt(std::string_view k, uint64_t v) { Key(k); UInt(v); }
  void KVBool(std::string_view k, bool v) { Key(k); Bool(v); }

 private:
  void Sep() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_) out_->push_back(',');
    first_ = false;
  }
  std::string* out_;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace eventsift
