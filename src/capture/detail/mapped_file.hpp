#pragma once
// MappedFile: a whole regular file mapped read-only (MAP_PRIVATE), for
// PcapSource's in-place reading of classic pcap files.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace huginn::capture::detail {

class MappedFile {
 public:
  // Maps `path`. Returns null when it is not a non-empty regular file or
  // cannot be opened, stat'ed or mapped; the caller then hands the path to
  // libpcap, which reads pipes, FIFOs and anything else through stdio and
  // words every open error itself. Sets MADV_SEQUENTIAL (aggressive
  // read-ahead, pages dropped behind the reader).
  static std::unique_ptr<MappedFile> map(const std::string& path);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  [[nodiscard]] std::span<const std::uint8_t> bytes() const { return {data_, size_}; }

  // Tells the mapping that nothing before `offset` will be read again and
  // that reading goes on sequentially from there. Every kWindowBytes it
  // prefaults the page tables of the window ahead (MADV_POPULATE_READ: one
  // call instead of a page fault every few pages) and unmaps the pages
  // behind (MADV_DONTNEED), so that our resident set stays about two
  // windows instead of growing to the file size; the page cache keeps the
  // data, and a dropped page that is touched again is simply re-read.
  // Cheap to call per frame: one comparison until a window is crossed.
  void advance(std::size_t offset) {
    if (offset >= next_advice_) advise(offset);
  }

  // 4 MiB: a few hundred syscalls for a multi-gigabyte file, while the
  // prefaulted window stays well inside the L2/L3-sized working set.
  static constexpr std::size_t kWindowBytes = std::size_t{4} << 20;

 private:
  MappedFile(void* addr, std::size_t size);
  void advise(std::size_t offset);

  void* addr_;
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t next_advice_ = 0;   // offset at which advance() acts next
  std::size_t dropped_ = 0;       // bytes [0, dropped_) already unmapped
  std::size_t populated_ = 0;     // bytes [0, populated_) already prefaulted
};

}  // namespace huginn::capture::detail
