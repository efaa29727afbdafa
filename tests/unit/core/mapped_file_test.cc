#include "src/core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "src/core/sigbus_guard.h"

namespace eventsift {
namespace {

constexpr size_t kFileBytes = 16 * 4096;

// A file of `size` bytes of 0xAB, open read-only; removed with the object.
// The name has no process id: a death test's child makes the same file
// again, and the parent removes it.
class TempFile {
 public:
  explicit TempFile(const std::string& tag, size_t size = kFileBytes)
      : path_((std::filesystem::temp_directory_path() / ("mapped_file_test_" + tag)).string()) {
    std::string bytes(size, '\xAB');
    std::ofstream(path_, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(size));
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  }
  ~TempFile() {
    ::close(fd_);
    std::filesystem::remove(path_);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  int fd() const { return fd_; }
  void Truncate(uint64_t size) const { std::filesystem::resize_file(path_, size); }

 private:
  std::string path_;
  int fd_ = -1;
};

// Reads through a volatile pointer so the load is not optimised away.
uint8_t ReadByte(const uint8_t* p) { return *static_cast<const volatile uint8_t*>(p); }

TEST(MappedFileTest, MapsTheWholeFile) {
  TempFile f("whole");
  auto map = MappedFile::Map(f.fd(), kFileBytes);
  ASSERT_NE(map, nullptr);
  ASSERT_EQ(map->bytes().size(), kFileBytes);
  for (size_t i = 0; i < kFileBytes; i += 1000) EXPECT_EQ(ReadByte(&map->bytes()[i]), 0xAB);
  EXPECT_EQ(map->FirstFault(), UINT64_MAX);
  EXPECT_TRUE(map->CheckRange(0, kFileBytes, true, "f.bin").ok());
}

TEST(MappedFileTest, AnEmptyFileOrABadDescriptorIsNotMapped) {
  TempFile f("empty", 0);
  EXPECT_EQ(MappedFile::Map(f.fd(), 0), nullptr);
  EXPECT_EQ(MappedFile::Map(-1, 100), nullptr);
}

TEST(MappedFileTest, ReadingPastAShrunkEndGivesZerosAndRecordsTheFault) {
  TempFile f("shrunk");
  auto map = MappedFile::Map(f.fd(), kFileBytes);
  ASSERT_NE(map, nullptr);
  f.Truncate(5000);
  const uint8_t* p = map->bytes().data();
  EXPECT_EQ(ReadByte(p + 4999), 0xAB);  // still in the file
  // The rest of the last page reads zeros without a fault (the kernel's
  // rule), so the size check is what finds it.
  EXPECT_EQ(ReadByte(p + 5000), 0);
  EXPECT_EQ(map->FirstFault(), UINT64_MAX);
  // Pages past it are gone: zeros, and the lowest one is recorded.
  EXPECT_EQ(ReadByte(p + 12000), 0);
  EXPECT_EQ(map->FirstFault(), 8192u);
  EXPECT_EQ(ReadByte(p + 9000), 0);
  EXPECT_EQ(map->FirstFault(), 8192u);
  EXPECT_EQ(ReadByte(p + 12001), 0);  // the zero page stays
  EXPECT_EQ(map->FirstFault(), 8192u);

  EXPECT_TRUE(map->CheckRange(0, 4096, false, "f.bin").ok());
  EXPECT_TRUE(map->CheckRange(0, 4096, true, "f.bin").ok());
  // Ends below the fault, but past the file's new end: only the size says.
  EXPECT_TRUE(map->CheckRange(4096, 2000, false, "f.bin").ok());
  const Status by_size = map->CheckRange(4096, 2000, true, "f.bin");
  EXPECT_EQ(by_size.code(), StatusCode::kIOError);
  EXPECT_NE(by_size.message().find("file shrank while read"), std::string::npos);
  EXPECT_NE(by_size.message().find("from offset 5000"), std::string::npos) << by_size.ToString();
  // A range reaching the faulting page fails without asking the size.
  const Status by_fault = map->CheckRange(8192, 4096, false, "f.bin");
  EXPECT_EQ(by_fault.code(), StatusCode::kIOError);
  EXPECT_NE(by_fault.ToString().find("f.bin@0x2000"), std::string::npos) << by_fault.ToString();
}

TEST(MappedFileTest, ReleasedPagesReadTheFileAgain) {
  TempFile f("release");
  auto map = MappedFile::Map(f.fd(), kFileBytes);
  ASSERT_NE(map, nullptr);
  EXPECT_EQ(ReadByte(map->bytes().data() + 100), 0xAB);
  map->Release(3 * 4096 + 10);  // rounded down to whole pages
  EXPECT_EQ(ReadByte(map->bytes().data() + 100), 0xAB);
  EXPECT_EQ(ReadByte(map->bytes().data() + kFileBytes - 1), 0xAB);
  EXPECT_EQ(map->FirstFault(), UINT64_MAX);
}

TEST(MappedFileTest, ThreadsFaultingInTheirOwnMappingsRecordTheirOwnFaults) {
  constexpr int kThreads = 6;
  std::vector<std::unique_ptr<TempFile>> files;
  std::vector<std::unique_ptr<MappedFile>> maps;
  for (int t = 0; t < kThreads; ++t) {
    files.push_back(std::make_unique<TempFile>("thread" + std::to_string(t)));
    maps.push_back(MappedFile::Map(files.back()->fd(), kFileBytes));
    ASSERT_NE(maps.back(), nullptr);
    files.back()->Truncate(static_cast<uint64_t>(t + 1) * 4096);
  }
  std::vector<int> nonzero(kThreads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      const uint8_t* p = maps[t]->bytes().data();
      for (int pass = 0; pass < 3; ++pass) {
        for (size_t i = kFileBytes; i-- > 0;) nonzero[t] += ReadByte(p + i) != 0 ? 1 : 0;
      }
    });
  }
  for (auto& th : pool) th.join();
  for (int t = 0; t < kThreads; ++t) {
    SCOPED_TRACE(t);
    EXPECT_EQ(nonzero[t], 3 * (t + 1) * 4096);  // the file's bytes, then zeros
    EXPECT_EQ(maps[t]->FirstFault(), static_cast<uint64_t>(t + 1) * 4096);
  }
}

TEST(MappedFileTest, SeveralThreadsFaultingInOneMappingKeepTheLowestOffset) {
  TempFile f("shared");
  auto map = MappedFile::Map(f.fd(), kFileBytes);
  ASSERT_NE(map, nullptr);
  f.Truncate(4096);
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t) {
    pool.emplace_back([&, t] {
      // Each thread starts at another page and walks down.
      for (size_t page = 15 - static_cast<size_t>(t); page >= 1; --page) {
        EXPECT_EQ(ReadByte(map->bytes().data() + page * 4096 + 7), 0);
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(map->FirstFault(), 4096u);
}

TEST(MappedFileTest, AFullGuardTableRefusesTheMapping) {
  // The reader then falls back to pread.
  TempFile f("full");
  static const uint8_t kDummy[1] = {0};
  std::vector<sigbus::Slot> taken;
  for (sigbus::Slot s; (s = sigbus::Register(kDummy, 1)) >= 0;) taken.push_back(s);
  EXPECT_LE(taken.size(), static_cast<size_t>(sigbus::kMaxRanges));
  EXPECT_EQ(MappedFile::Map(f.fd(), kFileBytes), nullptr);
  for (sigbus::Slot s : taken) sigbus::Unregister(s);
  EXPECT_NE(MappedFile::Map(f.fd(), kFileBytes), nullptr);
}

// A fault outside every guarded mapping: an unguarded mapping of a shrunk
// file, read past its end.
void FaultOutsideGuardedMappings(const TempFile& guarded, const TempFile& raw) {
  auto map = MappedFile::Map(guarded.fd(), kFileBytes);  // the handler is in place
  if (map == nullptr) _exit(1);
  void* p = mmap(nullptr, kFileBytes, PROT_READ, MAP_PRIVATE, raw.fd(), 0);
  if (p == MAP_FAILED) _exit(1);
  raw.Truncate(4096);
  ReadByte(static_cast<const uint8_t*>(p) + 8192);
  _exit(0);  // not reached: SIGBUS
}

#if defined(__SANITIZE_ADDRESS__)
#define ES_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ES_TEST_ASAN 1
#endif
#endif

// Dies of SIGBUS as without our handler. Under ASan, whose own SIGBUS
// handler was installed before ours and is chained to, the sanitizer
// reports the fault and exits non-zero instead.
bool DiedOfSigbus(int status) {
  if (WIFSIGNALED(status)) return WTERMSIG(status) == SIGBUS;
#ifdef ES_TEST_ASAN
  return WIFEXITED(status) && WEXITSTATUS(status) != 0;
#else
  return false;
#endif
}

TEST(MappedFileDeathTest, ASigbusOutsideAnyMappingStillKills) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempFile guarded("guarded"), raw("raw");
  EXPECT_EXIT(FaultOutsideGuardedMappings(guarded, raw), DiedOfSigbus, "");
}

TEST(MappedFileDeathTest, ASigbusSentByKillStillKills) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempFile guarded("killed");
  EXPECT_EXIT(
      {
        auto map = MappedFile::Map(guarded.fd(), kFileBytes);
        if (map == nullptr) _exit(1);
        raise(SIGBUS);
        _exit(0);
      },
      DiedOfSigbus, "");
}

void ExitFromPreviousHandler(int) { _exit(42); }

TEST(MappedFileDeathTest, ASigbusOutsideGoesToTheHandlerInstalledBefore) {
  // threadsafe: the child runs this test alone from a fresh exec, so ours is
  // installed after the test's own handler.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempFile guarded("chain_guarded"), raw("chain_raw");
  EXPECT_EXIT(
      {
        std::signal(SIGBUS, ExitFromPreviousHandler);
        FaultOutsideGuardedMappings(guarded, raw);
      },
      testing::ExitedWithCode(42), "");
}

}  // namespace
}  // namespace eventsift
