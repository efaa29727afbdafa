#pragma once
// BinXml: compiling token streams into flat op lists, and walking them with
// substitution values (docs/evtx-format.md, "BinXml").
//
// A template definition is compiled once per chunk into a vector of Ops (names
// and literal text already converted to UTF-8) and cached by its chunk
// offset; each record then only reads its substitution array and walks the
// cached ops, handing typed values to a BinXmlVisitor. No DOM is built per
// record. Records that carry plain BinXml instead of a template instance (WEC
// forwarded events) are compiled into a scratch op list per record.
//
// The pieces, as evtx's src/binxml/ keeps them apart: binxml_compiler.h
// (tokens to ops), chunk_context.h (names and templates of one chunk),
// value_array.h (substitution values) and binxml_walker.h (ops and values to
// a BinXmlVisitor).

#include "parsers/evtx/binxml_compiler.h"
#include "parsers/evtx/binxml_walker.h"
#include "parsers/evtx/chunk_context.h"
#include "parsers/evtx/value_array.h"
