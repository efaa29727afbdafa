// The rules shipped in rules/: they load, they validate against the schema,
// and each one matches its positive event and not a near miss.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "src/detect/matcher.h"
#include "tests/unit/detect/test_events.h"

namespace eventsift::detect {
namespace {

using testing::CmdletEvent;
using testing::EemsError;
using testing::MakeEvent;
using Ids = std::vector<std::string>;

class ShippedRulesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto set = RuleSet::Load(ShippedRulePaths(std::string(ES_SOURCE_DIR) + "/rules"));
    ASSERT_TRUE(set) << set.error().ToString();
    matcher_ = std::make_unique<Matcher>(set.value());
  }
  static void TearDownTestSuite() { matcher_.reset(); }

  static Ids Hits(const OwnedEvent& owned) {
    std::vector<uint32_t> idx;
    matcher_->Match(owned.View(), &idx);
    Ids ids;
    for (uint32_t i : idx) ids.push_back(matcher_->rules()[i].id);
    return ids;
  }
  // Both renderings: EVTX (data values only) and JSON exports (message too).
  static Ids HitsCmdlet(uint32_t id, const std::string& cmdlet, const std::string& params,
                        bool with_message) {
    return Hits(CmdletEvent(id, cmdlet, params, with_message));
  }

  static inline std::unique_ptr<Matcher> matcher_;
};

TEST_F(ShippedRulesTest, LoadsEemsFirst) {
  const auto& rules = matcher_->rules();
  ASSERT_EQ(rules.size(), 10u);
  const Rule& eems = rules[0];
  EXPECT_EQ(eems.id, "eems_mitigation_error");
  EXPECT_EQ(eems.severity, "high");
  EXPECT_EQ(eems.kind, RuleKind::kAlert);
  EXPECT_EQ(eems.correlation.window_seconds, 24 * 3600);
  EXPECT_EQ(eems.correlation.threshold, 1u);
  EXPECT_EQ(eems.correlation.suppress_seconds, 24 * 3600);
  EXPECT_EQ(eems.correlation.max_samples, 3u);
  EXPECT_EQ(eems.references.size(), 2u);
  EXPECT_NE(eems.remediation.find("HealthChecker"), std::string::npos);
  EXPECT_NE(eems.remediation.find("officeclient.microsoft.com"), std::string::npos);
  EXPECT_NE(eems.remediation.find("Test-MitigationServiceConnectivity.ps1"), std::string::npos);
  // The success rule records state for the fleet view; it is the only one.
  EXPECT_EQ(rules[1].id, "eems_mitigation_success");
  EXPECT_EQ(rules[1].kind, RuleKind::kState);
  EXPECT_EQ(rules[1].severity, "informational");
  for (const Rule& r : rules) {
    if (&r != &rules[1]) {
      EXPECT_EQ(r.kind, RuleKind::kAlert) << r.id;
    }
    EXPECT_FALSE(r.description.empty()) << r.id;
    EXPECT_FALSE(r.remediation.empty()) << r.id;
    EXPECT_FALSE(r.references.empty()) << r.id;
  }
}

// Runs tests/unit/detect/validate_rules.py; returns its exit code and output.
std::pair<int, std::string> ValidateWithSchema(const std::string& args) {
  std::string cmd = std::string("python3 ") + ES_SOURCE_DIR +
                    "/tests/unit/detect/validate_rules.py " + args + " 2>&1";
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof(buf), pipe)) out.append(buf, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const std::string kSchema = std::string(ES_SOURCE_DIR) + "/schemas/rule.schema.json";

TEST_F(ShippedRulesTest, ValidateAgainstSchema) {
  std::string paths;
  for (const auto& p : ShippedRulePaths(std::string(ES_SOURCE_DIR) + "/rules")) paths += " " + p;
  auto [code, out] = ValidateWithSchema(kSchema + paths);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "9 files valid\n");
}

TEST_F(ShippedRulesTest, SchemaRejectsWhatTheLoaderRejects) {
  // The schema check is not vacuous: each of these fails both the loader and
  // the schema.
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("eventsift_schema_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::vector<std::string> bad = {
      "id: a\nmatch: {event_ids: [1]}\nseverty: high\n",
      "id: b\nmatch:\n  fields: [{field: hostname, regex: x}]\n",
      "id: c\nseverity: urgent\nmatch: {event_ids: [1]}\n",
      "id: d\nmatch: {}\n",
      "id: e\nmatch: {event_ids: [1]}\ncorrelation: {window: 1w}\n",
      "id: f\nmatch: {levels: [eror]}\n",
      "title: no id\nmatch: {levels: [2]}\n",
      "id: h\nmatch:\n  fields: [{field: message, regex: ''}]\n",
      "id: i\nkind: status\nmatch: {event_ids: [1]}\n",
  };
  std::string files;
  for (size_t i = 0; i < bad.size(); ++i) {
    fs::path f = dir / ("bad" + std::to_string(i) + ".yaml");
    std::ofstream(f) << bad[i];
    EXPECT_FALSE(RuleSet::Parse(bad[i], f.string())) << bad[i];
    files += " " + f.string();
  }
  auto [code, out] = ValidateWithSchema("--expect-invalid " + kSchema + files);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, std::to_string(bad.size()) + " files invalid\n");
  fs::remove_all(dir);
}

TEST_F(ShippedRulesTest, EemsMitigationError) {
  EXPECT_EQ(Hits(EemsError()), Ids{"eems_mitigation_error"});
  // EVTX: no rendered message, the text is in a data value.
  OwnedEvent evtx = EemsError();
  evtx.message.clear();
  EXPECT_EQ(Hits(evtx), Ids{"eems_mitigation_error"});
  // Each phrase of the suggested rule, alone and in another case.
  for (const char* text : {"Exception encountered while FETCHING MITIGATIONS.",
                           "Connection attempted against untrusted endpoint",
                           "TLS certificate or its chain validation failed",
                           "Could not establish trust relationship for the SSL/TLS channel",
                           "XML is not deemed safe to consume"}) {
    EXPECT_EQ(Hits(MakeEvent("MSExchange Mitigation Service", "Application", 1008, 2, text)),
              Ids{"eems_mitigation_error"})
        << text;
  }
  // Near misses: another id, level, provider or channel, or an unrelated error.
  OwnedEvent e = EemsError();
  e.event_id = 1005;  // a success id: the state rule's, not this one's
  EXPECT_EQ(Hits(e), Ids{"eems_mitigation_success"});
  e = EemsError();
  e.level = 3;
  EXPECT_EQ(Hits(e), Ids{});
  e = EemsError();
  e.provider = "MSExchange Mitigation Service Host";
  EXPECT_EQ(Hits(e), Ids{});
  e = EemsError();
  e.channel = "System";
  EXPECT_EQ(Hits(e), Ids{});
  EXPECT_EQ(Hits(MakeEvent("MSExchange Mitigation Service", "Application", 1008, 2,
                           "An unexpected exception occurred. Disk full.",
                           {{"", "System.IO.IOException: disk full"}})),
            Ids{});
}

TEST_F(ShippedRulesTest, KindStateParsesAndDefaultsToAlert) {
  auto state = RuleSet::Parse("id: s\nkind: state\nmatch: {event_ids: [1]}\n", "s.yaml");
  ASSERT_TRUE(state) << state.error().ToString();
  EXPECT_EQ(state.value()->rules()[0].kind, RuleKind::kState);
  auto alert = RuleSet::Parse("id: a\nkind: alert\nmatch: {event_ids: [1]}\n", "a.yaml");
  ASSERT_TRUE(alert) << alert.error().ToString();
  EXPECT_EQ(alert.value()->rules()[0].kind, RuleKind::kAlert);
  auto bad = RuleSet::Parse("id: b\nkind: State\nmatch: {event_ids: [1]}\n", "b.yaml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().ToString().find("b.yaml:2: rule 'b': kind must be alert or state"),
            std::string::npos)
      << bad.error().ToString();
}

// 1005/1006 are the ids Learn documents for successful EEMS actions; their
// level and text are undocumented, so any level and any text match.
TEST_F(ShippedRulesTest, EemsMitigationSuccess) {
  for (uint32_t id : {1005u, 1006u}) {
    for (uint8_t level : {uint8_t{4}, uint8_t{0}, uint8_t{3}}) {
      EXPECT_EQ(Hits(MakeEvent("MSExchange Mitigation Service", "Application", id, level,
                               "Mitigation M1 applied successfully.", {{"", "M1"}})),
                Ids{"eems_mitigation_success"})
          << id << " level " << int{level};
    }
    // EVTX: no message at all.
    EXPECT_EQ(Hits(MakeEvent("MSExchange Mitigation Service", "Application", id, 4)),
              Ids{"eems_mitigation_success"});
  }
  // Near misses: the error id, a neighbouring id, another provider or channel.
  EXPECT_EQ(Hits(MakeEvent("MSExchange Mitigation Service", "Application", 1007, 4)), Ids{});
  EXPECT_EQ(Hits(MakeEvent("MSExchange Mitigation Service", "Application", 1008, 4,
                           "An unexpected exception occurred. Diagnostic information: none")),
            Ids{});
  EXPECT_EQ(Hits(MakeEvent("MSExchange ADAccess", "Application", 1005, 4)), Ids{});
  EXPECT_EQ(Hits(MakeEvent("MSExchange Mitigation Service", "System", 1005, 4)), Ids{});
}

TEST_F(ShippedRulesTest, ProxyShellMailboxExport) {
  for (bool msg : {false, true}) {
    EXPECT_EQ(HitsCmdlet(1, "New-MailboxExportRequest",
                         "-Mailbox \"administrator@contoso.com\" -FilePath "
                         "\"\\\\localhost\\c$\\inetpub\\wwwroot\\aspnet_client\\shell.aspx\"",
                         msg),
              Ids{"proxyshell_mailbox_export"});
    EXPECT_EQ(HitsCmdlet(1, "New-MailboxExportRequest",
                         "-Mailbox \"admin\" -FilePath \"\\\\exch01\\share\\x.pst\"", msg),
              Ids{"proxyshell_mailbox_export"});
    // Near miss: an ordinary export to a local .pst path.
    EXPECT_EQ(HitsCmdlet(1, "New-MailboxExportRequest",
                         "-Mailbox \"admin\" -FilePath \"D:\\exports\\admin.pst\"", msg),
              Ids{});
  }
}

TEST_F(ShippedRulesTest, ProxyShellImportExportRole) {
  for (bool msg : {false, true}) {
    EXPECT_EQ(HitsCmdlet(1, "New-ManagementRoleAssignment",
                         "-Role \"Mailbox Import Export\" -User \"attacker\"", msg),
              Ids{"proxyshell_mailbox_import_export_role"});
    EXPECT_EQ(HitsCmdlet(1, "New-ManagementRoleAssignment",
                         "-Role \"Mail Recipients\" -User \"helpdesk\"", msg),
              Ids{});
  }
}

TEST_F(ShippedRulesTest, ProxyShellRemoveMailboxExport) {
  for (bool msg : {false, true}) {
    EXPECT_EQ(HitsCmdlet(1, "Remove-MailboxExportRequest",
                         "-Identity \"admin\\MailboxExport\" -Confirm \"False\"", msg),
              Ids{"proxyshell_remove_mailbox_export"});
    EXPECT_EQ(
        HitsCmdlet(1, "Remove-MailboxExportRequest", "-Identity \"admin\\MailboxExport\"", msg),
        Ids{});
  }
}

TEST_F(ShippedRulesTest, ProxyShellCertificateGeneration) {
  for (bool msg : {false, true}) {
    EXPECT_EQ(HitsCmdlet(1, "New-ExchangeCertificate",
                         "-GenerateRequest \"True\" -BinaryEncoded \"True\" -RequestFile "
                         "\"\\\\localhost\\C$\\inetpub\\wwwroot\\aspnet_client\\x.aspx\" "
                         "-SubjectName \"CN=x\"",
                         msg),
              Ids{"proxyshell_certificate_generation"});
    // Near miss: a normal request saved under the admin's documents.
    EXPECT_EQ(HitsCmdlet(1, "New-ExchangeCertificate",
                         "-GenerateRequest \"True\" -BinaryEncoded \"True\" -RequestFile "
                         "\"C:\\Users\\admin\\Documents\\mail.req\"",
                         msg),
              Ids{});
  }
}

TEST_F(ShippedRulesTest, ProxyLogonOabVirtualDirectory) {
  for (bool msg : {false, true}) {
    EXPECT_EQ(HitsCmdlet(1, "Set-OabVirtualDirectory",
                         "-ExternalUrl \"http://f/<script language=\"JScript\" "
                         "runat=\"server\">function Page_Load(){eval(Request[\"x\"],"
                         "\"unsafe\");}</script>\" -Identity \"OAB (Default Web Site)\"",
                         msg),
              Ids{"proxylogon_oab_virtual_directory"});
    EXPECT_EQ(HitsCmdlet(1, "Set-OabVirtualDirectory",
                         "-ExternalUrl \"https://mail.contoso.com/OAB\" -Identity \"OAB (Default "
                         "Web Site)\"",
                         msg),
              Ids{});
  }
}

TEST_F(ShippedRulesTest, Cve202142321GetApp) {
  EXPECT_EQ(HitsCmdlet(6, "Get-App", "-Mailbox \"victim\"", true),
            Ids{"exchange_cve_2021_42321_get_app_failed"});
  EXPECT_EQ(HitsCmdlet(6, "Get-App", "-Mailbox \"victim\"", false),
            Ids{"exchange_cve_2021_42321_get_app_failed"});
  EXPECT_EQ(Hits(MakeEvent("MSExchange CmdletLogs", "MSExchange Management", 8, 2,
                           "Task Get-App throwing unhandled exception: "
                           "System.InvalidCastException: Unable to cast object")),
            Ids{"exchange_cve_2021_42321_get_app_exception"});
  // Near misses: Get-App succeeded; another cmdlet failed; another exception.
  EXPECT_EQ(HitsCmdlet(1, "Get-App", "-Mailbox \"victim\"", true), Ids{});
  EXPECT_EQ(HitsCmdlet(6, "Get-AppxPackage", "", true), Ids{});
  EXPECT_EQ(HitsCmdlet(6, "Get-Mailbox", "-Identity \"Get-App\"", true), Ids{});
  EXPECT_EQ(Hits(MakeEvent("MSExchange CmdletLogs", "MSExchange Management", 8, 2,
                           "Task Get-App throwing unhandled exception: "
                           "System.NullReferenceException: Object reference")),
            Ids{});
}

TEST_F(ShippedRulesTest, ProxyLogonUnifiedMessaging) {
  EXPECT_EQ(Hits(MakeEvent("MSExchange Unified Messaging", "Application", 1000, 2,
                           "Watson report: System.InvalidCastException: Unable to cast")),
            Ids{"proxylogon_cve_2021_26857_unified_messaging"});
  EXPECT_EQ(Hits(MakeEvent("MSExchange Unified Messaging", "Application", 1000, 2, "",
                           {{"", "System.InvalidCastException"}})),
            Ids{"proxylogon_cve_2021_26857_unified_messaging"});
  // Near misses: a warning, or an error of another kind.
  EXPECT_EQ(Hits(MakeEvent("MSExchange Unified Messaging", "Application", 1000, 3,
                           "System.InvalidCastException")),
            Ids{});
  EXPECT_EQ(Hits(MakeEvent("MSExchange Unified Messaging", "Application", 1000, 2,
                           "System.TimeoutException")),
            Ids{});
}

TEST_F(ShippedRulesTest, UnrelatedEventsMatchNothing) {
  EXPECT_FALSE(matcher_->MayMatch(MakeEvent("Service Control Manager", "System", 7036, 4).View()));
  EXPECT_EQ(Hits(MakeEvent("Microsoft-Windows-Security-Auditing", "Security", 4625, 0, "",
                           {{"TargetUserName", "New-MailboxExportRequest -Mailbox x .aspx"}})),
            Ids{});
}

}  // namespace
}  // namespace eventsift::detect
