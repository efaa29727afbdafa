// `eventsift daemon` reading compressed drop files: gzip and zstd told by
// content, files still being written, corrupt / cut / oversized streams
// reported by name while the rest goes on, and a SIGKILL in the middle of a
// large .gz that loses no alert. Compressed inputs (hostile ones included)
// are made here with zlib and libzstd.

#include <gtest/gtest.h>
#include <signal.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "tests/daemon/daemon_harness.h"

namespace eventsift::daemon_test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t kT0 = 1714557600;  // 2024-05-01T10:00:00Z
constexpr int64_t kDay = 86400;
const std::string kRule = std::string(ES_SOURCE_DIR) + "/rules/eems_mitigation_error.yaml";

std::string Gzip(const std::string& text) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, text.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string Zstd(const std::string& text) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// Config with one directory source "drop" reading every file name.
std::string WriteConfig(const ScratchDir& dir, int port, const std::string& drop_extra = "") {
  std::string path = dir / "eventsift.yaml";
  WriteFile(path,
            fmt::format(R"(state_dir: {}
checkpoint_interval_ms: 200
shutdown_timeout_ms: 5000
rules:
  paths: [{}]
sources:
  - name: drop
    type: directory
    path: {}
    include: ["*"]
    rotate_wait_ms: 300
{}sinks:
  - type: file
    path: {}
metrics:
  address: 127.0.0.1:{}
log:
  format: json
)",
                        dir / "state", kRule, dir / "in", drop_extra, dir / "alerts.ndjson", port));
  return path;
}

double Metric(int port, const std::string& name) {
  return MetricValue(HttpGet(port, "/metrics"), name + "{source=\"drop\",type=\"directory\"}");
}

// `n` EEMS events for host EX<h>, one per hour from `t`, records from `record`.
std::string EemsLines(int h, int64_t t, int n, uint64_t* record) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    s += EemsEvent(fmt::format("EX{:02}.contoso.com", h), t + i * 3600, ++*record) + "\n";
  }
  return s;
}

TEST(DaemonInputsTest, GzipAndZstdFilesAreReadByContentNotName) {
  ScratchDir dir("compressed");
  std::filesystem::create_directories(dir / "in");
  int port = FreePort();
  std::string config = WriteConfig(dir, port);
  uint64_t record = 0;
  std::string a = EemsLines(1, kT0, 3, &record);
  std::string b = EemsLines(2, kT0 + 60, 3, &record);
  std::string c = EemsLines(3, kT0 + 120, 2, &record);
  std::string tick = TickEvent("EX99.contoso.com", kT0 + 3 * kDay, ++record) + "\n";
  WriteFile(dir / "in/a.json.gz", Gzip(a));
  // Two gzip members, as `cat x.gz y.gz` makes, under a name that says nothing.
  WriteFile(dir / "in/b.log", Gzip(b.substr(0, b.size() / 2)) + Gzip(b.substr(b.size() / 2)));
  WriteFile(dir / "in/c.ndjson.zst", Zstd(c));
  // A plain file named .gz is read as it is.
  WriteFile(dir / "in/d.json.gz", tick);
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return ReadAlertIds(dir / "alerts.ndjson").size() >= 3; }, seconds(15)))
      << ReadFile(dir / "daemon.log");
  auto ids = ReadAlertIds(dir / "alerts.ndjson");
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()),
            (std::set<std::string>{ExpectedAlertId("EX01.contoso.com", kT0),
                                   ExpectedAlertId("EX02.contoso.com", kT0 + 60),
                                   ExpectedAlertId("EX03.contoso.com", kT0 + 120)}));
  EXPECT_EQ(Metric(port, "eventsift_source_events_total"), 9);
  EXPECT_EQ(Metric(port, "eventsift_source_compressed_files_total"), 3);
  EXPECT_EQ(Metric(port, "eventsift_source_decompressed_bytes_total"),
            static_cast<double>(a.size() + b.size() + c.size()));
  EXPECT_EQ(Metric(port, "eventsift_source_parse_errors_total"), 0);
  EXPECT_EQ(Metric(port, "eventsift_source_decompress_errors_total"), 0);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0);

  // Restarted: the checkpoints (decompressed offsets) say all was read.
  DaemonProcess again;
  again.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return Metric(port, "eventsift_source_compressed_files_total") == 3; },
                      seconds(10)));
  std::this_thread::sleep_for(milliseconds(800));
  EXPECT_EQ(Metric(port, "eventsift_source_events_total"), 0) << ReadFile(dir / "daemon.log");
  again.Signal(SIGTERM);
  EXPECT_EQ(again.Wait(seconds(6)), 0);
  EXPECT_EQ(ReadAlertIds(dir / "alerts.ndjson").size(), 3u);
}

TEST(DaemonInputsTest, GzipFileStillBeingWrittenOrRotatedIsReadAsItGrows) {
  ScratchDir dir("growing");
  std::filesystem::create_directories(dir / "in");
  int port = FreePort();
  // The writer's pause is shorter than incomplete_after_ms: no error.
  std::string config = WriteConfig(dir, port, "    incomplete_after_ms: 60000\n");
  uint64_t record = 0;
  std::string text;
  for (int h = 0; h < 20; ++h) text += EemsLines(h, kT0 + h, 20, &record);
  std::string gz = Gzip(text);
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return !HttpGet(port, "/healthz").empty(); }, seconds(10)));
  size_t half = gz.size() / 2;
  AppendFile(dir / "in/live.json.gz", gz.substr(0, half));
  ASSERT_TRUE(
      WaitFor([&] { return Metric(port, "eventsift_source_events_total") > 0; }, seconds(10)))
      << ReadFile(dir / "daemon.log");
  double partial = Metric(port, "eventsift_source_events_total");
  EXPECT_LT(partial, 400);
  // Rotated by rename while half written: the writer finishes the renamed
  // file (followed by inode) and starts a new one under the old name.
  std::filesystem::rename(dir / "in/live.json.gz", dir / "in/live.json.gz.1");
  AppendFile(dir / "in/live.json.gz.1", gz.substr(half));
  std::string next = EemsLines(30, kT0, 10, &record);
  AppendFile(dir / "in/live.json.gz", Gzip(next));
  ASSERT_TRUE(
      WaitFor([&] { return Metric(port, "eventsift_source_events_total") == 410; }, seconds(10)))
      << ReadFile(dir / "daemon.log");
  std::this_thread::sleep_for(milliseconds(600));
  EXPECT_EQ(Metric(port, "eventsift_source_events_total"), 410);
  EXPECT_EQ(Metric(port, "eventsift_source_compressed_files_total"), 2);
  EXPECT_EQ(Metric(port, "eventsift_source_parse_errors_total"), 0);
  EXPECT_EQ(Metric(port, "eventsift_source_decompress_errors_total"), 0);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0);
}

TEST(DaemonInputsTest, CorruptCutAndOversizedFilesAreReportedAndTheRestGoesOn) {
  ScratchDir dir("hostile");
  std::filesystem::create_directories(dir / "in");
  int port = FreePort();
  std::string config =
      WriteConfig(dir, port, "    incomplete_after_ms: 500\n    max_decompressed_bytes: 8388608\n");
  uint64_t record = 0;
  std::string text;
  for (int h = 0; h < 10; ++h) text += EemsLines(h, kT0 + h, 50, &record);
  std::string gz = Gzip(text);
  std::string corrupt = gz;
  for (size_t i = corrupt.size() / 2; i < corrupt.size() / 2 + 64; ++i) corrupt[i] ^= 0x5a;
  WriteFile(dir / "in/corrupt.json.gz", corrupt);
  WriteFile(dir / "in/cut.json.gz", gz.substr(0, gz.size() * 2 / 3));
  WriteFile(dir / "in/cut.ndjson.zst", Zstd(text).substr(0, 200));
  // 64 MiB of zeros compresses to 64 KiB: stopped at 8 MiB decompressed.
  {
    z_stream zs{};
    deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
    std::string zeros(1 << 20, '\0'), out(1 << 20, '\0'), bomb;
    for (int i = 0; i < 64; ++i) {
      zs.next_in = reinterpret_cast<Bytef*>(zeros.data());
      zs.avail_in = static_cast<uInt>(zeros.size());
      do {
        zs.next_out = reinterpret_cast<Bytef*>(out.data());
        zs.avail_out = static_cast<uInt>(out.size());
        deflate(&zs, i == 63 ? Z_FINISH : Z_NO_FLUSH);
        bomb.append(out.data(), out.size() - zs.avail_out);
      } while (zs.avail_out == 0);
    }
    deflateEnd(&zs);
    WriteFile(dir / "in/bomb.json.gz", bomb);
  }
  // A zstd frame declaring a 1 GiB window (content size unknown): refused
  // before any allocation, whatever it holds.
  {
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 30);
    std::string out(ZSTD_compressBound(text.size()) + 1024, '\0');
    ZSTD_inBuffer in{text.data(), text.size(), 0};
    ZSTD_outBuffer ob{out.data(), out.size(), 0};
    ZSTD_compressStream2(cctx, &ob, &in, ZSTD_e_continue);
    while (ZSTD_compressStream2(cctx, &ob, &in, ZSTD_e_end) != 0) {
    }
    ZSTD_freeCCtx(cctx);
    out.resize(ob.pos);
    WriteFile(dir / "in/wide.ndjson.zst", out);
  }
  std::string good = EemsLines(50, kT0, 5, &record);
  WriteFile(dir / "in/good.json.gz", Gzip(good));
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return Metric(port, "eventsift_source_decompress_errors_total") == 5; },
                      seconds(20)))
      << ReadFile(dir / "daemon.log");
  std::string log = ReadFile(dir / "daemon.log");
  // Each error is one log line naming the file and what went wrong.
  auto logged = [&](const std::string& file, const std::string& what) {
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("in/" + file + "@") != std::string::npos &&
          line.find(what) != std::string::npos)
        return true;
    }
    return false;
  };
  EXPECT_TRUE(logged("corrupt.json.gz", "gzip: ")) << log;
  EXPECT_TRUE(logged("cut.json.gz", "gzip stream ends early")) << log;
  EXPECT_TRUE(logged("cut.ndjson.zst", "zstd stream ends early")) << log;
  EXPECT_TRUE(logged("bomb.json.gz", "more than max_decompressed_bytes (8388608)")) << log;
  EXPECT_TRUE(logged("wide.ndjson.zst", "zstd: ")) << log;
  // The bomb stopped at its bound (one 64 KiB block over at most).
  EXPECT_LE(Metric(port, "eventsift_source_decompressed_bytes_total"),
            4.0 * static_cast<double>(text.size()) + good.size() + (8 << 20) + (64 << 10));
  // The good file and the intact part of the others were read.
  ASSERT_TRUE(
      WaitFor([&] { return Metric(port, "eventsift_source_events_total") >= 5; }, seconds(10)));
  EXPECT_EQ(d.Wait(milliseconds(100)), -1) << "the daemon exited";
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0);
}

// SIGKILL while a large .gz is read: the checkpoint holds a decompressed
// offset; the restart decompresses the file again from its start, skips
// exactly the lines before that offset (none is decoded twice) and every
// alert arrives; repeats are bounded by one checkpoint interval's alerts.
TEST(DaemonInputsTest, SigkillWhileReadingAGzipFileLosesNoAlert) {
  ScratchDir dir("gzkill");
  std::filesystem::create_directories(dir / "in");
  int port = FreePort();
  std::string config = WriteConfig(dir, port);
  constexpr int kHosts = 40;
  constexpr int kRounds = 6;
  std::set<std::string> expected;
  std::string text;
  uint64_t record = 0;
  for (int r = 0; r < kRounds; ++r) {
    for (int h = 0; h < kHosts; ++h) {
      std::string host = fmt::format("EX{:02}.contoso.com", h);
      int64_t t = kT0 + r * 3 * kDay + h * 60;
      expected.insert(ExpectedAlertId(host, t));
      // Events no rule matches make the file long enough (about 40 MB
      // decompressed) to be read over many polls.
      for (int i = 0; i < 100; ++i) text += TickEvent(host, t + i, ++record) + "\n";
      text += EemsEvent(host, t, ++record) + "\n" + EemsEvent(host, t + 600, ++record) + "\n";
    }
  }
  text += TickEvent("EX99.contoso.com", kT0 + (kRounds * 3 + 2) * kDay, ++record) + "\n";
  const double total_events = static_cast<double>(record);
  WriteFile(dir / "in/big.json.gz", Gzip(text));

  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  // Killed once a checkpoint covers part of the file and before its end.
  ASSERT_TRUE(WaitFor(
      [&] {
        double n = Metric(port, "eventsift_source_events_total");
        return n >= total_events / 4 &&
               ReadFile(dir / "state/state.json").find("big.json.gz") != std::string::npos;
      },
      seconds(30)))
      << ReadFile(dir / "daemon.log");
  d.Signal(SIGKILL);
  EXPECT_EQ(d.Wait(seconds(5)), 128 + SIGKILL);
  std::vector<std::string> before_ids = ReadAlertIds(dir / "alerts.ndjson");
  size_t before = before_ids.size();
  // The checkpoint: decompressed offset after the last complete line processed.
  std::string state = ReadFile(dir / "state/state.json");
  size_t at = state.find("big.json.gz");
  ASSERT_NE(at, std::string::npos) << state;
  size_t obj_end = state.find('}', at);
  size_t off_at = state.find("\"offset\":", at);
  ASSERT_LT(off_at, obj_end) << state;
  ASSERT_NE(state.substr(at, obj_end - at).find("\"compressed\":true"), std::string::npos) << state;
  uint64_t offset = std::stoull(state.substr(off_at + 9));
  ASSERT_LE(offset, text.size());
  ASSERT_TRUE(offset == 0 || text[offset - 1] == '\n') << "offset " << offset;
  const double lines_done = static_cast<double>(
      std::count(text.begin(), text.begin() + static_cast<int64_t>(offset), '\n'));

  DaemonProcess again;
  again.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor(
      [&] {
        auto ids = ReadAlertIds(dir / "alerts.ndjson");
        return std::set<std::string>(ids.begin(), ids.end()).size() >= expected.size();
      },
      seconds(60)))
      << ReadFile(dir / "daemon.log");
  ASSERT_TRUE(WaitFor(
      [&] { return Metric(port, "eventsift_source_events_total") == total_events - lines_done; },
      seconds(30)));
  // The restart decoded exactly the lines after the checkpoint.
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(Metric(port, "eventsift_source_events_total"), total_events - lines_done);
  again.Signal(SIGTERM);
  EXPECT_EQ(again.Wait(seconds(6)), 0);
  auto ids = ReadAlertIds(dir / "alerts.ndjson");
  std::set<std::string> got(ids.begin(), ids.end());
  EXPECT_EQ(got, expected);
  // Repeats are alerts sent before the kill whose sending the last
  // checkpoint did not record yet (its journal lists the emitted ids):
  // nothing else is sent twice.
  size_t duplicates = ids.size() - got.size();
  size_t unrecorded = 0;
  for (const auto& id : before_ids) {
    if (state.find(id) == std::string::npos) ++unrecorded;
  }
  EXPECT_LE(duplicates, unrecorded) << "before restart: " << before;
  std::set<std::string> before_set(before_ids.begin(), before_ids.end());
  std::set<std::string> seen;
  for (const auto& id : ids) {
    if (!seen.insert(id).second) {
      EXPECT_TRUE(before_set.count(id)) << "sent twice after the restart: " << id;
    }
  }
  RecordProperty("lines_checkpointed", static_cast<int>(lines_done));
  RecordProperty("alerts_before_kill", static_cast<int>(before));
  RecordProperty("duplicates", static_cast<int>(duplicates));
}

}  // namespace
}  // namespace eventsift::daemon_test
