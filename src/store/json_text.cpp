#include "huginn/store/json_text.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>

#include "huginn/util/json_escape.hpp"
#include "store/json_text_builder.hpp"
#include "store/string_pool.hpp"

namespace huginn::store {

using detail::TextNode;

// One heap block: this header, then `pieces` TextNode pointers, then
// `pieces + 1` own-run lengths, then the own bytes. The text is own run 0,
// piece 0, own run 1, piece 1, ..., own run `pieces`.
struct JsonText::Rep {
  std::atomic<std::uint32_t> refs;
  std::uint32_t pieces;
  std::size_t size;  // bytes of the whole text

  [[nodiscard]] TextNode* const* piece() const { return reinterpret_cast<TextNode* const*>(this + 1); }
  [[nodiscard]] TextNode** piece() { return reinterpret_cast<TextNode**>(this + 1); }
  [[nodiscard]] const std::uint32_t* runs() const { return reinterpret_cast<const std::uint32_t*>(piece() + pieces); }
  [[nodiscard]] std::uint32_t* runs() { return reinterpret_cast<std::uint32_t*>(piece() + pieces); }
  [[nodiscard]] const char* own() const { return reinterpret_cast<const char*>(runs() + pieces + 1); }
  [[nodiscard]] char* own() { return reinterpret_cast<char*>(runs() + pieces + 1); }

  static std::size_t block_bytes(std::size_t pieces, std::size_t own) {
    return sizeof(Rep) + pieces * sizeof(TextNode*) + (pieces + 1) * sizeof(std::uint32_t) + own;
  }

  // Calls fn(std::string_view) on each non-empty stretch of the text in
  // order while it returns true; returns false if fn stopped it.
  template <typename Fn>
  bool for_each(Fn&& fn) const {
    const char* p = own();
    for (std::uint32_t i = 0; i <= pieces; ++i) {
      const std::string_view run(p, runs()[i]);
      p += run.size();
      if (!run.empty() && !fn(run)) return false;
      if (i == pieces) break;
      const std::string_view shared = piece()[i]->text();
      if (!shared.empty() && !fn(shared)) return false;
    }
    return true;
  }
};

namespace {

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// `lower_needle` is already folded.
bool icontains(std::string_view haystack, std::string_view lower_needle) {
  if (lower_needle.size() > haystack.size()) return false;
  const auto it = std::search(haystack.begin(), haystack.end(), lower_needle.begin(), lower_needle.end(),
                              [](char h, char n) { return ascii_lower(h) == n; });
  return it != haystack.end();
}

}  // namespace

JsonText::JsonText(const JsonText& other) noexcept : rep_(other.rep_) {
  if (rep_ != nullptr) rep_->refs.fetch_add(1, std::memory_order_relaxed);
}

JsonText& JsonText::operator=(const JsonText& other) noexcept {
  JsonText copy(other);
  std::swap(rep_, copy.rep_);
  return *this;
}

JsonText& JsonText::operator=(JsonText&& other) noexcept {
  JsonText moved(std::move(other));
  std::swap(rep_, moved.rep_);
  return *this;
}

JsonText::~JsonText() {
  if (rep_ == nullptr || rep_->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  for (std::uint32_t i = 0; i < rep_->pieces; ++i) rep_->piece()[i]->release();
  rep_->~Rep();
  ::operator delete(rep_);
}

std::size_t JsonText::size() const { return rep_ == nullptr ? 0 : rep_->size; }

std::size_t JsonText::shared_pieces() const { return rep_ == nullptr ? 0 : rep_->pieces; }

std::size_t JsonText::own_bytes() const {
  if (rep_ == nullptr) return 0;
  std::size_t own = 0;
  for (std::uint32_t i = 0; i <= rep_->pieces; ++i) own += rep_->runs()[i];
  return Rep::block_bytes(rep_->pieces, own);
}

void JsonText::append_to(std::string& out) const {
  if (rep_ == nullptr) return;
  out.reserve(out.size() + rep_->size);
  rep_->for_each([&](std::string_view s) {
    out.append(s);
    return true;
  });
}

std::string JsonText::str() const {
  std::string out;
  append_to(out);
  return out;
}

bool JsonText::contains_ci(std::string_view needle) const {
  if (needle.empty()) return true;
  if (rep_ == nullptr || needle.size() > rep_->size) return false;
  std::string lower(needle);
  for (char& c : lower) c = ascii_lower(c);
  // A match spanning stretches starts in the last needle.size() - 1 bytes
  // before a stretch and ends in its first needle.size() - 1 (or, when the
  // stretch is shorter, later: it is then found at a later boundary, the
  // carried bytes accumulating across short stretches).
  const std::size_t keep = lower.size() - 1;
  std::string window;
  return !rep_->for_each([&](std::string_view s) {
    if (keep > 0 && !window.empty()) {
      const std::size_t carried = window.size();
      window.append(s.substr(0, keep));
      if (icontains(window, lower)) return false;
      window.resize(carried);
    }
    if (icontains(s, lower)) return false;
    if (keep > 0) {
      if (s.size() >= keep) {
        window.assign(s.substr(s.size() - keep));
      } else {
        window.append(s);
        if (window.size() > keep) window.erase(0, window.size() - keep);
      }
    }
    return true;
  });
}

namespace detail {

void JsonTextBuilder::end_shared() {
  if (!sharing_) return;
  sharing_ = false;
  if (shared_from_ == buf_.size()) return;
  Atom piece = pool_.intern(std::string_view(buf_).substr(shared_from_));
  buf_.resize(shared_from_);
  add_piece(std::move(piece));
}

void JsonTextBuilder::add_piece(Atom piece) { pieces_.emplace_back(buf_.size(), std::move(piece)); }

void JsonTextBuilder::put_string(const Atom& a) {
  // Below this a reference (a pointer and a run length, and a shared
  // stretch cut in two) costs more than the bytes.
  constexpr std::size_t kMinReferenced = 8;
  const std::string_view text = a.view();
  if (!a.has_value()) {
    buf_ += "null";
  } else if (text.size() < kMinReferenced || !util::json_plain(text)) {
    util::append_json_string(buf_, text);
  } else {
    buf_ += '"';
    const bool was_sharing = sharing_;
    end_shared();
    add_piece(a);
    if (was_sharing) begin_shared();
    buf_ += '"';
  }
}

JsonText JsonTextBuilder::finish() {
  end_shared();
  const std::size_t n = pieces_.size();
  std::size_t total = buf_.size();
  for (const auto& p : pieces_) total += p.second.view().size();
  void* block = ::operator new(JsonText::Rep::block_bytes(n, buf_.size()));
  auto* rep = new (block) JsonText::Rep{{1}, static_cast<std::uint32_t>(n), total};
  std::size_t at = 0;
  for (std::size_t i = 0; i < n; ++i) {
    rep->runs()[i] = static_cast<std::uint32_t>(pieces_[i].first - at);
    at = pieces_[i].first;
    rep->piece()[i] = pieces_[i].second.take();
  }
  rep->runs()[n] = static_cast<std::uint32_t>(buf_.size() - at);
  if (!buf_.empty()) std::memcpy(rep->own(), buf_.data(), buf_.size());
  pieces_.clear();
  buf_.clear();
  sharing_ = false;
  return JsonText(rep);
}

}  // namespace detail

}  // namespace huginn::store
