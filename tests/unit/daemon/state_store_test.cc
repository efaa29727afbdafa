#include "src/daemon/state_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace eventsift::daemon {
namespace {

TEST(StateStoreTest, RoundTripsThroughDisk) {
  std::string dir =
      std::filesystem::temp_directory_path() / ("es_state_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  StateStore store(dir);
  ASSERT_TRUE(store.Open().ok());
  auto missing = store.Load();
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);

  DaemonState s;
  s.saved_at_unix_ms = 1714557600000;
  s.max_event_time = FileTimeFromUnixMillis(1714557600000);
  source::FileCheckpoint f;
  f.source = "drop";
  f.path = "/in/a.ndjson";
  f.id = {2049, 1234567};
  f.fingerprint = 0xfeedfacecafebeefULL;
  f.fingerprint_len = 1024;
  f.offset = 4096;
  f.line_no = 17;
  s.files.push_back(f);
  OwnedEvent e;
  e.provider = "MSExchange Mitigation Service";
  e.computer = "EX01.contoso.com";
  e.message = "line one\nline \"two\"";
  e.event_id = 1008;
  e.time = s.max_event_time;
  e.record_id = 42;
  e.data = {{"", "param"}, {"Name", "v"}};
  s.hits.push_back(PendingHit{"eems-mitigation-error", e});
  s.emitted.push_back(EmittedAlert{"0123456789abcdef0123456789abcdef",
                                   "eems-mitigation-error",
                                   {"EX01", "EX01.contoso.com"},
                                   s.max_event_time - 10,
                                   s.max_event_time});
  s.builds.push_back(SavedBuild{"EX01", 15, 2, 1118, 20, true, "event 4999"});
  ASSERT_TRUE(store.Save(s).ok());
  EXPECT_FALSE(std::filesystem::exists(store.path() + ".tmp"));

  auto back = store.Load();
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(SerializeState(back.value()), SerializeState(s));
  EXPECT_EQ(back.value().files[0].id.ino, 1234567u);
  EXPECT_EQ(back.value().hits[0].event.message, e.message);
  EXPECT_EQ(back.value().hits[0].event.data, e.data);
  std::filesystem::remove_all(dir);
}

TEST(StateStoreTest, CorruptStateIsAnError) {
  auto r = ParseState("{\"version\":1,\"files\":[3]}", "state.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kCorruption);
  EXPECT_FALSE(ParseState("{\"version\":99}", "state.json").has_value());
  EXPECT_FALSE(ParseState("not json", "state.json").has_value());
}

}  // namespace
}  // namespace eventsift::daemon
