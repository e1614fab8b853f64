// Fuzz target for flow::FlowTable and flow::StreamPrefix. The input drives a
// small table (tiny prefix, few flows, short timeouts) with synthetic
// segments on four fixed 4-tuples; after every segment the invariants the
// fingerprinting layers rely on are checked, and any violation aborts.
//
// Input: 3 config bytes, then 6-byte records:
//   [0] bits 0-3: SYN, ACK, FIN, RST; bit 4: sent by the server side;
//       bits 5-6: which 4-tuple; bit 7: corrupt the payload bytes
//   [1..2] sequence offset from that side's ISN, big-endian, signed
//   [3] payload length (0..255; 0 for a pure control segment)
//   [4] capture-clock step in 10 ms units
//   [5] bit 0: consume up to this many bytes on the flow afterwards
//       (value >> 1), bit 1: stop() that stream
// Payload byte at sequence number s of a side is a fixed function of (side,
// s), so whatever ends up in contiguous() can be checked byte for byte
// unless a corrupted segment was ever sent for that side.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "huginn/flow/flow_table.hpp"
#include "huginn/util/byte_reader.hpp"

namespace {

using huginn::flow::Direction;
using huginn::flow::FlowTable;
using huginn::flow::StreamPrefix;
namespace counter = huginn::flow::counter;

void check(bool ok) {
  if (!ok) std::abort();
}

struct Tuple {
  huginn::packet::IpAddress client;
  huginn::packet::IpAddress server;
  std::uint16_t cport;
  std::uint16_t sport;
  // ISNs near the 2^32 wrap, so short streams cross it.
  std::uint32_t client_isn;
  std::uint32_t server_isn;
};

huginn::packet::IpAddress address(huginn::packet::IpVersion version, std::uint8_t last) {
  huginn::packet::IpAddress a;
  a.version = version;
  if (version == huginn::packet::IpVersion::v4) {
    a.bytes[0] = 192;
    a.bytes[2] = 2;
    a.bytes[3] = last;
  } else {
    a.bytes[0] = 0x20;
    a.bytes[1] = 0x01;
    a.bytes[2] = 0x0d;
    a.bytes[3] = 0xb8;
    a.bytes[15] = last;
  }
  return a;
}

const std::array<Tuple, 4>& tuples() {
  using huginn::packet::IpVersion;
  static const std::array<Tuple, 4> t = {{
      {address(IpVersion::v4, 1), address(IpVersion::v4, 100), 40000, 80, 0xffffff00u, 7},
      {address(IpVersion::v4, 1), address(IpVersion::v4, 100), 40001, 80, 0xfffffff0u,
       0xffffffc0u},
      // Both ports ephemeral: mid-stream pickup falls back to the sender.
      {address(IpVersion::v4, 2), address(IpVersion::v4, 3), 50000, 60000, 0, 0x80000000u},
      {address(IpVersion::v6, 1), address(IpVersion::v6, 2), 443, 50123, 0x7ffffff0u,
       0xfffffffeu},
  }};
  return t;
}

std::uint8_t stream_byte(std::size_t side, std::uint32_t seq) {
  const std::uint32_t x = (seq + static_cast<std::uint32_t>(side) * 0x9e3779b9u) * 2654435761u;
  return static_cast<std::uint8_t>(x >> 24);
}

struct Shadow {
  std::array<bool, 8> corrupted{};  // side = tuple * 2 + (server ? 1 : 0)
};

void check_counters(const FlowTable<int>& table) {
  const auto& c = table.counters();
  const std::uint64_t created =
      c.get(counter::kFlowCreatedSyn) + c.get(counter::kFlowCreatedMidstream);
  const std::uint64_t removed = c.get(counter::kFlowClosedFin) + c.get(counter::kFlowClosedRst) +
                                c.get(counter::kFlowExpiredIdle) + c.get(counter::kFlowEvictedCap) +
                                c.get(counter::kFlowReplacedNewSyn) + c.get(counter::kFlowCleared);
  check(created >= removed && created - removed == table.size());
  check(table.size() <= table.config().max_flows);
  std::uint64_t stored = 0;
  table.for_each([&](const FlowTable<int>::FlowType& f) {
    for (Direction d : {Direction::kToServer, Direction::kToClient}) {
      const StreamPrefix& s = f.stream(d);
      const std::size_t n = s.config().max_bytes;
      check(s.contiguous().size() <= n);
      check(s.stored_bytes() <= n);
      check(s.stored_bytes() == s.stats().new_bytes);
      check(s.consumed() <= s.contiguous().size());
      check(!s.gap_open() || s.contiguous().size() < n);
      stored += s.stored_bytes();
    }
  });
  check(stored <= c.get(counter::kStreamBytesInPrefix));
}

void check_contents(const FlowTable<int>& table, const Shadow& shadow) {
  const auto& all = tuples();
  table.for_each([&](const FlowTable<int>::FlowType& f) {
    for (std::size_t t = 0; t < all.size(); ++t) {
      const huginn::flow::Endpoint a{all[t].client, all[t].cport};
      const huginn::flow::Endpoint b{all[t].server, all[t].sport};
      if (!(f.key() == huginn::flow::FlowKey(a, b))) continue;
      for (Direction d : {Direction::kToServer, Direction::kToClient}) {
        // The side sending this direction: the table's client may be
        // either endpoint of the tuple after a mid-stream pickup.
        const bool sender_is_a = (d == Direction::kToServer) == (f.client() == a);
        const std::size_t side = t * 2 + (sender_is_a ? 0 : 1);
        const StreamPrefix& s = f.stream(d);
        if (shadow.corrupted[side] || !s.started()) continue;
        const std::uint32_t start = *s.start_seq();
        const auto bytes = s.contiguous();
        for (std::size_t i = 0; i < bytes.size(); ++i) {
          check(bytes[i] == stream_byte(side, start + static_cast<std::uint32_t>(i)));
        }
      }
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  huginn::util::ByteReader in({data, size});
  const auto c0 = in.u8();
  const auto c1 = in.u8();
  const auto c2 = in.u8();
  if (!c0 || !c1 || !c2) return 0;

  huginn::flow::FlowTableConfig cfg;
  cfg.stream.max_bytes = 1 + *c0 % 64;
  cfg.stream.max_segments_past_gap = 1 + (*c1 & 7);
  cfg.max_flows = 1 + ((*c1 >> 3) & 3);
  cfg.pick_up_midstream = (*c1 & 0x20) != 0;
  cfg.guess_client_by_port = (*c1 & 0x40) != 0;
  cfg.idle_timeout_us = 10'000 * (1 + (*c2 & 0x0f));
  cfg.closed_linger_us = 10'000 * (*c2 >> 4);
  cfg.hash_seed = *c2;

  FlowTable<int> table(cfg, [](FlowTable<int>::FlowType& f, huginn::flow::CloseReason) {
    // The hook sees the final state; a gap left open is given up by now.
    check(!f.to_server().gap_open() || f.to_server().gave_up() || f.to_server().stopped());
    check(!f.to_client().gap_open() || f.to_client().gave_up() || f.to_client().stopped());
  });
  Shadow shadow;
  std::vector<std::uint8_t> payload;
  payload.reserve(255);
  std::int64_t now = 1'000'000;

  while (in.remaining() >= 6) {
    const std::uint8_t ctl = *in.u8();
    const auto off = static_cast<std::int16_t>(*in.be16());
    const std::uint8_t len = *in.u8();
    const std::uint8_t step = *in.u8();
    const std::uint8_t extra = *in.u8();

    const Tuple& t = tuples()[(ctl >> 5) & 3];
    const bool from_server = (ctl & 0x10) != 0;
    const std::size_t side = ((ctl >> 5) & 3) * 2 + (from_server ? 1 : 0);
    const bool corrupt = (ctl & 0x80) != 0;

    huginn::packet::DecodedPacket pkt;
    now += std::int64_t{step} * 10'000;
    pkt.ts_us = now;
    pkt.src = from_server ? t.server : t.client;
    pkt.dst = from_server ? t.client : t.server;
    pkt.sport = from_server ? t.sport : t.cport;
    pkt.dport = from_server ? t.cport : t.sport;
    namespace tf = huginn::packet::tcp_flags;
    pkt.flags = static_cast<std::uint8_t>(((ctl & 1) ? tf::kSyn : 0) | ((ctl & 2) ? tf::kAck : 0) |
                                          ((ctl & 4) ? tf::kFin : 0) | ((ctl & 8) ? tf::kRst : 0));
    const bool syn = (ctl & 1) != 0;
    const std::uint32_t isn = from_server ? t.server_isn : t.client_isn;
    // A SYN's seq is the ISN (plus the offset, to exercise new-ISN SYNs);
    // its data starts one later, like any segment's data at seq.
    pkt.seq = isn + static_cast<std::uint32_t>(static_cast<std::int32_t>(off));
    const std::uint32_t data_seq = pkt.seq + (syn ? 1u : 0u);
    payload.resize(len);
    for (std::size_t i = 0; i < len; ++i) {
      payload[i] = stream_byte(side, data_seq + static_cast<std::uint32_t>(i));
      if (corrupt) payload[i] ^= 0x5a;
    }
    if (corrupt && len > 0) shadow.corrupted[side] = true;
    // A different ISN is a different byte stream only in our pattern's
    // eyes if offsets overlap; the pattern depends on seq alone, so any
    // start point sees the same bytes at the same sequence numbers.
    pkt.payload = payload;
    pkt.tcp_hdr_len = 20;

    const auto r = table.on_packet(pkt);
    const huginn::flow::SegmentResult& s = r.segment;
    const std::uint64_t accounted = std::uint64_t{s.new_bytes} + s.duplicate_bytes +
                                    s.conflict_bytes + s.beyond_prefix_bytes +
                                    s.before_start_bytes + s.ignored_bytes;
    check(accounted <= len);
    if (r.flow == nullptr) {
      check(accounted == 0);
    } else {
      check(r.direction == r.flow->direction_of(pkt));
      check(r.flow->last_seen_us() == now);
      StreamPrefix& stream = r.flow->stream(r.direction);
      check(s.contiguous_growth <= stream.contiguous().size());
      if (!corrupt && !shadow.corrupted[side]) check(s.conflict_bytes == 0);
      if (extra & 1) stream.consume(extra >> 2);
      if (extra & 2) stream.stop();
    }
    check_counters(table);
    check_contents(table, shadow);
  }
  table.expire(now + 1'000'000'000);
  check(table.size() == 0);
  check_counters(table);
  table.clear();
  return 0;
}
