#include "parsers/evtx/evtx_decoder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "parsers/evtx/template_cache.h"
#include "src/core/byte_reader.h"

namespace eventsift::evtx {

namespace {

// Delivers one decoded chunk; returns non-OK to stop the file (--strict).
using EmitFn = Status (*)(void* ctx, const ChunkOutput& out);

// Serialises WantPayload calls from worker threads unless the handler says
// they are thread-safe.
struct PayloadGate {
  EventHandler* handler = nullptr;
  std::mutex* mu = nullptr;  // null when decoding on one thread
  static bool Ask(void* ctx, const Event& header) {
    auto* gate = static_cast<PayloadGate*>(ctx);
    if (gate->mu == nullptr) return gate->handler->WantPayload(header);
    std::lock_guard<std::mutex> lock(*gate->mu);
    return gate->handler->WantPayload(header);
  }
};

}  // namespace

Status ChunkReader::Read(uint64_t offset, size_t length, std::vector<uint8_t>* buf,
                         std::span<const uint8_t>* out) const {
  if (!copies()) {
    *out = image_.subspan(offset, length);  // the caller keeps within size()
    return Status::OK();
  }
  if (buf->size() < length) buf->resize(length);
  ES_RETURN_IF_ERROR(ReadInto(offset, length, buf->data()));
  *out = std::span<const uint8_t>(buf->data(), length);
  return Status::OK();
}

Status ChunkReader::ReadInto(uint64_t offset, size_t length, uint8_t* dst) const {
  size_t got = 0;
  while (got < length) {
    const ssize_t n = ::pread(fd_, dst + got, length - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Status::IOError(fmt::format("cannot read: {}", std::strerror(errno)))
          .At(std::string(name_), offset + got);
    }
    if (n == 0) {
      return Status::IOError(fmt::format("file shrank while read: got {} of the {} bytes at "
                                         "offset {} (the file was {} bytes when opened)",
                                         got, length, offset, size_))
          .At(std::string(name_), offset + got);
    }
    got += static_cast<size_t>(n);
  }
  return Status::OK();
}

namespace {

// The chunk at `offset` (`length` bytes in the file) up to its free-space
// offset, viewed or read into `*bytes`: what follows is slack that only
// recovery reads, and on sparse logs most of the chunk (docs/perf/evtx.md).
// `*used` is left empty when the chunk must be read whole: a partial last
// chunk, or a header without the chunk signature or with a free-space offset
// out of range.
Status ReadUsedPart(const ChunkReader& reader, uint64_t offset, size_t length,
                    std::vector<uint8_t>* bytes, std::span<const uint8_t>* used) {
  *used = {};
  // One page first: the header, and all of a chunk that uses no more.
  constexpr size_t kFirstRead = 4096;
  if (length < kChunkSize) return Status::OK();
  std::span<const uint8_t> head;
  if (reader.copies()) {
    if (bytes->size() < kChunkSize) bytes->resize(kChunkSize);
    ES_RETURN_IF_ERROR(reader.ReadInto(offset, kFirstRead, bytes->data()));
    head = std::span<const uint8_t>(bytes->data(), kChunkSize);
  } else {
    ES_RETURN_IF_ERROR(reader.Read(offset, length, bytes, &head));
  }
  if (std::memcmp(head.data(), "ElfChnk\0", 8) != 0) return Status::OK();
  uint32_t free_space = 0;
  ByteReader::LoadAt(head, 48, &free_space);
  if (free_space < kChunkHeaderSize || free_space > length) return Status::OK();
  if (reader.copies() && free_space > kFirstRead) {
    ES_RETURN_IF_ERROR(
        reader.ReadInto(offset + kFirstRead, free_space - kFirstRead, bytes->data() + kFirstRead));
  }
  *used = head.first(free_space);
  return Status::OK();
}

// Decodes chunks [0, count) of `reader`'s input with `threads` workers;
// `emit` sees them in order on the calling thread. At most 8 x threads chunk
// outputs (each with its chunk's bytes when read from a file) exist at once,
// so memory does not grow with the file.
Status RunChunks(const ChunkReader& reader, uint64_t count, std::string_view name, int threads,
                 const ChunkDecodeOptions& options, EmitFn emit, void* emit_ctx) {
  // One template cache per decoding thread, alive until every chunk output
  // (which may point at its text) has been delivered.
  std::vector<TemplateCache> caches(static_cast<size_t>(std::max(1, threads)));
  // `bytes` holds chunk i when it comes from a file: events point into it,
  // so it lives with `out` until delivered.
  auto decode = [&](uint64_t i, ChunkOutput* out, std::vector<uint8_t>* bytes,
                    TemplateCache* cache) {
    const uint64_t offset = kFileHeaderSize + i * kChunkSize;
    const size_t length = std::min<uint64_t>(kChunkSize, reader.size() - offset);
    std::span<const uint8_t> chunk;
    Status s;
    // A mapped file that shrank read zeros where its bytes were gone: that
    // chunk's output is replaced by the error a short read gives. A fault
    // past the chunk is checked for every chunk (one atomic load); the
    // file's size only when the chunk looked wrong, as zeros inside the
    // last page of a shrunk file raise no fault.
    auto intact = [&] {
      const bool suspect = !out->reports.empty() || !out->fatal.ok() || out->never_written;
      Status gone = reader.CheckRange(offset, length, suspect);
      if (gone.ok()) return true;
      out->Clear();
      out->fatal = std::move(gone);
      return false;
    };
    if (reader.file() && !options.carve) {
      s = ReadUsedPart(reader, offset, length, bytes, &chunk);
      if (s.ok() && !chunk.empty()) {
        DecodeChunk(chunk, static_cast<uint32_t>(i), offset, name, options, out, cache, length);
        if (!intact()) return;
        if (out->reports.empty() && out->fatal.ok()) return;
        // Something is wrong in this chunk, and the bytes past its free-space
        // offset may be why (a name or template offset pointing there) or
        // may hold the records recovery finds: decode it whole, as always.
      }
    }
    if (s.ok()) s = reader.Read(offset, length, bytes, &chunk);
    if (!s.ok()) {
      out->Clear();
      out->fatal = s;  // the file changed under us: stop it here
      return;
    }
    if (chunk.size() == kChunkSize && chunk[0] != 'E' && IsZeroChunk(chunk)) {
      out->Clear();  // allocated but never written: nothing to say
      out->never_written = true;
      intact();
      return;
    }
    DecodeChunk(chunk, static_cast<uint32_t>(i), offset, name, options, out, cache);
    intact();
  };
  // Mapped pages of delivered chunks are dropped every this many chunks (1 MiB),
  // so resident memory stays flat whatever the file size.
  constexpr uint64_t kReleaseEvery = 16;
  auto delivered = [&](uint64_t i) {
    if ((i + 1) % kReleaseEvery == 0) reader.Release(kFileHeaderSize + (i + 1) * kChunkSize);
  };
  if (threads <= 1 || count <= 1) {
    ChunkOutput out;
    std::vector<uint8_t> bytes;
    for (uint64_t i = 0; i < count; ++i) {
      decode(i, &out, &bytes, &caches[0]);
      ES_RETURN_IF_ERROR(emit(emit_ctx, out));
      delivered(i);
    }
    return Status::OK();
  }

  // Enough chunks in flight that a worker rarely waits for the emitter (each
  // wait is a futex round trip), few enough that memory stays flat.
  const uint64_t window = static_cast<uint64_t>(threads) * 8;
  // The emitter is woken for a run of this many ready chunks (or the last
  // ones), not for each: emitting is much cheaper than decoding, so it would
  // otherwise wait and be woken once per chunk, and those wake-ups (a third
  // thread on the cores the workers use) cost more than the delivery itself.
  const uint64_t batch = std::min<uint64_t>(4, window);
  struct Slot {
    ChunkOutput out;
    std::vector<uint8_t> bytes;
    bool ready = false;
  };
  std::vector<Slot> slots(window);
  std::mutex mu;
  std::condition_variable work_cv;  // workers: a chunk to claim, or stop
  std::condition_variable emit_cv;  // the emitter: its next run is ready
  uint64_t next_claim = 0, next_emit = 0;
  bool stop = false;
  bool emitter_waiting = false;
  int workers_waiting = 0;
  // Under mu: chunks [next_emit, next_emit + batch) (or up to the last) are
  // all decoded.
  auto run_ready = [&] {
    const uint64_t end = std::min(count, next_emit + batch);
    for (uint64_t j = next_emit; j < end; ++j) {
      if (!slots[j % window].ready) return false;
    }
    return true;
  };
  auto worker = [&](TemplateCache* cache) {
    while (true) {
      uint64_t i;
      {
        std::unique_lock<std::mutex> lock(mu);
        ++workers_waiting;
        work_cv.wait(
            lock, [&] { return stop || next_claim >= count || next_claim < next_emit + window; });
        --workers_waiting;
        if (stop || next_claim >= count) return;
        i = next_claim++;
      }
      decode(i, &slots[i % window].out, &slots[i % window].bytes, cache);
      bool wake = false;
      {
        std::lock_guard<std::mutex> lock(mu);
        slots[i % window].ready = true;
        wake = emitter_waiting && run_ready();
      }
      if (wake) emit_cv.notify_one();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker, &caches[t]);
  Status result;
  uint64_t i = 0;
  while (i < count && result.ok()) {
    {
      std::unique_lock<std::mutex> lock(mu);
      if (!slots[i % window].ready) {
        emitter_waiting = true;
        emit_cv.wait(lock, run_ready);
        emitter_waiting = false;
      }
    }
    // Every decoded chunk from i on, in order. A ready slot is the emitter's
    // until next_emit passes it: no worker claims its index again before.
    while (i < count && result.ok()) {
      Slot& slot = slots[i % window];
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!slot.ready) break;
      }
      result = emit(emit_ctx, slot.out);
      delivered(i);
      bool wake = false;
      {
        std::lock_guard<std::mutex> lock(mu);
        slot.ready = false;
        ++next_emit;
        if (!result.ok()) stop = true;
        wake = workers_waiting > 0;
      }
      if (wake) work_cv.notify_all();
      ++i;
    }
  }
  {
    // Workers still waiting for room must see that the emitter is done.
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
  }
  work_cv.notify_all();
  for (auto& t : pool) t.join();
  return result;
}

// Common front of both entry points: file header checks, then chunks.
template <typename EmitCtx>
Status DecodeImage(const ChunkReader& reader, const std::string& name,
                   const DecoderOptions& options, ChunkDecodeOptions chunk_options,
                   EmitCtx* emit_ctx, CorruptionReporter& reporter, DecoderStats* stats) {
  if (stats != nullptr) {
    stats->inputs.Add();
    stats->bytes.Add(reader.size());
  }
  std::vector<uint8_t> header_buf;
  std::span<const uint8_t> bytes;  // the file header, or what there is of it
  ES_RETURN_IF_ERROR(
      reader.Read(0, std::min<uint64_t>(kFileHeaderSize, reader.size()), &header_buf, &bytes));
  auto report = [&](Status s, uint64_t dropped) {
    reporter.Report(s, dropped);
    if (stats != nullptr) {
      stats->errors.Add();
      stats->bytes_dropped.Add(dropped);
    }
  };
  auto header = ParseFileHeader(bytes);
  // A header of zeros may be a file cut since it was opened.
  ES_RETURN_IF_ERROR(reader.CheckRange(0, bytes.size(), !header));
  if (!header) return Status(header.error()).At(name, 0);
  if (reader.size() < kFileHeaderSize) {
    // The 128 bytes parsed are there, the rest of the 4096-byte header is
    // not: the file was cut before its first chunk.
    return Status::Truncated(fmt::format("file header: cut at {} of its {} bytes, no chunks",
                                         bytes.size(), kFileHeaderSize))
        .At(name, bytes.size());
  }
  const FileHeader& h = header.value();
  if ((h.flags & kFlagNoCrc) == 0 && !h.checksum_ok()) {
    Status s = Status::Corruption(
                   fmt::format("file header CRC32 mismatch (stored {:08x}, computed {:08x})",
                               h.checksum, h.computed_checksum))
                   .At(name, 124);
    report(s, 0);
    if (options.strict) return s;
  }
  if (h.major_version != 3) {
    report(
        Status::Corruption(fmt::format("file header: unexpected major version {}", h.major_version))
            .At(name, 38),
        0);
  }
  uint64_t count = ChunkCountForSize(reader.size());
  if (reader.size() > kFileHeaderSize) {
    const uint64_t tail = (reader.size() - kFileHeaderSize) % kChunkSize;
    if (tail >= kChunkHeaderSize) {
      ++count;  // a partial last chunk: decode what it holds
    } else if (tail != 0) {
      report(Status::Truncated(fmt::format("{} bytes after the last chunk", tail))
                 .At(name, reader.size() - tail),
             tail);
    }
  }
  if (stats != nullptr) {
    stats->chunks_declared.Add(h.chunk_count);
    stats->chunks_found.Add(count);
  }
  std::mutex gate_mu;
  const int threads = std::max(1, options.threads);
  EventHandler* gate_handler = emit_ctx->handler_for_gate();
  const bool serialise =
      threads > 1 && gate_handler != nullptr && !gate_handler->WantPayloadIsThreadSafe();
  PayloadGate gate{gate_handler, serialise ? &gate_mu : nullptr};
  if (gate.handler != nullptr) {
    chunk_options.want_payload = &PayloadGate::Ask;
    chunk_options.want_payload_ctx = &gate;
    chunk_options.full_header_when_declined = gate.handler->FullHeaderWhenDeclined();
  }
  emit_ctx->report = report;
  return RunChunks(
      reader, count, name, threads, chunk_options,
      [](void* ctx, const ChunkOutput& out) { return static_cast<EmitCtx*>(ctx)->Emit(out); },
      emit_ctx);
}

// Shared by both emitters: reports, then the fatal status.
struct EmitBase {
  std::function<void(Status, uint64_t)> report;
  DecoderStats* stats = nullptr;
  Event event;  // reused: keeps data's capacity

  void Reports(const ChunkOutput& out) {
    for (const auto& r : out.reports) report(r.status, r.bytes_dropped);
    if (stats != nullptr) {
      stats->records_recovered.Add(out.records_recovered);
      if (out.never_written) stats->chunks_empty.Add();
    }
  }
  const Event& Fill(const ChunkOutput& out, size_t i) {
    if (stats != nullptr) stats->events.Add();
    // No fields (a declined payload, in `scan` most events): the stored event
    // is already whole, so it is handed out without a copy.
    if (out.ranges[i].first == out.ranges[i].second) return out.events[i];
    std::vector<DataField> data = std::move(event.data);
    event = out.events[i];
    data.assign(out.fields.begin() + out.ranges[i].first,
                out.fields.begin() + out.ranges[i].second);
    event.data = std::move(data);
    return event;
  }
};

struct EventEmitter : EmitBase {
  EventHandler* handler = nullptr;
  EventHandler* handler_for_gate() { return handler; }
  Status Emit(const ChunkOutput& out) {
    Reports(out);
    for (size_t i = 0; i < out.events.size(); ++i) handler->OnEvent(Fill(out, i));
    return out.fatal;
  }
};

struct TextEmitter : EmitBase {
  RecordTextHandler* handler = nullptr;
  bool lines = false;  // handler->WantsRecordLines(), for JSON
  EventHandler* handler_for_gate() { return nullptr; }
  Status Emit(const ChunkOutput& out) {
    Reports(out);
    if (lines) {
      if (stats != nullptr) stats->events.Add(out.events.size());
      if (!out.events.empty()) handler->OnRecordLines(out.events.size(), out.rendered());
      return out.fatal;
    }
    for (size_t i = 0; i < out.events.size(); ++i) {
      const auto [b, e] = out.text_ranges[i];
      handler->OnRecordText(Fill(out, i), std::string_view(out.text).substr(b, e - b));
    }
    return out.fatal;
  }
};

ChunkDecodeOptions ChunkOptionsFrom(const DecoderOptions& options) {
  ChunkDecodeOptions c;
  c.strict = options.strict;
  c.carve = options.carve;
  return c;
}

class EvtxDecoder : public Decoder {
 public:
  explicit EvtxDecoder(const DecoderOptions& options) : options_(options) {}
  std::string_view name() const override { return "evtx"; }

  Status Decode(const InputSpec& input, EventHandler& handler,
                CorruptionReporter& reporter) override {
    if (input.path == "-") {
      // Standard input cannot be mapped: read it whole.
      std::vector<uint8_t> buffer;
      uint8_t block[1 << 16];
      size_t n;
      while ((n = std::fread(block, 1, sizeof(block), stdin)) > 0)
        buffer.insert(buffer.end(), block, block + n);
      return DecodeEvtxBuffer(buffer, input.name(), options_, handler, reporter, &stats_);
    }
    auto file = EvtxFile::Open(input.path);
    if (!file) return file.error();
    EventEmitter emitter;
    emitter.handler = &handler;
    emitter.stats = &stats_;
    return DecodeImage(file.value()->reader(input.name()), input.name(), options_,
                       ChunkOptionsFrom(options_), &emitter, reporter, &stats_);
  }

 private:
  DecoderOptions options_;
};

}  // namespace

Status DecodeEvtxBuffer(std::span<const uint8_t> bytes, const std::string& name,
                        const DecoderOptions& options, EventHandler& handler,
                        CorruptionReporter& reporter, DecoderStats* stats) {
  EventEmitter emitter;
  emitter.handler = &handler;
  emitter.stats = stats;
  return DecodeImage(ChunkReader(bytes), name, options, ChunkOptionsFrom(options), &emitter,
                     reporter, stats);
}

namespace {

// A text emitter and the chunk options for rendering `format`.
ChunkDecodeOptions TextOptions(const DecoderOptions& options, RecordFormat format,
                               RecordTextHandler& handler, DecoderStats* stats,
                               TextEmitter* emitter) {
  emitter->handler = &handler;
  emitter->stats = stats;
  ChunkDecodeOptions chunk_options = ChunkOptionsFrom(options);
  chunk_options.render = format == RecordFormat::kXml ? ChunkDecodeOptions::Render::kXml
                                                      : ChunkDecodeOptions::Render::kJson;
  emitter->lines = format == RecordFormat::kJson && handler.WantsRecordLines();
  chunk_options.newline_after_record = emitter->lines;
  return chunk_options;
}

}  // namespace

Status DecodeEvtxBufferText(std::span<const uint8_t> bytes, const std::string& name,
                            const DecoderOptions& options, RecordFormat format,
                            RecordTextHandler& handler, CorruptionReporter& reporter,
                            DecoderStats* stats) {
  TextEmitter emitter;
  const ChunkDecodeOptions chunk_options = TextOptions(options, format, handler, stats, &emitter);
  return DecodeImage(ChunkReader(bytes), name, options, chunk_options, &emitter, reporter, stats);
}

Status DecodeEvtxFileText(const std::string& path, const std::string& name,
                          const DecoderOptions& options, RecordFormat format,
                          RecordTextHandler& handler, CorruptionReporter& reporter,
                          DecoderStats* stats) {
  auto file = EvtxFile::Open(path);
  if (!file) return file.error();
  TextEmitter emitter;
  const ChunkDecodeOptions chunk_options = TextOptions(options, format, handler, stats, &emitter);
  return DecodeImage(file.value()->reader(name), name, options, chunk_options, &emitter, reporter,
                     stats);
}

Status DecodeEvtxBufferXml(std::span<const uint8_t> bytes, const std::string& name,
                           const DecoderOptions& options, RecordXmlHandler& handler,
                           CorruptionReporter& reporter, DecoderStats* stats) {
  return DecodeEvtxBufferText(bytes, name, options, RecordFormat::kXml, handler, reporter, stats);
}

Result<std::unique_ptr<EvtxFile>> EvtxFile::Open(const std::string& path, bool map) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(fmt::format("cannot open: {}", std::strerror(errno))).At(path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::IOError(fmt::format("cannot stat: {}", std::strerror(err))).At(path);
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  const auto size = static_cast<uint64_t>(st.st_size);
  // Not a regular file (a device), or a mapping refused: pread.
  std::unique_ptr<MappedFile> mapping =
      map && S_ISREG(st.st_mode) ? MappedFile::Map(fd, size) : nullptr;
  return std::make_unique<EvtxFile>(PrivateTag{}, fd, size, std::move(mapping));
}

EvtxFile::~EvtxFile() {
  map_.reset();
  ::close(fd_);
}

std::unique_ptr<Decoder> NewEvtxDecoder(const DecoderOptions& options) {
  return std::make_unique<EvtxDecoder>(options);
}

}  // namespace eventsift::evtx
