#include "src/source/relp_library.h"

#include <dlfcn.h>
#include <link.h>

#include <gtest/gtest.h>

#include <string>

namespace eventsift::source {
namespace {

// Whether the object named `soname` is mapped into this process.
bool IsLoaded(const char* soname) {
  void* handle = ::dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  ::dlclose(handle);
  return true;
}

// The test binary links es_source without librelp: nothing maps it until a
// relp source starts. (Ordered first in this file; later tests load it.)
TEST(RelpLibraryTest, NotMappedUntilAsked) {
  EXPECT_FALSE(IsLoaded(RelpLibraryName())) << RelpLibraryName() << " is linked in";
}

TEST(RelpLibraryTest, LoadsEveryFunctionOnce) {
  const RelpLibrary* first = nullptr;
  ASSERT_TRUE(LoadRelpLibrary(&first).ok());
  ASSERT_NE(first, nullptr);
  EXPECT_TRUE(IsLoaded(RelpLibraryName()));
#define ES_RELP_CHECK(member, symbol) EXPECT_NE(first->member, nullptr) << #symbol;
  ES_RELP_FUNCTIONS(ES_RELP_CHECK)
#undef ES_RELP_CHECK
  // Each member is the library's own function.
  EXPECT_EQ(reinterpret_cast<void*>(first->EngineConstruct),
            ::dlsym(::dlopen(RelpLibraryName(), RTLD_NOW | RTLD_NOLOAD), "relpEngineConstruct"));
  const RelpLibrary* second = nullptr;
  ASSERT_TRUE(LoadRelpLibrary(&second).ok());
  EXPECT_EQ(first, second);
}

void NoDebugPrint(char*, ...) {}

// A working engine through the table: constructed and destructed.
TEST(RelpLibraryTest, EngineRoundTrip) {
  const RelpLibrary* relp = nullptr;
  ASSERT_TRUE(LoadRelpLibrary(&relp).ok());
  relpEngine_t* engine = nullptr;
  ASSERT_EQ(relp->EngineConstruct(&engine), RELP_RET_OK);
  ASSERT_NE(engine, nullptr);
  relp->EngineSetDbgprint(engine, &NoDebugPrint);  // librelp calls it unconditionally
  EXPECT_EQ(relp->EngineDestruct(&engine), RELP_RET_OK);
}

}  // namespace
}  // namespace eventsift::source
