#pragma once
// PcapSource: owns one libpcap handle, live (pcap_create + pcap_activate) or
// offline (classic pcap or pcapng, microsecond timestamps).
//
// Errors from opening and filtering are returned as text naming the
// interface, file or filter; nothing here throws or logs (the app decides).
//
// Threads: one thread reads (next()); break_loop() may be called from any
// other thread. Everything else belongs to the reading thread, or to the
// owner before the reading thread starts.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "huginn/util/limits.hpp"

struct pcap;  // pcap_t, kept out of this header so that users need no <pcap.h>

namespace huginn::capture {

struct LiveOptions {
  std::string interface = "any";
  int snaplen = limits::kDefaultSnaplen;              // bytes kept per frame
  int buffer_bytes = limits::kDefaultPcapBufferBytes; // kernel ring size
  bool promiscuous = false;
  // Deliver each packet as it arrives rather than when the kernel buffer
  // block fills (TPACKET_V3 otherwise batches for up to the timeout).
  bool immediate = true;
  int timeout_ms = limits::kPcapTimeoutMs;
};

// One captured frame. `data` points into libpcap's buffer and is valid
// until the next call to next() on the same source.
struct RawFrame {
  std::int64_t ts_us = 0;  // capture time, microseconds since the Unix epoch
  std::uint32_t wire_len = 0;  // original length on the wire (pcap "len")
  // The captured bytes, min(caplen, len): a frame never claims more than
  // it had on the wire, as p0f also takes the smaller of the two.
  std::span<const std::uint8_t> data;
};

enum class ReadStatus : std::uint8_t {
  kPacket,   // `frame` is filled
  kTimeout,  // live only: no packet within the read timeout
  kEnd,      // end of file, or break_loop() was called
  kError,    // read error; error() has the text (e.g. "truncated dump file; ...")
};

struct KernelStats {
  std::uint64_t received = 0;      // ps_recv
  std::uint64_t dropped = 0;       // ps_drop
  std::uint64_t if_dropped = 0;    // ps_ifdrop
};

class PcapSource;

// Either a source or the reason there is none.
struct OpenResult {
  std::unique_ptr<PcapSource> source;  // null on failure
  std::string error;                   // empty on success
  // Non-fatal pcap_activate() warnings (promiscuous mode unsupported,
  // timestamp type unsupported), already phrased for the user.
  std::string warning;
  explicit operator bool() const { return source != nullptr; }
};

class PcapSource {
 public:
  // Opens `opts.interface` for live capture. Failures, each naming the
  // interface: no such device, permission denied (needs root or
  // CAP_NET_RAW), promiscuous mode not permitted, interface down, or any
  // other pcap_create/pcap_set_*/pcap_activate error with libpcap's text.
  static OpenResult open_live(const LiveOptions& opts);
  // Opens a classic pcap or pcapng file. Failure names the file and gives
  // libpcap's reason (missing, unreadable, not a capture file).
  static OpenResult open_file(const std::string& path);

  ~PcapSource();
  PcapSource(const PcapSource&) = delete;
  PcapSource& operator=(const PcapSource&) = delete;

  // Compiles and installs a BPF filter (optimised). Returns an error naming
  // the filter and giving libpcap's complaint, or nullopt on success.
  std::optional<std::string> set_filter(const std::string& expression);

  // pcap_datalink(): the DLT to pass to packet::decode_packet().
  [[nodiscard]] int datalink() const;
  [[nodiscard]] bool is_live() const { return live_; }
  // The interface or file name this source was opened on.
  [[nodiscard]] const std::string& name() const { return name_; }

  // Reads the next frame (pcap_next_ex). On kError, error() holds the text;
  // frames read before an error (e.g. a truncated file) were all returned.
  ReadStatus next(RawFrame& frame);
  [[nodiscard]] const std::string& error() const { return error_; }

  // Makes a blocked or future next() return kEnd (pcap_breakloop, which
  // also wakes libpcap's poll on Linux). Safe from any thread.
  void break_loop();

  // Kernel counters via pcap_stats; nullopt for files or on failure.
  [[nodiscard]] std::optional<KernelStats> kernel_stats() const;

 private:
  PcapSource(pcap* handle, bool live, std::string name);

  pcap* handle_;
  bool live_;
  std::string name_;
  std::string error_;
};

}  // namespace huginn::capture
