#pragma once
// Capture drivers: CaptureThread runs a live PcapSource on its own thread;
// read_file() drains an offline source synchronously (analyze, golden
// tests). Both decode every frame with packet::decode_packet() and hand
// each TCP segment to a sink.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "huginn/capture/capture_stats.hpp"
#include "huginn/capture/pcap_source.hpp"
#include "huginn/packet/decoded_packet.hpp"

namespace huginn::capture {

// Receives each decoded TCP segment. The packet's spans point into
// libpcap's buffer and are valid only during the call.
using PacketSink = std::function<void(const packet::DecodedPacket&)>;
// Told about sink exceptions and read errors, with a one-line message.
using ErrorHook = std::function<void(std::string_view)>;

class CaptureThread {
 public:
  // Takes ownership of `source`. `sink` and `on_error` run on the capture
  // thread; the sink owns whatever state it touches there (no locking is
  // done for it). Nothing runs until start().
  CaptureThread(std::unique_ptr<PcapSource> source, PacketSink sink, ErrorHook on_error = {});
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
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};

  mutable std::mutex mutex_;
  CaptureStats published_;            // guarded by mutex_
  std::optional<std::string> error_;  // guarded by mutex_
};

// Reads `source` to its end on the calling thread, decoding every frame
// and passing each TCP segment to `sink`; counts everything in `stats`.
// Returns the read error that ended the file early (e.g. libpcap's
// "truncated dump file; ..."), after delivering every frame before it, or
// nullopt when the file ended cleanly. Exceptions from `sink` propagate to
// the caller; frames before it are counted.
std::optional<std::string> read_file(PcapSource& source, const PacketSink& sink,
                                     CaptureStats& stats);

}  // namespace huginn::capture
