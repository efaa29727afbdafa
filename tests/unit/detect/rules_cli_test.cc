// `eventsift rules check` and `eventsift rules list` through the real binary.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class RulesCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(ES_BINARY)) << "build the eventsift target first: " << ES_BINARY;
    dir_ = fs::temp_directory_path() /
           ("eventsift_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `eventsift <args>` from the repository root with `env` prepended.
  CommandResult Eventsift(const std::string& args, const std::string& env = "") {
    fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    std::string cmd = "cd " + std::string(ES_SOURCE_DIR) + " && " + env + " " + ES_BINARY + " " +
                      args + " >" + out.string() + " 2>" + err.string();
    int status = std::system(cmd.c_str());
    CommandResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = Slurp(out);
    r.err = Slurp(err);
    return r;
  }

  std::string Write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

  fs::path dir_;
};

TEST_F(RulesCliTest, CheckShippedRules) {
  // The default rules: rules/ without its sigma/ folder.
  CommandResult r = Eventsift("rules check");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "10 rules OK\n");
  EXPECT_EQ(r.err, "");
  // rules/ named explicitly loads everything in it, the Sigma form of the
  // EEMS rule (rules/sigma/) too.
  r = Eventsift("rules check rules/");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "11 rules OK (10 eventsift, 1 Sigma); 0 Sigma rules refused\n"
            "1 Sigma correlation OK, 0 refused\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(RulesCliTest, CheckDefaultsToTheRulesDirectory) {
  CommandResult r = Eventsift("rules check", "env -u EVENTSIFT_RULES");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "10 rules OK\n");
  // $EVENTSIFT_RULES wins over the built-in default.
  std::string one = Write("one.yaml", "id: only\nmatch: {event_ids: [1]}\n");
  r = Eventsift("rules check", "EVENTSIFT_RULES=" + one);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1 rules OK\n");
}

TEST_F(RulesCliTest, CheckReportsEveryError) {
  std::string a = Write("a.yaml", "id: dup\nmatch: {event_ids: [1]}\n");
  std::string b =
      Write("b.yaml",
            "rules:\n"
            "  - id: dup\n    match: {event_ids: [2]}\n"
            "  - id: bad_regex\n    match:\n      fields: [{field: message, regex: '(x'}]\n"
            "  - id: bad_field\n    match:\n      fields: [{field: host, regex: x}]\n");
  CommandResult r = Eventsift("rules check " + dir_.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            b +
                ":9: rule 'bad_field': match.fields[0]: unknown field 'host' (expected provider, "
                "provider_guid, channel, computer, user_sid, message, event_id, level, task, "
                "opcode, keywords, record_id, data.<Name>, data.*, message|data.* or any)\n" +
                b + ":2: rule 'dup': duplicate id (first defined at " + a + ":1)\n" + b +
                ":6: rule 'bad_regex': field 'message': invalid regex '(x': missing ): (x\n"
                "3 errors\n");
}

TEST_F(RulesCliTest, CheckMissingPath) {
  CommandResult r = Eventsift("rules check " + (dir_ / "nope").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, (dir_ / "nope").string() + ": no such file or directory\n1 error\n");
}

TEST_F(RulesCliTest, ListTable) {
  CommandResult r = Eventsift("rules list rules/");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string header, first;
  std::getline(lines, header);
  std::getline(lines, first);
  EXPECT_EQ(header.substr(0, 2), "ID");
  EXPECT_NE(header.find("SEVERITY"), std::string::npos);
  EXPECT_NE(header.find("TITLE"), std::string::npos);
  EXPECT_NE(header.find("FILE"), std::string::npos);
  EXPECT_EQ(first.substr(0, 22), "eems_mitigation_error ");
  EXPECT_NE(first.find(" high "), std::string::npos);
  EXPECT_NE(first.find("rules/eems_mitigation_error.yaml:"), std::string::npos);
  EXPECT_NE(r.out.find("proxyshell_mailbox_export "), std::string::npos);
}

TEST_F(RulesCliTest, ListJson) {
  CommandResult r = Eventsift("rules list --format json rules/eems_mitigation_error.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // One JSON document; python checks it parses and has the fields scripts use.
  std::string json = Write("list.json", r.out);
  std::string check = "python3 -c \"import json,sys; d=json.load(open('" + json +
                      "')); r=d[0]; assert len(d)==1, d; "
                      "assert r['id']=='eems_mitigation_error'; assert r['severity']=='high'; "
                      "assert r['file'].endswith('rules/eems_mitigation_error.yaml'); "
                      "assert r['line']==5; assert r['title'].startswith('Exchange Emergency'); "
                      "assert r['correlation']=={'window_seconds':86400,'threshold':1,"
                      "'suppress_seconds':86400,'samples':3,'emit':'immediate'}, r\"";
  EXPECT_EQ(std::system(check.c_str()), 0) << r.out;
}

TEST_F(RulesCliTest, HelpAndUsageErrors) {
  CommandResult r = Eventsift("rules --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("eventsift rules check"), std::string::npos);
  EXPECT_NE(r.out.find("Examples:"), std::string::npos);
  r = Eventsift("rules check --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("EVENTSIFT_RULES"), std::string::npos);
  r = Eventsift("rules frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown subcommand 'frobnicate'"), std::string::npos);
  r = Eventsift("rules list --format xml rules/");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--format must be table or json"), std::string::npos);
}

// The shipped rules through the whole scan pipeline (JSON decoder, matcher,
// correlator): one alert per rule on its own host, none for the near misses
// (testdata/make_exchange_winlogbeat.py writes the input).
TEST_F(RulesCliTest, ScanRaisesEachShippedRuleOnItsHost) {
  CommandResult r =
      Eventsift("scan --rules rules/ tests/unit/detect/testdata/exchange_winlogbeat.ndjson");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string alerts = Write("alerts.ndjson", r.out);
  std::string pairs = (dir_ / "pairs").string();
  std::string extract =
      "python3 -c \"import json; print('\\n'.join(sorted(d['rule']['id'] + ' ' + "
      "d['host'] + ' ' + str(d['count']) for d in map(json.loads, open('" +
      alerts + "')))))\" > " + pairs;
  ASSERT_EQ(std::system(extract.c_str()), 0) << r.out;
  // rules/ holds the EEMS rule twice: ours and its Sigma form (rules/sigma/).
  // The Sigma rule alerts through its per-host event_count correlation
  // (mr_eems_mitigation_error_per_host.yml, no `generate`), so the Sigma
  // alert carries the correlation's id.
  EXPECT_EQ(Slurp(pairs),
            "71d6e570-6a89-481e-8241-5a3fda5278ee eems.contoso.com 1\n"
            "eems_mitigation_error eems.contoso.com 1\n"
            "exchange_cve_2021_42321_get_app_exception getappexc.contoso.com 1\n"
            "exchange_cve_2021_42321_get_app_failed getapp.contoso.com 1\n"
            "proxylogon_cve_2021_26857_unified_messaging um.contoso.com 1\n"
            "proxylogon_oab_virtual_directory oab.contoso.com 1\n"
            "proxyshell_certificate_generation cert.contoso.com 1\n"
            "proxyshell_mailbox_export export.contoso.com 1\n"
            "proxyshell_mailbox_import_export_role role.contoso.com 1\n"
            "proxyshell_remove_mailbox_export remove.contoso.com 1\n");
}

// A real MSExchange CmdletLogs record (Set-Mailbox -Identity ..., from
// omerbenamram/evtx's samples; tests/data/SOURCES.md) is a near miss for the
// ProxyShell rules: it hits their -Identity pattern but no rule.
TEST_F(RulesCliTest, ScanRealCmdletRecordRaisesNothing) {
  CommandResult r = Eventsift("scan --rules rules/ tests/data/evtx/MSExchange_Management_wec.evtx");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find(" 0 alerts"), std::string::npos) << r.err;
}

}  // namespace
