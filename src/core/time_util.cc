#include "src/core/time_util.h"

#include <charconv>
#include <climits>
#include <cstring>

#include "src/core/decimal.h"

namespace eventsift {

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

namespace {

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

// Writes exactly `width` decimal digits of `v` (high digits dropped) at `p`.
char* PutDigits(char* p, uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

bool ParseUInt(std::string_view s, size_t pos, size_t len, int64_t* out) {
  if (pos + len > s.size()) return false;
  int64_t v = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

std::optional<FileTime> ParseMsDate(std::string_view s) {
  // "/Date(1595374458918)/", optionally with a +hhmm offset that .NET adds for
  // local DateTime kinds; the millisecond count is UTC either way.
  size_t open = s.find('(');
  if (open == std::string_view::npos) return std::nullopt;
  size_t pos = open + 1;
  bool neg = pos < s.size() && s[pos] == '-';
  if (neg) ++pos;
  int64_t ms = 0;
  auto [p, ec] = std::from_chars(s.data() + pos, s.data() + s.size(), ms);
  if (ec != std::errc() || p == s.data() + pos) return std::nullopt;
  return FileTimeFromUnixMillis(neg ? -ms : ms);
}

}  // namespace

void AppendRfc3339(std::string* out, FileTime t, int digits) {
  char buf[kRfc3339MaxSize];
  out->append(buf, static_cast<size_t>(WriteRfc3339(buf, t, digits) - buf));
}

char* WriteRfc3339(char* buf, FileTime t, int digits) {
  int64_t secs = t / kTicksPerSecond;
  int64_t frac = t % kTicksPerSecond;
  if (frac < 0) {
    frac += kTicksPerSecond;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // Events come in time order, so most share the previous one's day: its
  // "YYYY-MM-DDT" is kept per thread instead of the civil-date arithmetic
  // (this runs for every event of `dump --format jsonl`).
  thread_local int64_t last_days = INT64_MIN;
  thread_local char date[11];
  if (days != last_days) {
    // FILETIME day 0 is 1601-01-01, which is 134774 days before 1970-01-01.
    int64_t y;
    unsigned m, d;
    CivilFromDays(days - 134774, &y, &m, &d);
    char* q = PutDigits(date, static_cast<uint64_t>(y < 0 ? 0 : y), 4);
    *q++ = '-';
    q = WriteTwoDigits(q, m);
    *q++ = '-';
    q = WriteTwoDigits(q, d);
    *q = 'T';
    last_days = days;
  }
  std::memcpy(buf, date, sizeof(date));
  char* p = buf + sizeof(date);
  p = WriteTwoDigits(p, static_cast<uint64_t>(rem / 3600));
  *p++ = ':';
  p = WriteTwoDigits(p, static_cast<uint64_t>(rem / 60 % 60));
  *p++ = ':';
  p = WriteTwoDigits(p, static_cast<uint64_t>(rem % 60));
  if (digits == 7) {
    const auto f = static_cast<uint64_t>(frac);  // 0 .. 9999999
    *p++ = '.';
    p = WriteTwoDigits(p, f / 100000);
    p = WriteTwoDigits(p, f / 1000 % 100);
    p = WriteTwoDigits(p, f / 10 % 100);
    *p++ = static_cast<char>('0' + f % 10);
  } else if (digits > 0) {
    *p++ = '.';
    int64_t f = frac;
    for (int i = digits; i < 7; ++i) f /= 10;
    p = PutDigits(p, static_cast<uint64_t>(f), digits > 7 ? 7 : digits);
  }
  *p++ = 'Z';
  return p;
}

std::string FormatRfc3339(FileTime t, int digits) {
  std::string out;
  out.reserve(32);
  AppendRfc3339(&out, t, digits);
  return out;
}

std::optional<FileTime> ParseEventTime(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\\')) s.remove_prefix(1);
  if (s.starts_with("/Date(") || s.starts_with("Date(")) return ParseMsDate(s);
  int64_t y, mo, d, h = 0, mi = 0, sec = 0;
  if (!ParseUInt(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !ParseUInt(s, 5, 2, &mo) ||
      s[7] != '-' || !ParseUInt(s, 8, 2, &d)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  size_t pos = 10;
  int64_t frac_ticks = 0;
  int64_t offset_secs = 0;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
    if (!ParseUInt(s, pos + 1, 2, &h) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ParseUInt(s, pos + 4, 2, &mi)) {
      return std::nullopt;
    }
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!ParseUInt(s, pos + 1, 2, &sec)) return std::nullopt;
      pos += 3;
    }
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      int digits = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (digits < 7) {
          frac_ticks = frac_ticks * 10 + (s[pos] - '0');
          ++digits;
        }
        ++pos;
      }
      for (; digits < 7; ++digits) frac_ticks *= 10;
    }
    if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
      int sign = s[pos] == '-' ? -1 : 1;
      int64_t oh = 0, om = 0;
      if (!ParseUInt(s, pos + 1, 2, &oh)) return std::nullopt;
      size_t mpos = pos + 3;
      if (mpos < s.size() && s[mpos] == ':') ++mpos;
      ParseUInt(s, mpos, 2, &om);
      offset_secs = sign * (oh * 3600 + om * 60);
    }
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
  }
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t unix_secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_secs;
  return unix_secs * kTicksPerSecond + frac_ticks + kFileTimeUnixEpoch;
}

}  // namespace eventsift
