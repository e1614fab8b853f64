#include "server/detail/h2_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace huginn::server::detail {
namespace {

std::size_t page_size() {
  static const auto size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

bool all_zero(const unsigned char* p, std::size_t n) {
  // Word at a time: the pages are page-aligned, n a multiple of 8.
  for (std::size_t i = 0; i < n; i += sizeof(std::uint64_t)) {
    std::uint64_t w = 0;
    std::memcpy(&w, p + i, sizeof w);
    if (w != 0) return false;
  }
  return true;
}

}  // namespace

H2Memory::H2Memory() {
  mem_.mem_user_data = this;
  mem_.malloc = &H2Memory::do_malloc;
  mem_.free = &H2Memory::do_free;
  mem_.calloc = &H2Memory::do_calloc;
  mem_.realloc = &H2Memory::do_realloc;
}

// nghttp2_session_del frees every block first; this only covers a session
// whose construction failed half-way.
H2Memory::~H2Memory() {
  for (std::size_t i = 0; i < paged_count_; ++i) std::free(paged_[i].ptr);
}

bool H2Memory::has_frame_buffer() const {
  return std::any_of(paged_, paged_ + paged_count_, [](const Block& b) { return b.frame; });
}

H2Memory::Block* H2Memory::find(const void* ptr) {
  for (std::size_t i = 0; i < paged_count_; ++i) {
    if (paged_[i].ptr == ptr) return &paged_[i];
  }
  return nullptr;
}

void* H2Memory::allocate(std::size_t size) {
  if (!constructing_ || paged_count_ == kMaxPaged || size < page_size()) return std::malloc(size);
  const bool frame = size >= kFrameMin;
  // A second block that large would be no frame buffer nghttp2 1.52 makes.
  if (frame && has_frame_buffer()) return std::malloc(size);
  // Page-aligned, so that its whole pages hold nothing but this block. The
  // heap rather than mmap: no system call and no mapping per connection.
  void* p = nullptr;
  if (::posix_memalign(&p, page_size(), size) != 0) return nullptr;
  paged_[paged_count_++] = Block{p, size, frame};
  return p;
}

void* H2Memory::do_malloc(std::size_t size, void* self) {
  return static_cast<H2Memory*>(self)->allocate(size);
}

void H2Memory::do_free(void* ptr, void* self) {
  auto* m = static_cast<H2Memory*>(self);
  if (Block* b = m->find(ptr)) {
    *b = m->paged_[--m->paged_count_];
    m->paged_[m->paged_count_] = Block{};
  }
  std::free(ptr);
}

void* H2Memory::do_calloc(std::size_t n, std::size_t size, void* self) {
  auto* m = static_cast<H2Memory*>(self);
  if (!m->constructing_) return std::calloc(n, size);
  if (size != 0 && n > static_cast<std::size_t>(-1) / size) return nullptr;
  void* p = m->allocate(n * size);
  if (p != nullptr) std::memset(p, 0, n * size);
  return p;
}

void* H2Memory::do_realloc(void* ptr, std::size_t size, void* self) {
  auto* m = static_cast<H2Memory*>(self);
  // nghttp2_buf_init2 allocates the frame buffer as realloc(NULL, size).
  if (ptr == nullptr) return m->allocate(size);
  const Block* b = m->find(ptr);
  if (b == nullptr) return std::realloc(ptr, size);
  // Not done by nghttp2 1.52 to these blocks; handled all the same: the
  // block moves to the heap and is no longer paged.
  void* q = std::malloc(size);
  if (q == nullptr) return nullptr;
  std::memcpy(q, ptr, std::min(size, b->size));
  do_free(ptr, self);
  return q;
}

void H2Memory::release_idle_pages() {
  if (!dirty_) return;
  dirty_ = false;
  const std::size_t page = page_size();
  for (std::size_t i = 0; i < paged_count_; ++i) {
    auto* p = static_cast<unsigned char*>(paged_[i].ptr);
    const std::size_t whole = paged_[i].size / page * page;
    // Failure leaves pages resident, which is only a missed saving.
    if (paged_[i].frame) {
      if (whole > 0) (void)::madvise(p, whole, MADV_DONTNEED);
      continue;
    }
    for (std::size_t off = 0; off < whole; off += page) {
      if (all_zero(p + off, page)) (void)::madvise(p + off, page, MADV_DONTNEED);
    }
  }
}

}  // namespace huginn::server::detail
