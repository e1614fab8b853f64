#include "store/string_pool.hpp"

namespace huginn::store::detail {

namespace {
// A map node, the Node and its text's heap block; a rough figure for
// StoreCounters::approx_bytes, not an allocator's exact accounting.
std::size_t node_bytes(const std::string& text) {
  constexpr std::size_t kOverhead = 64 + sizeof(Atom) + 48;
  return kOverhead + (text.capacity() > 15 ? text.capacity() + 1 : 0);
}
}  // namespace

void Atom::reset() noexcept {
  if (node_ == nullptr) return;
  if (--node_->refs == 0) node_->pool->erase(node_);
  node_ = nullptr;
}

Atom StringPool::intern(std::string_view text) {
  if (const auto it = nodes_.find(text); it != nodes_.end()) {
    ++it->second->refs;
    return Atom(it->second.get());
  }
  auto node = std::make_unique<Atom::Node>(Atom::Node{this, 1, std::string(text)});
  Atom::Node* raw = node.get();
  bytes_ += node_bytes(raw->text);
  nodes_.emplace(std::string_view(raw->text), std::move(node));
  return Atom(raw);
}

void StringPool::erase(Atom::Node* node) {
  bytes_ -= node_bytes(node->text);
  // Erase by iterator: the key views the text that erasing frees.
  if (const auto it = nodes_.find(std::string_view(node->text)); it != nodes_.end()) nodes_.erase(it);
}

}  // namespace huginn::store::detail
