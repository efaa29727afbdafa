#pragma once
// Status: the result of an operation that can fail, LevelDB style.
// OK is a null pointer, so returning and testing OK costs nothing on hot
// paths; an error carries a code, a message and where in the input it was
// found (file and byte offset, or file and line).

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

namespace eventsift {

enum class StatusCode : uint8_t {
  kOk = 0,
  kNotFound,
  kCorruption,         // input bytes violate the format
  kTruncated,          // input ended before a field was complete
  kInvalidArgument,    // caller or configuration error (bad rule, bad flag)
  kIOError,            // the OS refused a read/write
  kUnsupported,        // valid input we do not handle
  kResourceExhausted,  // a bound was hit (depth, memory, spool size)
  kUnavailable,        // a peer (broker) could not be reached
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

// Where an error was found. Offsets and lines are optional.
struct Where {
  static constexpr uint64_t kNone = std::numeric_limits<uint64_t>::max();
  std::string file;
  uint64_t offset = kNone;  // byte offset in the (decompressed) input
  uint64_t line = 0;        // 1-based line number, 0 when not line-oriented

  std::string ToString() const;  // "file:line", "file@0x1a2b" or "file"
};

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;
  Status(const Status& other) : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}
  Status& operator=(const Status& other) {
    if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return Status(StatusCode::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) {
    return Status(StatusCode::kCorruption, std::move(msg));
  }
  static Status Truncated(std::string msg) {
    return Status(StatusCode::kTruncated, std::move(msg));
  }
  static Status InvalidArgument(std::string msg) {
    return Status(StatusCode::kInvalidArgument, std::move(msg));
  }
  static Status IOError(std::string msg) { return Status(StatusCode::kIOError, std::move(msg)); }
  static Status Unsupported(std::string msg) {
    return Status(StatusCode::kUnsupported, std::move(msg));
  }
  static Status ResourceExhausted(std::string msg) {
    return Status(StatusCode::kResourceExhausted, std::move(msg));
  }
  static Status Unavailable(std::string msg) {
    return Status(StatusCode::kUnavailable, std::move(msg));
  }
  static Status Internal(std::string msg) { return Status(StatusCode::kInternal, std::move(msg)); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  std::string_view message() const {
    return rep_ ? std::string_view(rep_->message) : std::string_view();
  }
  const Where* where() const { return rep_ && rep_->has_where ? &rep_->where : nullptr; }

  // Attach or refine the location; returns *this for chaining at return sites.
  Status& At(std::string file, uint64_t offset = Where::kNone, uint64_t line = 0) &;
  Status&& At(std::string file, uint64_t offset = Where::kNone, uint64_t line = 0) &&;
  Status& AtOffset(uint64_t offset) &;
  Status&& AtOffset(uint64_t offset) &&;

  // "corruption: file@0x200: bad chunk signature"
  std::string ToString() const;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
    bool has_where = false;
    Where where;
  };
  Status(StatusCode code, std::string msg)
      : rep_(std::make_unique<Rep>(Rep{code, std::move(msg), false, Where{}})) {}
  std::unique_ptr<Rep> rep_;
};

// Propagate a non-OK Status to the caller.
#define ES_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::eventsift::Status es_status_ = (expr); \
    if (!es_status_.ok()) return es_status_; \
  } while (0)

}  // namespace eventsift
