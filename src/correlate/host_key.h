#pragma once
// Host names as alerts group them. Windows writes the same machine as
// "EX01", "ex01.contoso.com", "EX01.CONTOSO.COM." or "\\EX01" depending on the
// channel, the forwarder and the export tool; correlation needs one key.

#include <map>
#include <set>
#include <string>
#include <string_view>

namespace eventsift::correlate {

// Lowercase (ASCII; NetBIOS and DNS names are ASCII), surrounding whitespace
// trimmed, a leading "\\" (UNC form) stripped, trailing dots removed. The FQDN
// is kept: merging short names is HostResolver's job because it needs to know
// every name of the run. "" stays "" (events without a computer name).
std::string NormalizeHostName(std::string_view raw);

// Maps normalized names to host keys. With merging on, a short name ("ex01")
// that is the first label of exactly one FQDN seen ("ex01.contoso.com") maps
// to that FQDN; a short name matching several FQDNs stays its own key, since
// picking one would put another server's events on it. Not thread-safe: the
// Correlator holds it under its lock.
class HostResolver {
 public:
  explicit HostResolver(bool merge_short_names) : merge_short_names_(merge_short_names) {}

  // Records a normalized name as seen in this run.
  void See(const std::string& name);
  // The key for a normalized name under the names seen so far.
  std::string Resolve(const std::string& name) const;
  // Fixes `name`'s key from now on: a streaming caller freezes names whose
  // windows it has emitted, so a later FQDN cannot move their state.
  void Freeze(const std::string& name);

 private:
  bool merge_short_names_;
  std::set<std::string> names_;
  std::map<std::string, std::set<std::string>> fqdns_by_label_;  // "ex01" -> FQDNs
  std::map<std::string, std::string> frozen_;
};

}  // namespace eventsift::correlate
