#include "parsers/json/event_data_xml.h"

#include "parsers/json/xml_cursor.h"

#include <cstdint>

#include <fmt/format.h>

namespace eventsift::json {

namespace {

Status Malformed(std::string_view what, size_t offset) {
  return Status::Corruption(
      fmt::format("EventData XML: {} at byte {} of the string", what, offset));
}

// Reads the attributes of a start tag up to '>' or '/>'; *name_attr gets the
// decoded value of Name="...". *empty is true for a self-closing tag.
Status ReadAttributes(XmlCursor* c, std::string_view* name_attr, bool* empty, Arena* arena,
                      std::string* scratch) {
  XmlError e = XmlReadAttributes(c, empty, arena, scratch,
                                 [&](std::string_view attr, std::string_view value) {
                                   if (attr == "Name") *name_attr = value;
                                 });
  return e.what == nullptr ? Status::OK() : Malformed(e.what, e.offset);
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
  *text = XmlUnescape(raw, arena, scratch);
  return Status::OK();
}

// Reads leaf children until the end tag of their parent, which is consumed.
// `data_only` (EventData): each child is a <Data>, named by its Name
// attribute or unnamed; otherwise (UserData's element) named by its tag.
Status ReadChildren(XmlCursor* c, bool data_only, Arena* arena, std::string* scratch,
                    std::vector<DataField>* out) {
  for (;;) {
    XmlSkipMisc(c);
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
  XmlSkipMisc(&c);
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
    XmlSkipMisc(&c);
    if (c.StartsWith("</")) return Status::OK();
    if (c.Peek() != '<') return Malformed("expected an element inside <UserData>", c.pos());
    c.Advance(1);
    c.Name();
    ES_RETURN_IF_ERROR(ReadAttributes(&c, &ignored, &empty, arena, &scratch));
    if (!empty) ES_RETURN_IF_ERROR(ReadChildren(&c, false, arena, &scratch, out));
    XmlSkipMisc(&c);
    if (!c.StartsWith("</")) return Malformed("<UserData> not closed", c.pos());
    c.SkipPast(">");
  }
  XmlSkipMisc(&c);
  if (!c.done()) return Malformed("content after the root element", c.pos());
  return Status::OK();
}

}  // namespace eventsift::json
