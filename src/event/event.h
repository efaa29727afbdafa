#pragma once
// The one normalized Windows event. Every decoder (EVTX, JSON dialects) fills
// it; every later stage (detect, correlate, alert) reads it.
//
// Lifetime: all string_views borrow from the decoder's input buffer or from
// the decoder's per-batch Arena. An Event is valid only inside the
// EventHandler::OnEvent call that receives it; a stage that keeps anything
// must copy it (see OwnedEvent). Decoders reuse one Event object, so `data`
// keeps its capacity and steady-state decoding allocates nothing per field.

#include <cstdint>
#include <string_view>
#include <vector>

#include "src/core/time_util.h"

namespace eventsift {

// Standard level values (winmeta.xml).
enum class EventLevel : uint8_t {
  kLogAlways = 0,
  kCritical = 1,
  kError = 2,
  kWarning = 3,
  kInformation = 4,
  kVerbose = 5,
};

// EventData/UserData as ordered name -> value pairs. Unnamed <Data> elements
// have an empty name (positional, as in MSExchange CmdletLogs).
struct DataField {
  std::string_view name;
  std::string_view value;
};

// Where the event came from: file and byte offset (EVTX record) or line
// (NDJSON). `file` borrows from the source's path string.
struct SourceLocation {
  std::string_view file;
  uint64_t offset = UINT64_MAX;  // byte offset of the record, or UINT64_MAX
  uint64_t line = 0;             // 1-based line, or 0
  uint32_t chunk = UINT32_MAX;   // EVTX chunk index, or UINT32_MAX
};

struct Event {
  // <System>
  std::string_view provider;       // Provider/@Name (or EventSourceName)
  std::string_view provider_guid;  // Provider/@Guid, "{...}" form, may be empty
  uint32_t event_id = 0;
  uint16_t qualifiers = 0;
  bool has_qualifiers = false;
  uint8_t version = 0;
  uint8_t level = 0;  // EventLevel value; JSON dialects map their names onto it
  uint16_t task = 0;
  uint8_t opcode = 0;
  uint64_t keywords = 0;
  FileTime time = 0;  // TimeCreated/@SystemTime; 0 when unknown
  // System/EventRecordID: the id Event Viewer, Winlogbeat (winlog.record_id),
  // evtx_dump and libevtx show. EVTX records without the element keep their
  // header's number here.
  uint64_t record_id = 0;
  // EVTX only: the record header's number, 0 for JSON inputs. Equal to
  // record_id in a log Windows wrote; exported or saved logs (Event Viewer,
  // wevtutil epl) and forwarded events renumber the headers but keep
  // EventRecordID. Live-file tailing resumes by it (it grows with the file).
  uint64_t record_number = 0;
  std::string_view channel;
  std::string_view computer;
  std::string_view user_sid;  // Security/@UserID, may be empty
  uint32_t process_id = 0;
  uint32_t thread_id = 0;

  // <EventData>/<UserData> values in document order.
  std::vector<DataField> data;
  // Rendered message when the source carries one (JSON exports do; EVTX does not).
  std::string_view message;
  // The decoder skipped EventData/UserData because the handler's WantPayload
  // said no (`data` is empty for that reason, not because there was none).
  bool payload_declined = false;

  SourceLocation where;

  // Clears every field but keeps `data`'s capacity.
  void Reset() {
    auto keep = std::move(data);
    keep.clear();
    *this = Event{};
    data = std::move(keep);
  }

  // First EventData value with this name (case-sensitive), or nullptr.
  const DataField* FindData(std::string_view name) const {
    for (const auto& f : data) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }
};

}  // namespace eventsift
