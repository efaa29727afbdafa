#include "src/source/relp_source.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "src/source/relp_library.h"
#include "src/source/syslog_framer.h"

namespace eventsift::source {

namespace {

// Errors librelp reports on its thread go to the source running it there.
thread_local RelpSource* tl_source = nullptr;

// Errors kept for Poll to report; more are counted, not queued.
constexpr size_t kMaxQueuedErrors = 256;
constexpr size_t kReadChunk = size_t{64} * 1024;

relpRetVal OnSyslog(void* usr, unsigned char* host, unsigned char* ip, unsigned char* msg,
                    size_t len) {
  auto* self = static_cast<RelpSource*>(usr);
  auto str = [](unsigned char* s) {
    return s == nullptr ? std::string_view() : std::string_view(reinterpret_cast<char*>(s));
  };
  self->OnMessage(str(host), str(ip), std::string_view(reinterpret_cast<char*>(msg), len));
  return RELP_RET_OK;
}

void OnErr(void*, char* objinfo, char* errmsg, relpRetVal code) {
  if (tl_source == nullptr) return;
  tl_source->OnRelpError(
      fmt::format("{}: {} (librelp {})", objinfo ? objinfo : "", errmsg ? errmsg : "", code));
}

void OnGenericErr(char* objinfo, char* errmsg, relpRetVal code) {
  OnErr(nullptr, objinfo, errmsg, code);
}

void OnAuthErr(void*, char* authinfo, char* errmsg, relpRetVal code) {
  OnErr(nullptr, authinfo, errmsg, code);
}

// librelp calls its debug print unconditionally (and crashes when none is
// set): ours prints nothing.
void NoDebugPrint(char*, ...) {}

// Room for a librelp string argument (it takes char*, not const char*).
std::vector<char> CStr(const std::string& s) {
  std::vector<char> v(s.begin(), s.end());
  v.push_back('\0');
  return v;
}

}  // namespace

struct RelpSource::Engine {
  const RelpLibrary* relp = nullptr;
  relpEngine_t* engine = nullptr;
  ~Engine() {
    if (engine != nullptr) relp->EngineDestruct(&engine);
  }
};

RelpSource::RelpSource(std::string name, RelpSourceOptions options)
    : Source(std::move(name)), options_(std::move(options)) {}

RelpSource::~RelpSource() { Stop(); }

Status RelpSource::Start() {
  std::string where = fmt::format("{}:{}", options_.address, options_.port);
  // IPv4 only: Stop wakes librelp's loop by connecting to this address.
  in_addr probe{};
  if (::inet_pton(AF_INET, options_.address.c_str(), &probe) != 1) {
    return Status::InvalidArgument("not an IPv4 address").At(where);
  }
  RelpJournalOptions jo;
  jo.dir = options_.journal_dir;
  jo.max_bytes = options_.journal_max_bytes;
  // Several files, so what was read can be deleted long before all is.
  jo.file_bytes = std::clamp<uint64_t>(options_.journal_max_bytes / 16, 64 * 1024, 64 << 20);
  // Started again after a Stop (a reload that was refused): reading goes
  // on from where it is.
  bool resumed = journal_ != nullptr;
  journal_ = std::make_unique<RelpJournal>(jo);
  ES_RETURN_IF_ERROR(journal_->Open());
  if (!resumed) {
    read_ = restored_ ? *restored_ : JournalPos{journal_->FirstSeq(), 0, 0};
    saved_ = read_;
  }

  const RelpLibrary* relp = nullptr;
  if (Status s = LoadRelpLibrary(&relp); !s.ok()) return s.At(where);
  engine_ = std::make_unique<Engine>();
  engine_->relp = relp;
  // librelp reports why a step failed (a missing certificate, an address
  // in use) through its error callback, here on this thread: the first
  // such report goes into the returned status.
  tl_source = this;
  auto fail = [&](std::string_view what, relpRetVal r) {
    tl_source = nullptr;
    engine_.reset();
    std::string detail;
    {
      std::lock_guard<std::mutex> lock(errors_mu_);
      if (!errors_.empty()) detail = fmt::format(": {}", errors_.front().message());
      errors_.clear();
    }
    return Status::IOError(fmt::format("librelp: {} failed ({}){}", what, r, detail)).At(where);
  };
  relpRetVal r = relp->EngineConstruct(&engine_->engine);
  if (r != RELP_RET_OK) return fail("engine construct", r);
  relpEngine_t* e = engine_->engine;
  relp->EngineSetDbgprint(e, &NoDebugPrint);
  relp->EngineSetDnsLookupMode(e, 0);  // peers are named by address: no DNS on the hot path
  relp->EngineSetFamily(e, AF_INET);
  relp->EngineSetSyslogRcv2(e, &OnSyslog);
  relp->EngineSetOnErr(e, &OnErr);
  relp->EngineSetOnGenericErr(e, &OnGenericErr);
  relp->EngineSetOnAuthErr(e, &OnAuthErr);
  relp->EngineSetShutdownImmdtPtr(e, &shutdown_flag_);
  relp->EngineSetEnableCmd(e, reinterpret_cast<unsigned char*>(const_cast<char*>("syslog")),
                           eRelpCmdState_Required);
  if (options_.tls) {
    r = relp->EngineSetTLSLibByName(e, "openssl");
    if (r != RELP_RET_OK) return fail("selecting OpenSSL", r);
  }
  relpSrv_t* srv = nullptr;
  r = relp->EngineListnerConstruct(e, &srv);
  if (r != RELP_RET_OK) return fail("listener construct", r);
  auto port = CStr(std::to_string(options_.port));
  auto addr = CStr(options_.address);
  relp->SrvSetLstnPort(srv, reinterpret_cast<unsigned char*>(port.data()));
  relp->SrvSetLstnAddr(srv, reinterpret_cast<unsigned char*>(addr.data()));
  relp->SrvSetUsrPtr(srv, this);
  // One byte over the bound: a longer message arrives cut to this size and
  // is recognised as oversize in OnMessage.
  relp->SrvSetMaxDataSize(srv, options_.max_line_bytes + 1);
  relp->SrvSetOversizeMode(srv, RELP_OVERSIZE_TRUNCATE);
  if (options_.tls) {
    auto cert = CStr(options_.tls->cert_file);
    auto key = CStr(options_.tls->key_file);
    if ((r = relp->SrvEnableTLS2(srv)) != RELP_RET_OK) return fail("enabling TLS", r);
    if ((r = relp->SrvSetOwnCert(srv, cert.data())) != RELP_RET_OK) return fail("cert_file", r);
    if ((r = relp->SrvSetPrivKey(srv, key.data())) != RELP_RET_OK) return fail("key_file", r);
    if (!options_.tls->client_ca_file.empty()) {
      auto ca = CStr(options_.tls->client_ca_file);
      auto mode = CStr("certvalid");
      if ((r = relp->SrvSetCACert(srv, ca.data())) != RELP_RET_OK) return fail("client_ca_file", r);
      if ((r = relp->SrvSetAuthMode(srv, mode.data())) != RELP_RET_OK) return fail("auth mode", r);
    }
  }
  r = relp->EngineListnerConstructFinalize(e, srv);
  if (r != RELP_RET_OK) return fail("listen (address in use, or bad TLS files?)", r);
  tl_source = nullptr;
  shutdown_flag_ = 0;
  running_ = true;
  thread_ = std::thread([this, relp, e] {
    tl_source = this;
    relp->EngineRun(e);
    running_ = false;
  });
  return Status::OK();
}

void RelpSource::Stop() {
  if (!thread_.joinable()) return;
  journal_->BeginClose();  // a callback waiting for room writes and returns
  __atomic_store_n(&shutdown_flag_, 1, __ATOMIC_SEQ_CST);
  // librelp waits in epoll_wait without a timeout: a connection to its own
  // listener wakes it to see the flag.
  std::string host = options_.address == "0.0.0.0" ? "127.0.0.1" : options_.address;
  for (int i = 0; i < 100 && running_; ++i) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(options_.port);
    if (::inet_pton(AF_INET, host.c_str(), &sa.sin_addr) == 1) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd >= 0) {
        (void)::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
        ::close(fd);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  thread_.join();
  engine_.reset();
}

void RelpSource::AddPollFds(std::vector<pollfd>* fds) const {
  if (journal_) fds->push_back(pollfd{journal_->wake_fd(), POLLIN, 0});
}

void RelpSource::OnMessage(std::string_view host, std::string_view ip, std::string_view msg) {
  std::string peer = fmt::format("relp:{}", ip.empty() ? host : ip);
  if (msg.size() > options_.max_line_bytes) {
    // Cut by librelp to max_line_bytes + 1: acknowledged, not kept.
    stats().frame_errors.Add();
    QueueError(Status::Corruption(fmt::format("message over max_line_bytes ({}), dropped",
                                              options_.max_line_bytes))
                   .At(peer));
    return;
  }
  Status s = journal_->Append(
      peer, msg, [this] { stats().journal_full_waits.Add(); },
      [this](const Status& st) {
        stats().journal_write_errors.Add();
        QueueError(st);
      });
  if (s.ok()) {
    stats().messages_acked.Add();
  } else {
    // Only while stopping with the journal failing to write: librelp
    // answers rsp 200 whatever the callback returns, so this message is
    // acknowledged without being kept. Reported as lost.
    QueueError(
        Status::IOError(fmt::format("message acknowledged but not journaled: {}", s.ToString()))
            .At(peer));
  }
}

void RelpSource::OnRelpError(std::string what) {
  stats().frame_errors.Add();
  QueueError(Status::Corruption(std::move(what)).At("relp"));
}

void RelpSource::QueueError(Status status) {
  std::lock_guard<std::mutex> lock(errors_mu_);
  if (errors_.size() >= kMaxQueuedErrors) {
    ++errors_dropped_;
    return;
  }
  errors_.push_back(std::move(status));
}

bool RelpSource::OpenForRead(uint64_t seq) {
  int fd = ::open(journal_->PathOf(seq).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  read_fd_ = UniqueFd(fd);
  return true;
}

void RelpSource::NextFile() {
  read_fd_.Reset();
  pending_.clear();
  skip_file_ = false;
  read_ = JournalPos{read_.seq + 1, 0, 0};
}

Result<bool> RelpSource::Poll(RecordConsumer& consumer, size_t budget_bytes) {
  {
    std::deque<Status> errors;
    uint64_t dropped = 0;
    {
      std::lock_guard<std::mutex> lock(errors_mu_);
      errors.swap(errors_);
      dropped = std::exchange(errors_dropped_, 0);
    }
    for (const auto& e : errors) consumer.OnSourceError(e);
    if (dropped > 0) {
      consumer.OnSourceError(
          Status::ResourceExhausted(fmt::format("{} more receiver errors not shown", dropped))
              .At("relp"));
    }
  }
  if (!journal_) return false;
  journal_->DrainWake();
  // Set before reading: an Append after this point wakes the loop again, so
  // nothing written while this Poll runs waits for the idle timeout.
  journal_->WaitForMore();
  size_t used = 0;
  while (used < budget_bytes) {
    uint64_t writing = journal_->write_seq();
    bool sealed = read_.seq < writing;
    if (!read_fd_.valid() && !OpenForRead(read_.seq)) {
      if (!sealed) return false;  // the writer has not created it yet
      NextFile();                 // deleted, or never written (a failed open)
      continue;
    }
    // Read what the file holds past what is pending.
    size_t have = pending_.size();
    pending_.resize(have + kReadChunk);
    ssize_t n = ::pread(read_fd_.get(), pending_.data() + have, kReadChunk,
                        static_cast<off_t>(read_.offset + have));
    pending_.resize(have + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0) {
      consumer.OnSourceError(Status::IOError(fmt::format("read: {}", std::strerror(errno)))
                                 .At(journal_->PathOf(read_.seq), read_.offset));
      return false;
    }
    stats().bytes.Add(static_cast<uint64_t>(n));
    std::string_view view(pending_);
    size_t taken = 0;
    bool need_more = false;  // the bytes left hold no whole record
    while (!skip_file_) {
      JournalRecord rec = ParseJournalRecord(view.substr(taken), options_.max_line_bytes);
      if (rec.kind == JournalRecord::Kind::kNeedMore) {
        need_more = true;
        break;
      }
      if (rec.kind == JournalRecord::Kind::kBad) {
        stats().frame_errors.Add();
        consumer.OnSourceError(
            Status::Corruption(fmt::format("journal: {}, rest of the file skipped", rec.error))
                .At(journal_->PathOf(read_.seq), read_.offset + taken));
        skip_file_ = true;
        break;
      }
      taken += rec.size;
      ++read_.record_no;
      SyslogMessage m = ParseSyslogMessage(rec.frame);
      if (!m.error.empty()) {
        stats().frame_errors.Add();
        consumer.OnSourceError(Status::Corruption(fmt::format("syslog message: {}", m.error))
                                   .At(std::string(rec.peer)));
      } else {
        stats().lines.Add();
        consumer.OnLine(LineRecord{rec.peer, m.msg, read_.record_no});
      }
      if (used + taken >= budget_bytes) break;
    }
    read_.offset += taken;
    pending_.erase(0, taken);
    used += taken;
    bool at_end = need_more && static_cast<size_t>(n) < kReadChunk;
    if (skip_file_ || (sealed && n == 0 && need_more)) {
      // A sealed file is complete: bytes left over are a record cut by a
      // kill (never acknowledged) or a bad one already reported.
      if (!pending_.empty() && !skip_file_) {
        stats().frame_errors.Add();
        consumer.OnSourceError(
            Status::Truncated(fmt::format("journal: last record cut ({} bytes, never acknowledged)",
                                          pending_.size()))
                .At(journal_->PathOf(read_.seq), read_.offset));
      }
      if (!sealed) return false;  // the live file after a bad record: wait for the next one
      NextFile();
      continue;
    }
    if (taken == 0 && at_end && !sealed) return false;  // caught up with the writer
    if (taken == 0 && at_end && n == 0) return false;
  }
  return true;
}

void RelpSource::SaveCheckpoints(std::vector<FileCheckpoint>* out) const {
  FileCheckpoint cp;
  cp.source = name();
  cp.path = journal_ ? journal_->PathOf(read_.seq) : std::string();
  cp.offset = read_.offset;
  cp.line_no = read_.record_no;
  out->push_back(cp);
  // The position to delete up to once this checkpoint is written.
  saved_ = read_;
  saved_valid_ = true;
}

void RelpSource::RestoreCheckpoints(std::vector<FileCheckpoint> checkpoints) {
  for (const auto& cp : checkpoints) {
    std::string_view path(cp.path);
    size_t slash = path.rfind('/');
    uint64_t seq =
        RelpJournal::SeqOf(slash == std::string_view::npos ? path : path.substr(slash + 1));
    if (seq != 0) restored_ = JournalPos{seq, cp.offset, cp.line_no};
  }
}

int64_t RelpSource::CommitDueInMs() const {
  bool releasable = read_.seq > saved_.seq;
  return journal_ && journal_->writer_waiting() && releasable ? 0 : -1;
}

Status RelpSource::Commit() {
  if (journal_ && saved_valid_) journal_->Release(saved_);
  return Status::OK();
}

}  // namespace eventsift::source
