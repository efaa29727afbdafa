#include "src/source/syslog_framer.h"

#include <algorithm>

namespace eventsift::source {

namespace {

// Takes one space-delimited header field off the front of *s.
bool Field(std::string_view* s) {
  size_t sp = s->find(' ');
  if (sp == 0 || sp == std::string_view::npos) return false;
  s->remove_prefix(sp + 1);
  return true;
}

// STRUCTURED-DATA: "-" or one or more [id param="value"...] elements, where
// a value may hold \" \] \\ escapes. Leaves *s after it.
bool SkipStructuredData(std::string_view* s) {
  if (s->starts_with('-')) {
    s->remove_prefix(1);
    return true;
  }
  if (!s->starts_with('[')) return false;
  while (s->starts_with('[')) {
    bool quoted = false;
    size_t i = 1;
    for (; i < s->size(); ++i) {
      char ch = (*s)[i];
      if (quoted && ch == '\\') {
        ++i;  // the escaped character
      } else if (ch == '"') {
        quoted = !quoted;
      } else if (ch == ']' && !quoted) {
        break;
      }
    }
    if (i >= s->size()) return false;
    s->remove_prefix(i + 1);
  }
  return true;
}

std::string_view DropBom(std::string_view s) {
  if (s.starts_with("\xEF\xBB\xBF")) s.remove_prefix(3);
  return s;
}

}  // namespace

SyslogMessage ParseSyslogMessage(std::string_view frame) {
  if (!frame.starts_with('<')) return {{}, "no <PRI> at the start of the message"};
  size_t close = frame.find('>');
  if (close == std::string_view::npos || close < 2 || close > 4) return {{}, "bad <PRI>"};
  int pri = 0;
  for (size_t i = 1; i < close; ++i) {
    char ch = frame[i];
    if (ch < '0' || ch > '9') return {{}, "bad <PRI>"};
    pri = pri * 10 + (ch - '0');
  }
  if (pri > 191) return {{}, "bad <PRI>"};
  std::string_view s = frame.substr(close + 1);
  if (s.starts_with("1 ")) {
    // RFC 5424: VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP
    // MSGID SP STRUCTURED-DATA [SP MSG]
    s.remove_prefix(2);
    for (int i = 0; i < 5; ++i) {
      if (!Field(&s)) return {{}, "RFC 5424 header cut short"};
    }
    if (!SkipStructuredData(&s)) return {{}, "bad RFC 5424 structured data"};
    if (s.empty()) return {{}, {}};
    if (s.front() != ' ') return {{}, "no space after RFC 5424 structured data"};
    s.remove_prefix(1);
    return {DropBom(s), {}};
  }
  // RFC 3164: TIMESTAMP HOSTNAME TAG: MSG, loosely written by every sender.
  size_t json = s.find('{');
  size_t xml = s.find("<Event");
  size_t at = std::min(json, xml);
  if (at == std::string_view::npos) return {DropBom(s), {}};
  return {s.substr(at), {}};
}

}  // namespace eventsift::source
