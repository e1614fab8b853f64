// huginn_gen_bench_capture: writes a large, realistic capture for the
// side-by-side benchmarks against p0f (bench/compare_p0f.sh,
// bench/compare_app.sh).
//
//   huginn_gen_bench_capture OUT.pcap [--profile tcp|app] [--packets N]
//                            [--hosts H] [--servers S] [--seed S]
//                            [--max-open C] [-f P0F_FP]
//
// Complete TCP conversations (SYN, SYN+ACK, ACK, payload flights with
// delayed ACKs, FIN/ACK from each side, last ACK) between H client hosts
// and S servers, IPv4 and IPv6 about 80/20. Every client keeps one SYN shape
// and every server one SYN+ACK shape for the whole capture, drawn from the
// OS signatures of p0f.fp's [tcp:request] / [tcp:response]
// (tests/support/p0f_sig_crafter), with a fixed TTL and a TCP timestamp
// clock (100, 250 or 1000 Hz) that advances with capture time, so p0f's
// uptime and NAT logic see consistent hosts. The first H conversations use
// each client once, so the capture has H distinct clients when it has at
// least H conversations. At most --max-open conversations (default 300) are
// in flight at once, so `p0f -m 1000,200000` tracks all of them; packet
// timestamps never decrease.
//
// Profiles (payloads only; the TCP layer is the same):
//  - tcp (default; 1M packets, 100k hosts, 2k servers): one request
//    segment and one to three response segments that look like TLS
//    application data, so neither tool spends time on HTTP parsing.
//  - app (default 640k packets, 8k hosts, 500 servers): ~45% HTTPS (a
//    ClientHello in the client's persona: Chromium-like with GREASE and a
//    two-segment X25519MLKEM768 key share, Firefox-like, or curl/OpenSSL;
//    a TLS 1.3 server flight; encrypted request and response), ~35% plain
//    HTTP/1.1 (browser, curl and wget requests, nginx/Apache/Caddy/IIS
//    responses with bodies), ~10% HTTP/2 prior knowledge, ~10% SSH-like
//    other TCP. Each client host has one persona and Accept-Language; each
//    server one HTTP server kind and host name (bench/app_traffic).
// A summary (packets, conversations by kind, ClientHellos) goes to stderr.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <queue>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "huginn/db/p0f_db_parser.hpp"
#include "huginn/fingerprint/tcp/tcp_signature.hpp"
#include "huginn/util/limits.hpp"
#include "app_traffic.hpp"
#include "p0f_sig_crafter.hpp"
#include "pcap_writer.hpp"
#include "tcp_packet_builder.hpp"
#include "test_paths.hpp"

namespace {

namespace t = huginn::test;
namespace app = huginn::bench;
using app::Bytes;
using huginn::packet::IpAddress;
using huginn::packet::IpVersion;

constexpr std::int64_t kStartUs = 1'700'000'000'000'000;
constexpr std::uint32_t kTsHz[] = {1000, 1000, 1000, 250, 100};
constexpr std::uint16_t kServerPorts[] = {443, 443, 443, 80, 8443, 993};
constexpr std::string_view kLanguages[] = {
    "en-US,en;q=0.9", "en-GB,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8", "fr-FR,fr;q=0.9,en;q=0.7",
    "es-ES,es;q=0.9", "pt-BR,pt;q=0.9,en-US;q=0.8", "ja,en-US;q=0.9,en;q=0.8", "pl,en;q=0.5"};
constexpr std::string_view kPaths[] = {"/", "/index.html", "/news/", "/static/app.js",
                                       "/api/v1/items?page=2", "/images/logo.png",
                                       "/search?q=weather", "/favicon.ico"};

enum class Profile : std::uint8_t { kTcp, kApp };
// Conversation kinds of the app profile, in the order of kKindShare.
enum class AppKind : std::uint8_t { kHttps, kHttp1, kH2c, kOther };
constexpr double kKindShare[] = {0.45, 0.35, 0.10, 0.10};
constexpr std::uint16_t kKindPort[] = {443, 80, 80, 22};
constexpr const char* kKindName[] = {"https", "http/1.1", "h2c", "other"};

struct Options {
  std::string out;
  std::string fp = t::p0f_fp_path().string();
  Profile profile = Profile::kTcp;
  std::uint64_t packets = 0;  // 0: the profile's default
  std::uint32_t hosts = 0;
  std::uint32_t servers = 0;
  std::uint64_t seed = 1;
  std::uint32_t max_open = 300;
};

struct Host {
  IpAddress addr;
  t::CraftedShape shape;
  std::uint32_t ts_hz = 1000;
  std::uint32_t ts_base = 0;  // TSval at kStartUs
  std::uint16_t next_port = 0;
  std::uint16_t ip_id = 0;
  std::uint16_t listen_port = 0;  // servers
  std::array<std::uint8_t, 6> mac{};
  app::Persona persona = app::Persona::kChromium;  // clients, app profile
  std::string_view lang;                           // clients: Accept-Language
  app::ServerKind server_kind = app::ServerKind::kNginx;  // servers
  std::string name;                                // servers: host name (SNI, Host)

  [[nodiscard]] std::uint32_t tsval(std::int64_t ts_us) const {
    return ts_base + static_cast<std::uint32_t>((ts_us - kStartUs) / 1000 * ts_hz / 1000);
  }
};

struct Pending {
  std::int64_t ts_us;
  std::uint64_t order;  // tie-break: generation order within equal times
  std::uint32_t conv;
  std::vector<std::uint8_t> frame;
  bool operator>(const Pending& o) const {
    return ts_us != o.ts_us ? ts_us > o.ts_us : order > o.order;
  }
};

int usage() {
  std::cerr << "usage: huginn_gen_bench_capture OUT.pcap [--profile tcp|app] [--packets N] "
               "[--hosts H] [--servers S] [--seed S] [--max-open C] [-f P0F_FP]\n";
  return 2;
}

bool is_os_sig(const huginn::db::TcpSigRecord& rec) {
  const auto& s = rec.sig;
  const bool probe = s.mss && *s.mss == huginn::limits::kSpecialMss &&
                     s.win_type == huginn::db::WinType::kNormal &&
                     s.win == huginn::limits::kSpecialWin;
  return !rec.label->is_user_app() && !probe;
}

IpAddress make_addr(IpVersion ver, bool server, std::uint32_t n) {
  IpAddress a;
  a.version = ver;
  if (ver == IpVersion::v4) {
    a.bytes[0] = server ? 172 : 10;
    a.bytes[1] = static_cast<std::uint8_t>(server ? 16 + (n >> 16) : (n >> 16));
    a.bytes[2] = static_cast<std::uint8_t>(n >> 8);
    a.bytes[3] = static_cast<std::uint8_t>(n);
  } else {
    a.bytes[0] = 0x20;
    a.bytes[1] = 0x01;
    a.bytes[2] = 0x0d;
    a.bytes[3] = 0xb8;
    a.bytes[5] = server ? 2 : 1;
    a.bytes[13] = static_cast<std::uint8_t>(n >> 16);
    a.bytes[14] = static_cast<std::uint8_t>(n >> 8);
    a.bytes[15] = static_cast<std::uint8_t>(n);
  }
  return a;
}

// A shape from a random OS signature of `section` in IP version `ver`.
t::CraftedShape draw_shape(const std::vector<const huginn::db::TcpSigRecord*>& pool, bool syn_ack,
                           IpVersion ver, t::CraftRng& rng) {
  for (int attempt = 0; attempt < 10'000; ++attempt) {
    const auto* rec = pool[rng.uniform(0, static_cast<std::uint32_t>(pool.size() - 1))];
    auto shape = t::craft_shape(*rec, syn_ack, rng);
    if (shape && shape->ip_ver == ver) return *shape;
  }
  std::cerr << "huginn_gen_bench_capture: no signature yields IPv"
            << (ver == IpVersion::v4 ? 4 : 6) << " packets\n";
  std::exit(1);
}

Host make_host(const std::vector<const huginn::db::TcpSigRecord*>& pool, bool server,
               std::uint32_t n, IpVersion ver, t::CraftRng& rng) {
  Host h;
  h.addr = make_addr(ver, server, n);
  h.shape = draw_shape(pool, server, ver, rng);
  h.ts_hz = kTsHz[rng.uniform(0, std::size(kTsHz) - 1)];
  h.ts_base = rng.uniform(1'000, 0x7fffffff);
  h.next_port = static_cast<std::uint16_t>(rng.uniform(32768, 60999));
  h.ip_id = static_cast<std::uint16_t>(rng.uniform(1, 65535));
  h.listen_port = kServerPorts[rng.uniform(0, std::size(kServerPorts) - 1)];
  h.mac = {0x02, static_cast<std::uint8_t>(server ? 1 : 0), static_cast<std::uint8_t>(n >> 16),
           static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n), 0x01};
  // Chromium 50%, Firefox 25%, curl 15%, wget 10%.
  const std::uint32_t p = rng.uniform(0, 99);
  h.persona = p < 50   ? app::Persona::kChromium
              : p < 75 ? app::Persona::kFirefox
              : p < 90 ? app::Persona::kCurl
                       : app::Persona::kWget;
  h.lang = kLanguages[rng.uniform(0, std::size(kLanguages) - 1)];
  h.server_kind = static_cast<app::ServerKind>(rng.uniform(0, app::kServerKindCount - 1));
  if (server) h.name = "www.site" + std::to_string(n) + ".example";
  return h;
}

class Generator {
 public:
  Generator(const Options& opt, std::vector<Host> clients, std::vector<Host> servers4,
            std::vector<Host> servers6, t::CraftRng& rng)
      : opt_(opt),
        clients_(std::move(clients)),
        servers4_(std::move(servers4)),
        servers6_(std::move(servers6)),
        rng_(rng) {}

  bool run(t::PcapWriter& out) {
    // The first pass over the clients is a random permutation: every
    // client appears once before any appears twice.
    std::vector<std::uint32_t> order(clients_.size());
    for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    for (std::size_t i = order.size(); i > 1; --i)
      std::swap(order[i - 1], order[rng_.uniform(0, static_cast<std::uint32_t>(i - 1))]);

    std::int64_t next_start = kStartUs;
    std::uint32_t conv = 0;
    while (generated_ < opt_.packets) {
      // Write everything due before the next start, and keep the number of
      // conversations in flight under the cap.
      while (!heap_.empty() && (heap_.top().ts_us <= next_start || open_ >= opt_.max_open)) {
        if (!pop(out)) return false;
      }
      next_start = std::max(next_start, last_ts_);
      const std::uint32_t ci =
          conv < order.size() ? order[conv]
                              : rng_.uniform(0, static_cast<std::uint32_t>(clients_.size() - 1));
      start_conversation(conv++, clients_[ci], next_start);
      // Exponential inter-arrival gaps, mean 1 ms.
      const double u = (static_cast<double>(rng_.next() >> 11) + 1) * 0x1.0p-53;
      next_start += static_cast<std::int64_t>(-std::log(u) * 1000.0) + 1;
    }
    while (!heap_.empty())
      if (!pop(out)) return false;
    conversations_ = conv;
    distinct_clients_ = std::min<std::uint64_t>(conv, clients_.size());
    return true;
  }

  std::uint64_t conversations_ = 0;
  std::uint64_t distinct_clients_ = 0;
  std::uint32_t max_open_seen_ = 0;

 private:
  bool pop(t::PcapWriter& out) {
    const Pending& top = heap_.top();
    const bool ok = out.write(top.ts_us, top.frame);
    last_ts_ = top.ts_us;
    if (--remaining_[top.conv] == 0) --open_;
    heap_.pop();
    return ok;
  }

  void push(std::uint32_t conv, std::int64_t ts, const t::TcpPacketBuilder& b) {
    heap_.push(Pending{ts, order_++, conv, b.build_ethernet()});
    ++remaining_[conv];
    ++generated_;
  }

  // Options on a non-SYN segment: the timestamp pair when the SYN had one.
  static void data_options(t::TcpPacketBuilder& b, const Host& h, std::uint32_t ecr,
                           std::int64_t ts) {
    b.clear_options();
    if (h.shape.has_ts()) b.opt_nop().opt_nop().opt_ts(h.tsval(ts), ecr);
  }

  // One direction's turn: the bytes the sender writes, think_us after the
  // peer's previous flight reached it.
  struct Flight {
    bool from_client = true;
    Bytes data;
    std::int64_t think_us = 0;
  };

  static Bytes text_bytes(std::string_view s) { return {s.begin(), s.end()}; }

  // The tcp profile: a request that looks like one TLS application-data
  // record, and one to three response segments.
  std::vector<Flight> tcp_flights(std::size_t seg_max) {
    std::vector<Flight> f;
    const std::size_t req = rng_.uniform(200, 1460);
    f.push_back({true, app::tls_app_data(req - 5, rng_), rng_.uniform(50, 2'000)});
    const std::uint32_t segs = rng_.uniform(1, 3);
    const std::size_t resp = (segs - 1) * seg_max + rng_.uniform(200, 1460);
    f.push_back({false, app::tls_app_data(resp - 5, rng_), rng_.uniform(100, 20'000)});
    return f;
  }

  AppKind draw_kind() {
    double u = static_cast<double>(rng_.next() >> 11) * 0x1.0p-53;
    for (std::size_t k = 0; k + 1 < std::size(kKindShare); ++k) {
      if (u < kKindShare[k]) return static_cast<AppKind>(k);
      u -= kKindShare[k];
    }
    return AppKind::kOther;
  }

  // The app profile's flights for a conversation of `kind` starting at t0.
  std::vector<Flight> app_flights(AppKind kind, const Host& cli, const Host& srv,
                                  std::int64_t t0) {
    std::vector<Flight> f;
    auto client = [&](Bytes b, std::uint32_t lo, std::uint32_t hi) {
      f.push_back({true, std::move(b), rng_.uniform(lo, hi)});
    };
    auto server = [&](Bytes b, std::uint32_t lo, std::uint32_t hi) {
      f.push_back({false, std::move(b), rng_.uniform(lo, hi)});
    };
    auto path = [&] { return kPaths[rng_.uniform(0, std::size(kPaths) - 1)]; };
    // Response bodies: mostly a few kilobytes, some tens of kilobytes.
    auto body = [&]() -> std::size_t {
      return rng_.chance(0.15) ? rng_.uniform(8'000, 60'000) : rng_.uniform(200, 6'000);
    };
    const std::int64_t unix_s = t0 / 1'000'000;
    switch (kind) {
      case AppKind::kHttps: {
        const bool h2 = cli.persona != app::Persona::kWget;
        client(app::client_hello(cli.persona, srv.name, h2, rng_), 50, 2'000);
        ++client_hellos_;
        server(app::server_tls_flight(cli.persona == app::Persona::kChromium,
                                      rng_.uniform(2'500, 5'000), rng_),
               200, 5'000);
        client(app::client_tls_finish(rng_.uniform(250, 700), rng_), 100, 3'000);
        server(app::tls_app_data(body(), rng_), 100, 20'000);
        if (rng_.chance(0.4)) {  // a second request on the connection
          client(app::tls_app_data(rng_.uniform(150, 600), rng_), 5'000, 400'000);
          server(app::tls_app_data(body(), rng_), 100, 20'000);
        }
        break;
      }
      case AppKind::kHttp1: {
        const int requests = rng_.chance(0.3) ? 2 : 1;
        for (int i = 0; i < requests; ++i) {
          client(text_bytes(app::http1_request(cli.persona, srv.name, path(), cli.lang)),
                 i == 0 ? 50 : 5'000, i == 0 ? 2'000 : 400'000);
          server(text_bytes(app::http1_response(srv.server_kind, unix_s, body())), 100, 20'000);
        }
        break;
      }
      case AppKind::kH2c:
        client(app::h2c_client_opening(cli.persona, srv.name, path()), 50, 2'000);
        server(app::h2c_server_reply(body(), rng_), 100, 20'000);
        client(app::h2_settings_ack(), 10, 500);
        break;
      case AppKind::kOther:  // SSH: the server speaks first (RFC 4253 §4.2)
        server(text_bytes(app::ssh_banner(true, rng_)), 100, 3'000);
        client(text_bytes(app::ssh_banner(false, rng_)), 50, 1'000);
        client(app::random_bytes(rng_.uniform(1'000, 1'500), rng_), 10, 200);
        server(app::random_bytes(rng_.uniform(1'000, 1'500), rng_), 100, 2'000);
        client(app::random_bytes(rng_.uniform(50, 1'200), rng_), 100, 5'000);
        server(app::random_bytes(rng_.uniform(200, 2'500), rng_), 100, 5'000);
        break;
    }
    ++kind_counts_[static_cast<std::size_t>(kind)];
    return f;
  }

  void start_conversation(std::uint32_t conv, Host& cli, std::int64_t t0) {
    Host& srv = cli.addr.version == IpVersion::v4
                    ? servers4_[rng_.uniform(0, static_cast<std::uint32_t>(servers4_.size() - 1))]
                    : servers6_[rng_.uniform(0, static_cast<std::uint32_t>(servers6_.size() - 1))];
    if (remaining_.size() <= conv) remaining_.resize(conv + 1024, 0);
    ++open_;
    max_open_seen_ = std::max(max_open_seen_, open_);

    const AppKind kind = opt_.profile == Profile::kApp ? draw_kind() : AppKind::kOther;
    const std::uint16_t sport = opt_.profile == Profile::kApp
                                    ? kKindPort[static_cast<std::size_t>(kind)]
                                    : srv.listen_port;
    const std::uint16_t cport = cli.next_port;
    cli.next_port = static_cast<std::uint16_t>(cli.next_port + rng_.uniform(1, 7));
    if (cli.next_port < 32768) cli.next_port = 32768;
    const std::int64_t rtt = rng_.uniform(2'000, 120'000);  // microseconds
    const std::uint32_t cisn = rng_.uniform(1, 0xffffffffu);
    const std::uint32_t sisn = rng_.uniform(1, 0xffffffffu);

    auto base = [&](const Host& from, const Host& to, std::uint16_t sp, std::uint16_t dp) {
      t::TcpPacketBuilder b;
      b.addresses(from.addr, to.addr).ports(sp, dp).macs(from.mac, to.mac).ttl(from.shape.ttl);
      b.tos(from.shape.tos);
      if (from.addr.version == IpVersion::v4) b.df(true);
      return b;
    };

    // SYN and SYN+ACK: the hosts' fingerprinted shapes.
    std::int64_t ts = t0;
    auto syn = base(cli, srv, cport, sport);
    t::PacketVars cv;
    cv.seq = cisn;
    cv.tsval = cli.tsval(ts);
    cv.ip_id = cli.ip_id++;
    t::apply_shape(cli.shape, cv, syn);
    push(conv, ts, syn);
    std::uint32_t cli_seq = cisn + 1 + static_cast<std::uint32_t>(syn.payload_size());

    ts += rtt / 2;
    auto sa = base(srv, cli, sport, cport);
    t::PacketVars sv;
    sv.seq = sisn;
    sv.ack = cli_seq;
    sv.tsval = srv.tsval(ts);
    sv.tsecr = cli.shape.has_ts() ? cv.tsval : 0;
    sv.ip_id = srv.ip_id++;
    t::apply_shape(srv.shape, sv, sa);
    push(conv, ts, sa);
    std::uint32_t srv_seq = sisn + 1 + static_cast<std::uint32_t>(sa.payload_size());

    // Data segments: the largest payload both MSS options allow (1460 when
    // absent or implausible), less the timestamp option.
    std::size_t seg_max = 1460;
    for (const Host* h : {&cli, &srv})
      if (h->shape.mss >= 536) seg_max = std::min<std::size_t>(seg_max, h->shape.mss);
    if (cli.shape.has_ts() && srv.shape.has_ts()) seg_max -= 12;

    // The peer's TSval as last seen: the TSecr a segment sent at `at` carries.
    auto ecr_for = [&](const Host& peer, std::int64_t at) {
      return peer.shape.has_ts() ? peer.tsval(std::max(t0, at - rtt / 2)) : 0;
    };
    auto segment = [&](bool from_client, std::uint8_t flags, std::span<const std::uint8_t> data,
                       std::int64_t at) {
      Host& from = from_client ? cli : srv;
      const Host& to = from_client ? srv : cli;
      auto b = from_client ? base(from, to, cport, sport) : base(from, to, sport, cport);
      std::uint32_t& seq = from_client ? cli_seq : srv_seq;
      b.seq(seq).ack(from_client ? srv_seq : cli_seq).flags(flags).ip_id(from.ip_id++);
      b.window(static_cast<std::uint16_t>(from.shape.win ? from.shape.win : 502));
      b.clear_options();
      if (from.shape.has_ts() && to.shape.has_ts())
        b.opt_nop().opt_nop().opt_ts(from.tsval(at), ecr_for(to, at));
      if (!data.empty()) b.payload(data);
      push(conv, at, b);
      seq += static_cast<std::uint32_t>(data.size()) + ((flags & t::tcp_flag::kFin) ? 1 : 0);
    };

    using namespace t::tcp_flag;
    // Client ACK completes the handshake.
    ts += rtt / 2;
    segment(true, kAck, {}, ts);

    // Flights. The receiver ACKs every second segment (RFC 9293 §3.8.6.3)
    // and the tail of a flight it will not answer at once.
    const std::vector<Flight> flights = opt_.profile == Profile::kApp
                                            ? app_flights(kind, cli, srv, t0)
                                            : tcp_flights(seg_max);
    for (std::size_t fi = 0; fi < flights.size(); ++fi) {
      const Flight& fl = flights[fi];
      ts += fl.think_us;
      std::span<const std::uint8_t> rest(fl.data);
      int unacked = 0;
      while (!rest.empty()) {
        const std::size_t n = std::min(rest.size(), seg_max);
        const bool last = n == rest.size();
        segment(fl.from_client, last ? (kAck | kPsh) : kAck, rest.first(n), ts);
        rest = rest.subspan(n);
        if (++unacked == 2 && !last) {
          segment(!fl.from_client, kAck, {}, ts + rtt / 2);
          unacked = 0;
        }
        ts += rng_.uniform(10, 300);
      }
      ts += rtt / 2;
      const bool answered = fi + 1 < flights.size() && flights[fi + 1].from_client != fl.from_client;
      if (unacked > 0 && !answered) {
        ts += rng_.uniform(200, 40'000);  // delayed ACK
        segment(!fl.from_client, kAck, {}, ts);
      }
    }

    // Teardown: client FIN/ACK, server FIN/ACK, last ACK.
    ts += rtt / 2 + rng_.uniform(1'000, 50'000);
    segment(true, kFin | kAck, {}, ts);
    ts += rtt / 2;
    segment(false, kFin | kAck, {}, ts);
    ts += rtt / 2;
    segment(true, kAck, {}, ts);
  }

 public:
  std::uint64_t client_hellos_ = 0;
  std::array<std::uint64_t, std::size(kKindShare)> kind_counts_{};

 private:
  const Options& opt_;
  std::vector<Host> clients_;
  std::vector<Host> servers4_;
  std::vector<Host> servers6_;
  t::CraftRng& rng_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> heap_;
  std::vector<std::uint16_t> remaining_;  // unwritten packets per conversation
  std::uint64_t generated_ = 0;
  std::uint64_t order_ = 0;
  std::uint32_t open_ = 0;
  std::int64_t last_ts_ = kStartUs;
};

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto num = [&](std::uint64_t& dst) {
      if (i + 1 >= argc) return false;
      char* end = nullptr;
      dst = std::strtoull(argv[++i], &end, 0);
      return end && *end == '\0';
    };
    std::uint64_t v = 0;
    if (a == "--profile" && i + 1 < argc) {
      const std::string p = argv[++i];
      if (p == "tcp") {
        opt.profile = Profile::kTcp;
      } else if (p == "app") {
        opt.profile = Profile::kApp;
      } else {
        return usage();
      }
    } else if (a == "--packets") {
      if (!num(opt.packets)) return usage();
    } else if (a == "--hosts") {
      if (!num(v) || v == 0 || v > 4'000'000) return usage();
      opt.hosts = static_cast<std::uint32_t>(v);
    } else if (a == "--servers") {
      if (!num(v) || v < 2 || v > 1'000'000) return usage();
      opt.servers = static_cast<std::uint32_t>(v);
    } else if (a == "--max-open") {
      if (!num(v) || v == 0) return usage();
      opt.max_open = static_cast<std::uint32_t>(v);
    } else if (a == "--seed") {
      if (!num(opt.seed)) return usage();
    } else if (a == "-f" && i + 1 < argc) {
      opt.fp = argv[++i];
    } else if (!a.empty() && a[0] == '-') {
      return usage();
    } else if (opt.out.empty()) {
      opt.out = a;
    } else {
      return usage();
    }
  }
  if (opt.out.empty()) return usage();
  const bool app_profile = opt.profile == Profile::kApp;
  if (opt.packets == 0) opt.packets = app_profile ? 640'000 : 1'000'000;
  if (opt.hosts == 0) opt.hosts = app_profile ? 8'000 : 100'000;
  if (opt.servers == 0) opt.servers = app_profile ? 500 : 2'000;

  auto loaded = huginn::db::load_p0f_db(opt.fp);
  if (auto* err = std::get_if<huginn::db::DbError>(&loaded)) {
    std::cerr << "huginn_gen_bench_capture: " << err->to_string() << "\n";
    return 1;
  }
  const auto& db = std::get<huginn::db::P0fDb>(loaded);
  std::vector<const huginn::db::TcpSigRecord*> req_pool, resp_pool;
  for (const auto& r : db.tcp_request)
    if (is_os_sig(r)) req_pool.push_back(&r);
  for (const auto& r : db.tcp_response)
    if (is_os_sig(r)) resp_pool.push_back(&r);
  if (req_pool.empty() || resp_pool.empty()) {
    std::cerr << "huginn_gen_bench_capture: no OS signatures in " << opt.fp << "\n";
    return 1;
  }

  t::CraftRng rng(opt.seed);
  std::vector<Host> clients;
  clients.reserve(opt.hosts);
  for (std::uint32_t i = 0; i < opt.hosts; ++i) {
    const auto ver = rng.chance(0.2) ? IpVersion::v6 : IpVersion::v4;
    clients.push_back(make_host(req_pool, false, i + 1, ver, rng));
  }
  std::vector<Host> servers4, servers6;
  const std::uint32_t n6 = std::max<std::uint32_t>(1, opt.servers / 5);
  for (std::uint32_t i = 0; i < opt.servers; ++i) {
    if (i < n6)
      servers6.push_back(make_host(resp_pool, true, i + 1, IpVersion::v6, rng));
    else
      servers4.push_back(make_host(resp_pool, true, i + 1, IpVersion::v4, rng));
  }

  t::PcapWriter out;
  if (!out.open(opt.out, t::LinkType::kEthernet)) {
    std::cerr << "huginn_gen_bench_capture: " << out.error() << "\n";
    return 1;
  }
  Generator gen(opt, std::move(clients), std::move(servers4), std::move(servers6), rng);
  if (!gen.run(out) || !out.close()) {
    std::cerr << "huginn_gen_bench_capture: " << opt.out << ": " << out.error() << "\n";
    return 1;
  }
  std::cerr << "huginn_gen_bench_capture: " << out.records() << " packets, "
            << gen.conversations_ << " conversations, " << gen.distinct_clients_
            << " distinct clients, " << opt.servers << " servers, at most "
            << gen.max_open_seen_ << " conversations open\n";
  if (app_profile) {
    std::cerr << "huginn_gen_bench_capture: conversations by kind:";
    for (std::size_t k = 0; k < std::size(kKindName); ++k)
      std::cerr << " " << kKindName[k] << "=" << gen.kind_counts_[k];
    std::cerr << "; " << gen.client_hellos_ << " ClientHellos\n";
  }
  return 0;
}
