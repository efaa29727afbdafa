#include "src/detect/literal_set_cache.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <hs/hs.h>
#include <xxhash.h>

#include "src/core/file_util.h"

namespace eventsift::detect {

namespace {

constexpr std::string_view kMagic = "eventsift literal set 1\n";
// SigmaHQ's largest set serializes to a few MiB; anything far past that is
// not a file this code wrote.
constexpr long kMaxFileBytes = 256L << 20;

std::string PathFor(const std::string& directory, const LiteralSetKey& key) {
  return fmt::format("{}/hs-{:016x}{:016x}.db", directory, key.high, key.low);
}

// mkdir -p for the last two levels at most ($HOME/.cache/eventsift).
bool MakeDirectory(const std::string& path) {
  if (mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return true;
  if (errno != ENOENT) return false;
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return false;
  const std::string parent = path.substr(0, slash);
  if (mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) return false;
  return mkdir(path.c_str(), 0700) == 0 || errno == EEXIST;
}

}  // namespace

std::string LiteralSetCacheDirectory() {
  std::string directory;
  if (const char* set = std::getenv("EVENTSIFT_CACHE_DIR"); set != nullptr && *set != '\0') {
    if (std::string_view(set) == "off") return "";
    directory = set;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    directory = std::string(xdg) + "/eventsift";
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') {
    directory = std::string(home) + "/.cache/eventsift";
  } else {
    return "";
  }
  if (!MakeDirectory(directory) || access(directory.c_str(), W_OK | X_OK) != 0) return "";
  return directory;
}

hs_database* LoadCachedLiteralSet(const std::string& directory, const LiteralSetKey& key) {
  UniqueFile file = OpenFile(PathFor(directory, key), "rb");
  if (file == nullptr) return nullptr;
  if (std::fseek(file.get(), 0, SEEK_END) != 0) return nullptr;
  const long size = std::ftell(file.get());
  const long header = static_cast<long>(kMagic.size() + sizeof(uint64_t));
  if (size <= header || size > kMaxFileBytes || std::fseek(file.get(), 0, SEEK_SET) != 0) {
    return nullptr;
  }
  std::vector<char> bytes(static_cast<size_t>(size));
  if (std::fread(bytes.data(), 1, bytes.size(), file.get()) != bytes.size()) return nullptr;
  if (std::string_view(bytes.data(), kMagic.size()) != kMagic) return nullptr;
  uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + kMagic.size(), sizeof stored);
  const char* payload = bytes.data() + header;
  const size_t payload_size = bytes.size() - static_cast<size_t>(header);
  if (XXH3_64bits(payload, payload_size) != stored) return nullptr;
  hs_database_t* db = nullptr;
  if (hs_deserialize_database(payload, payload_size, &db) != HS_SUCCESS) return nullptr;
  return db;
}

bool StoreCachedLiteralSet(const std::string& directory, const LiteralSetKey& key,
                           const hs_database* db) {
  char* payload = nullptr;
  size_t payload_size = 0;
  if (hs_serialize_database(db, &payload, &payload_size) != HS_SUCCESS) return false;
  // Hyperscan allocates the bytes with malloc (hs_set_misc_allocator not used).
  std::unique_ptr<char, decltype(&std::free)> owned(payload, &std::free);
  const uint64_t hash = XXH3_64bits(payload, payload_size);
  const std::string path = PathFor(directory, key);
  // Unique per process and call: two loads may store the same set at once.
  static std::atomic<uint64_t> serial{0};
  const std::string temporary = fmt::format("{}.{}.{}.tmp", path, getpid(), serial++);
  UniqueFile file = OpenFile(temporary, "wb");
  if (file == nullptr) return false;
  bool ok = std::fwrite(kMagic.data(), 1, kMagic.size(), file.get()) == kMagic.size() &&
            std::fwrite(&hash, sizeof hash, 1, file.get()) == 1 &&
            std::fwrite(payload, 1, payload_size, file.get()) == payload_size;
  ok = CloseFile(std::move(file)) && ok;
  if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return false;
  }
  return true;
}

}  // namespace eventsift::detect
