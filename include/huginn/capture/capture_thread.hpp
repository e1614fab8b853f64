#pragma once
// Capture drivers: CaptureThread runs a live PcapSource on its own thread;
// read_file() drains an offline source synchronously (analyze, golden
// tests). Both decode every frame with packet::decode_packet() and hand
// each TCP segment to a sink.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "huginn/capture/capture_stats.hpp"
#include "huginn/capture/pcap_source.hpp"
#include "huginn/packet/decode.hpp"
#include "huginn/packet/decoded_packet.hpp"

namespace huginn::capture {

// Receives each decoded TCP segment. The packet's spans point into
// libpcap's buffer and are valid only during the call.
using PacketSink = std::function<void(const packet::DecodedPacket&)>;
// Told about sink exceptions and read errors, with a one-line message.
using ErrorHook = std::function<void(std::string_view)>;

// Told about frames that did not decode but that p0f would have handed to
// its packet handler, whose first act is to count the frame (p0f runs its
// table expiry every 50 frames that pass its BPF filter "tcp or (vlan and
// tcp)", parsable or not; see Analyzer::on_undecoded_tcp_frame). Called
// with the frame's capture time (microseconds) and decode result for:
//   - every kMalformed frame (truncated or inconsistent link, IP or TCP
//     headers), and
//   - kIgnored frames with reason ip_fragment: IPv4 fragments, which are
//     always TCP here (the protocol is checked first), and non-atomic IPv6
//     fragments.
// Where this differs from p0f's filter, in frames per capture:
//   - reported here but rejected by p0f's filter: a malformed frame that is
//     not TCP (e.g. a UDP datagram with a bad IHL or total length, a frame
//     too short for its link header), and an IPv6 fragment of another
//     protocol or one whose fragment header is not the first one;
//   - passed by p0f's filter but not reported: frames of link types we do
//     not decode (unsupported_link_type; p0f guesses their link header).
//     Frames ignored for other reasons (not_ip, not_tcp, IPv6 jumbograms)
//     fail p0f's filter too;
//   - decoded here but rejected by p0f's filter (so p0f does not count
//     them, while the analyzer sees them as segments): Ethernet frames with
//     two or more VLAN tags, and IPv6 TCP behind extension headers other
//     than a single leading fragment header.
using UndecodedSink =
    std::function<void(std::int64_t ts_us, const packet::DecodeResult& result)>;

class CaptureThread {
 public:
  // Takes ownership of `source`. `sink`, `on_error` and `on_undecoded` run
  // on the capture thread; the sinks own whatever state they touch there
  // (no locking is done for them), and exceptions from either sink are
  // counted in sink_errors and reported to `on_error`. Nothing runs until
  // start().
  CaptureThread(std::unique_ptr<PcapSource> source, PacketSink sink, ErrorHook on_error = {},
                UndecodedSink on_undecoded = {});
  // Stops and joins if still running.
  ~CaptureThread();
  CaptureThread(const CaptureThread&) = delete;
  CaptureThread& operator=(const CaptureThread&) = delete;

  // Starts the capture thread. Call once. Throws std::system_error if the
  // thread cannot be created (a start-up failure).
  void start();
  // Sets the stop flag, breaks libpcap's read and joins. Returns within
  // about one read timeout (limits::kPcapTimeoutMs) even on an idle
  // interface. Idempotent; call from one controlling thread (not from the
  // sink, and not from a signal handler).
  void stop();
  // True until the capture loop has ended (stop(), read error, or the end
  // of an offline source).
  [[nodiscard]] bool running() const { return running_.load(std::memory_order_acquire); }

  // A snapshot of the counters. The capture thread keeps its own copy and
  // publishes it under a mutex every kPublishEvery frames, on every read
  // timeout and when the loop ends, so a snapshot lags by at most that.
  [[nodiscard]] CaptureStats stats() const;
  // The read error that ended the loop, if any (valid after stop()).
  [[nodiscard]] std::optional<std::string> error() const;

  static constexpr std::uint64_t kPublishEvery = 256;

 private:
  void run();
  void publish(const CaptureStats& local);

  std::unique_ptr<PcapSource> source_;
  PacketSink sink_;
  ErrorHook on_error_;
  UndecodedSink on_undecoded_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};

  mutable std::mutex mutex_;
  CaptureStats published_;            // guarded by mutex_
  std::optional<std::string> error_;  // guarded by mutex_
};

// Reads `source` to its end on the calling thread, decoding every frame
// and passing each TCP segment to `sink` and each frame described at
// UndecodedSink to `undecoded` (if set); counts everything in `stats`.
// Returns the read error that ended the file early (e.g. libpcap's
// "truncated dump file; ..."), after delivering every frame before it, or
// nullopt when the file ended cleanly. Exceptions from either sink
// propagate to the caller; frames before it are counted.
std::optional<std::string> read_file(PcapSource& source, const PacketSink& sink,
                                     CaptureStats& stats, const UndecodedSink& undecoded = {});

}  // namespace huginn::capture
