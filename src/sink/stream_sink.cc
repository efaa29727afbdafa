#include "src/sink/stream_sink.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace eventsift {

Result<std::unique_ptr<StreamSink>> StreamSink::Open(const std::string& path, bool append) {
  if (path == "-") return std::unique_ptr<StreamSink>(new StreamSink(stdout, nullptr, path));
  UniqueFile f = append ? OpenFileAppendLines(path) : OpenFile(path, "wb");
  if (f == nullptr) {
    return Status::IOError(fmt::format("cannot open for writing: {}", std::strerror(errno)))
        .At(path);
  }
  std::FILE* out = f.get();
  return std::unique_ptr<StreamSink>(new StreamSink(out, std::move(f), path));
}

StreamSink::~StreamSink() = default;

Status StreamSink::Send(const Alert& alert, std::string_view json) {
  stats_.received.Add();
  if (!failed_.ok()) {
    stats_.failed.Add();
    return failed_;
  }
  if (std::fwrite(json.data(), 1, json.size(), file_) != json.size() ||
      std::fputc('\n', file_) == EOF) {
    stats_.failed.Add();
    failed_ = Status::IOError(fmt::format("write failed: {}", std::strerror(errno))).At(path_);
    return failed_;
  }
  stats_.delivered.Add();
  return Status::OK();
}

Status StreamSink::Flush(std::chrono::milliseconds) {
  if (!failed_.ok()) return failed_;
  // A buffered write fails only here (a full disk): the alerts in the buffer
  // are gone, so the stream stays failed.
  if (std::fflush(file_) != 0 || std::ferror(file_) != 0) {
    failed_ = Status::IOError(fmt::format("flush failed: {}", std::strerror(errno))).At(path_);
    return failed_;
  }
  return Status::OK();
}

}  // namespace eventsift
