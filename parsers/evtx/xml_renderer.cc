#include "parsers/evtx/xml_renderer.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace eventsift::evtx {

namespace {

// What a byte becomes in XML text: 0 = itself, else an index into
// kReplacements. Controls other than tab, LF and CR are not allowed in XML
// 1.0 and print as '_', as in evtx_dump; '"' is escaped only in attributes.
enum : uint8_t { kKeep = 0, kUnderscore, kLt, kGt, kAmp, kQuote };
constexpr std::string_view kReplacements[] = {"", "_", "&lt;", "&gt;", "&amp;", "&quot;"};
constexpr std::array<uint8_t, 256> kXmlClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = (c == '\t' || c == '\n' || c == '\r') ? kKeep : kUnderscore;
  t['<'] = kLt;
  t['>'] = kGt;
  t['&'] = kAmp;
  t['"'] = kQuote;
  return t;
}();

// Index of the first byte at or after i that may need replacing, or
// s.size(): 16 bytes per SSE2 step, then by table. Tab, LF and CR and a
// '"' outside attributes stop the scan too; the caller keeps them.
size_t XmlSafePrefix(std::string_view s, size_t i) {
  const size_t n = s.size();
  const char* d = s.data();
#if defined(__SSE2__)
  const __m128i max_control = _mm_set1_epi8(0x1F);
  while (i + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
    // v <= 0x1F unsigned: min(v, 0x1F) == v.
    __m128i look = _mm_cmpeq_epi8(_mm_min_epu8(v, max_control), v);
    look = _mm_or_si128(look, _mm_cmpeq_epi8(v, _mm_set1_epi8('<')));
    look = _mm_or_si128(look, _mm_cmpeq_epi8(v, _mm_set1_epi8('>')));
    look = _mm_or_si128(look, _mm_cmpeq_epi8(v, _mm_set1_epi8('&')));
    look = _mm_or_si128(look, _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(look));
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
    i += 16;
  }
#endif
  while (i < n && kXmlClass[static_cast<unsigned char>(d[i])] == kKeep) ++i;
  return i;
}

}  // namespace

void AppendXmlEscaped(std::string* out, std::string_view s, bool attribute) {
  size_t run = 0;
  size_t i = XmlSafePrefix(s, 0);
  while (i < s.size()) {
    uint8_t cls = kXmlClass[static_cast<unsigned char>(s[i])];
    if (cls == kQuote && !attribute) cls = kKeep;
    if (cls != kKeep) {
      out->append(s.data() + run, i - run);
      out->append(kReplacements[cls]);
      run = i + 1;
    }
    i = XmlSafePrefix(s, i + 1);
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
