// Daemon::RenderMetrics: the Prometheus text of /metrics. It only reads
// counters and, under objects_mu_, the source and sink lists, so a scrape
// never waits for the event loop.

#include <chrono>

#include <fmt/format.h>

#include "src/core/time_util.h"
#include "src/daemon/clock.h"
#include "src/daemon/daemon.h"
#include "src/daemon/log.h"
#include "src/sink/event_sink.h"
#include "src/sink/kafka/kafka_sink.h"
#include "src/source/http_source.h"
#include "src/source/kafka_source.h"

namespace eventsift::daemon {

std::string Daemon::RenderMetrics() const {
  std::lock_guard<std::mutex> lock(objects_mu_);
  PromText p;
  struct SourceCounter {
    const char* name;
    const char* help;
    const Counter source::SourceStats::*field;
  };
  static const SourceCounter kSourceCounters[] = {
      {"eventsift_source_bytes_total", "Bytes read from the input.", &source::SourceStats::bytes},
      {"eventsift_source_lines_total", "Complete NDJSON lines read.", &source::SourceStats::lines},
      {"eventsift_source_evtx_chunks_total", "EVTX chunks read (re-reads included).",
       &source::SourceStats::evtx_chunks},
      {"eventsift_source_events_total", "Events decoded.", &source::SourceStats::events},
      {"eventsift_source_parse_errors_total", "Lines or records that could not be decoded.",
       &source::SourceStats::parse_errors},
      {"eventsift_source_lines_dropped_total", "Lines over max_line_bytes, skipped.",
       &source::SourceStats::lines_dropped},
      {"eventsift_source_files_opened_total", "Files opened.", &source::SourceStats::files_opened},
      {"eventsift_source_open_errors_total", "Matching files that could not be opened (retried).",
       &source::SourceStats::open_errors},
      {"eventsift_source_rotations_total", "Renamed or deleted files drained and closed.",
       &source::SourceStats::rotations},
      {"eventsift_source_truncations_total", "Files that shrank and were read again from 0.",
       &source::SourceStats::truncations},
      {"eventsift_source_compressed_files_total",
       "Drop files found to be gzip or zstd (by content).", &source::SourceStats::compressed_files},
      {"eventsift_source_decompress_errors_total",
       "Compressed files corrupt, cut short or over max_decompressed_bytes (reported, left).",
       &source::SourceStats::decompress_errors},
      {"eventsift_source_decompressed_bytes_total", "Bytes after decompression.",
       &source::SourceStats::decompressed_bytes},
      {"eventsift_source_frame_errors_total",
       "Syslog framing errors (bad length, oversize frame, garbage, bad header), reported.",
       &source::SourceStats::frame_errors},
      {"eventsift_source_connections_accepted_total", "TCP connections accepted.",
       &source::SourceStats::connections_accepted},
      {"eventsift_source_connections_rejected_total",
       "TCP connections closed at once: max_connections reached and no peer idle enough to evict.",
       &source::SourceStats::connections_rejected},
      {"eventsift_source_connections_evicted_total",
       "Idle TCP peers closed to make room for a new connection (what they sent was read first).",
       &source::SourceStats::connections_evicted},
      {"eventsift_source_connections_idle_closed_total",
       "TCP peers closed after idle_timeout_ms without data (what they sent was read first).",
       &source::SourceStats::connections_idle_closed},
      {"eventsift_source_tls_handshakes_total", "TLS sessions established.",
       &source::SourceStats::tls_handshakes},
      {"eventsift_source_tls_handshake_failures_total",
       "TLS peers dropped for a protocol error (plain text, missing or untrusted client cert).",
       &source::SourceStats::tls_handshake_failures},
      {"eventsift_source_relp_acked_total",
       "RELP messages written to the journal, so acknowledged (rsp 200).",
       &source::SourceStats::messages_acked},
      {"eventsift_source_relp_journal_full_total",
       "RELP messages that waited for journal room (the senders were held).",
       &source::SourceStats::journal_full_waits},
      {"eventsift_source_relp_journal_write_errors_total",
       "RELP journal writes that failed (retried; the message is not acknowledged meanwhile).",
       &source::SourceStats::journal_write_errors},
      {"eventsift_source_tls_handshake_timeouts_total",
       "TLS peers dropped for not finishing the handshake in time.",
       &source::SourceStats::tls_handshake_timeouts},
  };
  for (const auto& c : kSourceCounters) {
    p.Family(c.name, "counter", c.help);
    for (const auto& e : sources_) {
      p.Sample(c.name, {{"source", e.config.name}, {"type", e.source->type()}},
               (e.source->stats().*c.field).Get());
    }
  }
  const PipelineStats& ps = pipeline_->stats();
  p.Family("eventsift_events_total", "counter", "Events decoded from all sources.");
  p.Sample("eventsift_events_total", {}, ps.events.Get());
  p.Family("eventsift_parse_errors_total", "counter", "Input errors reported by the decoders.");
  p.Sample("eventsift_parse_errors_total", {}, ps.parse_errors.Get());
  p.Family("eventsift_rule_hits_total", "counter", "Events matched, per rule.");
  for (const auto& [id, counter] : pipeline_->hits_by_rule()) {
    p.Sample("eventsift_rule_hits_total", {{"rule", id}}, counter->Get());
  }
  p.Family("eventsift_alerts_total", "counter", "Alerts produced and sent to the sinks.");
  p.Sample("eventsift_alerts_total", {}, ps.alerts.Get());
  p.Family("eventsift_alert_followups_total", "counter",
           "Follow-ups sent when the window of an immediate alert closed with more hits.");
  p.Sample("eventsift_alert_followups_total", {}, ps.alert_followups.Get());
  p.Family("eventsift_alerts_deduplicated_total", "counter",
           "Alerts a replay produced again after a restart or reload, not sent twice.");
  p.Sample("eventsift_alerts_deduplicated_total", {}, ps.alerts_deduplicated.Get());
  p.Family("eventsift_cve_exposure_alerts_total", "counter",
           "exchange_cve_exposure alerts: a server's verdict for a CVE became exposed.");
  p.Sample("eventsift_cve_exposure_alerts_total", {}, ps.cve_alerts.Get());
  const correlate::CveWatchStats& cw = pipeline_->cve_watch().stats();
  p.Family("eventsift_cve_hosts", "gauge", "Exchange servers whose CVE verdicts are followed.");
  p.Sample("eventsift_cve_hosts", {}, cw.hosts);
  p.Family("eventsift_cve_hosts_dropped_total", "counter",
           "Servers not followed for CVE verdicts: the bound on servers was reached.");
  p.Sample("eventsift_cve_hosts_dropped_total", {}, cw.hosts_dropped);
  struct SinkCounter {
    const char* name;
    const char* help;
    const Counter SinkStats::*field;
  };
  static const SinkCounter kSinkCounters[] = {
      {"eventsift_sink_received_total", "Alerts given to the sink.", &SinkStats::received},
      {"eventsift_sink_delivered_total", "Alerts delivered (acknowledged).", &SinkStats::delivered},
      {"eventsift_sink_spooled_total", "Alerts written to the durable spool.", &SinkStats::spooled},
      {"eventsift_sink_failed_total", "Alerts neither delivered nor spooled.", &SinkStats::failed},
  };
  for (const auto& c : kSinkCounters) {
    p.Family(c.name, "counter", c.help);
    for (const auto& s : sinks_) {
      p.Sample(c.name, {{"sink", SinkTypeName(s.config.type)}}, (s.sink->stats().*c.field).Get());
    }
  }
  p.Family("eventsift_spool_pending", "gauge", "Alerts waiting in the Kafka spool.");
  for (const auto& s : sinks_) {
    if (s.kafka)
      p.Sample("eventsift_spool_pending", {{"sink", "kafka"}}, s.kafka->counters().spool_pending);
  }
  p.Family("eventsift_kafka_delivery_latency_seconds", "histogram",
           "Kafka delivery latency of acknowledged alerts, produce to broker acknowledgement.");
  for (const auto& s : sinks_) {
    if (!s.kafka) continue;
    const KafkaSinkCounters k = s.kafka->counters();
    for (size_t i = 0; i < k.latency_buckets.size(); ++i) {
      p.Sample("eventsift_kafka_delivery_latency_seconds_bucket",
               {{"sink", "kafka"},
                {"le", fmt::format("{}", KafkaSinkCounters::kLatencyBucketsSeconds[i])}},
               k.latency_buckets[i]);
    }
    p.Sample("eventsift_kafka_delivery_latency_seconds_bucket", {{"sink", "kafka"}, {"le", "+Inf"}},
             k.latency_count);
    p.Sample("eventsift_kafka_delivery_latency_seconds_sum", {{"sink", "kafka"}},
             k.latency_sum_seconds);
    p.Sample("eventsift_kafka_delivery_latency_seconds_count", {{"sink", "kafka"}},
             k.latency_count);
  }
  int64_t last = last_checkpoint_ms_.load();
  p.Family("eventsift_checkpoint_age_seconds", "gauge",
           "Seconds since the state on disk was last known current (written, or unchanged).");
  p.Sample("eventsift_checkpoint_age_seconds", {},
           last == 0 ? -1.0 : static_cast<double>(WallMs() - last) / 1000.0);
  p.Family("eventsift_checkpoints_total", "counter", "Checkpoints written.");
  p.Sample("eventsift_checkpoints_total", {}, checkpoints_written_.Get());
  p.Family("eventsift_checkpoint_failures_total", "counter",
           "Checkpoints not written (flush or disk error).");
  p.Sample("eventsift_checkpoint_failures_total", {}, checkpoint_failures_.Get());
  p.Family("eventsift_reloads_total", "counter", "SIGHUP reloads by result.");
  p.Sample("eventsift_reloads_total", {{"result", "ok"}}, reloads_ok_.Get());
  p.Sample("eventsift_reloads_total", {{"result", "refused"}}, reloads_failed_.Get());
  p.Family("eventsift_source_restart_failures_total", "counter",
           "Listeners a refused reload had stopped that could not be started again.");
  p.Sample("eventsift_source_restart_failures_total", {}, source_restart_failures_.Get());
  auto unix_seconds = [](FileTime t) {
    return t == 0 ? 0.0 : static_cast<double>(UnixMillisFromFileTime(t)) / 1000.0;
  };
  p.Family("eventsift_max_event_time_seconds", "gauge", "Newest event time seen (unix seconds).");
  p.Sample("eventsift_max_event_time_seconds", {}, unix_seconds(max_event_time_.load()));
  p.Family("eventsift_watermark_seconds", "gauge",
           "Windows ending before this event time (unix seconds) have been emitted.");
  p.Sample("eventsift_watermark_seconds", {}, unix_seconds(watermark_.load()));
  const correlate::SigmaCorrelatorStats& sc = pipeline_->sigma_stats();
  p.Family("eventsift_sigma_correlation_hits_total", "counter",
           "Rule hits received by Sigma correlations.");
  p.Sample("eventsift_sigma_correlation_hits_total", {}, sc.hits_received.Get());
  p.Family("eventsift_sigma_correlation_windows_open", "gauge",
           "Sigma correlation windows held (one per correlation and group-by value).");
  p.Sample("eventsift_sigma_correlation_windows_open", {},
           static_cast<double>(sc.windows_open.load(std::memory_order_relaxed)));
  p.Family("eventsift_sigma_correlation_hits_held", "gauge",
           "Hits held by Sigma correlations: in open windows or waiting for the watermark.");
  p.Sample("eventsift_sigma_correlation_hits_held", {},
           static_cast<double>(sc.hits_held.load(std::memory_order_relaxed)));
  p.Family("eventsift_sigma_correlation_alerts_total", "counter",
           "Alerts of Sigma correlations sent on.");
  p.Sample("eventsift_sigma_correlation_alerts_total", {}, sc.alerts_emitted.Get());
  p.Family("eventsift_sigma_correlation_dropped_total", "counter",
           "Sigma correlation hits or state dropped, by reason.");
  for (const auto& [reason, counter] :
       {std::pair<const char*, const Counter*>{"untimed", &sc.hits_untimed},
        {"late", &sc.hits_late},
        {"entries_over_bound", &sc.entries_dropped},
        {"groups_over_bound", &sc.groups_dropped}}) {
    p.Sample("eventsift_sigma_correlation_dropped_total", {{"reason", reason}}, counter->Get());
  }
  p.Family("eventsift_correlation_partitions", "gauge",
           "Kafka partitions with their own correlation state here.");
  p.Sample("eventsift_correlation_partitions", {}, partition_lanes_.load());
  p.Family("eventsift_source_kafka_lag", "gauge",
           "Messages between the last one read and the end of each assigned partition.");
  for (const auto& e : sources_) {
    if (e.config.type != SourceType::kKafka) continue;
    for (const auto& l : static_cast<const source::KafkaSource*>(e.source.get())->Lag()) {
      p.Sample("eventsift_source_kafka_lag",
               {{"source", e.config.name}, {"partition", std::to_string(l.partition)}},
               static_cast<uint64_t>(l.lag));
    }
  }
  RenderHttpMetrics(&p);
  p.Family("eventsift_journal_hits", "gauge",
           "Rule hits kept in the correlation journal (state.json).");
  p.Sample("eventsift_journal_hits", {}, journal_hits_.load());
  p.Family("eventsift_journal_hits_dropped_total", "counter",
           "Journal hits dropped over its bound.");
  p.Sample("eventsift_journal_hits_dropped_total", {}, journal_dropped_.load());
  p.Family("eventsift_log_lines_suppressed_total", "counter",
           "Repeated log lines held back by rate limiting.");
  p.Sample("eventsift_log_lines_suppressed_total", {}, Logger::Get().suppressed_total());
  const MetricsServerCounters& http = metrics_.counters();
  p.Family("eventsift_metrics_connections_closed_total", "counter",
           "Connections to this endpoint cut short, by reason.");
  for (const auto& [reason, counter] : {std::pair<const char*, const std::atomic<uint64_t>*>{
                                            "header_timeout", &http.header_timeouts},
                                        {"write_timeout", &http.write_timeouts},
                                        {"evicted", &http.evicted},
                                        {"too_large", &http.too_large}}) {
    p.Sample("eventsift_metrics_connections_closed_total", {{"reason", reason}}, counter->load());
  }
  if (events_) {
    struct EventsCounter {
      const char* name;
      const char* help;
      const Counter EventSinkStats::*field;
    };
    static const EventsCounter kEventsCounters[] = {
        {"eventsift_events_sink_offered_total", "Events shown to the events sink.",
         &EventSinkStats::offered},
        {"eventsift_events_sink_filtered_total", "Events its filter left out.",
         &EventSinkStats::filtered},
        {"eventsift_events_sink_written_total", "Events handed to the file or the events producer.",
         &EventSinkStats::written},
        {"eventsift_events_sink_dropped_total", "Events dropped: queue full under overflow: drop.",
         &EventSinkStats::dropped},
        {"eventsift_events_sink_failed_total", "Events the output refused (write errors).",
         &EventSinkStats::failed},
        {"eventsift_events_sink_blocked_ms_total",
         "Milliseconds the pipeline waited for room in the queue (overflow: block).",
         &EventSinkStats::blocked_ms},
    };
    for (const auto& c : kEventsCounters) {
      p.Family(c.name, "counter", c.help);
      p.Sample(c.name, {{"sink", events_->name()}}, (events_->stats().*c.field).Get());
    }
    p.Family("eventsift_events_sink_queued_bytes", "gauge", "Rendered events waiting.");
    p.Sample("eventsift_events_sink_queued_bytes", {{"sink", events_->name()}},
             events_->queued_bytes());
    if (const SinkStats* k = events_->kafka_stats(); k != nullptr) {
      p.Family("eventsift_events_sink_delivered_total", "counter",
               "Events acknowledged by the events topic.");
      p.Sample("eventsift_events_sink_delivered_total", {{"sink", "kafka"}}, k->delivered.Get());
      p.Family("eventsift_events_sink_spooled_total", "counter",
               "Events written to the events spool.");
      p.Sample("eventsift_events_sink_spooled_total", {{"sink", "kafka"}}, k->spooled.Get());
      p.Family("eventsift_events_sink_spool_pending", "gauge", "Events in the events spool.");
      p.Sample("eventsift_events_sink_spool_pending", {{"sink", "kafka"}},
               events_->kafka_counters().spool_pending);
    }
  }
  if (records_) records_->RenderMetrics(&p);
  p.Family("eventsift_uptime_seconds", "gauge", "Seconds since start.");
  p.Sample("eventsift_uptime_seconds", {},
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time_).count());
  return p.text();
}

void Daemon::RenderHttpMetrics(PromText* p) const {
  struct ClientCounter {
    const char* name;
    const char* help;
    const std::atomic<uint64_t> source::HttpClientCounters::*field;
  };
  static const ClientCounter kClientCounters[] = {
      {"eventsift_http_client_requests_total", "HTTP requests received, whatever the answer.",
       &source::HttpClientCounters::requests},
      {"eventsift_http_client_events_total", "Events decoded from the client's batches.",
       &source::HttpClientCounters::events},
      {"eventsift_http_client_bytes_total", "Request body bytes, after decompression.",
       &source::HttpClientCounters::bytes},
      {"eventsift_http_client_refused_total",
       "Records refused (over max_line_bytes, or not decodable).",
       &source::HttpClientCounters::refused},
  };
  std::vector<const SourceEntry*> http;
  for (const auto& e : sources_) {
    if (e.config.type == SourceType::kHttp) http.push_back(&e);
  }
  for (const auto& c : kClientCounters) {
    p->Family(c.name, "counter", c.help);
    for (const SourceEntry* e : http) {
      auto* s = static_cast<const source::HttpSource*>(e->source.get());
      for (const auto& [client, counters] : s->Clients()) {
        p->Sample(c.name, {{"source", e->config.name}, {"client", client}},
                  (counters->*c.field).load());
      }
    }
  }
  p->Family("eventsift_http_responses_total", "counter", "HTTP answers by status code.");
  for (const SourceEntry* e : http) {
    auto* s = static_cast<const source::HttpSource*>(e->source.get());
    for (const auto& [code, n] : s->Responses()) {
      p->Sample("eventsift_http_responses_total",
                {{"source", e->config.name}, {"code", std::to_string(code)}}, n);
    }
  }
}

}  // namespace eventsift::daemon
