// `eventsift scan`: the batch CLI. Inputs -> rules -> host correlation ->
// alerts on stdout, a file and/or Kafka; a summary and diagnostics on stderr.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include "src/alert/alert_json.h"
#include "src/app/alert_table.h"
#include "src/app/cli_args.h"
#include "src/app/command.h"
#include "src/app/exit_codes.h"
#include "src/app/kafka_flags.h"
#include "src/app/scan_events.h"
#include "src/core/file_util.h"
#include "src/correlate/build_catalog.h"
#include "src/correlate/cve_catalog.h"
#include "src/pipeline/scan.h"
#include "src/report/cve_alerts.h"
#include "src/report/fleet.h"
#include "src/report/fleet_table.h"
#include "src/report/html_report.h"
#include "src/report/record_ids_report.h"
#include "src/sink/event_sink.h"
#include "src/sink/kafka/kafka_sink.h"
#include "src/sink/stream_sink.h"

namespace po = boost::program_options;

namespace eventsift::app {

namespace {

constexpr char kScanHelp[] =
    "Usage: eventsift scan [options] PATH...\n\n"
    "Decodes EVTX files and JSON exports (NDJSON, arrays, .gz; '-' is stdin;\n"
    "directories are scanned recursively for *.evtx, *.json, *.jsonl, *.ndjson\n"
    "and their .gz), matches the detection rules, correlates the hits per host\n"
    "and writes one alert per rule, host and time window.\n\n"
    "Alerts go to stdout as NDJSON (schemas/alert.schema.json) unless --out or\n"
    "Kafka is given; diagnostics and a summary go to stderr. --format table ends\n"
    "with the Exchange fleet (build, EEMS state, attack indicators per host);\n"
    "--report writes the same fleet as a self-contained HTML page. Each input that\n"
    "was not decoded whole gets an account line on stderr (what was skipped and\n"
    "where, records recovered); --stats FILE writes every input's account as JSON\n"
    "(docs/cli.md, 'Accounting').\n\n"
    "Examples:\n"
    "  eventsift scan tests/data/json\n"
    "  eventsift scan --format table --threads 4 /var/log/winevt/\n"
    "  eventsift scan --report fleet.html --out alerts.ndjson logs/\n"
    "  eventsift scan --rules rules/eems_mitigation_error.yaml --out alerts.ndjson logs/\n"
    "  zcat export.json.gz | eventsift scan -\n"
    "  eventsift scan --kafka-brokers 127.0.0.1:9092 --kafka-topic eventsift.alerts \\\n"
    "      -X compression.type=zstd logs/\n\n"
    "Exit codes: 0 ok; 2 usage or rule error; 3 an input could not be read (the\n"
    "others were scanned); 4 alerts could be neither delivered nor spooled;\n"
    "5 --strict found corruption; 10 --fail-on-alert and alerts were produced.\n\n"
    "Options";

// Renders a live progress line on stderr while a terminal is watching.
class ProgressLine {
 public:
  explicit ProgressLine(const Scanner& scanner) : scanner_(scanner) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~ProgressLine() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
    std::fputs("\r\033[K", stderr);
  }
  ProgressLine(const ProgressLine&) = delete;  // owns a thread
  ProgressLine& operator=(const ProgressLine&) = delete;

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return done_; })) {
      fmt::print(stderr, "\r\033[Kscanning: {}/{} inputs, {} events, {} hits",
                 scanner_.inputs_done(), scanner_.inputs_total(), scanner_.stats().events.Get(),
                 scanner_.stats().rule_hits.Get());
    }
  }
  const Scanner& scanner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// SIGINT/SIGTERM stop the scan between inputs; what was read is still
// correlated, and its alerts are delivered or spooled before exit.
std::atomic<bool> g_cancel{false};
extern "C" void OnStopSignal(int) { g_cancel.store(true); }

// Hands the scan's events to the events sink (--events-out).
class EventSinkObserver : public EventObserver {
 public:
  explicit EventSinkObserver(EventSink* sink) : sink_(sink) {}
  bool WantPayload(const Event& header) const override { return sink_->WantsHeader(header); }
  void OnEvent(const Event& event, bool matched) override { sink_->Offer(event, matched); }

 private:
  EventSink* sink_;
};

// The record-id account: totals, then each host/channel with a gap or a
// repeat (the first few). With `--format table` those lines would repeat the
// table's "Records lost upstream" section, so only the totals are printed.
void PrintRecordIds(const correlate::RecordTracker& records, bool table_has_them) {
  constexpr size_t kMaxLines = 20;
  size_t keys_with = 0;
  for (const auto& k : records.keys()) keys_with += (k.missing > 0 || k.repeats > 0) ? 1 : 0;
  fmt::print(stderr,
             "eventsift scan: record ids: {} host/channels, {} records missing in gaps, {} "
             "repeats{}\n",
             records.keys().size(), records.total_missing(), records.total_repeats(),
             records.untracked() > 0
                 ? fmt::format(", {} events untracked (key limit)", records.untracked())
                 : "");
  if (table_has_them) return;
  size_t shown = 0;
  for (const auto& k : records.keys()) {
    if (k.missing == 0 && k.repeats == 0 && k.late == 0) continue;
    if (shown++ == kMaxLines) {
      fmt::print(stderr, "eventsift scan: record ids: ... {} more host/channels\n",
                 keys_with - kMaxLines);
      break;
    }
    const std::string ranges = report::GapRangesText(k);
    fmt::print(stderr,
               "eventsift scan: record ids: {} {}: ids {}-{}, {} seen, {} missing in {} gaps{}{}, "
               "{} repeats{}\n",
               k.host, k.channel, k.lowest, k.highest, k.seen, k.missing, k.gaps,
               ranges.empty() ? "" : ": ", ranges, k.repeats,
               k.late > 0 ? fmt::format(", {} late", k.late) : "");
  }
}

// Every flag of `scan`.
struct ScanFlags {
  std::vector<std::string> inputs, rule_paths;
  std::string out_path, format, inventory, report_path, builds_file, stats_path, cves_file;
  int threads = 0;
  bool strict = false, carve = false, quiet = false, fail_on_alert = false, no_merge = false;
  bool progress = false, no_progress = false, no_record_ids = false;
  uint64_t gap_alert_threshold = 0;
  KafkaFlags kafka;
  EventsFlags events;
};

void AddScanOptions(po::options_description* opts, ScanFlags* f) {
  opts->add_options()("help,h", "show this help")(
      "rules,r", po::value(&f->rule_paths)->composing(),
      "rule file or directory (repeatable; default: the shipped rules/)")(
      "out,o", po::value(&f->out_path), "write alerts to FILE instead of stdout")(
      "format,f", po::value(&f->format)->default_value("json"),
      "json (NDJSON, one alert per line) or table (for people)")(
      "threads,j", po::value(&f->threads)->default_value(0), "worker threads (0: all cores)")(
      "strict", po::bool_switch(&f->strict), "treat checksum mismatches as fatal for the input")(
      "carve", po::bool_switch(&f->carve), "EVTX: also recover records from chunk slack space")(
      "report", po::value(&f->report_path),
      "also write the Exchange fleet (builds, EEMS state, indicators, timeline) as one "
      "self-contained HTML file")(
      "inventory", po::value(&f->inventory),
      "CSV or JSON of host,build (e.g. from Get-ExchangeServer) for hosts whose logs carry "
      "no build; the fleet lists every host in it, with or without events "
      "(docs/exchange-builds.md)")(
      "builds", po::value(&f->builds_file),
      "Exchange build list to classify with (default: $EVENTSIFT_BUILDS, else the shipped "
      "data/exchange-builds.csv)")(
      "cves", po::value(&f->cves_file),
      "exploited Exchange CVE list to judge each server against (default: $EVENTSIFT_CVES, else "
      "the shipped data/exchange-cves.csv; docs/exchange-cves.md)")(
      "no-merge-short-names", po::bool_switch(&f->no_merge),
      "keep 'ex01' and 'ex01.contoso.com' as separate hosts")(
      "fail-on-alert", po::bool_switch(&f->fail_on_alert), "exit 10 when any alert was produced")(
      "progress", po::bool_switch(&f->progress),
      "show progress even when stderr is not a terminal")(
      "no-progress", po::bool_switch(&f->no_progress), "never show progress")(
      "quiet,q", po::bool_switch(&f->quiet), "no summary or account lines")(
      "stats", po::value(&f->stats_path),
      "write what became of each input (chunks, records decoded and recovered, what was "
      "skipped and where) to this file as JSON")(
      "no-record-ids", po::bool_switch(&f->no_record_ids),
      "do not track EventRecordID gaps and repeats per host and channel")(
      "gap-alert-threshold", po::value(&f->gap_alert_threshold)->default_value(0),
      "raise a pipeline_gap alert for each host and channel missing at least this many "
      "records (0: none)");
  AddKafkaOptions(opts, &f->kafka);
  AddEventsOptions(opts, &f->events);
}

// Checks what the flags alone can tell; the message is a usage error.
Status ValidateScanFlags(const ScanFlags& f) {
  if (f.inputs.empty()) {
    return Status::InvalidArgument("no input given\nTry 'eventsift scan --help'.");
  }
  if (f.format != "json" && f.format != "table") {
    return Status::InvalidArgument(
        fmt::format("--format must be json or table, not '{}'", f.format));
  }
  return ValidateKafkaFlags(f.kafka, f.events.to_kafka());
}

// The build and CVE lists and the rules, loaded before any input is read so
// that a missing or broken list stops the scan at once instead of leaving
// every alert's build status "unknown". Refusals that do not stop the scan
// are printed, never silent.
Result<std::shared_ptr<const detect::RuleSet>> LoadScanRules(const ScanFlags& f) {
  for (Status s : {correlate::LoadDefaultBuildCatalog(f.builds_file),
                   correlate::LoadDefaultCveCatalog(f.cves_file)}) {
    if (!s.ok()) return Status::InvalidArgument(s.ToString());  // printed with its location
  }
  auto rules =
      detect::RuleSet::Load(f.rule_paths.empty() ? detect::DefaultRulePaths() : f.rule_paths);
  if (!rules) {
    return Status::InvalidArgument(fmt::format("cannot load rules: {}", rules.error().ToString()));
  }
  if (size_t refused = rules.value()->sigma_refused().size(); refused > 0) {
    fmt::print(stderr,
               "eventsift scan: {} Sigma rule{} refused (unsupported features); "
               "'eventsift rules check' lists each with file, line and reason\n",
               refused, refused == 1 ? "" : "s");
  }
  for (const Status& s : rules.value()->correlation_refusals()) {
    fmt::print(stderr, "eventsift scan: warning: {}\n", s.ToString());
  }
  return rules;
}

// Kafka when asked for; the NDJSON stream when --out is given or Kafka is
// not (alerts are never only in memory).
Result<std::vector<std::unique_ptr<AlertSink>>> OpenAlertSinks(const ScanFlags& f) {
  std::vector<std::unique_ptr<AlertSink>> sinks;
  if (f.kafka.enabled()) {
    auto sink = NewKafkaSink(ToKafkaSinkOptions(f.kafka));
    if (!sink) {
      return Status::InvalidArgument(fmt::format("kafka: {}", sink.error().ToString()));
    }
    sinks.push_back(std::move(sink).value());
  }
  if (f.format == "json" && (!f.out_path.empty() || !f.kafka.enabled())) {
    auto sink = StreamSink::Open(f.out_path.empty() ? "-" : f.out_path);
    if (!sink) return Status::InvalidArgument(sink.error().ToString());
    sinks.push_back(std::move(sink).value());
  }
  return sinks;
}

ScanOptions MakeScanOptions(const ScanFlags& f) {
  ScanOptions options;
  options.inputs = f.inputs;
  options.threads = f.threads > 0
                        ? f.threads
                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.decoder.strict = f.strict;
  options.decoder.carve = f.carve;
  options.correlator.merge_short_names = !f.no_merge;
  options.inventory_csv = f.inventory;
  options.track_records = !f.no_record_ids;
  options.cancel = &g_cancel;
  return options;
}

// SIGINT/SIGTERM set g_cancel: the scan stops between inputs.
void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // reads in progress (stdin) finish their input
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// The alerts the whole run makes beside the rules' own: the CVE verdicts
// (which also name the exposed CVEs on EEMS error alerts, so this comes
// before delivery) and the record-id gaps past --gap-alert-threshold.
void AddRunAlerts(const ScanFlags& f, const std::vector<report::FleetHost>& fleet,
                  const Scanner& scanner, std::vector<Alert>* alerts) {
  report::NameExposedCves(fleet, alerts);
  for (Alert& a : report::CveExposureAlerts(fleet)) alerts->push_back(std::move(a));
  if (f.no_record_ids || f.gap_alert_threshold == 0) return;
  for (const auto& k : scanner.records().keys()) {
    if (k.missing >= f.gap_alert_threshold) {
      alerts->push_back(correlate::PipelineGapAlert(k, k.recent, k.missing));
    }
  }
}

using Diagnostic = std::function<void(const Status&)>;

// Sends every alert to every sink and flushes them, while the events sink
// (whose events are all queued by now) drains apart: the alerts have their
// own sinks and producer. Returns kExitSinkError when anything failed.
int DeliverAlerts(const std::vector<Alert>& alerts,
                  const std::vector<std::unique_ptr<AlertSink>>& sinks, EventSink* event_sink,
                  std::chrono::milliseconds flush_timeout, const Diagnostic& diagnostic) {
  int exit_code = kExitOk;
  std::thread events_closer;
  Status events_status;
  if (event_sink != nullptr) {
    events_closer = std::thread([&] { events_status = event_sink->Close(flush_timeout); });
  }
  for (const Alert& alert : alerts) {
    // Shared with the sinks: Kafka keeps it until the delivery report
    // instead of copying it.
    const auto json = std::make_shared<const std::string>(RenderAlertJson(alert));
    for (const auto& sink : sinks) {
      if (Status s = sink->SendShared(alert, json); !s.ok()) {
        diagnostic(s);
        exit_code = kExitSinkError;
      }
    }
  }
  for (const auto& sink : sinks) {
    if (Status s = sink->Flush(flush_timeout); !s.ok()) {
      diagnostic(s);
      exit_code = kExitSinkError;
    }
  }
  if (events_closer.joinable()) events_closer.join();
  if (!events_status.ok()) {
    diagnostic(events_status);
    exit_code = kExitSinkError;
  }
  return exit_code;
}

// Writes `text` to `path` whole; false (after a diagnostic) when it could not.
bool WriteWholeFile(const std::string& path, std::string_view text, std::string_view what,
                    const Diagnostic& diagnostic) {
  UniqueFile f = OpenFile(path, "wb");
  const bool written =
      f != nullptr && std::fwrite(text.data(), 1, text.size(), f.get()) == text.size();
  if (!CloseFile(std::move(f)) || !written) {
    diagnostic(Status::IOError(fmt::format("cannot write {}", what)).At(path));
    return false;
  }
  return true;
}

// --report's HTML page and --format table's text. Returns kExitSinkError
// when one could not be written.
int WriteFleetOutputs(const ScanFlags& f, const std::vector<report::FleetHost>& fleet,
                      const Scanner& scanner, const std::vector<Alert>& alerts,
                      const Diagnostic& diagnostic) {
  int exit_code = kExitOk;
  if (!f.report_path.empty()) {
    report::ReportInfo info;
    info.producer_version = ES_VERSION;
    info.inputs = scanner.stats().inputs.Get();
    info.events = scanner.stats().events.Get();
    info.alerts = alerts.size();
    info.record_ids = report::KeysWithLoss(scanner.records());
    if (!WriteWholeFile(f.report_path, report::RenderFleetHtml(fleet, info), "report",
                        diagnostic)) {
      exit_code = kExitSinkError;
    }
  }
  if (f.format == "table") {
    const std::string table = RenderAlertTable(alerts) + report::RenderFleetTable(fleet) +
                              report::RenderRecordIdsText(report::KeysWithLoss(scanner.records()));
    if (f.out_path.empty()) {
      std::fwrite(table.data(), 1, table.size(), stdout);
    } else if (!WriteWholeFile(f.out_path, table, "table", diagnostic)) {
      exit_code = kExitSinkError;
    }
  }
  return exit_code;
}

// The summary on stderr: totals and sinks, the events sink, the record-id
// account, each input not decoded whole, and the accounted totals.
void PrintScanSummary(const ScanFlags& f, const Scanner& scanner, size_t alert_count,
                      const std::vector<std::unique_ptr<AlertSink>>& sinks,
                      const EventSink* event_sink, double secs, double scan_secs) {
  const ScanStats& st = scanner.stats();
  std::string sink_text;
  for (const auto& sink : sinks) {
    sink_text += fmt::format(", {}: {} delivered", sink->name(), sink->stats().delivered.Get());
    if (sink->stats().spooled.Get() > 0 || sink->name() == "kafka") {
      sink_text += fmt::format(" {} spooled", sink->stats().spooled.Get());
    }
    if (sink->stats().failed.Get() > 0)
      sink_text += fmt::format(" {} FAILED", sink->stats().failed.Get());
  }
  if (st.incomplete.Get() > 0) {
    sink_text += fmt::format(", {} events without a time or computer", st.incomplete.Get());
  }
  fmt::print(stderr,
             "eventsift scan: {} inputs ({} unreadable), {} events, {:.1f} MB, {} hits, "
             "{} alerts, {} errors in {:.3f}s ({:.0f} events/s){}\n",
             st.inputs.Get(), st.inputs_failed.Get(), st.events.Get(),
             static_cast<double>(st.bytes.Get()) / 1e6, st.rule_hits.Get(), alert_count,
             st.errors.Get(), secs,
             scan_secs > 0 ? static_cast<double>(st.events.Get()) / scan_secs : 0.0, sink_text);
  if (event_sink != nullptr) fmt::print(stderr, "eventsift scan: {}\n", EventsLine(*event_sink));
  if (!f.no_record_ids) PrintRecordIds(scanner.records(), f.format == "table");
  for (const InputAccount& a : scanner.accounts()) {
    if (!a.Clean()) fmt::print(stderr, "eventsift scan: account: {}\n", AccountLine(a));
  }
  fmt::print(stderr, "eventsift scan: accounted: {}\n", AccountTotals(scanner.accounts()));
}

// The exit code once everything is delivered: an output error first, then
// an interruption, --strict corruption, unreadable inputs, --fail-on-alert.
int ScanExitCode(const ScanFlags& f, const Scanner& scanner, size_t alert_count,
                 const std::vector<std::unique_ptr<AlertSink>>& sinks, const EventSink* event_sink,
                 int output_code) {
  int exit_code = output_code;
  for (const auto& sink : sinks) {
    if (sink->stats().failed.Get() > 0) exit_code = kExitSinkError;
  }
  if (event_sink != nullptr && event_sink->kafka_stats() != nullptr &&
      event_sink->kafka_stats()->failed.Get() > 0) {
    exit_code = kExitSinkError;
  }
  const ScanStats& st = scanner.stats();
  if (g_cancel.load()) {
    fmt::print(stderr, "eventsift scan: interrupted; {} inputs not scanned\n",
               st.inputs_skipped.Get());
    if (exit_code == kExitOk) exit_code = kExitInterrupted;
  }
  if (exit_code != kExitOk) return exit_code;
  if (st.strict_failure.load()) return kExitCorruption;
  if (st.inputs_failed.Get() > 0) return kExitInputError;
  if (f.fail_on_alert && alert_count > 0) return kExitAlertsFound;
  return kExitOk;
}

int UsageError(const Status& s) {
  fmt::print(stderr, "eventsift scan: {}\n", s.message());
  return kExitUsage;
}

}  // namespace

int RunScan(const std::vector<std::string>& args) {
  ScanFlags f;
  po::options_description opts(kScanHelp);
  AddScanOptions(&opts, &f);
  po::variables_map vm = ParseArgs(args, opts, &f.inputs);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return kExitOk;
  }
  if (Status s = ValidateScanFlags(f); !s.ok()) return UsageError(s);
  auto event_sink = OpenScanEventSink(f.events, f.kafka);
  if (!event_sink) return UsageError(event_sink.error());
  auto rules = LoadScanRules(f);
  if (!rules) return UsageError(rules.error());

  ScanOptions options = MakeScanOptions(f);
  std::unique_ptr<EventSinkObserver> event_observer;
  if (event_sink.value()) {
    event_observer = std::make_unique<EventSinkObserver>(event_sink.value().get());
    options.event_observer = event_observer.get();
  }
  auto sinks = OpenAlertSinks(f);
  if (!sinks) return UsageError(sinks.error());

  std::mutex diag_mu;
  // On a terminal the progress line is cleared first so the two don't mix.
  const char* clear_line = ::isatty(STDERR_FILENO) ? "\r\033[K" : "";
  const Diagnostic diagnostic = [&diag_mu, clear_line](const Status& s) {
    std::lock_guard<std::mutex> lock(diag_mu);
    fmt::print(stderr, "{}eventsift: {}\n", clear_line, s.ToString());
  };
  // The fleet sees every hit through the scanner. It carries the CVE
  // verdicts, which make alerts of their own, so every format builds it.
  const std::shared_ptr<const correlate::CveCatalog> cves = correlate::DefaultCveCatalog();
  report::FleetBuilder fleet_builder(rules.value().get(), !f.no_merge, cves.get());
  options.hit_observer = &fleet_builder;
  InstallStopHandlers();
  Scanner scanner(rules.value(), options, diagnostic);
  const auto start = std::chrono::steady_clock::now();
  Result<std::vector<Alert>> alerts = [&] {
    const bool show = !f.no_progress && !f.quiet && (f.progress || ::isatty(STDERR_FILENO));
    std::unique_ptr<ProgressLine> line;
    if (show) line = std::make_unique<ProgressLine>(scanner);
    return scanner.Run();
  }();
  if (!alerts) {
    fmt::print(stderr, "eventsift scan: {}\n", alerts.error().ToString());
    return kExitUsage;
  }
  // Throughput is over decoding and matching; delivery time is reported apart.
  const double scan_secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::vector<report::FleetHost> fleet =
      fleet_builder.Build([&scanner](const std::string& key) { return scanner.BuildFor(key); });
  AddRunAlerts(f, fleet, scanner, &alerts.value());

  int exit_code = DeliverAlerts(alerts.value(), sinks.value(), event_sink.value().get(),
                                f.kafka.flush_timeout(), diagnostic);
  if (int code = WriteFleetOutputs(f, fleet, scanner, alerts.value(), diagnostic);
      code != kExitOk) {
    exit_code = code;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!f.quiet) {
    PrintScanSummary(f, scanner, alerts.value().size(), sinks.value(), event_sink.value().get(),
                     secs, scan_secs);
  }
  if (!f.stats_path.empty()) {
    if (Status s = WriteAccountsJson(f.stats_path, "scan", scanner.accounts()); !s.ok()) {
      fmt::print(stderr, "eventsift scan: {}\n", s.ToString());
      if (exit_code == kExitOk) exit_code = kExitInputError;
    }
  }
  return ScanExitCode(f, scanner, alerts.value().size(), sinks.value(), event_sink.value().get(),
                      exit_code);
}

}  // namespace eventsift::app
