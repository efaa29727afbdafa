// Every JSON shape found in ../shared/corpus/json, field by field, on
// excerpts copied from it (tests/data/json_corpus, apart from tests/data/json
// whose directory scan the e2e tests expect to hold only synthetic data;
// tests/data/SOURCES.md names the corpus file and line of each). Expected
// values were read off those lines.

#include <gtest/gtest.h>

#include <string>

#include "parsers/json/event_data_xml.h"
#include "src/core/time_util.h"
#include "tests/unit/parsers/json/json_test_util.h"

namespace eventsift::json::testing {
namespace {

// An excerpt of tests/data/json_corpus, decoded without a single report.
Decoded DecodeExcerpt(const std::string& name) { return DecodeClean("../json_corpus/" + name); }

std::string Time(const OwnedEvent& e, int digits = 3) { return FormatRfc3339(e.time, digits); }

// Value of the first data field named `name`, or "<missing>".
std::string Field(const OwnedEvent& e, std::string_view name) {
  for (const auto& [k, v] : e.data) {
    if (k == name) return v;
  }
  return "<missing>";
}

// Azure Log Analytics SecurityEvent (legacy agent): EventData as an XML string.
TEST(JsonCorpusShapes, LogAnalyticsSecurityEventXmlEventData) {
  Decoded d = DecodeExcerpt("la_securityevent.ndjson");
  ASSERT_EQ(d.events.size(), 3u);

  const OwnedEvent& e = d.events[0];  // corpus line 1: WFP 5156
  EXPECT_EQ(e.provider, "Microsoft-Windows-Security-Auditing");
  EXPECT_EQ(e.computer, "WORKSTATION5");
  EXPECT_EQ(e.channel, "Security");
  EXPECT_EQ(e.event_id, 5156u);
  EXPECT_EQ(e.level, 0);  // "Level":"0", text
  EXPECT_EQ(e.task, 1);
  EXPECT_EQ(Time(e), "2022-05-13T08:54:05.210Z");  // TimeGenerated, two fraction digits
  ASSERT_EQ(e.data.size(), 13u);
  EXPECT_EQ(NameAt(e, 0), "ProcessID");
  EXPECT_EQ(DataAt(e, 0), "3936");
  EXPECT_EQ(NameAt(e, 1), "Application");
  EXPECT_EQ(DataAt(e, 1),
            "\\device\\harddiskvolume2\\programdata\\chocolatey\\lib\\tomcat\\tools\\"
            "apache-tomcat-9.0.62\\bin\\tomcat9.exe");
  EXPECT_EQ(Field(e, "Direction"), "%%14592");
  EXPECT_EQ(Field(e, "DestPort"), "8080");
  EXPECT_EQ(NameAt(e, 12), "RemoteMachineID");
  EXPECT_EQ(DataAt(e, 12), "S-1-0-0");
  EXPECT_EQ(Field(e, "TenantId"), "<missing>");  // table columns are not event data
  EXPECT_EQ(Field(e, "EventData"), "<missing>");

  // Corpus line 19: 4688 without an EventData column; the payload is
  // flattened into columns, and the columns Log Analytics derives are dropped.
  const OwnedEvent& p = d.events[1];
  EXPECT_EQ(p.event_id, 4688u);
  EXPECT_EQ(p.computer, "WORKSTATION5");
  EXPECT_EQ(Time(p), "2022-05-13T08:54:08.713Z");
  EXPECT_EQ(Field(p, "NewProcessName"), "C:\\Windows\\System32\\conhost.exe");
  EXPECT_EQ(Field(p, "CommandLine"),
            "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1");
  EXPECT_EQ(Field(p, "ParentProcessName"),
            "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe");
  EXPECT_EQ(Field(p, "SubjectUserSid"), "S-1-5-19");
  EXPECT_EQ(Field(p, "ProcessId"), "0x824");
  for (const char* column :
       {"TenantId", "Account", "Process", "SubjectAccount", "TargetAccount", "Activity", "Computer",
        "EventSourceName", "Type", "_ResourceId", "TimeCollected", "MG", "SourceSystem"}) {
    EXPECT_EQ(Field(p, column), "<missing>") << column;
  }

  const OwnedEvent& h = d.events[2];  // corpus line 28: 4656
  EXPECT_EQ(h.event_id, 4656u);
  EXPECT_EQ(Time(h), "2022-05-13T08:54:09.173Z");
  EXPECT_EQ(NameAt(h, 0), "SubjectUserSid");
  EXPECT_EQ(DataAt(h, 0), "S-1-5-19");
  EXPECT_EQ(Field(h, "SubjectUserName"), "LOCAL SERVICE");
}

// Azure Log Analytics WindowsEvent (Azure Monitor Agent): EventData as a JSON
// object string.
TEST(JsonCorpusShapes, LogAnalyticsWindowsEventJsonEventData) {
  Decoded d = DecodeExcerpt("la_windowsevent.ndjson");
  ASSERT_EQ(d.events.size(), 2u);

  const OwnedEvent& e = d.events[0];  // corpus line 1: Sysmon 3
  EXPECT_EQ(e.provider, "Microsoft-Windows-Sysmon");
  EXPECT_EQ(e.channel, "Microsoft-Windows-Sysmon/Operational");
  EXPECT_EQ(e.computer, "WORKSTATION5");
  EXPECT_EQ(e.event_id, 3u);
  EXPECT_EQ(e.level, 4);  // EventLevel
  EXPECT_EQ(Time(e), "2022-05-13T08:54:06.347Z");
  ASSERT_EQ(e.data.size(), 18u);
  EXPECT_EQ(NameAt(e, 0), "RuleName");
  EXPECT_EQ(DataAt(e, 0), "-");
  EXPECT_EQ(
      Field(e, "Image"),
      "C:\\ProgramData\\chocolatey\\lib\\Tomcat\\tools\\apache-tomcat-9.0.62\\bin\\tomcat9.exe");
  EXPECT_EQ(Field(e, "User"), "NT AUTHORITY\\LOCAL SERVICE");
  EXPECT_EQ(Field(e, "DestinationPort"), "8080");
  EXPECT_EQ(NameAt(e, 17), "DestinationPortName");

  const OwnedEvent& p = d.events[1];  // corpus line 35: Sysmon 1
  EXPECT_EQ(p.event_id, 1u);
  EXPECT_EQ(Time(p), "2022-05-13T08:54:08.517Z");
  EXPECT_EQ(Field(p, "Image"), "C:\\Windows\\System32\\conhost.exe");
  EXPECT_EQ(Field(p, "ProcessId"), "11780");
}

// Winlogbeat golden output: a pretty-printed JSON array (ECS), 7 fraction digits.
TEST(JsonCorpusShapes, WinlogbeatJsonArray) {
  Decoded d = DecodeExcerpt("winlogbeat_golden_array.json");
  ASSERT_EQ(d.events.size(), 2u);
  const OwnedEvent& e = d.events[0];
  EXPECT_EQ(e.provider, "Microsoft-Windows-PowerShell");
  EXPECT_EQ(e.provider_guid, "{a0c1853b-5c40-4b15-8766-3cf1c58f985a}");
  EXPECT_EQ(e.computer, "vagrant");
  EXPECT_EQ(e.channel, "Microsoft-Windows-PowerShell/Operational");
  EXPECT_EQ(e.event_id, 4103u);
  EXPECT_EQ(e.level, 4);
  EXPECT_EQ(e.version, 1);
  EXPECT_EQ(e.record_id, 3885u);
  EXPECT_EQ(e.process_id, 3984u);
  EXPECT_EQ(e.thread_id, 3616u);
  EXPECT_EQ(e.user_sid, "S-1-5-21-1350058589-2282154016-2764056528-1000");
  EXPECT_EQ(Time(e, 7), "2020-05-15T08:11:47.8979495Z");
  EXPECT_EQ(NameAt(e, 0), "ContextInfo");
  EXPECT_NE(DataAt(e, 0).find("Host Application = C:\\Windows\\system32\\wsmprovhost.exe"),
            std::string::npos);
  EXPECT_EQ(Field(e, "Payload").rfind("CommandInvocation(cmd.exe): \"cmd.exe\"", 0), 0u);
  EXPECT_EQ(d.events[1].record_id, 3917u);
  EXPECT_EQ(Time(d.events[1], 7), "2020-05-15T08:13:06.7032939Z");
}

// Winlogbeat 7.16 NDJSON (compact lines, ECS), Sysmon.
TEST(JsonCorpusShapes, WinlogbeatNdjson) {
  Decoded d = DecodeExcerpt("winlogbeat716_sysmon.ndjson");
  ASSERT_EQ(d.events.size(), 2u);
  const OwnedEvent& e = d.events[0];
  EXPECT_EQ(e.provider, "Microsoft-Windows-Sysmon");
  EXPECT_EQ(e.computer, "s.domain.local");
  EXPECT_EQ(e.channel, "Microsoft-Windows-Sysmon/Operational");
  EXPECT_EQ(e.event_id, 11u);
  EXPECT_EQ(e.record_id, 633889u);
  EXPECT_EQ(e.process_id, 3384u);
  EXPECT_EQ(e.user_sid, "S-1-5-18");
  EXPECT_EQ(Time(e), "2024-02-13T06:56:24.223Z");
  EXPECT_EQ(Field(e, "CreationUtcTime"), "2024-02-09 18:40:54.452");
  const OwnedEvent& r = d.events[1];
  EXPECT_EQ(r.event_id, 13u);
  EXPECT_EQ(r.record_id, 633900u);
  EXPECT_EQ(Field(r, "TargetObject"), "HKLM\\System\\CurrentControlSet\\Services\\WdBoot\\Start");
  EXPECT_EQ(Field(r, "Details"), "DWORD (0x00000003)");
}

// evtx_dump JSON (-o json), one pretty-printed object: the SigmaHQ regression logs.
TEST(JsonCorpusShapes, EvtxDumpPrettyObject) {
  Decoded d = DecodeExcerpt("evtx_dump_pretty.json");
  ASSERT_EQ(d.events.size(), 1u);
  const OwnedEvent& e = d.events[0];
  EXPECT_EQ(e.provider, "Microsoft-Windows-Security-Auditing");
  EXPECT_EQ(e.provider_guid, "{54849625-5478-4994-A5BA-3E3B0328C30D}");
  EXPECT_EQ(e.event_id, 4648u);
  EXPECT_EQ(e.task, 12544);
  EXPECT_EQ(e.keywords, 0x8020000000000000u);
  EXPECT_EQ(Time(e, 7), "2026-07-17T14:18:34.0722130Z");
  EXPECT_EQ(e.record_id, 34382u);
  EXPECT_EQ(e.process_id, 876u);
  EXPECT_EQ(e.thread_id, 928u);
  EXPECT_EQ(e.channel, "Security");
  EXPECT_EQ(e.computer, "swachchhanda");
  ASSERT_EQ(e.data.size(), 14u);
  EXPECT_EQ(NameAt(e, 0), "SubjectUserSid");
  EXPECT_EQ(Field(e, "TargetUserName"), "testuser");
  EXPECT_EQ(NameAt(e, 13), "IpPort");
  EXPECT_EQ(DataAt(e, 13), "-");
}

// NXLog-style NDJSON (OTRF Security-Datasets): the ProxyLogon capture's
// Set-OabVirtualDirectory CmdletLogs event.
TEST(JsonCorpusShapes, OtrfNxlogProxyLogonEvent) {
  Decoded d = DecodeExcerpt("nxlog_proxylogon_oab.ndjson");
  ASSERT_EQ(d.events.size(), 1u);
  const OwnedEvent& e = d.events[0];
  EXPECT_EQ(e.provider, "MSExchange CmdletLogs");
  EXPECT_EQ(e.channel, "MSExchange Management");
  EXPECT_EQ(e.computer, "MXS01.azsentinel.local");
  EXPECT_EQ(e.event_id, 1u);
  EXPECT_EQ(e.level, 4);
  EXPECT_EQ(e.task, 1);
  EXPECT_EQ(e.keywords, 0x80000000000000u);
  EXPECT_EQ(Time(e), "2021-03-14T01:40:12.987Z");  // TimeCreated
  EXPECT_EQ(e.message.rfind("Cmdlet suceeded. Cmdlet Set-OabVirtualDirectory, parameters "
                            "-ExternalUrl \"http://ffff/#<script language=\"JScript\"",
                            0),
            0u);
  EXPECT_TRUE(e.data.empty());  // every other key is a system key or metadata
}

// Recognised events with no time or no computer are delivered and counted.
TEST(JsonCorpusShapes, EventsWithoutTimeOrComputerAreCounted) {
  const std::string lines =
      R"({"TimeGenerated":"2022-05-13T08:54:05Z","EventID":1,"Provider":"P","EventData":"{}"})"
      "\n"
      R"({"EventID":7,"SourceName":"S","Hostname":"H1"})"
      "\n"
      R"({"EventID":7,"SourceName":"S","Hostname":"H1","EventTime":"2022-05-13 08:54:05"})"
      "\n";
  KeepingHandler handler;
  CollectingReporter reporter;
  DecoderStats stats;
  ASSERT_TRUE(DecodeJsonBuffer(lines, "incomplete.ndjson", handler, reporter, &stats).ok());
  EXPECT_TRUE(reporter.reports().empty());
  ASSERT_EQ(handler.events.size(), 3u);
  EXPECT_EQ(stats.events.Get(), 3u);
  EXPECT_EQ(stats.incomplete.Get(), 2u);  // no computer; no time

  JsonLineDecoder line_decoder;
  KeepingHandler h2;
  ASSERT_TRUE(line_decoder.DecodeLine(R"({"EventID":7,"SourceName":"S"})", 1, "x", h2).ok());
  EXPECT_EQ(line_decoder.stats().incomplete.Get(), 1u);
}

TEST(EventDataXml, NamedUnnamedEmptyAndEntities) {
  Arena arena;
  std::vector<DataField> out;
  ASSERT_TRUE(ParseEventDataXml("<?xml version=\"1.0\"?>\r\n<EventData xmlns=\"x\">"
                                "<Data Name=\"a\">1 &lt; 2 &amp;&amp; &#x41;&#66;</Data>"
                                "<Data>unnamed</Data><Data Name='e'/>"
                                "<Data Name=\"q&quot;\"></Data><Binary>00FF</Binary>"
                                "</EventData>\r\n",
                                &arena, &out)
                  .ok());
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].name, "a");
  EXPECT_EQ(out[0].value, "1 < 2 && AB");
  EXPECT_EQ(out[1].name, "");
  EXPECT_EQ(out[1].value, "unnamed");
  EXPECT_EQ(out[2].name, "e");
  EXPECT_EQ(out[2].value, "");
  EXPECT_EQ(out[3].name, "q\"");
}

TEST(EventDataXml, UserDataChildrenByTag) {
  Arena arena;
  std::vector<DataField> out;
  ASSERT_TRUE(ParseEventDataXml("<UserData><LogFileCleared xmlns=\"u\"><SubjectUserSid>S-1-5-18"
                                "</SubjectUserSid><SubjectUserName>SYSTEM</SubjectUserName>"
                                "</LogFileCleared></UserData>",
                                &arena, &out)
                  .ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].name, "SubjectUserSid");
  EXPECT_EQ(out[0].value, "S-1-5-18");
  EXPECT_EQ(out[1].name, "SubjectUserName");
}

TEST(EventDataXml, MalformedNamesTheOffset) {
  Arena arena;
  std::vector<DataField> out;
  for (std::string_view bad :
       {std::string_view("<EventData><Data Name=\"a\">x</Data>"),  // not closed
        std::string_view("<EventData><Data Name=\"a\">x</Datum></EventData>"),
        std::string_view("<EventData><Data Name=a>x</Data></EventData>"),
        std::string_view("<Other/>"), std::string_view("<EventData><Data Name=\"a"),
        std::string_view("<EventData><Data>x<b>y</b></Data></EventData>"), std::string_view("")}) {
    out.clear();
    Status s = ParseEventDataXml(bad, &arena, &out);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.ToString().find("at byte"), std::string::npos) << s.ToString();
  }
}

// A Log Analytics row whose EventData string is broken is reported with its
// line, and the next row still decodes.
TEST(JsonCorpusShapes, LogAnalyticsBadEventDataIsReported) {
  const std::string lines =
      R"({"TimeGenerated":"2022-05-13T08:54:05Z","Computer":"W","EventID":1,"EventData":"{\"a\":"})"
      "\n"
      R"({"TimeGenerated":"2022-05-13T08:54:05Z","Computer":"W","EventID":2,"EventData":"<EventData><Data>x</EventData>"})"
      "\n"
      R"({"TimeGenerated":"2022-05-13T08:54:05Z","Computer":"W","EventID":3,"EventData":"{\"a\":\"b\"}"})"
      "\n";
  Decoded d = DecodeBytes(lines, "la.ndjson");
  ASSERT_EQ(d.reports.size(), 2u);
  EXPECT_NE(d.reports[0].ToString().find("la.ndjson:1"), std::string::npos)
      << d.reports[0].ToString();
  EXPECT_NE(d.reports[0].ToString().find("EventData JSON string"), std::string::npos);
  EXPECT_NE(d.reports[1].ToString().find("EventData XML"), std::string::npos)
      << d.reports[1].ToString();
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].event_id, 3u);
  EXPECT_EQ(Field(d.events[0], "a"), "b");
}

}  // namespace
}  // namespace eventsift::json::testing
