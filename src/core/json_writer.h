#pragma once
// Minimal streaming JSON writer into a std::string: escaping is the hot path of
// dump and alert rendering, so it finds runs of safe bytes 16 at a time and
// copies them in one go.

#include <charconv>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "src/core/decimal.h"

namespace eventsift {

// Appends `s` as a JSON string literal (with quotes). Invalid UTF-8 is passed
// through byte for byte only if valid; otherwise replaced with U+FFFD.
void AppendJsonString(std::string* out, std::string_view s);

// Appends `prefix` verbatim (JSON punctuation or a key such as `,"time":`),
// then `s` as AppendJsonString does. One append in the common case where `s`
// needs no escaping: per-field appends dominated `dump --format jsonl`.
void AppendJsonStringAfter(std::string* out, std::string_view prefix, std::string_view s);

// A write cursor into a std::string, for renderers that write many small
// pieces (dump writes about twenty per record): each piece is a bounds check
// and a copy rather than a call into std::string. The string's size is the
// cursor's room: bytes past the cursor are padding (zeros, or whatever an
// earlier use left), so strings are copied first and checked for bytes to
// escape afterwards, 16 at a time over that copy.
//
// Three uses:
// - JsonCursor(&out) writes at the end of `out` and trims the padding in
//   Finish() (or the destructor); nothing else may touch `out` meanwhile.
// - JsonCursor::Scratch(&buf) writes from the start of a buffer reused
//   across records and never trims it: its padding is already there, so no
//   zero-filling per record. Written() is what this record wrote.
// - JsonCursor::At(&buf, pos) is Scratch from `pos` on: a buffer holding many
//   records (an EVTX chunk's), whose readers know where each one ends.
class JsonCursor {
 public:
  explicit JsonCursor(std::string* out)
      : out_(out), start_(out->size()), pos_(start_), cap_(start_) {}
  static JsonCursor Scratch(std::string* buf) { return JsonCursor(buf, 0, false); }
  static JsonCursor At(std::string* buf, size_t pos) {
    if (pos > buf->size()) buf->resize(pos);  // the cursor's room starts at pos
    return JsonCursor(buf, pos, false);
  }
  ~JsonCursor() { Finish(); }
  // Copying would leave two cursors trimming one string.
  JsonCursor(const JsonCursor&) = delete;
  JsonCursor& operator=(const JsonCursor&) = delete;

  // Appends `s` verbatim (JSON punctuation, a key literal such as `,"a":`).
  void Raw(std::string_view s) {
    char* p = Room(s.size());
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    pos_ += s.size();
  }
  void Char(char c) {
    *Room(1) = c;
    ++pos_;
  }
  // Appends `prefix` verbatim, then `s` as AppendJsonString does.
  void StringAfter(std::string_view prefix, std::string_view s);
  // The same for UTF-16LE text (an EVTX string value), converted straight
  // into the output: what StringAfter(prefix, <its UTF-8 form>) writes,
  // without the UTF-8 copy in between.
  void Utf16StringAfter(std::string_view prefix, std::span<const uint8_t> utf16);
  // For text formatted in place (numbers, GUIDs): room for `n` bytes at the
  // cursor, then Advance(end) with the end of what was written there.
  char* Reserve(size_t n) { return Room(n); }
  void Advance(const char* end) { pos_ = static_cast<size_t>(end - out_->data()); }
  // Appends `prefix` verbatim, then `v` in decimal.
  void UIntAfter(std::string_view prefix, uint64_t v);
  // The same with a literal prefix (a key such as `,"channel":`): its length
  // is a constant, so copying it is a few moves instead of a memcpy call.
  template <size_t N>
  void StringAfter(const char (&prefix)[N], std::string_view s) {
    Literal(prefix);
    StringAfter(std::string_view(), s);
  }
  template <size_t N>
  void UIntAfter(const char (&prefix)[N], uint64_t v) {
    char* p = Room(N - 1 + 20);  // 20 digits: UINT64_MAX
    std::memcpy(p, prefix, N - 1);
    char* end = WriteDecimal(p + N - 1, v);
    pos_ += static_cast<size_t>(end - p);
  }
  // What was written since construction.
  std::string_view Written() const { return {out_->data() + start_, pos_ - start_}; }
  // Where the next byte goes, as an offset into the buffer; Rewind(p) drops
  // what was written after p (a record rendered again another way).
  size_t pos() const { return pos_; }
  void Rewind(size_t pos) { pos_ = pos; }
  // Inserts `ch` at `at` (at most pos()), moving what was written after it:
  // for the rare fix-up of text already written (a value that turns out to
  // be an array's first item).
  void InsertAt(size_t at, char ch) {
    Room(1);
    char* base = out_->data();
    std::memmove(base + at + 1, base + at, pos_ - at);
    base[at] = ch;
    ++pos_;
  }
  // Trims the padding (not for Scratch); the cursor may go on writing.
  void Finish() {
    if (trim_ && cap_ != pos_) out_->resize(pos_);
    if (trim_) cap_ = pos_;
  }

 private:
  JsonCursor(std::string* buf, size_t pos, bool trim)
      : out_(buf), start_(pos), pos_(pos), cap_(buf->size()), trim_(trim) {}
  // Where the next n bytes go.
  char* Room(size_t n) {
    if (cap_ - pos_ < n) Grow(n);
    return out_->data() + pos_;
  }
  void Grow(size_t n);
  template <size_t N>
  void Literal(const char (&s)[N]) {
    static_assert(N >= 1);
    std::memcpy(Room(N - 1), s, N - 1);  // N - 1: without the NUL
    pos_ += N - 1;
  }
  // The n string bytes just copied to `body` (after `head` bytes of prefix
  // and opening quote, at the cursor): closes the string and moves the cursor
  // past it if none needs escaping. Returns the first that does, or n.
  size_t CloseIfSafe(size_t head, char* body, size_t n);
  // The slow path of StringAfter: s[bad] needs escaping; the prefix, quote
  // and s[0, bad) are written at the cursor already.
  void EscapeRest(size_t head, std::string_view s, size_t bad);

  std::string* out_;
  size_t start_;  // where this cursor began writing
  size_t pos_;    // bytes written so far (the string's logical size)
  size_t cap_;    // out_->size(): written bytes plus padding
  bool trim_ = true;
};

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject() {
    Sep();
    out_->push_back('{');
    first_ = true;
  }
  void EndObject() {
    out_->push_back('}');
    first_ = false;
  }
  void BeginArray() {
    Sep();
    out_->push_back('[');
    first_ = true;
  }
  void EndArray() {
    out_->push_back(']');
    first_ = false;
  }
  void Key(std::string_view k) {
    Sep();
    AppendJsonString(out_, k);
    out_->push_back(':');
    after_key_ = true;
  }
  void String(std::string_view v) {
    Sep();
    AppendJsonString(out_, v);
  }
  void Int(int64_t v) {
    Sep();
    out_->append(std::to_string(v));
  }
  void UInt(uint64_t v) {
    Sep();
    out_->append(std::to_string(v));
  }
  void Bool(bool v) {
    Sep();
    out_->append(v ? "true" : "false");
  }
  void Null() {
    Sep();
    out_->append("null");
  }
  void Raw(std::string_view json) {
    Sep();
    out_->append(json);
  }

  // Key + value shorthands.
  void KV(std::string_view k, std::string_view v) {
    Key(k);
    String(v);
  }
  void KV(std::string_view k, const char* v) {
    Key(k);
    String(v);
  }
  void KVInt(std::string_view k, int64_t v) {
    Key(k);
    Int(v);
  }
  void KVUInt(std::string_view k, uint64_t v) {
    Key(k);
    UInt(v);
  }
  void KVBool(std::string_view k, bool v) {
    Key(k);
    Bool(v);
  }

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
