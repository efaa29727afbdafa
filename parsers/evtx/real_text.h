#pragma once
// Text of Real32/Real64 values (BinXml types 0x0B/0x0C).
//
// MS-EVEN6 2.2.12.3 emits a real as `[-]dddd.dddd`: digits, a decimal point,
// digits. So a whole number keeps its point (`0.0`, `2.0`, `-0.0`), which
// evtx_dump 0.15 prints too. Values that form cannot hold at a sensible
// length (the document says nothing of exponents) are printed as evtx_dump
// prints them, so dumps stay comparable byte for byte: the shortest digits
// that read back as the same value, in positional form for decimal exponents
// from -5 to 15 (Real64) or -6 to 12 (Real32), else `d.ddde+X` / `de-X`
// without exponent padding; `NaN`, `inf`, `-inf`.

#include <string>

namespace eventsift::evtx {

void AppendReal64(std::string* out, double v);
void AppendReal32(std::string* out, float v);

}  // namespace eventsift::evtx
