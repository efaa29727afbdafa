#include "parsers/evtx/template_cache.h"

#include <cstring>

namespace eventsift::evtx {

namespace {

// memcmp for n bytes, defined for n == 0 with null pointers too (an empty
// template body has no storage).
bool SameBytes(const uint8_t* a, const uint8_t* b, size_t n) {
  return n == 0 || std::memcmp(a, b, n) == 0;
}

}  // namespace

int CachedTemplate::PlanSlot(PlanStart start) {
  if (start.depth == 1 && start.section == PlanSection::kNone) return 0;
  if (start.depth == 2 && start.section == PlanSection::kNone) return 1;
  if (start.depth == 3 && start.section == PlanSection::kEventData) return 2;
  if (start.depth == 3 && start.section == PlanSection::kUserData) return 3;
  return -1;
}

const EventPlan& CachedTemplate::Plan(PlanStart start) {
  const int i = PlanSlot(start);
  if (!planned[i]) {
    plans[i] = BuildEventPlan(ops, start);
    planned[i] = true;
  }
  return plans[i];
}

TemplateCache::Key TemplateCache::MakeKey(const uint8_t guid[16], uint32_t data_size) {
  Key k;
  std::memcpy(&k.guid_low, guid, 8);
  std::memcpy(&k.guid_high, guid + 8, 8);
  k.data_size = data_size;
  return k;
}

bool TemplateCache::Matches(ChunkContext& ctx, uint32_t offset, const CachedTemplate& e) {
  const std::span<const uint8_t> chunk = ctx.chunk();
  const size_t base = size_t{offset} + 24;
  if (base + e.data_size > chunk.size()) return false;
  const uint8_t* now = chunk.data() + base;
  const uint8_t* then = e.body.data();
  // Body bytes equal, except the name-offset fields, which are absolute.
  size_t done = 0;
  for (const CompileLog::NameRef& n : e.log.names) {
    if (!SameBytes(now + done, then + done, n.rel - done)) return false;
    uint32_t field = 0;
    std::memcpy(&field, now + n.rel, 4);  // the compile read it inside the body
    const bool inline_name = field == base + n.rel + 4;
    if (inline_name != n.inline_name) return false;
    if (!inline_name) {
      // A name elsewhere in the chunk: only its text matters, and equal
      // characters give equal text. (Unequal ones may too, where invalid
      // UTF-16 becomes U+FFFD: then the template is compiled again, which
      // gives what the entry would.)
      const std::string_view raw = e.raw_names[&n - e.log.names.data()];
      const size_t size = NameSizeAt(chunk, field);
      if (size != raw.size() + 10 ||
          !SameBytes(chunk.data() + field + 8, reinterpret_cast<const uint8_t*>(raw.data()),
                     raw.size())) {
        return false;
      }
    }
    done = size_t{n.rel} + 4;
  }
  if (!SameBytes(now + done, then + done, e.data_size - done)) return false;
  // Each element start guessed the same way (the guess may look at names
  // elsewhere in the chunk).
  for (const CompileLog::Layout& l : e.log.layouts) {
    if (ElementLayout(chunk, base + l.rel, base + e.data_size) != l.skip) return false;
  }
  return true;
}

CachedTemplate* TemplateCache::Find(ChunkContext& ctx, uint32_t offset, const uint8_t guid[16],
                                    uint32_t data_size) {
  auto it = entries_.find(MakeKey(guid, data_size));
  if (it == entries_.end()) return nullptr;
  for (const auto& e : it->second) {
    if (Matches(ctx, offset, *e)) {
      ++hits_;
      return e.get();
    }
  }
  return nullptr;
}

CachedTemplate* TemplateCache::Insert(ChunkContext& ctx, uint32_t offset, const Template& tmpl,
                                      const CompileLog& log) {
  if (count_ >= kMaxEntries || bytes_ >= kMaxBytes) return nullptr;
  const std::span<const uint8_t> chunk = ctx.chunk();
  const size_t base = size_t{offset} + 24;
  if (base + tmpl.data_size > chunk.size()) return nullptr;
  // Body, ops and the plans built later from the ops (about as large), and
  // the text copied below: each op's text is copied on its own, so one long
  // name referenced by thousands of ops counts thousands of times.
  size_t size = sizeof(CachedTemplate) + tmpl.data_size + 2 * tmpl.ops.size() * sizeof(Op) +
                log.layouts.size() * sizeof(CompileLog::Layout);
  for (const CompileLog::NameRef& n : log.names) size += sizeof(n) + 3 * n.name.size() + 16;
  for (const Op& op : tmpl.ops) size += op.text.size();
  if (size > kMaxBytes - bytes_) return nullptr;
  for (const CompileLog::NameRef& n : log.names) {
    uint32_t field = 0;
    std::memcpy(&field, chunk.data() + base + n.rel, 4);  // inside the body, as compiled
    if (!n.inline_name && NameSizeAt(chunk, field) == 0) return nullptr;  // the compile read it
  }
  bytes_ += size;
  auto e = std::make_unique<CachedTemplate>();
  std::memcpy(e->guid, tmpl.guid, 16);
  e->data_size = tmpl.data_size;
  e->body.assign(chunk.begin() + base, chunk.begin() + base + tmpl.data_size);
  e->log = log;
  // Text moves to the cache's arena: the chunk's arena is reset with its
  // output, while the entry serves later chunks.
  e->raw_names.reserve(e->log.names.size());
  for (CompileLog::NameRef& n : e->log.names) {
    n.name = text_.Copy(n.name);
    std::string_view raw;
    if (!n.inline_name) {
      uint32_t field = 0;
      std::memcpy(&field, chunk.data() + base + n.rel, 4);  // inside the body, as compiled
      const size_t name_size = NameSizeAt(chunk, field);    // checked above
      raw = text_.Copy(std::string_view(reinterpret_cast<const char*>(chunk.data()) + field + 8,
                                        name_size - 10));
    }
    e->raw_names.push_back(raw);
  }
  e->ops.assign(tmpl.ops.begin(), tmpl.ops.end());
  for (Op& op : e->ops) op.text = text_.Copy(op.text);
  CachedTemplate* raw = e.get();
  entries_[MakeKey(tmpl.guid, tmpl.data_size)].push_back(std::move(e));
  ++count_;
  return raw;
}

}  // namespace eventsift::evtx
