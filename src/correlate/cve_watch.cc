#include "src/correlate/cve_watch.h"

#include <algorithm>

#include <fmt/format.h>
#include <simdjson.h>

#include "src/core/json_writer.h"
#include "src/correlate/host_key.h"

namespace eventsift::correlate {

namespace {

constexpr int64_t kStateVersion = 1;

}  // namespace

CveWatch::Host* CveWatch::Touch(std::string_view computer, FileTime time) {
  const std::string key = NormalizeHostName(computer);
  if (key.empty()) return nullptr;
  auto it = hosts_.find(key);
  if (it == hosts_.end()) {
    if (hosts_.size() >= options_.max_hosts) {
      ++stats_.hosts_dropped;
      return nullptr;
    }
    it = hosts_.emplace(key, Host{}).first;
    stats_.hosts = hosts_.size();
  }
  Host& h = it->second;
  if (h.names.size() < options_.max_names) h.names.emplace(computer);
  h.pending = true;
  h.changed_at = std::max(h.changed_at, time);
  return &h;
}

void CveWatch::NoteEemsError(std::string_view computer, FileTime time) {
  Host* h = Touch(computer, time);
  if (h == nullptr) return;
  ++h->errors;
  if (time == 0) return;
  if (h->first_error == 0 || time < h->first_error) h->first_error = time;
  h->last_error = std::max(h->last_error, time);
  if (time <= h->last_success) return;
  h->error_times.insert(time);
  if (h->error_times.size() > options_.max_error_times) {
    h->error_times.erase(std::prev(h->error_times.end()));
    ++stats_.error_times_dropped;
  }
}

void CveWatch::NoteEemsSuccess(std::string_view computer, FileTime time,
                               const std::vector<std::string>& mitigation_ids) {
  Host* h = Touch(computer, time);
  if (h == nullptr) return;
  ++h->successes;
  if (time > h->last_success) {
    h->last_success = time;
    // Errors before the last success no longer say EEMS is failing.
    h->error_times.erase(h->error_times.begin(), h->error_times.upper_bound(time));
  }
  for (const auto& id : mitigation_ids) {
    if (h->mitigations.size() >= options_.max_mitigations) break;
    NoteAppliedMitigation({id, time, "EEMS success event (1005/1006)"}, &h->mitigations);
  }
}

void CveWatch::NoteBuild(std::string_view computer, FileTime time) { Touch(computer, time); }

HostCveInput CveWatch::InputOf(const std::string& key, const Host& h, const BuildLookup& build_for,
                               std::optional<ExchangeBuildInfo>* build) const {
  if (build_for) {
    *build = build_for(key);
    for (auto it = h.names.begin(); !*build && it != h.names.end(); ++it) *build = build_for(*it);
  }
  HostCveInput in;
  in.build = *build;
  in.in_logs = true;
  in.mitigations = h.mitigations;
  std::sort(in.mitigations.begin(), in.mitigations.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  in.eems_errors = h.errors;
  in.eems_successes = h.successes;
  in.last_success = h.last_success;
  // As the fleet decides it (report/fleet.cc): errors after the last
  // success, or errors and no timed success, mean EEMS is failing.
  if (h.errors > 0) {
    // The earliest kept error time after the last success; when every kept
    // time was dropped, the latest error stands in for it.
    const FileTime error_after_success = !h.error_times.empty()          ? *h.error_times.begin()
                                         : h.last_error > h.last_success ? h.last_error
                                                                         : 0;
    const EemsFailing f =
        DecideEemsFailing(h.successes, h.first_error, h.last_success, error_after_success);
    in.eems_failing = f.failing;
    in.failing_since = f.since;
  }
  return in;
}

std::vector<CveVerdictChange> CveWatch::Drain(const CveCatalog& catalog, FileTime watermark,
                                              bool finish, const BuildLookup& build_for) {
  std::vector<CveVerdictChange> out;
  for (auto& [key, h] : hosts_) {
    if (!h.pending) continue;
    if (!finish && h.changed_at != 0 && h.changed_at > watermark) continue;
    h.pending = false;
    h.changed_at = 0;
    ++stats_.judged;
    std::optional<ExchangeBuildInfo> build;
    const HostCveInput in = InputOf(key, h, build_for, &build);
    h.exposed.clear();
    for (CveVerdict& v : JudgeCves(catalog, in)) {
      if (IsExposed(v.kind)) h.exposed.push_back(v.cve->id);
      const std::string code(CveVerdictCode(v.kind));
      auto [it, inserted] = h.verdicts.try_emplace(v.cve->id, code);
      if (!inserted) {
        if (it->second == code) continue;
        it->second = code;
      }
      ++stats_.changes;
      out.push_back(CveVerdictChange{key, std::vector<std::string>(h.names.begin(), h.names.end()),
                                     build, std::move(v), h.last_error, h.last_success});
    }
  }
  return out;
}

std::vector<std::string> CveWatch::ExposedCves(std::string_view host_key) const {
  auto it = hosts_.find(host_key);
  return it == hosts_.end() ? std::vector<std::string>{} : it->second.exposed;
}

std::string CveWatch::SaveState() const {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.KVInt("version", kStateVersion);
  w.Key("hosts");
  w.BeginArray();
  for (const auto& [key, h] : hosts_) {
    w.BeginObject();
    w.KV("host", key);
    w.Key("names");
    w.BeginArray();
    for (const auto& n : h.names) w.String(n);
    w.EndArray();
    w.KVUInt("errors", h.errors);
    w.KVUInt("successes", h.successes);
    w.KVInt("first_error", h.first_error);
    w.KVInt("last_error", h.last_error);
    w.KVInt("last_success", h.last_success);
    w.Key("error_times");
    w.BeginArray();
    for (FileTime t : h.error_times) w.Int(t);
    w.EndArray();
    w.Key("mitigations");
    w.BeginArray();
    for (const auto& m : h.mitigations) {
      w.BeginObject();
      w.KV("id", m.id);
      w.KVInt("time", m.time);
      w.KV("source", m.source);
      w.EndObject();
    }
    w.EndArray();
    w.Key("verdicts");
    w.BeginObject();
    for (const auto& [cve, code] : h.verdicts) w.KV(cve, code);
    w.EndObject();
    w.Key("exposed");
    w.BeginArray();
    for (const auto& c : h.exposed) w.String(c);
    w.EndArray();
    w.KVBool("pending", h.pending);
    w.KVInt("changed_at", h.changed_at);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

Status CveWatch::LoadState(std::string_view json, const std::string& origin) {
  auto bad = [&](std::string_view what) {
    return Status::Corruption(fmt::format("exchange CVE state: {}", what)).At(origin);
  };
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(json.data(), json.size()).get(root)) return bad("not JSON");
  int64_t version = 0;
  if (root["version"].get(version) || version != kStateVersion) return bad("unknown version");
  simdjson::dom::array hosts;
  if (root["hosts"].get(hosts)) return bad("no hosts");
  std::map<std::string, Host, std::less<>> loaded;
  for (simdjson::dom::element el : hosts) {
    simdjson::dom::object o;
    std::string_view key;
    if (el.get(o) || o["host"].get(key) || key.empty()) return bad("a host has no name");
    if (loaded.size() >= options_.max_hosts) break;
    Host h;
    auto u64 = [&](const char* k) {
      uint64_t v = 0;
      return o[k].get(v) ? uint64_t{0} : v;
    };
    auto i64 = [&](const char* k) {
      int64_t v = 0;
      return o[k].get(v) ? int64_t{0} : v;
    };
    simdjson::dom::array arr;
    if (!o["names"].get(arr)) {
      for (simdjson::dom::element n : arr) {
        std::string_view s;
        if (!n.get(s) && h.names.size() < options_.max_names) h.names.emplace(s);
      }
    }
    h.errors = u64("errors");
    h.successes = u64("successes");
    h.first_error = i64("first_error");
    h.last_error = i64("last_error");
    h.last_success = i64("last_success");
    if (!o["error_times"].get(arr)) {
      for (simdjson::dom::element t : arr) {
        int64_t v = 0;
        if (!t.get(v) && h.error_times.size() < options_.max_error_times) h.error_times.insert(v);
      }
    }
    if (!o["mitigations"].get(arr)) {
      for (simdjson::dom::element m : arr) {
        simdjson::dom::object mo;
        std::string_view id, source;
        int64_t time = 0;
        if (m.get(mo) || mo["id"].get(id)) return bad("a mitigation has no id");
        if (mo["time"].get(time)) time = 0;
        if (mo["source"].get(source)) source = "";
        if (h.mitigations.size() < options_.max_mitigations)
          h.mitigations.push_back({std::string(id), time, std::string(source)});
      }
    }
    simdjson::dom::object verdicts;
    if (!o["verdicts"].get(verdicts)) {
      for (auto field : verdicts) {
        std::string_view code;
        if (!field.value.get(code)) h.verdicts.emplace(std::string(field.key), std::string(code));
      }
    }
    if (!o["exposed"].get(arr)) {
      for (simdjson::dom::element c : arr) {
        std::string_view s;
        if (!c.get(s)) h.exposed.emplace_back(s);
      }
    }
    bool pending = false;
    h.pending = !o["pending"].get(pending) && pending;
    h.changed_at = i64("changed_at");
    loaded.emplace(std::string(key), std::move(h));
  }
  hosts_ = std::move(loaded);
  stats_.hosts = hosts_.size();
  return Status::OK();
}

}  // namespace eventsift::correlate
