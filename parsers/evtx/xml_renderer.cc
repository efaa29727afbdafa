#include "parsers/evtx/xml_renderer.h"

#include <fmt/format.h>

namespace eventsift::evtx {

void AppendXmlEscaped(std::string* out, std::string_view s, bool attribute) {
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const char* rep = nullptr;
    switch (c) {
      case '\t':
      case '\n':
      case '\r':
        break;
      case '\0':
      case '\x01':
      case '\x02':
      case '\x03':
      case '\x04':
      case '\x05':
      case '\x06':
      case '\x07':
      case '\x08':
      case '\x0b':
      case '\x0c':
      case '\x0e':
      case '\x0f':
      case '\x10':
      case '\x11':
      case '\x12':
      case '\x13':
      case '\x14':
      case '\x15':
      case '\x16':
      case '\x17':
      case '\x18':
      case '\x19':
      case '\x1a':
      case '\x1b':
      case '\x1c':
      case '\x1d':
      case '\x1e':
      case '\x1f':
        rep = "_";  // not allowed in XML 1.0; evtx_dump prints '_'
        break;
      case '<':
        rep = "&lt;";
        break;
      case '>':
        rep = "&gt;";
        break;
      case '&':
        rep = "&amp;";
        break;
      case '"':
        if (attribute) rep = "&quot;";
        break;
      default:
        break;
    }
    if (rep == nullptr) continue;
    out->append(s.data() + run, i - run);
    out->append(rep);
    run = i + 1;
  }
  out->append(s.data() + run, s.size() - run);
}

void XmlRenderer::BeginDocument() {
  out_->append("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
  stack_.clear();
  in_attribute_ = false;
  wrote_root_ = false;
}

void XmlRenderer::EndDocument() {
  while (!stack_.empty()) EndElement(stack_.back().name, false);
  out_->push_back('\n');
}

void XmlRenderer::Indent(size_t depth) {
  out_->push_back('\n');
  out_->append(2 * depth, ' ');
}

void XmlRenderer::CloseTag() {
  if (!stack_.empty() && stack_.back().tag_open) {
    out_->push_back('>');
    stack_.back().tag_open = false;
  }
}

void XmlRenderer::AppendEscaped(std::string_view s) { AppendXmlEscaped(out_, s, in_attribute_); }

bool XmlRenderer::StartElement(std::string_view name) {
  if (!stack_.empty()) {
    CloseTag();
    stack_.back().has_elements = true;
    Indent(stack_.size());
  } else if (wrote_root_) {
    out_->push_back('\n');
  }
  wrote_root_ = true;
  out_->push_back('<');
  out_->append(name);
  stack_.push_back(Frame{name});
  return true;
}

void XmlRenderer::Attribute(std::string_view name) {
  out_->push_back(' ');
  out_->append(name);
  out_->append("=\"");
  in_attribute_ = true;
}

void XmlRenderer::AttributeEnd() {
  out_->push_back('"');
  in_attribute_ = false;
}

void XmlRenderer::EndElement(std::string_view name, bool skipped) {
  if (stack_.empty()) return;
  const Frame f = stack_.back();
  stack_.pop_back();
  if (f.tag_open) {
    out_->append("/>");
    return;
  }
  if (f.has_elements) Indent(stack_.size());
  out_->append("</");
  out_->append(f.name);
  out_->push_back('>');
}

void XmlRenderer::Text(std::string_view utf8) {
  if (!in_attribute_) CloseTag();
  AppendEscaped(utf8);
}

void XmlRenderer::Value(const ValueRef& v) {
  scratch_.clear();
  AppendValueText(v, &scratch_);
  Text(scratch_);
}

void XmlRenderer::CharRef(uint16_t unit) {
  if (!in_attribute_) CloseTag();
  fmt::format_to(std::back_inserter(*out_), "&#{};", unit);
}

void XmlRenderer::EntityRef(std::string_view name) {
  if (!in_attribute_) CloseTag();
  out_->push_back('&');
  out_->append(name);
  out_->push_back(';');
}

void XmlRenderer::CData(std::string_view utf8) {
  CloseTag();
  out_->append("<![CDATA[");
  out_->append(utf8);
  out_->append("]]>");
}

void XmlRenderer::Pi(std::string_view target, std::string_view data) {
  CloseTag();
  out_->append("<?");
  out_->append(target);
  if (!data.empty()) {
    out_->push_back(' ');
    out_->append(data);
  }
  out_->append("?>");
}

}  // namespace eventsift::evtx
