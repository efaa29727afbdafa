#include "src/pipeline/hit_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

namespace eventsift {

namespace {

// What a hit costs in memory, roughly: the record plus its strings' bytes.
uint64_t Footprint(const OwnedEvent& e) {
  uint64_t n = sizeof(std::pair<uint32_t, OwnedEvent>) + e.provider.size() +
               e.provider_guid.size() + e.channel.size() + e.computer.size() + e.user_sid.size() +
               e.message.size() + e.file.size();
  for (const auto& [name, value] : e.data) {
    n += sizeof(std::pair<std::string, std::string>) + name.size() + value.size();
  }
  return n;
}

template <typename T>
void PutRaw(std::string* out, const T& v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(v));
}
void PutString(std::string* out, std::string_view s) {
  PutRaw(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

// Reads back what Serialize wrote; false on a short read (a damaged file).
class SpillReader {
 public:
  explicit SpillReader(gzFile in) : in_(in) {}
  bool Raw(void* p, size_t n) {
    return n == 0 || gzread(in_, p, static_cast<unsigned>(n)) == static_cast<int>(n);
  }
  template <typename T>
  bool Get(T* v) {
    return Raw(v, sizeof(*v));
  }
  bool String(std::string* s) {
    uint32_t n = 0;
    if (!Get(&n)) return false;
    s->resize(n);
    return Raw(s->data(), n);
  }

 private:
  gzFile in_;
};

void Serialize(uint32_t rule, const Event& e, std::string* out) {
  out->clear();
  PutRaw(out, rule);
  PutRaw(out, e.event_id);
  PutRaw(out, e.qualifiers);
  PutRaw(out, static_cast<uint8_t>(e.has_qualifiers));
  PutRaw(out, e.version);
  PutRaw(out, e.level);
  PutRaw(out, e.opcode);
  PutRaw(out, e.task);
  PutRaw(out, e.keywords);
  PutRaw(out, e.time);
  PutRaw(out, e.record_id);
  PutRaw(out, e.process_id);
  PutRaw(out, e.thread_id);
  PutRaw(out, e.where.offset);
  PutRaw(out, e.where.line);
  PutRaw(out, e.where.chunk);
  for (std::string_view s :
       {e.provider, e.provider_guid, e.channel, e.computer, e.user_sid, e.message, e.where.file}) {
    PutString(out, s);
  }
  PutRaw(out, static_cast<uint32_t>(e.data.size()));
  for (const auto& f : e.data) {
    PutString(out, f.name);
    PutString(out, f.value);
  }
}

bool Deserialize(SpillReader& in, uint32_t* rule, OwnedEvent* e) {
  uint8_t has_qualifiers = 0;
  uint32_t fields = 0;
  bool ok = in.Get(rule) && in.Get(&e->event_id) && in.Get(&e->qualifiers) &&
            in.Get(&has_qualifiers) && in.Get(&e->version) && in.Get(&e->level) &&
            in.Get(&e->opcode) && in.Get(&e->task) && in.Get(&e->keywords) && in.Get(&e->time) &&
            in.Get(&e->record_id) && in.Get(&e->process_id) && in.Get(&e->thread_id) &&
            in.Get(&e->offset) && in.Get(&e->line) && in.Get(&e->chunk) &&
            in.String(&e->provider) && in.String(&e->provider_guid) && in.String(&e->channel) &&
            in.String(&e->computer) && in.String(&e->user_sid) && in.String(&e->message) &&
            in.String(&e->file) && in.Get(&fields);
  if (!ok) return false;
  e->has_qualifiers = has_qualifiers != 0;
  e->data.resize(fields);
  for (auto& [name, value] : e->data) {
    if (!in.String(&name) || !in.String(&value)) return false;
  }
  return true;
}

Status ErrnoStatus(const std::string& what) {
  return Status::IOError(fmt::format("{}: {}", what, std::generic_category().message(errno)));
}

}  // namespace

HitStore::HitStore(std::atomic<uint64_t>* memory_used, uint64_t budget)
    : memory_used_(memory_used), budget_(budget) {}

HitStore::~HitStore() { Release(); }

void HitStore::Add(uint32_t rule, const Event& event) {
  if (fd_ < 0 && error_.ok()) {
    OwnedEvent copy = OwnedEvent::From(event);
    const uint64_t bytes = Footprint(copy);
    // Once this store spills, all its later hits do, so reading back keeps
    // input order.
    if (memory_used_->fetch_add(bytes, std::memory_order_relaxed) + bytes <= budget_) {
      memory_bytes_ += bytes;
      in_memory_.emplace_back(rule, std::move(copy));
      return;
    }
    memory_used_->fetch_sub(bytes, std::memory_order_relaxed);
    if (Status s = OpenSpill(); !s.ok()) {
      if (error_.ok()) error_ = std::move(s);
    }
  }
  Spill(rule, event);
}

Status HitStore::OpenSpill() {
  const char* dir = std::getenv("TMPDIR");
  std::string path = fmt::format("{}/eventsift-hits-XXXXXX", dir != nullptr && *dir ? dir : "/tmp");
  fd_ = ::mkstemp(path.data());
  if (fd_ < 0) return ErrnoStatus("cannot create a temporary file for rule hits in " + path);
  ::unlink(path.c_str());  // gone when we close it, whatever happens to us
  const int writer_fd = ::dup(fd_);
  writer_ = writer_fd >= 0 ? gzdopen(writer_fd, "wb1") : nullptr;
  if (writer_ == nullptr) {
    if (writer_fd >= 0) ::close(writer_fd);
    return ErrnoStatus("cannot write rule hits to a temporary file");
  }
  return Status::OK();
}

void HitStore::Spill(uint32_t rule, const Event& event) {
  if (writer_ == nullptr) {
    ++dropped_;
    return;
  }
  Serialize(rule, event, &record_);
  if (gzwrite(writer_, record_.data(), static_cast<unsigned>(record_.size())) !=
      static_cast<int>(record_.size())) {
    if (error_.ok()) error_ = ErrnoStatus("cannot write rule hits to a temporary file");
    ++dropped_;
    return;
  }
  ++spilled_;
}

Status HitStore::ForEach(const std::function<void(uint32_t, OwnedEvent&)>& fn) {
  for (auto& [rule, event] : in_memory_) fn(rule, event);
  if (fd_ < 0 || spilled_ == 0) return Status::OK();
  if (writer_ != nullptr) {
    const int rc = gzclose(writer_);  // flushes; closes the dup'ed descriptor
    writer_ = nullptr;
    if (rc != Z_OK) return Status::IOError("cannot write rule hits to a temporary file");
  }
  if (::lseek(fd_, 0, SEEK_SET) != 0) return ErrnoStatus("cannot read back rule hits");
  const int reader_fd = ::dup(fd_);
  gzFile in = reader_fd >= 0 ? gzdopen(reader_fd, "rb") : nullptr;
  if (in == nullptr) {
    if (reader_fd >= 0) ::close(reader_fd);
    return ErrnoStatus("cannot read back rule hits");
  }
  Status status;
  SpillReader reader(in);
  uint32_t rule = 0;
  OwnedEvent event;
  for (uint64_t i = 0; i < spilled_; ++i) {
    if (!Deserialize(reader, &rule, &event)) {
      status = Status::IOError(fmt::format(
          "rule hits read back from the temporary file end after {} of {}", i, spilled_));
      break;
    }
    fn(rule, event);
  }
  gzclose(in);
  return status;
}

void HitStore::Release() {
  if (writer_ != nullptr) {
    gzclose(writer_);
    writer_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  in_memory_ = {};
  memory_used_->fetch_sub(memory_bytes_, std::memory_order_relaxed);
  memory_bytes_ = 0;
  spilled_ = 0;
}

}  // namespace eventsift
