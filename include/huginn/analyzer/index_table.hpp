#pragma once
// Open-addressing hash index from a key's 64-bit hash to a dense slot
// number (an index into a vector the caller owns, which holds the keys).
//
// Why not std::unordered_map: with 100k+ hosts every lookup there costs a
// modulo plus two dependent cache misses (bucket, then node) before the
// entry itself is touched. Here a probe reads one 8-byte slot; the caller's
// equality callback then reads the entry it was about to use anyway.
//
// Linear probing, load factor at most 1/2, deletion by backward shift (no
// tombstones), so probe sequences stay short under churn. Slots keep the
// low 32 bits of the hash: enough to place entries in tables of up to 2^32
// slots and to skip most non-matching entries without touching them.
//
// Invariant: every stored value is unique and not kNil.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace huginn::analyzer {

class IndexTable {
 public:
  static constexpr std::uint32_t kNil = 0xFFFFFFFFu;

  // expected: entry count to size for without growing.
  explicit IndexTable(std::size_t expected = 0) { rebuild(capacity_for(expected)); }

  [[nodiscard]] std::size_t size() const { return size_; }

  // The value whose entry `eq(value)` accepts among those stored with this
  // hash, or kNil.
  template <class Eq>
  [[nodiscard]] std::uint32_t find(std::uint64_t hash, Eq&& eq) const {
    const auto tag = static_cast<std::uint32_t>(hash);
    for (std::size_t i = tag & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == kNil) return kNil;
      if (s.tag == tag && eq(s.value)) return s.value;
    }
  }

  // `value` must not be stored already.
  void insert(std::uint64_t hash, std::uint32_t value) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    place(static_cast<std::uint32_t>(hash), value);
    ++size_;
  }

  // Removes `value`, stored under `hash`. Returns false if it is not there.
  bool erase(std::uint64_t hash, std::uint32_t value) {
    const auto tag = static_cast<std::uint32_t>(hash);
    std::size_t i = tag & mask_;
    while (slots_[i].value != value) {
      if (slots_[i].value == kNil) return false;
      i = (i + 1) & mask_;
    }
    // Backward shift: move later members of the run into the hole when
    // their home slot is at or before it (cyclically), so every remaining
    // entry stays reachable from its home without tombstones.
    std::size_t hole = i;
    for (std::size_t j = (i + 1) & mask_; slots_[j].value != kNil; j = (j + 1) & mask_) {
      const std::size_t home = slots_[j].tag & mask_;
      if (((j - home) & mask_) >= ((j - hole) & mask_)) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Slot{};
    --size_;
    return true;
  }

 private:
  struct Slot {
    std::uint32_t tag = 0;
    std::uint32_t value = kNil;
  };

  static std::size_t capacity_for(std::size_t entries) {
    return std::bit_ceil(std::max<std::size_t>(16, entries * 2));
  }

  void rebuild(std::size_t capacity) {
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
  }

  void place(std::uint32_t tag, std::uint32_t value) {
    std::size_t i = tag & mask_;
    while (slots_[i].value != kNil) i = (i + 1) & mask_;
    slots_[i] = Slot{tag, value};
  }

  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    rebuild(old.size() * 2);
    for (const Slot& s : old) {
      if (s.value != kNil) place(s.tag, s.value);
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace huginn::analyzer
