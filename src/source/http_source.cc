#include "src/source/http_source.h"

#include <openssl/crypto.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "src/source/http_server_loader.h"
#include "src/source/json_batch.h"

namespace eventsift::source {

namespace {

using Clock = std::chrono::steady_clock;

// Refusals spelled out in one answer; the rest are counted.
constexpr size_t kMaxErrorsInAnswer = 10;
// Threads beyond max_pending, so a full queue is still answered at once.
constexpr size_t kSpareThreads = 4;

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out;
}

std::string ErrorBody(std::string_view message) {
  return fmt::format("{{\"error\":\"{}\"}}\n", JsonEscape(message));
}

// Constant time, so the token cannot be guessed a byte at a time.
bool TokenMatches(const std::string& header, const std::string& token) {
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() != kScheme.size() + token.size()) return false;
  if (::strncasecmp(header.c_str(), kScheme.data(), kScheme.size()) != 0) return false;
  return CRYPTO_memcmp(header.data() + kScheme.size(), token.data(), token.size()) == 0;
}

}  // namespace

struct HttpSource::Batch {
  enum class State : uint8_t { kQueued, kDelivering, kDelivered, kDurable, kFailed };
  uint64_t id = 0;
  std::string origin;  // "http:<client>/<request id>": names it in decode errors
  std::string client;
  HttpClientCounters* counters = nullptr;
  std::string body;
  State state = State::kQueued;
  Clock::time_point delivered_at;
  // Filled by Deliver.
  uint64_t records = 0;
  uint64_t events = 0;
  uint64_t refused = 0;
  std::vector<std::string> errors;
};

HttpSource::HttpSource(std::string name, HttpSourceOptions options)
    : Source(std::move(name)), options_(std::move(options)) {}

HttpSource::~HttpSource() { StopServer(); }

Status HttpSource::Start() {
  StopServer();  // a restart after Stop: the old server is gone first
  std::string where = fmt::format("{}:{}", options_.address, options_.port);
  if (!options_.auth_token_file.empty()) {
    std::ifstream in(options_.auth_token_file, std::ios::binary);
    if (!in) {
      return Status::InvalidArgument(fmt::format("auth_token_file: cannot read '{}': {}",
                                                 options_.auth_token_file, std::strerror(errno)));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    token_ = ss.str();
    while (!token_.empty() && std::isspace(static_cast<unsigned char>(token_.back())))
      token_.pop_back();
    while (!token_.empty() && std::isspace(static_cast<unsigned char>(token_.front())))
      token_.erase(0, 1);
    if (token_.empty()) {
      return Status::InvalidArgument(
          fmt::format("auth_token_file: '{}' is empty", options_.auth_token_file));
    }
  }
  HttpServerSettings settings;
  Status tls_status;
  if (options_.tls) {
    TlsServerOptions tls = *options_.tls;
    settings.tls_setup = [&tls_status, tls](ssl_ctx_st& ctx) {
      tls_status = ConfigureServerContext(&ctx, tls);
      return tls_status.ok();
    };
  }
  settings.threads = options_.max_pending + kSpareThreads;
  settings.max_body_bytes = options_.max_body_bytes;
  auto idle = std::chrono::duration_cast<std::chrono::seconds>(options_.idle_timeout).count();
  settings.keep_alive_seconds = std::max<time_t>(1, idle);
  auto made = NewHttpServer(settings, [this](HttpExchange& exchange) { Handle(exchange); });
  if (!made) return made.error().At(where);
  server_ = std::move(made).value();
  if (!tls_status.ok()) return tls_status;
  if (!server_->valid()) return Status::Internal("TLS server could not be set up").At(where);
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return Status::IOError(fmt::format("eventfd: {}", std::strerror(errno))).At(where);
  wake_ = UniqueFd(fd);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  const int port = server_->Bind(options_.address, options_.port);
  if (port <= 0) {
    server_.reset();
    return Status::IOError("bind failed (address in use, or not a local address)").At(where);
  }
  bound_port_ = static_cast<uint16_t>(port);
  listen_thread_ = std::thread([this] { server_->ListenAfterBind(); });
  return Status::OK();
}

void HttpSource::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& b : queued_) b->state = Batch::State::kFailed;
    queued_.clear();
  }
  answered_cv_.notify_all();
  // Stops accepting; the workers still waiting for a checkpoint are answered
  // by the final Commit (or the destructor), then the listen thread ends.
  if (server_) server_->Stop();
}

void HttpSource::StopServer() {
  Stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& b : delivered_) b->state = Batch::State::kFailed;
    delivered_.clear();
  }
  answered_cv_.notify_all();
  if (listen_thread_.joinable()) listen_thread_.join();
  server_.reset();
}

void HttpSource::AddPollFds(std::vector<pollfd>* fds) const {
  if (wake_.valid()) fds->push_back(pollfd{wake_.get(), POLLIN, 0});
}

HttpClientCounters* HttpSource::ClientFor(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = clients_.find(address);
  if (it != clients_.end()) return it->second.get();
  // Past the bound, new addresses share one entry: memory stays bounded.
  const std::string& key = clients_.size() < options_.max_clients ? address : "other";
  auto& c = clients_[key];
  if (!c) c = std::make_unique<HttpClientCounters>();
  return c.get();
}

void HttpSource::Answered(int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++responses_[status];
}

void HttpSource::Handle(HttpExchange& exchange) {
  const std::string& remote = exchange.remote_addr();
  HttpClientCounters* client = ClientFor(remote);
  client->requests.fetch_add(1, std::memory_order_relaxed);
  auto answer = [&](int status, const std::string& body, bool retry, bool unread_body) {
    exchange.Answer(status, body, "application/json");
    if (retry) exchange.SetHeader("Retry-After", std::to_string(options_.retry_after_seconds));
    // A body left unread cannot be skipped reliably: the client must not
    // send its next request on this connection.
    if (unread_body) exchange.SetHeader("Connection", "close");
    Answered(status);
  };
  if (!token_.empty() && !TokenMatches(exchange.header("Authorization"), token_)) {
    exchange.SetHeader("WWW-Authenticate", "Bearer");
    return answer(401, ErrorBody("a valid bearer token is required"), false, true);
  }
  bool stopping = false;
  bool full = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping = stopping_;
    full = pending_ >= options_.max_pending;
    if (!stopping && !full) ++pending_;
  }
  if (stopping) return answer(503, ErrorBody("shutting down, send again later"), true, true);
  if (full) {
    return answer(options_.backpressure_status,
                  ErrorBody(fmt::format("{} requests already in flight, send again later",
                                        options_.max_pending)),
                  true, true);
  }
  struct Slot {
    HttpSource* self;
    ~Slot() {
      std::lock_guard<std::mutex> lock(self->mu_);
      --self->pending_;
    }
  } slot{this};

  auto batch = std::make_shared<Batch>();
  batch->client = remote;
  batch->counters = client;
  bool too_large = false;
  bool read = exchange.ReadBody([&](const char* data, size_t n) {
    if (batch->body.size() + n > options_.max_body_bytes) {
      too_large = true;
      return false;
    }
    batch->body.append(data, n);
    return true;
  });
  if (too_large || exchange.status() == 413) {
    return answer(413,
                  ErrorBody(fmt::format("body over max_body_bytes ({} after decompression)",
                                        options_.max_body_bytes)),
                  false, true);
  }
  if (!read) {
    int status = exchange.status() >= 400 ? exchange.status() : 400;
    std::string why = status == 415 ? "unsupported Content-Encoding"
                                    : "the body could not be read (broken compressed data, or "
                                      "the connection ended early)";
    if (options_.on_error) options_.on_error(remote, why);
    return answer(status, ErrorBody(why), false, true);
  }
  client->bytes.fetch_add(batch->body.size(), std::memory_order_relaxed);
  bool blank = batch->body.find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank) return answer(200, "{\"records\":0,\"events\":0,\"refused\":0}\n", false, false);

  auto deadline = Clock::now() + options_.ack_timeout;
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) {
    // Stop came while the body was read: the loop polls no more.
    lock.unlock();
    return answer(503, ErrorBody("shutting down, send again later"), true, false);
  }
  batch->id = ++next_request_;
  batch->origin = fmt::format("http:{}/{}", remote, batch->id);
  queued_.push_back(batch);
  uint64_t one = 1;
  (void)::write(wake_.get(), &one, sizeof(one));
  answered_cv_.wait_until(lock, deadline, [&] {
    return batch->state == Batch::State::kDurable || batch->state == Batch::State::kFailed;
  });
  Batch::State state = batch->state;
  bool stopped = stopping_;
  if (state == Batch::State::kQueued) {
    // Never read: it goes, and the client sends it again.
    std::erase(queued_, batch);
    batch->state = Batch::State::kFailed;
  }
  lock.unlock();
  if (state != Batch::State::kDurable) {
    std::string why = stopped ? "shutting down before the batch was durable, send it again"
                              : fmt::format(
                                    "the batch was not durable within {} ms (a sink is "
                                    "slow or down), send it again",
                                    options_.ack_timeout.count());
    return answer(503, ErrorBody(why), true, false);
  }
  std::string errors;
  for (const auto& e : batch->errors) {
    errors += fmt::format("{}\"{}\"", errors.empty() ? "" : ",", JsonEscape(e));
  }
  answer(200,
         fmt::format(
             "{{\"request\":{},\"records\":{},\"events\":{},\"refused\":{},\"errors\":[{}]}}\n",
             batch->id, batch->records, batch->events, batch->refused, errors),
         false, false);
}

void HttpSource::Deliver(Batch& b, RecordConsumer& consumer) {
  uint64_t events_before = stats().events.Get();
  uint64_t errors_before = stats().parse_errors.Get();
  auto note = [&](std::string what) {
    if (options_.on_error) options_.on_error(b.client, fmt::format("{}: {}", b.origin, what));
    if (b.errors.size() < kMaxErrorsInAnswer) b.errors.push_back(std::move(what));
  };
  SplitJsonBatch(
      b.body, options_.max_line_bytes,
      [&](std::string_view text, uint64_t number) {
        ++b.records;
        stats().lines.Add();
        consumer.OnLine(LineRecord{b.origin, text, number});
      },
      [&](const BatchRefusal& r) {
        ++b.refused;
        stats().lines_dropped.Add();
        note(fmt::format("record {}: {}", r.record, r.reason));
      });
  stats().bytes.Add(b.body.size());
  b.events = stats().events.Get() - events_before;
  uint64_t undecodable = stats().parse_errors.Get() - errors_before;
  if (undecodable > 0) {
    // The pipeline logged each with its record number (origin and line).
    if (b.errors.size() < kMaxErrorsInAnswer)
      b.errors.push_back(fmt::format("{} record(s) could not be decoded", undecodable));
  }
  b.refused += undecodable;
  b.counters->events.fetch_add(b.events, std::memory_order_relaxed);
  b.counters->refused.fetch_add(b.refused, std::memory_order_relaxed);
  b.body = std::string();  // its memory goes now, not with the answer
}

Result<bool> HttpSource::Poll(RecordConsumer& consumer, size_t budget_bytes) {
  if (wake_.valid()) {
    uint64_t n = 0;
    (void)::read(wake_.get(), &n, sizeof(n));
  }
  std::vector<std::shared_ptr<Batch>> taken;
  size_t used = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!queued_.empty() && used < budget_bytes) {
      std::shared_ptr<Batch> b = std::move(queued_.front());
      queued_.pop_front();
      used += b->body.size();
      b->state = Batch::State::kDelivering;
      taken.push_back(std::move(b));
    }
  }
  for (auto& b : taken) Deliver(*b, consumer);
  std::lock_guard<std::mutex> lock(mu_);
  auto now = Clock::now();
  for (auto& b : taken) {
    b->state = Batch::State::kDelivered;
    b->delivered_at = now;
    delivered_.push_back(std::move(b));
  }
  return !queued_.empty();
}

Status HttpSource::Commit() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (delivered_.empty()) return Status::OK();
    for (auto& b : delivered_) b->state = Batch::State::kDurable;
    delivered_.clear();
  }
  answered_cv_.notify_all();
  return Status::OK();
}

int64_t HttpSource::CommitDueInMs() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (delivered_.empty()) return -1;
  // Group commit: with nothing else queued the checkpoint is due now; while
  // batches keep arriving they are read first, for at most commit_delay, so
  // one checkpoint answers them all.
  if (queued_.empty()) return 0;
  auto due = delivered_.front()->delivered_at + options_.commit_delay;
  return std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(due - Clock::now()).count());
}

std::map<int, uint64_t> HttpSource::Responses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return responses_;
}

std::vector<std::pair<std::string, const HttpClientCounters*>> HttpSource::Clients() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, const HttpClientCounters*>> out;
  for (const auto& [address, c] : clients_) out.emplace_back(address, c.get());
  return out;
}

}  // namespace eventsift::source
