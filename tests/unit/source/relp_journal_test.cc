#include "src/source/relp_journal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

namespace eventsift::source {
namespace {

namespace fs = std::filesystem;

class RelpJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("es_relp_journal_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  size_t Files() const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir_))
      n += RelpJournal::SeqOf(e.path().filename().string()) != 0;
    return n;
  }
  fs::path dir_;
};

TEST(ParseJournalRecordTest, WholeCutAndBadRecords) {
  std::string rec = "5 relp:10.0.0.1 <1>ab\n";
  JournalRecord r = ParseJournalRecord(rec, 100);
  ASSERT_EQ(r.kind, JournalRecord::Kind::kRecord);
  EXPECT_EQ(r.peer, "relp:10.0.0.1");
  EXPECT_EQ(r.frame, "<1>ab");
  EXPECT_EQ(r.size, rec.size());
  // Every cut short of the whole record asks for more.
  for (size_t n = 0; n < rec.size(); ++n) {
    EXPECT_EQ(ParseJournalRecord(std::string_view(rec).substr(0, n), 100).kind,
              JournalRecord::Kind::kNeedMore)
        << n;
  }
  EXPECT_EQ(ParseJournalRecord("5 p <1>abX", 100).kind, JournalRecord::Kind::kBad);
  EXPECT_EQ(ParseJournalRecord("x5 p <1>ab\n", 100).kind, JournalRecord::Kind::kBad);
  EXPECT_EQ(ParseJournalRecord("500 p ", 100).kind, JournalRecord::Kind::kBad);  // over the bound
  EXPECT_EQ(ParseJournalRecord("12345678901 p ", ~0ull).kind, JournalRecord::Kind::kBad);
  EXPECT_EQ(ParseJournalRecord("5 " + std::string(200, 'p'), 100).kind,
            JournalRecord::Kind::kBad);  // a peer field without end
}

TEST_F(RelpJournalTest, AppendsRotatesAndReleases) {
  RelpJournal j({dir_.string(), 1 << 20, 100});
  ASSERT_TRUE(j.Open().ok());
  uint64_t first = j.write_seq();
  EXPECT_EQ(first, 1u);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(j.Append("relp:h", std::string(95, 'a'), {}, {}).ok());
  // Each 95-byte frame passes file_bytes (100) with its header: one file each.
  EXPECT_EQ(j.write_seq(), first + 5);
  EXPECT_EQ(Files(), 6u);
  j.Release(JournalPos{first + 3, 0, 0});
  EXPECT_EQ(Files(), 3u);
  EXPECT_EQ(j.FirstSeq(), first + 3);
  // A new run never appends to an old file.
  RelpJournal again({dir_.string(), 1 << 20, 100});
  ASSERT_TRUE(again.Open().ok());
  EXPECT_EQ(again.write_seq(), first + 6);
  EXPECT_EQ(again.bytes(), j.bytes());
}

TEST_F(RelpJournalTest, FullJournalHoldsTheWriterUntilReleased) {
  RelpJournal j({dir_.string(), 400, 100});
  ASSERT_TRUE(j.Open().ok());
  std::string frame(80, 'a');
  int fulls = 0;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(j.Append("p", frame, [&] { ++fulls; }, {}).ok());
  EXPECT_EQ(fulls, 0);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    EXPECT_TRUE(j.Append("p", frame, [&] { ++fulls; }, {}).ok());
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(done.load()) << "a full journal must hold the writer (no rsp 200)";
  j.Release(JournalPos{j.write_seq(), 0, 0});
  writer.join();
  EXPECT_TRUE(done.load());
  EXPECT_EQ(fulls, 1);
}

TEST_F(RelpJournalTest, ClosingLetsAWaitingWriterThrough) {
  RelpJournal j({dir_.string(), 200, 100});
  ASSERT_TRUE(j.Open().ok());
  std::string frame(80, 'a');
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(j.Append("p", frame, {}, {}).ok());
  std::thread writer([&] { EXPECT_TRUE(j.Append("p", frame, {}, {}).ok()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  j.BeginClose();
  writer.join();  // written (one message over the bound), not dropped
  EXPECT_GT(j.bytes(), 200u);
}

}  // namespace
}  // namespace eventsift::source
