#pragma once
// What the API reports about the process around the store: capture, p0f
// database, analyzer and server counters (/api/health, /api/stats,
// /metrics). app/ implements StatusSource; tests supply their own.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace huginn::api {

enum class CaptureState : std::uint8_t {
  kRunning,      // live capture or a file still being read
  kFinished,     // the capture file was read to its end
  kUnavailable,  // capture was asked for and failed (see capture_error)
  kDisabled,     // no capture configured: the server's own visitors only
};
[[nodiscard]] const char* capture_state_name(CaptureState state);

// Name/value counters as their owners keep them (util::Counters style).
// Names are free text; /metrics turns them into label values.
using NamedCounters = std::vector<std::pair<std::string, std::uint64_t>>;

// One consistent-enough snapshot; every field is a copy.
struct ServiceStatus {
  CaptureState capture_state = CaptureState::kDisabled;
  std::string capture_error;  // why kUnavailable; empty otherwise
  std::string capture_source; // interface name or capture file path
  std::uint64_t packets_seen = 0;
  std::uint64_t kernel_drops = 0;     // pcap_stats ps_drop
  std::uint64_t interface_drops = 0;  // pcap_stats ps_ifdrop
  std::uint64_t malformed = 0;        // frames the decoder rejected
  std::uint64_t undecoded = 0;        // frames skipped (not IP/TCP, fragments...)

  std::string db_path;        // p0f.fp in use; empty when none configured
  bool db_loaded = false;
  std::uint64_t db_signatures = 0;

  std::chrono::system_clock::time_point started_at{};

  NamedCounters analyzer_counters;
  NamedCounters server_counters;
};

class StatusSource {
 public:
  virtual ~StatusSource() = default;
  // Called on server I/O threads, concurrently: must be thread-safe and
  // must not block for longer than copying the counters.
  [[nodiscard]] virtual ServiceStatus status() const = 0;
};

}  // namespace huginn::api
