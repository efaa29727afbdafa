#include "src/source/dir_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/unit/source/fake_consumer.h"

namespace eventsift::source {
namespace {

namespace fs = std::filesystem;

class DirSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("es_dir_source_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    options_.path = dir_.string();
    options_.rotate_wait = std::chrono::milliseconds(0);
    options_.rescan_interval = std::chrono::milliseconds(0);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Append(const std::string& name, const std::string& text) {
    std::ofstream out(dir_ / name, std::ios::app | std::ios::binary);
    out << text;
  }
  void PollAll(DirSource& s, FakeConsumer& c) {
    for (int i = 0; i < 10; ++i) {
      auto more = s.Poll(c, 1 << 20);
      ASSERT_TRUE(more.has_value()) << more.error().ToString();
      if (!more.value()) break;
    }
  }

  fs::path dir_;
  DirSourceOptions options_;
};

TEST_F(DirSourceTest, MatchesIncludeAndExclude) {
  std::vector<std::string> inc = {"*.ndjson", "*.evtx"};
  std::vector<std::string> exc = {"*.tmp.ndjson"};
  EXPECT_TRUE(DirSource::Matches("a.ndjson", inc, exc));
  EXPECT_TRUE(DirSource::Matches("Application.evtx", inc, exc));
  EXPECT_FALSE(DirSource::Matches("a.tmp.ndjson", inc, exc));
  EXPECT_FALSE(DirSource::Matches("a.log", inc, exc));
  EXPECT_FALSE(DirSource::Matches(".hidden.ndjson", inc, exc));  // FNM_PERIOD
}

TEST_F(DirSourceTest, TailsCompleteLinesOnly) {
  Append("a.ndjson", "{\"n\":1}\n{\"n\":");
  Append("skip.txt", "not matched\n");
  DirSource s("dir", options_);
  ASSERT_TRUE(s.Start().ok());
  FakeConsumer c;
  PollAll(s, c);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"{\"n\":1}"}));
  Append("a.ndjson", "2}\n{\"n\":3}\n");
  PollAll(s, c);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"{\"n\":1}", "{\"n\":2}", "{\"n\":3}"}));
  EXPECT_EQ(s.stats().lines.Get(), 3u);
  EXPECT_EQ(s.stats().bytes.Get(), 24u);
}

TEST_F(DirSourceTest, RotationByRenameLosesAndRepeatsNothing) {
  options_.include = {"app.ndjson"};  // the rotated name no longer matches
  Append("app.ndjson", "1\n2\n");
  DirSource s("dir", options_);
  ASSERT_TRUE(s.Start().ok());
  FakeConsumer c;
  PollAll(s, c);
  // The writer appends once more, then rotation renames and a new file starts.
  Append("app.ndjson", "3\n");
  fs::rename(dir_ / "app.ndjson", dir_ / "app.ndjson.1");
  Append("app.ndjson.1", "4\n");  // a late write to the old file
  Append("app.ndjson", "5\n");
  PollAll(s, c);
  PollAll(s, c);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(s.stats().rotations.Get(), 1u);
  EXPECT_EQ(s.tracked_files(), 1u);
}

TEST_F(DirSourceTest, TruncationRestartsFromZero) {
  Append("t.ndjson", "aaaa\nbbbb\n");
  DirSource s("dir", options_);
  ASSERT_TRUE(s.Start().ok());
  FakeConsumer c;
  PollAll(s, c);
  fs::resize_file(dir_ / "t.ndjson", 0);
  Append("t.ndjson", "c\n");
  PollAll(s, c);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"aaaa", "bbbb", "c"}));
  EXPECT_EQ(s.stats().truncations.Get(), 1u);
}

TEST_F(DirSourceTest, DeletedFileIsDrainedThenClosed) {
  Append("d.ndjson", "1\n");
  DirSource s("dir", options_);
  ASSERT_TRUE(s.Start().ok());
  FakeConsumer c;
  PollAll(s, c);
  Append("d.ndjson", "2\n3");  // last line without newline
  fs::remove(dir_ / "d.ndjson");
  PollAll(s, c);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(s.tracked_files(), 0u);
}

TEST_F(DirSourceTest, CheckpointResumesAfterLastCompleteLine) {
  Append("r.ndjson", "1\n2\n3");
  std::vector<FileCheckpoint> cps;
  {
    DirSource s("dir", options_);
    ASSERT_TRUE(s.Start().ok());
    FakeConsumer c;
    PollAll(s, c);
    EXPECT_EQ(c.lines.size(), 2u);
    s.SaveCheckpoints(&cps);
  }
  ASSERT_EQ(cps.size(), 1u);
  EXPECT_EQ(cps[0].offset, 4u);
  EXPECT_EQ(cps[0].line_no, 2u);
  Append("r.ndjson", "\n4\n");
  DirSource s("dir", options_);
  s.RestoreCheckpoints(cps);
  ASSERT_TRUE(s.Start().ok());
  FakeConsumer c;
  PollAll(s, c);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"3", "4"}));
}

TEST_F(DirSourceTest, CheckpointOfReplacedFileIsNotReused) {
  Append("x.ndjson", "old line one\n");
  std::vector<FileCheckpoint> cps;
  {
    DirSource s("dir", options_);
    ASSERT_TRUE(s.Start().ok());
    FakeConsumer c;
    PollAll(s, c);
    s.SaveCheckpoints(&cps);
  }
  ASSERT_EQ(cps.size(), 1u);
  cps[0].fingerprint ^= 1;  // as if the inode now held another file
  DirSource s("dir", options_);
  s.RestoreCheckpoints(cps);
  ASSERT_TRUE(s.Start().ok());
  FakeConsumer c;
  PollAll(s, c);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"old line one"}));
}

TEST_F(DirSourceTest, EvtxIsReadByCompleteChunks) {
  std::string header(4096, 'H');
  std::string chunk(65536, 'C');
  Append("a.evtx", header + chunk + chunk.substr(0, 1000));
  DirSource s("dir", options_);
  ASSERT_TRUE(s.Start().ok());
  FakeConsumer c;
  PollAll(s, c);
  ASSERT_EQ(c.evtx_first_chunks.size(), 1u);
  EXPECT_EQ(c.evtx_first_chunks[0], 0u);
  EXPECT_EQ(c.evtx_sizes[0], 4096u + 65536u);
  PollAll(s, c);  // unchanged file: nothing re-read
  EXPECT_EQ(c.evtx_first_chunks.size(), 1u);
  Append("a.evtx", chunk.substr(1000) + chunk);
  PollAll(s, c);
  // The last chunk read is read again (a live log keeps filling it), with the
  // records already delivered skipped by id.
  ASSERT_EQ(c.evtx_first_chunks.size(), 2u);
  EXPECT_EQ(c.evtx_first_chunks[1], 0u);
  EXPECT_EQ(c.evtx_sizes[1], 4096u + 3 * 65536u);
  EXPECT_EQ(c.evtx_after[1], 10u);
}

}  // namespace
}  // namespace eventsift::source
