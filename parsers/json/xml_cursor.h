#pragma once
// A bounds-checked forward reader over XML text and entity decoding, shared
// by the <EventData>/<UserData> reader and the whole-event XML reader. Only
// what Windows writes is handled: elements, attributes, text, the five
// predefined entities and numeric references; no DTDs, no CDATA.

#include <string>
#include <string_view>

#include "src/core/arena.h"

namespace eventsift::json {

inline bool IsXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// A forward-only reader over the XML text; every read is bounds-checked.
class XmlCursor {
 public:
  explicit XmlCursor(std::string_view s) : s_(s) {}

  size_t pos() const { return pos_; }
  bool done() const { return pos_ >= s_.size(); }
  void SkipSpace() {
    while (pos_ < s_.size() && IsXmlSpace(s_[pos_])) ++pos_;
  }
  bool StartsWith(std::string_view t) const { return s_.substr(pos_).starts_with(t); }
  void Advance(size_t n) { pos_ = n > s_.size() - pos_ ? s_.size() : pos_ + n; }
  // Skips past the next occurrence of `t`; false when there is none.
  bool SkipPast(std::string_view t) {
    size_t at = s_.find(t, pos_);
    if (at == std::string_view::npos) return false;
    pos_ = at + t.size();
    return true;
  }
  // A name: up to whitespace, '/', '>' or '='.
  std::string_view Name() {
    size_t start = pos_;
    while (pos_ < s_.size() && !IsXmlSpace(s_[pos_]) && s_[pos_] != '/' && s_[pos_] != '>' &&
           s_[pos_] != '=') {
      ++pos_;
    }
    return s_.substr(start, pos_ - start);
  }
  // Text up to the next '<' (or the end).
  std::string_view Text() {
    size_t start = pos_;
    size_t at = s_.find('<', pos_);
    pos_ = at == std::string_view::npos ? s_.size() : at;
    return s_.substr(start, pos_ - start);
  }
  // The text up to the next `ch`, which is skipped; false when there is none.
  bool Until(char ch, std::string_view* text) {
    size_t at = s_.find(ch, pos_);
    if (at == std::string_view::npos) return false;
    *text = s_.substr(pos_, at - pos_);
    pos_ = at + 1;
    return true;
  }
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// Skips `<?...?>`, comments and whitespace before or between elements.
inline void XmlSkipMisc(XmlCursor* c) {
  for (;;) {
    c->SkipSpace();
    if (c->StartsWith("<?")) {
      if (!c->SkipPast("?>")) return;
    } else if (c->StartsWith("<!--")) {
      if (!c->SkipPast("-->")) return;
    } else {
      return;
    }
  }
}

// Decodes the five predefined entities and numeric references. An unknown
// or unterminated reference is kept as written rather than failing the event.
// Returns `text` itself when it holds no '&', else a copy in `arena`.
std::string_view XmlUnescape(std::string_view text, Arena* arena, std::string* scratch);

// Where a start tag's attributes went wrong: `what` is nullptr when they
// were read.
struct XmlError {
  const char* what = nullptr;
  size_t offset = 0;
};

// Reads the attributes of a start tag (the cursor just past its name) up to
// '>' or '/>', calling on_attr(name, decoded value) for each; *empty is set
// for a self-closing tag.
template <typename OnAttr>
XmlError XmlReadAttributes(XmlCursor* c, bool* empty, Arena* arena, std::string* scratch,
                           OnAttr&& on_attr) {
  for (;;) {
    c->SkipSpace();
    if (c->done()) return {"start tag not closed", c->pos()};
    if (c->StartsWith("/>")) {
      c->Advance(2);
      *empty = true;
      return {};
    }
    if (c->Peek() == '>') {
      c->Advance(1);
      *empty = false;
      return {};
    }
    size_t at = c->pos();
    std::string_view attr = c->Name();
    c->SkipSpace();
    if (attr.empty() || c->Peek() != '=') return {"bad attribute", at};
    c->Advance(1);
    c->SkipSpace();
    const char quote = c->Peek();
    if (quote != '"' && quote != '\'') return {"attribute value not quoted", c->pos()};
    c->Advance(1);
    std::string_view value;
    if (!c->Until(quote, &value)) return {"attribute value not closed", at};
    on_attr(attr, XmlUnescape(value, arena, scratch));
  }
}

}  // namespace eventsift::json
