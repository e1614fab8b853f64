#pragma once
// Real-time delivery of profile changes (docs/realtime.md): one EventHub
// listens to the ProfileStore and fans every change out to Server-Sent
// Events streams (GET /events), NDJSON / HTTP/2 push streams
// (GET /api/profiles/stream) and long-poll waiters (the API's
// GET /api/profiles?since=&wait=).
//
// Invariants the hub keeps for every subscriber:
// - Events go out in ascending store sequence order, so SSE ids strictly
//   increase and "Last-Event-ID: N" means "everything through N".
// - No subscriber receives the same profile revision (seq) twice.
// - Coalescing: after an event for an IP is published, a created/updated
//   change for that IP within `coalesce_interval` is deferred: taken out of
//   the queue, so it holds no other IP's events, and later changes to the
//   IP replace it (counted in events_coalesced). At the end of the interval
//   the hub asks the store to republish() the IP's current revision under
//   a new seq, above every seq already sent, and publishes that in order.
//   The old seq is never sent later: ids strictly increase and
//   "Last-Event-ID: N" means everything through N, so a deferred change
//   must come back above N; the journal then holds the new seq too, so a
//   resume from between the two gets it, and changes_since() skips the
//   superseded old one. Each profile thus produces at most one
//   created/updated event per interval, carrying its newest revision, and
//   other IPs' events are not delayed by it.
// - Expired/deleted events are final: published at once, never deferred;
//   they drop a pending deferral of their IP (its profile is gone).
// - Every event's wire form is built once per channel and shared by all
//   subscribers of that channel.
//
// Threading: the store calls the hub's listener on its writer thread; the
// listener only queues the event and wakes the hub's dispatcher thread,
// which does all fan-out (the capture thread never pays for subscribers).
// Handlers run on server I/O threads and only start a subscriber's
// catch-up (journal replay or snapshot) there; what the transport does not
// take at once the dispatcher writes later. All public methods are
// thread-safe (run_once() has its own rule).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "huginn/server/http_types.hpp"
#include "huginn/store/profile_store.hpp"

namespace huginn::realtime {

using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

struct HubConfig {
  // At most one created/updated event per profile per interval (changes
  // inside it are deferred, then republished); zero publishes every change.
  std::chrono::milliseconds coalesce_interval{100};
  // SSE comment line ": hb" so proxies keep idle streams open; zero: never.
  std::chrono::milliseconds heartbeat_interval{15'000};
  // `stats` event (SSE) / line (NDJSON) with the store counters; zero: never.
  std::chrono::milliseconds stats_interval{5'000};
  // The SSE `retry:` field sent once at the start of each stream.
  std::chrono::milliseconds sse_retry{3'000};
  // Bytes a subscriber may have queued in the hub while its catch-up (the
  // journal replay or the reset snapshot) is still being written. The
  // transport's own queue (ServerLimits::max_stream_queue_bytes) bounds live
  // delivery: a live write() it refuses cuts the subscriber off.
  std::size_t subscriber_queue_bytes = 1024 * 1024;
  // A catch-up the peer has not taken within this time cuts it off.
  std::chrono::milliseconds catchup_timeout{10'000};
  // Fan-out pacing: after a pass that sent events, the next pass starts no
  // sooner than (live subscribers x fanout_cost_per_subscriber) later,
  // capped at max_fanout_delay; what arrives meanwhile goes out together,
  // one write (and so one send()) per subscriber. A pass costs each
  // subscriber one strand post and one send(), about 5 us of server CPU on
  // loopback here, so the pause keeps fan-out near one core's worth at any
  // subscriber count below the cap. With few subscribers it is
  // microseconds (1 subscriber: 5 us), so SYN-to-event latency is
  // unaffected. Zero: every pass at once.
  std::chrono::nanoseconds fanout_cost_per_subscriber{5'000};
  std::chrono::milliseconds max_fanout_delay{50};
  // Streams beyond this get 503.
  std::size_t max_subscribers = 20'000;
  // Long-poll waiters beyond this are refused (WaitStart::kTooManyWaiters).
  std::size_t max_waiters = 10'000;
  // IPs remembered per filtered subscriber so that an expiry/deletion of a
  // profile it was sent passes an os/ja4 filter. Past the cap every
  // expiry/deletion passes (a client ignores one for an IP it never had).
  std::size_t max_filter_ips = 65'536;
  // Bytes per write() while a catch-up is written.
  std::size_t catchup_chunk_bytes = 64 * 1024;
  // Largest /ws `reset` message. WebSocket::send_text() refuses a message
  // that would take the transport's queue past
  // ServerLimits::max_stream_queue_bytes (1 MiB) and a message cannot be
  // sent in pieces through it, so a bigger snapshot goes out as a reset
  // holding the profiles that fit, then one id-less `profile` message per
  // remaining profile (docs/realtime.md "WebSocket"). Half the queue, so
  // the reset fits behind what is already queued.
  std::size_t ws_reset_message_bytes = 512 * 1024;
  // false: no dispatcher thread; the owner calls run_once() (tests, benches).
  bool start_thread = true;
  // Monotonic time for intervals and deadlines; steady_clock when empty.
  SteadyClock clock;
};

// Subscription filters (query parameters ip, os, ja4). Empty: everything.
struct Filter {
  std::optional<std::string> ip;   // RFC 5952 text (normalised on parse)
  std::optional<std::string> os;   // case-insensitive substring of ProfileRevision::os
  std::optional<std::string> ja4;  // exact ProfileRevision::ja4
  [[nodiscard]] bool active() const { return ip || os || ja4; }
};

enum class Channel : std::uint8_t {
  kSse,     // text/event-stream
  kNdjson,  // application/x-ndjson, every event as a line with the profile JSON
  kPush,    // NDJSON progress lines + an HTTP/2 push per profile revision
  kWs,      // WebSocket text messages {"event":..,"id":..,"data":..}; see ws_handler()
};

struct SubscribeOptions {
  Channel channel = Channel::kSse;
  Filter filter;
  // Resume point (SSE Last-Event-ID). Absent: start with a `reset` snapshot.
  std::optional<std::uint64_t> last_event_id;
};

enum class WaitStart : std::uint8_t { kWaiting, kTooManyWaiters, kStopped };
enum class WaitResult : std::uint8_t { kChanged, kTimeout, kStopped };

class EventHub {
 public:
  // `store` must outlive the hub. Subscribes to the store at once; starts
  // the dispatcher thread unless config.start_thread is false.
  EventHub(store::ProfileStore& store, HubConfig config = {});
  ~EventHub();  // stop()
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // GET /events. Query: ip, os, ja4, last_event_id; the Last-Event-ID
  // header wins over last_event_id. Answers 400 (unknown or malformed
  // parameter), 503 (stopped, or max_subscribers reached), else a stream.
  // The hub must outlive the handler's calls; streams may outlive the hub.
  [[nodiscard]] server::Handler sse_handler();
  // GET /api/profiles/stream. Query: ip, os, ja4, since. HTTP/2 push when
  // the writer allows it, otherwise NDJSON lines only.
  [[nodiscard]] server::Handler stream_handler();
  // GET /ws (HTTP/1.1 Upgrade, RFC 6455) and extended CONNECT with
  // :protocol websocket (HTTP/2, RFC 8441): mount it for GET and CONNECT.
  // Query: ip, os, ja4, last_event_id as for sse_handler(). Answers 400
  // (bad parameter), 426 with sec-websocket-version: 13 (not a WebSocket
  // handshake, RFC 6455 §4.4), 503 (stopped or full), else accepts the
  // WebSocket: events and control messages as in docs/realtime.md.
  [[nodiscard]] server::Handler ws_handler();

  // Starts a stream on `writer` (not yet answered). Returns false when
  // stopped or full (having answered 503) or when start_stream() failed
  // (the peer is gone). Channel::kWs accepts the WebSocket instead (426
  // when the request is not a handshake); options.last_event_id as for SSE.
  bool subscribe(std::shared_ptr<server::ResponseWriter> writer, SubscribeOptions options);

  // Long poll: `callback` runs exactly once, on the hub's thread, with the
  // store seq the hub knew of, when the store's seq exceeds `since`
  // (kChanged), after `timeout` (kTimeout) or at stop() (kStopped). It
  // does not run when the call returns anything but kWaiting. Seqs issued
  // by ProfileStore::republish() do not count: their content was issued
  // before under an older seq, which already woke every waiter below it.
  // Through `seq`, callbacks see the newest seq excluding republished ones.
  using WaitCallback = std::function<void(WaitResult, std::uint64_t seq)>;
  WaitStart wait(std::uint64_t since, std::chrono::milliseconds timeout, WaitCallback callback);

  // Only when config.start_thread is false (a second caller would break
  // the order of events): does everything due at config.clock() and
  // returns when the next work is due (time_point::max() when none is).
  // It calls store.republish() for deferrals that are due, so the caller
  // must not hold the store's writer side (e.g. call it from a listener).
  std::chrono::steady_clock::time_point run_once();

  // Finishes every stream, calls every waiter back (kStopped), unsubscribes
  // from the store and joins the thread. Idempotent.
  void stop();

  // For /metrics: subscribers_current, subscribers_total, dropped_slow,
  // events_published, events_coalesced, bytes_sent, resets_sent,
  // pushes_sent, waiters_current, waiters_rejected, ws_subscribers_current,
  // ws_subscribers_total, ws_messages_in, ws_errors_sent. The ws_ ones are
  // also counted in the channel-independent ones (subscribers_current...).
  [[nodiscard]] std::vector<std::pair<std::string, std::uint64_t>> counters() const;

  // Defined in src/realtime/event_hub.cpp; named here only so that file's
  // helpers can refer to it.
  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace huginn::realtime
