#pragma once
// Helpers shared by the TLS loopback tests (ja4_loopback_test.cpp,
// browser_ja4_test.cpp): starting and bounding external tools, an
// ephemeral loopback port, and tshark's dissection of every ClientHello in
// a capture, which those tests hold our parser and JA4 to.
//
// tshark 4.0 (Debian 12) has no ja4 fields, so TsharkHello carries what
// JA4 is built from; ja4_a_from_tshark() / ja4_ro_from_tshark() rebuild
// those two parts from it by the JA4 rules (docs/ja4.md), independently of
// compute_ja4().
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "huginn/fingerprint/tls/grease.hpp"

extern char** environ;

namespace huginn::test {

namespace loopback_fs = std::filesystem;

inline bool have_tool(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

// Starts `args` (argv[0] looked up in PATH) with stdin from `input` and
// stdout+stderr appended to `log`. Returns the child's pid, or -1.
inline pid_t spawn(const std::vector<std::string>& args, const loopback_fs::path& log,
                   const loopback_fs::path& input = "/dev/null") {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, input.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

// Waits up to `limit` for `pid`; kills it past that. Returns the exit code
// (-1 when killed or failed).
inline int wait_for(pid_t pid, std::chrono::milliseconds limit) {
  using namespace std::chrono_literals;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(20ms);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

inline int run(const std::vector<std::string>& args, const loopback_fs::path& log,
               const loopback_fs::path& input = "/dev/null",
               std::chrono::milliseconds limit = std::chrono::seconds(15)) {
  const pid_t pid = spawn(args, log, input);
  return pid < 0 ? -1 : wait_for(pid, limit);
}

// Sends `sig` and reaps the child (SIGKILL after 5 s).
inline void stop(pid_t pid, int sig) {
  if (pid <= 0) return;
  kill(pid, sig);
  wait_for(pid, std::chrono::seconds(5));
}

// An ephemeral port the kernel just handed out on 127.0.0.1 (0 on failure).
inline std::uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  std::uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

inline bool port_accepts(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

inline std::string slurp(const loopback_fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds limit) {
  using namespace std::chrono_literals;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return cond();
}

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// "0x1301,0x1302" or "0,11,10" -> numbers; "" -> empty.
inline std::vector<std::uint16_t> numbers(const std::string& field) {
  std::vector<std::uint16_t> out;
  if (field.empty()) return out;
  for (const auto& v : split(field, ','))
    out.push_back(static_cast<std::uint16_t>(std::stoul(v, nullptr, 0)));
  return out;
}

// JA4's raw-list form: 4-digit lower-case hex, comma-separated, GREASE
// left out, order kept.
inline std::string hex_list(const std::vector<std::uint16_t>& v) {
  std::string s;
  char buf[8];
  for (auto x : v) {
    if (fingerprint::tls::is_grease(x)) continue;
    std::snprintf(buf, sizeof buf, "%04x", x);
    if (!s.empty()) s += ',';
    s += buf;
  }
  return s;
}

// JA4's two-digit count: GREASE left out, capped at 99.
inline std::size_t count_real(const std::vector<std::uint16_t>& v) {
  std::size_t n = 0;
  for (auto x : v) n += fingerprint::tls::is_grease(x) ? 0 : 1;
  return std::min<std::size_t>(n, 99);
}

inline bool has_grease(const std::vector<std::uint16_t>& v) {
  return std::any_of(v.begin(), v.end(), [](std::uint16_t x) { return fingerprint::tls::is_grease(x); });
}

// tshark's values of one ClientHello, lists in wire order, GREASE kept.
struct TsharkHello {
  std::vector<std::uint16_t> ciphers, extensions, sig_algs, versions, groups;
  std::string sni, alpn;  // alpn: the first offered value
  std::size_t frame = 0;  // tshark's frame number (capture order)
};

// ja4_a without the transport and version characters ("d1516h2"), from
// tshark's values.
inline std::string ja4_a_tail_from_tshark(const TsharkHello& t) {
  char counts[8];
  std::snprintf(counts, sizeof counts, "%02zu%02zu", count_real(t.ciphers), count_real(t.extensions));
  const std::string alpn = t.alpn.empty() ? "00" : std::string{t.alpn.front(), t.alpn.back()};
  return (t.sni.empty() ? "i" : "d") + std::string(counts) + alpn;
}

// ja4_ro after its ja4_a part ("_c1,c2_e1,e2_s1,s2").
inline std::string ja4_ro_tail_from_tshark(const TsharkHello& t) {
  std::string ro = "_" + hex_list(t.ciphers) + "_" + hex_list(t.extensions);
  if (!hex_list(t.sig_algs).empty()) ro += "_" + hex_list(t.sig_algs);
  return ro;
}

// tshark's sig_hash_alg field holds every SignatureScheme list of the
// hello, in wire order: signature_algorithms (13) but also
// delegated_credentials (34, RFC 9345 §4.1.1; Firefox sends it) and
// signature_algorithms_cert (50). JA4 takes only the first; `lengths` (the
// sig_hash_alg_len field, bytes per list) splits them apart.
inline std::vector<std::uint16_t> signature_algorithms_only(
    const std::vector<std::uint16_t>& extensions, const std::vector<std::uint16_t>& all,
    const std::vector<std::uint16_t>& lengths) {
  std::size_t start = 0;
  std::size_t list = 0;
  for (const auto type : extensions) {
    if (type != 13 && type != 34 && type != 50) continue;
    if (list >= lengths.size()) break;
    const std::size_t n = lengths[list++] / 2;
    if (type == 13) {
      if (start + n > all.size()) break;
      return {all.begin() + static_cast<std::ptrdiff_t>(start),
              all.begin() + static_cast<std::ptrdiff_t>(start + n)};
    }
    start += n;
  }
  return {};
}

// Every ClientHello tshark dissects in `cap`, keyed by client port (one
// hello per connection: none of these clients meets a HelloRetryRequest on
// loopback). Scratch files go in `dir`. Empty when tshark fails.
inline std::map<std::uint16_t, TsharkHello> tshark_hellos(const loopback_fs::path& cap,
                                                          const loopback_fs::path& dir) {
  const auto out = dir / "tshark.txt";
  const std::string cmd =
      "tshark -r '" + cap.string() +
      "' -Y tls.handshake.type==1 -T fields -E separator=/t -E aggregator=, -e tcp.srcport "
      "-e tls.handshake.ciphersuite -e tls.handshake.extension.type "
      "-e tls.handshake.sig_hash_alg -e tls.handshake.extensions.supported_version "
      "-e tls.handshake.extensions_server_name -e tls.handshake.extensions_alpn_str "
      "-e tls.handshake.extensions_supported_group -e frame.number "
      "-e tls.handshake.sig_hash_alg_len > '" +
      out.string() + "' 2>/dev/null";
  std::map<std::uint16_t, TsharkHello> m;
  if (std::system(cmd.c_str()) != 0) return m;
  std::istringstream in(slurp(out));
  std::string line;
  while (std::getline(in, line)) {
    const auto f = split(line, '\t');
    if (f.size() < 10 || f[0].empty()) continue;
    TsharkHello h;
    h.ciphers = numbers(f[1]);
    h.extensions = numbers(f[2]);
    h.sig_algs = signature_algorithms_only(h.extensions, numbers(f[3]), numbers(f[9]));
    h.versions = numbers(f[4]);
    h.sni = f[5];
    h.alpn = split(f[6], ',').front();
    h.groups = numbers(f[7]);
    h.frame = std::stoul(f[8]);
    m[static_cast<std::uint16_t>(std::stoul(f[0]))] = h;
  }
  return m;
}

}  // namespace huginn::test
