#pragma once
// EVTX (Windows XML Event Log) decoder: see docs/evtx-format.md.
//
// Layers, lowest first: file_header.h (file and chunk headers, CRC32),
// binxml.h (token compiler, chunk context, value arrays, walker),
// template_cache.h, event_builder.h and xml_renderer.h (what a walk
// produces), chunk_decoder.h (one chunk, with recovery), and this file: whole
// images and files, chunks decoded in parallel and delivered in file order.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/evtx/chunk_decoder.h"
#include "src/core/mapped_file.h"
#include "src/decoder/decoder.h"

namespace eventsift::evtx {

std::unique_ptr<Decoder> NewEvtxDecoder(const DecoderOptions& options);

// Decodes an in-memory EVTX image. Events reach `handler` in file order, from
// the calling thread; with options.threads > 1, WantPayload is called from
// worker threads, serialised by a mutex. `name` labels events and reports and
// must outlive the call. `stats` may be null. Returns non-OK only when the
// image is not EVTX at all or --strict stopped it; every other problem goes to
// `reporter` and decoding goes on.
Status DecodeEvtxBuffer(std::span<const uint8_t> bytes, const std::string& name,
                        const DecoderOptions& options, EventHandler& handler,
                        CorruptionReporter& reporter, DecoderStats* stats);

// Receives each record as an Event plus its rendered text (dump). With JSON
// the record's data is written straight into the text while it is decoded,
// so the Event comes without `data`; with XML it has it.
class RecordTextHandler {
 public:
  virtual ~RecordTextHandler() = default;
  // Both arguments are valid only during the call.
  virtual void OnRecordText(const Event& event, std::string_view text) = 0;
  // JSON lines (dump --format jsonl) may come a chunk at a time instead:
  // when this says yes, OnRecordLines gets `records` records, each followed
  // by a newline, in place of one OnRecordText call per record (a call, a
  // copy and a newline per record were a visible share of dump).
  virtual bool WantsRecordLines() const { return false; }
  virtual void OnRecordLines(size_t /*records*/, std::string_view /*lines*/) {}
};

// The XML form of the above (dump --format xml, the fuzzer).
class RecordXmlHandler : public RecordTextHandler {
 public:
  virtual void OnRecordXml(const Event& event, std::string_view xml) = 0;
  void OnRecordText(const Event& event, std::string_view text) final { OnRecordXml(event, text); }
};

enum class RecordFormat : uint8_t {
  kXml,   // as evtx_dump prints a record (docs/dump-format.md)
  kJson,  // AppendEventJson's object
};

// As DecodeEvtxBuffer, rendering every record as `format` too, on the
// decoding threads.
Status DecodeEvtxBufferText(std::span<const uint8_t> bytes, const std::string& name,
                            const DecoderOptions& options, RecordFormat format,
                            RecordTextHandler& handler, CorruptionReporter& reporter,
                            DecoderStats* stats);

// DecodeEvtxBufferText with RecordFormat::kXml.
Status DecodeEvtxBufferXml(std::span<const uint8_t> bytes, const std::string& name,
                           const DecoderOptions& options, RecordXmlHandler& handler,
                           CorruptionReporter& reporter, DecoderStats* stats);

// Reads `path` a chunk at a time and decodes it as DecodeEvtxBufferText
// does: memory stays bounded whatever the file size. A file that shrinks
// while read stops with an I/O error naming it (records before are kept).
Status DecodeEvtxFileText(const std::string& path, const std::string& name,
                          const DecoderOptions& options, RecordFormat format,
                          RecordTextHandler& handler, CorruptionReporter& reporter,
                          DecoderStats* stats);

// Number of whole 64 KiB chunks in an image of `file_size` bytes. Taken from
// the size, not from the header's 16-bit count, which dirty files and files
// with more than 65535 chunks get wrong.
inline uint64_t ChunkCountForSize(uint64_t file_size) {
  return file_size <= kFileHeaderSize ? 0 : (file_size - kFileHeaderSize) / kChunkSize;
}

// The bytes of chunk `index` of an image (empty if past the end).
inline std::span<const uint8_t> ChunkBytes(std::span<const uint8_t> image, uint64_t index) {
  const uint64_t offset = kFileHeaderSize + index * kChunkSize;
  if (offset + kChunkSize > image.size()) return {};
  return image.subspan(offset, kChunkSize);
}

// Where a decode reads chunks from: an image in memory, a file mapped
// read-only (both viewed in place), or an open file read with pread into the
// caller's buffers when it cannot be mapped. The mapping is guarded
// (src/core/mapped_file.h): a file truncated while read reads zeros instead
// of raising SIGBUS, and CheckRange turns that into the same error a short
// pread gives, naming the file and offset, so the other inputs go on.
// Read() may be called from several threads at once.
class ChunkReader {
 public:
  // `image` must outlive the reader.
  explicit ChunkReader(std::span<const uint8_t> image) : image_(image), size_(image.size()) {}
  // `fd` stays open, `map` (null: read with pread) and `name` alive for the
  // reader's life; `size` is the file size when decoding starts (what a
  // growing file adds later is not read).
  ChunkReader(int fd, const MappedFile* map, uint64_t size, std::string_view name)
      : image_(map != nullptr ? map->bytes() : std::span<const uint8_t>()),
        fd_(fd),
        map_(map),
        size_(size),
        name_(name) {}

  uint64_t size() const { return size_; }
  // Whether the input is a file (mapped or not) rather than an image.
  bool file() const { return fd_ >= 0; }
  // Whether Read copies (a file read with pread) rather than viewing.
  bool copies() const { return fd_ >= 0 && map_ == nullptr; }
  // The `length` bytes at `offset` (within size()): a view into the image
  // or mapping, or read into the start of `*buf` (grown if shorter, never
  // shrunk, so a reused buffer is not zero-filled again), which *out then
  // views.
  Status Read(uint64_t offset, size_t length, std::vector<uint8_t>* buf,
              std::span<const uint8_t>* out) const;
  // Files read with pread only: reads the `length` bytes at `offset` into
  // `dst`.
  Status ReadInto(uint64_t offset, size_t length, uint8_t* dst) const;
  // Mapped files: whether the bytes of [offset, offset + length) decoded so
  // far were the file's (see MappedFile::CheckRange). OK for other inputs,
  // whose reads fail at once.
  Status CheckRange(uint64_t offset, uint64_t length, bool check_size) const {
    return map_ != nullptr ? map_->CheckRange(offset, length, check_size, name_) : Status::OK();
  }
  // Mapped files: the reader is done with [0, offset).
  void Release(uint64_t offset) const {
    if (map_ != nullptr) map_->Release(offset);
  }

 private:
  std::span<const uint8_t> image_;
  int fd_ = -1;
  const MappedFile* map_ = nullptr;
  uint64_t size_ = 0;
  std::string_view name_;
};

// An EVTX file open for reading (the decoder's input), mapped when it can
// be.
class EvtxFile {
  struct PrivateTag {};  // only Open() constructs: it owns the descriptor's setup

 public:
  // `map`: false reads with pread even when the file could be mapped.
  static Result<std::unique_ptr<EvtxFile>> Open(const std::string& path, bool map = true);
  EvtxFile(PrivateTag, int fd, uint64_t size, std::unique_ptr<MappedFile> map)
      : fd_(fd), size_(size), map_(std::move(map)) {}
  ~EvtxFile();
  EvtxFile(const EvtxFile&) = delete;  // owns the descriptor
  EvtxFile& operator=(const EvtxFile&) = delete;
  // `name` labels errors and must outlive the reader, as must this file.
  ChunkReader reader(std::string_view name) const {
    return ChunkReader(fd_, map_.get(), size_, name);
  }
  bool mapped() const { return map_ != nullptr; }

 private:
  int fd_;
  uint64_t size_;
  std::unique_ptr<MappedFile> map_;  // unmapped before fd_ closes
};

}  // namespace eventsift::evtx
