#include "store/string_pool.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>

namespace huginn::store::detail {

namespace {

void destroy(TextNode* node) {
  node->~TextNode();
  ::operator delete(node);
}

// The node's heap block and its set entry (node, bucket); a rough figure
// for StoreCounters::approx_bytes, not an allocator's exact accounting.
std::size_t node_bytes(std::size_t size) { return 32 + 8 + ((sizeof(TextNode) + size + 8 + 15) & ~std::size_t{15}); }

}  // namespace

void TextNode::release() noexcept {
  if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy(this);
}

StringPool::~StringPool() {
  for (TextNode* node : nodes_) node->release();
}

Atom StringPool::intern(std::string_view text) {
  text = text.substr(0, std::numeric_limits<std::uint32_t>::max() - 1);
  if (const auto it = nodes_.find(text); it != nodes_.end()) {
    (*it)->retain();
    return Atom(*it);
  }
  void* block = ::operator new(sizeof(TextNode) + text.size());
  // Two references: the pool's and the returned Atom's.
  auto* node = new (block) TextNode{{2}, static_cast<std::uint32_t>(text.size())};
  if (!text.empty()) std::memcpy(static_cast<char*>(block) + sizeof(TextNode), text.data(), text.size());
  nodes_.insert(node);
  bytes_ += node_bytes(text.size());
  return Atom(node);
}

void StringPool::collect() {
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    TextNode* node = *it;
    // Only the pool holds it, and only this thread (the writer) could take
    // a new reference: 1 -> 0 cannot race with anyone. Acquire: every
    // holder's reads of the text happened before its release.
    std::uint32_t only_pool = 1;
    if (node->refs.compare_exchange_strong(only_pool, 0, std::memory_order_acquire, std::memory_order_relaxed)) {
      bytes_ -= node_bytes(node->size);
      it = nodes_.erase(it);  // hashes the text: erase before freeing it
      destroy(node);
    } else {
      ++it;
    }
  }
  collect_at_ = std::max(kMinCollect, 2 * nodes_.size());
}

}  // namespace huginn::store::detail
