#include "pcap_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace huginn::test {
namespace {

// The file header and record headers are written in host byte order, which
// is how libpcap writes them; readers detect the order from the magic.
template <typename T>
void append_host(std::vector<std::uint8_t>& out, T v) {
  std::uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.insert(out.end(), b, b + sizeof(T));
}

constexpr std::uint32_t kMagicMicro = 0xa1b2c3d4;
constexpr std::size_t kStdioBuffer = 1 << 20;

}  // namespace

void PcapWriter::FileCloser::operator()(std::FILE* f) const {
  if (f) std::fclose(f);
}

PcapWriter::~PcapWriter() { close(); }

bool PcapWriter::open(const std::filesystem::path& path, LinkType link, std::uint32_t snaplen) {
  close();
  failed_ = false;
  records_ = 0;
  error_.clear();
  snaplen_ = snaplen;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    error_ = path.string() + ": " + std::strerror(errno);
    return false;
  }
  file_.reset(f);
  buffer_.assign(kStdioBuffer, 0);
  std::setvbuf(f, buffer_.data(), _IOFBF, buffer_.size());

  std::vector<std::uint8_t> hdr;
  append_host<std::uint32_t>(hdr, kMagicMicro);
  append_host<std::uint16_t>(hdr, 2);  // version major
  append_host<std::uint16_t>(hdr, 4);  // version minor
  append_host<std::int32_t>(hdr, 0);   // thiszone
  append_host<std::uint32_t>(hdr, 0);  // sigfigs
  append_host<std::uint32_t>(hdr, snaplen);
  append_host<std::uint32_t>(hdr, static_cast<std::uint32_t>(link));
  if (std::fwrite(hdr.data(), 1, hdr.size(), f) != hdr.size()) {
    error_ = path.string() + ": write failed";
    file_.reset();
    return false;
  }
  return true;
}

bool PcapWriter::write(std::int64_t ts_us, std::span<const std::uint8_t> frame,
                       std::uint32_t orig_len) {
  if (!file_ || failed_) return false;
  const auto caplen =
      static_cast<std::uint32_t>(std::min<std::size_t>(frame.size(), snaplen_));
  if (orig_len == 0) orig_len = static_cast<std::uint32_t>(frame.size());
  std::uint8_t rec[16];
  const auto sec = static_cast<std::uint32_t>(ts_us / 1'000'000);
  const auto usec = static_cast<std::uint32_t>(ts_us % 1'000'000);
  std::memcpy(rec, &sec, 4);
  std::memcpy(rec + 4, &usec, 4);
  std::memcpy(rec + 8, &caplen, 4);
  std::memcpy(rec + 12, &orig_len, 4);
  if (std::fwrite(rec, 1, sizeof rec, file_.get()) != sizeof rec ||
      std::fwrite(frame.data(), 1, caplen, file_.get()) != caplen) {
    failed_ = true;
    error_ = "write failed";
    return false;
  }
  ++records_;
  return true;
}

bool PcapWriter::close() {
  if (!file_) return !failed_;
  bool ok = !failed_ && std::fflush(file_.get()) == 0;
  ok = (std::fclose(file_.release()) == 0) && ok;
  if (!ok && error_.empty()) error_ = "flush/close failed";
  failed_ = !ok;
  return ok;
}

bool write_pcap(const std::filesystem::path& path, LinkType link,
                const std::vector<std::vector<std::uint8_t>>& frames, std::int64_t start_us,
                std::int64_t step_us) {
  PcapWriter w;
  if (!w.open(path, link)) return false;
  std::int64_t ts = start_us;
  for (const auto& f : frames) {
    if (!w.write(ts, f)) return false;
    ts += step_us;
  }
  return w.close();
}

}  // namespace huginn::test
