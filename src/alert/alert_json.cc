#include "src/alert/alert_json.h"

#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <simdjson.h>

#include "src/core/json_writer.h"
#include "src/event/event_json.h"

#ifndef ES_PRODUCER_VERSION
#error "ES_PRODUCER_VERSION must be defined by src/alert/CMakeLists.txt"
#endif

namespace eventsift {

namespace ondemand = simdjson::ondemand;

namespace {

constexpr std::string_view kStatusNames[] = {"unknown", "outdated", "borderline",
                                             "current", "no_eems",  "indeterminate"};

// An empty string is written as null.
void OptionalString(JsonWriter* w, std::string_view key, std::string_view s) {
  w->Key(key);
  if (s.empty()) {
    w->Null();
  } else {
    w->String(s);
  }
}

void TimeOrNull(JsonWriter* w, std::string_view key, FileTime t) {
  w->Key(key);
  if (t == 0) {
    w->Null();
  } else {
    w->String(FormatRfc3339(t));
  }
}

void StringArray(JsonWriter* w, std::string_view key, const std::vector<std::string>& values) {
  w->Key(key);
  w->BeginArray();
  for (const auto& v : values) w->String(v);
  w->EndArray();
}

void WriteExchange(const std::optional<ExchangeBuildInfo>& exchange, JsonWriter* w) {
  w->Key("exchange");
  if (!exchange) {
    w->Null();
    return;
  }
  w->BeginObject();
  w->KV("version", exchange->version);
  w->KV("product", exchange->product);
  w->KV("status", BuildStatusJsonName(exchange->status));
  w->Key("older_than_march_2023");
  if (exchange->older_than_march_2023) {
    w->Bool(*exchange->older_than_march_2023);
  } else {
    w->Null();
  }
  w->KV("source", exchange->source);
  w->KV("eems_mitigations", EemsMitigationsName(exchange->eems_mitigations));
  w->KV("reason", exchange->reason);
  w->Key("release_date");
  if (exchange->release_date.empty()) {
    w->Null();
  } else {
    w->String(exchange->release_date);
  }
  w->EndObject();
}

void WriteCorrelation(const AlertCorrelation& c, JsonWriter* w) {
  w->Key("correlation");
  w->BeginObject();
  w->KV("type", c.type);
  w->KV("condition", c.condition);
  w->Key("metric");
  w->Raw(fmt::format("{}", std::isfinite(c.metric) ? c.metric : 0.0));
  if (!c.field.empty()) w->KV("field", c.field);
  if (!c.value.empty()) w->KV("value", c.value);
  w->Key("rules");
  w->BeginArray();
  for (const auto& r : c.rules) w->String(r);
  w->EndArray();
  w->Key("group");
  w->BeginObject();
  for (const auto& [field, value] : c.group) w->KV(field, value);
  w->EndObject();
  w->EndObject();
}

// --- Parsing -----------------------------------------------------------------

Status JsonError(std::string_view what, simdjson::error_code ec) {
  return Status::Corruption(fmt::format("alert JSON: {}: {}", what, simdjson::error_message(ec)));
}

bool IsNull(ondemand::value& v) {
  ondemand::json_type type;
  return !v.type().get(type) && type == ondemand::json_type::null;
}

// Calls fn(key, value) for every member of the object `v`; stops at the first
// error.
template <typename Fn>
Status ForEachField(ondemand::value& v, std::string_view what, Fn&& fn) {
  ondemand::object object;
  if (auto ec = v.get_object().get(object)) return JsonError(what, ec);
  for (auto member : object) {
    ondemand::field field;
    if (auto ec = std::move(member).get(field)) return JsonError(what, ec);
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key)) return JsonError(what, ec);
    ES_RETURN_IF_ERROR(fn(key, field.value()));
  }
  return Status::OK();
}

template <typename Fn>
Status ForEachElement(ondemand::value& v, std::string_view what, Fn&& fn) {
  ondemand::array array;
  if (auto ec = v.get_array().get(array)) return JsonError(what, ec);
  for (auto element : array) {
    ondemand::value item;
    if (auto ec = element.get(item)) return JsonError(what, ec);
    ES_RETURN_IF_ERROR(fn(item));
  }
  return Status::OK();
}

Status ReadString(ondemand::value& v, std::string_view what, std::string* out) {
  std::string_view s;
  if (auto ec = v.get_string().get(s)) return JsonError(what, ec);
  out->assign(s);
  return Status::OK();
}

template <typename T>
Status ReadUInt(ondemand::value& v, std::string_view what, T* out) {
  uint64_t n = 0;
  if (auto ec = v.get_uint64().get(n)) return JsonError(what, ec);
  if (n > std::numeric_limits<T>::max()) {
    return Status::Corruption(fmt::format("alert JSON: {}: {} out of range", what, n));
  }
  *out = static_cast<T>(n);
  return Status::OK();
}

// An RFC 3339 string, or null for "no time" (0).
Status ReadTime(ondemand::value& v, std::string_view what, FileTime* out) {
  if (IsNull(v)) {
    *out = 0;
    return Status::OK();
  }
  std::string_view s;
  if (auto ec = v.get_string().get(s)) return JsonError(what, ec);
  auto t = ParseEventTime(s);
  if (!t) return Status::Corruption(fmt::format("alert JSON: {}: bad time \"{}\"", what, s));
  *out = *t;
  return Status::OK();
}

Status ReadStringArray(ondemand::value& v, std::string_view what, std::vector<std::string>* out) {
  return ForEachElement(
      v, what, [&](ondemand::value& item) { return ReadString(item, what, &out->emplace_back()); });
}

Status ReadRule(ondemand::value& v, AlertRule* rule) {
  return ForEachField(v, "rule", [&](std::string_view key, ondemand::value& f) -> Status {
    if (key == "id") return ReadString(f, "rule.id", &rule->id);
    if (key == "title") return ReadString(f, "rule.title", &rule->title);
    if (key == "severity") return ReadString(f, "rule.severity", &rule->severity);
    if (key == "description") return ReadString(f, "rule.description", &rule->description);
    if (key == "remediation") return ReadString(f, "rule.remediation", &rule->remediation);
    if (key == "references") return ReadStringArray(f, "rule.references", &rule->references);
    if (key == "format") return ReadString(f, "rule.format", &rule->format);
    if (key == "source") return ReadString(f, "rule.source", &rule->source);
    if (key == "status") return ReadString(f, "rule.status", &rule->status);
    if (key == "tags") return ReadStringArray(f, "rule.tags", &rule->tags);
    if (key == "falsepositives") {
      return ReadStringArray(f, "rule.falsepositives", &rule->falsepositives);
    }
    return Status::OK();
  });
}

Status ReadExchange(ondemand::value& v, std::optional<ExchangeBuildInfo>* out) {
  if (IsNull(v)) {
    out->reset();
    return Status::OK();
  }
  ExchangeBuildInfo& info = out->emplace();
  return ForEachField(v, "exchange", [&](std::string_view key, ondemand::value& f) -> Status {
    if (key == "version") return ReadString(f, "exchange.version", &info.version);
    if (key == "product") return ReadString(f, "exchange.product", &info.product);
    if (key == "source") return ReadString(f, "exchange.source", &info.source);
    if (key == "reason") return ReadString(f, "exchange.reason", &info.reason);
    if (key == "release_date") {
      if (IsNull(f)) {
        info.release_date.clear();
        return Status::OK();
      }
      return ReadString(f, "exchange.release_date", &info.release_date);
    }
    if (key == "eems_mitigations") {
      std::string name;
      ES_RETURN_IF_ERROR(ReadString(f, "exchange.eems_mitigations", &name));
      for (EemsMitigations e :
           {EemsMitigations::kUnknown, EemsMitigations::kYes, EemsMitigations::kNo}) {
        if (EemsMitigationsName(e) == name) {
          info.eems_mitigations = e;
          return Status::OK();
        }
      }
      return Status::Corruption("alert JSON: exchange.eems_mitigations: unknown \"" + name + "\"");
    }
    if (key == "status") {
      std::string name;
      ES_RETURN_IF_ERROR(ReadString(f, "exchange.status", &name));
      auto status = ParseBuildStatusJsonName(name);
      if (!status)
        return Status::Corruption("alert JSON: exchange.status: unknown \"" + name + "\"");
      info.status = *status;
      return Status::OK();
    }
    if (key == "older_than_march_2023") {
      if (IsNull(f)) {
        info.older_than_march_2023.reset();
        return Status::OK();
      }
      bool b = false;
      if (auto ec = f.get_bool().get(b)) return JsonError("exchange.older_than_march_2023", ec);
      info.older_than_march_2023 = b;
    }
    return Status::OK();
  });
}

// A string or null (read as empty).
Status ReadOptionalString(ondemand::value& v, std::string_view what, std::string* out) {
  if (IsNull(v)) {
    out->clear();
    return Status::OK();
  }
  return ReadString(v, what, out);
}

Status ReadCve(ondemand::value& v, std::optional<CveExposure>* out) {
  CveExposure c;
  ES_RETURN_IF_ERROR(
      ForEachField(v, "cve", [&](std::string_view key, ondemand::value& f) -> Status {
        if (key == "id") return ReadString(f, "cve.id", &c.id);
        if (key == "title") return ReadString(f, "cve.title", &c.title);
        if (key == "kev_added") return ReadOptionalString(f, "cve.kev_added", &c.kev_added);
        if (key == "verdict") return ReadString(f, "cve.verdict", &c.verdict);
        if (key == "verdict_text") return ReadString(f, "cve.verdict_text", &c.verdict_text);
        if (key == "exposed_from")
          return ReadOptionalString(f, "cve.exposed_from", &c.exposed_from);
        if (key == "since") return ReadTime(f, "cve.since", &c.since);
        if (key == "evidence") return ReadString(f, "cve.evidence", &c.evidence);
        if (key == "eems_mitigation") {
          return ReadOptionalString(f, "cve.eems_mitigation", &c.eems_mitigation);
        }
        return Status::OK();
      }));
  *out = std::move(c);
  return Status::OK();
}

Status ReadWindow(ondemand::value& v, Alert* alert) {
  return ForEachField(v, "window", [&](std::string_view key, ondemand::value& f) -> Status {
    if (key == "start") return ReadTime(f, "window.start", &alert->window_start);
    if (key == "end") return ReadTime(f, "window.end", &alert->window_end);
    return Status::OK();
  });
}

Status ReadSampleSource(ondemand::value& v, OwnedEvent* e) {
  return ForEachField(v, "sample.source", [&](std::string_view key, ondemand::value& f) -> Status {
    if (key == "file") return ReadString(f, "sample.source.file", &e->file);
    if (key == "offset") return ReadUInt(f, "sample.source.offset", &e->offset);
    if (key == "line") return ReadUInt(f, "sample.source.line", &e->line);
    if (key == "chunk") return ReadUInt(f, "sample.source.chunk", &e->chunk);
    return Status::OK();
  });
}

// The inverse of WriteEventJson (src/event/event_json.h).
Status ReadSample(ondemand::value& v, OwnedEvent* e) {
  return ForEachField(v, "sample", [&](std::string_view key, ondemand::value& f) -> Status {
    if (key == "record_id") return ReadUInt(f, "sample.record_id", &e->record_id);
    if (key == "record_number") return ReadUInt(f, "sample.record_number", &e->record_number);
    if (key == "time") return ReadTime(f, "sample.time", &e->time);
    if (key == "provider") return ReadString(f, "sample.provider", &e->provider);
    if (key == "provider_guid") return ReadString(f, "sample.provider_guid", &e->provider_guid);
    if (key == "event_id") return ReadUInt(f, "sample.event_id", &e->event_id);
    if (key == "qualifiers") {
      e->has_qualifiers = true;
      return ReadUInt(f, "sample.qualifiers", &e->qualifiers);
    }
    if (key == "version") return ReadUInt(f, "sample.version", &e->version);
    if (key == "level") return ReadUInt(f, "sample.level", &e->level);
    if (key == "task") return ReadUInt(f, "sample.task", &e->task);
    if (key == "opcode") return ReadUInt(f, "sample.opcode", &e->opcode);
    if (key == "keywords") {
      std::string_view s;
      if (auto ec = f.get_string().get(s)) return JsonError("sample.keywords", ec);
      if (s.starts_with("0x")) s.remove_prefix(2);
      auto [end, err] = std::from_chars(s.data(), s.data() + s.size(), e->keywords, 16);
      if (err != std::errc() || end != s.data() + s.size()) {
        return Status::Corruption("alert JSON: sample.keywords: not a hex number");
      }
      return Status::OK();
    }
    if (key == "channel") return ReadString(f, "sample.channel", &e->channel);
    if (key == "computer") return ReadString(f, "sample.computer", &e->computer);
    if (key == "user_sid") return ReadString(f, "sample.user_sid", &e->user_sid);
    if (key == "process_id") return ReadUInt(f, "sample.process_id", &e->process_id);
    if (key == "thread_id") return ReadUInt(f, "sample.thread_id", &e->thread_id);
    if (key == "message") return ReadString(f, "sample.message", &e->message);
    if (key == "source") return ReadSampleSource(f, e);
    if (key == "data") {
      return ForEachField(f, "sample.data", [&](std::string_view name, ondemand::value& dv) {
        return ReadString(dv, "sample.data value",
                          &e->data.emplace_back(std::string(name), std::string()).second);
      });
    }
    return Status::OK();
  });
}

Status ReadCorrelation(ondemand::value& v, std::optional<AlertCorrelation>* out) {
  AlertCorrelation& c = out->emplace();
  return ForEachField(v, "correlation", [&](std::string_view key, ondemand::value& f) -> Status {
    if (key == "type") return ReadString(f, "correlation.type", &c.type);
    if (key == "condition") return ReadString(f, "correlation.condition", &c.condition);
    if (key == "field") return ReadString(f, "correlation.field", &c.field);
    if (key == "value") return ReadString(f, "correlation.value", &c.value);
    if (key == "rules") return ReadStringArray(f, "correlation.rules", &c.rules);
    if (key == "metric") {
      if (auto ec = f.get_double().get(c.metric)) return JsonError("correlation.metric", ec);
      return Status::OK();
    }
    if (key == "group") {
      return ForEachField(f, "correlation.group", [&](std::string_view name, ondemand::value& gv) {
        return ReadString(gv, "correlation.group value",
                          &c.group.emplace_back(std::string(name), std::string()).second);
      });
    }
    return Status::OK();
  });
}

Status ReadAlert(ondemand::value& v, Alert* alert) {
  bool saw_schema = false;
  ES_RETURN_IF_ERROR(
      ForEachField(v, "alert", [&](std::string_view key, ondemand::value& f) -> Status {
        if (key == "schema") {
          std::string schema;
          ES_RETURN_IF_ERROR(ReadString(f, "schema", &schema));
          if (schema != kAlertSchemaVersion) {
            return Status::Unsupported(fmt::format(
                "alert JSON: schema \"{}\", this build reads \"{}\"", schema, kAlertSchemaVersion));
          }
          saw_schema = true;
          return Status::OK();
        }
        if (key == "alert_id") return ReadString(f, "alert_id", &alert->alert_id);
        if (key == "producer") {
          return ForEachField(f, "producer", [&](std::string_view pkey, ondemand::value& pf) {
            return pkey == "version" ? ReadString(pf, "producer.version", &alert->producer_version)
                                     : Status::OK();
          });
        }
        if (key == "rule") return ReadRule(f, &alert->rule);
        if (key == "host") return ReadString(f, "host", &alert->host);
        if (key == "host_names") return ReadStringArray(f, "host_names", &alert->host_names);
        if (key == "exchange") return ReadExchange(f, &alert->exchange);
        if (key == "window") return ReadWindow(f, alert);
        if (key == "cve") return ReadCve(f, &alert->cve);
        if (key == "exposed_cves") return ReadStringArray(f, "exposed_cves", &alert->exposed_cves);
        if (key == "first_seen") return ReadTime(f, "first_seen", &alert->first_seen);
        if (key == "last_seen") return ReadTime(f, "last_seen", &alert->last_seen);
        if (key == "count") return ReadUInt(f, "count", &alert->count);
        if (key == "suppressed") return ReadUInt(f, "suppressed", &alert->suppressed);
        if (key == "revision") {
          uint64_t revision = 0;
          ES_RETURN_IF_ERROR(ReadUInt(f, "revision", &revision));
          if (revision == 0 || revision > UINT32_MAX) {
            return Status::Corruption("alert JSON: \"revision\" must be 1 or more");
          }
          alert->revision = static_cast<uint32_t>(revision);
          return Status::OK();
        }
        if (key == "matched") {
          return ForEachField(f, "matched", [&](std::string_view name, ondemand::value& mv) {
            return ReadString(
                mv, "matched value",
                &alert->matched.emplace_back(std::string(name), std::string()).second);
          });
        }
        if (key == "correlation") return ReadCorrelation(f, &alert->correlation);
        if (key == "samples") {
          return ForEachElement(f, "samples", [&](ondemand::value& item) {
            return ReadSample(item, &alert->samples.emplace_back());
          });
        }
        return Status::OK();
      }));
  if (!saw_schema) return Status::Corruption("alert JSON: no \"schema\" field");
  return Status::OK();
}

}  // namespace

std::string_view BuildStatusJsonName(BuildStatus status) {
  const auto i = static_cast<size_t>(status);
  return i < std::size(kStatusNames) ? kStatusNames[i] : "unknown";
}

std::optional<BuildStatus> ParseBuildStatusJsonName(std::string_view name) {
  for (size_t i = 0; i < std::size(kStatusNames); ++i) {
    if (kStatusNames[i] == name) return static_cast<BuildStatus>(i);
  }
  return std::nullopt;
}

std::string_view ProducerVersion() { return ES_PRODUCER_VERSION; }

std::string RenderAlertJson(const Alert& alert) {
  std::string out;
  out.reserve(1024 + 1024 * alert.samples.size());
  JsonWriter w(&out);
  w.BeginObject();
  w.KV("schema", kAlertSchemaVersion);
  w.KV("alert_id", alert.alert_id);
  w.Key("producer");
  w.BeginObject();
  w.KV("name", kProducerName);
  w.KV("version", alert.producer_version.empty() ? ProducerVersion()
                                                 : std::string_view(alert.producer_version));
  w.EndObject();
  w.Key("rule");
  w.BeginObject();
  w.KV("id", alert.rule.id);
  w.KV("title", alert.rule.title);
  w.KV("severity", alert.rule.severity);
  w.KV("description", alert.rule.description);
  StringArray(&w, "references", alert.rule.references);
  w.KV("remediation", alert.rule.remediation);
  w.KV("format", alert.rule.format.empty() ? std::string_view("eventsift")
                                           : std::string_view(alert.rule.format));
  w.KV("source", alert.rule.source);
  w.KV("status", alert.rule.status);
  StringArray(&w, "tags", alert.rule.tags);
  StringArray(&w, "falsepositives", alert.rule.falsepositives);
  w.EndObject();
  w.KV("host", alert.host);
  w.Key("host_names");
  w.BeginArray();
  for (const auto& name : alert.host_names) w.String(name);
  w.EndArray();
  WriteExchange(alert.exchange, &w);
  w.Key("window");
  w.BeginObject();
  TimeOrNull(&w, "start", alert.window_start);
  TimeOrNull(&w, "end", alert.window_end);
  w.EndObject();
  TimeOrNull(&w, "first_seen", alert.first_seen);
  TimeOrNull(&w, "last_seen", alert.last_seen);
  w.KVUInt("count", alert.count);
  w.KVUInt("suppressed", alert.suppressed);
  w.Key("matched");
  w.BeginObject();
  for (const auto& [name, value] : alert.matched) w.KV(name, value);
  w.EndObject();
  w.Key("samples");
  w.BeginArray();
  // Samples keep one string per field (schemas/alert.schema.json): no arrays.
  for (const OwnedEvent& sample : alert.samples) {
    WriteEventJson(sample.View(), &w, EventJsonOptions{.include_source = true, .arrays = false});
  }
  w.EndArray();
  if (alert.correlation) WriteCorrelation(*alert.correlation, &w);
  if (alert.cve) {
    const CveExposure& c = *alert.cve;
    w.Key("cve");
    w.BeginObject();
    w.KV("id", c.id);
    w.KV("title", c.title);
    OptionalString(&w, "kev_added", c.kev_added);
    w.KV("verdict", c.verdict);
    w.KV("verdict_text", c.verdict_text);
    OptionalString(&w, "exposed_from", c.exposed_from);
    TimeOrNull(&w, "since", c.since);
    w.KV("evidence", c.evidence);
    OptionalString(&w, "eems_mitigation", c.eems_mitigation);
    w.EndObject();
  }
  if (!alert.exposed_cves.empty()) {
    w.Key("exposed_cves");
    w.BeginArray();
    for (const auto& id : alert.exposed_cves) w.String(id);
    w.EndArray();
  }
  if (alert.revision != 0) w.KVUInt("revision", alert.revision);
  w.EndObject();
  return out;
}

Result<Alert> ParseAlertJson(std::string_view json) {
  // One parser per thread: it keeps its buffers between calls, and the
  // consumer tool and the spool parse from several threads.
  thread_local ondemand::parser parser;
  const simdjson::padded_string padded(json);
  ondemand::document doc;
  if (auto ec = parser.iterate(padded).get(doc)) return JsonError("document", ec);
  ondemand::value root;
  if (auto ec = doc.get_value().get(root)) return JsonError("document", ec);
  Alert alert;
  ES_RETURN_IF_ERROR(ReadAlert(root, &alert));
  // On-Demand reads lazily: a token left after the object means trailing
  // content (at the end, current_location() reports OUT_OF_BOUNDS).
  const char* rest = nullptr;
  if (!doc.current_location().get(rest)) {
    return Status::Corruption("alert JSON: trailing content after the object");
  }
  return alert;
}

}  // namespace eventsift
