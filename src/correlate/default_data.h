#pragma once
// The process-wide copy of a data file read at start (the build list, the
// CVE list): set by a checked load or reload, else loaded from its default
// path on first use. Thread-safe.

#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "src/core/result.h"
#include "src/core/status.h"

namespace eventsift::correlate {

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
