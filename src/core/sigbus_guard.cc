#include "src/core/sigbus_guard.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <mutex>

namespace eventsift::sigbus {

namespace {

// One registered range. `gen` is a sequence count, odd while the range is
// being set or cleared, so the handler never matches a half-written range.
struct Range {
  std::atomic<uint32_t> taken{0};  // claimed by Register, until Unregister
  std::atomic<uint32_t> gen{0};
  std::atomic<uintptr_t> begin{0};
  std::atomic<uintptr_t> end{0};  // 0 when the slot is empty
  std::atomic<uint64_t> first_fault{UINT64_MAX};
};

static_assert(std::atomic<uintptr_t>::is_always_lock_free &&
                  std::atomic<uint64_t>::is_always_lock_free &&
                  std::atomic<uint32_t>::is_always_lock_free,
              "the SIGBUS handler may only use lock-free atomics");

Range g_ranges[kMaxRanges];
std::atomic<uintptr_t> g_page_size{0};
// The action before ours, set once before our handler is installed.
struct sigaction g_previous {};
std::once_flag g_install_once;
std::atomic<bool> g_installed{false};

// The range holding `addr`, or null.
Range* Find(uintptr_t addr) {
  for (Range& r : g_ranges) {
    const uint32_t g1 = r.gen.load(std::memory_order_acquire);
    if ((g1 & 1) != 0) continue;
    const uintptr_t b = r.begin.load(std::memory_order_acquire);
    const uintptr_t e = r.end.load(std::memory_order_acquire);
    if (r.gen.load(std::memory_order_acquire) != g1) continue;
    if (addr >= b && addr < e) return &r;
  }
  return nullptr;
}

// What would have happened without us: the previous handler, or the default
// action (which a fault raises again as soon as we return).
void Chain(int sig, siginfo_t* info, void* context) {
  if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    if ((g_previous.sa_flags & SA_SIGINFO) != 0) {
      g_previous.sa_sigaction(sig, info, context);
    } else {
      g_previous.sa_handler(sig);
    }
    return;
  }
  // Ignoring a fault would spin on it forever: the default action applies.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGBUS, &dfl, nullptr);
  // A fault comes back on return; a SIGBUS sent by kill() would not, so it
  // is sent again (blocked until this handler returns).
  if (info == nullptr || info->si_code <= 0) raise(SIGBUS);
}

void Handle(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  const auto addr = reinterpret_cast<uintptr_t>(info != nullptr ? info->si_addr : nullptr);
  Range* r = info != nullptr && info->si_code > 0 ? Find(addr) : nullptr;
  const uintptr_t page_size = g_page_size.load(std::memory_order_relaxed);
  if (r != nullptr && page_size != 0) {
    const uintptr_t page = addr & ~(page_size - 1);
    // Replaces the gone page with zeros; the read that faulted runs again
    // on return and succeeds.
    // The raw system call: a sanitizer's mmap interceptor is no place to be
    // in a signal handler.
    const long zero = syscall(SYS_mmap, page, page_size, PROT_READ,
                              MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (zero != -1) {
      const uintptr_t begin = r->begin.load(std::memory_order_relaxed);
      const uint64_t offset = page > begin ? page - begin : 0;
      uint64_t seen = r->first_fault.load(std::memory_order_relaxed);
      while (offset < seen &&
             !r->first_fault.compare_exchange_weak(seen, offset, std::memory_order_release,
                                                   std::memory_order_relaxed)) {
      }
      errno = saved_errno;
      return;
    }
  }
  Chain(sig, info, context);
  errno = saved_errno;
}

void Install() {
  g_page_size.store(static_cast<uintptr_t>(sysconf(_SC_PAGESIZE)), std::memory_order_relaxed);
  struct sigaction ours {};
  ours.sa_sigaction = &Handle;
  ours.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&ours.sa_mask);
  struct sigaction previous {};
  if (sigaction(SIGBUS, nullptr, &previous) != 0) return;
  g_previous = previous;  // before ours can run
  if (sigaction(SIGBUS, &ours, nullptr) == 0) g_installed.store(true, std::memory_order_release);
}

}  // namespace

Slot Register(const void* begin, size_t size) {
  std::call_once(g_install_once, Install);
  if (!g_installed.load(std::memory_order_acquire) || size == 0) return -1;
  for (Slot i = 0; i < kMaxRanges; ++i) {
    Range& r = g_ranges[i];
    uint32_t free = 0;
    if (!r.taken.compare_exchange_strong(free, 1, std::memory_order_acq_rel)) continue;
    r.gen.fetch_add(1, std::memory_order_acq_rel);  // odd: being set
    r.first_fault.store(UINT64_MAX, std::memory_order_relaxed);
    r.begin.store(reinterpret_cast<uintptr_t>(begin), std::memory_order_release);
    r.end.store(reinterpret_cast<uintptr_t>(begin) + size, std::memory_order_release);
    r.gen.fetch_add(1, std::memory_order_acq_rel);
    return i;
  }
  return -1;
}

void Unregister(Slot slot) {
  if (slot < 0 || slot >= kMaxRanges) return;
  Range& r = g_ranges[slot];
  r.gen.fetch_add(1, std::memory_order_acq_rel);
  r.begin.store(0, std::memory_order_release);
  r.end.store(0, std::memory_order_release);
  r.gen.fetch_add(1, std::memory_order_acq_rel);
  r.taken.store(0, std::memory_order_release);
}

uint64_t FirstFault(Slot slot) {
  if (slot < 0 || slot >= kMaxRanges) return UINT64_MAX;
  return g_ranges[slot].first_fault.load(std::memory_order_acquire);
}

}  // namespace eventsift::sigbus
