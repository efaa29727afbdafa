#pragma once
// EventHandler: what a decoder hands its events to.

#include "src/event/event.h"

namespace eventsift {

class EventHandler {
 public:
  virtual ~EventHandler() = default;

  // Called with the <System> fields filled and `data`/`message` still empty.
  // Returning false lets the decoder skip decoding EventData and the message
  // for this event (scan: no loaded rule can match it). The event is then
  // still delivered to OnEvent, with an empty payload, so counts stay exact.
  virtual bool WantPayload(const Event& header) { return true; }

  // True when WantPayload would say yes to every header (scan: a rule every
  // event meets, as SigmaHQ's keyword rules are). A decoder may then decode
  // each event whole at once instead of reading its header first to ask:
  // the JSON decoder read every document twice for that.
  virtual bool WantsEveryPayload() const { return false; }

  // Whether an event whose payload WantPayload declined must still reach
  // OnEvent with every <System> field. A handler that only counts declined
  // events and tracks their record ids (scan) says no; the EVTX decoder then
  // fills just the fields a rule's header filter reads (provider, event id,
  // level, channel) and the computer and EventRecordID (record id, written
  // time and location are always set) before asking WantPayload,
  // and the rest only for the events it wants. On a typical log that skips
  // most of the header work, since most events are declined.
  virtual bool FullHeaderWhenDeclined() const { return true; }

  // Whether WantPayload may be called from several decoding threads at once.
  // Otherwise a multi-threaded decoder serialises the calls with a lock,
  // taken once per event, which costs more than the question on 2+ threads.
  virtual bool WantPayloadIsThreadSafe() const { return false; }

  // Called once per event, from one thread at a time, in input order. The
  // event and everything it points to is valid only during the call.
  virtual void OnEvent(const Event& event) = 0;
};

}  // namespace eventsift
