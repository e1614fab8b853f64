// huginn_craft_p0f_corpus: writes a capture that exercises every TCP
// signature of a p0f.fp, plus a JSON-lines manifest saying which packet was
// built for which line.
//
//   huginn_craft_p0f_corpus [-f P0F_FP] [--seed N] OUT.pcap MANIFEST.jsonl
//
// For each [tcp:request] signature a fresh client sends one SYN built to
// match it; for each [tcp:response] signature a fresh client sends an
// ordinary OS SYN to a fresh server, which answers with a SYN+ACK built to
// match it. Fresh hosts keep p0f's per-host state (NAT scoring, uptime)
// from linking test cases.
//
// Wildcards are resolved from the seed; a draw is kept only when a model of
// p0f's matching (tests/support/p0f_match_sim) says the intended line wins.
// When no draw in kMaxAttempts does, another line always wins and the case
// is written anyway, marked "unreachable" with the line expected to win.
// check_crafted.py then holds both p0f and us to the manifest.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "huginn/db/p0f_db_parser.hpp"
#include "huginn/fingerprint/tcp/tcp_signature.hpp"
#include "p0f_match_sim.hpp"
#include "p0f_sig_crafter.hpp"
#include "pcap_writer.hpp"
#include "tcp_packet_builder.hpp"
#include "test_paths.hpp"

namespace {

using huginn::db::P0fDb;
using huginn::db::TcpSigRecord;
namespace t = huginn::test;
namespace fp = huginn::fingerprint::tcp;

constexpr int kMaxAttempts = 200;
constexpr std::int64_t kStartUs = 1'700'000'000'000'000;  // 2023-11-14 22:13:20 UTC
constexpr std::int64_t kStepUs = 1000;
constexpr std::uint16_t kServerPorts[] = {80, 443, 22, 25, 8080, 993};

int usage() {
  std::cerr << "usage: huginn_craft_p0f_corpus [-f P0F_FP] [--seed N] OUT.pcap MANIFEST.jsonl\n";
  return 2;
}

// p0f's address text (all eight IPv6 groups, no "::"), so manifest keys
// compare equal to both logs.
std::string p0f_addr(const huginn::packet::IpAddress& a) {
  char buf[64];
  const auto& b = a.bytes;
  if (a.version == huginn::packet::IpVersion::v4) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
  } else {
    std::snprintf(buf, sizeof buf, "%x:%x:%x:%x:%x:%x:%x:%x", (b[0] << 8) | b[1],
                  (b[2] << 8) | b[3], (b[4] << 8) | b[5], (b[6] << 8) | b[7], (b[8] << 8) | b[9],
                  (b[10] << 8) | b[11], (b[12] << 8) | b[13], (b[14] << 8) | b[15]);
  }
  return buf;
}

class HostAllocator {
 public:
  // Clients in 10.10/16 and fd00:10::/64, servers in 10.20/16 and fd00:20::/64.
  huginn::packet::IpAddress next(bool server, huginn::packet::IpVersion ver) {
    const std::uint32_t n = ++counter_;
    huginn::packet::IpAddress a;
    a.version = ver;
    if (ver == huginn::packet::IpVersion::v4) {
      a.bytes[0] = 10;
      a.bytes[1] = server ? 20 : 10;
      a.bytes[2] = static_cast<std::uint8_t>(n >> 8);
      a.bytes[3] = static_cast<std::uint8_t>(n);
    } else {
      a.bytes[0] = 0xfd;
      a.bytes[3] = server ? 0x20 : 0x10;
      a.bytes[14] = static_cast<std::uint8_t>(n >> 8);
      a.bytes[15] = static_cast<std::uint8_t>(n);
    }
    return a;
  }

 private:
  std::uint32_t counter_ = 0;
};

struct Choice {
  std::optional<t::CraftedShape> shape;
  t::SimMatch sim;
  t::PacketVars vars;
  std::string error;
};

t::PacketVars draw_vars(t::CraftRng& rng) {
  t::PacketVars v;
  v.seq = rng.uniform(1, 0xffffffffu);
  v.tsval = rng.uniform(1, 0x7fffffffu);
  v.ip_id = static_cast<std::uint16_t>(rng.uniform(1, 0xffff));
  v.fill = static_cast<std::uint8_t>(rng.uniform(0x20, 0x7e));
  return v;
}

// Draws shapes for `rec` until the p0f model picks `rec` (or `accept` says
// the outcome is good enough), keeping the last craftable draw otherwise.
template <typename Accept>
Choice choose(const TcpSigRecord& rec, std::span<const TcpSigRecord> section, bool syn_ack,
              std::uint16_t syn_mss, t::CraftRng& rng, Accept accept) {
  Choice best;
  for (int i = 0; i < kMaxAttempts; ++i) {
    t::CraftError err;
    auto shape = t::craft_shape(rec, syn_ack, rng, &err);
    if (!shape) {
      best.error = err.reason;
      continue;
    }
    auto vars = draw_vars(rng);
    const auto sim = t::sim_p0f_match(section, shape->observation(vars.tsval), syn_mss);
    best.shape = std::move(shape);
    best.sim = sim;
    best.vars = vars;
    if (accept(sim)) break;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::string fp_path = huginn::test::p0f_fp_path().string();
  std::uint64_t seed = 0x9e3779b97f4a7c15ull;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-f" && i + 1 < argc) {
      fp_path = argv[++i];
    } else if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 0);
    } else if (!a.empty() && a[0] == '-') {
      return usage();
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2) return usage();

  auto loaded = huginn::db::load_p0f_db(fp_path);
  if (auto* err = std::get_if<huginn::db::DbError>(&loaded)) {
    std::cerr << "huginn_craft_p0f_corpus: " << err->to_string() << "\n";
    return 1;
  }
  const P0fDb& db = std::get<P0fDb>(loaded);

  t::PcapWriter pcap;
  if (!pcap.open(positional[0], t::LinkType::kEthernet)) {
    std::cerr << "huginn_craft_p0f_corpus: " << pcap.error() << "\n";
    return 1;
  }
  std::ofstream manifest(positional[1]);
  if (!manifest) {
    std::cerr << "huginn_craft_p0f_corpus: cannot write " << positional[1] << "\n";
    return 1;
  }

  t::CraftRng rng(seed);
  HostAllocator hosts;
  std::int64_t now = kStartUs;
  std::uint64_t frame_no = 0;
  int matched = 0, unreachable = 0, uncraftable = 0;

  auto emit = [&](const t::TcpPacketBuilder& b) {
    now += kStepUs;
    ++frame_no;
    return pcap.write(now, b.build_ethernet());
  };

  auto run_section = [&](std::span<const TcpSigRecord> section, bool syn_ack) {
    for (const auto& rec : section) {
      nlohmann::json m;
      m["section"] = syn_ack ? "tcp:response" : "tcp:request";
      m["kind"] = syn_ack ? "syn+ack" : "syn";
      m["line"] = rec.line_no;
      m["sig"] = rec.raw;
      m["label"] = t::label_text(db, *rec.label);
      m["os"] = huginn::db::label_display(db, *rec.label);
      m["user_app"] = rec.label->is_user_app();
      m["generic"] = rec.label->generic;

      // The client SYN that opens a SYN+ACK case: any OS signature (a
      // userland-tool SYN would make p0f drop the flow before the answer,
      // and p0f-sendsyn probes change how the answer is reported).
      std::optional<Choice> helper;
      if (syn_ack) {
        for (const auto& req : db.tcp_request) {
          auto c = choose(req, db.tcp_request, false, 0, rng, [&](const t::SimMatch& s) {
            return s.record == &req;
          });
          if (c.shape && c.sim.record == &req && !req.label->is_user_app() &&
              !(c.shape->win == huginn::limits::kSpecialWin &&
                c.shape->mss == huginn::limits::kSpecialMss)) {
            helper = std::move(c);
            break;
          }
        }
        if (!helper) {
          std::cerr << "huginn_craft_p0f_corpus: no OS [tcp:request] signature for client SYNs\n";
          std::exit(1);
        }
      }
      const bool helper_has_mss =
          helper && std::find(helper->shape->olayout.begin(), helper->shape->olayout.end(),
                              fp::kOptMss) != helper->shape->olayout.end();
      const std::uint16_t syn_mss = helper_has_mss ? helper->shape->mss : 0;

      Choice c = choose(rec, section, syn_ack, syn_mss, rng,
                        [&](const t::SimMatch& s) { return s.record == &rec; });
      if (!c.shape) {
        m["expect"] = "uncraftable";
        m["reason"] = c.error;
        ++uncraftable;
        manifest << m.dump() << "\n";
        continue;
      }
      // The helper SYN must share the target's IP version.
      if (helper && helper->shape->ip_ver != c.shape->ip_ver) {
        // Redraw the helper in the right version: version-less signatures
        // allow either, so a few attempts suffice.
        for (int i = 0; i < kMaxAttempts && helper->shape->ip_ver != c.shape->ip_ver; ++i) {
          const auto& req = *helper->sim.record;
          auto h = choose(req, db.tcp_request, false, 0, rng, [&](const t::SimMatch& s) {
            return s.record == &req;
          });
          if (h.shape && h.sim.record == &req) helper = std::move(h);
        }
        if (helper->shape->ip_ver != c.shape->ip_ver) {
          m["expect"] = "uncraftable";
          m["reason"] = "no client SYN in this IP version";
          ++uncraftable;
          manifest << m.dump() << "\n";
          continue;
        }
        // The SYN's MSS feeds p0f's window guess for the answer; re-check.
        const std::uint16_t mss2 = helper->shape->mss;
        c.sim = t::sim_p0f_match(section, c.shape->observation(c.vars.tsval), mss2);
      }

      const bool reachable = c.sim.record == &rec;
      m["expect"] = reachable ? "match" : "unreachable";
      m["sim_line"] = c.sim.record ? nlohmann::json(c.sim.record->line_no) : nlohmann::json();
      m["sim_os"] = c.sim.record ? nlohmann::json(huginn::db::label_display(db, *c.sim.record->label))
                                 : nlohmann::json();
      m["sim_fuzzy"] = c.sim.fuzzy;
      m["dist"] = c.sim.dist;
      if (reachable) ++matched; else ++unreachable;

      const auto ver = c.shape->ip_ver;
      const auto client = hosts.next(false, ver);
      const auto server = hosts.next(true, ver);
      const auto cport = static_cast<std::uint16_t>(rng.uniform(1024, 65535));
      const auto sport = kServerPorts[rng.uniform(0, std::size(kServerPorts) - 1)];

      if (!syn_ack) {
        auto b = t::TcpPacketBuilder::syn();
        b.addresses(client, server).ports(cport, sport);
        t::apply_shape(*c.shape, c.vars, b);
        if (!emit(b)) break;
      } else {
        auto syn = t::TcpPacketBuilder::syn();
        syn.addresses(client, server).ports(cport, sport);
        t::apply_shape(*helper->shape, helper->vars, syn);
        if (!emit(syn)) break;
        m["helper_line"] = helper->sim.record->line_no;
        auto sa = t::TcpPacketBuilder::syn_ack_for(syn);
        auto vars = c.vars;
        vars.ack = syn.seq_value() + 1 + static_cast<std::uint32_t>(syn.payload_size());
        vars.tsecr = helper->shape->has_ts() ? helper->vars.tsval : 0;
        t::apply_shape(*c.shape, vars, sa);
        if (!emit(sa)) break;
      }
      // p0f reports p0f-sendsyn probes (its special MSS and window on a SYN)
      // as their own record kind, naming the match "app=" (p0f README 4).
      const bool probe = !syn_ack && c.shape->win == huginn::limits::kSpecialWin &&
                         c.shape->mss == huginn::limits::kSpecialMss;
      if (probe) m["kind"] = "sendsyn probe";
      m["field"] = (probe || rec.label->is_user_app()) ? "app" : "os";
      m["packet"] = frame_no;
      m["cli"] = p0f_addr(client) + "/" + std::to_string(cport);
      m["srv"] = p0f_addr(server) + "/" + std::to_string(sport);
      m["ip_ver"] = ver == huginn::packet::IpVersion::v4 ? 4 : 6;
      m["ttl"] = c.shape->ttl;
      m["tos"] = c.shape->tos;
      manifest << m.dump() << "\n";
    }
  };

  run_section(db.tcp_request, false);
  run_section(db.tcp_response, true);

  if (!pcap.close()) {
    std::cerr << "huginn_craft_p0f_corpus: " << pcap.error() << "\n";
    return 1;
  }
  manifest.close();
  if (!manifest) {
    std::cerr << "huginn_craft_p0f_corpus: write failed: " << positional[1] << "\n";
    return 1;
  }
  std::cerr << "huginn_craft_p0f_corpus: " << frame_no << " packets; " << matched
            << " signatures reachable, " << unreachable << " unreachable, " << uncraftable
            << " uncraftable\n";
  return 0;
}
