#pragma once
// Milliseconds on the two clocks the daemon keeps: the steady one for ages
// and deadlines, the wall one for what is shown to people (/metrics, state).

#include <chrono>
#include <cstdint>

namespace eventsift::daemon {

inline int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace eventsift::daemon
