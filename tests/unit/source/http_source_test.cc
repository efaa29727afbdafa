// HttpSource through real HTTP requests (cpp-httplib's client) and a fake
// consumer: the test thread plays the daemon's loop (Poll, then Commit once
// "durable"), so what the client is answered, and when, is checked exactly.

#include "src/source/http_source.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "tests/unit/source/fake_consumer.h"
#include "tests/unit/source/tls_test_util.h"

namespace eventsift::source {
namespace {

using std::chrono::milliseconds;

struct Answer {
  int status = -1;  // -1: no answer (connection error)
  std::string body;
  std::string retry_after;
};

Answer Post(uint16_t port, const std::string& body, const httplib::Headers& headers = {},
            bool gzip = false) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(std::chrono::seconds(10));
  client.set_compress(gzip);
  auto r = client.Post("/ingest", headers, body, "application/x-ndjson");
  if (!r) return Answer{};
  return Answer{r->status, r->body, r->get_header_value("Retry-After")};
}

// Plays the daemon's loop until `answer` is ready: Poll always, Commit only
// when `commit` says so.
Answer Drive(
    HttpSource& source, FakeConsumer& consumer, std::future<Answer>& answer,
    const std::function<bool()>& commit = [] { return true; }) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (answer.wait_for(milliseconds(5)) != std::future_status::ready) {
    EXPECT_TRUE(source.Poll(consumer, 1 << 20).has_value());
    if (commit()) {
      EXPECT_TRUE(source.Commit().ok());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "no answer";
      break;
    }
  }
  return answer.get();
}

std::unique_ptr<HttpSource> Started(HttpSourceOptions o = {}) {
  auto s = std::make_unique<HttpSource>("web", std::move(o));
  Status st = s->Start();
  EXPECT_TRUE(st.ok()) << st.ToString();
  return s;
}

const std::string kTwoLines = "{\"a\":1}\n{\"b\":2}\n";

TEST(HttpSourceTest, BatchIsAnsweredOnlyAfterCommit) {
  auto source = Started();
  FakeConsumer consumer;
  auto answer = std::async(std::launch::async, [&] { return Post(source->port(), kTwoLines); });
  // Delivered but not committed: the client still waits.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (consumer.lines.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(source->Poll(consumer, 1 << 20).has_value());
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_EQ(consumer.lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_EQ(consumer.origins[0].rfind("http:127.0.0.1/", 0), 0u) << consumer.origins[0];
  EXPECT_EQ(answer.wait_for(milliseconds(300)), std::future_status::timeout);
  EXPECT_GE(source->CommitDueInMs(), 0);
  Answer a = Drive(*source, consumer, answer);
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.body.find("\"records\":2"), std::string::npos) << a.body;
  EXPECT_EQ(source->CommitDueInMs(), -1);
  auto clients = source->Clients();
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0].first, "127.0.0.1");
  EXPECT_EQ(clients[0].second->requests.load(), 1u);
  EXPECT_EQ(clients[0].second->bytes.load(), kTwoLines.size());
  EXPECT_EQ(source->Responses()[200], 1u);
}

TEST(HttpSourceTest, CheckpointIsDueAtOnceUnlessMoreBatchesAreQueued) {
  HttpSourceOptions o;
  o.commit_delay = std::chrono::seconds(10);
  auto source = Started(o);
  FakeConsumer consumer;
  EXPECT_EQ(source->CommitDueInMs(), -1);
  auto first = std::async(std::launch::async, [&] { return Post(source->port(), kTwoLines); });
  auto second = std::async(std::launch::async, [&] { return Post(source->port(), kTwoLines); });
  // Both queued before any is delivered.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (source->stats().lines.Get() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(50));
    if (source->Clients().size() == 1 &&
        source->Clients()[0].second->bytes.load() == 2 * kTwoLines.size()) {
      // A budget of one byte delivers one batch per Poll.
      ASSERT_TRUE(source->Poll(consumer, 1).value());
    }
  }
  ASSERT_EQ(consumer.lines.size(), 2u);
  // One batch waits for its checkpoint while another is queued: the
  // checkpoint waits for it (up to commit_delay) to cover both.
  EXPECT_GT(source->CommitDueInMs(), 1000);
  EXPECT_FALSE(source->Poll(consumer, 1).value());
  EXPECT_EQ(consumer.lines.size(), 4u);
  EXPECT_EQ(source->CommitDueInMs(), 0);
  ASSERT_TRUE(source->Commit().ok());
  EXPECT_EQ(first.get().status, 200);
  EXPECT_EQ(second.get().status, 200);
}

TEST(HttpSourceTest, GzipAndJsonArrayBodies) {
  auto source = Started();
  FakeConsumer consumer;
  auto gz = std::async(std::launch::async,
                       [&] { return Post(source->port(), kTwoLines, {}, /*gzip=*/true); });
  EXPECT_EQ(Drive(*source, consumer, gz).status, 200);
  auto array =
      std::async(std::launch::async, [&] { return Post(source->port(), "[{\"c\":3},{\"d\":4}]"); });
  EXPECT_EQ(Drive(*source, consumer, array).status, 200);
  EXPECT_EQ(consumer.lines,
            (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}", "{\"d\":4}"}));
}

TEST(HttpSourceTest, BearerTokenIsRequired) {
  std::string token_file = ::testing::TempDir() + "/http_source_token";
  std::ofstream(token_file) << "s3cret\n";
  HttpSourceOptions o;
  o.auth_token_file = token_file;
  auto source = Started(o);
  FakeConsumer consumer;
  EXPECT_EQ(Post(source->port(), kTwoLines).status, 401);
  EXPECT_EQ(Post(source->port(), kTwoLines, {{"Authorization", "Bearer wrong!"}}).status, 401);
  auto ok = std::async(std::launch::async, [&] {
    return Post(source->port(), kTwoLines, {{"Authorization", "Bearer s3cret"}});
  });
  EXPECT_EQ(Drive(*source, consumer, ok).status, 200);
  EXPECT_EQ(consumer.lines.size(), 2u);
  EXPECT_EQ(source->Responses()[401], 2u);
  std::filesystem::remove(token_file);
}

TEST(HttpSourceTest, MissingTokenFileIsAStartError) {
  HttpSourceOptions o;
  o.auth_token_file = "/nonexistent/token";
  HttpSource source("web", o);
  Status st = source.Start();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.ToString().find("auth_token_file"), std::string::npos) << st.ToString();
}

TEST(HttpSourceTest, BodiesOverTheBoundAre413EvenWhenCompressed) {
  HttpSourceOptions o;
  o.max_body_bytes = 4096;
  auto source = Started(o);
  std::string big(10000, ' ');
  big += "{\"a\":1}\n";
  EXPECT_EQ(Post(source->port(), big).status, 413);
  // 10 KB of spaces compress to a few dozen bytes: the bound is on what
  // comes out of the decompressor.
  Answer gz = Post(source->port(), big, {}, /*gzip=*/true);
  EXPECT_EQ(gz.status, 413) << gz.body;
  EXPECT_EQ(source->Responses()[413], 2u);
}

TEST(HttpSourceTest, LongLineIsRefusedByNumberAndTheRestIsDelivered) {
  HttpSourceOptions o;
  o.max_line_bytes = 1024;
  std::vector<std::string> errors;
  o.on_error = [&](const std::string& client, const std::string& what) {
    errors.push_back(client + " " + what);
  };
  auto source = Started(o);
  FakeConsumer consumer;
  std::string body = "{\"a\":1}\n{\"x\":\"" + std::string(2000, 'y') + "\"}\n{\"b\":2}\n";
  auto answer = std::async(std::launch::async, [&] { return Post(source->port(), body); });
  Answer a = Drive(*source, consumer, answer);
  EXPECT_EQ(a.status, 200);
  EXPECT_NE(a.body.find("\"refused\":1"), std::string::npos) << a.body;
  EXPECT_NE(a.body.find("record 2:"), std::string::npos) << a.body;
  EXPECT_EQ(consumer.lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("127.0.0.1 http:127.0.0.1/1: record 2:"), std::string::npos)
      << errors[0];
  EXPECT_EQ(source->stats().lines_dropped.Get(), 1u);
}

TEST(HttpSourceTest, FullQueueAnswersBackpressureWithRetryAfter) {
  HttpSourceOptions o;
  o.max_pending = 1;
  o.retry_after_seconds = 7;
  o.backpressure_status = 429;
  auto source = Started(o);
  FakeConsumer consumer;
  auto first = std::async(std::launch::async, [&] { return Post(source->port(), kTwoLines); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (consumer.lines.empty() && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(source->Poll(consumer, 1 << 20).has_value());
    std::this_thread::sleep_for(milliseconds(5));
  }
  // The first holds the only slot until it is committed.
  Answer second = Post(source->port(), kTwoLines);
  EXPECT_EQ(second.status, 429);
  EXPECT_EQ(second.retry_after, "7");
  EXPECT_EQ(Drive(*source, consumer, first).status, 200);
  EXPECT_EQ(consumer.lines.size(), 2u);  // the refused batch was never read
}

TEST(HttpSourceTest, NotDurableInTimeIs503AndStopAnswersWaitingClients) {
  HttpSourceOptions o;
  o.ack_timeout = milliseconds(300);
  auto source = Started(o);
  FakeConsumer consumer;
  auto never = std::async(std::launch::async, [&] { return Post(source->port(), kTwoLines); });
  Answer a = Drive(*source, consumer, never, [] { return false; });
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.retry_after, "1");
  // Queued and never polled: Stop answers it at once.
  HttpSourceOptions slow;
  auto stopping = Started(slow);
  auto queued = std::async(std::launch::async, [&] { return Post(stopping->port(), kTwoLines); });
  std::this_thread::sleep_for(milliseconds(200));
  stopping->Stop();
  Answer b = queued.get();
  EXPECT_EQ(b.status, 503);
  EXPECT_NE(b.body.find("shutting down"), std::string::npos) << b.body;
}

class HttpSourceTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/http_source_tls";
    std::filesystem::create_directories(dir_);
    std::string error;
    ASSERT_TRUE(tls_test::MakeTestCerts(dir_, &certs_, &error)) << error;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // POST over TLS, verifying the server against the test CA.
  Answer PostTls(uint16_t port, const std::string& cert = "", const std::string& key = "") {
    httplib::SSLClient client("127.0.0.1", port, cert, key);
    client.set_ca_cert_path(certs_.ca_crt.c_str());
    client.enable_server_certificate_verification(true);
    client.set_read_timeout(std::chrono::seconds(10));
    auto r = client.Post("/", kTwoLines, "application/x-ndjson");
    if (!r) return Answer{};
    return Answer{r->status, r->body, r->get_header_value("Retry-After")};
  }

  std::string dir_;
  tls_test::TestCerts certs_;
};

TEST_F(HttpSourceTlsTest, BatchOverTlsAndPlainHttpRefused) {
  HttpSourceOptions o;
  o.tls = TlsServerOptions{certs_.server_crt, certs_.server_key, "", "1.2"};
  auto source = Started(o);
  FakeConsumer consumer;
  auto answer = std::async(std::launch::async, [&] { return PostTls(source->port()); });
  EXPECT_EQ(Drive(*source, consumer, answer).status, 200);
  EXPECT_EQ(consumer.lines.size(), 2u);
  // Plain HTTP to the TLS port gets no HTTP answer, and nothing is read.
  EXPECT_EQ(Post(source->port(), kTwoLines).status, -1);
  EXPECT_EQ(consumer.lines.size(), 2u);
}

TEST_F(HttpSourceTlsTest, MutualTlsNeedsAClientCertificate) {
  HttpSourceOptions o;
  o.tls = TlsServerOptions{certs_.server_crt, certs_.server_key, certs_.ca_crt, "1.2"};
  auto source = Started(o);
  FakeConsumer consumer;
  EXPECT_EQ(PostTls(source->port()).status, -1);
  auto answer = std::async(std::launch::async, [&] {
    return PostTls(source->port(), certs_.client_crt, certs_.client_key);
  });
  EXPECT_EQ(Drive(*source, consumer, answer).status, 200);
  EXPECT_EQ(consumer.lines.size(), 2u);
}

TEST_F(HttpSourceTlsTest, KeyNotMatchingTheCertificateIsAStartError) {
  HttpSourceOptions o;
  o.tls = TlsServerOptions{certs_.server_crt, certs_.other_key, "", "1.2"};
  HttpSource source("web", o);
  Status st = source.Start();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.ToString().find("tls.key_file"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace eventsift::source
