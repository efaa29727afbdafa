#pragma once
// Process exit codes, documented in docs/cli.md. Scripts rely on them.

namespace eventsift::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;        // unexpected internal error
inline constexpr int kExitUsage = 2;          // bad flags, bad rule file, bad config
inline constexpr int kExitInputError = 3;     // an input could not be read (others were)
inline constexpr int kExitSinkError = 4;      // alerts could be neither delivered nor spooled
inline constexpr int kExitCorruption = 5;     // --strict: corruption found in an input
inline constexpr int kExitAlertsFound = 10;   // --fail-on-alert and alerts were produced
inline constexpr int kExitInterrupted = 130;  // SIGINT/SIGTERM; alerts of what was read were sent

}  // namespace eventsift::app
