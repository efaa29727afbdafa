#include "src/pipeline/scan.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "parsers/evtx/evtx_decoder.h"
#include "parsers/json/json_decoder.h"
#include "src/correlate/cve_verdict.h"
#include "src/correlate/exchange_build.h"
#include "src/correlate/inventory.h"
#include "src/correlate/sigma_correlator.h"
#include "src/detect/field_values.h"
#include "src/detect/sigma_rule.h"
#include "src/pipeline/hit_store.h"
#include "src/pipeline/registry.h"
#include "src/pipeline/stream_input.h"

namespace eventsift {

namespace fs = std::filesystem;

struct BuildSeen {
  std::string host;
  correlate::ExchangeVersion version;
  std::string event;  // "event <provider> <id>"
  // Where the event was read; the line is relative to a split file's part
  // until the lines of the parts before it are known.
  std::string file;
  uint64_t offset = Where::kNone;
  uint64_t line = 0;

  // "event MSExchange Common 4999 at file:line" (or file@0xoffset, or file).
  std::string Source(uint64_t line_base) const {
    if (line != 0) return fmt::format("{} at {}:{}", event, file, line + line_base);
    if (offset != Where::kNone) return fmt::format("{} at {}@0x{:x}", event, file, offset);
    return fmt::format("{} at {}", event, file);
  }
};

// Everything one input contributes, kept until all workers are done so the
// correlator sees inputs in command-line order.
struct Scanner::FileResult {
  FileResult(std::atomic<uint64_t>* hit_memory, uint64_t budget, SpillFile* spill)
      : hits(hit_memory, budget, spill), spill(spill) {}
  std::string path;
  HitStore hits;
  SpillFile* spill;
  std::vector<BuildSeen> builds;
  std::vector<HostSeen> exchange_hosts;  // first seen first
  InputAccount account;
  std::unique_ptr<correlate::RecordTracker> records;  // with track_records
  // A part of a split NDJSON file: the lines of the parts before it, added
  // to the part's own line numbers.
  uint64_t line_base = 0;
  // A split NDJSON file: its parts in file order, which hold its hits.
  std::vector<std::unique_ptr<FileResult>> parts;
};

struct Scanner::SplitOutcome {
  Status status;
  uint64_t events = 0;
  uint64_t payload_skipped = 0;
};

namespace {

// Exchange builds are read from Exchange's own providers and the installer;
// checking the provider first keeps the payload of every other event
// undecoded when no rule needs it.
bool MayCarryExchangeBuild(const Event& header) {
  return header.provider.starts_with("MSExchange") || header.provider == "MsiInstaller";
}

// Per-input handler: exact filters decide whether the payload is decoded at
// all, regexes run only on candidates, and only hits are copied.
class ScanHandler : public EventHandler {
 public:
  ScanHandler(const detect::Matcher& matcher, HitStore* hits, std::vector<BuildSeen>* builds,
              std::vector<HostSeen>* exchange_hosts, EventObserver* observer,
              correlate::RecordTracker* records)
      : matcher_(matcher),
        hits_(hits),
        builds_(builds),
        exchange_hosts_(exchange_hosts),
        observer_(observer),
        records_(records) {}

  bool WantPayload(const Event& header) override {
    if (matcher_.MayMatch(header) || MayCarryExchangeBuild(header)) return true;
    if (observer_ != nullptr && observer_->WantPayload(header)) return true;
    if (records_ != nullptr && correlate::RecordTracker::WantsPayload(header)) return true;
    payload_skipped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  bool WantsEveryPayload() const override { return matcher_.MayMatchEveryHeader(); }

  // A declined event is only counted, checked for an Exchange provider
  // (which WantPayload never declines) and given to the record tracker
  // (computer, channel, record id, event id, provider: all in the lean
  // header); the events sink needs every field.
  bool FullHeaderWhenDeclined() const override { return observer_ != nullptr; }
  // Matcher::MayMatch is const and thread-safe; the counter is atomic.
  bool WantPayloadIsThreadSafe() const override { return true; }

  void OnEvent(const Event& event) override {
    ++events_;
    if (records_ != nullptr) records_->Add(event);
    // Declined by WantPayload: MayMatch said no, so Match would too, and
    // Exchange and build-carrying events are never declined.
    if (event.payload_declined) {
      if (observer_ != nullptr) observer_->OnEvent(event, false);
      return;
    }
    if (event.provider.starts_with("MSExchange")) NoteExchangeHost(event.computer);
    if (MayCarryExchangeBuild(event)) {
      if (auto v = correlate::ExtractExchangeBuild(event)) {
        builds_->push_back(BuildSeen{std::string(event.computer), *v,
                                     fmt::format("event {} {}", event.provider, event.event_id),
                                     std::string(event.where.file), event.where.offset,
                                     event.where.line});
      }
    }
    matched_.clear();
    matcher_.Match(event, &matched_);
    for (uint32_t rule : matched_) hits_->Add(rule, event);
    if (observer_ != nullptr) observer_->OnEvent(event, !matched_.empty());
  }

  uint64_t events() const { return events_; }
  uint64_t payload_skipped() const { return payload_skipped_.load(std::memory_order_relaxed); }

 private:
  // Events of one host come in long runs: the last host is checked first, so
  // the index is consulted only when the host changes.
  void NoteExchangeHost(std::string_view computer) {
    auto& hosts = *exchange_hosts_;
    if (last_host_ < hosts.size() && hosts[last_host_].name == computer) {
      ++hosts[last_host_].exchange_events;
      return;
    }
    auto it = host_index_.find(computer);
    if (it == host_index_.end()) {
      it = host_index_.emplace(std::string(computer), hosts.size()).first;
      hosts.push_back(HostSeen{std::string(computer), 0});
    }
    last_host_ = it->second;
    ++hosts[last_host_].exchange_events;
  }

  const detect::Matcher& matcher_;
  HitStore* hits_;
  std::vector<BuildSeen>* builds_;
  std::vector<HostSeen>* exchange_hosts_;
  EventObserver* observer_;
  correlate::RecordTracker* records_;
  std::map<std::string, size_t, std::less<>> host_index_;  // name -> index in exchange_hosts_
  size_t last_host_ = SIZE_MAX;
  std::vector<uint32_t> matched_;
  uint64_t events_ = 0;
  // Atomic: WantPayload runs on the EVTX decoder's worker threads at once.
  std::atomic<uint64_t> payload_skipped_{0};
};

// Prints the first few reports of an input and counts the rest, so a badly
// damaged file cannot flood the terminal.
class LimitedReporter : public CorruptionReporter {
 public:
  LimitedReporter(const DiagnosticFn& diagnostic, uint32_t limit, std::string input)
      : diagnostic_(diagnostic), limit_(limit), input_(std::move(input)) {}
  void Report(const Status& status, uint64_t bytes_dropped) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++count_;
    if (count_ <= limit_ && diagnostic_) diagnostic_(status);
  }
  void Finish() {
    if (count_ > limit_ && diagnostic_) {
      diagnostic_(Status::Corruption(fmt::format("{} more problems not shown", count_ - limit_))
                      .At(input_));
    }
  }
  uint64_t count() const { return count_; }
  // Reports known to come after the `limit` shown, counted without their text.
  void CountUnshown(uint64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    count_ += n;
  }

 private:
  const DiagnosticFn& diagnostic_;
  uint32_t limit_;
  std::string input_;
  std::mutex mu_;  // EVTX chunk workers may report concurrently
  uint64_t count_ = 0;
};

// Holds one part's reports of a split file until the lines before the part
// are known. Only what can still be shown or listed is kept: the first
// `limit` reports (the diagnostics shown per input) and the first
// InputAccount::kMaxListed skips; the rest are counted, so memory stays
// bounded however damaged the part is.
class PartReporter : public CorruptionReporter {
 public:
  explicit PartReporter(uint64_t limit) : limit_(limit) {}
  void Report(const Status& status, uint64_t bytes_dropped) override {
    const Where* where = status.where();
    // InputAccount::Note's rule for a skip.
    const bool skip = bytes_dropped != 0 || (where != nullptr && where->line != 0);
    if (kept_.size() < limit_ || (skip && kept_skips_ < InputAccount::kMaxListed)) {
      kept_.push_back({status, bytes_dropped});
      kept_skips_ += skip ? 1 : 0;
      return;
    }
    ++unkept_problems_;
    if (skip) {
      ++unkept_skips_;
      unkept_bytes_ += bytes_dropped;
    }
  }

  // Forwards the kept reports with `line_base` added to their lines, and
  // counts the others in `account` and with `count_unshown`.
  void Replay(uint64_t line_base, CorruptionReporter& next, InputAccount* account,
              const std::function<void(uint64_t)>& count_unshown) {
    for (auto& [status, bytes] : kept_) {
      const Where* where = status.where();
      if (where != nullptr && where->line != 0) {
        status.At(std::string(where->file), Where::kNone, where->line + line_base);
      }
      next.Report(status, bytes);
    }
    account->problems += unkept_problems_;
    account->skips += unkept_skips_;
    account->bytes_skipped += unkept_bytes_;
    count_unshown(unkept_problems_);
  }

 private:
  uint64_t limit_;
  std::vector<std::pair<Status, uint64_t>> kept_;
  uint64_t kept_skips_ = 0;
  uint64_t unkept_problems_ = 0, unkept_skips_ = 0, unkept_bytes_ = 0;
};

// One input's decode. Running out of memory on one input (a memory limit,
// an input past every bound we know of) fails that input only: the worker
// is where an input's failure must stop, so that the other inputs' alerts
// are still written.
Status DecodeInput(Decoder& decoder, const InputSpec& spec, EventHandler& handler,
                   CorruptionReporter& reporter) {
  try {
    return decoder.Decode(spec, handler, reporter);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory while reading this input; skipped the rest")
        .At(spec.name());
  }
}

}  // namespace

std::vector<correlate::CorrelatedRule> ToCorrelatedRules(const detect::RuleSet& rules) {
  std::vector<correlate::CorrelatedRule> out;
  out.reserve(rules.rules().size());
  for (const auto& r : rules.rules()) {
    correlate::CorrelatedRule c;
    c.meta.id = r.id;
    c.meta.title = r.title;
    c.meta.description = r.description;
    c.meta.severity = r.severity;
    c.meta.remediation = r.remediation;
    c.meta.references = r.references;
    c.meta.format = r.sigma != nullptr ? "sigma" : "eventsift";
    c.meta.source = r.file;
    if (r.sigma != nullptr) {
      c.meta.status = r.sigma->status;
      c.meta.tags = r.sigma->tags;
      c.meta.falsepositives = r.sigma->falsepositives;
    }
    c.spec = r.correlation;
    // A copy: the daemon may swap rule sets while a correlator still runs.
    c.matched_values = [fields = detect::RuleFields(r)](const Event& e) {
      return detect::FieldValuesOf(fields, e);
    };
    out.push_back(std::move(c));
  }
  return out;
}

Scanner::Scanner(std::shared_ptr<const detect::RuleSet> rules, ScanOptions options,
                 DiagnosticFn diagnostic)
    : rules_(rules),
      matcher_(rules),
      options_(std::move(options)),
      diagnostic_(std::move(diagnostic)) {}

Result<std::vector<std::string>> Scanner::ExpandInputs(const std::vector<std::string>& inputs,
                                                       DiagnosticFn diagnostic, ScanStats* stats) {
  std::vector<std::string> out;
  for (const auto& in : inputs) {
    if (in == "-") {
      out.push_back(in);
      continue;
    }
    std::error_code ec;
    auto st = fs::status(in, ec);
    if (ec || !fs::exists(st)) {
      stats->inputs_failed.Add();
      if (diagnostic) diagnostic(Status::IOError("no such file or directory").At(in));
      continue;
    }
    if (!fs::is_directory(st)) {
      out.push_back(in);
      continue;
    }
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(
             in, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      const auto name = it->path().filename().string();
      // Directory scans take the formats we know by name; a file named on
      // the command line is sniffed whatever its name.
      static constexpr const char* kSuffixes[] = {".evtx",    ".json",     ".jsonl",    ".ndjson",
                                                  ".json.gz", ".jsonl.gz", ".ndjson.gz"};
      bool known = std::any_of(std::begin(kSuffixes), std::end(kSuffixes),
                               [&](const char* s) { return name.ends_with(s); });
      if (known) found.push_back(it->path().string());
    }
    if (ec && diagnostic) diagnostic(Status::IOError(ec.message()).At(in));
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

void Scanner::ScanOne(const std::string& path, int decoder_threads, FileResult* out) {
  LimitedReporter limited(diagnostic_, options_.max_reports_per_input, path);
  InputAccount& account = out->account;
  account.input = path == "-" ? "<stdin>" : path;
  AccountingReporter reporter(&limited, &account);
  // A FIFO or process substitution is read once, whole, and its format
  // told from those bytes (stream_input.h).
  std::string stream;
  const bool is_stream = IsStreamInput(path);
  if (is_stream) {
    auto read = ReadStreamInput(path, options_.cancel);
    if (!read) {
      if (read.error().code() == StatusCode::kUnavailable) {
        stats_.inputs_skipped.Add();  // interrupted while waiting for a writer
      } else {
        stats_.inputs_failed.Add();
      }
      account.error = read.error().ToString();
      if (diagnostic_) diagnostic_(read.error());
      return;
    }
    stream = std::move(read.value());
  }
  auto format = is_stream ? SniffInputBytes(stream, path) : SniffInputFormat(path);
  if (!format) {
    stats_.inputs_failed.Add();
    account.error = format.error().ToString();
    if (diagnostic_) diagnostic_(format.error());
    return;
  }
  account.format = format.value() == InputFormat::kEvtx ? "evtx" : "json";
  DecoderOptions dopts = options_.decoder;
  dopts.threads = decoder_threads;
  if (options_.track_records) {
    out->records = std::make_unique<correlate::RecordTracker>(options_.record_tracker);
  }
  ScanHandler handler(matcher_, &out->hits, &out->builds, &out->exchange_hosts,
                      options_.event_observer, out->records.get());
  Status s;
  uint64_t bytes = 0, incomplete = 0, events = 0, payload_skipped = 0;
  // A large NDJSON file when threads are left over: its lines split across them.
  std::vector<json::LineRange> ranges;
  // Not when events are observed: the events sink wants them in file order.
  // Record ids are tracked per part and the parts' accounts merged in file
  // order (RecordTracker::Merge), which gives what one pass gives.
  if (!is_stream && format.value() == InputFormat::kJson && decoder_threads > 1 &&
      options_.event_observer == nullptr) {
    ranges = json::SplitNdjsonFile(path, decoder_threads);
  }
  if (ranges.size() > 1) {
    account.parts = ranges.size();
    DecoderStats dstats;
    SplitOutcome split = ScanSplit(
        path, ranges, out, reporter, [&limited](uint64_t n) { limited.CountUnshown(n); }, &dstats);
    s = std::move(split.status);
    events = split.events;
    payload_skipped = split.payload_skipped;
    bytes = dstats.bytes.Get();
    incomplete = dstats.incomplete.Get();
    account.Take(dstats);
    if (s.ok() && options_.decoder.strict && dstats.errors.Get() > 0) {
      // As the whole-file decoder says it (json_decoder.cc).
      s = Status::Corruption(fmt::format("{} malformed or unrecognised document(s) (--strict)",
                                         dstats.errors.Get()))
              .At(path);
    }
  } else if (is_stream) {
    DecoderStats dstats;
    if (format.value() == InputFormat::kEvtx) {
      const auto* data = reinterpret_cast<const uint8_t*>(stream.data());
      s = evtx::DecodeEvtxBuffer({data, stream.size()}, path, dopts, handler, reporter, &dstats);
    } else {
      s = json::DecodeJsonBuffer(stream, path, handler, reporter, &dstats);
    }
    bytes = dstats.bytes.Get();
    incomplete = dstats.incomplete.Get();
    account.Take(dstats);
  } else {
    auto decoder = CreateDecoder(format.value(), dopts);
    InputSpec spec{path, path == "-" ? "<stdin>" : ""};
    s = DecodeInput(*decoder, spec, handler, reporter);
    bytes = decoder->stats().bytes.Get();
    incomplete = decoder->stats().incomplete.Get();
    account.Take(decoder->stats());
  }
  if (ranges.size() <= 1) {
    events = handler.events();
    payload_skipped = handler.payload_skipped();
  }
  out->hits.Flush();
  limited.Finish();
  if (!s.ok()) account.error = s.ToString();
  stats_.inputs.Add();
  stats_.events.Add(events);
  stats_.payload_skipped.Add(payload_skipped);
  stats_.bytes.Add(bytes);
  stats_.incomplete.Add(incomplete);
  stats_.errors.Add(limited.count());
  uint64_t hits = out->hits.size(), hits_dropped = out->hits.dropped();
  Status hits_error = out->hits.error();
  for (const auto& part : out->parts) {
    hits += part->hits.size();
    hits_dropped += part->hits.dropped();
    if (hits_error.ok()) hits_error = part->hits.error();
  }
  stats_.rule_hits.Add(hits + hits_dropped);
  if (!hits_error.ok()) {
    // Hits lost: alerts may be missing, so the input counts as failed.
    stats_.inputs_failed.Add();
    if (diagnostic_) {
      diagnostic_(
          Status::IOError(fmt::format("{}; {} rule hits lost", hits_error.message(), hits_dropped))
              .At(path));
    }
  }
  if (!s.ok()) {
    // A decoder returns non-OK only when the input as a whole could not be
    // read (decoder.h): --strict stopping it on corruption, or anything else
    // (cut file header, bad gzip trailer, I/O error), which is an unreadable
    // input (docs/cli.md, exit 3) whatever its code.
    if (options_.decoder.strict && s.code() == StatusCode::kCorruption) {
      stats_.strict_failure = true;
    } else {
      stats_.inputs_failed.Add();
    }
    if (diagnostic_) diagnostic_(s);
  }
}

Scanner::SplitOutcome Scanner::ScanSplit(const std::string& path,
                                         const std::vector<json::LineRange>& ranges,
                                         FileResult* out, CorruptionReporter& reporter,
                                         const std::function<void(uint64_t)>& count_unshown,
                                         DecoderStats* stats) {
  struct Part {
    std::unique_ptr<FileResult> result;
    std::unique_ptr<PartReporter> reporter;
    Status status;
    uint64_t lines = 0, events = 0, payload_skipped = 0;
  };
  std::vector<Part> parts(ranges.size());
  auto decode = [&](size_t k) {
    Part& part = parts[k];
    part.result = std::make_unique<FileResult>(&hit_memory_, options_.hit_memory_bytes, out->spill);
    part.result->path = path;
    part.reporter = std::make_unique<PartReporter>(options_.max_reports_per_input);
    FileResult& r = *part.result;
    if (options_.track_records) {
      r.records = std::make_unique<correlate::RecordTracker>(options_.record_tracker);
    }
    ScanHandler handler(matcher_, &r.hits, &r.builds, &r.exchange_hosts, nullptr, r.records.get());
    try {
      part.status = json::DecodeJsonLineRange(path, ranges[k], path, handler, *part.reporter, stats,
                                              &part.lines);
    } catch (const std::bad_alloc&) {
      part.status =
          Status::ResourceExhausted("out of memory while reading this input; skipped the rest")
              .At(path, ranges[k].begin);
    }
    r.hits.Flush();
    part.events = handler.events();
    part.payload_skipped = handler.payload_skipped();
  };
  std::vector<std::thread> pool;
  for (size_t k = 1; k < parts.size(); ++k) pool.emplace_back(decode, k);
  decode(0);
  for (auto& t : pool) t.join();

  // In file order, as one thread would have: reports with whole-file lines,
  // and nothing after a part that could not be read.
  SplitOutcome outcome;
  uint64_t line_base = 0;
  for (Part& part : parts) {
    part.result->line_base = line_base;
    line_base += part.lines;
    part.reporter->Replay(part.result->line_base, reporter, &out->account, count_unshown);
    outcome.events += part.events;
    outcome.payload_skipped += part.payload_skipped;
    if (part.result->records) {
      if (out->records) out->records->Merge(*part.result->records);
      part.result->records.reset();
    }
    out->parts.push_back(std::move(part.result));
    if (!part.status.ok()) {
      outcome.status = std::move(part.status);
      break;
    }
  }
  return outcome;
}

Result<std::vector<Alert>> Scanner::Run() {
  ES_ASSIGN_OR_RETURN(paths, ExpandInputs(options_.inputs, diagnostic_, &stats_));
  inputs_total_.store(paths.size());
  // Declared before the results, whose stores write to it.
  auto spill = std::make_unique<SpillFile>();
  std::vector<std::unique_ptr<FileResult>> results;
  results.reserve(paths.size());
  for (const auto& path : paths) {
    results.push_back(
        std::make_unique<FileResult>(&hit_memory_, options_.hit_memory_bytes, spill.get()));
    results.back()->path = path;
  }

  const int threads = std::max(1, options_.threads);
  const int workers =
      static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), paths.size()));
  // Threads left over when there are fewer files than threads go to the
  // decoders (EVTX chunks decode in parallel).
  const int per_file_threads = workers > 0 ? std::max(1, threads / workers) : 1;
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < paths.size(); i = next.fetch_add(1)) {
      if (options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed)) {
        stats_.inputs_skipped.Add();
        results[i]->account.input = paths[i];
        results[i]->account.error = "not scanned: the scan was interrupted";
        continue;
      }
      ScanOne(paths[i], per_file_threads, results[i].get());
      inputs_done_.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < workers; ++i) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();

  correlator_ =
      std::make_unique<correlate::Correlator>(ToCorrelatedRules(*rules_), options_.correlator);
  correlate::Correlator& correlator = *correlator_;
  // Sigma correlations (refusals were reported when the rules loaded).
  correlate::SigmaCorrelatorOptions sigma_options;
  sigma_options.field_lookup = correlate::RuleSetFieldLookup(rules_);
  correlate::SigmaCorrelator sigma(rules_->sigma_correlations(), rules_->SigmaRefs(), nullptr,
                                   std::move(sigma_options));
  observations_ = ScanObservations{};
  if (!options_.inventory_csv.empty()) {
    // Parsed here rather than by Correlator::LoadInventory so that the fleet
    // learns the inventory's names too; the whole file or nothing, as there.
    auto entries = correlate::LoadInventoryFile(options_.inventory_csv);
    if (!entries) return entries.error();
    for (auto& entry : entries.value()) {
      if (!entry.mitigations.empty()) {
        observations_.inventory_mitigations.push_back(
            {entry.host, entry.source, std::move(entry.mitigations)});
      }
      correlator.AddBuild(entry.host, entry.version, std::move(entry.source));
      observations_.inventory_hosts.push_back(std::move(entry.host));
    }
  }
  accounts_.clear();
  for (auto& r : results) accounts_.push_back(std::move(r->account));
  // Inputs in command-line order; holes settle once every input is in.
  records_ = correlate::RecordTracker(options_.record_tracker);
  for (auto& r : results) {
    if (r->records) records_.Merge(*r->records);
    r->records.reset();
  }
  (void)records_.Settle(true);
  // A split file's parts stand in for it, in file order: the correlator
  // sees the same hits in the same order as from one thread.
  std::vector<std::unique_ptr<FileResult>> flat;
  for (auto& r : results) {
    if (r->parts.empty()) {
      flat.push_back(std::move(r));
    } else {
      std::move(r->parts.begin(), r->parts.end(), std::back_inserter(flat));
    }
  }
  results = std::move(flat);
  std::map<std::string, size_t> host_index;  // name -> index in exchange_hosts
  auto note_host = [this, &host_index](const std::string& name, uint64_t events) {
    auto [it, inserted] = host_index.try_emplace(name, observations_.exchange_hosts.size());
    if (inserted) observations_.exchange_hosts.push_back(HostSeen{name, 0});
    observations_.exchange_hosts[it->second].exchange_events += events;
  };
  // State rules describe a host (EEMS worked); they raise no alert. Rules
  // named by Sigma correlations alert only through them (`generate`).
  auto alerting = [this, &sigma](uint32_t rule) {
    return rules_->rules()[rule].kind != detect::RuleKind::kState && sigma.Standalone(rule);
  };
  HitObserver* observer = options_.hit_observer;
  auto read_failed = [this](FileResult& r, Status s) {
    stats_.inputs_failed.Add();
    if (diagnostic_) diagnostic_(std::move(s).At(r.path));
  };
  std::vector<std::string> mitigations;  // of the hit at hand, for the observer
  // First pass: every host name, build and hit time, so that the correlator
  // knows the host keys and where each series' windows start.
  for (auto& r : results) {
    for (const auto& h : r->exchange_hosts) note_host(h.name, h.exchange_events);
    for (auto& b : r->builds) {
      note_host(b.host, 0);  // a build makes an Exchange host even without MSExchange events
      correlator.AddBuild(b.host, b.version, b.Source(r->line_base));
    }
    Status s = r->hits.ForEach([&](uint32_t rule, OwnedEvent& event) {
      if (observer != nullptr) {
        mitigations.clear();
        if (rules_->rules()[rule].id == correlate::kEemsSuccessRuleId) {
          mitigations = correlate::MitigationIdsOfEvent(event);
        }
        observer->FirstPass(rule, event.computer, event.time, mitigations);
      }
      if (alerting(rule)) correlator.PlanHit(rule, event.computer, event.time);
    });
    if (!s.ok()) read_failed(*r, std::move(s));
  }
  if (observer != nullptr) observer->BetweenPasses(observations_);
  // Second pass: each hit folds into its window; inputs are released as we go.
  for (auto& r : results) {
    Status s = r->hits.ForEach([&](uint32_t rule, OwnedEvent& event) {
      if (event.line != 0) event.line += r->line_base;  // a split file's part
      if (observer != nullptr) observer->SecondPass(rule, event.computer, event.time);
      sigma.AddHit(rule, event);
      if (alerting(rule)) correlator.AddPlannedHit(rule, std::move(event));
    });
    if (!s.ok()) read_failed(*r, std::move(s));
    r.reset();
  }
  std::vector<Alert> alerts = correlator.Finish();
  AppendSigmaAlerts(sigma.Finish(), &alerts);
  // What the engine's bounds dropped is said, never silent.
  const correlate::SigmaCorrelatorStats& ss = sigma.stats();
  const uint64_t dropped = ss.hits_late.Get() + ss.hits_untimed.Get() + ss.entries_dropped.Get() +
                           ss.groups_dropped.Get();
  if (dropped > 0 && diagnostic_) {
    diagnostic_(Status::ResourceExhausted(fmt::format(
        "Sigma correlations: {} hits late (past max_pending), {} without a time, {} entries and "
        "{} groups dropped by their bounds (docs/sigma-correlation.md)",
        ss.hits_late.Get(), ss.hits_untimed.Get(), ss.entries_dropped.Get(),
        ss.groups_dropped.Get())));
  }
  stats_.alerts.Add(alerts.size());
  return alerts;
}

void AppendSigmaAlerts(std::vector<Alert> sigma, std::vector<Alert>* alerts) {
  if (sigma.empty()) return;
  std::move(sigma.begin(), sigma.end(), std::back_inserter(*alerts));
  // The correlator's order (host, rule id, window start), stable so the
  // order among equal keys stays the one they fired in.
  std::stable_sort(alerts->begin(), alerts->end(), [](const Alert& a, const Alert& b) {
    return std::tie(a.host, a.rule.id, a.window_start) <
           std::tie(b.host, b.rule.id, b.window_start);
  });
}

std::optional<ExchangeBuildInfo> Scanner::BuildFor(const std::string& host_key) const {
  if (correlator_ == nullptr) return std::nullopt;
  return correlator_->BuildFor(host_key);
}

}  // namespace eventsift
