#include "src/correlate/host_key.h"

namespace eventsift::correlate {

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// An IPv4 literal has dots but no host label worth merging on ("10" is not a
// short name of "10.0.0.1").
bool LooksLikeIpv4(std::string_view name) {
  for (char c : name) {
    if (c != '.' && (c < '0' || c > '9')) return false;
  }
  return true;
}

}  // namespace

std::string NormalizeHostName(std::string_view raw) {
  while (!raw.empty() && IsSpace(raw.front())) raw.remove_prefix(1);
  while (!raw.empty() && IsSpace(raw.back())) raw.remove_suffix(1);
  while (!raw.empty() && raw.front() == '\\') raw.remove_prefix(1);
  while (!raw.empty() && raw.back() == '.') raw.remove_suffix(1);
  std::string out(raw);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void HostResolver::See(const std::string& name) {
  if (!names_.insert(name).second) return;
  const size_t dot = name.find('.');
  if (dot == std::string::npos || dot == 0 || LooksLikeIpv4(name)) return;
  fqdns_by_label_[name.substr(0, dot)].insert(name);
}

std::string HostResolver::Resolve(const std::string& name) const {
  if (auto it = frozen_.find(name); it != frozen_.end()) return it->second;
  if (!merge_short_names_ || name.empty() || name.find('.') != std::string::npos) return name;
  auto it = fqdns_by_label_.find(name);
  if (it == fqdns_by_label_.end() || it->second.size() != 1) return name;
  return *it->second.begin();
}

void HostResolver::Freeze(const std::string& name) { frozen_.emplace(name, Resolve(name)); }

}  // namespace eventsift::correlate
