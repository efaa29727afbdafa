// `eventsift scan`: the batch CLI. Inputs -> rules -> host correlation ->
// alerts on stdout, a file and/or Kafka; a summary and diagnostics on stderr.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <iostream>
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

struct EventsFlags {
  std::string out;  // FILE, "-" or "kafka"
  std::string topic = "eventsift.events";
  std::string brokers;    // default: --kafka-brokers
  std::string spool_dir;  // default: DefaultStateDir()/spool-events
  std::string channels, providers, event_ids, overflow = "block";
  bool matched = false;
  uint64_t queue_mb = 64;
};

void AddEventsOptions(po::options_description* opts, EventsFlags* f) {
  po::options_description e("Events sink (docs/events-sink.md)");
  e.add_options()("events-out", po::value(&f->out),
                  "also write every event as ECS/Winlogbeat JSON to FILE ('-': stdout), or "
                  "'kafka' for --events-topic on --kafka-brokers")(
      "events-topic", po::value(&f->topic)->default_value(f->topic), "events topic")(
      "events-kafka-brokers", po::value(&f->brokers),
      "bootstrap servers of the events topic (default: --kafka-brokers)")(
      "events-spool-dir", po::value(&f->spool_dir),
      "durable spool of the events topic (default: $EVENTSIFT_STATE_DIR/spool-events)")(
      "events-channels", po::value(&f->channels), "only these channels (comma-separated)")(
      "events-providers", po::value(&f->providers), "only these providers (comma-separated)")(
      "events-ids", po::value(&f->event_ids), "only these event ids (comma-separated)")(
      "events-matched", po::bool_switch(&f->matched), "only events some rule matched")(
      "events-overflow", po::value(&f->overflow)->default_value(f->overflow),
      "when the events queue is full: block (lose nothing) or drop (counted)")(
      "events-queue-mb", po::value(&f->queue_mb)->default_value(f->queue_mb),
      "events waiting for the output, in MiB");
  opts->add(e);
}

std::string EventsLine(const EventSink& sink) {
  const EventSinkStats& s = sink.stats();
  std::string text = fmt::format("events sink ({}): {} events, {} written, {} filtered out",
                                 sink.name(), s.offered.Get(), s.written.Get(), s.filtered.Get());
  if (const SinkStats* k = sink.kafka_stats(); k != nullptr) {
    text += fmt::format(", {} delivered {} spooled", k->delivered.Get(), k->spooled.Get());
    if (k->failed.Get() > 0) text += fmt::format(" {} FAILED", k->failed.Get());
  }
  if (s.dropped.Get() > 0) text += fmt::format(", {} DROPPED (queue full)", s.dropped.Get());
  if (s.failed.Get() > 0) text += fmt::format(", {} FAILED", s.failed.Get());
  return text;
}

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

}  // namespace

int RunScan(const std::vector<std::string>& args) {
  std::vector<std::string> inputs, rule_paths;
  std::string out_path, format, inventory, report_path, builds_file, stats_path, cves_file;
  int threads = 0;
  bool strict = false, carve = false, quiet = false, fail_on_alert = false, no_merge = false;
  bool progress = false, no_progress = false, no_record_ids = false;
  uint64_t gap_alert_threshold = 0;
  KafkaFlags kafka;
  EventsFlags events;

  po::options_description opts(kScanHelp);
  opts.add_options()("help,h", "show this help")(
      "rules,r", po::value(&rule_paths)->composing(),
      "rule file or directory (repeatable; default: the shipped rules/)")(
      "out,o", po::value(&out_path), "write alerts to FILE instead of stdout")(
      "format,f", po::value(&format)->default_value("json"),
      "json (NDJSON, one alert per line) or table (for people)")(
      "threads,j", po::value(&threads)->default_value(0), "worker threads (0: all cores)")(
      "strict", po::bool_switch(&strict), "treat checksum mismatches as fatal for the input")(
      "carve", po::bool_switch(&carve), "EVTX: also recover records from chunk slack space")(
      "report", po::value(&report_path),
      "also write the Exchange fleet (builds, EEMS state, indicators, timeline) as one "
      "self-contained HTML file")(
      "inventory", po::value(&inventory),
      "CSV or JSON of host,build (e.g. from Get-ExchangeServer) for hosts whose logs carry "
      "no build; the fleet lists every host in it, with or without events "
      "(docs/exchange-builds.md)")(
      "builds", po::value(&builds_file),
      "Exchange build list to classify with (default: $EVENTSIFT_BUILDS, else the shipped "
      "data/exchange-builds.csv)")(
      "cves", po::value(&cves_file),
      "exploited Exchange CVE list to judge each server against (default: $EVENTSIFT_CVES, else "
      "the shipped data/exchange-cves.csv; docs/exchange-cves.md)")(
      "no-merge-short-names", po::bool_switch(&no_merge),
      "keep 'ex01' and 'ex01.contoso.com' as separate hosts")(
      "fail-on-alert", po::bool_switch(&fail_on_alert), "exit 10 when any alert was produced")(
      "progress", po::bool_switch(&progress), "show progress even when stderr is not a terminal")(
      "no-progress", po::bool_switch(&no_progress), "never show progress")(
      "quiet,q", po::bool_switch(&quiet), "no summary or account lines")(
      "stats", po::value(&stats_path),
      "write what became of each input (chunks, records decoded and recovered, what was "
      "skipped and where) to this file as JSON")(
      "no-record-ids", po::bool_switch(&no_record_ids),
      "do not track EventRecordID gaps and repeats per host and channel")(
      "gap-alert-threshold", po::value(&gap_alert_threshold)->default_value(0),
      "raise a pipeline_gap alert for each host and channel missing at least this many "
      "records (0: none)");
  AddKafkaOptions(&opts, &kafka);
  AddEventsOptions(&opts, &events);
  po::variables_map vm = ParseArgs(args, opts, &inputs);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return kExitOk;
  }
  if (inputs.empty()) {
    fmt::print(stderr, "eventsift scan: no input given\nTry 'eventsift scan --help'.\n");
    return kExitUsage;
  }
  if (format != "json" && format != "table") {
    fmt::print(stderr, "eventsift scan: --format must be json or table, not '{}'\n", format);
    return kExitUsage;
  }
  Status kafka_ok = ValidateKafkaFlags(kafka, events.out == "kafka");
  if (!kafka_ok.ok()) {
    fmt::print(stderr, "eventsift scan: {}\n", kafka_ok.message());
    return kExitUsage;
  }

  std::unique_ptr<EventSink> event_sink;
  if (!events.out.empty()) {
    EventSinkOptions eo;
    auto filter =
        EventFilter::Parse(events.channels, events.providers, events.event_ids, events.matched);
    if (!filter) {
      fmt::print(stderr, "eventsift scan: --events-ids: {}\n", filter.error().message());
      return kExitUsage;
    }
    eo.filter = std::move(filter).value();
    if (events.overflow != "block" && events.overflow != "drop") {
      fmt::print(stderr, "eventsift scan: --events-overflow must be block or drop, not '{}'\n",
                 events.overflow);
      return kExitUsage;
    }
    eo.overflow = events.overflow == "drop" ? EventOverflow::kDrop : EventOverflow::kBlock;
    eo.queue_bytes = std::max<uint64_t>(1, events.queue_mb) << 20;
    if (events.out == "kafka") {
      if (!kafka.enabled() && events.brokers.empty()) {
        fmt::print(stderr, "eventsift scan: --events-out kafka needs --kafka-brokers\n");
        return kExitUsage;
      }
      KafkaSinkOptions ko = ToKafkaSinkOptions(kafka);
      if (!events.brokers.empty()) ko.brokers = events.brokers;
      ko.topic = events.topic;
      ko.spool_dir =
          events.spool_dir.empty() ? DefaultStateDir() + "/spool-events" : events.spool_dir;
      ko.log = [](std::string_view line) {
        fmt::print(stderr, "eventsift: kafka events: {}\n", line);
      };
      eo.kafka = std::move(ko);
    } else {
      eo.path = events.out;
    }
    auto sink = EventSink::Open(std::move(eo));
    if (!sink) {
      fmt::print(stderr, "eventsift scan: events sink: {}\n", sink.error().ToString());
      return kExitUsage;
    }
    event_sink = std::move(sink).value();
  }

  // Loaded before any input is read, so a missing or broken list stops the
  // scan at once instead of leaving every alert's build status "unknown".
  if (Status s = correlate::LoadDefaultBuildCatalog(builds_file); !s.ok()) {
    fmt::print(stderr, "eventsift scan: {}\n", s.ToString());
    return kExitUsage;
  }

  if (Status s = correlate::LoadDefaultCveCatalog(cves_file); !s.ok()) {
    fmt::print(stderr, "eventsift scan: {}\n", s.ToString());
    return kExitUsage;
  }

  if (rule_paths.empty()) rule_paths = detect::DefaultRulePaths();
  auto rules = detect::RuleSet::Load(rule_paths);
  if (!rules) {
    fmt::print(stderr, "eventsift scan: cannot load rules: {}\n", rules.error().ToString());
    return kExitUsage;
  }
  if (size_t refused = rules.value()->sigma_refused().size(); refused > 0) {
    fmt::print(stderr,
               "eventsift scan: {} Sigma rule{} refused (unsupported features); "
               "'eventsift rules check' lists each with file, line and reason\n",
               refused, refused == 1 ? "" : "s");
  }
  // Refused Sigma correlations do not stop the scan, but are never silent.
  for (const Status& s : rules.value()->correlation_refusals()) {
    fmt::print(stderr, "eventsift scan: warning: {}\n", s.ToString());
  }

  ScanOptions options;
  options.inputs = inputs;
  options.threads =
      threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.decoder.strict = strict;
  options.decoder.carve = carve;
  options.correlator.merge_short_names = !no_merge;
  options.inventory_csv = inventory;
  options.track_records = !no_record_ids;
  std::unique_ptr<EventSinkObserver> event_observer;
  if (event_sink) {
    event_observer = std::make_unique<EventSinkObserver>(event_sink.get());
    options.event_observer = event_observer.get();
  }

  // Sinks: Kafka when asked for; the NDJSON stream when --out is given or
  // Kafka is not (alerts are never only in memory).
  std::vector<std::unique_ptr<AlertSink>> sinks;
  if (kafka.enabled()) {
    auto sink = NewKafkaSink(ToKafkaSinkOptions(kafka));
    if (!sink) {
      fmt::print(stderr, "eventsift scan: kafka: {}\n", sink.error().ToString());
      return kExitUsage;
    }
    sinks.push_back(std::move(sink).value());
  }
  const bool stream_json = format == "json" && (!out_path.empty() || !kafka.enabled());
  if (stream_json) {
    auto sink = StreamSink::Open(out_path.empty() ? "-" : out_path);
    if (!sink) {
      fmt::print(stderr, "eventsift scan: {}\n", sink.error().ToString());
      return kExitUsage;
    }
    sinks.push_back(std::move(sink).value());
  }

  std::mutex diag_mu;
  // On a terminal the progress line is cleared first so the two don't mix.
  const char* clear_line = ::isatty(STDERR_FILENO) ? "\r\033[K" : "";
  auto diagnostic = [&diag_mu, clear_line](const Status& s) {
    std::lock_guard<std::mutex> lock(diag_mu);
    fmt::print(stderr, "{}eventsift: {}\n", clear_line, s.ToString());
  };
  options.cancel = &g_cancel;
  // The fleet sees every hit through the scanner. It carries the CVE
  // verdicts, which make alerts of their own, so every format builds it.
  const std::shared_ptr<const correlate::CveCatalog> cves = correlate::DefaultCveCatalog();
  report::FleetBuilder fleet_builder(rules.value().get(), !no_merge, cves.get());
  options.hit_observer = &fleet_builder;
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // reads in progress (stdin) finish their input
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  Scanner scanner(rules.value(), options, diagnostic);
  const auto start = std::chrono::steady_clock::now();
  Result<std::vector<Alert>> alerts = [&] {
    const bool show = !no_progress && !quiet && (progress || ::isatty(STDERR_FILENO));
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

  // The CVE verdicts make alerts of their own and name the exposed CVEs on
  // EEMS error alerts, so the fleet comes before delivery.
  const std::vector<report::FleetHost> fleet =
      fleet_builder.Build([&scanner](const std::string& key) { return scanner.BuildFor(key); });
  report::NameExposedCves(fleet, &alerts.value());
  for (Alert& a : report::CveExposureAlerts(fleet)) alerts.value().push_back(std::move(a));
  if (!no_record_ids && gap_alert_threshold > 0) {
    for (const auto& k : scanner.records().keys()) {
      if (k.missing >= gap_alert_threshold) {
        alerts.value().push_back(correlate::PipelineGapAlert(k, k.recent, k.missing));
      }
    }
  }

  int exit_code = kExitOk;
  // The events are all queued by now; their output drains apart from the
  // alerts, which have their own sinks and producer.
  std::thread events_closer;
  Status events_status;
  if (event_sink) {
    events_closer = std::thread([&] { events_status = event_sink->Close(kafka.flush_timeout()); });
  }
  for (const Alert& alert : alerts.value()) {
    const std::string json = RenderAlertJson(alert);
    for (auto& sink : sinks) {
      Status s = sink->Send(alert, json);
      if (!s.ok()) {
        diagnostic(s);
        exit_code = kExitSinkError;
      }
    }
  }
  for (auto& sink : sinks) {
    Status s = sink->Flush(kafka.flush_timeout());
    if (!s.ok()) {
      diagnostic(s);
      exit_code = kExitSinkError;
    }
  }
  if (events_closer.joinable()) events_closer.join();
  if (!events_status.ok()) {
    diagnostic(events_status);
    exit_code = kExitSinkError;
  }
  if (!report_path.empty()) {
    report::ReportInfo info;
    info.producer_version = ES_VERSION;
    info.inputs = scanner.stats().inputs.Get();
    info.events = scanner.stats().events.Get();
    info.alerts = alerts.value().size();
    info.record_ids = report::KeysWithLoss(scanner.records());
    const std::string html = report::RenderFleetHtml(fleet, info);
    UniqueFile f = OpenFile(report_path, "wb");
    const bool written =
        f != nullptr && std::fwrite(html.data(), 1, html.size(), f.get()) == html.size();
    if (!CloseFile(std::move(f)) || !written) {
      diagnostic(Status::IOError("cannot write report").At(report_path));
      exit_code = kExitSinkError;
    }
  }
  if (format == "table") {
    std::string table = RenderAlertTable(alerts.value()) + report::RenderFleetTable(fleet) +
                        report::RenderRecordIdsText(report::KeysWithLoss(scanner.records()));
    if (out_path.empty()) {
      std::fwrite(table.data(), 1, table.size(), stdout);
    } else {
      UniqueFile f = OpenFile(out_path, "wb");
      const bool written =
          f != nullptr && std::fwrite(table.data(), 1, table.size(), f.get()) == table.size();
      if (!CloseFile(std::move(f)) || !written) {
        diagnostic(Status::IOError("cannot write table").At(out_path));
        exit_code = kExitSinkError;
      }
    }
  }

  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const ScanStats& st = scanner.stats();
  if (!quiet) {
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
               static_cast<double>(st.bytes.Get()) / 1e6, st.rule_hits.Get(), alerts.value().size(),
               st.errors.Get(), secs,
               scan_secs > 0 ? static_cast<double>(st.events.Get()) / scan_secs : 0.0, sink_text);
    if (event_sink) fmt::print(stderr, "eventsift scan: {}\n", EventsLine(*event_sink));
    if (!no_record_ids) PrintRecordIds(scanner.records(), format == "table");
    for (const InputAccount& a : scanner.accounts()) {
      if (!a.Clean()) fmt::print(stderr, "eventsift scan: account: {}\n", AccountLine(a));
    }
    fmt::print(stderr, "eventsift scan: accounted: {}\n", AccountTotals(scanner.accounts()));
  }
  if (!stats_path.empty()) {
    if (Status s = WriteAccountsJson(stats_path, "scan", scanner.accounts()); !s.ok()) {
      fmt::print(stderr, "eventsift scan: {}\n", s.ToString());
      if (exit_code == kExitOk) exit_code = kExitInputError;
    }
  }
  for (const auto& sink : sinks) {
    if (sink->stats().failed.Get() > 0) exit_code = kExitSinkError;
  }
  if (event_sink && event_sink->kafka_stats() != nullptr &&
      event_sink->kafka_stats()->failed.Get() > 0) {
    exit_code = kExitSinkError;
  }
  if (g_cancel.load()) {
    fmt::print(stderr, "eventsift scan: interrupted; {} inputs not scanned\n",
               st.inputs_skipped.Get());
    if (exit_code == kExitOk) exit_code = kExitInterrupted;
  }
  if (exit_code != kExitOk) return exit_code;
  if (st.strict_failure.load()) return kExitCorruption;
  if (st.inputs_failed.Get() > 0) return kExitInputError;
  if (fail_on_alert && !alerts.value().empty()) return kExitAlertsFound;
  return kExitOk;
}

}  // namespace eventsift::app
