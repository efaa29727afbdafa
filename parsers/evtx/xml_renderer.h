#pragma once
// Renders a walked record as indented XML, the way evtx_dump and Event Viewer
// print a record, for `eventsift dump --format xml`.

#include <string>
#include <string_view>
#include <vector>

#include "parsers/evtx/binxml.h"

namespace eventsift::evtx {

class XmlRenderer : public BinXmlVisitor {
 public:
  // `out` must outlive the renderer; output is appended.
  explicit XmlRenderer(std::string* out) : out_(out) {}

  // Writes the XML declaration; call before walking a record.
  void BeginDocument();
  // Closes anything a truncated walk left open and ends the line.
  void EndDocument();

  bool StartElement(std::string_view name) override;
  void Attribute(std::string_view name) override;
  void AttributeEnd() override;
  // An element written with a separate end tag renders as <X></X> even when
  // empty; only CloseEmpty renders <X/> (as evtx_dump does).
  void StartContent() override { CloseTag(); }
  void EndElement(std::string_view name, bool skipped) override;
  void Text(std::string_view utf8) override;
  void Value(const ValueRef& v) override;
  void CharRef(uint16_t unit) override;
  void EntityRef(std::string_view name) override;
  void CData(std::string_view utf8) override;
  void Pi(std::string_view target, std::string_view data) override;

 private:
  struct Frame {
    std::string_view name;
    bool tag_open = true;  // '<name attrs' written, '>' not yet
    bool has_elements = false;
  };
  void CloseTag();  // writes the pending '>' of the innermost element
  void Indent(size_t depth);
  void AppendEscaped(std::string_view s);

  std::string* out_;
  std::vector<Frame> stack_;
  bool in_attribute_ = false;
  bool wrote_root_ = false;
  std::string scratch_;
};

// Escapes <, > and & (and " when `attribute`) for XML.
void AppendXmlEscaped(std::string* out, std::string_view s, bool attribute);

}  // namespace eventsift::evtx
