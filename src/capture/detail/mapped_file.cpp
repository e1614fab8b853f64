#include "capture/detail/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <limits>

namespace huginn::capture::detail {

MappedFile::MappedFile(void* addr, std::size_t size)
    : addr_(addr), data_(static_cast<const std::uint8_t*>(addr)), size_(size) {}

MappedFile::~MappedFile() { munmap(addr_, size_); }

void MappedFile::advise(std::size_t offset) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  // Behind: whole pages before the one holding `offset`.
  const std::size_t behind = offset / page * page;
  if (behind > dropped_) {
    (void)madvise(static_cast<std::uint8_t*>(addr_) + dropped_, behind - dropped_, MADV_DONTNEED);
    dropped_ = behind;
  }
  // Ahead: up to two windows past `offset`, from the page where the last
  // call ended: madvise(2) takes a page-aligned start and fails with EINVAL
  // otherwise, which would leave every later page to fault in on its own.
  // Both calls are advice; a kernel without MADV_POPULATE_READ (before
  // Linux 5.14) refuses it and the pages fault in one by one instead.
  const std::size_t start = std::max(populated_ / page * page, behind);
  const std::size_t end = std::min(size_, offset + 2 * kWindowBytes);
  if (end > start) {
    (void)madvise(static_cast<std::uint8_t*>(addr_) + start, end - start, MADV_POPULATE_READ);
    populated_ = end;
  }
  next_advice_ = offset + kWindowBytes;
}

std::unique_ptr<MappedFile> MappedFile::map(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused
  // below); it changes nothing for a regular file, which is only mapped.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return nullptr;
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
      static_cast<std::uintmax_t>(st.st_size) > std::numeric_limits<std::size_t>::max()) {
    ::close(fd);
    return nullptr;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  void* addr = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  // The mapping keeps its own reference to the file.
  ::close(fd);
  if (addr == MAP_FAILED) return nullptr;
  // Advice only; reading works the same if it is refused.
  (void)madvise(addr, size, MADV_SEQUENTIAL);
  return std::unique_ptr<MappedFile>(new MappedFile(addr, size));
}

}  // namespace huginn::capture::detail
