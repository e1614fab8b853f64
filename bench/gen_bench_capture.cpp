// huginn_gen_bench_capture: writes a large, realistic capture for the
// side-by-side benchmark against p0f (bench/compare_p0f.sh).
//
//   huginn_gen_bench_capture OUT.pcap [--packets N] [--hosts H] [--servers S]
//                            [--seed S] [--max-open C] [-f P0F_FP]
//
// Complete TCP conversations (SYN, SYN+ACK, ACK, one request segment, one
// to three response segments, FIN/ACK from each side, last ACK) between H
// client hosts and S servers, IPv4 and IPv6 about 80/20. Every client keeps
// one SYN shape and every server one SYN+ACK shape for the whole capture,
// drawn from the OS signatures of p0f.fp's [tcp:request] / [tcp:response]
// (tests/support/p0f_sig_crafter), with a fixed TTL and a TCP timestamp
// clock (100, 250 or 1000 Hz) that advances with capture time, so p0f's
// uptime and NAT logic see consistent hosts. The first H conversations use
// each client once, so the capture has H distinct clients when it has at
// least H conversations. At most --max-open conversations (default 300) are
// in flight at once, so `p0f -m 1000,200000` tracks all of them; packet
// timestamps never decrease. Payloads look like TLS application data, not
// HTTP, so neither tool spends time on HTTP parsing.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <queue>
#include <string>
#include <variant>
#include <vector>

#include "huginn/db/p0f_db_parser.hpp"
#include "huginn/fingerprint/tcp/tcp_signature.hpp"
#include "huginn/util/limits.hpp"
#include "p0f_sig_crafter.hpp"
#include "pcap_writer.hpp"
#include "tcp_packet_builder.hpp"
#include "test_paths.hpp"

namespace {

namespace t = huginn::test;
namespace fp = huginn::fingerprint::tcp;
using huginn::packet::IpAddress;
using huginn::packet::IpVersion;

constexpr std::int64_t kStartUs = 1'700'000'000'000'000;
constexpr std::uint32_t kTsHz[] = {1000, 1000, 1000, 250, 100};
constexpr std::uint16_t kServerPorts[] = {443, 443, 443, 80, 8443, 993};

struct Options {
  std::string out;
  std::string fp = t::p0f_fp_path().string();
  std::uint64_t packets = 1'000'000;
  std::uint32_t hosts = 100'000;
  std::uint32_t servers = 2'000;
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
  std::cerr << "usage: huginn_gen_bench_capture OUT.pcap [--packets N] [--hosts H] "
               "[--servers S] [--seed S] [--max-open C] [-f P0F_FP]\n";
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
  return h;
}

// Payload bytes that look like a TLS 1.2/1.3 application-data record.
void fill_payload(std::vector<std::uint8_t>& buf, std::size_t len, t::CraftRng& rng) {
  buf.resize(len);
  std::uint64_t x = rng.next() | 1;
  for (auto& b : buf) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<std::uint8_t>(x);
  }
  if (len >= 5) {
    buf[0] = 0x17;
    buf[1] = 0x03;
    buf[2] = 0x03;
    buf[3] = static_cast<std::uint8_t>((len - 5) >> 8);
    buf[4] = static_cast<std::uint8_t>(len - 5);
  }
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

  void start_conversation(std::uint32_t conv, Host& cli, std::int64_t t0) {
    Host& srv = cli.addr.version == IpVersion::v4
                    ? servers4_[rng_.uniform(0, static_cast<std::uint32_t>(servers4_.size() - 1))]
                    : servers6_[rng_.uniform(0, static_cast<std::uint32_t>(servers6_.size() - 1))];
    if (remaining_.size() <= conv) remaining_.resize(conv + 1024, 0);
    ++open_;
    max_open_seen_ = std::max(max_open_seen_, open_);

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
    auto syn = base(cli, srv, cport, srv.listen_port);
    t::PacketVars cv;
    cv.seq = cisn;
    cv.tsval = cli.tsval(ts);
    cv.ip_id = cli.ip_id++;
    t::apply_shape(cli.shape, cv, syn);
    push(conv, ts, syn);
    const std::uint32_t cli_ts0 = cli.shape.has_ts() ? cv.tsval : 0;
    const std::uint32_t cseq = cisn + 1 + static_cast<std::uint32_t>(syn.payload_size());

    ts += rtt / 2;
    auto sa = base(srv, cli, srv.listen_port, cport);
    t::PacketVars sv;
    sv.seq = sisn;
    sv.ack = cseq;
    sv.tsval = srv.tsval(ts);
    sv.tsecr = cli_ts0;
    sv.ip_id = srv.ip_id++;
    t::apply_shape(srv.shape, sv, sa);
    push(conv, ts, sa);
    std::uint32_t srv_ts = srv.shape.has_ts() ? sv.tsval : 0;
    std::uint32_t sseq = sisn + 1 + static_cast<std::uint32_t>(sa.payload_size());

    auto segment = [&](Host& from, Host& to, bool from_client, std::uint32_t seq,
                       std::uint32_t ack, std::uint8_t flags, std::size_t len, std::uint32_t ecr,
                       std::int64_t at) {
      auto b = from_client ? base(from, to, cport, srv.listen_port)
                           : base(from, to, srv.listen_port, cport);
      b.seq(seq).ack(ack).flags(flags).ip_id(from.ip_id++);
      b.window(static_cast<std::uint16_t>(from.shape.win ? from.shape.win : 502));
      data_options(b, from, ecr, at);
      if (len) {
        fill_payload(payload_, len, rng_);
        b.payload(payload_);
      }
      push(conv, at, b);
    };

    using namespace t::tcp_flag;
    // Client ACK, then the request.
    ts += rtt / 2;
    segment(cli, srv, true, cseq, sseq, kAck, 0, srv_ts, ts);
    ts += rng_.uniform(50, 2'000);
    const std::size_t req = rng_.uniform(200, 1460);
    segment(cli, srv, true, cseq, sseq, kAck | kPsh, req, srv_ts, ts);
    std::uint32_t cli_seq = cseq + static_cast<std::uint32_t>(req);
    const std::uint32_t cli_ts = cli.tsval(ts);

    // Response: one to three segments.
    ts += rtt / 2 + rng_.uniform(100, 20'000);
    const std::uint32_t segs = rng_.uniform(1, 3);
    for (std::uint32_t i = 0; i < segs; ++i) {
      const std::size_t len = i + 1 < segs ? 1448 : rng_.uniform(200, 1460);
      segment(srv, cli, false, sseq, cli_seq, i + 1 < segs ? kAck : (kAck | kPsh), len, cli_ts,
              ts);
      sseq += static_cast<std::uint32_t>(len);
      ts += rng_.uniform(10, 300);
    }
    srv_ts = srv.tsval(ts);

    // Teardown: client FIN/ACK (acking the response), server FIN/ACK, last ACK.
    ts += rtt / 2 + rng_.uniform(1'000, 50'000);
    segment(cli, srv, true, cli_seq, sseq, kFin | kAck, 0, srv_ts, ts);
    ++cli_seq;
    ts += rtt / 2;
    segment(srv, cli, false, sseq, cli_seq, kFin | kAck, 0, cli.tsval(ts), ts);
    ++sseq;
    ts += rtt / 2;
    segment(cli, srv, true, cli_seq, sseq, kAck, 0, srv.tsval(ts), ts);
  }

  const Options& opt_;
  std::vector<Host> clients_;
  std::vector<Host> servers4_;
  std::vector<Host> servers6_;
  t::CraftRng& rng_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> heap_;
  std::vector<std::uint16_t> remaining_;  // unwritten packets per conversation
  std::vector<std::uint8_t> payload_;
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
    if (a == "--packets") {
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
  return 0;
}
