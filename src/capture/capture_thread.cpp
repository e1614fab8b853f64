#include "huginn/capture/capture_thread.hpp"

#include <exception>
#include <utility>

#include "huginn/packet/decode.hpp"

namespace huginn::capture {
namespace {

// The frames UndecodedSink documents: what p0f would have counted.
bool reaches_undecoded_sink(const packet::DecodeResult& r) {
  return r.status == packet::DecodeStatus::kMalformed || r.reason == packet::reason::kIpFragment;
}

// Decodes one frame, counts the outcome and calls the sink for a TCP
// segment or `undecoded` for a frame p0f would have counted (exceptions
// from either propagate).
void handle_frame(int dlt, const RawFrame& frame, const PacketSink& sink,
                  const UndecodedSink& undecoded, CaptureStats& stats) {
  ++stats.packets_received;
  packet::DecodedPacket pkt;
  const auto r = packet::decode_packet(dlt, frame.data, frame.ts_us, pkt);
  stats.record(r);
  if (r.status == packet::DecodeStatus::kOk) {
    if (sink) sink(pkt);
  } else if (undecoded && reaches_undecoded_sink(r)) {
    undecoded(frame.ts_us, r);
  }
}

void refresh_kernel_stats(const PcapSource& source, CaptureStats& stats) {
  if (const auto k = source.kernel_stats()) {
    stats.kernel_received = k->received;
    stats.kernel_dropped = k->dropped;
    stats.interface_dropped = k->if_dropped;
  }
}

// Reports to the hook without letting the hook's own failure escape the
// capture thread.
void report(const ErrorHook& hook, std::string_view msg) noexcept {
  if (!hook) return;
  try {
    hook(msg);
  } catch (...) {
    // The hook is the last place to report to; there is nowhere further.
  }
}

}  // namespace

CaptureThread::CaptureThread(std::unique_ptr<PcapSource> source, PacketSink sink,
                             ErrorHook on_error, UndecodedSink on_undecoded)
    : source_(std::move(source)),
      sink_(std::move(sink)),
      on_error_(std::move(on_error)),
      on_undecoded_(std::move(on_undecoded)) {}

CaptureThread::~CaptureThread() { stop(); }

void CaptureThread::start() {
  if (thread_.joinable() || !source_) return;
  stop_.store(false, std::memory_order_release);
  running_.store(true, std::memory_order_release);
  try {
    thread_ = std::thread([this] { run(); });
  } catch (...) {  // std::system_error: no thread was created
    running_.store(false, std::memory_order_release);
    throw;
  }
}

void CaptureThread::stop() {
  stop_.store(true, std::memory_order_release);
  // pcap_breakloop() both sets libpcap's flag and, on Linux, wakes its
  // poll(); the read timeout bounds the wait on other platforms.
  if (source_) source_->break_loop();
  if (thread_.joinable()) thread_.join();
}

CaptureStats CaptureThread::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return published_;
}

std::optional<std::string> CaptureThread::error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return error_;
}

void CaptureThread::publish(const CaptureStats& local) {
  std::lock_guard<std::mutex> lock(mutex_);
  published_ = local;
}

void CaptureThread::run() {
  CaptureStats local;
  const int dlt = source_->datalink();
  std::uint64_t since_publish = 0;
  RawFrame frame;
  while (!stop_.load(std::memory_order_acquire)) {
    const ReadStatus st = source_->next(frame);
    if (st == ReadStatus::kPacket) {
      try {
        handle_frame(dlt, frame, sink_, on_undecoded_, local);
      } catch (const std::exception& e) {
        ++local.sink_errors;
        report(on_error_, std::string("packet sink threw: ") + e.what());
      } catch (...) {
        ++local.sink_errors;
        report(on_error_, "packet sink threw a non-standard exception");
      }
      if (++since_publish >= kPublishEvery) {
        refresh_kernel_stats(*source_, local);
        publish(local);
        since_publish = 0;
      }
      continue;
    }
    if (st == ReadStatus::kTimeout) {
      refresh_kernel_stats(*source_, local);
      publish(local);
      since_publish = 0;
      continue;
    }
    if (st == ReadStatus::kError) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        error_ = source_->error();
      }
      report(on_error_, "capture on '" + source_->name() + "' failed: " + source_->error());
    }
    // kEnd: break_loop() (stop() sets stop_ first) or the end of a file.
    break;
  }
  refresh_kernel_stats(*source_, local);
  publish(local);
  running_.store(false, std::memory_order_release);
}

std::optional<std::string> read_file(PcapSource& source, const PacketSink& sink,
                                     CaptureStats& stats, const UndecodedSink& undecoded) {
  const int dlt = source.datalink();
  RawFrame frame;
  for (;;) {
    switch (source.next(frame)) {
      case ReadStatus::kPacket:
        handle_frame(dlt, frame, sink, undecoded, stats);
        break;
      case ReadStatus::kTimeout:  // a live source handed to us: keep reading
        break;
      case ReadStatus::kEnd:
        return std::nullopt;
      case ReadStatus::kError:
        return source.error();
    }
  }
}

}  // namespace huginn::capture
