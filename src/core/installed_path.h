#pragma once
// Where an installed eventsift keeps its files, found from the running
// binary: it is PREFIX/bin/eventsift, its data is under
// PREFIX/share/eventsift/ and its modules under PREFIX/lib/eventsift/. The
// build tree has the same layout (bin/ and lib/ are siblings).

#include <filesystem>
#include <optional>
#include <system_error>

namespace eventsift {

// PREFIX/`relative` for the running binary, normalised, or nullopt when
// /proc/self/exe cannot be read. /proc/self/exe has its symlinks resolved,
// so removing "bin/.." by text names the same directory the kernel would.
inline std::optional<std::filesystem::path> InstalledPath(const std::filesystem::path& relative) {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  return (exe.parent_path() / ".." / relative).lexically_normal();
}

}  // namespace eventsift
