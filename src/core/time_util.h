#pragma once
// Event time is kept as a Windows FILETIME: 100 ns ticks since 1601-01-01 UTC,
// the precision EVTX stores. Text forms are RFC 3339 UTC.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eventsift {

using FileTime = int64_t;  // 100 ns ticks since 1601-01-01T00:00:00Z

inline constexpr int64_t kFileTimeUnixEpoch = 116444736000000000LL;  // 1970 in ticks
inline constexpr int64_t kTicksPerSecond = 10000000LL;

inline constexpr FileTime FileTimeFromUnixMillis(int64_t ms) {
  return ms * 10000 + kFileTimeUnixEpoch;
}
inline constexpr int64_t UnixMillisFromFileTime(FileTime t) {
  return (t - kFileTimeUnixEpoch) / 10000;
}

// "2023-03-14T13:54:25.1166916Z" (7 fractional digits, as evtx_dump and Event
// Viewer print). `digits` may be 0, 3, 6 or 7.
std::string FormatRfc3339(FileTime t, int digits = 7);
// Appends to `out` without a temporary (hot path of JSON rendering).
void AppendRfc3339(std::string* out, FileTime t, int digits = 7);
// Writes the same text at `buf` (room: kRfc3339MaxSize bytes); returns its end.
inline constexpr size_t kRfc3339MaxSize = 32;
char* WriteRfc3339(char* buf, FileTime t, int digits = 7);

// Parses the time forms found in JSON exports:
//   2024-03-14T13:54:25.1166916Z, 2024-03-14T13:54:25+02:00,
//   2017-12-19 17:45:02 (no zone: taken as UTC), /Date(1595374458918)/,
//   \/Date(1595374458918)\/ and /Date(1595374458918+0200)/.
std::optional<FileTime> ParseEventTime(std::string_view text);

// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

}  // namespace eventsift
