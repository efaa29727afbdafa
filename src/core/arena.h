#pragma once
// Arena: bump allocator for strings that events borrow (decoded UTF-16,
// unescaped JSON). Reset() between batches keeps the blocks, so a steady-state
// decoder allocates nothing per event. Views handed out live until Reset() or
// destruction.

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace eventsift {

class Arena {
 public:
  explicit Arena(size_t block_size = 64 * 1024) : block_size_(block_size) {}
  Arena(const Arena&) = delete;  // views point into our blocks
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&&) noexcept = default;
  Arena& operator=(Arena&&) noexcept = default;

  char* Allocate(size_t n) {
    if (n > remaining_) NewBlock(n);
    char* p = cursor_;
    cursor_ += n;
    remaining_ -= n;
    return p;
  }
  std::string_view Copy(std::string_view s) {
    if (s.empty()) return {};
    char* p = Allocate(s.size());
    std::memcpy(p, s.data(), s.size());
    return {p, s.size()};
  }
  // Drop all views, keep the first block for reuse.
  void Reset() {
    if (blocks_.size() > 1) blocks_.resize(1);
    if (!blocks_.empty()) {
      cursor_ = blocks_[0].data.get();
      remaining_ = blocks_[0].size;
    }
  }
  size_t bytes_reserved() const {
    size_t total = 0;
    for (const auto& b : blocks_) total += b.size;
    return total;
  }

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size;
  };
  void NewBlock(size_t min) {
    size_t size = min > block_size_ ? min : block_size_;
    blocks_.push_back(Block{std::make_unique<char[]>(size), size});
    cursor_ = blocks_.back().data.get();
    remaining_ = size;
  }
  size_t block_size_;
  std::vector<Block> blocks_;
  char* cursor_ = nullptr;
  size_t remaining_ = 0;
};

}  // namespace eventsift
