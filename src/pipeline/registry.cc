#include "src/pipeline/registry.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "parsers/evtx/evtx_decoder.h"
#include "parsers/json/json_decoder.h"

namespace eventsift {

std::string_view InputFormatName(InputFormat f) {
  switch (f) {
    case InputFormat::kEvtx:
      return "evtx";
    case InputFormat::kJson:
      return "json";
  }
  return "unknown";
}

Result<InputFormat> SniffInputFormat(const std::string& path) {
  if (path == "-") return InputFormat::kJson;
  // gzopen reads plain files transparently, so one code path sees the
  // decompressed start of either.
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    return Status::IOError(fmt::format("cannot open: {}", std::strerror(errno))).At(path);
  }
  std::array<unsigned char, 8> head{};
  int n = gzread(f, head.data(), static_cast<unsigned>(head.size()));
  gzclose(f);
  if (n < 0) return Status::IOError("cannot read").At(path);
  return SniffInputBytes(std::string_view(reinterpret_cast<const char*>(head.data()), n), path);
}

Result<InputFormat> SniffInputBytes(std::string_view bytes, const std::string& name) {
  const auto* head = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = std::min<size_t>(bytes.size(), 8);
  if (n >= 8 && std::memcmp(head, "ElfFile\0", 8) == 0) return InputFormat::kEvtx;
  if (n == 0) return InputFormat::kJson;  // empty file: zero events, not an error
  if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) return InputFormat::kJson;  // gzip
  // Skip BOMs and whitespace.
  size_t i = 0;
  if (n >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF) i = 3;
  if (n >= 2 && ((head[0] == 0xFF && head[1] == 0xFE) || (head[0] == 0xFE && head[1] == 0xFF))) {
    return InputFormat::kJson;
  }
  while (i < n && (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t')) ++i;
  if (i == n || head[i] == '{' || head[i] == '[') return InputFormat::kJson;
  return Status::Unsupported("not an EVTX file or a JSON export").At(name);
}

std::unique_ptr<Decoder> CreateDecoder(InputFormat format, const DecoderOptions& options) {
  switch (format) {
    case InputFormat::kEvtx:
      return evtx::NewEvtxDecoder(options);
    case InputFormat::kJson:
      return json::NewJsonDecoder(options);
  }
  return nullptr;
}

}  // namespace eventsift
