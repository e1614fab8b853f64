#pragma once
// Helpers shared by the TLS loopback tests (ja4_loopback_test.cpp,
// browser_ja4_test.cpp): tshark's dissection of every ClientHello in a
// capture, which those tests hold our parser and JA4 to. Process helpers
// (spawn, wait_for, free_port, ...) come from tests/support/process_tools.hpp.
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
#include "process_tools.hpp"

namespace huginn::test {

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
