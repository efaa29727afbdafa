#include "parsers/evtx/chunk_decoder.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <unordered_map>

#include <fmt/format.h>

#include "parsers/evtx/binxml.h"
#include "parsers/evtx/event_builder.h"
#include "parsers/evtx/event_plan.h"
#include "parsers/evtx/template_cache.h"
#include "parsers/evtx/xml_renderer.h"
#include "src/core/byte_reader.h"
#include "src/event/event_json.h"

namespace eventsift::evtx {

RecordCheck ReadRecordHeader(std::span<const uint8_t> chunk, size_t offset, RecordHeader* out) {
  uint32_t magic = 0, size = 0, size_copy = 0;
  uint64_t id = 0, written = 0;
  if (!ByteReader::LoadAt(chunk, offset, &magic) || magic != kRecordSignature)
    return RecordCheck::kBad;
  if (!ByteReader::LoadAt(chunk, offset + 4, &size)) return RecordCheck::kBad;
  if (size < kRecordHeaderSize + 4 || size > chunk.size() - offset) return RecordCheck::kBad;
  ByteReader::LoadAt(chunk, offset + 8, &id);
  ByteReader::LoadAt(chunk, offset + 16, &written);
  out->size = size;
  out->record_id = id;
  out->written = static_cast<FileTime>(written);
  if (!ByteReader::LoadAt(chunk, offset + size - 4, &size_copy) || size_copy != size) {
    return RecordCheck::kCopyMismatch;
  }
  return RecordCheck::kValid;
}

namespace {

// A status with `like`'s code and a new message (reports keep the code:
// truncation and exhausted bounds stay distinguishable from corruption).
Status Recode(const Status& like, std::string msg) {
  switch (like.code()) {
    case StatusCode::kTruncated:
      return Status::Truncated(std::move(msg));
    case StatusCode::kResourceExhausted:
      return Status::ResourceExhausted(std::move(msg));
    default:
      return Status::Corruption(std::move(msg));
  }
}

// BinXml of a record starts with a fragment header (0F 01 01 00) in every
// writer we know; a candidate found by scanning must too.
bool LooksLikeRecordBody(std::span<const uint8_t> chunk, size_t offset) {
  uint32_t head = 0;
  return ByteReader::LoadAt(chunk, offset + kRecordHeaderSize, &head) && (head & 0xFF) == 0x0F;
}

// State for one chunk decode.
class ChunkRun {
 public:
  ChunkRun(std::span<const uint8_t> chunk, uint32_t index, uint64_t file_offset,
           std::string_view file_name, const ChunkDecodeOptions& options, ChunkOutput* out,
           TemplateCache* cache, size_t size_in_file)
      : chunk_(chunk),
        size_in_file_(std::max(size_in_file, chunk.size())),
        index_(index),
        file_offset_(file_offset),
        file_name_(file_name),
        options_(options),
        out_(out),
        ctx_(chunk, &out->arena, cache),
        walker_(ctx_),
        builder_(&out->arena, options.want_payload, options.want_payload_ctx) {
    builder_.set_lean_declined(!options.full_header_when_declined);
  }

  void Run() {
    // JSON keeps the text's bytes as padding for its cursor (see Record);
    // XML appends to the text.
    if (options_.render != ChunkDecodeOptions::Render::kJson) out_->text.clear();
    if (size_in_file_ < kChunkSize) {
      Report(Status::Truncated("chunk is shorter than 65536 bytes"), 0, size_in_file_);
    }
    auto header = ParseChunkHeader(chunk_);
    size_t limit = chunk_.size();
    bool trusted_header = false;
    if (!header) {
      // Bad signature: the tables may still be right, so records are
      // recovered by scanning the whole chunk.
      Report(header.error(), 0, 0);
    } else {
      const ChunkHeader& h = header.value();
      trusted_header = true;
      const bool check_crc = (h.flags & kChunkFlagNoCrc) == 0;
      if (check_crc && !h.header_checksum_ok()) {
        if (!Checksum(fmt::format("chunk header CRC32 mismatch (stored {:08x}, computed {:08x})",
                                  h.header_checksum, h.computed_header_checksum))) {
          return;
        }
      }
      if (check_crc && !h.data_checksum_ok()) {
        if (!Checksum(fmt::format("chunk records CRC32 mismatch (stored {:08x}, computed {:08x})",
                                  h.data_checksum, h.computed_data_checksum))) {
          return;
        }
      }
      if (h.free_space_offset >= kChunkHeaderSize && h.free_space_offset <= chunk_.size()) {
        limit = h.free_space_offset;
      } else {
        Report(Status::Corruption(fmt::format("free space offset {} outside the chunk; scanning "
                                              "the whole chunk",
                                              h.free_space_offset)),
               48, 0);
        trusted_header = false;
      }
    }
    Records(kChunkHeaderSize, limit, trusted_header);
    if (options_.carve && limit < chunk_.size()) Carve(limit, chunk_.size());
  }

 private:
  // Strict mode turns a checksum mismatch into a fatal error for the file.
  bool Checksum(std::string message) {
    Status s = Status::Corruption(std::move(message));
    Report(s, 0, 0);
    if (options_.strict) {
      out_->fatal = Status::Corruption(fmt::format("chunk {}: {} (--strict)", index_, s.message()))
                        .At(std::string(file_name_), file_offset_);
      return false;
    }
    return true;
  }

  void Report(const Status& s, size_t chunk_offset, uint64_t dropped) {
    Status located =
        Recode(s, fmt::format("chunk {} offset 0x{:x}: {}", index_, chunk_offset, s.message()));
    located.At(std::string(file_name_), file_offset_ + chunk_offset);
    out_->reports.push_back(ChunkOutput::Report{std::move(located), dropped});
    out_->bytes_dropped += dropped;
  }

  // Next offset in [from, limit) where a valid record starts, or limit.
  size_t ScanForRecord(size_t from, size_t limit) {
    for (size_t pos = from; pos + kRecordHeaderSize <= limit; ++pos) {
      const void* hit = std::memchr(chunk_.data() + pos, 0x2a, limit - pos);
      if (hit == nullptr) break;
      pos = static_cast<const uint8_t*>(hit) - chunk_.data();
      RecordHeader h;
      if (ReadRecordHeader(chunk_, pos, &h) == RecordCheck::kValid && pos + h.size <= limit &&
          LooksLikeRecordBody(chunk_, pos) && !Seen(h.record_id)) {
        return pos;
      }
    }
    return limit;
  }

  // Whether a record with this id was decoded from this chunk. A linear
  // search: it runs only on resync and carving candidates, while a hash-set
  // insert per record cost a heap node for every record of every chunk.
  bool Seen(uint64_t record_id) const {
    return std::find(seen_.begin(), seen_.end(), record_id) != seen_.end();
  }

  static bool AllZero(std::span<const uint8_t> b) {
    return std::all_of(b.begin(), b.end(), [](uint8_t c) { return c == 0; });
  }

  void Records(size_t pos, size_t limit, bool trusted) {
    if (!trusted) {
      pos = ScanForRecord(pos, limit);
      scanning_ = true;
    }
    while (pos + kRecordHeaderSize <= limit) {
      RecordHeader h;
      const RecordCheck check = ReadRecordHeader(chunk_, pos, &h);
      if (check == RecordCheck::kBad || pos + h.size > limit) {
        if (AllZero(chunk_.subspan(pos, limit - pos))) return;  // unused tail
        const size_t next = ScanForRecord(pos + 1, limit);
        Report(Status::Corruption(next < limit ? "bad record header; resynchronised at the next "
                                                 "record signature"
                                               : "bad record header; no valid record after it"),
               pos, next - pos);
        pos = next;
        scanning_ = true;  // the records from here on would be lost without the resync
        continue;
      }
      if (check == RecordCheck::kCopyMismatch) {
        // Seen in records Windows was writing when the log was copied: the
        // header is whole, the tail is not. Decode what is there.
        Report(Status::Corruption(fmt::format("record {}: trailing size copy differs from size {}",
                                              h.record_id, h.size)),
               pos, 0);
      }
      Record(pos, h);
      pos += h.size;
    }
  }

  // Records in the slack space after the free-space offset (stale copies
  // Windows left behind), skipping ids already decoded from this chunk.
  void Carve(size_t from, size_t to) {
    scanning_ = true;
    size_t pos = ScanForRecord(from, to);
    while (pos < to) {
      RecordHeader h;
      ReadRecordHeader(chunk_, pos, &h);
      Record(pos, h);
      pos = ScanForRecord(pos + h.size, to);
    }
  }

  // Resets the event and the builder for the record at `pos`.
  void StartRecord(size_t pos, const RecordHeader& h) {
    event_.Reset();
    // EventRecordID, when the record has one, replaces record_id (EventBuilder).
    event_.record_id = h.record_id;
    event_.record_number = h.record_id;
    event_.time = h.written;
    event_.where = SourceLocation{file_name_, file_offset_ + pos, 0, index_};
    builder_.Begin(&event_);
  }

  // Fills event_ from the record's body [begin, end): from the template's
  // plan where the record fits it, else by walking it.
  Status FillRecord(size_t pos, const RecordHeader& h, uint32_t begin, uint32_t end) {
    StartRecord(pos, h);
    switch (FillFromPlan(begin, end)) {
      case Fill::kDone:
        return Status::OK();
      case Fill::kWalkWanted:
        // The header came from the plan and the gate said yes, but the plan
        // cannot fill this payload: walk the record from a clean start
        // without asking the gate again.
        StartRecord(pos, h);
        builder_.PresetGate(true);
        return walker_.WalkFragment(begin, end, builder_);
      case Fill::kWalk:
        break;
      case Fill::kWalkAgain:
        // Partly filled before the plan gave up (and, in direct JSON, partly
        // written: Begin rewinds that): walk from a clean start.
        StartRecord(pos, h);
        break;
    }
    return walker_.WalkFragment(begin, end, builder_);
  }

  void Record(size_t pos, const RecordHeader& h) {
    seen_.push_back(h.record_id);
    const uint32_t begin = static_cast<uint32_t>(pos + kRecordHeaderSize);
    const uint32_t end = static_cast<uint32_t>(pos + h.size - 4);
    const bool json = options_.render == ChunkDecodeOptions::Render::kJson;
    // JSON goes straight into the chunk's text, after the previous record's
    // (text past json_end_ is padding kept from earlier chunks); XML appends.
    const size_t text_begin = json ? json_end_ : out_->text.size();
    JsonCursor cursor = JsonCursor::At(&out_->text, text_begin);
    const size_t fields_begin = out_->fields.size();
    builder_.set_json(json ? &cursor : nullptr);
    Status s = FillRecord(pos, h, begin, end);
    if (s.ok() && json && !builder_.FinishJson(EventJsonOptions{})) {
      // A System field after the payload: decode again into Event::data and
      // render the event as a whole.
      cursor.Rewind(text_begin);
      builder_.set_json(nullptr);
      s = FillRecord(pos, h, begin, end);
      if (s.ok()) WriteEventJson(event_, EventJsonOptions{}, cursor);
    }
    builder_.set_json(nullptr);
    if (s.ok() && options_.render == ChunkDecodeOptions::Render::kXml) {
      XmlRenderer xml(&out_->text);
      xml.BeginDocument();
      s = walker_.WalkFragment(begin, end, xml);
      xml.EndDocument();
    }
    if (!s.ok()) {
      const Where* w = s.where();
      const size_t at = w != nullptr && w->offset != Where::kNone ? w->offset : pos;
      Report(Recode(s, fmt::format("record {} at chunk offset 0x{:x}: {}", h.record_id, pos,
                                   s.message())),
             at, h.size);
      if (!json) out_->text.resize(text_begin);
      return;
    }
    if (scanning_) ++out_->records_recovered;
    if (builder_.payload_skipped()) {
      ++out_->records_skipped_payload;
      event_.payload_declined = true;
    }
    // Keep the fields in the shared vector and store the event without its
    // vector, so storing an event allocates nothing.
    out_->fields.insert(out_->fields.end(), event_.data.begin(), event_.data.end());
    std::vector<DataField> keep;
    keep.swap(event_.data);
    out_->events.push_back(event_);
    keep.swap(event_.data);
    out_->ranges.emplace_back(static_cast<uint32_t>(fields_begin),
                              static_cast<uint32_t>(out_->fields.size()));
    if (options_.render != ChunkDecodeOptions::Render::kNone) {
      const size_t text_end = json ? cursor.pos() : out_->text.size();
      out_->text_ranges.emplace_back(static_cast<uint32_t>(text_begin),
                                     static_cast<uint32_t>(text_end));
      if (json && options_.newline_after_record) cursor.Char('\n');
      out_->text_size = json_end_ = json ? cursor.pos() : text_end;
    }
  }

  enum class Fill : uint8_t {
    kDone,        // filled from the plan (or its payload declined)
    kWalk,        // nothing filled: walk the record
    kWalkWanted,  // header filled, gate said yes, payload needs the walker
    kWalkAgain,   // partly filled, gate not asked: walk from a clean start
  };

  // The fast path: a record that is one template instance whose values fit
  // the template's plan, or, when a gate is set, whose header does.
  Fill FillFromPlan(uint32_t begin, uint32_t end) {
    const Fill fill = TryPlan(begin, end);
    if (fill != Fill::kDone) ++out_->records_walked;
    return fill;
  }

  Fill TryPlan(uint32_t begin, uint32_t end) {
    if (!options_.use_plans) return Fill::kWalk;
    const EventPlan* plan = nullptr;
    bool header_only = false;
    if (!InstancePlan(begin, end, PlanStart{}, &plan, &values_,
                      options_.want_payload != nullptr ? &header_only : nullptr)) {
      return Fill::kWalk;
    }
    if (header_only) {
      builder_.ApplyPlan(*plan, values_, nullptr, nullptr, /*header_only=*/true);
      return builder_.payload_wanted() ? Fill::kWalkWanted : Fill::kDone;
    }
    // Without a gate every payload is filled: one the plan will not fill is
    // walked now rather than after the header (with a gate, declined records
    // must not pay for looking).
    if (options_.want_payload == nullptr && !plan->payload_nested.empty() &&
        !PayloadNestedMayFit(*plan, values_)) {
      return Fill::kWalk;
    }
    if (!ResolveUnderEvent(*plan)) return Fill::kWalk;
    // Nested instances inside EventData/UserData are resolved when ApplyPlan
    // reaches them, after the gate, as the walker expands them: a declined
    // record never reads them.
    if (builder_.ApplyPlan(*plan, values_, &ChunkRun::LookupNested, this)) return Fill::kDone;
    return builder_.gate_asked() ? Fill::kWalkWanted : Fill::kWalkAgain;
  }

  // Instances right under <Event> (Security's EventData) hold the payload
  // start, and the walker expands them before the gate is asked: they are
  // resolved before anything is filled, so a record whose instance the plan
  // cannot fill (or that is corrupt) is walked from a clean start.
  bool ResolveUnderEvent(const EventPlan& plan) {
    under_event_count_ = 0;
    for (const PlanItem& item : plan.items) {
      if (item.kind != PlanItem::kNested || item.start.section != PlanSection::kNone ||
          static_cast<size_t>(item.subst) >= values_.size()) {
        continue;
      }
      const ValueRef& v = values_[item.subst];
      if (v.is_null()) continue;
      if (v.type != kBinXml) return false;
      if (under_event_count_ == under_event_.size()) under_event_.emplace_back();
      Nested& n = under_event_[under_event_count_++];
      n.subst = static_cast<uint16_t>(item.subst);
      const uint32_t vb = v.chunk_offset;
      if (!InstancePlan(vb, vb + static_cast<uint32_t>(v.bytes.size()), item.start, &n.frame.plan,
                        &n.values)) {
        return false;
      }
      n.frame.values = n.values;
    }
    return true;
  }

  // The plan and values of the single template instance in [begin, end), if
  // that is what the fragment holds and its values fit the plan; or, with
  // `header_only` not null, fit the header part only (*header_only is set).
  bool InstancePlan(uint32_t begin, uint32_t end, PlanStart start, const EventPlan** plan,
                    std::vector<ValueRef>* values, bool* header_only = nullptr) {
    const Template* tmpl = nullptr;
    uint32_t values_offset = 0;
    if (!ParseSingleInstance(ctx_, begin, end, &tmpl, &values_offset, values)) return false;
    const EventPlan* p = nullptr;
    if (tmpl->shared != nullptr && CachedTemplate::PlanSlot(start) >= 0) {
      p = &tmpl->shared->Plan(start);  // planned once per file, not per chunk
    } else {
      auto [it, inserted] = plans_.try_emplace(PlanKey{tmpl, start});
      if (inserted) it->second = BuildEventPlan(tmpl->ops, start);
      p = &it->second;
    }
    *plan = p;
    if (PlanFits(*p, *values)) return true;
    if (header_only != nullptr && PlanFitsHeader(*p, *values)) {
      *header_only = true;
      return true;
    }
    return false;
  }

  // EventBuilder::NestedLookup: the instance in a kNested item's BinXml
  // value; one right under <Event> as ResolveUnderEvent found it, any other
  // read now, its values kept in the slot of its nesting level (a frame is in
  // use until the items of its own plan are filled).
  static const EventBuilder::NestedFrame* LookupNested(void* ctx, const PlanItem& item,
                                                       const ValueRef& value, int level) {
    auto* run = static_cast<ChunkRun*>(ctx);
    if (level == 1 && item.start.section == PlanSection::kNone) {
      for (size_t i = 0; i < run->under_event_count_; ++i) {
        if (run->under_event_[i].subst == item.subst) return &run->under_event_[i].frame;
      }
      return nullptr;
    }
    if (level < 1 || static_cast<size_t>(level) > run->nested_.size()) return nullptr;
    Nested& n = run->nested_[level - 1];
    const uint32_t vb = value.chunk_offset;
    if (!run->InstancePlan(vb, vb + static_cast<uint32_t>(value.bytes.size()), item.start,
                           &n.frame.plan, &n.values)) {
      return nullptr;
    }
    n.frame.values = n.values;
    return &n.frame;
  }

  struct PlanKey {
    const Template* tmpl;
    PlanStart start;
    bool operator==(const PlanKey&) const = default;
  };
  struct PlanKeyHash {
    size_t operator()(const PlanKey& k) const {
      return std::hash<const void*>()(k.tmpl) ^
             (static_cast<size_t>(k.start.depth) << 2 | static_cast<size_t>(k.start.section));
    }
  };
  struct Nested {
    uint16_t subst = 0;  // under_event_ only
    EventBuilder::NestedFrame frame{};
    std::vector<ValueRef> values;
  };
  // Nested instances inside nested instances this deep are walked.
  static constexpr size_t kMaxNestedLevels = 4;

  std::span<const uint8_t> chunk_;
  size_t size_in_file_;  // chunk_ may be its first bytes only (DecodeChunk)
  uint32_t index_;
  uint64_t file_offset_;
  std::string_view file_name_;
  const ChunkDecodeOptions& options_;
  ChunkOutput* out_;
  ChunkContext ctx_;
  Walker walker_;
  EventBuilder builder_;
  Event event_;
  // Ids of the records decoded so far (at most a few hundred per chunk).
  std::vector<uint64_t> seen_;
  // Records are being found by scanning (resync, bad chunk header, carving):
  // they count as recovered.
  bool scanning_ = false;
  // Plans of this chunk's templates; templates live as long as ctx_.
  std::unordered_map<PlanKey, EventPlan, PlanKeyHash> plans_;
  std::vector<Nested> under_event_;  // the first under_event_count_ are this record's
  size_t under_event_count_ = 0;
  std::array<Nested, kMaxNestedLevels> nested_;
  std::vector<ValueRef> values_;
  size_t json_end_ = 0;  // end of the last record's JSON in out_->text
};

}  // namespace

void DecodeChunk(std::span<const uint8_t> chunk, uint32_t index, uint64_t file_offset,
                 std::string_view file_name, const ChunkDecodeOptions& options, ChunkOutput* out,
                 TemplateCache* cache, size_t size_in_file) {
  out->Clear();
  ChunkRun(chunk, index, file_offset, file_name, options, out, cache, size_in_file).Run();
  // Records that failed after rendering megabytes (up to the walker's
  // bounds) leave the text's capacity behind; every output slot in flight
  // keeping that much would multiply it, so only what is kept is kept.
  constexpr size_t kKeepTextCapacity = size_t{4} << 20;
  if (out->text.capacity() > kKeepTextCapacity && out->text_size <= kKeepTextCapacity / 2) {
    out->text.resize(out->text_size);
    out->text.shrink_to_fit();
  }
}

}  // namespace eventsift::evtx
