#pragma once
// The process-wide copy of a data file read at start (the build list, the
// CVE list): set by a checked load or reload, else loaded from its default
// path on first use. Thread-safe.

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>

#include "src/core/installed_path.h"
#include "src/core/result.h"
#include "src/core/status.h"

namespace eventsift::correlate {

// Where a data file is read from when no path is given: $`env_var` if set,
// else share/eventsift/`file_name` beside an installed binary, else the
// source tree's copy.
inline std::string DefaultDataPath(const char* env_var, const char* file_name,
                                   const char* source_tree_copy) {
  if (const char* env = std::getenv(env_var); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const auto installed = InstalledPath(std::filesystem::path("share") / "eventsift" / file_name);
  if (installed && std::filesystem::is_regular_file(*installed, ec)) return installed->string();
  return source_tree_copy;
}

template <typename T>
class DefaultData {
 public:
  // `load` reads a path; an empty path means the default one.
  using LoadFn = Result<T> (*)(const std::string& path);
  explicit DefaultData(LoadFn load) : load_(load) {}

  void Set(std::shared_ptr<const T> data) {
    std::lock_guard lock(mu_);
    tried_ = true;
    data_ = std::move(data);
    error_ = Status::OK();
  }

  Status Load(const std::string& path) {
    auto loaded = load_(path);
    if (!loaded) {
      std::lock_guard lock(mu_);
      tried_ = true;
      data_.reset();
      error_ = loaded.error();
      return loaded.error();
    }
    Set(std::make_shared<const T>(std::move(loaded).value()));
    return Status::OK();
  }

  // Null when the load failed; `*error` then receives why.
  std::shared_ptr<const T> Get(Status* error) {
    std::lock_guard lock(mu_);
    if (!tried_) {
      tried_ = true;
      auto loaded = load_("");
      if (loaded) {
        data_ = std::make_shared<const T>(std::move(loaded).value());
      } else {
        error_ = loaded.error();
      }
    }
    if (!data_ && error != nullptr) *error = error_;
    return data_;
  }

 private:
  LoadFn load_;
  std::mutex mu_;
  bool tried_ = false;             // guarded by mu_
  std::shared_ptr<const T> data_;  // mu_
  Status error_;                   // mu_; why data_ is null after a try
};

}  // namespace eventsift::correlate
