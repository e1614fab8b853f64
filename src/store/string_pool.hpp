#pragma once
// Interned strings shared by the writer-side profile aggregates and by the
// JSON texts of the revisions readers hold.
//
// Most profile fields repeat across hosts (p0f signatures and labels, JA4
// strings, Akamai fingerprints, popular User-Agents), and so do whole
// rendered JSON sections, so each is stored once here and referenced by
// pointer (docs/store.md, "Memory"). A unique User-Agent or path is stored
// once too: the aggregate's Atom and the revision's JsonText reference the
// same node.
//
// Thread ownership: interning, collect() and the pool's own bookkeeping
// are the store's writer's (under its writer mutex). A node's reference
// count is atomic because the last reference to a revision — and with it
// its JsonText's references — may be dropped by any reader thread. The
// pool holds one reference to every node it indexes, so a reader never
// frees an indexed node: collect() frees, on the writer, the nodes only the
// pool still references. A node outliving the pool (a revision held after
// the store was destroyed) is freed by its last holder.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_set>
#include <utility>

namespace huginn::store::detail {

// One pooled text: its reference count, its length, then its bytes.
struct TextNode {
  std::atomic<std::uint32_t> refs;
  std::uint32_t size;

  [[nodiscard]] std::string_view text() const { return {reinterpret_cast<const char*>(this + 1), size}; }
  // Another reference, from a holder of one.
  void retain() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
  // Drops one reference; frees the node if it was the last (the pool's
  // already gone).
  void release() noexcept;
};

// A counted reference to one pooled string; null means "absent", which is
// distinct from the empty string.
class Atom {
 public:
  Atom() = default;
  Atom(const Atom& other) noexcept : node_(other.node_) {
    if (node_ != nullptr) node_->retain();
  }
  Atom(Atom&& other) noexcept : node_(std::exchange(other.node_, nullptr)) {}
  Atom& operator=(Atom other) noexcept {
    std::swap(node_, other.node_);
    return *this;
  }
  ~Atom() { reset(); }

  void reset() noexcept {
    if (node_ != nullptr) std::exchange(node_, nullptr)->release();
  }
  [[nodiscard]] bool has_value() const { return node_ != nullptr; }
  // Empty for a null Atom.
  [[nodiscard]] std::string_view view() const { return node_ != nullptr ? node_->text() : std::string_view(); }
  // One pool holds each text once, so equal nodes mean equal text.
  friend bool operator==(const Atom& a, const Atom& b) { return a.node_ == b.node_; }
  // Hands this reference over to the caller (who must release() it).
  [[nodiscard]] TextNode* take() noexcept { return std::exchange(node_, nullptr); }

 private:
  friend class StringPool;
  explicit Atom(TextNode* node) : node_(node) {}
  TextNode* node_ = nullptr;
};

class StringPool {
 public:
  StringPool() = default;
  StringPool(const StringPool&) = delete;
  StringPool& operator=(const StringPool&) = delete;
  ~StringPool();

  // Texts are at most 4 GiB - 1 bytes (longer ones are cut; the store's
  // inputs are bounded far below that).
  [[nodiscard]] Atom intern(std::string_view text);
  // Frees the nodes nobody but the pool references any more.
  void collect();
  // collect() once the pool has doubled since the last collection: the
  // unreferenced nodes kept meanwhile are at most as many as the live ones,
  // and the cost is amortised O(1) per interned string.
  void maybe_collect() {
    if (nodes_.size() >= collect_at_) collect();
  }
  [[nodiscard]] std::size_t size() const { return nodes_.size(); }
  // Heap bytes held by pooled texts (approximate: node, text, set entry).
  [[nodiscard]] std::size_t bytes() const { return bytes_; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    std::size_t operator()(const TextNode* n) const noexcept { return (*this)(n->text()); }
  };
  struct Equal {
    using is_transparent = void;
    static std::string_view text(std::string_view s) { return s; }
    static std::string_view text(const TextNode* n) { return n->text(); }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const noexcept {
      return text(a) == text(b);
    }
  };
  static constexpr std::size_t kMinCollect = 4096;

  std::unordered_set<TextNode*, Hash, Equal> nodes_;
  std::size_t bytes_ = 0;
  std::size_t collect_at_ = kMinCollect;
};

}  // namespace huginn::store::detail
