#include "src/detect/sigma_logsource.h"

#include <fmt/format.h>

namespace eventsift::detect {

namespace {

constexpr std::string_view kSysmon = "Microsoft-Windows-Sysmon/Operational";
constexpr std::string_view kPowerShell = "Microsoft-Windows-PowerShell/Operational";
constexpr std::string_view kPowerShellCore = "PowerShellCore/Operational";
constexpr std::string_view kPowerShellClassic = "Windows PowerShell";

// Sysmon's event ids per Sigma category.
struct SysmonCategory {
  std::string_view category;
  std::vector<uint32_t> ids;
};

const std::vector<SysmonCategory>& SysmonCategories() {
  static const std::vector<SysmonCategory> kTable = {
      {"process_creation", {1}},
      {"file_change", {2}},
      {"network_connection", {3}},
      {"sysmon_status", {4, 16}},
      {"process_termination", {5}},
      {"driver_load", {6}},
      {"image_load", {7}},
      {"create_remote_thread", {8}},
      {"raw_access_thread", {9}},
      {"process_access", {10}},
      {"file_event", {11}},
      {"registry_add", {12}},
      {"registry_delete", {12}},
      {"registry_set", {13}},
      {"registry_rename", {14}},
      {"registry_event", {12, 13, 14}},
      {"create_stream_hash", {15}},
      {"pipe_created", {17, 18}},
      {"wmi_event", {19, 20, 21}},
      {"dns_query", {22}},
      {"file_delete", {23, 26}},
      {"clipboard_capture", {24}},
      {"process_tampering", {25}},
      {"file_block_executable", {27}},
      {"file_block_shredding", {28}},
      {"file_executable_detected", {29}},
      {"sysmon_error", {255}},
  };
  return kTable;
}

// Sigma service -> channels (as Windows names them).
struct ServiceChannels {
  std::string_view service;
  std::vector<std::string_view> channels;
};

const std::vector<ServiceChannels>& Services() {
  static const std::vector<ServiceChannels> kTable = {
      {"security", {"Security"}},
      {"system", {"System"}},
      {"application", {"Application"}},
      {"sysmon", {kSysmon}},
      {"powershell", {kPowerShell, kPowerShellCore}},
      {"powershell-classic", {kPowerShellClassic}},
      {"taskscheduler", {"Microsoft-Windows-TaskScheduler/Operational"}},
      {"wmi", {"Microsoft-Windows-WMI-Activity/Operational"}},
      {"dns-server", {"DNS Server"}},
      {"dns-server-analytic", {"Microsoft-Windows-DNS-Server/Analytical"}},
      {"dns-client", {"Microsoft-Windows-DNS Client Events/Operational"}},
      {"driver-framework", {"Microsoft-Windows-DriverFrameworks-UserMode/Operational"}},
      {"windefend", {"Microsoft-Windows-Windows Defender/Operational"}},
      {"bits-client", {"Microsoft-Windows-Bits-Client/Operational"}},
      {"firewall-as", {"Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"}},
      {"codeintegrity-operational", {"Microsoft-Windows-CodeIntegrity/Operational"}},
      {"applocker",
       {"Microsoft-Windows-AppLocker/MSI and Script", "Microsoft-Windows-AppLocker/EXE and DLL",
        "Microsoft-Windows-AppLocker/Packaged app-Deployment",
        "Microsoft-Windows-AppLocker/Packaged app-Execution"}},
      {"msexchange-management", {"MSExchange Management"}},
      {"printservice-admin", {"Microsoft-Windows-PrintService/Admin"}},
      {"printservice-operational", {"Microsoft-Windows-PrintService/Operational"}},
      {"smbclient-security", {"Microsoft-Windows-SmbClient/Security"}},
      {"smbclient-connectivity", {"Microsoft-Windows-SmbClient/Connectivity"}},
      {"smbserver-connectivity", {"Microsoft-Windows-SMBServer/Connectivity"}},
      {"ldap", {"Microsoft-Windows-LDAP-Client/Debug"}},
      {"ldap_debug", {"Microsoft-Windows-LDAP-Client/Debug"}},
      {"terminalservices-localsessionmanager",
       {"Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"}},
      {"ntlm", {"Microsoft-Windows-NTLM/Operational"}},
      {"security-mitigations",
       {"Microsoft-Windows-Security-Mitigations/Kernel Mode",
        "Microsoft-Windows-Security-Mitigations/User Mode"}},
      {"dhcp", {"Microsoft-Windows-DHCP-Server/Operational"}},
      {"diagnosis-scripted", {"Microsoft-Windows-Diagnosis-Scripted/Operational"}},
      {"openssh", {"OpenSSH/Operational"}},
      {"shell-core", {"Microsoft-Windows-Shell-Core/Operational"}},
      {"appxpackaging-om", {"Microsoft-Windows-AppxPackaging/Operational"}},
      {"appxdeployment-server", {"Microsoft-Windows-AppXDeploymentServer/Operational"}},
      {"appmodel-runtime", {"Microsoft-Windows-AppModel-Runtime/Admin"}},
      {"capi2", {"Microsoft-Windows-CAPI2/Operational"}},
      {"certificateservicesclient-lifecycle-system",
       {"Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"}},
      {"lsa-server", {"Microsoft-Windows-LSA/Operational"}},
      {"microsoft-servicebus-client", {"Microsoft-ServiceBus-Client"}},
      {"servicebus-client", {"Microsoft-ServiceBus-Client"}},
      {"iis-configuration", {"Microsoft-IIS-Configuration/Operational"}},
      {"vhdmp", {"Microsoft-Windows-VHDMP-Operational"}},
      {"hyper-v-worker", {"Microsoft-Windows-Hyper-V-Worker-Admin"}},
      {"kernel-shimengine", {"Microsoft-Windows-Kernel-ShimEngine/Operational"}},
      {"bitlocker", {"Microsoft-Windows-BitLocker/BitLocker Management"}},
      {"application-experience",
       {"Microsoft-Windows-Application-Experience/Program-Telemetry",
        "Microsoft-Windows-Application-Experience/Program-Compatibility-Assistant"}},
      {"sysmon-operational", {kSysmon}},
  };
  return kTable;
}

// Security 4688 names process_creation's fields differently from Sysmon 1.
// Sysmon fields 4688 lacks (Hashes, OriginalFileName, ...) keep their name
// and so match nothing on 4688 events.
const std::vector<FieldAlias>& Security4688Aliases() {
  static const std::vector<FieldAlias> kTable = {
      {"Image", "NewProcessName"},   {"ParentImage", "ParentProcessName"},
      {"ProcessId", "NewProcessId"}, {"ParentProcessId", "ProcessId"},
      {"User", "SubjectUserName"},   {"IntegrityLevel", "MandatoryLabel"},
      {"LogonId", "SubjectLogonId"},
  };
  return kTable;
}

std::vector<std::string> Channels(std::initializer_list<std::string_view> names) {
  return {names.begin(), names.end()};
}

}  // namespace

Status ResolveLogsource(const SigmaLogsource& ls, std::vector<LogsourceVariant>* out) {
  out->clear();
  if (!ls.product.empty() && ls.product != "windows") {
    return Status::Unsupported(
        fmt::format("logsource product '{}' is not a Windows event log", ls.product));
  }
  if (ls.product.empty() && ls.category.empty() && ls.service.empty()) {
    return Status::Unsupported("logsource names no product, category or service");
  }
  std::vector<std::string> service_channels;
  if (!ls.service.empty()) {
    const ServiceChannels* found = nullptr;
    for (const auto& s : Services()) {
      if (s.service == ls.service) found = &s;
    }
    if (found == nullptr) {
      return Status::Unsupported(
          fmt::format("logsource service '{}' has no known Windows channel", ls.service));
    }
    service_channels.assign(found->channels.begin(), found->channels.end());
  }
  if (ls.category.empty()) {
    out->push_back(LogsourceVariant{std::move(service_channels), {}, {}});
    return Status::OK();
  }
  const std::string& c = ls.category;
  if (c == "ps_module" || c == "ps_script") {
    uint32_t id = c == "ps_module" ? 4103 : 4104;
    out->push_back(LogsourceVariant{Channels({kPowerShell, kPowerShellCore}), {id}, {}});
  } else if (c == "ps_classic_start" || c == "ps_classic_provider_start" ||
             c == "ps_classic_script") {
    uint32_t id = c == "ps_classic_start" ? 400 : c == "ps_classic_provider_start" ? 600 : 800;
    out->push_back(LogsourceVariant{Channels({kPowerShellClassic}), {id}, {}});
  } else if (c == "file_access" || c == "file_rename") {
    // Kernel-File's analytic log: no event id subset is fixed by Sigma.
    out->push_back(LogsourceVariant{Channels({"Microsoft-Windows-Kernel-File/Analytic"}), {}, {}});
  } else if (c == "antivirus") {
    out->push_back(LogsourceVariant{Channels({"Microsoft-Windows-Windows Defender/Operational"}),
                                    {1006, 1007, 1008, 1015, 1116, 1117, 1118, 1119},
                                    {}});
  } else {
    const SysmonCategory* found = nullptr;
    for (const auto& s : SysmonCategories()) {
      if (s.category == c) found = &s;
    }
    if (found == nullptr) {
      return Status::Unsupported(
          fmt::format("logsource category '{}' has no known Windows event log", c));
    }
    out->push_back(LogsourceVariant{Channels({kSysmon}), found->ids, {}});
    if (c == "process_creation") {
      out->push_back(LogsourceVariant{Channels({"Security"}), {4688}, Security4688Aliases()});
    }
  }
  // A service narrows a category's channels (category + service is rare).
  if (!service_channels.empty()) {
    for (auto& v : *out) v.channels = service_channels;
  }
  return Status::OK();
}

FieldRef SigmaFieldRef(std::string_view name, const LogsourceVariant& variant) {
  struct Header {
    std::string_view name;
    FieldKind kind;
  };
  static constexpr Header kHeader[] = {
      {"EventID", FieldKind::kEventId},
      {"Channel", FieldKind::kChannel},
      {"Provider_Name", FieldKind::kProvider},
      {"Provider", FieldKind::kProvider},
      {"Provider_Guid", FieldKind::kProviderGuid},
      {"Computer", FieldKind::kComputer},
      {"Level", FieldKind::kLevel},
      {"Task", FieldKind::kTask},
      {"Opcode", FieldKind::kOpcode},
      {"Keywords", FieldKind::kKeywords},
      {"EventRecordID", FieldKind::kRecordId},
      {"UserID", FieldKind::kUserSid},
      {"Data", FieldKind::kDataAny},
  };
  for (const auto& h : kHeader) {
    if (h.name == name) return FieldRef{h.kind, {}};
  }
  for (const auto& a : variant.aliases) {
    if (a.sigma == name) return FieldRef{FieldKind::kDataNamed, std::string(a.event)};
  }
  return FieldRef{FieldKind::kDataNamed, std::string(name)};
}

}  // namespace eventsift::detect
