#include "src/core/status.h"

#include <fmt/format.h>

namespace eventsift {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kNotFound:
      return "not found";
    case StatusCode::kCorruption:
      return "corruption";
    case StatusCode::kTruncated:
      return "truncated";
    case StatusCode::kInvalidArgument:
      return "invalid argument";
    case StatusCode::kIOError:
      return "io error";
    case StatusCode::kUnsupported:
      return "unsupported";
    case StatusCode::kResourceExhausted:
      return "resource exhausted";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string Where::ToString() const {
  if (line != 0) return fmt::format("{}:{}", file, line);
  if (offset != kNone) return fmt::format("{}@0x{:x}", file, offset);
  return file;
}

Status& Status::At(std::string file, uint64_t offset, uint64_t line) & {
  if (rep_) {
    rep_->has_where = true;
    rep_->where.file = std::move(file);
    if (offset != Where::kNone) rep_->where.offset = offset;
    if (line != 0) rep_->where.line = line;
  }
  return *this;
}
Status&& Status::At(std::string file, uint64_t offset, uint64_t line) && {
  At(std::move(file), offset, line);
  return std::move(*this);
}
Status& Status::AtOffset(uint64_t offset) & {
  if (rep_) {
    rep_->has_where = true;
    rep_->where.offset = offset;
  }
  return *this;
}
Status&& Status::AtOffset(uint64_t offset) && {
  AtOffset(offset);
  return std::move(*this);
}

std::string Status::ToString() const {
  if (!rep_) return "ok";
  if (rep_->has_where) {
    return fmt::format("{}: {}: {}", StatusCodeName(rep_->code), rep_->where.ToString(),
                       rep_->message);
  }
  return fmt::format("{}: {}", StatusCodeName(rep_->code), rep_->message);
}

}  // namespace eventsift
