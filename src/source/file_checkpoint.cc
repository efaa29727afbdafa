#include "src/source/file_checkpoint.h"

#include <unistd.h>
#include <xxhash.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace eventsift::source {

Result<uint64_t> FingerprintFile(int fd, uint32_t len) {
  std::array<char, kFingerprintBytes> buf{};
  if (len > buf.size()) return Status::InvalidArgument("fingerprint length too large");
  size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, buf.data() + got, len - got, static_cast<off_t>(got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(fmt::format("pread: {}", std::strerror(errno)));
    }
    if (n == 0) return Status::NotFound("file shorter than its fingerprint");
    got += static_cast<size_t>(n);
  }
  return static_cast<uint64_t>(XXH3_64bits(buf.data(), len));
}

}  // namespace eventsift::source
