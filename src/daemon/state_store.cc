#include "src/daemon/state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <simdjson.h>

#include "src/core/json_writer.h"
#include "src/event/owned_event_json.h"

namespace eventsift::daemon {

namespace {

// Small typed getters over the DOM: a wrong type is a corrupt state file.
struct Reader {
  std::string origin;
  Status status;

  template <typename T>
  T Get(simdjson::dom::object o, const char* key, T fallback) {
    T v{};
    auto err = o[key].get(v);
    if (err == simdjson::NO_SUCH_FIELD) return fallback;
    if (err && status.ok())
      status = Status::Corruption(fmt::format("bad field '{}'", key)).At(origin);
    return err ? fallback : v;
  }
  std::string Str(simdjson::dom::object o, const char* key) {
    return std::string(Get<std::string_view>(o, key, ""));
  }
  uint64_t U(simdjson::dom::object o, const char* key) { return Get<uint64_t>(o, key, 0); }
  int64_t I(simdjson::dom::object o, const char* key) { return Get<int64_t>(o, key, 0); }
};

OwnedEvent ReadOwnedEvent(simdjson::dom::object o, Reader* r) {
  OwnedEvent e;
  Status s = ReadOwnedEventJson(o, &e);
  if (!s.ok() && r->status.ok()) r->status = std::move(s).At(r->origin);
  return e;
}

// The hits, emitted alerts and builds of a journal inside object `parent`.
Status ReadJournal(simdjson::dom::object parent, Reader* r, std::vector<PendingHit>* hits,
                   std::vector<EmittedAlert>* emitted, std::vector<SavedBuild>* builds) {
  simdjson::dom::array arr;
  if (!parent["hits"].get(arr)) {
    for (simdjson::dom::element el : arr) {
      simdjson::dom::object o, ev;
      if (el.get(o) || o["event"].get(ev))
        return Status::Corruption("bad hits entry").At(r->origin);
      hits->push_back(PendingHit{r->Str(o, "rule_id"), ReadOwnedEvent(ev, r)});
    }
  }
  if (!parent["emitted"].get(arr)) {
    for (simdjson::dom::element el : arr) {
      simdjson::dom::object o;
      if (el.get(o)) return Status::Corruption("bad emitted entry").At(r->origin);
      EmittedAlert a;
      a.alert_id = r->Str(o, "alert_id");
      a.rule_id = r->Str(o, "rule_id");
      a.window_start = r->I(o, "window_start");
      a.window_end = r->I(o, "window_end");
      simdjson::dom::array names;
      if (!o["host_names"].get(names)) {
        for (simdjson::dom::element n : names) {
          std::string_view v;
          if (!n.get(v)) a.host_names.emplace_back(v);
        }
      }
      emitted->push_back(std::move(a));
    }
  }
  if (!parent["builds"].get(arr)) {
    for (simdjson::dom::element el : arr) {
      simdjson::dom::object o;
      if (el.get(o)) return Status::Corruption("bad builds entry").At(r->origin);
      SavedBuild b;
      b.host = r->Str(o, "host");
      b.major = static_cast<uint32_t>(r->U(o, "major"));
      b.minor = static_cast<uint32_t>(r->U(o, "minor"));
      b.build = static_cast<uint32_t>(r->U(o, "build"));
      b.revision = static_cast<uint32_t>(r->U(o, "revision"));
      b.revision_known = r->Get<bool>(o, "revision_known", true);
      b.source = r->Str(o, "source");
      builds->push_back(std::move(b));
    }
  }
  return Status::OK();
}

Status ErrnoStatus(const std::string& what, const std::string& path) {
  return Status::IOError(fmt::format("{}: {}", what, std::strerror(errno))).At(path);
}

// An engine's own JSON (the Sigma correlations', the CVE watch's), embedded
// as is under `key`.
void WriteEmbeddedState(const char* key, const std::string& state, JsonWriter* w) {
  if (state.empty()) return;
  w->Key(key);
  w->Raw(state);
}

// The embedded engine state back as JSON text (empty when absent).
Status ReadEmbeddedState(simdjson::dom::object parent, const char* key, const std::string& origin,
                         std::string* out) {
  simdjson::dom::element el;
  if (parent[key].get(el)) return Status::OK();
  if (!el.is_object()) return Status::Corruption(fmt::format("bad {}", key)).At(origin);
  *out = simdjson::minify(el);
  return Status::OK();
}

void WriteJournal(const std::vector<PendingHit>& hits, const std::vector<EmittedAlert>& emitted,
                  const std::vector<SavedBuild>& builds, JsonWriter* wp) {
  JsonWriter& w = *wp;
  w.Key("hits");
  w.BeginArray();
  for (const auto& h : hits) {
    w.BeginObject();
    w.KV("rule_id", h.rule_id);
    w.Key("event");
    WriteOwnedEventJson(h.event, &w);
    w.EndObject();
  }
  w.EndArray();
  w.Key("emitted");
  w.BeginArray();
  for (const auto& a : emitted) {
    w.BeginObject();
    w.KV("alert_id", a.alert_id);
    w.KV("rule_id", a.rule_id);
    w.Key("host_names");
    w.BeginArray();
    for (const auto& h : a.host_names) w.String(h);
    w.EndArray();
    w.KVInt("window_start", a.window_start);
    w.KVInt("window_end", a.window_end);
    w.EndObject();
  }
  w.EndArray();
  w.Key("builds");
  w.BeginArray();
  for (const auto& b : builds) {
    w.BeginObject();
    w.KV("host", b.host);
    w.KVUInt("major", b.major);
    w.KVUInt("minor", b.minor);
    w.KVUInt("build", b.build);
    w.KVUInt("revision", b.revision);
    w.KVBool("revision_known", b.revision_known);
    w.KV("source", b.source);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

std::string SerializeState(const DaemonState& s) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.KVInt("version", DaemonState::kVersion);
  w.KVInt("saved_at_unix_ms", s.saved_at_unix_ms);
  w.KVInt("max_event_time", s.max_event_time);
  w.Key("files");
  w.BeginArray();
  for (const auto& f : s.files) {
    w.BeginObject();
    w.KV("source", f.source);
    w.KV("path", f.path);
    w.KVUInt("dev", f.id.dev);
    w.KVUInt("ino", f.id.ino);
    w.KVUInt("fingerprint", f.fingerprint);
    w.KVUInt("fingerprint_len", f.fingerprint_len);
    w.KVBool("evtx", f.evtx);
    w.KVUInt("offset", f.offset);
    if (f.compressed) w.KVBool("compressed", true);
    w.KVUInt("line_no", f.line_no);
    w.KVUInt("evtx_next_chunk", f.evtx_next_chunk);
    w.KVUInt("evtx_last_record_id", f.evtx_last_record_id);
    w.EndObject();
  }
  w.EndArray();
  WriteJournal(s.hits, s.emitted, s.builds, &w);
  WriteEmbeddedState("sigma_correlation", s.sigma_correlation, &w);
  WriteEmbeddedState("exchange_cves", s.exchange_cves, &w);
  w.Key("partitions");
  w.BeginArray();
  for (const auto& p : s.partitions) {
    w.BeginObject();
    w.KV("source", p.source);
    w.KVInt("partition", p.partition);
    w.KVInt("max_event_time", p.max_event_time);
    WriteJournal(p.hits, p.emitted, p.builds, &w);
    WriteEmbeddedState("sigma_correlation", p.sigma_correlation, &w);
    WriteEmbeddedState("exchange_cves", p.exchange_cves, &w);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  out.push_back('\n');
  return out;
}

Result<DaemonState> ParseState(std::string_view json, const std::string& origin) {
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (auto err = parser.parse(json.data(), json.size()).get(root)) {
    return Status::Corruption(fmt::format("not JSON: {}", simdjson::error_message(err))).At(origin);
  }
  Reader r{origin, Status::OK()};
  if (r.I(root, "version") != DaemonState::kVersion) {
    return Status::Unsupported("unknown state version").At(origin);
  }
  DaemonState s;
  s.saved_at_unix_ms = r.I(root, "saved_at_unix_ms");
  s.max_event_time = r.I(root, "max_event_time");
  simdjson::dom::array arr;
  if (!root["files"].get(arr)) {
    for (simdjson::dom::element el : arr) {
      simdjson::dom::object o;
      if (el.get(o)) return Status::Corruption("bad files entry").At(origin);
      source::FileCheckpoint f;
      f.source = r.Str(o, "source");
      f.path = r.Str(o, "path");
      f.id.dev = r.U(o, "dev");
      f.id.ino = r.U(o, "ino");
      f.fingerprint = r.U(o, "fingerprint");
      f.fingerprint_len = static_cast<uint32_t>(r.U(o, "fingerprint_len"));
      f.evtx = r.Get<bool>(o, "evtx", false);
      f.offset = r.U(o, "offset");
      f.compressed = r.Get<bool>(o, "compressed", false);
      f.line_no = r.U(o, "line_no");
      f.evtx_next_chunk = static_cast<uint32_t>(r.U(o, "evtx_next_chunk"));
      f.evtx_last_record_id = r.U(o, "evtx_last_record_id");
      s.files.push_back(std::move(f));
    }
  }
  ES_RETURN_IF_ERROR(ReadJournal(root, &r, &s.hits, &s.emitted, &s.builds));
  ES_RETURN_IF_ERROR(ReadEmbeddedState(root, "sigma_correlation", origin, &s.sigma_correlation));
  ES_RETURN_IF_ERROR(ReadEmbeddedState(root, "exchange_cves", origin, &s.exchange_cves));
  if (!root["partitions"].get(arr)) {
    for (simdjson::dom::element el : arr) {
      simdjson::dom::object o;
      if (el.get(o)) return Status::Corruption("bad partitions entry").At(origin);
      PartitionState p;
      p.source = r.Str(o, "source");
      p.partition = static_cast<int32_t>(r.I(o, "partition"));
      p.max_event_time = r.I(o, "max_event_time");
      ES_RETURN_IF_ERROR(ReadJournal(o, &r, &p.hits, &p.emitted, &p.builds));
      ES_RETURN_IF_ERROR(ReadEmbeddedState(o, "sigma_correlation", origin, &p.sigma_correlation));
      ES_RETURN_IF_ERROR(ReadEmbeddedState(o, "exchange_cves", origin, &p.exchange_cves));
      s.partitions.push_back(std::move(p));
    }
  }
  if (!r.status.ok()) return r.status;
  return s;
}

Status StateStore::Open() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec)
    return Status::IOError(fmt::format("cannot create state directory: {}", ec.message())).At(dir_);
  if (::access(dir_.c_str(), W_OK) != 0) return ErrnoStatus("state directory not writable", dir_);
  return Status::OK();
}

Result<DaemonState> StateStore::Load() const {
  std::string p = path();
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return Status::NotFound("no saved state").At(p);
    return ErrnoStatus("cannot open", p);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseState(ss.str(), p);
}

Status StateStore::Save(const DaemonState& state) const {
  std::string p = path();
  std::string tmp = p + ".tmp";
  std::string text = SerializeState(state);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return ErrnoStatus("cannot create", tmp);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = ErrnoStatus("write", tmp);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = ErrnoStatus("fsync", tmp);
    ::close(fd);
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), p.c_str()) != 0) return ErrnoStatus("rename", p);
  // The rename is durable only once the directory entry is.
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::OK();
}

}  // namespace eventsift::daemon
