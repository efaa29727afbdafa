#include "src/detect/literal_set.h"

#include <atomic>
#include <cstdint>
#include <mutex>

#include <hs/hs.h>
#include <xxhash.h>

#include "src/detect/literal_set_cache.h"

namespace eventsift::detect {

namespace {

struct ScratchDeleter {
  void operator()(hs_scratch_t* scratch) const { hs_free_scratch(scratch); }
};
using ScratchPtr = std::unique_ptr<hs_scratch_t, ScratchDeleter>;

// Hyperscan needs scratch memory per thread, sized for the databases it
// scans. One prototype serves the whole process: every database compiled
// grows it (it never shrinks: its size is the largest need, not a sum), and
// bumps `epoch`; a thread clones the prototype again when the epoch it holds
// is older. So a scan costs one atomic load, not a size check per database.
struct Prototype {
  std::mutex mutex;
  ScratchPtr scratch;  // guarded by mutex
  std::atomic<uint64_t> epoch{0};
};

Prototype& SharedPrototype() {
  static Prototype prototype;
  return prototype;
}

bool GrowPrototype(const hs_database_t* db) {
  Prototype& prototype = SharedPrototype();
  std::lock_guard<std::mutex> lock(prototype.mutex);
  hs_scratch_t* scratch = prototype.scratch.release();
  const hs_error_t status = hs_alloc_scratch(db, &scratch);
  prototype.scratch.reset(scratch);
  if (status != HS_SUCCESS) return false;
  prototype.epoch.fetch_add(1, std::memory_order_release);
  return true;
}

// This thread's scratch, fit for every database compiled before the caller
// got hold of its set (that hand-over orders the epoch's update before this
// load); null when memory ran out.
hs_scratch_t* ThreadScratch() {
  thread_local ScratchPtr mine;
  thread_local uint64_t mine_epoch = 0;
  Prototype& prototype = SharedPrototype();
  if (prototype.epoch.load(std::memory_order_acquire) != mine_epoch || mine == nullptr) {
    std::lock_guard<std::mutex> lock(prototype.mutex);
    hs_scratch_t* clone = nullptr;
    if (prototype.scratch == nullptr ||
        hs_clone_scratch(prototype.scratch.get(), &clone) != HS_SUCCESS) {
      return nullptr;
    }
    mine.reset(clone);
    mine_epoch = prototype.epoch.load(std::memory_order_relaxed);
  }
  return mine.get();
}

}  // namespace

// What a scan's match callback sees.
struct LiteralSetScan {
  const LiteralSet* set;
  size_t text_size;
  std::vector<int>* hits;   // null: stop at the first match
  std::vector<int>* atoms;  // null: atoms are not wanted
  bool found = false;

  // A match of entry `id` ending at `to` counts unless an anchor rules it out.
  bool Counts(unsigned id, unsigned long long to) const {
    const LiteralSet::Entry& e = set->entries_[id];
    if (e.anchored_start && to != e.length) return false;
    if (e.anchored_end && to != text_size) return false;
    return true;
  }

  static int OnMatch(unsigned id, unsigned long long /*from*/, unsigned long long to,
                     unsigned /*flags*/, void* context) {
    auto* scan = static_cast<LiteralSetScan*>(context);
    const LiteralSet::Entry& entry = scan->set->entries_[id];
    if (entry.atom) {
      if (scan->atoms != nullptr) scan->atoms->push_back(entry.index);
      return 0;
    }
    if (!scan->Counts(id, to)) return 0;
    scan->found = true;
    if (scan->hits == nullptr) return 1;  // stop: the answer is known
    scan->hits->push_back(scan->set->entries_[id].index);
    return 0;
  }
};

void LiteralSet::DatabaseDeleter::operator()(hs_database* db) const { hs_free_database(db); }

LiteralSet::LiteralSet() = default;
LiteralSet::~LiteralSet() = default;

void LiteralSet::Add(int index, std::string_view text, bool case_insensitive, bool anchored_start,
                     bool anchored_end) {
  entries_.push_back(
      Entry{index, static_cast<uint32_t>(text.size()), anchored_start, anchored_end, false});
  texts_.emplace_back(text);
  unsigned flags = case_insensitive ? HS_FLAG_CASELESS : 0;
  // An unanchored literal counts once, however often it occurs. An anchored
  // one must see every occurrence: the first may not be the one at the
  // anchor, and only one occurrence can be (it ends at a fixed offset), so
  // it is still listed once.
  if (!anchored_start && !anchored_end) flags |= HS_FLAG_SINGLEMATCH;
  flags_.push_back(flags);
}

LiteralSetKey LiteralSet::Key() const {
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  const std::string_view version = hs_version();
  XXH3_128bits_update(state, version.data(), version.size());
  hs_platform_info_t platform{};
  if (hs_populate_platform(&platform) == HS_SUCCESS) {
    XXH3_128bits_update(state, &platform.tune, sizeof platform.tune);
    XXH3_128bits_update(state, &platform.cpu_features, sizeof platform.cpu_features);
  }
  for (size_t i = 0; i < texts_.size(); ++i) {
    const uint64_t head[2] = {flags_[i], texts_[i].size()};
    XXH3_128bits_update(state, head, sizeof head);
    XXH3_128bits_update(state, texts_[i].data(), texts_[i].size());
  }
  const XXH128_hash_t hash = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  return LiteralSetKey{hash.high64, hash.low64};
}

void LiteralSet::AddAtom(int atom, std::string_view text) {
  entries_.push_back(Entry{atom, static_cast<uint32_t>(text.size()), false, false, true});
  texts_.emplace_back(text);
  flags_.push_back(HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH);
}

bool LiteralSet::Compile() {
  if (entries_.empty() || hs_valid_platform() != HS_SUCCESS) return false;
  const std::string cache = LiteralSetCacheDirectory();
  const LiteralSetKey key = cache.empty() ? LiteralSetKey{} : Key();
  hs_database_t* db = cache.empty() ? nullptr : LoadCachedLiteralSet(cache, key);
  from_cache_ = db != nullptr;
  if (db == nullptr) {
    std::vector<const char*> texts;
    std::vector<size_t> lengths;
    std::vector<unsigned> ids;
    for (size_t i = 0; i < texts_.size(); ++i) {
      texts.push_back(texts_[i].data());
      lengths.push_back(texts_[i].size());
      ids.push_back(static_cast<unsigned>(i));
    }
    hs_compile_error_t* error = nullptr;
    if (hs_compile_lit_multi(texts.data(), flags_.data(), ids.data(), lengths.data(),
                             static_cast<unsigned>(texts.size()), HS_MODE_BLOCK, nullptr, &db,
                             &error) != HS_SUCCESS) {
      hs_free_compile_error(error);
      return false;
    }
    if (!cache.empty()) StoreCachedLiteralSet(cache, key, db);
  }
  database_.reset(db);
  // The texts live on in the database; only the entries are needed now.
  texts_ = {};
  flags_ = {};
  if (!GrowPrototype(db)) {
    database_.reset();
    return false;
  }
  return true;
}

bool LiteralSet::FindAny(std::string_view text, bool* ok, std::vector<int>* atoms) const {
  hs_scratch_t* scratch = ThreadScratch();
  *ok = scratch != nullptr && database_ != nullptr;
  if (!*ok) return false;
  LiteralSetScan scan{this, text.size(), nullptr, atoms};
  const hs_error_t status =
      hs_scan(database_.get(), text.data(), static_cast<unsigned>(text.size()), 0, scratch,
              &LiteralSetScan::OnMatch, &scan);
  *ok = status == HS_SUCCESS || status == HS_SCAN_TERMINATED;
  return *ok && scan.found;
}

bool LiteralSet::FindAll(std::string_view text, std::vector<int>* hits,
                         std::vector<int>* atoms) const {
  hs_scratch_t* scratch = ThreadScratch();
  if (scratch == nullptr || database_ == nullptr) return false;
  LiteralSetScan scan{this, text.size(), hits, atoms};
  return hs_scan(database_.get(), text.data(), static_cast<unsigned>(text.size()), 0, scratch,
                 &LiteralSetScan::OnMatch, &scan) == HS_SUCCESS;
}

}  // namespace eventsift::detect
