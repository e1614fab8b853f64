#pragma once
// A profile revision's JSON text, stored as a rope of shared pieces
// (docs/store.md, "Memory").
//
// Most of a full profile's ~2.4 KB of JSON is byte for byte the same on
// many hosts: a p0f signature section, a TLS section with its JA4_r and
// JA4_ro, an HTTP/2 section, a popular User-Agent. A JsonText keeps those
// pieces as references to interned, reference-counted texts shared by all
// revisions, and only the bytes unique to the revision (address, sequence
// number, times, counts, uptime, history) in its own block. The text it
// stands for is the same bytes a single string would hold.
//
// Immutable once built (by the store's writer). Thread-safe to read, copy
// and destroy from any thread; copies share the same block.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace huginn::store {

namespace detail {
class JsonTextBuilder;
}

class JsonText {
 public:
  JsonText() = default;  // the empty text
  JsonText(const JsonText& other) noexcept;
  JsonText& operator=(const JsonText& other) noexcept;
  JsonText(JsonText&& other) noexcept : rep_(other.rep_) { other.rep_ = nullptr; }
  JsonText& operator=(JsonText&& other) noexcept;
  ~JsonText();

  // Bytes of the text.
  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] bool empty() const { return size() == 0; }
  // Appends the text to `out` (one reserve, then one copy per piece).
  void append_to(std::string& out) const;
  [[nodiscard]] std::string str() const;
  // Whether `needle` occurs in the text, ASCII letters compared without
  // case (other bytes as they are), a match spanning pieces included. An
  // empty needle always occurs. Reads the pieces in place: no copy of the
  // text is made.
  [[nodiscard]] bool contains_ci(std::string_view needle) const;
  // Pieces held by reference, and the bytes of this text's own block (the
  // header, the references and the unshared bytes): memory figures, tests.
  [[nodiscard]] std::size_t shared_pieces() const;
  [[nodiscard]] std::size_t own_bytes() const;

 private:
  friend class detail::JsonTextBuilder;
  struct Rep;
  explicit JsonText(Rep* rep) : rep_(rep) {}
  Rep* rep_ = nullptr;
};

}  // namespace huginn::store
