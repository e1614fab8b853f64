#pragma once
// Interned strings for the writer-side profile aggregates.
//
// Most profile fields repeat across hosts (p0f signatures and labels, JA4
// strings, Akamai fingerprints, popular User-Agents), so each aggregate
// keeps one pointer per field and the text lives once in the pool. This is
// what keeps a full profile's aggregate near 300 bytes (docs/store.md,
// "Memory").
//
// Thread ownership: the store's writer only. Reference counts are plain
// integers; every Atom is copied, assigned and destroyed under the store's
// writer mutex, and the pool outlives every Atom it handed out.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace huginn::store::detail {

class StringPool;

// A counted reference to one pooled string; null means "absent", which is
// distinct from the empty string.
class Atom {
 public:
  Atom() = default;
  Atom(const Atom& other) noexcept : node_(other.node_) {
    if (node_ != nullptr) ++node_->refs;
  }
  Atom(Atom&& other) noexcept : node_(std::exchange(other.node_, nullptr)) {}
  Atom& operator=(Atom other) noexcept {
    std::swap(node_, other.node_);
    return *this;
  }
  ~Atom() { reset(); }

  void reset() noexcept;
  [[nodiscard]] bool has_value() const { return node_ != nullptr; }
  // Empty for a null Atom.
  [[nodiscard]] std::string_view view() const {
    return node_ != nullptr ? std::string_view(node_->text) : std::string_view();
  }
  // One pool holds each text once, so equal nodes mean equal text.
  friend bool operator==(const Atom& a, const Atom& b) { return a.node_ == b.node_; }

 private:
  friend class StringPool;
  struct Node {
    StringPool* pool;
    std::uint32_t refs;
    std::string text;
  };
  explicit Atom(Node* node) : node_(node) {}
  Node* node_ = nullptr;
};

class StringPool {
 public:
  StringPool() = default;
  StringPool(const StringPool&) = delete;
  StringPool& operator=(const StringPool&) = delete;

  [[nodiscard]] Atom intern(std::string_view text);
  [[nodiscard]] std::size_t size() const { return nodes_.size(); }
  // Heap bytes held by distinct texts (approximate: text capacity + node).
  [[nodiscard]] std::size_t bytes() const { return bytes_; }

 private:
  friend class Atom;
  void erase(Atom::Node* node);

  // Keys view the node's own text, so a node must not move: unique_ptr.
  std::unordered_map<std::string_view, std::unique_ptr<Atom::Node>> nodes_;
  std::size_t bytes_ = 0;
};

}  // namespace huginn::store::detail
