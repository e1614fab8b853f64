// Real clients on loopback: `openssl s_server` with a certificate made in a
// temporary directory, `curl` and `openssl s_client` as clients, captured
// with tcpdump, and our parse + JA4 checked against tshark's dissection of
// the same capture. This tshark (Debian 12, Wireshark 4.0) has no ja4
// fields, so the test compares what JA4 is built from: cipher suites,
// extension types, signature algorithms and supported versions (wire order,
// GREASE included), SNI and the first ALPN value; and the ja4_a counts and
// the ja4_ro lists rebuilt from tshark's values.
//
// It also checks the claim behind compute_ja4_stable(): a fresh and a
// resumed session of the same client give different JA4 but the same
// stable JA4.
//
// Needs root (tcpdump on lo) and openssl, curl, tcpdump, tshark; skipped
// otherwise. Binds an ephemeral port, never a fixed one.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "hello_collector.hpp"
#include "huginn/fingerprint/tls/ja4.hpp"
#include "loopback_tools.hpp"

namespace huginn::fingerprint::tls {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::count_real;
using test::free_port;
using test::have_tool;
using test::hex_list;
using test::port_accepts;
using test::run;
using test::slurp;
using test::spawn;
using test::stop;
using test::tshark_hellos;
using test::wait_until;

class LoopbackClients : public testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for tcpdump on lo";
    for (const char* t : {"openssl", "curl", "tcpdump", "tshark"})
      if (!have_tool(t)) GTEST_SKIP() << t << " not installed";
    char tmpl[] = "/tmp/huginn-ja4-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    log_ = dir_ / "tools.log";
    ASSERT_EQ(run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:P-256", "-nodes", "-keyout", (dir_ / "key.pem").string(),
                   "-out", (dir_ / "cert.pem").string(), "-days", "1", "-subj", "/CN=localhost"},
                  log_),
              0)
        << slurp(log_);
    port_ = free_port();
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    stop(tcpdump_, SIGINT);
    stop(server_, SIGTERM);
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  fs::path dir_, log_;
  std::uint16_t port_ = 0;
  pid_t server_ = -1;
  pid_t tcpdump_ = -1;
};

TEST_F(LoopbackClients, Ja4InputsAgreeWithTsharkAndStableJa4SurvivesResumption) {
  const std::string port = std::to_string(port_);
  const std::string url = "https://127.0.0.1:" + port + "/";
  const auto cap = dir_ / "lo.pcap";
  const auto dump_log = dir_ / "tcpdump.log";

  server_ =
      spawn({"openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert",
             (dir_ / "cert.pem").string(), "-key", (dir_ / "key.pem").string(), "-www", "-quiet"},
            log_);
  ASSERT_GT(server_, 0);
  ASSERT_TRUE(wait_until([&] { return port_accepts(port_); }, 10s)) << slurp(log_);
  tcpdump_ = spawn({"tcpdump", "-i", "lo", "-U", "--immediate-mode", "-n", "-w", cap.string(),
                    "tcp port " + port},
                   dump_log);
  ASSERT_GT(tcpdump_, 0);
  ASSERT_TRUE(
      wait_until([&] { return slurp(dump_log).find("listening on") != std::string::npos; }, 10s))
      << slurp(dump_log);

  const auto sess = (dir_ / "sess.pem").string();
  // s_client sends this request and, with -ign_eof, stays until the server
  // has answered and closed, so the TLS 1.3 session ticket (sent after the
  // handshake) has arrived and is saved before it exits.
  const auto request = dir_ / "request.txt";
  std::ofstream(request) << "GET / HTTP/1.0\r\n\r\n";
  // 1-2: openssl s_client fresh (SNI) then resumed from the saved session.
  EXPECT_EQ(run({"openssl", "s_client", "-ign_eof", "-connect", "127.0.0.1:" + port, "-servername",
                 "localhost", "-sess_out", sess},
                log_, request),
            0);
  ASSERT_TRUE(fs::exists(sess)) << slurp(log_);
  EXPECT_EQ(run({"openssl", "s_client", "-ign_eof", "-connect", "127.0.0.1:" + port, "-servername",
                 "localhost", "-sess_in", sess},
                log_, request),
            0);
  // 3: s_client TLS 1.2 only, with ALPN.
  EXPECT_EQ(run({"openssl", "s_client", "-ign_eof", "-connect", "127.0.0.1:" + port, "-tls1_2",
                 "-alpn", "http/1.1"},
                log_, request),
            0);
  // 4-5: curl, no SNI (IP literal); s_server -www closes each connection,
  // so the second URL is a new connection resuming the first session.
  EXPECT_EQ(
      run({"curl", "-sk", "--no-keepalive", url, url, "-o", "/dev/null", "-o", "/dev/null"}, log_),
      0);
  // 6: curl with a host name (SNI) mapped to 127.0.0.1.
  EXPECT_EQ(run({"curl", "-sk", "--resolve", "huginn.test:" + port + ":127.0.0.1",
                 "https://huginn.test:" + port + "/", "-o", "/dev/null"},
                log_),
            0);

  std::this_thread::sleep_for(1s);
  stop(tcpdump_, SIGINT);
  tcpdump_ = -1;

  test::HelloCollector collector;
  ASSERT_FALSE(collector.read(cap.string()));
  const auto ours = collector.hellos();
  const auto theirs = tshark_hellos(cap, dir_);
  ASSERT_EQ(ours.size(), 6u) << slurp(dump_log) << slurp(log_);
  ASSERT_EQ(theirs.size(), 6u);

  std::vector<std::pair<std::size_t, const ClientHello*>> by_time;
  for (const auto& [key, c] : ours) {
    ASSERT_EQ(c.hellos.size(), 1u);
    const auto& h = c.hellos.front();
    by_time.emplace_back(c.first_seen, &h);
    const auto it = theirs.find(key.sport);
    ASSERT_NE(it, theirs.end()) << "tshark saw no hello from port " << key.sport;
    const auto& t = it->second;
    SCOPED_TRACE("client port " + std::to_string(key.sport));
    EXPECT_EQ(h.cipher_suites, t.ciphers);
    EXPECT_EQ(h.extensions, t.extensions);
    EXPECT_EQ(h.signature_algorithms, t.sig_algs);
    EXPECT_EQ(h.supported_versions, t.versions);
    EXPECT_EQ(h.sni, t.sni);
    EXPECT_EQ(h.alpn.empty() ? std::string() : h.alpn.front(), t.alpn);

    const auto j = compute_ja4(h);
    const std::string sni_flag = t.sni.empty() ? "i" : "d";
    char counts[8];
    std::snprintf(counts, sizeof counts, "%02zu%02zu", count_real(t.ciphers),
                  count_real(t.extensions));
    EXPECT_EQ(j.ja4.substr(3, 5), sni_flag + counts);
    const std::string alpn_chars =
        t.alpn.empty() ? "00" : std::string{t.alpn.front(), t.alpn.back()};
    EXPECT_EQ(j.ja4.substr(8, 2), alpn_chars);
    std::string ro = j.ja4.substr(0, 10) + "_" + hex_list(t.ciphers) + "_" + hex_list(t.extensions);
    if (!hex_list(t.sig_algs).empty()) ro += "_" + hex_list(t.sig_algs);
    EXPECT_EQ(j.ja4_ro, ro);
  }

  // Connection order: [0] s_client fresh, [1] s_client resumed, [2]
  // s_client TLS 1.2, [3] curl fresh, [4] curl resumed, [5] curl with SNI.
  std::sort(by_time.begin(), by_time.end());
  std::vector<const ClientHello*> in_order;
  for (const auto& [when, h] : by_time) in_order.push_back(h);
  ASSERT_EQ(in_order.size(), 6u);
  for (const auto& [fresh, resumed] : {std::pair{0, 1}, std::pair{3, 4}}) {
    SCOPED_TRACE("fresh #" + std::to_string(fresh) + " vs resumed #" + std::to_string(resumed));
    const auto& f = *in_order[static_cast<std::size_t>(fresh)];
    const auto& r = *in_order[static_cast<std::size_t>(resumed)];
    EXPECT_FALSE(f.resumption_attempt);
    EXPECT_TRUE(r.resumption_attempt);
    EXPECT_NE(compute_ja4(f).ja4, compute_ja4(r).ja4);
    EXPECT_EQ(compute_ja4_stable(f).ja4, compute_ja4_stable(r).ja4);
    EXPECT_EQ(compute_ja4_stable(f).ja4_ro, compute_ja4_stable(r).ja4_ro);
  }
  EXPECT_EQ(compute_ja4(*in_order[2]).ja4.substr(0, 3), "t12");
  EXPECT_EQ(compute_ja4(*in_order[3]).ja4[3], 'i');
  EXPECT_EQ(compute_ja4(*in_order[5]).ja4[3], 'd');
  for (std::size_t i = 0; i < in_order.size(); ++i)
    std::printf("loopback hello %zu: %s  stable %s\n", i, compute_ja4(*in_order[i]).ja4.c_str(),
                compute_ja4_stable(*in_order[i]).ja4.c_str());
}

}  // namespace
}  // namespace huginn::fingerprint::tls
