#include "src/spool/spool.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace eventsift {
namespace {

namespace fs = std::filesystem;

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("es_spool_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Spool> OpenSpool(uint64_t max_bytes = 1 << 20, uint64_t segment_bytes = 1 << 20) {
    SpoolOptions o;
    o.dir = dir_.string();
    o.max_bytes = max_bytes;
    o.segment_bytes = segment_bytes;
    auto r = Spool::Open(o);
    EXPECT_TRUE(r.has_value()) << (r.has_value() ? "" : r.error().ToString());
    return r.has_value() ? std::move(r).value() : nullptr;
  }

  static SpoolRecord Rec(int i) {
    SpoolRecord r;
    r.key = "host" + std::to_string(i % 7);
    r.rule_id = "eems-1008";
    r.payload = R"({"alert_id":"a)" + std::to_string(i) + R"("})";
    return r;
  }

  std::vector<std::string> SegmentFiles() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().filename().string().starts_with("seg-")) out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir_;
};

TEST_F(SpoolTest, AppendReadAckInOrder) {
  auto spool = OpenSpool();
  for (int i = 0; i < 10; ++i) {
    SpoolRecord r = Rec(i);
    ASSERT_TRUE(spool->Append(&r).ok());
    EXPECT_EQ(r.seq, static_cast<uint64_t>(i + 1));
  }
  ASSERT_TRUE(spool->Commit().ok());
  std::vector<SpoolRecord> got;
  ASSERT_TRUE(spool->Read(4, &got).ok());
  ASSERT_TRUE(spool->Read(100, &got).ok());
  ASSERT_EQ(got.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(got[i].seq, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(got[i].key, Rec(i).key);
    EXPECT_EQ(got[i].rule_id, "eems-1008");
    EXPECT_EQ(got[i].payload, Rec(i).payload);
  }
  EXPECT_EQ(spool->GetStatus().pending_records, 10u);
  for (const auto& r : got) ASSERT_TRUE(spool->Ack(r.seq).ok());
  ASSERT_TRUE(spool->Commit().ok());
  EXPECT_TRUE(spool->Empty());
  EXPECT_TRUE(SegmentFiles().empty()) << "fully acknowledged segments are deleted";
}

TEST_F(SpoolTest, ReopenResumesAfterCursor) {
  {
    auto spool = OpenSpool();
    for (int i = 0; i < 6; ++i) {
      SpoolRecord r = Rec(i);
      ASSERT_TRUE(spool->Append(&r).ok());
    }
    ASSERT_TRUE(spool->Ack(1).ok());
    ASSERT_TRUE(spool->Ack(2).ok());
    ASSERT_TRUE(spool->Ack(4).ok());  // out of order: the cursor stays at 2
    ASSERT_TRUE(spool->Commit().ok());
  }
  auto spool = OpenSpool();
  SpoolStatus st = spool->GetStatus();
  EXPECT_EQ(st.acked_seq, 2u);
  EXPECT_EQ(st.pending_records, 4u);  // 3,4,5,6: 4 is re-sent (at-least-once)
  std::vector<SpoolRecord> got;
  ASSERT_TRUE(spool->Read(100, &got).ok());
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got.front().seq, 3u);
  EXPECT_EQ(got.back().seq, 6u);
  SpoolRecord r = Rec(99);
  ASSERT_TRUE(spool->Append(&r).ok());
  EXPECT_EQ(r.seq, 7u) << "sequence numbers are never reused";
}

TEST_F(SpoolTest, TornTailIsTruncatedAtOpen) {
  {
    auto spool = OpenSpool();
    for (int i = 0; i < 3; ++i) {
      SpoolRecord r = Rec(i);
      ASSERT_TRUE(spool->Append(&r).ok());
    }
    ASSERT_TRUE(spool->Commit().ok());
  }
  auto files = SegmentFiles();
  ASSERT_EQ(files.size(), 1u);
  uint64_t good = fs::file_size(files[0]);
  {
    // Half a frame, as a crash in the middle of write() leaves it.
    std::ofstream f(files[0], std::ios::binary | std::ios::app);
    f.write("\x40\x00\x00\x00\x12\x34", 6);
  }
  auto spool = OpenSpool();
  SpoolStatus st = spool->GetStatus();
  EXPECT_EQ(st.truncated_bytes, 6u);
  EXPECT_EQ(st.pending_records, 3u);
  EXPECT_EQ(fs::file_size(files[0]), good);
  std::vector<SpoolRecord> got;
  ASSERT_TRUE(spool->Read(100, &got).ok());
  EXPECT_EQ(got.size(), 3u);
}

TEST_F(SpoolTest, CorruptRecordStopsAtValidPrefix) {
  {
    auto spool = OpenSpool();
    for (int i = 0; i < 3; ++i) {
      SpoolRecord r = Rec(i);
      ASSERT_TRUE(spool->Append(&r).ok());
    }
  }
  auto files = SegmentFiles();
  ASSERT_EQ(files.size(), 1u);
  uint64_t size = fs::file_size(files[0]);
  {
    // Flip one payload byte of the last record: its CRC no longer matches.
    std::fstream f(files[0], std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(size - 2));
    f.put('X');
  }
  auto spool = OpenSpool();
  std::vector<SpoolRecord> got;
  ASSERT_TRUE(spool->Read(100, &got).ok());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_GT(spool->GetStatus().truncated_bytes, 0u);
}

TEST_F(SpoolTest, SizeCapGivesClearError) {
  auto spool = OpenSpool(/*max_bytes=*/200);
  Status last;
  int appended = 0;
  for (int i = 0; i < 20 && last.ok(); ++i) {
    SpoolRecord r = Rec(i);
    last = spool->Append(&r);
    if (last.ok()) ++appended;
  }
  EXPECT_EQ(last.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(last.message().find("spool full"), std::string_view::npos) << last.ToString();
  EXPECT_GT(appended, 0);
  EXPECT_LE(spool->GetStatus().pending_bytes, 200u);
}

TEST_F(SpoolTest, SegmentsRollAndAreDeletedWhenAcked) {
  auto spool = OpenSpool(1 << 20, /*segment_bytes=*/100);
  for (int i = 0; i < 20; ++i) {
    SpoolRecord r = Rec(i);
    ASSERT_TRUE(spool->Append(&r).ok());
  }
  size_t segments = SegmentFiles().size();
  EXPECT_GT(segments, 3u);
  std::vector<SpoolRecord> got;
  ASSERT_TRUE(spool->Read(10, &got).ok());
  for (const auto& r : got) ASSERT_TRUE(spool->Ack(r.seq).ok());
  ASSERT_TRUE(spool->Commit().ok());
  EXPECT_LT(SegmentFiles().size(), segments);
  got.clear();
  ASSERT_TRUE(spool->Read(100, &got).ok());
  ASSERT_EQ(got.size(), 10u);
  EXPECT_EQ(got.front().seq, 11u);
}

TEST_F(SpoolTest, RewindRereadsUnackedSkippingAcked) {
  auto spool = OpenSpool();
  for (int i = 0; i < 5; ++i) {
    SpoolRecord r = Rec(i);
    ASSERT_TRUE(spool->Append(&r).ok());
  }
  std::vector<SpoolRecord> got;
  ASSERT_TRUE(spool->Read(100, &got).ok());
  ASSERT_TRUE(spool->Ack(1).ok());
  ASSERT_TRUE(spool->Ack(3).ok());
  spool->Rewind();
  got.clear();
  ASSERT_TRUE(spool->Read(100, &got).ok());
  std::vector<uint64_t> seqs;
  for (const auto& r : got) seqs.push_back(r.seq);
  EXPECT_EQ(seqs, (std::vector<uint64_t>{2, 4, 5}));
}

TEST_F(SpoolTest, SecondOpenIsRefusedWhileLocked) {
  auto first = OpenSpool();
  SpoolOptions o;
  o.dir = dir_.string();
  auto second = Spool::Open(o);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), StatusCode::kUnavailable);
}

TEST_F(SpoolTest, DropDeletesEverything) {
  auto spool = OpenSpool();
  for (int i = 0; i < 5; ++i) {
    SpoolRecord r = Rec(i);
    ASSERT_TRUE(spool->Append(&r).ok());
  }
  ASSERT_TRUE(spool->Drop().ok());
  EXPECT_TRUE(spool->Empty());
  EXPECT_TRUE(SegmentFiles().empty());
  spool.reset();
  auto again = OpenSpool();
  EXPECT_TRUE(again->Empty());
  SpoolRecord r = Rec(1);
  ASSERT_TRUE(again->Append(&r).ok());
  EXPECT_EQ(r.seq, 6u);
}

TEST_F(SpoolTest, RecordsLargerThanTheReadWindowComeBackWhole) {
  auto spool = OpenSpool(64 << 20, 64 << 20);
  std::vector<std::string> payloads;
  for (int i = 0; i < 5; ++i) {
    // Around and above the 1 MiB read window, and small ones between.
    SpoolRecord r = Rec(i);
    r.payload = std::string(i % 2 == 0 ? (1 << 20) + 1000 * i : 100, static_cast<char>('a' + i));
    payloads.push_back(r.payload);
    ASSERT_TRUE(spool->Append(&r).ok());
  }
  std::vector<SpoolRecord> got;
  for (int round = 0; round < 10 && got.size() < 5; ++round) ASSERT_TRUE(spool->Read(2, &got).ok());
  ASSERT_EQ(got.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(got[i].payload, payloads[i]) << i;
}

TEST_F(SpoolTest, ReadOnlyInspectsWhileLockedAndChangesNothing) {
  auto writer = OpenSpool();
  for (int i = 0; i < 4; ++i) {
    SpoolRecord r = Rec(i);
    ASSERT_TRUE(writer->Append(&r).ok());
  }
  ASSERT_TRUE(writer->Ack(1).ok());
  ASSERT_TRUE(writer->Commit().ok());
  SpoolOptions o;
  o.dir = dir_.string();
  o.read_only = true;
  auto reader = Spool::Open(o);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  EXPECT_EQ(reader.value()->GetStatus().pending_records, 3u);
  SpoolRecord r = Rec(9);
  EXPECT_FALSE(reader.value()->Append(&r).ok());
  o.dir = (dir_ / "absent").string();
  EXPECT_EQ(Spool::Open(o).error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace eventsift
