#include "parsers/json/xml_cursor.h"

#include <cstdint>

namespace eventsift::json {

namespace {

// Appends the UTF-8 encoding of code point cp.
void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

std::string_view XmlUnescape(std::string_view text, Arena* arena, std::string* scratch) {
  if (text.find('&') == std::string_view::npos) return text;
  scratch->clear();
  for (size_t i = 0; i < text.size();) {
    if (text[i] != '&') {
      scratch->push_back(text[i++]);
      continue;
    }
    size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) {
      scratch->push_back(text[i++]);
      continue;
    }
    std::string_view ref = text.substr(i + 1, semi - i - 1);
    if (ref == "lt") {
      scratch->push_back('<');
    } else if (ref == "gt") {
      scratch->push_back('>');
    } else if (ref == "amp") {
      scratch->push_back('&');
    } else if (ref == "quot") {
      scratch->push_back('"');
    } else if (ref == "apos") {
      scratch->push_back('\'');
    } else if (ref.size() >= 2 && ref[0] == '#') {
      bool hex = ref[1] == 'x' || ref[1] == 'X';
      std::string_view digits = ref.substr(hex ? 2 : 1);
      uint32_t cp = 0;
      bool ok = !digits.empty();
      for (char c : digits) {
        uint32_t d;
        if (c >= '0' && c <= '9') {
          d = static_cast<uint32_t>(c - '0');
        } else if (hex && c >= 'a' && c <= 'f') {
          d = static_cast<uint32_t>(c - 'a' + 10);
        } else if (hex && c >= 'A' && c <= 'F') {
          d = static_cast<uint32_t>(c - 'A' + 10);
        } else {
          ok = false;
          break;
        }
        cp = cp * (hex ? 16 : 10) + d;
        if (cp > 0x10FFFF) ok = false;
      }
      if (!ok) {
        scratch->push_back(text[i++]);
        continue;
      }
      AppendUtf8(cp, scratch);
    } else {
      scratch->push_back(text[i++]);
      continue;
    }
    i = semi + 1;
  }
  return arena->Copy(*scratch);
}

}  // namespace eventsift::json
