#include "src/detect/sigma_value.h"

#include <arpa/inet.h>

#include <algorithm>

#include <fmt/format.h>
#include <re2/re2.h>

#include "src/detect/literal_pattern.h"

namespace eventsift::detect {

namespace {

void AppendLiteral(char c, std::string* out) {
  if (IsRegexMeta(c)) out->push_back('\\');
  out->push_back(c);
}

// Literal bytes (NULs and all) as RE2 text: printable ASCII as itself or
// escaped, anything else as \xHH so encoded UTF-16 survives.
std::string LiteralRegex(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      AppendLiteral(c, &out);
    }
  }
  return out;
}

// The value with Sigma's escapes resolved; false when it holds an unescaped
// wildcard (which an encoding modifier cannot carry).
bool Unescape(std::string_view value, std::string* out) {
  out->clear();
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\\' && i + 1 < value.size() &&
        (value[i + 1] == '*' || value[i + 1] == '?' || value[i + 1] == '\\')) {
      out->push_back(value[++i]);
      continue;
    }
    if (c == '*' || c == '?') return false;
    out->push_back(c);
  }
  return true;
}

// Why RE2 cannot run a regex that a backtracking engine could, or "".
std::string UnsupportedRegexFeature(std::string_view re) {
  for (size_t i = 0; i + 1 < re.size(); ++i) {
    if (re[i] == '\\') {
      char n = re[i + 1];
      if (n >= '1' && n <= '9') return "a backreference (\\N)";
      if (n == 'k' && i + 2 < re.size() && (re[i + 2] == '<' || re[i + 2] == '\'')) {
        return "a named backreference (\\k<name>)";
      }
      ++i;
      continue;
    }
    if (re.substr(i, 3) == "(?=" || re.substr(i, 3) == "(?!") return "lookahead ((?= or (?!)";
    if (re.substr(i, 4) == "(?<=" || re.substr(i, 4) == "(?<!") {
      return "lookbehind ((?<= or (?<!)";
    }
    if (re.substr(i, 3) == "(?>") return "an atomic group ((?>)";
  }
  return "";
}

// Every string the `expand` placeholders in `value` stand for.
Status Expand(std::string_view value, const SigmaPlaceholders& placeholders,
              std::vector<std::string>* out) {
  out->assign(1, std::string());
  size_t i = 0;
  while (i < value.size()) {
    size_t open = value.find('%', i);
    size_t close = open == std::string_view::npos ? open : value.find('%', open + 1);
    if (close == std::string_view::npos) {
      for (auto& s : *out) s.append(value.substr(i));
      break;
    }
    for (auto& s : *out) s.append(value.substr(i, open - i));
    std::string name(value.substr(open + 1, close - open - 1));
    auto it = placeholders.find(name);
    if (it == placeholders.end() || it->second.empty()) {
      return Status::Unsupported(fmt::format(
          "expand: placeholder %{}% has no values (set EVENTSIFT_SIGMA_PLACEHOLDERS to a "
          "placeholder file, docs/sigma.md)",
          name));
    }
    std::vector<std::string> next;
    for (const auto& prefix : *out) {
      for (const auto& v : it->second) next.push_back(prefix + v);
    }
    *out = std::move(next);
    i = close + 1;
  }
  return Status::OK();
}

}  // namespace

Status ParseModifiers(const std::vector<std::string>& names, SigmaModifiers* m) {
  *m = SigmaModifiers{};
  for (const std::string& n : names) {
    if (n == "contains") {
      m->contains = true;
    } else if (n == "startswith") {
      m->startswith = true;
    } else if (n == "endswith") {
      m->endswith = true;
    } else if (n == "all") {
      m->all = true;
    } else if (n == "re") {
      m->re = true;
    } else if ((n == "i" || n == "m" || n == "s") && m->re) {
      (n == "i" ? m->re_i : n == "m" ? m->re_m : m->re_s) = true;
    } else if (n == "base64") {
      m->base64 = true;
    } else if (n == "base64offset") {
      m->base64offset = true;
    } else if (n == "utf16le" || n == "wide") {
      m->utf16 = Utf16Form::kLittleEndian;
    } else if (n == "utf16be") {
      m->utf16 = Utf16Form::kBigEndian;
    } else if (n == "utf16") {
      m->utf16 = Utf16Form::kLittleEndianBom;
    } else if (n == "windash") {
      m->windash = true;
    } else if (n == "cidr") {
      m->cidr = true;
    } else if (n == "exists") {
      m->exists = true;
    } else if (n == "cased") {
      m->cased = true;
    } else if (n == "fieldref") {
      m->fieldref = true;
    } else if (n == "expand") {
      m->expand = true;
    } else if (n == "gt") {
      m->compare = SigmaCheck::Op::kGt;
    } else if (n == "gte") {
      m->compare = SigmaCheck::Op::kGte;
    } else if (n == "lt") {
      m->compare = SigmaCheck::Op::kLt;
    } else if (n == "lte") {
      m->compare = SigmaCheck::Op::kLte;
    } else {
      return Status::Unsupported(fmt::format("value modifier '{}'", n));
    }
  }
  int anchors = int{m->contains} + int{m->startswith} + int{m->endswith};
  if (anchors > 1) {
    return Status::Unsupported("more than one of contains, startswith, endswith on one field");
  }
  if (m->re && (anchors > 0 || m->base64 || m->base64offset || m->windash || m->cidr)) {
    return Status::Unsupported("re combined with a string modifier");
  }
  if (m->base64 && m->base64offset) return Status::Unsupported("both base64 and base64offset");
  return Status::OK();
}

std::string SigmaGlobToRegex(std::string_view value, bool windash, bool any_prefix,
                             bool any_suffix) {
  // Leading and trailing unescaped '*' mean "unanchored" there, as do the
  // implicit ones of contains/startswith/endswith (which are not part of the
  // value's text: "C:\Dir\" + contains keeps its last backslash literal).
  bool open_start = any_prefix || (!value.empty() && value.front() == '*');
  size_t begin = !value.empty() && value.front() == '*' ? 1 : 0;
  size_t end = value.size();
  bool open_end = any_suffix;
  if (end > begin && value[end - 1] == '*') {
    size_t backslashes = 0;
    for (size_t j = end - 1; j > begin && value[j - 1] == '\\'; --j) ++backslashes;
    if (backslashes % 2 == 0) {
      open_end = true;
      --end;
    }
  }
  std::string out = "(?s)";
  if (!open_start) out += '^';
  for (size_t i = begin; i < end; ++i) {
    char c = value[i];
    if (c == '\\' && i + 1 < end &&
        (value[i + 1] == '*' || value[i + 1] == '?' || value[i + 1] == '\\')) {
      AppendLiteral(value[++i], &out);
    } else if (c == '*') {
      out += ".*";
    } else if (c == '?') {
      out += '.';
    } else if (c == '-' && windash) {
      out += "(?:-|/|\u2013|\u2014|\u2015)";
    } else {
      AppendLiteral(c, &out);
    }
  }
  if (!open_end) out += '$';
  return out;
}

Status SigmaValuePatterns(std::string_view value, const SigmaModifiers& m,
                          const SigmaPlaceholders& placeholders, SigmaPatterns* out) {
  out->regexes.clear();
  out->cased = m.cased;
  if (m.re) {
    std::string why = UnsupportedRegexFeature(value);
    if (!why.empty()) {
      return Status::Unsupported(
          fmt::format("re uses {}, which RE2 (linear time) cannot run", why));
    }
    std::string flags;
    if (m.re_m) flags += 'm';
    if (m.re_s) flags += 's';
    std::string re = flags.empty() ? std::string(value) : fmt::format("(?{}){}", flags, value);
    RE2::Options options;
    options.set_log_errors(false);
    options.set_case_sensitive(!m.re_i);
    RE2 compiled(re, options);
    if (!compiled.ok()) {
      return Status::Unsupported(fmt::format("re that RE2 rejects: {}", compiled.error()));
    }
    out->regexes.push_back(std::move(re));
    out->cased = !m.re_i;
    return Status::OK();
  }
  std::vector<std::string> values;
  if (m.expand) {
    ES_RETURN_IF_ERROR(Expand(value, placeholders, &values));
  } else {
    values.emplace_back(value);
  }
  bool encoded = m.base64 || m.base64offset || m.utf16 != Utf16Form::kNone;
  for (const std::string& v : values) {
    if (!encoded) {
      out->regexes.push_back(
          SigmaGlobToRegex(v, m.windash, m.contains || m.endswith, m.contains || m.startswith));
      continue;
    }
    // Encoded forms are byte strings: case matters in base64, and the
    // value's wildcards cannot be carried through the encoding.
    out->cased = true;
    std::string plain;
    if (!Unescape(v, &plain)) {
      return Status::Unsupported("a wildcard in a value that base64/utf16 modifiers encode");
    }
    std::vector<std::string> variants;
    if (m.windash) {
      for (std::string_view dash : {"-", "/", "\u2013", "\u2014", "\u2015"}) {
        std::string s;
        for (char c : plain) {
          if (c == '-') {
            s += dash;
          } else {
            s += c;
          }
        }
        if (std::find(variants.begin(), variants.end(), s) == variants.end()) {
          variants.push_back(std::move(s));
        }
      }
    } else {
      variants.push_back(plain);
    }
    for (const std::string& variant : variants) {
      std::string bytes = m.utf16 == Utf16Form::kNone ? variant : ToUtf16(variant, m.utf16);
      std::vector<std::string> forms;
      if (m.base64offset) {
        forms = Base64OffsetForms(bytes);
      } else if (m.base64) {
        forms.push_back(Base64Encode(bytes));
      } else {
        forms.push_back(bytes);
      }
      for (const std::string& f : forms) {
        std::string re = "(?s)";
        if (!m.contains && !m.endswith) re += '^';
        re += LiteralRegex(f);
        if (!m.contains && !m.startswith) re += '$';
        out->regexes.push_back(std::move(re));
      }
    }
  }
  return Status::OK();
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (uint32_t{static_cast<uint8_t>(bytes[i])} << 16) |
                 (uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8) |
                 uint32_t{static_cast<uint8_t>(bytes[i + 2])};
    for (int k = 3; k >= 0; --k) out.push_back(kAlphabet[(n >> (6 * k)) & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = uint32_t{static_cast<uint8_t>(bytes[i])} << 16;
    if (rest == 2) n |= uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::vector<std::string> Base64OffsetForms(std::string_view bytes) {
  // At offset k the first k bytes belong to unknown neighbours: the 0, 2 or
  // 3 leading characters that encode any of their bits are cut, as are the
  // trailing characters that mix in the unknown bytes after the value
  // (3 when one byte is left over in the last group, 2 when two are).
  static constexpr size_t kLeadingCut[] = {0, 2, 3};
  std::vector<std::string> out;
  for (size_t k = 0; k < 3; ++k) {
    std::string padded(k, '\0');
    padded.append(bytes);
    std::string encoded = Base64Encode(padded);
    size_t total = padded.size();
    size_t trailing = total % 3 == 0 ? 0 : total % 3 == 1 ? 3 : 2;
    if (encoded.size() < kLeadingCut[k] + trailing) continue;
    std::string form = encoded.substr(kLeadingCut[k], encoded.size() - kLeadingCut[k] - trailing);
    if (!form.empty()) out.push_back(std::move(form));
  }
  return out;
}

std::string ToUtf16(std::string_view utf8, Utf16Form form) {
  std::string out;
  auto put = [&](uint16_t unit) {
    char lo = static_cast<char>(unit & 0xff), hi = static_cast<char>(unit >> 8);
    if (form == Utf16Form::kBigEndian) {
      out.push_back(hi);
      out.push_back(lo);
    } else {
      out.push_back(lo);
      out.push_back(hi);
    }
  };
  if (form == Utf16Form::kLittleEndianBom) put(0xfeff);
  for (size_t i = 0; i < utf8.size();) {
    auto b = static_cast<uint8_t>(utf8[i]);
    uint32_t cp = b;
    size_t len = 1;
    if (b >= 0xf0) {
      cp = b & 0x07;
      len = 4;
    } else if (b >= 0xe0) {
      cp = b & 0x0f;
      len = 3;
    } else if (b >= 0xc0) {
      cp = b & 0x1f;
      len = 2;
    }
    if (i + len > utf8.size()) {  // truncated sequence: keep the byte
      len = 1;
      cp = b;
    }
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<uint8_t>(utf8[i + k]) & 0x3f);
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      put(static_cast<uint16_t>(0xd800 + (cp >> 10)));
      put(static_cast<uint16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      put(static_cast<uint16_t>(cp));
    }
  }
  return out;
}

Status ParseCidr(std::string_view text, SigmaCheck* check) {
  size_t slash = text.find('/');
  std::string addr(text.substr(0, slash));
  bool v6 = addr.find(':') != std::string::npos;
  uint8_t buf[16];
  if (inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), buf) != 1) {
    return Status::InvalidArgument(fmt::format("cidr: '{}' is not an IP network", text));
  }
  int max_bits = v6 ? 128 : 32;
  int bits = max_bits;
  if (slash != std::string_view::npos) {
    std::string_view b = text.substr(slash + 1);
    bits = 0;
    if (b.empty() || b.size() > 3) bits = -1;
    for (char c : b) bits = (c >= '0' && c <= '9' && bits >= 0) ? bits * 10 + (c - '0') : -1;
    if (bits < 0 || bits > max_bits) {
      return Status::InvalidArgument(fmt::format("cidr: bad prefix length in '{}'", text));
    }
  }
  check->network.assign(buf, buf + (v6 ? 16 : 4));
  check->prefix_bits = bits;
  return Status::OK();
}

bool CidrContains(const SigmaCheck& check, std::string_view ip) {
  bool v6 = check.network.size() == 16;
  std::string text(ip.substr(0, std::min<size_t>(ip.size(), 64)));
  if (v6) {
    if (size_t zone = text.find('%'); zone != std::string::npos) text.resize(zone);
  }
  uint8_t buf[16];
  if (inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), buf) != 1) return false;
  int bits = check.prefix_bits;
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((buf[i] & mask) != (check.network[i] & mask)) return false;
  }
  return true;
}

}  // namespace eventsift::detect
