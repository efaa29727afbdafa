#include "src/alert/alert_id.h"

#include <xxhash.h>

#include <fmt/format.h>

#include "src/alert/alert.h"

namespace eventsift {

namespace {

std::string HexHash(const std::string& input) {
  const XXH128_hash_t hash = XXH3_128bits(input.data(), input.size());
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, hash);
  std::string hex;
  hex.reserve(2 * sizeof(canonical.digest));
  constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char byte : canonical.digest) {
    hex.push_back(kHex[byte >> 4]);
    hex.push_back(kHex[byte & 0xF]);
  }
  return hex;
}

}  // namespace

std::string ComputeAlertId(std::string_view rule_id, std::string_view host, FileTime window_start) {
  // A control character as separator: rule ids and host names do not carry
  // one, so ("a", "b_c") and ("a_b", "c") hash different inputs.
  return HexHash(
      fmt::format("{}\x1f{}\x1f{}\x1f{}", kAlertSchemaMajor, rule_id, host, window_start));
}

std::string ComputeCveAlertId(std::string_view host, std::string_view cve,
                              std::string_view verdict) {
  return HexHash(
      fmt::format("{}\x1f"
                  "exchange_cve_exposure\x1f{}\x1f{}\x1f{}",
                  kAlertSchemaMajor, host, cve, verdict));
}

}  // namespace eventsift
