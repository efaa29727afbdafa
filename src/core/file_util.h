#pragma once
// std::FILE handles owned by a unique_ptr: every fopen in eventsift goes
// through OpenFile and every fclose through CloseFile or the deleter, so a
// handle cannot leak on an early return and is closed exactly once.

#include <cstdio>
#include <memory>
#include <string>

namespace eventsift {

struct FileCloser {
  void operator()(std::FILE* f) const noexcept {
    // The one place a FILE* is released; CloseFile reports the result.
    if (f != nullptr) std::fclose(f);  // NOLINT(cppcoreguidelines-owning-memory)
  }
};
using UniqueFile = std::unique_ptr<std::FILE, FileCloser>;

// fopen(path, mode); null (errno set) when it fails.
inline UniqueFile OpenFile(const std::string& path, const char* mode) {
  return UniqueFile(std::fopen(path.c_str(), mode));  // NOLINT(cppcoreguidelines-owning-memory)
}

// fopen(path, "ab") for files of lines: when the file ends inside a line
// (a writer killed mid-write), a line feed is written first, so the next
// line starts whole instead of fusing with the cut one.
inline UniqueFile OpenFileAppendLines(const std::string& path) {
  UniqueFile f = OpenFile(path, "ab+");
  if (f == nullptr) return f;
  if (std::fseek(f.get(), -1, SEEK_END) == 0) {  // fails on an empty file
    int last = std::fgetc(f.get());
    // stdio wants a seek between a read and a write.
    std::fseek(f.get(), 0, SEEK_END);
    if (last != '\n' && last != EOF) std::fputc('\n', f.get());
  }
  return f;
}

// Closes `f` and says whether everything buffered reached the file (fclose's
// result, which the deleter cannot report).
inline bool CloseFile(UniqueFile f) {
  return f == nullptr || std::fclose(f.release()) == 0;  // NOLINT(cppcoreguidelines-owning-memory)
}

}  // namespace eventsift
