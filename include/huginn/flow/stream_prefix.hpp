#pragma once
// StreamPrefix: the first max_bytes bytes (default limits::kMaxFlowData,
// p0f's MAX_FLOW_DATA) of ONE direction of a TCP stream, in sequence order.
// This is not general TCP reassembly: fingerprinting needs only the start of
// each direction (request line and headers, a ClientHello, an HTTP/2
// preface), so everything past the prefix is counted and dropped.
//
// Policies (docs/flows.md has the reasoning):
//  - Start point: start_at(ISN + 1) when the SYN was seen. Otherwise the
//    first data segment passed to add() fixes the start at its seq; bytes
//    that later turn up before that point are counted and dropped.
//  - Sequence numbers compare modulo 2^32 (RFC 9293 §3.4): each segment is
//    placed relative to the highest sequence number seen so far, so the
//    prefix works across the 2^32 wrap and on streams of any length.
//  - Overlaps: the first copy of a byte wins. Identical re-sent bytes are
//    duplicates; differing ones are conflicts, counted (once per segment in
//    conflict_segments, per byte in conflict_bytes) and ignored.
//  - Out of order: a segment that starts past the in-order end but inside
//    the window [start, start + max_bytes) is written at its offset and held
//    until the gap before it fills. Held and in-order bytes share the one
//    buffer, so at most max_bytes bytes are stored, held ones included.
//  - A gap that stays open for max_segments_past_gap later data segments, or
//    is still open when finish() is called (flow close or expiry), makes the
//    stream give up: contiguous() keeps what it had, and later bytes are
//    counted as ignored.
//
// Memory: buffer_bytes(config) once the first byte is stored (allocated
// then, kept across reset() so the flow table can recycle it, until
// release()); nothing is allocated per segment.
//
// Not thread-safe: one owner thread (the capture thread).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "huginn/util/limits.hpp"

namespace huginn::flow {

struct StreamPrefixConfig {
  // Bytes kept per direction; also the hard cap on bytes stored, held ones
  // included. Must be at least 1.
  std::size_t max_bytes = limits::kMaxFlowData;
  // Later data segments a gap may stay open across before the stream gives
  // up. Memory does not depend on this (held bytes live in the prefix
  // buffer); it bounds how long a parser waits on a hole that a lost
  // capture packet will never fill. 64 covers a full 64 KiB receive window
  // of 1 KiB segments sent before a fast retransmit arrives.
  std::uint32_t max_segments_past_gap = 64;
};

enum class GiveUpReason : std::uint8_t {
  kNone,
  kGapNotFilled,  // max_segments_past_gap later segments, gap still open
  kGapAtClose,    // finish() found a gap (the flow closed or expired)
};

// What one add() did. Byte counts add up to the payload length:
// new + duplicate + conflict + beyond_prefix + before_start + ignored, except
// that beyond_prefix counts only bytes past the highest sequence number seen
// before (a re-sent byte past the prefix is not counted twice) and such
// re-sent bytes appear in no field.
struct SegmentResult {
  std::uint32_t new_bytes = 0;            // stored now (in order or held)
  std::uint32_t contiguous_growth = 0;    // how far contiguous() grew
  std::uint32_t duplicate_bytes = 0;      // already stored, identical
  std::uint32_t conflict_bytes = 0;       // already stored, different: first copy kept
  std::uint32_t beyond_prefix_bytes = 0;  // first seen, past the prefix: dropped
  std::uint32_t before_start_bytes = 0;   // before the start point: dropped
  std::uint32_t ignored_bytes = 0;        // after give-up or stop(): dropped
  bool held = false;                      // stored past a gap
  bool gave_up = false;                   // this segment made the stream give up
  bool filled = false;                    // this segment made contiguous() reach max_bytes
};

// Running totals of SegmentResult over the stream's life since reset().
struct StreamStats {
  std::uint64_t segments = 0;  // add() calls with a non-empty payload
  std::uint64_t new_bytes = 0;
  std::uint64_t duplicate_bytes = 0;
  std::uint64_t conflict_bytes = 0;
  std::uint64_t conflict_segments = 0;
  std::uint64_t beyond_prefix_bytes = 0;
  std::uint64_t before_start_bytes = 0;
  std::uint64_t ignored_bytes = 0;
  std::uint64_t held_segments = 0;
};

class StreamPrefix {
 public:
  explicit StreamPrefix(StreamPrefixConfig config = {});

  // Fixes the sequence number of the first byte (ISN + 1 for a seen SYN).
  // Returns false, changing nothing, if the start is already fixed.
  bool start_at(std::uint32_t seq);

  // One segment's payload; `seq` is the sequence number of payload[0]
  // (for a SYN carrying data, ISN + 1). Never fails; every byte lands in
  // exactly one SegmentResult field or is a re-sent byte past the prefix.
  SegmentResult add(std::uint32_t seq, std::span<const std::uint8_t> payload);

  // The flow is closing or expiring: gives up if a gap is still open.
  // Returns true if it gave up now.
  bool finish();

  // A parser is done with the first n bytes of contiguous(): consumed()
  // becomes max(consumed(), min(n, contiguous().size())). The bytes stay
  // readable; the marker only lets a parser re-run from where it stopped.
  void consume(std::size_t n);
  // Nothing more is wanted from this direction: later bytes are counted as
  // ignored and not copied. contiguous() stays readable.
  void stop() { stopped_ = true; }
  // stop(), and nothing will read this direction again either: its buffers
  // are freed now rather than kept for the entry's next flow, so a flow
  // that stays open after its parser is done (an idle keep-alive
  // connection) holds none. contiguous() becomes empty and consumed() 0;
  // stats() stay. After reset() the next stored byte allocates again.
  void release();

  // Back to the state of a new stream with the same config, keeping the
  // buffers' memory for reuse.
  void reset();

  // The in-order bytes from the start point; size() <= max_bytes. Valid
  // until the next add() or reset().
  [[nodiscard]] std::span<const std::uint8_t> contiguous() const {
    return {data_.get(), contiguous_};
  }
  // contiguous() past the consumed marker.
  [[nodiscard]] std::span<const std::uint8_t> unconsumed() const {
    return contiguous().subspan(consumed_);
  }
  [[nodiscard]] std::size_t consumed() const { return consumed_; }
  // Bytes stored past a gap, waiting for it to fill.
  [[nodiscard]] std::size_t held_bytes() const { return held_; }
  // contiguous().size() + held_bytes(); never more than max_bytes.
  [[nodiscard]] std::size_t stored_bytes() const { return contiguous_ + held_; }

  [[nodiscard]] bool started() const { return start_.has_value(); }
  [[nodiscard]] std::optional<std::uint32_t> start_seq() const { return start_; }
  [[nodiscard]] bool full() const { return contiguous_ == config_.max_bytes; }
  // Bytes past the in-order end have been seen (stored or not) and the
  // prefix is not full yet.
  [[nodiscard]] bool gap_open() const {
    return contiguous_ < config_.max_bytes && high_rel_ > static_cast<std::int64_t>(contiguous_);
  }
  [[nodiscard]] bool gave_up() const { return give_up_ != GiveUpReason::kNone; }
  [[nodiscard]] GiveUpReason give_up_reason() const { return give_up_; }
  [[nodiscard]] bool stopped() const { return stopped_; }
  [[nodiscard]] const StreamStats& stats() const { return stats_; }
  [[nodiscard]] const StreamPrefixConfig& config() const { return config_; }

  // Heap bytes one stream uses at most: the data buffer plus one bit per
  // byte recording which held bytes are present.
  [[nodiscard]] static std::size_t buffer_bytes(const StreamPrefixConfig& config) {
    return config.max_bytes + (config.max_bytes + 63) / 64 * sizeof(std::uint64_t);
  }

 private:
  void allocate();
  [[nodiscard]] bool present(std::size_t i) const { return (bits_[i / 64] >> (i % 64)) & 1u; }
  void mark(std::size_t i) { bits_[i / 64] |= std::uint64_t{1} << (i % 64); }
  void mark_range(std::size_t from, std::size_t to);
  // Writes payload bytes for offsets [from, to) where no byte is stored yet
  // and compares the others (first copy wins).
  void merge(std::size_t from, std::size_t to, const std::uint8_t* src, SegmentResult& r);
  void advance();

  StreamPrefixConfig config_;
  // Sized max_bytes on the first stored byte. Invariant: bytes [0,
  // contiguous_) are all present; bits_ has a set bit for every stored byte.
  std::unique_ptr<std::uint8_t[]> data_;
  std::vector<std::uint64_t> bits_;
  std::optional<std::uint32_t> start_;
  std::size_t contiguous_ = 0;
  std::size_t held_ = 0;
  std::size_t consumed_ = 0;
  // Highest end (exclusive) seen, as an offset from the start point, and
  // the sequence number it corresponds to; new segments are placed relative
  // to it with a signed 32-bit difference (RFC 9293 §3.4 comparisons).
  std::int64_t high_rel_ = 0;
  std::uint32_t high_seq_ = 0;
  std::uint32_t segments_past_gap_ = 0;
  GiveUpReason give_up_ = GiveUpReason::kNone;
  bool stopped_ = false;
  StreamStats stats_;
};

}  // namespace huginn::flow
