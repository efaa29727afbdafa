#pragma once
// OwnedEvent: a deep copy of an Event, for the few events a later stage keeps
// (alert samples). Copying happens only on a rule hit, never per input event.

#include <string>
#include <utility>
#include <vector>

#include "src/event/event.h"

namespace eventsift {

struct OwnedEvent {
  std::string provider, provider_guid, channel, computer, user_sid, message, file;
  uint32_t event_id = 0;
  uint16_t qualifiers = 0;
  bool has_qualifiers = false;
  uint8_t version = 0, level = 0, opcode = 0;
  uint16_t task = 0;
  uint64_t keywords = 0;
  FileTime time = 0;
  uint64_t record_id = 0;
  uint64_t record_number = 0;  // EVTX header's number (Event::record_number)
  uint32_t process_id = 0, thread_id = 0;
  uint64_t offset = UINT64_MAX;
  uint64_t line = 0;
  uint32_t chunk = UINT32_MAX;
  std::vector<std::pair<std::string, std::string>> data;

  friend bool operator==(const OwnedEvent&, const OwnedEvent&) = default;

  static OwnedEvent From(const Event& e) {
    OwnedEvent o;
    o.provider = e.provider;
    o.provider_guid = e.provider_guid;
    o.channel = e.channel;
    o.computer = e.computer;
    o.user_sid = e.user_sid;
    o.message = e.message;
    o.file = e.where.file;
    o.event_id = e.event_id;
    o.qualifiers = e.qualifiers;
    o.has_qualifiers = e.has_qualifiers;
    o.version = e.version;
    o.level = e.level;
    o.opcode = e.opcode;
    o.task = e.task;
    o.keywords = e.keywords;
    o.time = e.time;
    o.record_id = e.record_id;
    o.record_number = e.record_number;
    o.process_id = e.process_id;
    o.thread_id = e.thread_id;
    o.offset = e.where.offset;
    o.line = e.where.line;
    o.chunk = e.where.chunk;
    o.data.reserve(e.data.size());
    for (const auto& f : e.data) o.data.emplace_back(std::string(f.name), std::string(f.value));
    return o;
  }

  // A view of this copy as an Event; valid while *this lives unchanged.
  Event View() const {
    Event e;
    e.provider = provider;
    e.provider_guid = provider_guid;
    e.channel = channel;
    e.computer = computer;
    e.user_sid = user_sid;
    e.message = message;
    e.event_id = event_id;
    e.qualifiers = qualifiers;
    e.has_qualifiers = has_qualifiers;
    e.version = version;
    e.level = level;
    e.opcode = opcode;
    e.task = task;
    e.keywords = keywords;
    e.time = time;
    e.record_id = record_id;
    e.record_number = record_number;
    e.process_id = process_id;
    e.thread_id = thread_id;
    e.where = SourceLocation{file, offset, line, chunk};
    e.data.reserve(data.size());
    for (const auto& [n, v] : data) e.data.push_back(DataField{n, v});
    return e;
  }
};

}  // namespace eventsift
