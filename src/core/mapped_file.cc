#include "src/core/mapped_file.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <fmt/format.h>

namespace eventsift {

namespace {

uint64_t PageSize() {
  static const auto page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return page;
}

}  // namespace

std::unique_ptr<MappedFile> MappedFile::Map(int fd, uint64_t size) {
  if (fd < 0 || size == 0 || size > SIZE_MAX) return nullptr;
  void* p = mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return nullptr;
  const sigbus::Slot slot = sigbus::Register(p, static_cast<size_t>(size));
  if (slot < 0) {
    munmap(p, static_cast<size_t>(size));
    return nullptr;
  }
  madvise(p, static_cast<size_t>(size), MADV_SEQUENTIAL);
  return std::make_unique<MappedFile>(PrivateTag{}, fd, static_cast<const uint8_t*>(p), size, slot);
}

MappedFile::~MappedFile() {
  sigbus::Unregister(slot_);
  munmap(const_cast<uint8_t*>(data_), static_cast<size_t>(size_));
}

Status MappedFile::CheckRange(uint64_t offset, uint64_t length, bool check_size,
                              std::string_view name) const {
  const uint64_t end = offset + length;
  uint64_t gone = FirstFault();
  if (gone > end && check_size) {
    struct stat st {};
    if (fstat(fd_, &st) == 0 && static_cast<uint64_t>(st.st_size) < end) {
      gone = static_cast<uint64_t>(st.st_size);
    }
  }
  if (gone > end) return Status::OK();
  const uint64_t at = std::max(offset, gone);
  return Status::IOError(fmt::format("file shrank while read: the bytes from offset {} on are gone "
                                     "(the file was {} bytes when opened)",
                                     gone, size_))
      .At(std::string(name), at);
}

void MappedFile::Release(uint64_t offset) const {
  const uint64_t end = std::min(offset, size_) & ~(PageSize() - 1);
  if (end == 0) return;
  madvise(const_cast<uint8_t*>(data_), static_cast<size_t>(end), MADV_DONTNEED);
}

}  // namespace eventsift
