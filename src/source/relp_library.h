#pragma once
// librelp, loaded the first time a relp source starts instead of linked into
// the binary. Linking it made every eventsift process, `scan` of one small
// file included, load GnuTLS and eight more shared libraries and run their
// constructors: about 2.7 ms of start-up (docs/perf/relp.md), paid by every
// user for a source few configure.

#include <cstddef>  // librelp.h uses size_t without including its header

// librelp.h has no C++ guard of its own.
extern "C" {
#include <librelp.h>
}

#include "src/core/status.h"

namespace eventsift::source {

// The librelp functions the relp source calls. X(member, librelp symbol).
#define ES_RELP_FUNCTIONS(X)                                            \
  X(EngineConstruct, relpEngineConstruct)                               \
  X(EngineDestruct, relpEngineDestruct)                                 \
  X(EngineSetDbgprint, relpEngineSetDbgprint)                           \
  X(EngineSetDnsLookupMode, relpEngineSetDnsLookupMode)                 \
  X(EngineSetFamily, relpEngineSetFamily)                               \
  X(EngineSetSyslogRcv2, relpEngineSetSyslogRcv2)                       \
  X(EngineSetOnErr, relpEngineSetOnErr)                                 \
  X(EngineSetOnGenericErr, relpEngineSetOnGenericErr)                   \
  X(EngineSetOnAuthErr, relpEngineSetOnAuthErr)                         \
  X(EngineSetShutdownImmdtPtr, relpEngineSetShutdownImmdtPtr)           \
  X(EngineSetEnableCmd, relpEngineSetEnableCmd)                         \
  X(EngineSetTLSLibByName, relpEngineSetTLSLibByName)                   \
  X(EngineListnerConstruct, relpEngineListnerConstruct)                 \
  X(EngineListnerConstructFinalize, relpEngineListnerConstructFinalize) \
  X(EngineRun, relpEngineRun)                                           \
  X(SrvSetLstnPort, relpSrvSetLstnPort)                                 \
  X(SrvSetLstnAddr, relpSrvSetLstnAddr)                                 \
  X(SrvSetUsrPtr, relpSrvSetUsrPtr)                                     \
  X(SrvSetMaxDataSize, relpSrvSetMaxDataSize)                           \
  X(SrvSetOversizeMode, relpSrvSetOversizeMode)                         \
  X(SrvEnableTLS2, relpSrvEnableTLS2)                                   \
  X(SrvSetOwnCert, relpSrvSetOwnCert)                                   \
  X(SrvSetPrivKey, relpSrvSetPrivKey)                                   \
  X(SrvSetCACert, relpSrvSetCACert)                                     \
  X(SrvSetAuthMode, relpSrvSetAuthMode)

// Each member has the type of the librelp function it names, so calls are
// checked against librelp.h at compile time.
struct RelpLibrary {
#define ES_RELP_MEMBER(member, symbol) decltype(&::symbol) member = nullptr;
  ES_RELP_FUNCTIONS(ES_RELP_MEMBER)
#undef ES_RELP_MEMBER
};

// Loads librelp (once per process; later calls return the same table). On
// failure the status names the library and the loader's reason, and every
// later call fails the same way.
Status LoadRelpLibrary(const RelpLibrary** out);

// The file name dlopen asks for: librelp's soname, set by the build.
const char* RelpLibraryName();

}  // namespace eventsift::source
