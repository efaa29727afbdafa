// Field-by-field mapping of each export shape. Expected values were read off
// the input lines named in each test (tests/data/json, made by
// make_test_data.py; see tests/data/SOURCES.md).

#include <gtest/gtest.h>

#include <string>

#include "parsers/json/json_value.h"
#include "src/core/time_util.h"
#include "tests/unit/parsers/json/json_test_util.h"

namespace eventsift::json::testing {
namespace {

constexpr std::string_view kMessagePrefix =
    "An unexpected exception occurred. Diagnostic information: Exception encountered while "
    "fetching mitigations : System.AggregateException:";
constexpr std::string_view kDiagPrefix =
    "Exception encountered while fetching mitigations : System.AggregateException:";
constexpr std::string_view kTlsCause =
    "Could not establish trust relationship for the SSL/TLS secure channel.";
constexpr std::string_view kEems = "MSExchange Mitigation Service";

std::string Time(const OwnedEvent& e, int digits = 3) { return FormatRfc3339(e.time, digits); }

bool StartsWith(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

// What every shape says about line 1: EX01's first EEMS 1008.
void ExpectFirstEems(const OwnedEvent& e) {
  EXPECT_EQ(e.provider, kEems);
  EXPECT_EQ(e.event_id, 1008u);
  EXPECT_EQ(e.level, 2);
  EXPECT_EQ(e.channel, "Application");
  EXPECT_EQ(e.record_id, 81001u);
  EXPECT_EQ(e.process_id, 4312u);
  EXPECT_EQ(e.thread_id, 5120u);
}

// The first event decoded from `line`.
const OwnedEvent* AtLine(const std::vector<OwnedEvent>& events, uint64_t line) {
  for (const auto& e : events) {
    if (e.line == line) return &e;
  }
  return nullptr;
}

// Whether a time string names its zone decides how NXLog's EventTime is
// read (local or not): Z, +hh:mm, -hh:mm after the date, or /Date(ms)/.
TEST(JsonShapes, HasZoneReadsEveryZoneForm) {
  EXPECT_TRUE(HasZone("2023-03-14T10:00:00Z"));
  EXPECT_TRUE(HasZone("2023-03-14T10:00:00.123z"));
  EXPECT_TRUE(HasZone("2023-03-14T10:00:00+02:00"));
  EXPECT_TRUE(HasZone("2023-03-14 10:00:00-05:00"));
  EXPECT_TRUE(HasZone(" /Date(1678788000000)/ "));
  EXPECT_FALSE(HasZone("2023-03-14T10:00:00"));
  EXPECT_FALSE(HasZone("2023-03-14 10:00:00.1234567"));
  EXPECT_FALSE(HasZone("2023-03-14"));  // the date's own '-' is not a zone
  EXPECT_FALSE(HasZone(""));
}

TEST(JsonShapes, WinlogbeatFields) {
  Decoded d = DecodeClean("winlogbeat.ndjson");
  ASSERT_EQ(d.events.size(), 57u);

  // Line 1: EX01, event_id as a string, param1.
  const OwnedEvent& e = d.events[0];
  EXPECT_EQ(e.line, 1u);
  EXPECT_EQ(e.offset, 0u);
  EXPECT_EQ(e.file, "winlogbeat.ndjson");
  ExpectFirstEems(e);  // level from log.level "error"
  EXPECT_FALSE(e.has_qualifiers);
  EXPECT_EQ(e.computer, "EX01.contoso.com");  // winlog.computer_name, not host.name "ex01"
  EXPECT_EQ(Time(e), "2026-11-20T23:05:12.345Z");
  EXPECT_TRUE(StartsWith(e.message, kMessagePrefix));
  EXPECT_NE(e.message.find(kTlsCause), std::string::npos);
  ASSERT_EQ(e.data.size(), 1u);
  EXPECT_EQ(NameAt(e, 0), "");  // param1 is Winlogbeat's name for unnamed <Data>
  EXPECT_TRUE(StartsWith(DataAt(e, 0), kDiagPrefix));
  EXPECT_EQ(e.user_sid, "");
  EXPECT_EQ(e.keywords, 0u);  // Winlogbeat writes keyword names only

  // Line 3: EX02, numeric event_id, 0-based param0, trailing-dot FQDN.
  const OwnedEvent* ex02 = AtLine(d.events, 3);
  ASSERT_NE(ex02, nullptr);
  EXPECT_EQ(ex02->event_id, 1008u);
  EXPECT_EQ(ex02->computer, "EX02.contoso.com.");
  EXPECT_EQ(ex02->record_id, 52001u);
  EXPECT_EQ(Time(*ex02), "2026-11-20T23:41:57.345Z");
  ASSERT_EQ(ex02->data.size(), 1u);
  EXPECT_EQ(NameAt(*ex02, 0), "");
  EXPECT_TRUE(StartsWith(DataAt(*ex02, 0), kDiagPrefix));

  // Line 8: Security 4624 with provider_guid, user.identifier, named data.
  const OwnedEvent* logon = AtLine(d.events, 8);
  ASSERT_NE(logon, nullptr);
  EXPECT_EQ(logon->event_id, 4624u);
  EXPECT_EQ(logon->provider, "Microsoft-Windows-Security-Auditing");
  EXPECT_EQ(logon->provider_guid, "{54849625-5478-4994-A5BA-3E3B0328C30D}");
  EXPECT_EQ(logon->user_sid, "S-1-5-18");
  EXPECT_EQ(logon->level, 4);  // log.level "information"
  ASSERT_EQ(logon->data.size(), 4u);
  EXPECT_EQ(NameAt(*logon, 0), "SubjectUserSid");
  EXPECT_EQ(NameAt(*logon, 1), "TargetUserName");
  EXPECT_EQ(DataAt(*logon, 1), "HealthMailbox01");
  EXPECT_EQ(NameAt(*logon, 3), "IpAddress");
  EXPECT_EQ(DataAt(*logon, 3), "10.0.0.12");

  // Line 5: Service Control Manager's param1/param2 are positional too.
  const OwnedEvent* scm = AtLine(d.events, 5);
  ASSERT_NE(scm, nullptr);
  EXPECT_EQ(scm->event_id, 7036u);
  ASSERT_EQ(scm->data.size(), 2u);
  EXPECT_EQ(NameAt(*scm, 0), "");
  EXPECT_EQ(DataAt(*scm, 0), "Windows Update");
  EXPECT_EQ(DataAt(*scm, 1), "running");
}

TEST(JsonShapes, NxlogFields) {
  Decoded d = DecodeClean("nxlog.ndjson");
  ASSERT_EQ(d.events.size(), 57u);

  // Line 1: EX01, zone-less EventTime (taken as UTC), no Data.
  const OwnedEvent& e = d.events[0];
  ExpectFirstEems(e);    // level from SeverityValue 4 (ERROR); pid/tid from Execution*ID
  EXPECT_EQ(e.task, 1);  // TaskValue
  EXPECT_EQ(e.opcode, 0);
  EXPECT_EQ(e.keywords, 0x80000000000000u);  // 36028797018963968
  EXPECT_EQ(e.computer, "ex01");
  EXPECT_EQ(Time(e), "2026-11-20T23:05:12.000Z");
  EXPECT_TRUE(StartsWith(e.message, kMessagePrefix));
  // EventReceivedTime, SourceModuleName/Type and Opcode's name are not data.
  EXPECT_TRUE(e.data.empty());

  // Line 3: EX02, ISO time with Z, OpenWEC's "Data" array -> unnamed data.
  const OwnedEvent* ex02 = AtLine(d.events, 3);
  ASSERT_NE(ex02, nullptr);
  EXPECT_EQ(ex02->computer, "EX02.CONTOSO.COM");
  EXPECT_EQ(Time(*ex02, 7), "2026-11-20T23:41:57.3450000Z");
  ASSERT_EQ(ex02->data.size(), 1u);
  EXPECT_EQ(NameAt(*ex02, 0), "");
  EXPECT_TRUE(StartsWith(DataAt(*ex02, 0), kDiagPrefix));

  // Line 8: AUDIT_SUCCESS is level 0; named data in document order; NXLog's
  // Domain/AccountName/AccountType lookups are not data.
  const OwnedEvent* logon = AtLine(d.events, 8);
  ASSERT_NE(logon, nullptr);
  EXPECT_EQ(logon->event_id, 4624u);
  EXPECT_EQ(logon->level, 0);
  EXPECT_EQ(logon->keywords, 0x8020000000000000u);  // 9232379236109516800
  EXPECT_EQ(logon->task, 12544);
  EXPECT_EQ(logon->user_sid, "S-1-5-18");
  EXPECT_EQ(logon->provider_guid, "{54849625-5478-4994-A5BA-3E3B0328C30D}");
  ASSERT_EQ(logon->data.size(), 4u);
  EXPECT_EQ(NameAt(*logon, 0), "SubjectUserSid");
  EXPECT_EQ(DataAt(*logon, 0), "S-1-5-18");
  EXPECT_EQ(NameAt(*logon, 2), "LogonType");
  EXPECT_EQ(DataAt(*logon, 2), "3");
}

TEST(JsonShapes, PowerShellArrayFields) {
  Decoded d = DecodeClean("powershell_array.json");
  ASSERT_EQ(d.events.size(), 57u);

  // The first element's '{' is on line 2, after the '[' line.
  const OwnedEvent& e = d.events[0];
  EXPECT_EQ(e.line, 2u);
  EXPECT_EQ(e.offset, 7u);  // "[\r\n" and four spaces of indent
  ExpectFirstEems(e);       // channel from LogName
  EXPECT_TRUE(e.has_qualifiers);
  EXPECT_EQ(e.qualifiers, 49152);
  EXPECT_EQ(e.task, 1);
  EXPECT_EQ(e.keywords, 0x80000000000000u);
  EXPECT_EQ(e.computer, "EX01.contoso.com");       // MachineName
  EXPECT_EQ(e.provider_guid, "");                  // ProviderId null
  EXPECT_EQ(Time(e), "2026-11-20T23:05:12.345Z");  // \/Date(1795215912345)\/
  EXPECT_TRUE(StartsWith(e.message, kMessagePrefix));
  ASSERT_EQ(e.data.size(), 1u);
  EXPECT_EQ(NameAt(e, 0), "");
  EXPECT_TRUE(StartsWith(DataAt(e, 0), kDiagPrefix));

  // Line 250: 4624 with Qualifiers null, ProviderId without braces and the
  // UserId SecurityIdentifier object.
  const OwnedEvent* logon = AtLine(d.events, 250);
  ASSERT_NE(logon, nullptr);
  EXPECT_EQ(logon->event_id, 4624u);
  EXPECT_FALSE(logon->has_qualifiers);
  EXPECT_EQ(logon->level, 0);
  EXPECT_EQ(logon->keywords, 0x8020000000000000u);
  EXPECT_EQ(logon->provider_guid, "{54849625-5478-4994-A5BA-3E3B0328C30D}");
  EXPECT_EQ(logon->user_sid, "S-1-5-18");
  EXPECT_EQ(logon->computer, "ex02.contoso.com");
  EXPECT_EQ(Time(*logon), "2026-11-21T01:25:12.345Z");  // 1795224312345 ms
  ASSERT_EQ(logon->data.size(), 4u);                    // Properties are positional
  EXPECT_EQ(DataAt(*logon, 0), "S-1-5-18");
  EXPECT_EQ(DataAt(*logon, 1), "HealthMailbox01");
  EXPECT_EQ(DataAt(*logon, 2), "3");
  EXPECT_EQ(DataAt(*logon, 3), "10.0.0.12");
}

TEST(JsonShapes, PowerShellUtf16LeMatchesUtf8) {
  std::string raw = ReadFile(DataPath("powershell_utf16le.json"));
  ASSERT_GE(raw.size(), 4u);
  EXPECT_EQ(static_cast<uint8_t>(raw[0]), 0xFF);
  EXPECT_EQ(static_cast<uint8_t>(raw[1]), 0xFE);
  EXPECT_EQ(raw[2], '[');
  EXPECT_EQ(raw[3], '\0');

  Decoded wide = DecodeFile("powershell_utf16le.json");
  Decoded narrow = DecodeFile("powershell_array.json");
  ASSERT_TRUE(wide.status.ok()) << wide.status.ToString();
  EXPECT_TRUE(wide.reports.empty());
  ASSERT_EQ(wide.events.size(), narrow.events.size());
  for (size_t i = 0; i < wide.events.size(); ++i) {
    const OwnedEvent& a = wide.events[i];
    const OwnedEvent& b = narrow.events[i];
    EXPECT_EQ(a.event_id, b.event_id) << i;
    EXPECT_EQ(a.provider, b.provider) << i;
    EXPECT_EQ(a.computer, b.computer) << i;
    EXPECT_EQ(a.time, b.time) << i;
    EXPECT_EQ(a.message, b.message) << i;
    EXPECT_EQ(a.data, b.data) << i;
    EXPECT_EQ(a.line, b.line) << i;
  }
  EXPECT_EQ(wide.events[0].computer, "EX01.contoso.com");
}

TEST(JsonShapes, EvtxDumpFields) {
  Decoded d = DecodeClean("evtx_dump.jsonl");
  ASSERT_EQ(d.events.size(), 58u);

  // Line 1: native numbers, EventID with Qualifiers, one unnamed Data.
  const OwnedEvent& e = d.events[0];
  ExpectFirstEems(e);
  EXPECT_TRUE(e.has_qualifiers);
  EXPECT_EQ(e.qualifiers, 49152);
  EXPECT_EQ(e.task, 1);
  EXPECT_EQ(e.keywords, 0x80000000000000u);
  EXPECT_EQ(e.computer, "Ex01.Contoso.Com");
  EXPECT_EQ(Time(e, 7), "2026-11-20T23:05:12.3450000Z");
  EXPECT_EQ(e.message, "");  // evtx_dump has no rendered message
  ASSERT_EQ(e.data.size(), 1u);
  EXPECT_EQ(NameAt(e, 0), "");
  EXPECT_TRUE(StartsWith(DataAt(e, 0), kDiagPrefix));

  // Line 3: forwarded, every number a string.
  const OwnedEvent* ex02 = AtLine(d.events, 3);
  ASSERT_NE(ex02, nullptr);
  EXPECT_EQ(ex02->event_id, 1008u);
  EXPECT_EQ(ex02->qualifiers, 49152);
  EXPECT_EQ(ex02->level, 2);
  EXPECT_EQ(ex02->record_id, 52001u);
  EXPECT_EQ(ex02->process_id, 4312u);
  EXPECT_EQ(ex02->computer, "EX02");

  // Line 8: named EventData and Security/@UserID.
  const OwnedEvent* logon = AtLine(d.events, 8);
  ASSERT_NE(logon, nullptr);
  EXPECT_EQ(logon->event_id, 4624u);
  EXPECT_FALSE(logon->has_qualifiers);
  EXPECT_EQ(logon->user_sid, "S-1-5-18");
  EXPECT_EQ(logon->provider_guid, "{54849625-5478-4994-A5BA-3E3B0328C30D}");
  ASSERT_EQ(logon->data.size(), 4u);
  EXPECT_EQ(NameAt(*logon, 1), "TargetUserName");
  EXPECT_EQ(DataAt(*logon, 1), "HealthMailbox01");

  // Line 15: MSExchange CmdletLogs, seven unnamed values in a #text array.
  const OwnedEvent* cmdlet = AtLine(d.events, 15);
  ASSERT_NE(cmdlet, nullptr);
  EXPECT_EQ(cmdlet->event_id, 1u);
  EXPECT_EQ(cmdlet->channel, "MSExchange Management");
  ASSERT_EQ(cmdlet->data.size(), 7u);
  EXPECT_EQ(DataAt(*cmdlet, 0), "Get-Mailbox");
  EXPECT_EQ(DataAt(*cmdlet, 1), "-Identity \"admin\"");
  EXPECT_EQ(DataAt(*cmdlet, 6), "5668 w3wp#MSExchangePowerShellAppPool");

  // Line 31: UserData flattened, #attributes skipped.
  const OwnedEvent* cleared = AtLine(d.events, 31);
  ASSERT_NE(cleared, nullptr);
  EXPECT_EQ(cleared->event_id, 1102u);
  EXPECT_EQ(cleared->provider_guid, "{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}");
  EXPECT_EQ(cleared->keywords, 0x4020000000000000u);
  ASSERT_EQ(cleared->data.size(), 4u);
  EXPECT_EQ(NameAt(*cleared, 0), "SubjectUserSid");
  EXPECT_EQ(DataAt(*cleared, 0), "S-1-5-21-1-2-3-500");
  EXPECT_EQ(NameAt(*cleared, 3), "SubjectLogonId");
  EXPECT_EQ(DataAt(*cleared, 3), "0x3e7");
}

// The same logical events in four shapes select the same EEMS errors; the
// look-alikes (Information level, another provider) do not get level 2 from
// the EEMS provider.
TEST(JsonShapes, EemsEventsAgreeAcrossShapes) {
  for (const char* file :
       {"winlogbeat.ndjson", "nxlog.ndjson", "powershell_array.json", "evtx_dump.jsonl"}) {
    Decoded d = DecodeFile(file);
    ASSERT_TRUE(d.status.ok()) << file;
    int eems = 0, watson = 0, ex01 = 0;
    for (const auto& e : d.events) {
      if (e.provider == kEems && e.event_id == 1008 && e.level == 2) {
        ++eems;
        std::string lower = e.computer;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower.rfind("ex01", 0) == 0) ++ex01;
      }
      if (e.provider == "MSExchange Common" && e.event_id == 4999) {
        ++watson;
        bool in_data =
            !e.data.empty() && e.data[0].second.find("15.01.2507.016") != std::string::npos;
        bool in_message = e.message.find("15.01.2507.016") != std::string::npos;
        EXPECT_TRUE(in_data || in_message) << file;
      }
    }
    EXPECT_EQ(eems, 50) << file;  // 26 on EX01 + 24 on EX02
    EXPECT_EQ(ex01, 26) << file;
    EXPECT_EQ(watson, 1) << file;
  }
}

TEST(JsonShapes, MixedShapesInOneGzipFile) {
  Decoded d = DecodeClean("mixed_shapes.ndjson.gz");
  ASSERT_EQ(d.events.size(), 4u);
  const char* computers[] = {"EX01.contoso.com", "ex01", "EX01.contoso.com", "Ex01.Contoso.Com"};
  for (size_t i = 0; i < 4; ++i) {
    const OwnedEvent& e = d.events[i];
    EXPECT_EQ(e.line, i + 1);
    EXPECT_EQ(e.event_id, 1008u);
    EXPECT_EQ(e.provider, kEems);
    EXPECT_EQ(e.level, 2);
    EXPECT_EQ(e.record_id, 81001u);
    EXPECT_EQ(e.channel, "Application");
    EXPECT_EQ(e.computer, computers[i]);
    // The NXLog line (EX01 style) has no "Data" key, only its message.
    EXPECT_EQ(e.data.empty(), i == 1) << i;
  }
}

TEST(JsonShapes, OtrfNxlogSubsetDecodesCleanly) {
  Decoded d = DecodeClean("otrf_smbexec_head200.json.gz");
  ASSERT_EQ(d.events.size(), 200u);

  // Line 1, read off the file: a Sysmon 10 from WORKSTATION5.
  const OwnedEvent& e = d.events[0];
  EXPECT_EQ(e.provider, "Microsoft-Windows-Sysmon");
  EXPECT_EQ(e.provider_guid, "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}");
  EXPECT_EQ(e.event_id, 10u);
  EXPECT_EQ(e.version, 3);
  EXPECT_EQ(e.level, 4);  // SeverityValue 2 (INFO)
  EXPECT_EQ(e.task, 10);
  EXPECT_EQ(e.opcode, 0);
  EXPECT_EQ(e.keywords, 0x8000000000000000u);  // -9223372036854775808
  EXPECT_EQ(e.channel, "Microsoft-Windows-Sysmon/Operational");
  EXPECT_EQ(e.computer, "WORKSTATION5.theshire.local");  // not Logstash's "host"
  EXPECT_EQ(e.record_id, 1929240u);
  EXPECT_EQ(e.process_id, 9848u);
  EXPECT_EQ(e.thread_id, 7976u);
  EXPECT_EQ(e.user_sid, "S-1-5-18");
  // EventTime 02:57:14 is local; @timestamp 06:57:17.371Z minus
  // EventReceivedTime 02:57:17 gives UTC-4, and the event's own UtcTime field
  // (06:57:14.637) agrees.
  EXPECT_EQ(Time(e, 0), "2020-09-20T06:57:14Z");
  // 11 EventData fields in document order; NXLog/Logstash metadata excluded.
  ASSERT_EQ(e.data.size(), 11u);
  EXPECT_EQ(NameAt(e, 0), "SourceImage");
  EXPECT_EQ(DataAt(e, 0), "C:\\windows\\system32\\svchost.exe");
  EXPECT_EQ(NameAt(e, 4), "SourceProcessId");
  EXPECT_EQ(DataAt(e, 4), "880");
  EXPECT_EQ(NameAt(e, 9), "UtcTime");
  EXPECT_EQ(NameAt(e, 10), "RuleName");
  EXPECT_EQ(e.message, "");  // this line has no Message
}

TEST(JsonShapes, OtrfTimeCreatedVariantWithCrlf) {
  Decoded d = DecodeClean("otrf_netprofm_head100.json.gz");
  ASSERT_EQ(d.events.size(), 100u);
  const OwnedEvent& e = d.events[0];
  EXPECT_EQ(e.event_id, 4624u);
  EXPECT_EQ(e.level, 0);                       // "Level":"0"
  EXPECT_EQ(e.task, 12544);                    // "Task":"12544"
  EXPECT_EQ(e.keywords, 0x8020000000000000u);  // "0x8020000000000000"
  EXPECT_EQ(e.computer, "Pedro01");
  EXPECT_EQ(e.provider_guid, "{54849625-5478-4994-a5ba-3e3b0328c30d}");
  EXPECT_EQ(Time(e), "2022-08-08T12:48:43.209Z");
  EXPECT_TRUE(StartsWith(e.message, "An account was successfully logged on."));
  ASSERT_FALSE(e.data.empty());
  EXPECT_EQ(NameAt(e, 0), "SubjectUserSid");
  EXPECT_EQ(d.events[1].line, 2u);
}

}  // namespace
}  // namespace eventsift::json::testing
