#pragma once
// PcapSource: one capture, live (pcap_create + pcap_activate) or offline
// (classic pcap or pcapng, microsecond timestamps).
//
// Offline, a regular file in classic pcap format with a link type we decode
// is mapped into memory and walked in place by PcapFileReader, which
// returns exactly what libpcap would (frames, timestamps, errors) without
// stdio copying every byte; libpcap then only reads the file header,
// compiles BPF filters and runs them per frame (pcap_offline_filter).
// pcapng, other link types, pipes and FIFOs are read by libpcap itself.
// A mapped file must not shrink while it is read (SIGBUS, as for any
// mapping); one that grows is read as it was when opened.
//
// Errors from opening and filtering are returned as text naming the
// interface, file or filter; nothing here throws or logs (the app decides).
//
// Threads: one thread reads (next()); break_loop() may be called from any
// other thread. Everything else belongs to the reading thread, or to the
// owner before the reading thread starts.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "huginn/capture/raw_frame.hpp"
#include "huginn/util/limits.hpp"

struct pcap;  // pcap_t, kept out of this header so that users need no <pcap.h>

namespace huginn::capture {

namespace detail {
struct MappedPcap;  // the mapping, its reader and the compiled filter
}  // namespace detail

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
  // Opens a classic pcap or pcapng file (in memory when it can, see
  // above). Failure names the file and gives libpcap's reason (missing,
  // unreadable, not a capture file).
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
  // True when an offline file is walked in memory rather than by libpcap.
  [[nodiscard]] bool is_mapped() const { return mapped_ != nullptr; }
  // The interface or file name this source was opened on.
  [[nodiscard]] const std::string& name() const { return name_; }

  // Reads the next frame that passes the filter (pcap_next_ex, or the
  // mapped reader). On kError, error() holds the text; frames read before
  // an error (e.g. a truncated file) were all returned.
  ReadStatus next(RawFrame& frame);
  [[nodiscard]] const std::string& error() const { return error_; }

  // Makes a blocked or the next call of next() return kEnd
  // (pcap_breakloop, which also wakes libpcap's poll on Linux; a flag for
  // a mapped file). Safe from any thread.
  void break_loop();

  // Kernel counters via pcap_stats; nullopt for files or on failure.
  [[nodiscard]] std::optional<KernelStats> kernel_stats() const;

 private:
  PcapSource(pcap* handle, bool live, std::string name);
  PcapSource(pcap* handle, std::unique_ptr<detail::MappedPcap> mapped, std::string name);

  // The libpcap handle, live or offline. When mapped_ is set, libpcap has
  // read only the file header and the handle serves pcap_datalink() and
  // pcap_compile().
  pcap* handle_;
  std::unique_ptr<detail::MappedPcap> mapped_;
  std::atomic<bool> break_mapped_{false};
  bool live_;
  std::string name_;
  std::string error_;
};

}  // namespace huginn::capture
