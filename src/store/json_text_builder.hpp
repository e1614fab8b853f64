#pragma once
// Builds a JsonText (include/huginn/store/json_text.hpp) on the store's
// writer side: the JSON is written into out() as if into one string, and
// the writer marks which stretches are shareable (the same on many hosts).
// Each shareable stretch is interned in the StringPool and kept by
// reference; the bytes outside them are the revision's own.
//
// Thread ownership: the store's writer only (it interns).
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "huginn/store/json_text.hpp"
#include "store/string_pool.hpp"

namespace huginn::store::detail {

class JsonTextBuilder {
 public:
  explicit JsonTextBuilder(StringPool& pool) : pool_(pool) { buf_.reserve(1024); }

  [[nodiscard]] std::string& out() { return buf_; }
  // Bytes written from here to end_shared() (or to the next cut) form
  // shared pieces. Not nested.
  void begin_shared() {
    sharing_ = true;
    shared_from_ = buf_.size();
  }
  // Ends the shared stretch; its bytes become one interned piece.
  void end_shared();
  // end_shared() then begin_shared(): the bytes before and after become
  // separate pieces, so each is shared with every host that has it, in any
  // combination with the other.
  void cut() {
    end_shared();
    begin_shared();
  }
  // A quoted JSON string of `a`'s text (`null` when absent). A text that
  // needs no escaping is referenced, not copied: a unique User-Agent, path
  // or SNI is then stored once, in the pool, for the aggregate and every
  // revision.
  void put_string(const Atom& a);

  // The text; the builder is empty afterwards.
  [[nodiscard]] JsonText finish();

 private:
  void add_piece(Atom piece);

  StringPool& pool_;
  std::string buf_;                                     // the revision's own bytes
  std::vector<std::pair<std::size_t, Atom>> pieces_;    // (offset in buf_ where it goes, piece)
  std::size_t shared_from_ = 0;
  bool sharing_ = false;
};

}  // namespace huginn::store::detail
