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
  // A Kafka partition's own correlation state, and where it reaches.
  PartitionState part;
  part.source = "raw";
  part.partition = 3;
  part.max_event_time = s.max_event_time + 99;
  part.hits.push_back(PendingHit{"eems-mitigation-error", e});
  part.hits.back().event.line = 1001;  // the message offset + 1
  part.emitted = s.emitted;
  s.partitions.push_back(part);
  source::FileCheckpoint k;
  k.source = "raw";
  k.path = "kafka:raw.events/3";
  k.offset = 1200;
  s.files.push_back(k);
  ASSERT_TRUE(store.Save(s).ok());
  EXPECT_FALSE(std::filesystem::exists(store.path() + ".tmp"));

  auto back = store.Load();
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(SerializeState(back.value()), SerializeState(s));
  EXPECT_EQ(back.value().files[0].id.ino, 1234567u);
  EXPECT_EQ(back.value().hits[0].event.message, e.message);
  EXPECT_EQ(back.value().hits[0].event.data, e.data);
  ASSERT_EQ(back.value().partitions.size(), 1u);
  EXPECT_EQ(back.value().partitions[0].source, "raw");
  EXPECT_EQ(back.value().partitions[0].partition, 3);
  EXPECT_EQ(back.value().partitions[0].max_event_time, part.max_event_time);
  EXPECT_EQ(back.value().partitions[0].hits[0].event.line, 1001u);
  EXPECT_EQ(back.value().partitions[0].emitted[0].alert_id, s.emitted[0].alert_id);
  // A state written before partitions existed still loads (none).
  auto old_format = ParseState(
      R"({"version":1,"saved_at_unix_ms":1,"max_event_time":2,"files":[],"hits":[],"emitted":[],"builds":[]})",
      "old");
  ASSERT_TRUE(old_format.has_value()) << old_format.error().ToString();
  EXPECT_TRUE(old_format.value().partitions.empty());
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
