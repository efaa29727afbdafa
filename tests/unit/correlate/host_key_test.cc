#include "src/correlate/host_key.h"

#include <gtest/gtest.h>

namespace eventsift::correlate {
namespace {

TEST(NormalizeHostNameTest, LowercasesAndKeepsFqdn) {
  EXPECT_EQ(NormalizeHostName("EX01"), "ex01");
  EXPECT_EQ(NormalizeHostName("EX01.Contoso.COM"), "ex01.contoso.com");
}

TEST(NormalizeHostNameTest, StripsTrailingDotsWhitespaceAndUncPrefix) {
  EXPECT_EQ(NormalizeHostName("ex01.contoso.com."), "ex01.contoso.com");
  EXPECT_EQ(NormalizeHostName("  EX01\t\r\n"), "ex01");
  EXPECT_EQ(NormalizeHostName("\\\\EX01"), "ex01");
  EXPECT_EQ(NormalizeHostName(" \\\\EX01.contoso.com. "), "ex01.contoso.com");
}

TEST(NormalizeHostNameTest, EmptyStaysEmpty) {
  EXPECT_EQ(NormalizeHostName(""), "");
  EXPECT_EQ(NormalizeHostName("  "), "");
}

TEST(HostResolverTest, ShortNameJoinsItsOnlyFqdn) {
  HostResolver hosts(/*merge_short_names=*/true);
  hosts.See("ex01");
  EXPECT_EQ(hosts.Resolve("ex01"), "ex01");  // no FQDN seen yet
  hosts.See("ex01.contoso.com");
  EXPECT_EQ(hosts.Resolve("ex01"), "ex01.contoso.com");
  EXPECT_EQ(hosts.Resolve("ex01.contoso.com"), "ex01.contoso.com");
  EXPECT_EQ(hosts.Resolve("ex02"), "ex02");
}

TEST(HostResolverTest, AmbiguousShortNameStaysSeparate) {
  HostResolver hosts(true);
  hosts.See("ex01");
  hosts.See("ex01.contoso.com");
  hosts.See("ex01.fabrikam.com");
  EXPECT_EQ(hosts.Resolve("ex01"), "ex01");
  EXPECT_EQ(hosts.Resolve("ex01.fabrikam.com"), "ex01.fabrikam.com");
}

TEST(HostResolverTest, MergingOffKeepsEveryName) {
  HostResolver hosts(false);
  hosts.See("ex01");
  hosts.See("ex01.contoso.com");
  EXPECT_EQ(hosts.Resolve("ex01"), "ex01");
}

TEST(HostResolverTest, Ipv4IsNotAnFqdn) {
  HostResolver hosts(true);
  hosts.See("10.0.0.1");
  hosts.See("10");
  EXPECT_EQ(hosts.Resolve("10"), "10");
}

TEST(HostResolverTest, FrozenNameKeepsItsKey) {
  HostResolver hosts(true);
  hosts.See("ex01");
  hosts.Freeze("ex01");
  hosts.See("ex01.contoso.com");
  EXPECT_EQ(hosts.Resolve("ex01"), "ex01");
}

}  // namespace
}  // namespace eventsift::correlate
