#include "huginn/flow/stream_prefix.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace huginn::flow {

StreamPrefix::StreamPrefix(StreamPrefixConfig config) : config_(config) {
  if (config_.max_bytes == 0) config_.max_bytes = 1;
}

bool StreamPrefix::start_at(std::uint32_t seq) {
  if (start_) return false;
  start_ = seq;
  high_seq_ = seq;
  high_rel_ = 0;
  return true;
}

void StreamPrefix::allocate() {
  // Sized once; reset() keeps this memory, so a recycled stream never
  // allocates again (unless release() freed it). The data bytes are left
  // uninitialised: a byte is read only once its bit in bits_ is set, i.e.
  // after it was written, and most streams use a few KiB of the buffer,
  // whose other pages are then never touched.
  if (!data_) {
    data_.reset(new std::uint8_t[config_.max_bytes]);
    bits_.assign((config_.max_bytes + 63) / 64, 0);
  }
}

void StreamPrefix::mark_range(std::size_t from, std::size_t to) {
  // Whole words at once: the bits [from % 64, 64) of the first word, full
  // words, then the bits [0, to % 64) of the last.
  while (from < to) {
    const std::size_t bit = from % 64;
    const std::size_t n = std::min<std::size_t>(64 - bit, to - from);
    const std::uint64_t ones = n == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
    bits_[from / 64] |= ones << bit;
    from += n;
  }
}

void StreamPrefix::merge(std::size_t from, std::size_t to, const std::uint8_t* src,
                         SegmentResult& r) {
  for (std::size_t i = from; i < to; ++i, ++src) {
    if (present(i)) {
      if (data_[i] == *src) {
        ++r.duplicate_bytes;
      } else {
        ++r.conflict_bytes;
      }
      continue;
    }
    data_[i] = *src;
    mark(i);
    ++r.new_bytes;
    ++held_;  // provisional: advance() moves it into the in-order part
  }
}

void StreamPrefix::advance() {
  // Walks set bits from the in-order end, a word at a time where possible.
  std::size_t i = contiguous_;
  const std::size_t n = config_.max_bytes;
  while (i < n) {
    const std::uint64_t w = bits_[i / 64] >> (i % 64);
    const auto run = static_cast<std::size_t>(std::countr_one(w));
    const std::size_t in_word = 64 - i % 64;
    i += std::min(run, in_word);
    if (run < in_word) break;
  }
  i = std::min(i, n);
  held_ -= i - contiguous_;
  contiguous_ = i;
}

SegmentResult StreamPrefix::add(std::uint32_t seq, std::span<const std::uint8_t> payload) {
  SegmentResult r;
  if (payload.empty()) return r;
  ++stats_.segments;
  if (gave_up() || stopped_) {
    r.ignored_bytes = static_cast<std::uint32_t>(payload.size());
    stats_.ignored_bytes += r.ignored_bytes;
    return r;
  }
  if (!start_) start_at(seq);

  const auto n = static_cast<std::int64_t>(config_.max_bytes);
  const auto len = static_cast<std::int64_t>(payload.size());
  // RFC 9293 §3.4: sequence numbers are compared modulo 2^32; the signed
  // difference from the highest end seen places the segment on a 64-bit
  // line that never wraps.
  const std::int64_t rel = high_rel_ + static_cast<std::int32_t>(seq - high_seq_);
  const std::int64_t end = rel + len;
  const bool gap_was_open = gap_open();
  const std::size_t contiguous_before = contiguous_;

  if (rel < 0) r.before_start_bytes = static_cast<std::uint32_t>(std::min(len, -rel));
  const std::int64_t beyond_from = std::max({rel, n, high_rel_});
  if (end > beyond_from) r.beyond_prefix_bytes = static_cast<std::uint32_t>(end - beyond_from);
  if (end > high_rel_) {
    high_rel_ = end;
    high_seq_ = seq + static_cast<std::uint32_t>(payload.size());
  }

  const std::int64_t lo = std::max<std::int64_t>(rel, 0);
  const std::int64_t hi = std::min(end, n);
  if (lo < hi) {
    allocate();
    const auto from = static_cast<std::size_t>(lo);
    const auto to = static_cast<std::size_t>(hi);
    const std::uint8_t* src = payload.data() + (lo - rel);
    if (from == contiguous_ && held_ == 0) {
      // In order with nothing held past it: one copy, no per-byte checks.
      std::memcpy(data_.get() + from, src, to - from);
      mark_range(from, to);
      contiguous_ = to;
      r.new_bytes = static_cast<std::uint32_t>(to - from);
    } else {
      merge(from, to, src, r);
      advance();
      r.held = r.new_bytes > 0 && from > contiguous_;
    }
  }
  r.contiguous_growth = static_cast<std::uint32_t>(contiguous_ - contiguous_before);
  r.filled = contiguous_before < config_.max_bytes && full();

  if (gap_open()) {
    if (gap_was_open && ++segments_past_gap_ >= config_.max_segments_past_gap) {
      give_up_ = GiveUpReason::kGapNotFilled;
      r.gave_up = true;
    }
  } else {
    segments_past_gap_ = 0;
  }

  stats_.new_bytes += r.new_bytes;
  stats_.duplicate_bytes += r.duplicate_bytes;
  stats_.conflict_bytes += r.conflict_bytes;
  if (r.conflict_bytes > 0) ++stats_.conflict_segments;
  stats_.beyond_prefix_bytes += r.beyond_prefix_bytes;
  stats_.before_start_bytes += r.before_start_bytes;
  if (r.held) ++stats_.held_segments;
  return r;
}

bool StreamPrefix::finish() {
  if (gave_up() || stopped_ || !gap_open()) return false;
  give_up_ = GiveUpReason::kGapAtClose;
  return true;
}

void StreamPrefix::consume(std::size_t n) {
  consumed_ = std::max(consumed_, std::min(n, contiguous_));
}

void StreamPrefix::release() {
  stopped_ = true;
  data_.reset();
  std::vector<std::uint64_t>().swap(bits_);
  // Nothing is stored any more: contiguous() is empty, and with high_rel_
  // back at 0 no gap reads as open (finish() would skip it anyway, as the
  // stream is stopped).
  contiguous_ = 0;
  held_ = 0;
  consumed_ = 0;
  high_rel_ = 0;
}

void StreamPrefix::reset() {
  // Every stored byte lies below min(high_rel_, max_bytes) (add() raises
  // high_rel_ to the end of each segment before storing it), so only the
  // words of the bitmap below that can have a bit set.
  const auto used = static_cast<std::size_t>(
      std::min<std::int64_t>(high_rel_, static_cast<std::int64_t>(config_.max_bytes)));
  std::fill_n(bits_.begin(), std::min(bits_.size(), (used + 63) / 64), std::uint64_t{0});
  start_.reset();
  contiguous_ = 0;
  held_ = 0;
  consumed_ = 0;
  high_rel_ = 0;
  high_seq_ = 0;
  segments_past_gap_ = 0;
  give_up_ = GiveUpReason::kNone;
  stopped_ = false;
  stats_ = {};
}

}  // namespace huginn::flow
