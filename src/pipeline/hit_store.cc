#include "src/pipeline/hit_store.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

namespace eventsift {

namespace {

// Serialised hits are compressed and written in blocks of about this size:
// large enough for zlib to find the repeats, small enough to hold per input.
constexpr size_t kBlockBytes = 1u << 20;

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

// Reads back what Serialize wrote, from one decompressed block; false when
// the block ends early (a damaged file).
class BlockReader {
 public:
  explicit BlockReader(std::string_view bytes) : rest_(bytes) {}
  bool Raw(void* p, size_t n) {
    if (rest_.size() < n) return false;
    std::memcpy(p, rest_.data(), n);
    rest_.remove_prefix(n);
    return true;
  }
  template <typename T>
  bool Get(T* v) {
    return Raw(v, sizeof(*v));
  }
  bool String(std::string* s) {
    uint32_t n = 0;
    if (!Get(&n) || rest_.size() < n) return false;
    s->assign(rest_.data(), n);
    rest_.remove_prefix(n);
    return true;
  }

 private:
  std::string_view rest_;
};

void Serialize(uint32_t rule, const Event& e, std::string* out) {
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
  PutRaw(out, e.record_number);
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

bool Deserialize(BlockReader& in, uint32_t* rule, OwnedEvent* e) {
  uint8_t has_qualifiers = 0;
  uint32_t fields = 0;
  bool ok = in.Get(rule) && in.Get(&e->event_id) && in.Get(&e->qualifiers) &&
            in.Get(&has_qualifiers) && in.Get(&e->version) && in.Get(&e->level) &&
            in.Get(&e->opcode) && in.Get(&e->task) && in.Get(&e->keywords) && in.Get(&e->time) &&
            in.Get(&e->record_id) && in.Get(&e->record_number) && in.Get(&e->process_id) &&
            in.Get(&e->thread_id) && in.Get(&e->offset) && in.Get(&e->line) && in.Get(&e->chunk) &&
            in.String(&e->provider) && in.String(&e->provider_guid) && in.String(&e->channel) &&
            in.String(&e->computer) && in.String(&e->user_sid) && in.String(&e->message) &&
            in.String(&e->file) && in.Get(&fields);
  if (!ok) return false;
  e->has_qualifiers = has_qualifiers != 0;
  e->data.clear();
  for (uint32_t i = 0; i < fields; ++i) {
    auto& [name, value] = e->data.emplace_back();
    if (!in.String(&name) || !in.String(&value)) return false;
  }
  return true;
}

Status ErrnoStatus(const std::string& what) {
  return Status::IOError(fmt::format("{}: {}", what, std::generic_category().message(errno)));
}

}  // namespace

SpillFile::~SpillFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status SpillFile::Append(std::string_view bytes, uint64_t* offset) {
  std::lock_guard lock(mu_);
  if (fd_ < 0) {
    if (!error_.ok()) return error_;
    const char* dir = std::getenv("TMPDIR");
    std::string path =
        fmt::format("{}/eventsift-hits-XXXXXX", dir != nullptr && *dir ? dir : "/tmp");
    fd_ = ::mkstemp(path.data());
    if (fd_ < 0) {
      error_ = ErrnoStatus("cannot create a temporary file for rule hits in " + path);
      return error_;
    }
    ::unlink(path.c_str());  // gone when we close it, whatever happens to us
  }
  *offset = end_;
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n =
        ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(end_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoStatus("cannot write rule hits to the temporary file");
    done += static_cast<size_t>(n);
  }
  end_ += bytes.size();
  return Status::OK();
}

Status SpillFile::Read(uint64_t offset, size_t n, std::string* out) const {
  out->resize(n);
  for (size_t done = 0; done < n;) {
    const ssize_t got =
        ::pread(fd_, out->data() + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return ErrnoStatus("cannot read back rule hits from the temporary file");
    done += static_cast<size_t>(got);
  }
  return Status::OK();
}

HitStore::HitStore(std::atomic<uint64_t>* memory_used, uint64_t budget, SpillFile* spill)
    : memory_used_(memory_used), budget_(budget), spill_(spill) {}

HitStore::~HitStore() { Release(); }

void HitStore::Fail(Status s, uint64_t hits_lost) {
  if (error_.ok()) error_ = std::move(s);
  dropped_ += hits_lost;
}

void HitStore::Add(uint32_t rule, const Event& event) {
  if (!error_.ok()) {
    ++dropped_;
    return;
  }
  if (!spilling_) {
    OwnedEvent copy = OwnedEvent::From(event);
    const uint64_t bytes = Footprint(copy);
    if (memory_used_->fetch_add(bytes, std::memory_order_relaxed) + bytes <= budget_) {
      memory_bytes_ += bytes;
      in_memory_.emplace_back(rule, std::move(copy));
      return;
    }
    memory_used_->fetch_sub(bytes, std::memory_order_relaxed);
    spilling_ = true;
  }
  Serialize(rule, event, &pending_);
  ++pending_hits_;
  if (pending_.size() >= kBlockBytes) Flush();
}

void HitStore::Flush() {
  if (pending_hits_ == 0) return;
  const uint64_t hits = pending_hits_;
  pending_hits_ = 0;
  std::string compressed(compressBound(pending_.size()), '\0');
  uLongf size = compressed.size();
  if (compress2(reinterpret_cast<Bytef*>(compressed.data()), &size,
                reinterpret_cast<const Bytef*>(pending_.data()), pending_.size(), 1) != Z_OK) {
    Fail(Status::Internal("cannot compress rule hits"), hits);
  } else {
    Block block{0, size, pending_.size(), hits};
    if (Status s = spill_->Append(std::string_view(compressed.data(), size), &block.offset);
        !s.ok()) {
      Fail(std::move(s), hits);
    } else {
      blocks_.push_back(block);
      spilled_ += hits;
    }
  }
  pending_.clear();
  pending_.shrink_to_fit();  // a finished input keeps no block buffer
}

Status HitStore::ForEach(const std::function<void(uint32_t, OwnedEvent&)>& fn) {
  Flush();
  for (auto& [rule, event] : in_memory_) fn(rule, event);
  std::string compressed, raw;
  uint32_t rule = 0;
  OwnedEvent event;
  for (const Block& block : blocks_) {
    ES_RETURN_IF_ERROR(spill_->Read(block.offset, block.compressed, &compressed));
    raw.resize(block.raw);
    uLongf size = raw.size();
    if (uncompress(reinterpret_cast<Bytef*>(raw.data()), &size,
                   reinterpret_cast<const Bytef*>(compressed.data()), compressed.size()) != Z_OK ||
        size != block.raw) {
      return Status::IOError("rule hits read back from the temporary file are damaged");
    }
    BlockReader reader(raw);
    for (uint64_t i = 0; i < block.hits; ++i) {
      if (!Deserialize(reader, &rule, &event)) {
        return Status::IOError("rule hits read back from the temporary file are damaged");
      }
      fn(rule, event);
    }
  }
  return Status::OK();
}

void HitStore::Release() {
  in_memory_ = {};
  memory_used_->fetch_sub(memory_bytes_, std::memory_order_relaxed);
  memory_bytes_ = 0;
  pending_ = {};
  pending_hits_ = 0;
  blocks_ = {};  // the blocks stay in the scan's file until it is closed
  spilled_ = 0;
}

}  // namespace eventsift
