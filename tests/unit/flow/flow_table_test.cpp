#include "huginn/flow/flow_table.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tcp_packet_builder.hpp"

namespace huginn::flow {
namespace {

namespace tf = packet::tcp_flags;
using test::parse_ip;

// Builds DecodedPackets for one connection, the way packet/ would hand
// them over; payload storage lives as long as the builder.
class Conversation {
 public:
  Conversation(std::string_view client, std::uint16_t cport, std::string_view server,
               std::uint16_t sport)
      : client_{parse_ip(client), cport}, server_{parse_ip(server), sport} {}

  packet::DecodedPacket from_client(std::uint8_t flags, std::uint32_t seq,
                                    std::string_view payload = {}, std::int64_t ts_us = 0) {
    return make(client_, server_, flags, seq, payload, ts_us);
  }
  packet::DecodedPacket from_server(std::uint8_t flags, std::uint32_t seq,
                                    std::string_view payload = {}, std::int64_t ts_us = 0) {
    return make(server_, client_, flags, seq, payload, ts_us);
  }
  [[nodiscard]] const Endpoint& client() const { return client_; }
  [[nodiscard]] FlowKey key() const { return FlowKey(client_, server_); }

 private:
  packet::DecodedPacket make(const Endpoint& from, const Endpoint& to, std::uint8_t flags,
                             std::uint32_t seq, std::string_view payload, std::int64_t ts_us) {
    payloads_.emplace_back(payload.begin(), payload.end());
    packet::DecodedPacket p;
    p.ts_us = ts_us;
    p.src = from.addr;
    p.dst = to.addr;
    p.sport = from.port;
    p.dport = to.port;
    p.seq = seq;
    p.flags = flags;
    p.tcp_hdr_len = 20;
    p.payload = payloads_.back();
    return p;
  }

  Endpoint client_;
  Endpoint server_;
  std::deque<std::vector<std::uint8_t>> payloads_;
};

std::string text(std::span<const std::uint8_t> s) { return {s.begin(), s.end()}; }

struct Tag {
  int value = 0;
};
using Table = FlowTable<Tag>;

FlowTableConfig config(std::size_t max_flows = 16, std::int64_t idle_us = 30'000'000) {
  FlowTableConfig c;
  c.max_flows = max_flows;
  c.idle_timeout_us = idle_us;
  return c;
}

TEST(FlowTableTest, SynCreatesAndBothDirectionsFindTheFlow) {
  Table t(config());
  Conversation c("192.0.2.1", 40000, "198.51.100.7", 80);
  auto r = t.on_packet(c.from_client(tf::kSyn, 1000));
  ASSERT_NE(r.flow, nullptr);
  EXPECT_TRUE(r.created);
  EXPECT_EQ(r.direction, Direction::kToServer);
  EXPECT_TRUE(r.flow->syn_seen());
  EXPECT_EQ(r.flow->client(), c.client());
  r.flow->user.value = 42;

  r = t.on_packet(c.from_server(tf::kSyn | tf::kAck, 5000));
  ASSERT_NE(r.flow, nullptr);
  EXPECT_FALSE(r.created);
  EXPECT_EQ(r.direction, Direction::kToClient);
  EXPECT_EQ(r.flow->user.value, 42);
  EXPECT_EQ(*r.flow->to_client().start_seq(), 5001u);
  EXPECT_EQ(*r.flow->to_server().start_seq(), 1001u);

  t.on_packet(c.from_client(tf::kAck | tf::kPsh, 1001, "GET / HTTP/1.1\r\n"));
  t.on_packet(c.from_server(tf::kAck | tf::kPsh, 5001, "HTTP/1.1 200 OK\r\n"));
  const Table::FlowType* f = t.find(c.from_client(tf::kAck, 1017));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(text(f->to_server().contiguous()), "GET / HTTP/1.1\r\n");
  EXPECT_EQ(text(f->to_client().contiguous()), "HTTP/1.1 200 OK\r\n");
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.counters().get(counter::kFlowCreatedSyn), 1u);
  EXPECT_EQ(t.counters().get(counter::kStreamBytesInPrefix), 33u);
}

TEST(FlowTableTest, SegmentsWithoutAFlowAreCountedNotTracked) {
  Table t(config());
  Conversation c("192.0.2.1", 40000, "198.51.100.7", 80);
  const auto r = t.on_packet(c.from_client(tf::kAck | tf::kPsh, 1, "GET /"));
  EXPECT_EQ(r.flow, nullptr);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.counters().get(counter::kFlowUntrackedSegment), 1u);
}

TEST(FlowTableTest, MidStreamPickupOnFirstData) {
  auto cfg = config();
  cfg.pick_up_midstream = true;
  Table t(cfg);
  Conversation c("192.0.2.1", 40000, "198.51.100.7", 80);
  // A pure ACK does not create a flow even in pickup mode.
  EXPECT_EQ(t.on_packet(c.from_client(tf::kAck, 700)).flow, nullptr);
  auto r = t.on_packet(c.from_client(tf::kAck | tf::kPsh, 700, "GET /x"));
  ASSERT_NE(r.flow, nullptr);
  EXPECT_TRUE(r.created);
  EXPECT_FALSE(r.flow->syn_seen());
  EXPECT_EQ(r.flow->client(), c.client());
  EXPECT_EQ(*r.flow->to_server().start_seq(), 700u);
  EXPECT_EQ(text(r.flow->to_server().contiguous()), "GET /x");
  EXPECT_EQ(t.counters().get(counter::kFlowCreatedMidstream), 1u);
}

TEST(FlowTableTest, MidStreamPickupOnSynAckMakesTheReceiverTheClient) {
  auto cfg = config();
  cfg.pick_up_midstream = true;
  Table t(cfg);
  Conversation c("192.0.2.1", 40000, "198.51.100.7", 80);
  auto r = t.on_packet(c.from_server(tf::kSyn | tf::kAck, 9000));
  ASSERT_NE(r.flow, nullptr);
  EXPECT_EQ(r.flow->client(), c.client());
  EXPECT_EQ(r.direction, Direction::kToClient);
  EXPECT_EQ(*r.flow->to_client().start_seq(), 9001u);
}

TEST(FlowTableTest, SynDataStartsAfterTheIsn) {
  Table t(config());
  Conversation c("192.0.2.1", 40000, "198.51.100.7", 80);
  auto r = t.on_packet(c.from_client(tf::kSyn, 100, "GET"));  // TCP Fast Open
  ASSERT_NE(r.flow, nullptr);
  EXPECT_EQ(text(r.flow->to_server().contiguous()), "GET");
  t.on_packet(c.from_client(tf::kAck, 104, " /"));
  EXPECT_EQ(text(t.find(c.key())->to_server().contiguous()), "GET /");
}

TEST(FlowTableTest, RetransmittedSynKeepsTheFlowNewIsnReplacesIt) {
  Table t(config());
  Conversation c("192.0.2.1", 40000, "198.51.100.7", 80);
  t.on_packet(c.from_client(tf::kSyn, 100));
  t.find(c.key())->user.value = 1;
  auto r = t.on_packet(c.from_client(tf::kSyn, 100));
  EXPECT_FALSE(r.created);
  EXPECT_EQ(r.flow->user.value, 1);
  EXPECT_EQ(t.counters().get(counter::kFlowSynRetransmitted), 1u);

  std::vector<CloseReason> closed;
  t.set_close_hook([&](Table::FlowType&, CloseReason why) { closed.push_back(why); });
  r = t.on_packet(c.from_client(tf::kSyn, 90000));
  EXPECT_TRUE(r.created);
  EXPECT_EQ(r.flow->user.value, 0);  // a fresh UserState
  EXPECT_EQ(r.flow->client_isn(), 90000u);
  EXPECT_EQ(closed, std::vector<CloseReason>{CloseReason::kReplaced});
  EXPECT_EQ(t.counters().get(counter::kFlowReplacedNewSyn), 1u);
  EXPECT_EQ(t.size(), 1u);
}

TEST(FlowTableTest, RstClosesAndTheFlowLingersForRetransmissions) {
  std::vector<std::pair<std::string, CloseReason>> closed;
  auto cfg = config();
  cfg.closed_linger_us = 2'000'000;
  Table t(cfg, [&](Table::FlowType& f, CloseReason why) {
    closed.emplace_back(text(f.to_server().contiguous()), why);
  });
  Conversation c("192.0.2.1", 40000, "198.51.100.7", 80);
  t.on_packet(c.from_client(tf::kSyn, 0, {}, 0));
  auto r = t.on_packet(c.from_client(tf::kRst | tf::kAck | tf::kPsh, 1, "bye", 100));
  ASSERT_NE(r.flow, nullptr);
  EXPECT_TRUE(r.flow->closing());
  EXPECT_EQ(r.flow->closed_at_us(), 100);
  EXPECT_EQ(text(r.flow->to_server().contiguous()), "bye");
  // A retransmission within the linger finds the closed flow.
  r = t.on_packet(c.from_client(tf::kAck | tf::kPsh, 1, "bye", 1'000'000));
  ASSERT_NE(r.flow, nullptr);
  EXPECT_TRUE(r.flow->closing());
  EXPECT_EQ(r.segment.duplicate_bytes, 3u);
  EXPECT_TRUE(closed.empty());
  // Exactly the linger after the close: still there; then gone, reported
  // as closed by RST although the linger timer removed it.
  t.expire(2'000'100);
  EXPECT_EQ(t.size(), 1u);
  t.expire(2'000'101);
  EXPECT_EQ(t.size(), 0u);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].first, "bye");
  EXPECT_EQ(closed[0].second, CloseReason::kRst);
  EXPECT_EQ(t.counters().get(counter::kFlowClosedRst), 1u);
  EXPECT_EQ(t.counters().get(counter::kFlowExpiredIdle), 0u);
}

TEST(FlowTableTest, FinFromBothSidesCloses) {
  Table t(config());
  Conversation c("192.0.2.1", 40000, "198.51.100.7", 80);
  t.on_packet(c.from_client(tf::kSyn, 0));
  auto r = t.on_packet(c.from_client(tf::kFin | tf::kAck, 1));
  EXPECT_TRUE(r.flow->fin_seen(Direction::kToServer));
  EXPECT_FALSE(r.flow->closing());  // half-closed: the server may still send
  r = t.on_packet(c.from_server(tf::kAck | tf::kPsh, 1, "late reply"));
  EXPECT_EQ(text(r.flow->to_client().contiguous()), "late reply");
  r = t.on_packet(c.from_server(tf::kFin | tf::kAck, 11));
  EXPECT_TRUE(r.flow->closing());
  r = t.on_packet(c.from_client(tf::kAck, 2));  // the last ACK finds the closed flow
  ASSERT_NE(r.flow, nullptr);
  EXPECT_TRUE(r.flow->closing());
  t.clear();
  EXPECT_EQ(t.counters().get(counter::kFlowClosedFin), 1u);
  EXPECT_EQ(t.counters().get(counter::kFlowCleared), 0u);
  EXPECT_EQ(t.counters().get(counter::kFlowUntrackedSegment), 0u);
}

TEST(FlowTableTest, NewSynReplacesAClosedFlow) {
  std::vector<CloseReason> closed;
  Table t(config(), [&](Table::FlowType&, CloseReason why) { closed.push_back(why); });
  Conversation c("192.0.2.1", 40000, "198.51.100.7", 80);
  t.on_packet(c.from_client(tf::kSyn, 0));
  t.on_packet(c.from_server(tf::kRst | tf::kAck, 0));
  const auto r = t.on_packet(c.from_client(tf::kSyn, 5000));  // port reuse
  EXPECT_TRUE(r.created);
  EXPECT_FALSE(r.flow->closing());
  EXPECT_EQ(closed, std::vector<CloseReason>{CloseReason::kRst});
  EXPECT_EQ(t.counters().get(counter::kFlowReplacedNewSyn), 0u);
}

TEST(FlowTableTest, CapEvictsClosedFlowsFirst) {
  std::vector<std::pair<std::uint16_t, CloseReason>> removed;
  Table t(config(2), [&](Table::FlowType& f, CloseReason why) {
    removed.emplace_back(f.client().port, why);
  });
  Conversation c1("192.0.2.1", 1, "198.51.100.7", 80);
  Conversation c2("192.0.2.1", 2, "198.51.100.7", 80);
  Conversation c3("192.0.2.1", 3, "198.51.100.7", 80);
  t.on_packet(c1.from_client(tf::kSyn, 0, {}, 1));
  t.on_packet(c2.from_client(tf::kSyn, 0, {}, 2));
  t.on_packet(c2.from_client(tf::kRst, 1, {}, 3));  // c2 closed, but more recent than c1
  t.on_packet(c3.from_client(tf::kSyn, 0, {}, 4));
  EXPECT_EQ(removed, (std::vector<std::pair<std::uint16_t, CloseReason>>{{2, CloseReason::kRst}}));
  EXPECT_NE(t.find(c1.key()), nullptr);
  EXPECT_EQ(t.counters().get(counter::kFlowEvictedCap), 0u);
}

TEST(FlowTableTest, IdleExpiryRunsOnTheCaptureClock) {
  Table t(config(16, 10'000'000));
  Conversation a("192.0.2.1", 1, "198.51.100.7", 80);
  Conversation b("192.0.2.2", 2, "198.51.100.7", 80);
  const std::int64_t t0 = 1'700'000'000'000'000;
  t.on_packet(a.from_client(tf::kSyn, 0, {}, t0));
  t.on_packet(b.from_client(tf::kSyn, 0, {}, t0 + 5'000'000));
  // Exactly the timeout is not yet idle "longer than" it.
  t.expire(t0 + 10'000'000);
  EXPECT_EQ(t.size(), 2u);
  // A packet's timestamp drives expiry: a is idle 10.5 s, b 5.5 s.
  Conversation other("192.0.2.3", 3, "198.51.100.7", 80);
  t.on_packet(other.from_client(tf::kAck, 0, {}, t0 + 10'500'000));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.find(a.key()), nullptr);
  EXPECT_NE(t.find(b.key()), nullptr);
  EXPECT_EQ(t.counters().get(counter::kFlowExpiredIdle), 1u);
  // Touching b keeps it alive past its original deadline.
  t.on_packet(b.from_client(tf::kAck, 1, {}, t0 + 14'000'000));
  t.expire(t0 + 20'000'000);
  EXPECT_NE(t.find(b.key()), nullptr);
  t.expire(t0 + 24'000'001);
  EXPECT_EQ(t.size(), 0u);
}

TEST(FlowTableTest, ExpiryGivesUpAnOpenGap) {
  std::vector<GiveUpReason> reasons;
  Table t(config(16, 1'000'000), [&](Table::FlowType& f, CloseReason) {
    reasons.push_back(f.to_server().give_up_reason());
  });
  Conversation c("192.0.2.1", 40000, "198.51.100.7", 80);
  t.on_packet(c.from_client(tf::kSyn, 0, {}, 0));
  t.on_packet(c.from_client(tf::kAck, 5, "later", 10));  // bytes 1..4 never arrive
  t.expire(2'000'000);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0], GiveUpReason::kGapAtClose);
  EXPECT_EQ(t.counters().get(counter::kStreamGapUnfilledAtClose), 1u);
  EXPECT_EQ(t.counters().get(counter::kStreamOutOfOrderHeld), 1u);
}

TEST(FlowTableTest, CapEvictsTheLeastRecentlySeen) {
  std::vector<std::uint16_t> evicted;
  Table t(config(3), [&](Table::FlowType& f, CloseReason why) {
    if (why == CloseReason::kEvictedCap) evicted.push_back(f.client().port);
  });
  Conversation c1("192.0.2.1", 1, "198.51.100.7", 80);
  Conversation c2("192.0.2.1", 2, "198.51.100.7", 80);
  Conversation c3("192.0.2.1", 3, "198.51.100.7", 80);
  Conversation c4("192.0.2.1", 4, "198.51.100.7", 80);
  Conversation c5("192.0.2.1", 5, "198.51.100.7", 80);
  t.on_packet(c1.from_client(tf::kSyn, 0, {}, 1));
  t.on_packet(c2.from_client(tf::kSyn, 0, {}, 2));
  t.on_packet(c3.from_client(tf::kSyn, 0, {}, 3));
  // c1 is the oldest by creation but was just seen (from the server side).
  t.on_packet(c1.from_server(tf::kSyn | tf::kAck, 0, {}, 4));
  t.on_packet(c4.from_client(tf::kSyn, 0, {}, 5));
  EXPECT_EQ(evicted, std::vector<std::uint16_t>{2});
  EXPECT_EQ(t.size(), 3u);
  EXPECT_NE(t.find(c1.key()), nullptr);
  // The flow the current packet creates is never the victim, even at cap 1.
  Table one(config(1));
  one.on_packet(c4.from_client(tf::kSyn, 0));
  auto r = one.on_packet(c5.from_client(tf::kSyn, 0));
  ASSERT_NE(r.flow, nullptr);
  EXPECT_EQ(r.flow->client().port, 5);
  EXPECT_EQ(one.size(), 1u);
  EXPECT_EQ(one.counters().get(counter::kFlowEvictedCap), 1u);
  t.on_packet(c5.from_client(tf::kSyn, 0, {}, 6));
  EXPECT_EQ(evicted, (std::vector<std::uint16_t>{2, 3}));
  EXPECT_EQ(t.counters().get(counter::kFlowEvictedCap), 2u);
}

TEST(FlowTableTest, RecycledEntriesStartClean) {
  Table t(config(1));
  Conversation a("192.0.2.1", 1, "198.51.100.7", 80);
  Conversation b("192.0.2.1", 2, "198.51.100.7", 80);
  t.on_packet(a.from_client(tf::kSyn, 0));
  t.on_packet(a.from_client(tf::kAck, 1, "first flow"));
  t.find(a.key())->user.value = 9;
  auto r = t.on_packet(b.from_client(tf::kSyn, 50));
  EXPECT_EQ(r.flow->user.value, 0);
  EXPECT_TRUE(r.flow->to_server().contiguous().empty());
  EXPECT_EQ(*r.flow->to_server().start_seq(), 51u);
  EXPECT_FALSE(r.flow->to_client().started());
}

TEST(FlowTableTest, StreamCountersMoveAsNamed) {
  auto cfg = config();
  cfg.stream.max_bytes = 8;
  cfg.stream.max_segments_past_gap = 2;
  Table t(cfg);
  Conversation c("192.0.2.1", 40000, "198.51.100.7", 80);
  t.on_packet(c.from_client(tf::kSyn, 0));
  t.on_packet(c.from_client(tf::kAck, 1, "abcd"));
  t.on_packet(c.from_client(tf::kAck, 1, "abcd"));        // duplicate
  t.on_packet(c.from_client(tf::kAck, 3, "XYef"));        // 2 conflicting, 2 new
  t.on_packet(c.from_client(tf::kAck, 7, "ghij"));        // 2 in prefix (full), 2 beyond
  EXPECT_EQ(t.counters().get(counter::kStreamBytesInPrefix), 8u);
  EXPECT_EQ(t.counters().get(counter::kStreamBytesDuplicate), 4u);
  EXPECT_EQ(t.counters().get(counter::kStreamOverlapConflict), 1u);
  EXPECT_EQ(t.counters().get(counter::kStreamOverlapConflictBytes), 2u);
  EXPECT_EQ(t.counters().get(counter::kStreamBytesBeyondPrefix), 2u);
  EXPECT_EQ(t.counters().get(counter::kStreamPrefixFull), 1u);
  EXPECT_EQ(text(t.find(c.key())->to_server().contiguous()), "abcdefgh");

  // Server side: a hole that never fills.
  t.on_packet(c.from_server(tf::kSyn | tf::kAck, 100));
  t.on_packet(c.from_server(tf::kAck, 103, "c"));  // opens [101, 103)
  EXPECT_EQ(t.counters().get(counter::kStreamOutOfOrderHeld), 1u);
  t.on_packet(c.from_server(tf::kAck, 104, "d"));
  t.on_packet(c.from_server(tf::kAck, 105, "e"));
  EXPECT_EQ(t.counters().get(counter::kStreamGapGaveUp), 1u);
  t.on_packet(c.from_server(tf::kAck, 101, "ab"));
  EXPECT_EQ(t.counters().get(counter::kStreamBytesIgnored), 2u);
  t.on_packet(c.from_server(tf::kAck, 90, "zz"));
  EXPECT_EQ(t.counters().get(counter::kStreamBytesIgnored), 4u);
  EXPECT_EQ(t.counters().get(counter::kStreamBytesBeforeStart), 0u);
}

TEST(FlowTableTest, LookupThenOnPacketActsAsOnPacketAlone) {
  Table looked(config());
  Table plain(config());
  Conversation c("192.0.2.1", 40000, "198.51.100.7", 443);
  Conversation other("192.0.2.2", 40001, "198.51.100.7", 443);
  const std::vector<packet::DecodedPacket> pkts = {
      c.from_client(tf::kSyn, 0),
      c.from_server(tf::kSyn | tf::kAck, 100),
      other.from_client(tf::kAck, 7, "mid"),
      c.from_client(tf::kAck, 1, "hello"),
      c.from_server(tf::kAck, 101, "world"),
      c.from_client(tf::kFin | tf::kAck, 6),
      c.from_server(tf::kFin | tf::kAck, 106),
  };
  for (const auto& p : pkts) {
    const auto found = looked.lookup(p);
    EXPECT_EQ(found.found(), plain.find(p) != nullptr);
    const auto a = looked.on_packet(p, found);
    const auto b = plain.on_packet(p);
    ASSERT_EQ(a.flow == nullptr, b.flow == nullptr);
    EXPECT_EQ(a.created, b.created);
    EXPECT_EQ(a.direction, b.direction);
    EXPECT_EQ(a.segment.new_bytes, b.segment.new_bytes);
  }
  EXPECT_EQ(looked.counters().all(), plain.counters().all());
  EXPECT_EQ(text(looked.find(c.key())->to_server().contiguous()), "hello");
  EXPECT_TRUE(looked.find(c.key())->closing());
}

TEST(FlowTableTest, LookupIsRedoneWhenExpiryRemovesTheFlowFound) {
  std::vector<CloseReason> closed;
  auto cfg = config(16, 1'000'000);
  cfg.pick_up_midstream = true;
  Table t(cfg, [&](Table::FlowType&, CloseReason why) { closed.push_back(why); });
  Conversation c("192.0.2.1", 40000, "198.51.100.7", 443);
  Conversation d("192.0.2.2", 40001, "198.51.100.7", 443);
  t.on_packet(c.from_client(tf::kSyn, 0, {}, 0));
  t.on_packet(d.from_client(tf::kSyn, 0, {}, 900'000));
  // c's entry is found, then expires (idle 1.5 s) in the on_packet() it
  // was looked up for: the segment picks the connection up as a new flow,
  // as on_packet() alone would, and d (idle 0.6 s) is still found after.
  const auto late = c.from_client(tf::kAck, 1, "data", 1'500'000);
  const auto found = t.lookup(late);
  ASSERT_TRUE(found.found());
  const auto r = t.on_packet(late, found);
  ASSERT_NE(r.flow, nullptr);
  EXPECT_TRUE(r.created);
  EXPECT_FALSE(r.flow->syn_seen());
  EXPECT_EQ(closed, std::vector<CloseReason>{CloseReason::kIdle});
  EXPECT_EQ(t.counters().get(counter::kFlowCreatedMidstream), 1u);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_NE(t.find(d.key()), nullptr);
  EXPECT_EQ(text(t.find(c.key())->to_server().contiguous()), "data");
}

TEST(FlowTableTest, ExpireSaysWhetherItRemovedAnything) {
  Table t(config(16, 1'000'000));
  Conversation c("192.0.2.1", 40000, "198.51.100.7", 443);
  t.on_packet(c.from_client(tf::kSyn, 0, {}, 0));
  EXPECT_FALSE(t.expire(1'000'000));
  EXPECT_TRUE(t.expire(1'000'001));
  EXPECT_FALSE(t.expire(5'000'000));
}

TEST(FlowTableTest, ClearRemovesEverythingThroughTheHook) {
  int calls = 0;
  Table t(config(), [&](Table::FlowType&, CloseReason why) {
    EXPECT_EQ(why, CloseReason::kCleared);
    ++calls;
  });
  for (std::uint16_t p = 1; p <= 5; ++p) {
    Conversation c("192.0.2.1", p, "198.51.100.7", 80);
    t.on_packet(c.from_client(tf::kSyn, 0));
  }
  t.clear();
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.counters().get(counter::kFlowCleared), 5u);
}

TEST(FlowTableTest, ForEachVisitsMostRecentFirst) {
  Table t(config());
  for (std::uint16_t p = 1; p <= 3; ++p) {
    Conversation c("192.0.2.1", p, "198.51.100.7", 80);
    t.on_packet(c.from_client(tf::kSyn, 0, {}, p));
  }
  std::vector<std::uint16_t> order;
  t.for_each([&](const Table::FlowType& f) { order.push_back(f.client().port); });
  EXPECT_EQ(order, (std::vector<std::uint16_t>{3, 2, 1}));
}

// The index grows, and entries leave it from the middle of probe runs
// (eviction and RST removal in an order unrelated to slot order): every
// live flow must stay findable and no removed one found.
TEST(FlowTableTest, IndexKeepsEveryLiveFlowThroughGrowthAndChurn) {
  constexpr std::size_t kCap = 300;
  Table t(config(kCap));
  std::vector<Conversation> convs;
  convs.reserve(3000);
  for (std::uint16_t i = 0; i < 3000; ++i) {
    convs.emplace_back("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1),
                       static_cast<std::uint16_t>(40000 + i), "192.0.2.1", 443);
  }
  // Every entry for_each() visits must be found by its key, and no other
  // key found: a lost slot or a stale one breaks one of the two counts.
  auto check = [&](std::size_t created) {
    std::size_t visited = 0;
    t.for_each([&](const Table::FlowType& f) {
      ++visited;
      EXPECT_EQ(t.find(f.key()), &f);
    });
    std::size_t found = 0;
    for (std::size_t j = 0; j < created; ++j) found += t.find(convs[j].key()) != nullptr ? 1 : 0;
    EXPECT_EQ(visited, t.size());
    EXPECT_EQ(found, t.size());
  };
  for (std::size_t i = 0; i < convs.size(); ++i) {
    const auto ts = static_cast<std::int64_t>(i);
    ASSERT_TRUE(t.on_packet(convs[i].from_client(tf::kSyn, 1, {}, ts)).created);
    // Close an older flow now and then: it is evicted before open ones,
    // so removals come from all over the index.
    if (i % 7 == 3) t.on_packet(convs[i - 3].from_server(tf::kRst | tf::kAck, 9, {}, ts));
    if (i % 97 == 0) check(i + 1);
  }
  check(convs.size());
  EXPECT_EQ(t.size(), kCap);
  std::size_t found = 0;
  for (std::size_t j = 0; j < convs.size(); ++j) {
    const auto* f = t.find(convs[j].key());
    if (f == nullptr) continue;
    ++found;
    EXPECT_EQ(f->client(), convs[j].client());
  }
  EXPECT_EQ(found, kCap);
  // The newest open flows were never victims (closed ones go first).
  for (std::size_t j = convs.size() - 50; j < convs.size(); ++j) {
    if (j % 7 == 0) continue;  // reset above
    EXPECT_NE(t.find(convs[j].key()), nullptr) << j;
  }
  t.clear();
  EXPECT_EQ(t.size(), 0u);
  for (const auto& c : convs) EXPECT_EQ(t.find(c.key()), nullptr);
}

TEST(FlowTableTest, MemoryBoundCoversTheBuffers) {
  auto cfg = config(1000);
  Table t(cfg);
  EXPECT_GE(t.max_bytes_per_flow(), 2 * (8192u + 1024u));
  EXPECT_LE(t.memory_bound(), 1000 * (t.max_bytes_per_flow() + 2 * sizeof(void*)));
  EXPECT_GT(t.memory_bound(), 1000 * t.max_bytes_per_flow());
  // Stated in docs/flows.md: under 20 KiB per flow at the defaults.
  EXPECT_LT(t.max_bytes_per_flow(), 20u * 1024u);
}

}  // namespace
}  // namespace huginn::flow
