#pragma once
// SyslogFramer: splits a syslog TCP stream into messages (RFC 6587) and
// takes the MSG part out of each (RFC 5424, with RFC 3164 accepted too).
// Both framings are told per message by its first byte, as receivers do:
//   * octet counting: "<length> <message>" (a digit starts it);
//   * non-transparent: "<message>\n" (a '<' starts it).
// Bounded: a message longer than max_frame_bytes is skipped (its announced
// length, or up to the next LF) without being buffered; a stream that is
// neither framing is an error and reading resumes after the next LF. Memory
// held is at most max_frame_bytes per connection.
//
// The MSG (after PRI, header and structured data; a UTF-8 BOM dropped) is
// what a Windows event forwarder puts the event in: JSON (NXLog to_json())
// or the event XML. RFC 3164 messages have no fixed header: their MSG is
// taken from the first '{' or "<Event" after the PRI.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace eventsift::source {

// The MSG of one syslog message, or an error text when the message has no
// valid PRI / RFC 5424 header.
struct SyslogMessage {
  std::string_view msg;
  std::string_view error;  // empty when msg is valid
};
SyslogMessage ParseSyslogMessage(std::string_view frame);

class SyslogFramer {
 public:
  explicit SyslogFramer(size_t max_frame_bytes) : max_(max_frame_bytes) {}

  // Calls on_frame(std::string_view frame, uint64_t frame_no) per complete
  // message and on_error(std::string what, uint64_t stream_offset) per
  // framing error.
  template <typename OnFrame, typename OnError>
  void Feed(std::string_view bytes, OnFrame&& on_frame, OnError&& on_error);
  // End of stream: a last non-transparent message without its LF is still a
  // message; a cut octet-counted one is an error.
  template <typename OnFrame, typename OnError>
  void Finish(OnFrame&& on_frame, OnError&& on_error);

  uint64_t frames() const { return frames_; }
  uint64_t offset() const { return offset_; }

 private:
  enum class State : uint8_t { kStart, kLength, kOctets, kLine, kSkipOctets, kSkipLine };
  static constexpr int kMaxLengthDigits = 10;

  size_t max_;
  State state_ = State::kStart;
  std::string buf_;
  uint64_t want_ = 0;    // kOctets / kSkipOctets: bytes still to take
  int digits_ = 0;       // kLength
  uint64_t offset_ = 0;  // bytes of the stream consumed
  uint64_t frame_start_ = 0;
  uint64_t frames_ = 0;
};

template <typename OnFrame, typename OnError>
void SyslogFramer::Feed(std::string_view bytes, OnFrame&& on_frame, OnError&& on_error) {
  while (!bytes.empty()) {
    switch (state_) {
      case State::kStart: {
        char ch = bytes.front();
        if (ch == '\n' || ch == '\r' || ch == ' ') {  // stray separators between frames
          bytes.remove_prefix(1);
          ++offset_;
          continue;
        }
        frame_start_ = offset_;
        buf_.clear();
        if (ch >= '1' && ch <= '9') {
          state_ = State::kLength;
          want_ = 0;
          digits_ = 0;
        } else if (ch == '<') {
          state_ = State::kLine;
        } else {
          on_error("expected a frame length or '<' (neither octet-counted nor LF-framed syslog)",
                   offset_);
          state_ = State::kSkipLine;
        }
        continue;
      }
      case State::kLength: {
        char ch = bytes.front();
        bytes.remove_prefix(1);
        ++offset_;
        if (ch >= '0' && ch <= '9' && digits_ < kMaxLengthDigits) {
          want_ = want_ * 10 + static_cast<uint64_t>(ch - '0');
          ++digits_;
        } else if (ch == ' ') {
          ++frames_;
          if (want_ > max_) {
            on_error("frame of " + std::to_string(want_) + " bytes is over max_line_bytes (" +
                         std::to_string(max_) + "), skipped",
                     frame_start_);
            state_ = State::kSkipOctets;
          } else {
            state_ = State::kOctets;
          }
        } else {
          on_error("bad frame length", frame_start_);
          state_ = ch == '\n' ? State::kStart : State::kSkipLine;
        }
        continue;
      }
      case State::kOctets: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(want_, bytes.size()));
        buf_.append(bytes.substr(0, take));
        bytes.remove_prefix(take);
        offset_ += take;
        want_ -= take;
        if (want_ == 0) {
          on_frame(std::string_view(buf_), frames_);
          state_ = State::kStart;
        }
        continue;
      }
      case State::kSkipOctets: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(want_, bytes.size()));
        bytes.remove_prefix(take);
        offset_ += take;
        want_ -= take;
        if (want_ == 0) state_ = State::kStart;
        continue;
      }
      case State::kLine:
      case State::kSkipLine: {
        size_t nl = bytes.find('\n');
        size_t take = nl == std::string_view::npos ? bytes.size() : nl;
        if (state_ == State::kLine) {
          if (buf_.size() + take > max_) {
            ++frames_;
            on_error("message over max_line_bytes (" + std::to_string(max_) +
                         ") without a line feed, skipped",
                     frame_start_);
            buf_.clear();
            state_ = State::kSkipLine;
          } else {
            buf_.append(bytes.substr(0, take));
          }
        }
        bytes.remove_prefix(take);
        offset_ += take;
        if (nl == std::string_view::npos) continue;
        bytes.remove_prefix(1);
        ++offset_;
        if (state_ == State::kLine) {
          ++frames_;
          std::string_view frame(buf_);
          if (!frame.empty() && frame.back() == '\r') frame.remove_suffix(1);
          on_frame(frame, frames_);
        }
        state_ = State::kStart;
        continue;
      }
    }
  }
}

template <typename OnFrame, typename OnError>
void SyslogFramer::Finish(OnFrame&& on_frame, OnError&& on_error) {
  if (state_ == State::kLine && !buf_.empty()) {
    ++frames_;
    on_frame(std::string_view(buf_), frames_);
  } else if (state_ == State::kOctets || state_ == State::kLength) {
    on_error("connection closed inside a frame", frame_start_);
  }
  state_ = State::kStart;
  buf_.clear();
}

}  // namespace eventsift::source
