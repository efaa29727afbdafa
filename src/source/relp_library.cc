#include "src/source/relp_library.h"

#include <dlfcn.h>

#include <fmt/format.h>

#ifndef ES_RELP_SONAME
#error "ES_RELP_SONAME must name librelp's shared object (set by src/source/CMakeLists.txt)"
#endif

namespace eventsift::source {

namespace {

struct Loaded {
  RelpLibrary library;
  Status status;
};

Loaded LoadOnce() {
  Loaded loaded;
  // RTLD_NOW: a missing symbol fails here, with its name, not at the
  // first call of it on librelp's thread.
  void* handle = ::dlopen(ES_RELP_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    loaded.status = Status::IOError(
        fmt::format("cannot load {} for the relp source ({}); install Debian's librelp0",
                    ES_RELP_SONAME, why != nullptr ? why : "unknown reason"));
    return loaded;
  }
  // The handle stays open for the life of the process: librelp's threads
  // and callbacks may run until exit.
  RelpLibrary& lib = loaded.library;
#define ES_RELP_RESOLVE(member, symbol)                                                       \
  lib.member = reinterpret_cast<decltype(lib.member)>(::dlsym(handle, #symbol));              \
  if (lib.member == nullptr) {                                                                \
    loaded.status = Status::IOError(                                                          \
        fmt::format("{} has no {}: librelp too old for eventsift", ES_RELP_SONAME, #symbol)); \
    return loaded;                                                                            \
  }
  ES_RELP_FUNCTIONS(ES_RELP_RESOLVE)
#undef ES_RELP_RESOLVE
  return loaded;
}

}  // namespace

Status LoadRelpLibrary(const RelpLibrary** out) {
  static const Loaded loaded = LoadOnce();  // thread-safe once
  if (!loaded.status.ok()) return loaded.status;
  *out = &loaded.library;
  return Status::OK();
}

const char* RelpLibraryName() { return ES_RELP_SONAME; }

}  // namespace eventsift::source
