#pragma once
// PcapWriter: writes classic libpcap capture files (magic 0xa1b2c3d4,
// version 2.4, microsecond timestamps, host byte order as libpcap writes
// them) through buffered stdio, without libpcap. Used by tests to turn
// builder output into captures and by the benchmark generator, which
// writes millions of frames.
//
// Not thread-safe; one writer per file.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace huginn::test {

// Values of the pcap file header "network" field (tcpdump.org linktypes).
enum class LinkType : std::uint32_t {
  kNull = 0,        // BSD loopback: 4-byte host-order address family
  kEthernet = 1,    // Ethernet II (optionally 802.1Q-tagged)
  kRaw = 101,       // bare IPv4/IPv6 packet, version from the first nibble
  kLinuxSll = 113,  // Linux "cooked" capture v1
};

class PcapWriter {
 public:
  PcapWriter() = default;
  PcapWriter(PcapWriter&&) noexcept = default;
  PcapWriter& operator=(PcapWriter&&) noexcept = default;
  ~PcapWriter();

  // Creates (truncates) path and writes the file header. Returns false and
  // leaves the writer closed if the file cannot be created or written;
  // error() then says why.
  bool open(const std::filesystem::path& path, LinkType link, std::uint32_t snaplen = 65535);

  // Appends one record. ts_us: microseconds since the Unix epoch. The
  // record's caplen is min(frame.size(), snaplen); orig_len defaults to
  // frame.size() (pass a larger value to describe a snaplen-cut packet).
  // Returns false on an I/O error or when the writer is not open.
  bool write(std::int64_t ts_us, std::span<const std::uint8_t> frame,
             std::uint32_t orig_len = 0);

  // Flushes and closes; false if any write or the close failed. Idempotent.
  bool close();

  [[nodiscard]] bool is_open() const { return file_ != nullptr; }
  [[nodiscard]] std::uint64_t records() const { return records_; }
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const;
  };
  std::vector<char> buffer_;  // stdio buffer; declared first so it outlives file_
  std::unique_ptr<std::FILE, FileCloser> file_;
  std::uint32_t snaplen_ = 65535;
  std::uint64_t records_ = 0;
  bool failed_ = false;
  std::string error_;
};

// Convenience for tests: writes every frame with timestamps start_us,
// start_us + step_us, ... Returns false on any I/O error.
bool write_pcap(const std::filesystem::path& path, LinkType link,
                const std::vector<std::vector<std::uint8_t>>& frames,
                std::int64_t start_us = 1'700'000'000'000'000, std::int64_t step_us = 1000);

}  // namespace huginn::test
