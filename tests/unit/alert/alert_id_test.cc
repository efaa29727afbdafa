#include "src/alert/alert_id.h"

#include <xxhash.h>

#include <string>

#include <gtest/gtest.h>

namespace eventsift {
namespace {

// The recipe of docs/alerts.md, written out independently of alert_id.cc:
// XXH3-128 over "1" US rule US host US decimal(window start), canonical bytes
// (high 64 bits first, big-endian) as lowercase hex.
std::string Recipe(const std::string& text) {
  XXH128_hash_t h = XXH3_128bits(text.data(), text.size());
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return buf;
}

TEST(AlertIdTest, FollowsTheDocumentedRecipe) {
  // 2025-01-24T00:00:00Z = 1737676800 s after 1970 = 133821504000000000 ticks.
  const FileTime start = 133821504000000000LL;
  EXPECT_EQ(ComputeAlertId("eems-mitigation-error", "ex01.contoso.com", start),
            Recipe("1\x1f"
                   "eems-mitigation-error\x1f"
                   "ex01.contoso.com\x1f"
                   "133821504000000000"));
  EXPECT_EQ(ComputeAlertId("r", "", 0), Recipe("1\x1fr\x1f\x1f"
                                               "0"));
}

TEST(AlertIdTest, CveExposureRecipe) {
  EXPECT_EQ(ComputeCveAlertId("ex01", "CVE-2026-42897", "exposed_eems_failing"),
            Recipe("1\x1f"
                   "exchange_cve_exposure\x1f"
                   "ex01\x1f"
                   "CVE-2026-42897\x1f"
                   "exposed_eems_failing"));
  EXPECT_NE(ComputeCveAlertId("ex01", "CVE-2026-42897", "exposed_eems_silent"),
            ComputeCveAlertId("ex01", "CVE-2026-42897", "exposed_eems_failing"));
}

TEST(AlertIdTest, IsLowercaseHexOf128Bits) {
  const std::string id = ComputeAlertId("r", "h", 1);
  ASSERT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(AlertIdTest, EveryComponentMatters) {
  const std::string base = ComputeAlertId("r", "h", 1);
  EXPECT_EQ(ComputeAlertId("r", "h", 1), base);
  EXPECT_NE(ComputeAlertId("r2", "h", 1), base);
  EXPECT_NE(ComputeAlertId("r", "h2", 1), base);
  EXPECT_NE(ComputeAlertId("r", "h", 2), base);
  // The separator keeps the field boundaries.
  EXPECT_NE(ComputeAlertId("ab", "c", 1), ComputeAlertId("a", "bc", 1));
}

}  // namespace
}  // namespace eventsift
