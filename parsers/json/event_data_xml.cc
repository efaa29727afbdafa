#include "parsers/json/event_data_xml.h"

#include <cstdint>

#include <fmt/format.h>

namespace eventsift::json {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// A forward-only reader over the XML text; every read is bounds-checked.
class XmlCursor {
 public:
  explicit XmlCursor(std::string_view s) : s_(s) {}

  size_t pos() const { return pos_; }
  bool done() const { return pos_ >= s_.size(); }
  void SkipSpace() {
    while (pos_ < s_.size() && IsSpace(s_[pos_])) ++pos_;
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
    while (pos_ < s_.size() && !IsSpace(s_[pos_]) && s_[pos_] != '/' && s_[pos_] != '>' &&
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

// Decodes the five predefined entities and numeric references. An unknown
// or unterminated reference is kept as written rather than failing the event.
std::string_view Unescape(std::string_view text, Arena* arena, std::string* scratch) {
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

Status Malformed(std::string_view what, size_t offset) {
  return Status::Corruption(
      fmt::format("EventData XML: {} at byte {} of the string", what, offset));
}

// Skips `<?...?>` and comments before or between elements.
void SkipMisc(XmlCursor* c) {
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

// Reads the attributes of a start tag up to '>' or '/>'; *name_attr gets the
// decoded value of Name="...". *empty is true for a self-closing tag.
Status ReadAttributes(XmlCursor* c, std::string_view* name_attr, bool* empty, Arena* arena,
                      std::string* scratch) {
  for (;;) {
    c->SkipSpace();
    if (c->done()) return Malformed("start tag not closed", c->pos());
    if (c->StartsWith("/>")) {
      c->Advance(2);
      *empty = true;
      return Status::OK();
    }
    if (c->Peek() == '>') {
      c->Advance(1);
      *empty = false;
      return Status::OK();
    }
    size_t at = c->pos();
    std::string_view attr = c->Name();
    c->SkipSpace();
    if (attr.empty() || c->Peek() != '=') return Malformed("bad attribute", at);
    c->Advance(1);
    c->SkipSpace();
    const char quote = c->Peek();
    if (quote != '"' && quote != '\'') return Malformed("attribute value not quoted", c->pos());
    c->Advance(1);
    std::string_view value;
    if (!c->Until(quote, &value)) return Malformed("attribute value not closed", at);
    if (attr == "Name") *name_attr = Unescape(value, arena, scratch);
  }
}

// Reads one element whose start tag's '<' is at the cursor: its name, Name
// attribute and text content (child elements are not expected inside a
// value; one found is an error). The cursor ends past the end tag.
Status ReadLeaf(XmlCursor* c, std::string_view* element, std::string_view* name_attr,
                std::string_view* text, Arena* arena, std::string* scratch) {
  c->Advance(1);  // '<'
  size_t at = c->pos();
  *element = c->Name();
  if (element->empty()) return Malformed("element without a name", at);
  *name_attr = {};
  bool empty = false;
  ES_RETURN_IF_ERROR(ReadAttributes(c, name_attr, &empty, arena, scratch));
  *text = {};
  if (empty) return Status::OK();
  size_t text_at = c->pos();
  std::string_view raw = c->Text();
  if (!c->StartsWith("</")) {
    return Malformed(c->done() ? "element not closed" : "nested element inside a value", text_at);
  }
  c->Advance(2);
  size_t end_at = c->pos();
  if (c->Name() != *element) return Malformed("end tag does not match", end_at);
  c->SkipSpace();
  if (c->Peek() != '>') return Malformed("end tag not closed", c->pos());
  c->Advance(1);
  *text = Unescape(raw, arena, scratch);
  return Status::OK();
}

// Reads leaf children until the end tag of their parent, which is consumed.
// `data_only` (EventData): each child is a <Data>, named by its Name
// attribute or unnamed; otherwise (UserData's element) named by its tag.
Status ReadChildren(XmlCursor* c, bool data_only, Arena* arena, std::string* scratch,
                    std::vector<DataField>* out) {
  for (;;) {
    SkipMisc(c);
    if (c->done()) return Malformed("element not closed", c->pos());
    if (c->StartsWith("</")) {
      if (!c->SkipPast(">")) return Malformed("end tag not closed", c->pos());
      return Status::OK();
    }
    if (c->Peek() != '<') return Malformed("text between elements", c->pos());
    size_t at = c->pos();
    std::string_view element, name_attr, text;
    ES_RETURN_IF_ERROR(ReadLeaf(c, &element, &name_attr, &text, arena, scratch));
    if (data_only) {
      if (element != "Data" && element != "Binary") return Malformed("not a <Data> element", at);
      if (element == "Binary") continue;  // raw bytes beside the insertion strings
      out->push_back(DataField{name_attr, text});
    } else {
      out->push_back(DataField{element, text});
    }
  }
}

}  // namespace

Status ParseEventDataXml(std::string_view xml, Arena* arena, std::vector<DataField>* out) {
  XmlCursor c(xml);
  std::string scratch;
  SkipMisc(&c);
  if (c.Peek() != '<') return Malformed("expected <EventData> or <UserData>", c.pos());
  c.Advance(1);
  size_t at = c.pos();
  std::string_view root = c.Name();
  const bool event_data = root == "EventData";
  if (!event_data && root != "UserData") {
    return Malformed("expected <EventData> or <UserData>", at);
  }
  std::string_view ignored;
  bool empty = false;
  ES_RETURN_IF_ERROR(ReadAttributes(&c, &ignored, &empty, arena, &scratch));
  if (empty) return Status::OK();
  if (event_data) {
    ES_RETURN_IF_ERROR(ReadChildren(&c, true, arena, &scratch, out));
  } else {
    // UserData holds one element whose children are the fields.
    SkipMisc(&c);
    if (c.StartsWith("</")) return Status::OK();
    if (c.Peek() != '<') return Malformed("expected an element inside <UserData>", c.pos());
    c.Advance(1);
    c.Name();
    ES_RETURN_IF_ERROR(ReadAttributes(&c, &ignored, &empty, arena, &scratch));
    if (!empty) ES_RETURN_IF_ERROR(ReadChildren(&c, false, arena, &scratch, out));
    SkipMisc(&c);
    if (!c.StartsWith("</")) return Malformed("<UserData> not closed", c.pos());
    c.SkipPast(">");
  }
  SkipMisc(&c);
  if (!c.done()) return Malformed("content after the root element", c.pos());
  return Status::OK();
}

}  // namespace eventsift::json
