#include "parsers/json/event_xml.h"

#include <utility>
#include <vector>

#include <fmt/format.h>

#include "parsers/json/event_data_xml.h"
#include "parsers/json/xml_cursor.h"
#include "src/core/arena.h"
#include "src/core/json_writer.h"

namespace eventsift::json {

namespace {

Status Malformed(std::string_view what, size_t offset) {
  return Status::Corruption(fmt::format("event XML: {} at byte {}", what, offset));
}

struct Tag {
  std::string_view name;
  std::vector<std::pair<std::string_view, std::string_view>> attributes;
  bool empty = false;  // <x/>
  size_t start = 0;    // offset of '<'
};

// Reads a start tag whose '<' is at the cursor.
Status ReadTag(XmlCursor* c, Arena* arena, std::string* scratch, Tag* tag) {
  tag->start = c->pos();
  tag->attributes.clear();
  c->Advance(1);
  tag->name = c->Name();
  if (tag->name.empty()) return Malformed("element without a name", tag->start);
  XmlError e = XmlReadAttributes(c, &tag->empty, arena, scratch,
                                 [&](std::string_view attr, std::string_view value) {
                                   tag->attributes.emplace_back(attr, value);
                                 });
  return e.what == nullptr ? Status::OK() : Malformed(e.what, e.offset);
}

// Skips past the end tag of `tag` (whatever is inside); false when missing.
bool SkipElement(XmlCursor* c, const Tag& tag) {
  if (tag.empty) return true;
  return c->SkipPast(fmt::format("</{}>", tag.name));
}

// Text content of a leaf element (its start tag just read), cursor past its
// end tag. Child elements inside are skipped with the text before them kept.
Status LeafText(XmlCursor* c, const Tag& tag, Arena* arena, std::string* scratch,
                std::string_view* text) {
  *text = {};
  if (tag.empty) return Status::OK();
  std::string_view raw = c->Text();
  *text = XmlUnescape(raw, arena, scratch);
  if (!SkipElement(c, tag)) return Malformed("element not closed", tag.start);
  return Status::OK();
}

std::string_view Attribute(const Tag& tag, std::string_view name) {
  for (const auto& [k, v] : tag.attributes) {
    if (k == name) return v;
  }
  return {};
}

bool IsNumber(std::string_view s) {
  if (s.empty() || s.size() > 20) return false;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return false;
  }
  return true;
}

// "key": value, a JSON number when the text is decimal digits, else a string.
void Member(std::string* out, std::string_view key, std::string_view value, bool numeric) {
  if (out->back() != '{') out->push_back(',');
  AppendJsonString(out, key);
  out->push_back(':');
  if (numeric && IsNumber(value)) {
    out->append(value);
  } else {
    AppendJsonString(out, value);
  }
}

Status System(XmlCursor* c, Arena* arena, std::string* scratch, std::string* out) {
  out->append("\"System\":{");
  Tag tag;
  for (;;) {
    XmlSkipMisc(c);
    if (c->done()) return Malformed("<System> not closed", c->pos());
    if (c->StartsWith("</")) {
      if (!c->SkipPast(">")) return Malformed("end tag not closed", c->pos());
      break;
    }
    if (c->Peek() != '<') return Malformed("text between elements", c->pos());
    ES_RETURN_IF_ERROR(ReadTag(c, arena, scratch, &tag));
    std::string_view text;
    ES_RETURN_IF_ERROR(LeafText(c, tag, arena, scratch, &text));
    const std::string_view n = tag.name;
    if (n == "Provider") {
      if (out->back() != '{') out->push_back(',');
      out->append("\"Provider\":{");
      for (std::string_view a : {"Name", "Guid", "EventSourceName"}) {
        std::string_view v = Attribute(tag, a);
        if (!v.empty()) Member(out, a, v, false);
      }
      out->push_back('}');
    } else if (n == "EventID") {
      Member(out, "EventID", text, true);
      std::string_view q = Attribute(tag, "Qualifiers");
      if (!q.empty()) Member(out, "EventIDQualifiers", q, true);
    } else if (n == "Version" || n == "Level" || n == "Task" || n == "Opcode" ||
               n == "EventRecordID") {
      Member(out, n, text, true);
    } else if (n == "Keywords" || n == "Channel" || n == "Computer") {
      Member(out, n, text, false);
    } else if (n == "TimeCreated") {
      Member(out, "TimeCreated", Attribute(tag, "SystemTime"), false);
    } else if (n == "Execution") {
      if (out->back() != '{') out->push_back(',');
      out->append("\"Execution\":{");
      for (std::string_view a : {"ProcessID", "ThreadID"}) {
        std::string_view v = Attribute(tag, a);
        if (!v.empty()) Member(out, a, v, true);
      }
      out->push_back('}');
    } else if (n == "Security") {
      std::string_view sid = Attribute(tag, "UserID");
      if (!sid.empty()) Member(out, "UserID", sid, false);
    }
  }
  out->push_back('}');
  return Status::OK();
}

// The raw text of an element from its '<' to past its end tag.
Status RawElement(XmlCursor* c, std::string_view xml, const Tag& tag, std::string_view* raw) {
  if (!SkipElement(c, tag)) return Malformed("element not closed", tag.start);
  *raw = xml.substr(tag.start, c->pos() - tag.start);
  return Status::OK();
}

Status EventData(std::string_view raw, size_t base, Arena* arena, std::string* out) {
  std::vector<DataField> fields;
  Status s = ParseEventDataXml(raw, arena, &fields);
  if (!s.ok()) return Malformed(s.message(), base);
  out->append(",\"EventData\":{");
  bool unnamed = false;
  for (const auto& f : fields) {
    if (f.name.empty()) {
      unnamed = true;
      continue;
    }
    Member(out, f.name, f.value, false);
  }
  if (unnamed) {
    if (out->back() != '{') out->push_back(',');
    out->append("\"Data\":[");
    bool first = true;
    for (const auto& f : fields) {
      if (!f.name.empty()) continue;
      if (!first) out->push_back(',');
      first = false;
      AppendJsonString(out, f.value);
    }
    out->push_back(']');
  }
  out->push_back('}');
  return Status::OK();
}

Status RenderingInfo(XmlCursor* c, const Tag& info, Arena* arena, std::string* scratch,
                     std::string* out) {
  if (info.empty) return Status::OK();
  Tag tag;
  for (;;) {
    XmlSkipMisc(c);
    if (c->done()) return Malformed("<RenderingInfo> not closed", c->pos());
    if (c->StartsWith("</")) {
      if (!c->SkipPast(">")) return Malformed("end tag not closed", c->pos());
      return Status::OK();
    }
    if (c->Peek() != '<') return Malformed("text between elements", c->pos());
    ES_RETURN_IF_ERROR(ReadTag(c, arena, scratch, &tag));
    if (tag.name == "Message") {
      std::string_view text;
      ES_RETURN_IF_ERROR(LeafText(c, tag, arena, scratch, &text));
      out->append(",\"RenderingInfo\":{");
      Member(out, "Message", text, false);
      out->push_back('}');
    } else if (!SkipElement(c, tag)) {
      return Malformed("element not closed", tag.start);
    }
  }
}

// Past a UTF-8 BOM, declarations and comments.
XmlCursor Start(std::string_view xml) {
  XmlCursor c(xml);
  if (c.StartsWith("\xEF\xBB\xBF")) c.Advance(3);
  XmlSkipMisc(&c);
  return c;
}

}  // namespace

bool LooksLikeEventXml(std::string_view text) {
  XmlCursor c = Start(text);
  if (!c.StartsWith("<Event")) return false;
  c.Advance(6);
  char next = c.Peek();
  return next == '>' || next == '/' || IsXmlSpace(next);
}

Status EventXmlToJson(std::string_view xml, std::string* json) {
  json->clear();
  Arena arena(1024);
  std::string scratch;
  XmlCursor c = Start(xml);
  if (c.Peek() != '<') return Malformed("expected <Event>", c.pos());
  Tag tag;
  ES_RETURN_IF_ERROR(ReadTag(&c, &arena, &scratch, &tag));
  if (tag.name != "Event") return Malformed("expected <Event>", tag.start);
  if (tag.empty) return Malformed("empty <Event/>", tag.start);
  json->push_back('{');
  bool system = false;
  for (;;) {
    XmlSkipMisc(&c);
    if (c.done()) return Malformed("<Event> not closed", c.pos());
    if (c.StartsWith("</")) break;
    if (c.Peek() != '<') return Malformed("text between elements", c.pos());
    ES_RETURN_IF_ERROR(ReadTag(&c, &arena, &scratch, &tag));
    if (tag.name == "System" && !system) {
      if (tag.empty) return Malformed("empty <System/>", tag.start);
      system = true;
      ES_RETURN_IF_ERROR(System(&c, &arena, &scratch, json));
    } else if (tag.name == "EventData") {
      std::string_view raw;
      ES_RETURN_IF_ERROR(RawElement(&c, xml, tag, &raw));
      ES_RETURN_IF_ERROR(EventData(raw, tag.start, &arena, json));
    } else if (tag.name == "UserData") {
      std::string_view raw;
      ES_RETURN_IF_ERROR(RawElement(&c, xml, tag, &raw));
      json->append(",\"UserData\":");
      AppendJsonString(json, raw);
    } else if (tag.name == "RenderingInfo") {
      ES_RETURN_IF_ERROR(RenderingInfo(&c, tag, &arena, &scratch, json));
    } else if (!SkipElement(&c, tag)) {
      return Malformed("element not closed", tag.start);
    }
    if (!system) return Malformed("<System> must come first", tag.start);
  }
  json->push_back('}');
  return Status::OK();
}

}  // namespace eventsift::json
