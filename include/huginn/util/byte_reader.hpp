#pragma once
// ByteReader: the one cursor every wire read goes through.
//
// Invariant: pos_ <= data_.size(). Every accessor checks bounds first and
// returns std::nullopt (or false) instead of reading past the end; a failed
// read leaves the cursor where it was. Integers are assembled from bytes in
// network order: no reinterpret_cast of packet memory to structs, so there
// are no unaligned or aliasing reads.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace huginn::util {

class ByteReader {
 public:
  using Bytes = std::span<const std::uint8_t>;

  constexpr ByteReader() = default;
  constexpr explicit ByteReader(Bytes data) : data_(data) {}

  [[nodiscard]] constexpr std::size_t remaining() const { return data_.size() - pos_; }
  [[nodiscard]] constexpr std::size_t position() const { return pos_; }
  [[nodiscard]] constexpr bool empty() const { return pos_ == data_.size(); }
  [[nodiscard]] constexpr Bytes rest() const { return data_.subspan(pos_); }

  constexpr std::optional<std::uint8_t> u8() {
    if (remaining() < 1) return std::nullopt;
    return data_[pos_++];
  }
  constexpr std::optional<std::uint16_t> be16() {
    if (remaining() < 2) return std::nullopt;
    const auto v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  constexpr std::optional<std::uint32_t> be24() {
    if (remaining() < 3) return std::nullopt;
    const std::uint32_t v = (std::uint32_t{data_[pos_]} << 16) |
                            (std::uint32_t{data_[pos_ + 1]} << 8) | data_[pos_ + 2];
    pos_ += 3;
    return v;
  }
  constexpr std::optional<std::uint32_t> be32() {
    if (remaining() < 4) return std::nullopt;
    const std::uint32_t v = (std::uint32_t{data_[pos_]} << 24) |
                            (std::uint32_t{data_[pos_ + 1]} << 16) |
                            (std::uint32_t{data_[pos_ + 2]} << 8) | data_[pos_ + 3];
    pos_ += 4;
    return v;
  }
  // Little-endian reads exist for capture-file and BSD NULL link headers,
  // which are host-order on the machine that wrote them.
  constexpr std::optional<std::uint32_t> le32() {
    if (remaining() < 4) return std::nullopt;
    const std::uint32_t v = (std::uint32_t{data_[pos_ + 3]} << 24) |
                            (std::uint32_t{data_[pos_ + 2]} << 16) |
                            (std::uint32_t{data_[pos_ + 1]} << 8) | data_[pos_];
    pos_ += 4;
    return v;
  }
  // The next n bytes as a span, consumed.
  constexpr std::optional<Bytes> bytes(std::size_t n) {
    if (remaining() < n) return std::nullopt;
    auto s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  // A reader bounded to the next n bytes, consumed from this one: nested
  // structures (record -> handshake -> extension) cannot read past their parent.
  constexpr std::optional<ByteReader> sub(std::size_t n) {
    auto s = bytes(n);
    if (!s) return std::nullopt;
    return ByteReader(*s);
  }
  [[nodiscard]] constexpr bool skip(std::size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }
  // Peek without consuming; offset is relative to the cursor.
  [[nodiscard]] constexpr std::optional<std::uint8_t> peek(std::size_t offset = 0) const {
    if (remaining() <= offset) return std::nullopt;
    return data_[pos_ + offset];
  }

 private:
  Bytes data_{};
  std::size_t pos_ = 0;
};

}  // namespace huginn::util
