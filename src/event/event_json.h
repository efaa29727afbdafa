#pragma once
// The JSON form of one Event: `eventsift dump --format jsonl` prints it per
// record, and alert samples embed it. docs/dump-format.md documents it.
//
//   {"record_id":1,"time":"2021-11-19T16:52:33.8337335Z","provider":"...",
//    "provider_guid":"{...}","event_id":1,"qualifiers":16384,"version":0,
//    "level":4,"task":0,"opcode":0,"keywords":"0x80000000000000",
//    "channel":"...","computer":"...","user_sid":"S-1-5-18",
//    "process_id":4,"thread_id":8,"data":{"Name":"value",...},
//    "message":"...","source":{"file":"...","offset":4608,"chunk":0}}
//
// `data` keeps document order. Unnamed <Data> values get the keys param1,
// param2, ... (1-based, their position among all values, as Winlogbeat names
// them). Consecutive fields of one name (an array substitution's items, which
// EVTX repeats as one <Data Name="x"> per item) are one member whose value is
// an array of strings; a name that comes back later gets "_2", "_3", ...
// appended, so no value is lost.
// Empty optional fields (provider_guid, user_sid, message, qualifiers) are
// omitted.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/json_writer.h"
#include "src/event/event.h"

namespace eventsift {

struct EventJsonOptions {
  bool include_source = true;  // the "source" object (file, offset/line, chunk)
  // Consecutive fields of one name as one array member (dump's format);
  // false writes each as a string, the repeats numbered (alert samples: the
  // alert schema's data values are strings).
  bool arrays = true;
};

void WriteEventJson(const Event& e, JsonWriter* w, const EventJsonOptions& opts = {});
// Appends one JSON object (no newline).
void AppendEventJson(const Event& e, std::string* out, const EventJsonOptions& opts = {});

// AppendEventJson in pieces, for a renderer that writes each data value as it
// decodes it (EVTX dump) instead of collecting them in Event::data first:
// the head, then per field DataKeys::Begin and the value (the prefix Begin
// returns, then a JSON string), DataKeys::Close, then the tail. Written in this order the pieces
// give exactly AppendEventJson's text.
//
// Everything up to and including `"data":{` (e.data is not read).
void WriteEventJsonHead(const Event& e, JsonCursor& c);
// The `}` closing data, then message, source and the closing `}`.
void WriteEventJsonTail(const Event& e, const EventJsonOptions& opts, JsonCursor& c);
// Head, e.data, tail.
void WriteEventJson(const Event& e, const EventJsonOptions& opts, JsonCursor& c);

// The keys of `data` (DataKey's rule) for fields that arrive one by one.
// The names must stay valid until Reset().
class DataKeys {
 public:
  // Whether consecutive fields of one name become an array (default yes).
  void set_arrays(bool arrays) { arrays_ = arrays; }
  void Reset() {
    names_.clear();
    seen_ = 0;
    positions_ = 0;
    value_at_ = kNoValue;
    array_open_ = false;
  }
  // The key of the next field, named `name`; valid until the next call.
  std::string_view Next(std::string_view name);
  // Counts a field whose key the caller knew already (a template plan's) and
  // writes nothing; `value_at` is where its value starts in the cursor.
  void Add(std::string_view name, size_t value_at = kNoValue) {
    ++positions_;
    names_.push_back(name);
    seen_ |= Bit(name);
    value_at_ = value_at;
  }
  // Whether a field named `name` would continue the previous field's array
  // (Begin returns "," for it): its key cannot be known in advance.
  bool Continues(std::string_view name) const {
    return arrays_ && !name.empty() && value_at_ != kNoValue && !names_.empty() &&
           names_.back() == name;
  }
  // Starts the next field, named `name`, and returns the text to write right
  // before its value: ":" after its key, written here (with the separator,
  // and the `]` of an array the previous fields left open), or "," when it
  // continues the previous field's array (the previous value becomes the
  // array's first item).
  std::string_view Begin(JsonCursor& c, std::string_view name) {
    if (Continues(name)) {
      ++positions_;
      if (!array_open_) c.InsertAt(value_at_, '[');
      array_open_ = true;
      return ",";
    }
    Close(c);
    Write(c, name);
    value_at_ = c.pos() + 1;
    return ":";
  }
  // Ends an array the last fields left open; call before the data object's
  // closing brace, and before writing a key Begin did not write.
  void Close(JsonCursor& c) {
    if (array_open_) c.Char(']');
    array_open_ = false;
  }
  // Members so far (an array's items are one member).
  size_t size() const { return names_.size(); }
  // Writes the separator and the next field's key (Next(name)) as a JSON
  // string; the value follows after ":".
  void Write(JsonCursor& c, std::string_view name) {
    const bool first = names_.empty();
    c.StringAfter(first ? std::string_view() : std::string_view(","), Next(name));
  }

 private:
  static uint64_t Bit(std::string_view name) {
    return name.empty() ? 0
                        : uint64_t{1} << ((name.size() * 7 + static_cast<uint8_t>(name[0])) & 63);
  }

  static constexpr size_t kNoValue = SIZE_MAX;

  std::vector<std::string_view> names_;  // one per member
  size_t positions_ = 0;                 // fields so far, array items each counted
  size_t value_at_ = kNoValue;           // where the last field's value starts in the cursor
  bool array_open_ = false;              // the last fields are an array still open
  bool arrays_ = true;
  // A key whose length and first byte match no earlier key's (a 64-bit
  // filter) cannot repeat one, so it is its own name without a scan of the
  // earlier names: that scan is quadratic in the field count.
  uint64_t seen_ = 0;
  std::string scratch_;
};

}  // namespace eventsift
