#pragma once
// Alerts for the alert tests: a full one (every optional field present, text
// that needs escaping) and the sparse shapes the correlator also produces.

#include "src/alert/alert.h"
#include "src/core/time_util.h"

namespace eventsift::testing {

inline OwnedEvent SampleEvent() {
  OwnedEvent e;
  e.provider = "MSExchange Mitigation Service";
  e.channel = "Application";
  e.computer = "EX01.contoso.com";
  e.event_id = 1008;
  e.qualifiers = 16384;
  e.has_qualifiers = true;
  e.level = 2;
  e.keywords = 0x80000000000000ULL;
  e.time = *ParseEventTime("2025-01-24T10:15:30.1234567Z");
  e.record_id = 4711;
  e.process_id = 5668;
  e.thread_id = 12;
  e.user_sid = "S-1-5-18";
  e.message =
      "An unexpected exception occurred.\r\nDiagnostic information: Exception encountered while "
      "fetching mitigations : \"Could not establish trust relationship\" \\ caf\xC3\xA9";
  e.data = {{"", "fetching mitigations"}, {"Detail", "tab\there"}, {"Detail", "second"}};
  e.file = "C:\\logs\\Application.evtx";
  e.offset = 69632;
  e.chunk = 1;
  return e;
}

inline Alert FullAlert() {
  Alert a;
  a.alert_id = "0123456789abcdef0123456789abcdef";
  a.rule.id = "eems-mitigation-error";
  a.rule.title = "EEMS cannot fetch mitigations";
  a.rule.severity = "high";
  a.rule.description = "Event 1008 from MSExchange Mitigation Service.";
  a.rule.references = {"https://techcommunity.microsoft.com/blog/exchange/4370312",
                       "https://aka.ms/HC-EEMS"};
  a.rule.remediation = "Install the latest SU.";
  a.host = "ex01.contoso.com";
  a.host_names = {"EX01", "EX01.contoso.com"};
  ExchangeBuildInfo build;
  build.version = "15.1.2507.21";
  build.product = "Exchange Server 2016 CU23 Feb23 SU";
  build.status = BuildStatus::kOutdated;
  build.older_than_march_2023 = true;
  build.source = "event MSExchange Common 4999 at Application.evtx@0x1000";
  a.exchange = build;
  a.window_start = *ParseEventTime("2025-01-24T10:00:00Z");
  a.window_end = *ParseEventTime("2025-01-25T10:00:00Z");
  a.first_seen = *ParseEventTime("2025-01-24T10:15:30.1234567Z");
  a.last_seen = *ParseEventTime("2025-01-24T23:15:30Z");
  a.count = 14;
  a.suppressed = 3;
  a.samples.push_back(SampleEvent());
  OwnedEvent line_event;  // an NDJSON-sourced sample: line, no offset or chunk
  line_event.provider = "MSExchange CmdletLogs";
  line_event.channel = "MSExchange Management";
  line_event.computer = "EX01";
  line_event.event_id = 1;
  line_event.level = 4;
  line_event.time = *ParseEventTime("2025-01-24T11:00:00Z");
  line_event.file = "export.jsonl";
  line_event.line = 17;
  a.samples.push_back(line_event);
  return a;
}

// No build, no times (the untimed window), no samples, empty texts.
inline Alert SparseAlert() {
  Alert a;
  a.alert_id = "fedcba9876543210fedcba9876543210";
  a.rule.id = "r";
  a.host = "";
  a.count = 1;
  return a;
}

}  // namespace eventsift::testing
