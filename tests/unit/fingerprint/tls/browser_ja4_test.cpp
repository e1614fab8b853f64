// Real browsers as TLS fingerprint sources: headless Chromium and Firefox
// ESR from Debian load https pages from `openssl s_server -www` (a
// self-signed certificate made in a temporary directory; TLS 1.3 and 1.2,
// ALPN http/1.1 chosen by the server), each page load captured on lo by its
// own tcpdump. Each capture goes through capture::read_file into a
// flow::FlowTable; every ClientHello in a client->server prefix goes
// through parse_client_hello and compute_ja4, and is checked against
// tshark's dissection of the same packets: cipher suites, extension types,
// signature algorithms, supported versions and groups (wire order, GREASE
// included), SNI, the first ALPN value, and ja4_a / ja4_ro rebuilt from
// tshark's values (tshark 4.0 has no ja4 fields).
//
// What is known about the browsers is asserted too:
//  - Chromium sends GREASE (RFC 8701) in ciphers, extensions, versions and
//    groups, and JA4 ignores it: the hello with GREASE stripped has the
//    same four JA4 forms.
//  - Chromium permutes its extension order per connection (since Chrome
//    110), so two fresh connections differ in ja4_o / ja4_ro but not in
//    ja4 / ja4_r, which sort the extensions.
//  - Firefox sends no GREASE and a fixed extension order: two fresh
//    connections give the same ja4 and ja4_o.
//  - A host name gives SNI ('d'); an IP literal gives none ('i').
// Each launch uses a fresh profile, so its first hello is never a
// resumption. The observed JA4 values are printed (docs/ja4.md lists them).
//
// Self-signed certificate: Chromium takes --ignore-certificate-errors;
// Firefox takes a cert_override.txt in the fresh profile naming host:port
// and the certificate's SHA-256 fingerprint (what "Accept the risk" writes).
// Host name: Chromium --host-resolver-rules, Firefox the
// network.dns.forceResolve pref, both to 127.0.0.1.
//
// Needs root (tcpdump on lo), openssl, tcpdump, tshark, timeout and the
// browser; skipped otherwise. Binds an ephemeral port, never a fixed one.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "huginn/capture/capture_thread.hpp"
#include "huginn/capture/pcap_source.hpp"
#include "huginn/fingerprint/tls/client_hello.hpp"
#include "huginn/fingerprint/tls/grease.hpp"
#include "huginn/fingerprint/tls/ja4.hpp"
#include "huginn/flow/flow_table.hpp"
#include "loopback_tools.hpp"

namespace huginn::fingerprint::tls {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::has_grease;
using test::have_tool;
using test::port_accepts;
using test::run;
using test::slurp;
using test::spawn;
using test::stop;
using test::wait_until;

constexpr const char* kHostName = "huginn.test";

// The ClientHellos of one connection, as our flow table and parser see it.
struct ConnectionHellos {
  std::uint16_t client_port = 0;
  std::int64_t first_seen_us = 0;  // capture clock
  std::vector<ClientHello> hellos;
  ParseStatus last_status = ParseStatus::kNeedMore;
};

// Every connection of `cap` whose client->server prefix starts with a
// ClientHello, in order of first packet. Flows are read when the table
// removes them (close, or clear() at the end), as the analyzer does.
std::vector<ConnectionHellos> read_hellos(const fs::path& cap) {
  struct NoState {};
  std::vector<ConnectionHellos> out;
  flow::FlowTable<NoState> table({}, [&out](flow::FlowTable<NoState>::FlowType& f,
                                            flow::CloseReason) {
    const auto bytes = f.to_server().contiguous();
    ConnectionHellos c;
    c.client_port = f.client().port;
    c.first_seen_us = f.first_seen_us();
    std::size_t off = 0;
    for (;;) {
      const auto r = parse_client_hello(bytes.subspan(off));
      c.last_status = r.status;
      if (r.status != ParseStatus::kOk) break;
      c.hellos.push_back(r.hello);
      off += r.consumed;
    }
    if (!c.hellos.empty()) out.push_back(std::move(c));
  });
  auto opened = capture::PcapSource::open_file(cap.string());
  EXPECT_TRUE(opened) << opened.error;
  if (!opened) return out;
  capture::CaptureStats stats;
  const auto err = capture::read_file(
      *opened.source, [&table](const packet::DecodedPacket& p) { table.on_packet(p); }, stats);
  EXPECT_FALSE(err.has_value()) << *err;
  table.clear();
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.first_seen_us < b.first_seen_us;
  });
  return out;
}

// The hello with every GREASE value taken out of every list.
ClientHello without_grease(ClientHello h) {
  for (auto* list : {&h.cipher_suites, &h.extensions, &h.supported_versions, &h.supported_groups,
                     &h.signature_algorithms}) {
    std::erase_if(*list, [](std::uint16_t v) { return is_grease(v); });
  }
  h.grease = {};
  return h;
}

std::vector<std::uint16_t> sorted(std::vector<std::uint16_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

enum class Browser { kChromium, kFirefox };

class BrowserJa4 : public testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for tcpdump on lo";
    for (const char* t : {"openssl", "tcpdump", "tshark", "timeout"})
      if (!have_tool(t)) GTEST_SKIP() << t << " not installed";
    char tmpl[] = "/tmp/huginn-browser-ja4-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    log_ = dir_ / "tools.log";
    ASSERT_EQ(run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:P-256", "-nodes", "-keyout", (dir_ / "key.pem").string(),
                   "-out", (dir_ / "cert.pem").string(), "-days", "1", "-subj",
                   std::string("/CN=") + kHostName, "-addext",
                   std::string("subjectAltName=DNS:") + kHostName + ",IP:127.0.0.1"},
                  log_),
              0)
        << slurp(log_);
    port_ = test::free_port();
    ASSERT_NE(port_, 0);
    // -alpn makes the server pick http/1.1, which -www speaks, so pages
    // load; what the browser offers (h2 first) is unaffected.
    server_ = spawn({"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port_),
                     "-cert", (dir_ / "cert.pem").string(), "-key", (dir_ / "key.pem").string(),
                     "-www", "-alpn", "http/1.1"},
                    dir_ / "s_server.log");
    ASSERT_GT(server_, 0);
    ASSERT_TRUE(wait_until([&] { return port_accepts(port_); }, 10s))
        << slurp(dir_ / "s_server.log");
  }
  void TearDown() override {
    stop(tcpdump_, SIGINT);
    stop(server_, SIGTERM);
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Loads `url` once in a fresh profile under its own capture; returns the
  // capture's path (empty after a fatal failure).
  fs::path load(Browser b, const std::string& url, const std::string& name) {
    const auto cap = dir_ / (name + ".pcap");
    const auto dump_log = dir_ / (name + ".tcpdump.log");
    tcpdump_ = spawn({"tcpdump", "-i", "lo", "-U", "--immediate-mode", "-n", "-w", cap.string(),
                      "tcp port " + std::to_string(port_)},
                     dump_log);
    EXPECT_GT(tcpdump_, 0);
    if (tcpdump_ <= 0) return {};
    const bool listening = wait_until(
        [&] { return slurp(dump_log).find("listening on") != std::string::npos; }, 10s);
    EXPECT_TRUE(listening) << slurp(dump_log);
    if (!listening) return {};

    const auto profile = dir_ / (name + "-profile");
    fs::create_directories(profile);
    const auto browser_log = dir_ / (name + ".log");
    std::vector<std::string> args;
    if (b == Browser::kChromium) {
      args = {"timeout", "-k", "5", "30", "chromium", "--headless=new", "--no-sandbox",
              "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--user-data-dir=" + profile.string(), "--ignore-certificate-errors",
              std::string("--host-resolver-rules=MAP ") + kHostName + " 127.0.0.1", "--dump-dom",
              url};
    } else {
      write_firefox_profile(profile);
      args = {"timeout", "-k", "5", "30", "firefox-esr", "--headless", "--no-remote",
              "--profile", profile.string(), "--screenshot", (dir_ / (name + ".png")).string(),
              url};
    }
    EXPECT_EQ(run(args, browser_log, "/dev/null", 40s), 0) << slurp(browser_log);
    std::this_thread::sleep_for(500ms);  // let tcpdump write the last segments
    stop(tcpdump_, SIGINT);
    tcpdump_ = -1;
    return cap;
  }

  void write_firefox_profile(const fs::path& profile) const {
    std::ofstream(profile / "user.js")
        << "user_pref(\"network.http.http3.enable\", false);\n"
           "user_pref(\"network.dns.forceResolve\", \"127.0.0.1\");\n"
           "user_pref(\"browser.shell.checkDefaultBrowser\", false);\n"
           "user_pref(\"app.update.auto\", false);\n"
           "user_pref(\"app.normandy.enabled\", false);\n"
           "user_pref(\"datareporting.policy.dataSubmissionEnabled\", false);\n"
           "user_pref(\"toolkit.telemetry.enabled\", false);\n"
           "user_pref(\"network.captive-portal-service.enabled\", false);\n"
           "user_pref(\"network.connectivity-service.enabled\", false);\n"
           "user_pref(\"browser.safebrowsing.malware.enabled\", false);\n"
           "user_pref(\"browser.safebrowsing.phishing.enabled\", false);\n";
    // One override per host:port the test uses; the empty third field is
    // the (default) origin attributes, the OID names SHA-256.
    const auto fp_log = dir_ / "fingerprint.txt";
    std::filesystem::remove(fp_log);
    run({"openssl", "x509", "-in", (dir_ / "cert.pem").string(), "-noout", "-fingerprint",
         "-sha256"},
        fp_log);
    std::string fp = slurp(fp_log);
    fp = fp.substr(fp.find('=') + 1);
    fp.erase(fp.find_last_not_of("\r\n") + 1);
    std::ofstream out(profile / "cert_override.txt");
    out << "# PRIVATE FILE\n";
    for (const char* host : {kHostName, "127.0.0.1"})
      out << host << ':' << port_ << ":\tOID.2.16.840.1.101.3.4.2.1\t" << fp << "\t\n";
  }

  // Checks every hello of `cap` against tshark; returns ours, in order.
  std::vector<ConnectionHellos> checked_hellos(const fs::path& cap) {
    auto ours = read_hellos(cap);
    const auto theirs = test::tshark_hellos(cap, dir_);
    std::size_t count = 0;
    for (const auto& c : ours) {
      SCOPED_TRACE(cap.filename().string() + " client port " + std::to_string(c.client_port));
      EXPECT_EQ(c.hellos.size(), 1u) << "a HelloRetryRequest was not expected on loopback";
      count += c.hellos.size();
      const auto it = theirs.find(c.client_port);
      EXPECT_NE(it, theirs.end()) << "tshark saw no hello from this port";
      if (it == theirs.end()) continue;
      const auto& t = it->second;
      const auto& h = c.hellos.front();
      EXPECT_EQ(h.cipher_suites, t.ciphers);
      EXPECT_EQ(h.extensions, t.extensions);
      EXPECT_EQ(h.signature_algorithms, t.sig_algs);
      EXPECT_EQ(h.supported_versions, t.versions);
      EXPECT_EQ(h.supported_groups, t.groups);
      EXPECT_EQ(h.sni, t.sni);
      EXPECT_EQ(h.alpn.empty() ? std::string() : h.alpn.front(), t.alpn);
      const auto j = compute_ja4(h);
      EXPECT_EQ(j.ja4.substr(3, 7), test::ja4_a_tail_from_tshark(t));
      EXPECT_EQ(j.ja4_ro.substr(10), test::ja4_ro_tail_from_tshark(t));
    }
    EXPECT_EQ(count, theirs.size()) << "tshark and we found different numbers of hellos";
    return ours;
  }

  // The three loads every browser gets: host name twice (SNI), IP once.
  void run_loads(Browser b, const std::string& tag) {
    const std::string port = std::to_string(port_);
    const std::string by_name = std::string("https://") + kHostName + ":" + port + "/";
    const std::string by_ip = "https://127.0.0.1:" + port + "/";
    for (const auto& [name, url] :
         {std::pair{tag + "-name-1", by_name}, {tag + "-name-2", by_name}, {tag + "-ip", by_ip}}) {
      const auto cap = load(b, url, name);
      ASSERT_FALSE(cap.empty());
      auto conns = checked_hellos(cap);
      ASSERT_FALSE(conns.empty()) << name << ": no ClientHello captured\n"
                                  << slurp(dir_ / (name + ".log"));
      firsts_.push_back(conns.front().hellos.front());
      for (const auto& c : conns) all_.insert(all_.end(), c.hellos.begin(), c.hellos.end());
    }
    for (std::size_t i = 0; i < firsts_.size(); ++i) {
      const auto j = compute_ja4(firsts_[i]);
      std::printf("%s load %zu first hello: ja4 %s  ja4_o %s\n  ja4_r  %s\n  ja4_ro %s\n"
                  "  groups %s  versions %s  alpn %s\n",
                  tag.c_str(), i, j.ja4.c_str(), j.ja4_o.c_str(), j.ja4_r.c_str(),
                  j.ja4_ro.c_str(), test::hex_list(firsts_[i].supported_groups).c_str(),
                  test::hex_list(firsts_[i].supported_versions).c_str(),
                  firsts_[i].alpn.empty() ? "" : firsts_[i].alpn.front().c_str());
    }
    std::printf("%s: %zu hellos in %zu loads\n", tag.c_str(), all_.size(), firsts_.size());
    for (const auto& h : all_)
      std::printf("  %s%s\n", compute_ja4(h).ja4.c_str(),
                  h.resumption_attempt ? "  (resumption)" : "");
  }

  // Facts both browsers share: fresh first hellos, TLS 1.3, h2 offered
  // first, SNI by name and not by IP, and GREASE-blind JA4.
  void expect_common() {
    ASSERT_EQ(firsts_.size(), 3u);
    for (std::size_t i = 0; i < firsts_.size(); ++i) {
      SCOPED_TRACE("load " + std::to_string(i));
      const auto& h = firsts_[i];
      EXPECT_FALSE(h.resumption_attempt);
      const auto j = compute_ja4(h);
      EXPECT_EQ(j.ja4.substr(0, 3), "t13");
      EXPECT_EQ(j.ja4.substr(8, 2), "h2");
      EXPECT_EQ(h.sni, i < 2 ? kHostName : "");
      EXPECT_EQ(j.ja4[3], i < 2 ? 'd' : 'i');
    }
    // Every fresh hello of a browser, first or not, has one of its two
    // JA4s (with and without SNI), however its extensions were ordered.
    const auto by_name = compute_ja4(firsts_[0]).ja4;
    const auto by_ip = compute_ja4(firsts_[2]).ja4;
    for (const auto& h : all_) {
      const auto j = compute_ja4(h);
      if (!h.resumption_attempt) {
        EXPECT_EQ(j.ja4, h.sni.empty() ? by_ip : by_name);
      }
      const auto k = compute_ja4(without_grease(h));
      EXPECT_EQ(j.ja4, k.ja4);
      EXPECT_EQ(j.ja4_r, k.ja4_r);
      EXPECT_EQ(j.ja4_o, k.ja4_o);
      EXPECT_EQ(j.ja4_ro, k.ja4_ro);
    }
  }

  fs::path dir_, log_;
  std::uint16_t port_ = 0;
  pid_t server_ = -1;
  pid_t tcpdump_ = -1;
  std::vector<ClientHello> firsts_;  // first hello of each load
  std::vector<ClientHello> all_;     // every hello of every load
};

TEST_F(BrowserJa4, ChromiumSendsGreaseAndPermutesExtensionsButJa4IsStable) {
  if (!have_tool("chromium")) GTEST_SKIP() << "chromium not installed";
  ASSERT_NO_FATAL_FAILURE(run_loads(Browser::kChromium, "chromium"));
  ASSERT_NO_FATAL_FAILURE(expect_common());
  for (const auto& h : all_) {
    EXPECT_TRUE(h.grease.cipher_suites);
    EXPECT_TRUE(h.grease.extensions);
    EXPECT_TRUE(h.grease.supported_versions);
    EXPECT_TRUE(h.grease.supported_groups);
    EXPECT_TRUE(has_grease(h.cipher_suites));
  }
  const auto a = compute_ja4(firsts_[0]);
  const auto b = compute_ja4(firsts_[1]);
  // Same client, same kind of connection: the sorted forms agree...
  EXPECT_EQ(a.ja4, b.ja4);
  EXPECT_EQ(a.ja4_r, b.ja4_r);
  EXPECT_EQ(sorted(without_grease(firsts_[0]).extensions),
            sorted(without_grease(firsts_[1]).extensions));
  // ...and the wire-order forms do not (a random permutation of ~16
  // extensions repeats with negligible probability).
  EXPECT_NE(without_grease(firsts_[0]).extensions, without_grease(firsts_[1]).extensions);
  EXPECT_NE(a.ja4_o, b.ja4_o);
  EXPECT_NE(a.ja4_ro, b.ja4_ro);
  // The cipher list is not permuted.
  EXPECT_EQ(without_grease(firsts_[0]).cipher_suites, without_grease(firsts_[1]).cipher_suites);
}

TEST_F(BrowserJa4, FirefoxSendsNoGreaseAndAFixedExtensionOrder) {
  if (!have_tool("firefox-esr")) GTEST_SKIP() << "firefox-esr not installed";
  ASSERT_NO_FATAL_FAILURE(run_loads(Browser::kFirefox, "firefox"));
  ASSERT_NO_FATAL_FAILURE(expect_common());
  for (const auto& h : all_) EXPECT_FALSE(h.grease.any());
  const auto a = compute_ja4(firsts_[0]);
  const auto b = compute_ja4(firsts_[1]);
  EXPECT_EQ(a.ja4, b.ja4);
  EXPECT_EQ(a.ja4_o, b.ja4_o);
  EXPECT_EQ(a.ja4_ro, b.ja4_ro);
  EXPECT_EQ(firsts_[0].extensions, firsts_[1].extensions);
}

}  // namespace
}  // namespace huginn::fingerprint::tls
