#pragma once
// LineFramer: splits a byte stream into complete lines with a bound on line
// length. A line longer than the bound is dropped (counted) up to its
// newline instead of being buffered: one runaway sender cannot grow memory.
// Memory held is at most max_line_bytes per framer.

#include <cstdint>
#include <string>
#include <string_view>

namespace eventsift::source {

class LineFramer {
 public:
  explicit LineFramer(size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  // Feeds bytes; calls on_line(std::string_view line, uint64_t line_no) for
  // each complete, non-empty line ("\r\n" and "\n" endings are stripped).
  template <typename OnLine>
  void Feed(std::string_view bytes, OnLine&& on_line);
  // End of input: a final line without a newline is delivered too.
  template <typename OnLine>
  void Finish(OnLine&& on_line);

  // Bytes held for an incomplete line (not yet delivered).
  size_t pending_bytes() const { return pending_.size(); }
  bool skipping() const { return skipping_; }
  uint64_t line_no() const { return line_no_; }
  uint64_t dropped() const { return dropped_; }
  // Resume numbering after a checkpoint.
  void set_line_no(uint64_t n) { line_no_ = n; }
  void Reset() {
    pending_.clear();
    skipping_ = false;
    line_no_ = 0;
  }

 private:
  template <typename OnLine>
  void Emit(std::string_view line, OnLine& on_line) {
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) on_line(line, line_no_);
  }

  size_t max_line_bytes_;
  std::string pending_;
  bool skipping_ = false;  // inside an over-long line: discard to its newline
  uint64_t line_no_ = 0;
  uint64_t dropped_ = 0;
};

template <typename OnLine>
void LineFramer::Feed(std::string_view bytes, OnLine&& on_line) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      if (skipping_) return;
      if (pending_.size() + bytes.size() > max_line_bytes_) {
        pending_.clear();
        skipping_ = true;
        ++dropped_;
        return;
      }
      pending_.append(bytes);
      return;
    }
    std::string_view head = bytes.substr(0, nl);
    bytes.remove_prefix(nl + 1);
    if (skipping_) {
      skipping_ = false;
      ++line_no_;  // the dropped line still had a number
      continue;
    }
    if (pending_.size() + head.size() > max_line_bytes_) {
      pending_.clear();
      ++dropped_;
      ++line_no_;
      continue;
    }
    if (pending_.empty()) {
      Emit(head, on_line);
    } else {
      pending_.append(head);
      std::string line = std::move(pending_);
      pending_.clear();
      Emit(line, on_line);
    }
  }
}

template <typename OnLine>
void LineFramer::Finish(OnLine&& on_line) {
  if (!skipping_ && !pending_.empty()) {
    std::string line = std::move(pending_);
    pending_.clear();
    Emit(line, on_line);
  }
  skipping_ = false;
}

}  // namespace eventsift::source
