#pragma once
// Compiled literal sets (literal_set.h) kept on disk between runs.
//
// Why: Hyperscan takes ~0.6 CPU s to compile the literals of SigmaHQ's
// Windows rules (the CommandLine field alone, 5,104 literals: ~140 ms), more
// than half of the rest of rule loading; a compiled database loads again in
// milliseconds. Suricata keeps its Hyperscan databases the same way.
//
// Where: $EVENTSIFT_CACHE_DIR, else $XDG_CACHE_HOME/eventsift, else
// $HOME/.cache/eventsift; EVENTSIFT_CACHE_DIR=off keeps nothing. A directory
// that cannot be made or written only means compiling every time.
//
// A file is named by a 128-bit hash of what was compiled (Hyperscan's
// version, this CPU's features, every literal with its flags), and holds a
// magic line, the hash of its payload and the payload (Hyperscan's
// serialized database): a file that is short, damaged or from another
// build is ignored and written again. Files are written whole under a
// temporary name and renamed, so processes sharing the directory never read
// half a file.

#include <cstdint>
#include <string>
#include <string_view>

struct hs_database;

namespace eventsift::detect {

struct LiteralSetKey {
  uint64_t high = 0;
  uint64_t low = 0;
};

// The cache directory in use, "" when none (see above).
std::string LiteralSetCacheDirectory();

// The database cached under `key` in `directory`, or null.
hs_database* LoadCachedLiteralSet(const std::string& directory, const LiteralSetKey& key);

// Writes `db` under `key`; false when it could not (nothing is left behind).
bool StoreCachedLiteralSet(const std::string& directory, const LiteralSetKey& key,
                           const hs_database* db);

}  // namespace eventsift::detect
