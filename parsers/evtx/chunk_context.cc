#include "parsers/evtx/chunk_context.h"

#include <cstring>

#include "parsers/evtx/template_cache.h"
#include "src/core/byte_reader.h"
#include "src/core/utf16.h"

namespace eventsift::evtx {

Status ChunkContext::Name(uint32_t offset, std::string_view* out) {
  if (auto it = names_.find(offset); it != names_.end()) {
    *out = it->second;
    return Status::OK();
  }
  const size_t size = NameSizeAt(chunk_, offset);
  if (size == 0) return Status::Corruption("bad name structure").AtOffset(offset);
  *out = Utf16LeToUtf8(chunk_.subspan(size_t{offset} + 8, size - 10), &arena_);
  names_.emplace(offset, *out);
  return Status::OK();
}

Status ChunkContext::GetTemplate(uint32_t offset, int depth, const Template** out) {
  RecentTemplate& recent = recent_templates_[RecentSlot(offset)];
  if (recent.tmpl != nullptr && recent.offset == offset) {
    *out = recent.tmpl;
    return Status::OK();
  }
  if (auto it = templates_.find(offset); it != templates_.end()) {
    if (it->second->compiling) {
      return Status::Corruption("template refers to itself").AtOffset(offset);
    }
    *out = it->second.get();
    recent = {offset, *out};
    return Status::OK();
  }
  // Definition: u32 next offset | GUID | u32 data size | data.
  ByteReader r(chunk_);
  auto t = std::make_unique<Template>();
  t->def_offset = offset;
  std::span<const uint8_t> guid;
  ES_RETURN_IF_ERROR(r.Seek(offset, "template definition"));
  ES_RETURN_IF_ERROR(r.Skip(4, "template next offset"));
  ES_RETURN_IF_ERROR(r.ReadBytes(16, "template GUID", &guid));
  std::memcpy(t->guid, guid.data(), 16);
  ES_RETURN_IF_ERROR(r.ReadU32("template data size", &t->data_size));
  if (t->data_size > r.remaining()) {
    return Status::Corruption("template data runs past the chunk").AtOffset(offset);
  }
  Template* raw = t.get();
  // Compiled in an earlier chunk? (Past kMaxNesting compiling fails, so the
  // cache is not asked there.)
  const bool use_cache = cache_ != nullptr && depth <= kMaxNesting;
  if (use_cache) {
    if (CachedTemplate* hit = cache_->Find(*this, offset, raw->guid, raw->data_size)) {
      raw->ops = hit->ops;
      raw->shared = hit;
      templates_.emplace(offset, std::move(t));
      *out = raw;
      return Status::OK();
    }
  }
  raw->compiling = true;
  templates_.emplace(offset, std::move(t));
  const uint32_t body = offset + 24;
  CompileLog log;
  Status s = CompileFragment(*this, body, body + raw->data_size, depth, &raw->own_ops,
                             use_cache ? &log : nullptr);
  raw->compiling = false;
  if (!s.ok()) {
    templates_.erase(offset);
    return s;
  }
  raw->ops = raw->own_ops;
  if (use_cache && log.cacheable) raw->shared = cache_->Insert(*this, offset, *raw, log);
  *out = raw;
  return Status::OK();
}

}  // namespace eventsift::evtx
