#pragma once
// FlowTable<UserState>: bounded per-connection state for the fingerprinting
// layers, keyed by the canonical 4-tuple (FlowKey). Each flow keeps two
// StreamPrefix buffers (client -> server and server -> client) and a
// UserState the analyzer fills (parser progress, fingerprints emitted).
//
// Lifecycle (docs/flows.md):
//  - Created by a SYN without ACK (its sender is the client; RFC 9293
//    §3.5). With pick_up_midstream, also by a SYN+ACK or by the first
//    segment carrying payload of an unknown 4-tuple (see client_is_sender).
//    A bare SYN with a different ISN on a known 4-tuple replaces the flow
//    (port reuse; p0f does the same); the same ISN is a retransmitted SYN.
//  - Closed by an RST from either side, or once both sides have sent a FIN.
//    A closed flow stays in the table for closed_linger_us (its TIME-WAIT,
//    RFC 9293 §3.6.1), so that retransmissions of the old connection find
//    it instead of being untracked or, in pick-up mode, starting a bogus
//    new flow; closing() tells the caller it is over.
//  - Expired when idle longer than idle_timeout_us, or closed longer than
//    closed_linger_us, on the capture clock (DecodedPacket::ts_us, never
//    wall time); on_packet() expires before looking up, so replays are
//    deterministic.
//  - Evicted when a new flow would exceed max_flows: the oldest closed flow
//    if there is one (nothing is lost), else the least recently seen. The
//    flow the current packet creates or touches is never the victim.
// Every removal calls the close hook (if set) with the reason, after the
// streams' finish() and before the entry is recycled, and moves one
// counter. A closed flow is always reported with its close reason (kFin or
// kRst), whatever finally removes it.
//
// Memory bound: at most max_flows entries, each sizeof(Flow) plus
// 2 * StreamPrefix::buffer_bytes() (allocated on a stream's first stored
// byte and kept when the entry is recycled), plus at most four index slots
// per entry: see max_bytes_per_flow() / memory_bound(). Steady state
// allocates only when a flow is created (the prefix buffers of a never-used
// entry, and the index when it doubles); data segments allocate nothing.
//
// Lookups, inserts, LRU touches and evictions are O(1) on average: an
// open-addressing index (linear probing, load at most 1/2) from key to
// entry index, and an intrusive doubly linked LRU list through the
// entries. Each segment's key is hashed once; a slot keeps 32 bits of its
// entry's hash, so a probe compares two full keys (two IpAddresses) only
// when those bits agree, i.e. almost only for the flow looked for.
//
// Not thread-safe: one owner thread (the capture thread, or the caller in
// replay mode). Flow pointers and references returned by any member are
// valid until the next call of a non-const member.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string_view>
#include <utility>
#include <vector>

#include "huginn/flow/flow_key.hpp"
#include "huginn/flow/stream_prefix.hpp"
#include "huginn/packet/decoded_packet.hpp"
#include "huginn/util/counters.hpp"
#include "huginn/util/limits.hpp"

namespace huginn::flow {

// Counter names moved by FlowTable (docs/flows.md describes each).
namespace counter {
inline constexpr std::string_view kFlowCreatedSyn = "flow_created_syn";
inline constexpr std::string_view kFlowCreatedMidstream = "flow_created_midstream";
inline constexpr std::string_view kFlowUntrackedSegment = "flow_untracked_segment";
inline constexpr std::string_view kFlowSynRetransmitted = "flow_syn_retransmitted";
inline constexpr std::string_view kFlowReplacedNewSyn = "flow_replaced_new_syn";
inline constexpr std::string_view kFlowClosedFin = "flow_closed_fin";
inline constexpr std::string_view kFlowClosedRst = "flow_closed_rst";
inline constexpr std::string_view kFlowExpiredIdle = "flow_expired_idle";
inline constexpr std::string_view kFlowEvictedCap = "flow_evicted_cap";
inline constexpr std::string_view kFlowCleared = "flow_cleared";
inline constexpr std::string_view kStreamBytesInPrefix = "stream_bytes_in_prefix";
inline constexpr std::string_view kStreamBytesDuplicate = "stream_bytes_duplicate";
inline constexpr std::string_view kStreamOverlapConflict = "stream_overlap_conflict";
inline constexpr std::string_view kStreamOverlapConflictBytes = "stream_overlap_conflict_bytes";
inline constexpr std::string_view kStreamOutOfOrderHeld = "stream_out_of_order_held";
inline constexpr std::string_view kStreamBytesBeyondPrefix = "stream_bytes_beyond_prefix";
inline constexpr std::string_view kStreamBytesBeforeStart = "stream_bytes_before_start";
inline constexpr std::string_view kStreamBytesIgnored = "stream_bytes_ignored";
inline constexpr std::string_view kStreamPrefixFull = "stream_prefix_full";
inline constexpr std::string_view kStreamGapGaveUp = "stream_gap_gave_up";
inline constexpr std::string_view kStreamGapUnfilledAtClose = "stream_gap_unfilled_at_close";
}  // namespace counter

enum class CloseReason : std::uint8_t {
  kFin,         // both sides sent FIN
  kRst,         // either side sent RST
  kIdle,        // idle longer than idle_timeout_us
  kEvictedCap,  // least recently seen when the table was full
  kReplaced,    // a bare SYN with a new ISN reused the 4-tuple
  kCleared,     // clear()
};

struct FlowTableConfig {
  // Hard cap on live flows (p0f -m CONN default); at least 1.
  std::size_t max_flows = limits::kDefaultMaxFlows;
  // Microseconds on the capture clock. p0f's CONN_MAX_AGE (-t) is the
  // default; unlike p0f this counts from the last packet, not the SYN, so
  // a long but active connection keeps its prefix state.
  std::int64_t idle_timeout_us = std::int64_t{limits::kDefaultFlowMaxAgeS} * 1'000'000;
  // Microseconds a closed flow is kept after the FIN/RST that closed it.
  // Shorter than TIME-WAIT's 2 MSL (RFC 9293 §3.6.1: 4 minutes) because the
  // table is bounded; the same 30 s covers the retransmission back-off of a
  // FIN that is never acknowledged (CVE-2018-6794.pcap re-sends for 19 s).
  std::int64_t closed_linger_us = std::int64_t{limits::kDefaultFlowMaxAgeS} * 1'000'000;
  // Also track flows whose SYN was not seen (capture started mid-stream).
  bool pick_up_midstream = false;
  // For those, let an ephemeral port tell the client (client_is_sender).
  bool guess_client_by_port = true;
  StreamPrefixConfig stream;
  // FlowKey::hash seed; a live capture may randomise it.
  std::uint64_t hash_seed = 0;
};

template <typename UserState>
class FlowTable;

template <typename UserState>
class Flow {
 public:
  explicit Flow(const StreamPrefixConfig& stream)
      : to_server_(stream), to_client_(stream) {}

  [[nodiscard]] const FlowKey& key() const { return key_; }
  [[nodiscard]] const Endpoint& client() const { return client_; }
  [[nodiscard]] const Endpoint& server() const { return server_; }
  [[nodiscard]] Direction direction_of(const packet::DecodedPacket& pkt) const {
    return source_of(pkt) == client_ ? Direction::kToServer : Direction::kToClient;
  }
  // The prefix buffers. Callers may consume() and stop() them; the table
  // feeds them.
  [[nodiscard]] StreamPrefix& stream(Direction d) {
    return d == Direction::kToServer ? to_server_ : to_client_;
  }
  [[nodiscard]] const StreamPrefix& stream(Direction d) const {
    return d == Direction::kToServer ? to_server_ : to_client_;
  }
  [[nodiscard]] StreamPrefix& to_server() { return to_server_; }
  [[nodiscard]] const StreamPrefix& to_server() const { return to_server_; }
  [[nodiscard]] StreamPrefix& to_client() { return to_client_; }
  [[nodiscard]] const StreamPrefix& to_client() const { return to_client_; }

  [[nodiscard]] std::int64_t first_seen_us() const { return first_seen_us_; }  // capture clock
  [[nodiscard]] std::int64_t last_seen_us() const { return last_seen_us_; }    // capture clock
  // Created by the client's SYN (else picked up mid-stream).
  [[nodiscard]] bool syn_seen() const { return syn_seen_; }
  [[nodiscard]] std::uint32_t client_isn() const { return client_isn_; }  // valid if syn_seen()
  [[nodiscard]] bool fin_seen(Direction d) const {
    return d == Direction::kToServer ? fin_to_server_ : fin_to_client_;
  }
  // An RST or the second FIN was seen; the flow lingers for retransmissions.
  [[nodiscard]] bool closing() const { return closing_; }
  // Capture clock; valid if closing().
  [[nodiscard]] std::int64_t closed_at_us() const { return closed_at_us_; }

  UserState user{};

 private:
  friend class FlowTable<UserState>;

  void reset() {
    to_server_.reset();
    to_client_.reset();
    first_seen_us_ = last_seen_us_ = closed_at_us_ = 0;
    close_reason_ = CloseReason::kFin;
    syn_seen_ = fin_to_server_ = fin_to_client_ = closing_ = false;
    client_isn_ = 0;
    user = UserState{};
  }

  // What every segment reads or writes first, ahead of the two streams
  // (of which it touches one).
  FlowKey key_;
  Endpoint client_;
  Endpoint server_;
  std::int64_t first_seen_us_ = 0;
  std::int64_t last_seen_us_ = 0;
  std::int64_t closed_at_us_ = 0;
  std::uint32_t client_isn_ = 0;
  CloseReason close_reason_ = CloseReason::kFin;
  bool syn_seen_ = false;
  bool fin_to_server_ = false;
  bool fin_to_client_ = false;
  bool closing_ = false;
  StreamPrefix to_server_;
  StreamPrefix to_client_;
};

template <typename UserState>
class FlowTable {
 public:
  using FlowType = Flow<UserState>;
  // Runs on every removal, on the owner thread. It must not throw or call
  // back into the table; the flow reference is valid only during the call.
  // The destructor drops remaining flows without calling it (call clear()
  // first to be told about them).
  using CloseHook = std::function<void(FlowType&, CloseReason)>;

  // What on_packet() did with one segment.
  struct PacketResult {
    FlowType* flow = nullptr;  // null: the segment belongs to no tracked flow
    Direction direction = Direction::kToServer;
    bool created = false;   // this segment created the flow
    SegmentResult segment;  // what its payload did to flow->stream(direction)
  };

  explicit FlowTable(FlowTableConfig config = {}, CloseHook on_close = {})
      : config_(config),
        on_close_(std::move(on_close)),
        hasher_{config.hash_seed} {
    if (config_.max_flows == 0) config_.max_flows = 1;
    const std::size_t initial = std::min<std::size_t>(config_.max_flows, 4096);
    nodes_.reserve(initial);
    links_.reserve(initial);
    slots_.assign(slot_count_for(initial), Slot{});
  }
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  void set_close_hook(CloseHook on_close) { on_close_ = std::move(on_close); }

  // A segment's key, its hash and the entry it found, from lookup(): lets a
  // caller that must first know whether a segment is tracked pay for one
  // hash and one probe, not two.
  class Lookup {
   public:
    [[nodiscard]] bool found() const { return idx_ != kNil; }

   private:
    friend class FlowTable;
    FlowKey key_;
    std::uint64_t hash_ = 0;
    std::uint32_t idx_ = kNil;
  };

  // Const: no expiry, no LRU touch.
  [[nodiscard]] Lookup lookup(const packet::DecodedPacket& pkt) const {
    Lookup l;
    l.key_ = FlowKey::from_packet(pkt);
    l.hash_ = hasher_(l.key_);
    l.idx_ = find_index(l.key_, l.hash_);
    return l;
  }

  // One decoded TCP segment, in capture order. Never throws for any packet
  // content (only std::bad_alloc when a new entry's memory cannot be had).
  PacketResult on_packet(const packet::DecodedPacket& pkt) {
    const FlowKey key = FlowKey::from_packet(pkt);
    return on_packet(pkt, key, hasher_(key), kNil, false);
  }
  // The same, for the segment `found` was looked up for, with no non-const
  // call in between: the probe is redone only if expiry removed a flow
  // (a removal may move index slots, or remove that very flow).
  PacketResult on_packet(const packet::DecodedPacket& pkt, const Lookup& found) {
    return on_packet(pkt, found.key_, found.hash_, found.idx_, true);
  }

 private:
  PacketResult on_packet(const packet::DecodedPacket& pkt, const FlowKey& key,
                         std::uint64_t hash, std::uint32_t known_idx, bool known) {
    const bool expired_any = expire(pkt.ts_us);

    namespace tf = packet::tcp_flags;
    const bool syn = (pkt.flags & tf::kSyn) != 0;
    const bool ack = (pkt.flags & tf::kAck) != 0;
    const Endpoint src = source_of(pkt);
    PacketResult result;

    std::uint32_t idx = known && !expired_any ? known_idx : find_index(key, hash);
    if (syn && !ack) {
      if (idx != kNil) {
        FlowType& f = nodes_[idx].flow;
        if (f.syn_seen_ && f.client_ == src && f.client_isn_ == pkt.seq) {
          bump(Hot::kFlowSynRetransmitted);
        } else {
          remove(idx, CloseReason::kReplaced);
          idx = kNil;
        }
      }
      if (idx == kNil) {
        idx = create(key, hash, src, destination_of(pkt), pkt.ts_us);
        FlowType& f = nodes_[idx].flow;
        f.syn_seen_ = true;
        f.client_isn_ = pkt.seq;
        f.to_server_.start_at(pkt.seq + 1);
        bump(Hot::kFlowCreatedSyn);
        result.created = true;
      }
    } else if (idx == kNil) {
      const bool rst = (pkt.flags & tf::kRst) != 0;
      // A segment without payload (pure ACK, FIN) or with RST never
      // creates a flow: it fixes no start point, and the last ACKs of a
      // flow that already expired would otherwise resurrect it.
      if (!config_.pick_up_midstream || rst || (!syn && pkt.payload.empty())) {
        bump(Hot::kFlowUntrackedSegment);
        return result;
      }
      const bool sender_is_client = client_is_sender(pkt, config_.guess_client_by_port);
      const Endpoint dst = destination_of(pkt);
      idx = create(key, hash, sender_is_client ? src : dst, sender_is_client ? dst : src,
                   pkt.ts_us);
      bump(Hot::kFlowCreatedMidstream);
      result.created = true;
    }

    FlowType& f = nodes_[idx].flow;
    const Direction dir = f.direction_of(pkt);
    result.flow = &f;
    result.direction = dir;
    StreamPrefix& stream = f.stream(dir);
    // The SYN+ACK fixes the server's start point (its ISN + 1).
    if (syn && ack && dir == Direction::kToClient) stream.start_at(pkt.seq + 1);
    if (!pkt.payload.empty()) {
      // Data on a SYN (TCP Fast Open, RFC 7413) starts after the ISN.
      const std::uint32_t data_seq = pkt.seq + (syn ? 1u : 0u);
      result.segment = stream.add(data_seq, pkt.payload);
      count(result.segment);
    }
    if ((pkt.flags & tf::kFin) != 0) {
      (dir == Direction::kToServer ? f.fin_to_server_ : f.fin_to_client_) = true;
      if (f.fin_to_server_ && f.fin_to_client_) mark_closing(idx, CloseReason::kFin, pkt.ts_us);
    }
    if ((pkt.flags & tf::kRst) != 0) mark_closing(idx, CloseReason::kRst, pkt.ts_us);
    touch(idx, pkt.ts_us);
    return result;
  }

 public:
  // Removes every flow closed longer than closed_linger_us, then every flow
  // idle longer than idle_timeout_us, at `now_us` (capture clock). Each
  // list is walked from its old end and the walk stops at the first flow
  // that has time left, so a capture clock that steps backwards delays
  // expiry rather than breaking it. Returns whether any flow was removed.
  bool expire(std::int64_t now_us) {
    bool removed = false;
    while (closed_head_ != kNil &&
           now_us - links_[closed_head_].closed_at_us > config_.closed_linger_us) {
      remove(closed_head_, CloseReason::kIdle);
      removed = true;
    }
    while (tail_ != kNil && now_us - links_[tail_].last_seen_us > config_.idle_timeout_us) {
      remove(tail_, CloseReason::kIdle);
      removed = true;
    }
    return removed;
  }

  // Removes every flow (end of a capture file), oldest first.
  void clear() {
    while (tail_ != kNil) remove(tail_, CloseReason::kCleared);
  }

  // The flow for this segment's 4-tuple, or null. Const: no LRU touch.
  [[nodiscard]] const FlowType* find(const packet::DecodedPacket& pkt) const {
    const FlowKey key = FlowKey::from_packet(pkt);
    const std::uint32_t idx = find_index(key, hasher_(key));
    return idx == kNil ? nullptr : &nodes_[idx].flow;
  }
  [[nodiscard]] FlowType* find(const FlowKey& key) {
    const std::uint32_t idx = find_index(key, hasher_(key));
    return idx == kNil ? nullptr : &nodes_[idx].flow;
  }

  // Visits live flows from most to least recently seen.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (std::uint32_t i = head_; i != kNil; i = links_[i].next) fn(nodes_[i].flow);
  }

  // Live flows, closed ones that still linger included.
  [[nodiscard]] std::size_t size() const { return live_; }
  [[nodiscard]] const util::Counters& counters() const {
    for (std::size_t i = 0; i < hot_.size(); ++i) {
      // Only non-zero amounts, as counting them directly would add.
      if (hot_[i] != 0) counters_.add(kHotNames[i], hot_[i]);
      hot_[i] = 0;
    }
    return counters_;
  }
  [[nodiscard]] const FlowTableConfig& config() const { return config_; }

  // Upper bound on the bytes one flow entry can hold: the entry, its two
  // prefix buffers, and the two index slots a load of 1/2 gives it.
  [[nodiscard]] std::size_t max_bytes_per_flow() const {
    return sizeof(Node) + sizeof(Link) + 2 * StreamPrefix::buffer_bytes(config_.stream) +
           2 * sizeof(Slot);
  }
  // max_flows * max_bytes_per_flow() plus the rounding of the index to a
  // power of two (at most two more slots per entry). Heap memory owned by
  // UserState itself is the caller's to bound.
  [[nodiscard]] std::size_t memory_bound() const {
    return config_.max_flows * (max_bytes_per_flow() + 2 * sizeof(Slot));
  }

 private:
  static constexpr std::uint32_t kNil = 0xffffffffu;

  struct Node {
    explicit Node(const StreamPrefixConfig& stream) : flow(stream) {}
    FlowType flow;
  };
  // An entry's list links and hash, apart from its (much larger) Node: an
  // LRU touch rewrites the links of three entries and an index erase reads
  // the hashes of a probe run, and a dense array keeps those in a few
  // cache lines instead of one per entry touched.
  struct Link {
    // Copies of the flow's last_seen_us_ and closed_at_us_ (written
    // together with them), so that expire(), which runs for every segment,
    // reads the oldest entries' times here instead of two cold Nodes.
    std::int64_t last_seen_us = 0;
    std::int64_t closed_at_us = 0;
    std::uint64_t hash = 0;     // hasher_(flow.key_), kept for erase()
    std::uint32_t prev = kNil;  // towards head_ (more recent)
    std::uint32_t next = kNil;  // towards tail_ (less recent)
    // Closed-flow FIFO, oldest close first; kNil unless closing.
    std::uint32_t closed_prev = kNil;
    std::uint32_t closed_next = kNil;
  };

  // One index slot: an entry index (kNil: empty) and the high 32 bits of
  // its key's hash (the low bits choose the slot, so they would tell less).
  struct Slot {
    std::uint32_t tag = 0;
    std::uint32_t idx = kNil;
  };
  static_assert(sizeof(Slot) <= 2 * sizeof(void*));

  static std::uint32_t tag_of(std::uint64_t hash) {
    return static_cast<std::uint32_t>(hash >> 32);
  }
  // Smallest power of two holding `entries` at a load of at most 1/2.
  static std::size_t slot_count_for(std::size_t entries) {
    std::size_t n = 2;
    while (n < 2 * entries) n *= 2;
    return n;
  }

  [[nodiscard]] std::uint32_t find_index(const FlowKey& key, std::uint64_t hash) const {
    const std::size_t mask = slots_.size() - 1;
    const std::uint32_t tag = tag_of(hash);
    // Terminates: the load is at most 1/2, so an empty slot exists.
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.idx == kNil) return kNil;
      if (s.tag == tag && nodes_[s.idx].flow.key_ == key) return s.idx;
    }
  }

  void index_insert(std::uint64_t hash, std::uint32_t idx) {
    if (2 * (live_ + 1) > slots_.size()) rehash(2 * slots_.size());
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash & mask;
    while (slots_[i].idx != kNil) i = (i + 1) & mask;
    slots_[i] = Slot{tag_of(hash), idx};
  }

  // Deletion without tombstones: later members of the probe run move back
  // into the hole when their home slot does not lie cyclically in
  // (hole, their position], so every key stays reachable from its home.
  void index_erase(std::uint64_t hash, std::uint32_t idx) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t hole = hash & mask;
    while (slots_[hole].idx != idx) hole = (hole + 1) & mask;
    for (std::size_t j = (hole + 1) & mask; slots_[j].idx != kNil; j = (j + 1) & mask) {
      const std::size_t home = links_[slots_[j].idx].hash & mask;
      const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (stays) continue;
      slots_[hole] = slots_[j];
      hole = j;
    }
    slots_[hole] = Slot{};
  }

  void rehash(std::size_t count) {
    std::vector<Slot> old(count, Slot{});
    old.swap(slots_);
    const std::size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.idx == kNil) continue;
      std::size_t i = links_[s.idx].hash & mask;
      while (slots_[i].idx != kNil) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::uint32_t create(const FlowKey& key, std::uint64_t hash, const Endpoint& client,
                       const Endpoint& server, std::int64_t ts_us) {
    if (live_ >= config_.max_flows) {
      remove(closed_head_ != kNil ? closed_head_ : tail_, CloseReason::kEvictedCap);
    }
    std::uint32_t idx;
    if (!free_.empty()) {
      idx = free_.back();
      free_.pop_back();
    } else {
      // Grow by doubling but never past max_flows, so that capacity (and
      // memory_bound()) stays within the cap.
      if (nodes_.size() == nodes_.capacity()) {
        const std::size_t cap =
            std::min(config_.max_flows, std::max<std::size_t>(16, 2 * nodes_.size()));
        nodes_.reserve(cap);
        links_.reserve(cap);
      }
      idx = static_cast<std::uint32_t>(nodes_.size());
      nodes_.emplace_back(config_.stream);
      links_.emplace_back();
    }
    links_[idx].hash = hash;
    links_[idx].last_seen_us = ts_us;
    FlowType& f = nodes_[idx].flow;
    f.key_ = key;
    f.client_ = client;
    f.server_ = server;
    f.first_seen_us_ = f.last_seen_us_ = ts_us;
    index_insert(hash, idx);
    ++live_;
    link_front(idx);
    return idx;
  }

  void remove(std::uint32_t idx, CloseReason reason) {
    FlowType& f = nodes_[idx].flow;
    for (StreamPrefix* s : {&f.to_server_, &f.to_client_}) {
      if (s->finish()) bump(Hot::kStreamGapUnfilledAtClose);
    }
    if (f.closing_) {
      reason = f.close_reason_;
      unlink_closed(idx);
    }
    if (on_close_) on_close_(f, reason);
    counters_.add(reason_counter(reason));
    index_erase(links_[idx].hash, idx);
    --live_;
    unlink(idx);
    f.reset();
    free_.push_back(idx);
  }

  void mark_closing(std::uint32_t idx, CloseReason reason, std::int64_t ts_us) {
    FlowType& f = nodes_[idx].flow;
    if (f.closing_) return;
    f.closing_ = true;
    f.close_reason_ = reason;
    f.closed_at_us_ = ts_us;
    Link& n = links_[idx];
    n.closed_at_us = ts_us;
    n.closed_prev = closed_tail_;
    n.closed_next = kNil;
    if (closed_tail_ != kNil) links_[closed_tail_].closed_next = idx; else closed_head_ = idx;
    closed_tail_ = idx;
  }
  void unlink_closed(std::uint32_t idx) {
    Link& n = links_[idx];
    if (n.closed_prev != kNil) links_[n.closed_prev].closed_next = n.closed_next;
    else closed_head_ = n.closed_next;
    if (n.closed_next != kNil) links_[n.closed_next].closed_prev = n.closed_prev;
    else closed_tail_ = n.closed_prev;
    n.closed_prev = n.closed_next = kNil;
  }

  void touch(std::uint32_t idx, std::int64_t ts_us) {
    nodes_[idx].flow.last_seen_us_ = ts_us;
    links_[idx].last_seen_us = ts_us;
    if (head_ == idx) return;
    unlink(idx);
    link_front(idx);
  }
  void link_front(std::uint32_t idx) {
    Link& n = links_[idx];
    n.prev = kNil;
    n.next = head_;
    if (head_ != kNil) links_[head_].prev = idx;
    head_ = idx;
    if (tail_ == kNil) tail_ = idx;
  }
  void unlink(std::uint32_t idx) {
    Link& n = links_[idx];
    if (n.prev != kNil) links_[n.prev].next = n.next; else head_ = n.next;
    if (n.next != kNil) links_[n.next].prev = n.prev; else tail_ = n.prev;
    n.prev = n.next = kNil;
  }

  void count(const SegmentResult& r) {
    if (r.new_bytes) bump(Hot::kStreamBytesInPrefix, r.new_bytes);
    if (r.duplicate_bytes) bump(Hot::kStreamBytesDuplicate, r.duplicate_bytes);
    if (r.conflict_bytes) {
      bump(Hot::kStreamOverlapConflict);
      bump(Hot::kStreamOverlapConflictBytes, r.conflict_bytes);
    }
    if (r.held) bump(Hot::kStreamOutOfOrderHeld);
    if (r.beyond_prefix_bytes) bump(Hot::kStreamBytesBeyondPrefix, r.beyond_prefix_bytes);
    if (r.before_start_bytes) bump(Hot::kStreamBytesBeforeStart, r.before_start_bytes);
    if (r.ignored_bytes) bump(Hot::kStreamBytesIgnored, r.ignored_bytes);
    if (r.filled) bump(Hot::kStreamPrefixFull);
    if (r.gave_up) bump(Hot::kStreamGapGaveUp);
  }

  // Counters moved per segment or per flow, kept as plain integers (a
  // Counters::add is a map lookup by name) and folded into counters_ by
  // counters(). Same order as kHotNames.
  enum class Hot : std::uint8_t {
    kFlowSynRetransmitted,
    kFlowCreatedSyn,
    kFlowUntrackedSegment,
    kFlowCreatedMidstream,
    kStreamGapUnfilledAtClose,
    kStreamBytesInPrefix,
    kStreamBytesDuplicate,
    kStreamOverlapConflict,
    kStreamOverlapConflictBytes,
    kStreamOutOfOrderHeld,
    kStreamBytesBeyondPrefix,
    kStreamBytesBeforeStart,
    kStreamBytesIgnored,
    kStreamPrefixFull,
    kStreamGapGaveUp,
    kCount,
  };
  static constexpr std::array<std::string_view, static_cast<std::size_t>(Hot::kCount)> kHotNames = {
      counter::kFlowSynRetransmitted,     counter::kFlowCreatedSyn,
      counter::kFlowUntrackedSegment,     counter::kFlowCreatedMidstream,
      counter::kStreamGapUnfilledAtClose, counter::kStreamBytesInPrefix,
      counter::kStreamBytesDuplicate,     counter::kStreamOverlapConflict,
      counter::kStreamOverlapConflictBytes, counter::kStreamOutOfOrderHeld,
      counter::kStreamBytesBeyondPrefix,  counter::kStreamBytesBeforeStart,
      counter::kStreamBytesIgnored,       counter::kStreamPrefixFull,
      counter::kStreamGapGaveUp,
  };
  void bump(Hot h, std::uint64_t n = 1) { hot_[static_cast<std::size_t>(h)] += n; }

  static std::string_view reason_counter(CloseReason reason) {
    switch (reason) {
      case CloseReason::kFin: return counter::kFlowClosedFin;
      case CloseReason::kRst: return counter::kFlowClosedRst;
      case CloseReason::kIdle: return counter::kFlowExpiredIdle;
      case CloseReason::kEvictedCap: return counter::kFlowEvictedCap;
      case CloseReason::kReplaced: return counter::kFlowReplacedNewSyn;
      case CloseReason::kCleared: return counter::kFlowCleared;
    }
    return counter::kFlowCleared;
  }

  FlowTableConfig config_;
  CloseHook on_close_;
  std::vector<Node> nodes_;           // entries, live or on free_
  std::vector<Link> links_;           // links_[i] belongs to nodes_[i]
  std::vector<std::uint32_t> free_;   // recycled entry indices
  FlowKeyHash hasher_;
  std::vector<Slot> slots_;           // power-of-two size, at most half full
  std::size_t live_ = 0;              // entries in slots_
  std::uint32_t head_ = kNil;         // most recently seen
  std::uint32_t tail_ = kNil;         // least recently seen
  std::uint32_t closed_head_ = kNil;  // closed longest ago
  std::uint32_t closed_tail_ = kNil;  // closed most recently
  // Mutable: counters() folds hot_ into counters_ when read.
  mutable util::Counters counters_;
  mutable std::array<std::uint64_t, static_cast<std::size_t>(Hot::kCount)> hot_{};
};

}  // namespace huginn::flow
