#include "src/source/tcp_source.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "tests/unit/source/fake_consumer.h"
#include "tests/unit/source/tls_test_util.h"

namespace eventsift::source {
namespace {

int Connect(uint16_t port) { return tls_test::ConnectLoopback(port); }

void PollFor(TcpSource& s, FakeConsumer& c, size_t budget, std::chrono::milliseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
    ASSERT_TRUE(s.Poll(c, budget).has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

TEST(TcpSourceTest, ReadsLinesFromPeersAndBoundsConnections) {
  TcpSourceOptions o;
  o.max_connections = 1;
  TcpSource s("tcp", o);
  ASSERT_TRUE(s.Start().ok());
  ASSERT_NE(s.port(), 0);
  int a = Connect(s.port());
  ASSERT_GE(a, 0);
  FakeConsumer c;
  PollFor(s, c, 1 << 20, std::chrono::milliseconds(50));
  int b = Connect(s.port());  // over the bound: accepted, then closed
  ASSERT_GE(b, 0);
  std::string data = "{\"x\":1}\n{\"x\":2}\n{\"x\"";
  ASSERT_EQ(::write(a, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::close(a);  // the final line without newline is delivered at EOF
  PollFor(s, c, 1 << 20, std::chrono::milliseconds(100));
  EXPECT_EQ(c.lines, (std::vector<std::string>{"{\"x\":1}", "{\"x\":2}", "{\"x\""}));
  EXPECT_EQ(s.stats().connections_accepted.Get(), 1u);
  EXPECT_EQ(s.stats().connections_rejected.Get(), 1u);
  EXPECT_EQ(s.connections(), 0u);
  ::close(b);
}

TEST(TcpSourceTest, BudgetLimitsWhatIsReadPerPoll) {
  TcpSource s("tcp", TcpSourceOptions{});
  ASSERT_TRUE(s.Start().ok());
  int a = Connect(s.port());
  ASSERT_GE(a, 0);
  std::string data;
  for (int i = 0; i < 100; ++i) data += "0123456789\n";
  ASSERT_EQ(::write(a, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  FakeConsumer c;
  PollFor(s, c, 0, std::chrono::milliseconds(20));  // pipeline full: nothing read
  EXPECT_EQ(c.lines.size(), 0u);
  PollFor(s, c, 110, std::chrono::milliseconds(200));
  EXPECT_EQ(c.lines.size(), 100u);
  ::close(a);
}

// Full of idle peers, the listener gives a new sender the slot of the
// longest-idle one; what that peer had sent, a partial last line included,
// is read before it is closed.
TEST(TcpSourceTest, ANewPeerEvictsTheLongestIdleOneAfterReadingIt) {
  TcpSourceOptions o;
  o.max_connections = 2;
  o.min_idle_to_evict = std::chrono::milliseconds(100);
  TcpSource s("tcp", o);
  ASSERT_TRUE(s.Start().ok());
  FakeConsumer c;
  int oldest = Connect(s.port());
  ASSERT_GE(oldest, 0);
  PollFor(s, c, 1 << 20, std::chrono::milliseconds(30));
  int second = Connect(s.port());
  ASSERT_GE(second, 0);
  PollFor(s, c, 1 << 20, std::chrono::milliseconds(30));
  // Sent while the pipeline reads nothing (budget 0): still in the kernel.
  ASSERT_EQ(::write(oldest, "{\"a\":1}\n{\"a\"", 12), 12);
  PollFor(s, c, 0, std::chrono::milliseconds(150));
  int sender = Connect(s.port());
  ASSERT_GE(sender, 0);
  ASSERT_EQ(::write(sender, "{\"s\":1}\n", 8), 8);
  PollFor(s, c, 1 << 20, std::chrono::milliseconds(50));
  EXPECT_EQ(c.lines, (std::vector<std::string>{"{\"a\":1}", "{\"a\"", "{\"s\":1}"}));
  EXPECT_EQ(s.stats().connections_evicted.Get(), 1u);
  EXPECT_EQ(s.stats().connections_rejected.Get(), 0u);
  EXPECT_EQ(s.connections(), 2u);
  char b;
  EXPECT_EQ(::recv(oldest, &b, 1, 0), 0);  // the evicted peer sees the close
  ::close(oldest);
  ::close(second);
  ::close(sender);
}

// Peers that were all active within min_idle_to_evict keep their slots: the
// new peer is the one closed, so a flood cannot push out busy senders.
TEST(TcpSourceTest, BusyPeersAreNotEvicted) {
  TcpSourceOptions o;
  o.max_connections = 1;
  o.min_idle_to_evict = std::chrono::seconds(60);
  TcpSource s("tcp", o);
  ASSERT_TRUE(s.Start().ok());
  FakeConsumer c;
  int busy = Connect(s.port());
  ASSERT_GE(busy, 0);
  PollFor(s, c, 1 << 20, std::chrono::milliseconds(30));
  int flood = Connect(s.port());
  ASSERT_GE(flood, 0);
  PollFor(s, c, 1 << 20, std::chrono::milliseconds(30));
  ASSERT_EQ(::write(busy, "{}\n", 3), 3);
  PollFor(s, c, 1 << 20, std::chrono::milliseconds(30));
  EXPECT_EQ(c.lines, (std::vector<std::string>{"{}"}));
  EXPECT_EQ(s.stats().connections_rejected.Get(), 1u);
  EXPECT_EQ(s.stats().connections_evicted.Get(), 0u);
  ::close(busy);
  ::close(flood);
}

// A peer silent for idle_timeout is closed, after its last partial line is
// delivered; one that keeps sending is not.
TEST(TcpSourceTest, IdleTimeoutClosesSilentPeersOnly) {
  TcpSourceOptions o;
  o.idle_timeout = std::chrono::milliseconds(150);
  TcpSource s("tcp", o);
  ASSERT_TRUE(s.Start().ok());
  FakeConsumer c;
  int silent = Connect(s.port());
  int chatty = Connect(s.port());
  ASSERT_GE(silent, 0);
  ASSERT_GE(chatty, 0);
  ASSERT_EQ(::write(silent, "{\"x\"", 4), 4);
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(::write(chatty, "{}\n", 3), 3);
    PollFor(s, c, 1 << 20, std::chrono::milliseconds(50));
  }
  EXPECT_EQ(s.stats().connections_idle_closed.Get(), 1u);
  EXPECT_EQ(s.connections(), 1u);
  EXPECT_EQ(std::count(c.lines.begin(), c.lines.end(), "{\"x\""), 1);
  EXPECT_EQ(std::count(c.lines.begin(), c.lines.end(), "{}"), 8);
  ::close(silent);
  ::close(chatty);
}

// TLS: certificates made at test time, an OpenSSL client in a thread while
// the test thread drives the source as the daemon's loop would.
class TcpSourceTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "es-tls-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    std::string error;
    ASSERT_TRUE(tls_test::MakeTestCerts(dir_, &certs_, &error)) << error;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  TcpSourceOptions Options(bool mutual = false) const {
    TcpSourceOptions o;
    o.tls = TlsServerOptions{certs_.server_crt, certs_.server_key,
                             mutual ? certs_.ca_crt : std::string(), "1.2"};
    return o;
  }
  // Polls `s` until `done` turns true (set by a client thread), then a bit more.
  static void PollUntil(TcpSource& s, FakeConsumer& c, const std::atomic<bool>& done) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done && std::chrono::steady_clock::now() < end) {
      ASSERT_TRUE(s.Poll(c, 1 << 20).has_value());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    PollFor(s, c, 1 << 20, std::chrono::milliseconds(100));
  }

  std::string dir_;
  tls_test::TestCerts certs_;
  FakeConsumer c_;
};

TEST_F(TcpSourceTlsTest, StartRejectsMissingUnreadableOrMismatchedFiles) {
  auto start_error = [&](TlsServerOptions tls) {
    TcpSourceOptions o;
    o.tls = std::move(tls);
    TcpSource s("tls", o);
    Status st = s.Start();
    return st.ok() ? std::string("ok") : st.ToString();
  };
  EXPECT_EQ(start_error({certs_.server_crt, certs_.server_key, "", "1.2"}), "ok");
  EXPECT_NE(start_error({dir_ + "/nope.crt", certs_.server_key, "", "1.2"})
                .find("tls.cert_file: cannot read"),
            std::string::npos);
  EXPECT_NE(start_error({certs_.server_crt, dir_ + "/nope.key", "", "1.2"})
                .find("tls.key_file: cannot read"),
            std::string::npos);
  // The key of another certificate, and a key that is no certificate.
  EXPECT_NE(start_error({certs_.server_crt, certs_.other_key, "", "1.2"}).find("does not match"),
            std::string::npos);
  EXPECT_NE(start_error({certs_.server_key, certs_.server_key, "", "1.2"})
                .find("tls.cert_file: '" + certs_.server_key + "' holds no usable PEM certificate"),
            std::string::npos);
  EXPECT_NE(start_error({certs_.server_crt, certs_.server_key, certs_.other_key, "1.2"})
                .find("tls.client_ca_file"),
            std::string::npos);
  EXPECT_NE(start_error({certs_.server_crt, certs_.server_key, "", "1.1"}).find("tls.min_version"),
            std::string::npos);
}

TEST_F(TcpSourceTlsTest, TlsLinesArriveWhileAPlaintextPeerIsDropped) {
  TcpSource s("tls", Options());
  ASSERT_TRUE(s.Start().ok());
  std::atomic<bool> done{false};
  bool sent = false, plain_closed = false;
  std::string error;
  std::thread client([&] {
    tls_test::TlsClient tls;
    bool ok = tls.Connect(s.port(), certs_.ca_crt) && tls.Send("{\"x\":1}\n{\"x\"");
    // A plaintext sender on the same port meanwhile: dropped at once.
    plain_closed =
        tls_test::PlainClientIsClosed(s.port(), "{\"plain\":1}\n", std::chrono::seconds(5));
    sent = ok && tls.Send(":2}\n{\"x\":3}");  // the TLS peer is unaffected
    error = tls.error();
    tls.Close();  // without close_notify: the last line still counts
    done = true;
  });
  PollUntil(s, c_, done);
  client.join();
  ASSERT_TRUE(sent) << error;
  EXPECT_TRUE(plain_closed);
  EXPECT_EQ(c_.lines, (std::vector<std::string>{"{\"x\":1}", "{\"x\":2}", "{\"x\":3}"}));
  EXPECT_EQ(c_.origins[0].rfind("tls:127.0.0.1:", 0), 0u) << c_.origins[0];
  EXPECT_EQ(s.stats().tls_handshakes.Get(), 1u);
  EXPECT_EQ(s.stats().tls_handshake_failures.Get(), 1u);
  EXPECT_EQ(s.stats().connections_accepted.Get(), 2u);
  EXPECT_EQ(s.connections(), 0u);
}

// A sender that writes a lot, never reads and closes at once (as loggers
// do) loses nothing, even while the pipeline reads slowly: the server sends
// nothing after the handshake that the client would leave unread and so
// turn its close into a reset that drops what is still in flight.
TEST_F(TcpSourceTlsTest, FastSenderClosingAtOnceLosesNothing) {
  TcpSource s("tls", Options());
  ASSERT_TRUE(s.Start().ok());
  constexpr int kLines = 20000;
  std::atomic<bool> done{false};
  bool sent = false;
  std::thread client([&] {
    std::string data;
    for (int i = 0; i < kLines; ++i) data += fmt::format("{{\"n\":{:0100}}}\n", i);
    tls_test::TlsClient tls;
    sent = tls.Connect(s.port(), certs_.ca_crt) && tls.Send(data);
    tls.Close();
    done = true;
  });
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (c_.lines.size() < kLines && std::chrono::steady_clock::now() < end) {
    ASSERT_TRUE(s.Poll(c_, 64 * 1024).has_value());  // a slow pipeline
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  client.join();
  EXPECT_TRUE(sent);
  ASSERT_EQ(c_.lines.size(), static_cast<size_t>(kLines));
  EXPECT_EQ(c_.lines.back(), fmt::format("{{\"n\":{:0100}}}", kLines - 1));
  EXPECT_EQ(s.stats().tls_handshake_failures.Get(), 0u);
}

TEST_F(TcpSourceTlsTest, StalledHandshakeTimesOutAndFreesItsSlot) {
  TcpSourceOptions o = Options();
  o.max_connections = 1;
  o.handshake_timeout = std::chrono::milliseconds(200);
  TcpSource s("tls", o);
  ASSERT_TRUE(s.Start().ok());
  int idle = Connect(s.port());  // connects, never says a word
  ASSERT_GE(idle, 0);
  PollFor(s, c_, 1 << 20, std::chrono::milliseconds(50));
  EXPECT_EQ(s.connections(), 1u);
  PollFor(s, c_, 1 << 20, std::chrono::milliseconds(300));
  EXPECT_EQ(s.connections(), 0u);
  EXPECT_EQ(s.stats().tls_handshake_timeouts.Get(), 1u);
  ::close(idle);
  // The slot is free again for a real client.
  std::atomic<bool> done{false};
  bool sent = false;
  std::thread client([&] {
    tls_test::TlsClient tls;
    sent = tls.Connect(s.port(), certs_.ca_crt) && tls.Send("{\"after\":1}\n");
    done = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  });
  PollUntil(s, c_, done);
  client.join();
  EXPECT_TRUE(sent);
  EXPECT_EQ(c_.lines, (std::vector<std::string>{"{\"after\":1}"}));
}

TEST_F(TcpSourceTlsTest, MutualTlsRejectsAClientWithoutACertificate) {
  TcpSource s("mtls", Options(/*mutual=*/true));
  ASSERT_TRUE(s.Start().ok());
  std::atomic<bool> done{false};
  bool anonymous_closed = false, with_cert_sent = false;
  std::string error;
  std::thread client([&] {
    tls_test::TlsClient anonymous;
    // Under TLS 1.3 the client may finish its side before the server checks
    // (and refuses) it; either way nothing it sends may arrive.
    if (anonymous.Connect(s.port(), certs_.ca_crt)) (void)anonymous.Send("{\"anon\":1}\n");
    anonymous_closed = anonymous.ClosedByServer(std::chrono::seconds(5));
    tls_test::TlsClient with_cert;
    with_cert_sent =
        with_cert.Connect(s.port(), certs_.ca_crt, certs_.client_crt, certs_.client_key) &&
        with_cert.Send("{\"signed\":1}\n");
    error = with_cert.error();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    done = true;
  });
  PollUntil(s, c_, done);
  client.join();
  EXPECT_TRUE(anonymous_closed);
  ASSERT_TRUE(with_cert_sent) << error;
  EXPECT_EQ(c_.lines, (std::vector<std::string>{"{\"signed\":1}"}));
  EXPECT_EQ(s.stats().tls_handshake_failures.Get(), 1u);
  EXPECT_EQ(s.stats().tls_handshakes.Get(), 1u);
}

}  // namespace
}  // namespace eventsift::source
