#pragma once
// Keeps a file mapping from killing the process when the file shrinks under
// it. A read of a mapped page past a file's end raises SIGBUS; for a range
// registered here, one process-wide handler maps a zero page over the
// faulting page, records the lowest faulting offset and returns, so the read
// sees zeros and the reader can ask afterwards whether its bytes were real.
// A SIGBUS anywhere else goes to the handler installed before ours, or kills
// the process as it would have without us.
//
// The table of ranges is fixed-size and lock-free, because the handler may
// run on any thread at any moment and may take no lock.

#include <cstddef>
#include <cstdint>

namespace eventsift::sigbus {

// How many ranges may be registered at once; Register fails past it.
inline constexpr int kMaxRanges = 128;

// A registered range's slot, or -1 when none was free.
using Slot = int;

// Installs the handler (once per process; later calls do nothing) and
// registers [begin, begin + size), a private or shared read-only mapping that
// must stay mapped until Unregister. Returns -1 when the table is full or the
// handler cannot be installed.
Slot Register(const void* begin, size_t size);

// Forgets `slot` (call before unmapping its range). A slot < 0 is ignored.
void Unregister(Slot slot);

// The lowest offset (from the range's begin) of a page a read found gone,
// or UINT64_MAX while none was.
uint64_t FirstFault(Slot slot);

}  // namespace eventsift::sigbus
