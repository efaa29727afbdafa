#include "parsers/evtx/real_text.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <system_error>

namespace eventsift::evtx {

namespace {

// `v` in the form real_text.h describes; fixed notation for decimal
// exponents in [lo, hi].
template <typename T>
void AppendReal(std::string* out, T v, int lo, int hi) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v < 0 ? "-inf" : "inf");
    return;
  }
  // Shortest round-trip digits, as d.ddde±XX.
  char buf[48];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(r.ptr - buf));
  const bool negative = sci.front() == '-';
  if (negative) sci.remove_prefix(1);
  const size_t e = sci.find('e');
  std::string_view exp_text = sci.substr(e + 1);  // "+05", "-07", "+300"
  if (exp_text.front() == '+') exp_text.remove_prefix(1);
  int exponent = 0;
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  if (negative) out->push_back('-');
  if (exponent < lo || exponent > hi) {
    out->push_back(digits[0]);
    if (digits.size() > 1) {
      out->push_back('.');
      out->append(digits, 1, std::string::npos);
    }
    out->push_back('e');
    out->push_back(exponent < 0 ? '-' : '+');
    out->append(std::to_string(std::abs(exponent)));
    return;
  }
  if (exponent < 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-exponent - 1), '0');
    out->append(digits);
    return;
  }
  const size_t whole = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= whole) {
    out->append(digits);
    out->append(whole - digits.size(), '0');
    out->append(".0");
    return;
  }
  out->append(digits, 0, whole);
  out->push_back('.');
  out->append(digits, whole, std::string::npos);
}

}  // namespace

void AppendReal64(std::string* out, double v) { AppendReal(out, v, -5, 15); }
void AppendReal32(std::string* out, float v) { AppendReal(out, v, -6, 12); }

}  // namespace eventsift::evtx
