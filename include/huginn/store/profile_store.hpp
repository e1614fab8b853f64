#pragma once
// The TTL-cached profile store: one profile per client IP, aggregating every
// Observation about that address (docs/store.md; JSON Schema in
// docs/openapi.json).
//
// Concurrency: writers (the capture thread's analyzer sink, the server's
// visitor analyzer) are serialised by the store; readers (server I/O
// threads) never wait for JSON to be built, and lock one of 16 shards at a
// time, so a writer waits at most for one shard's scan. A ProfilePtr is an
// immutable revision: it stays valid and unchanged after the profile
// changes, expires or is deleted. query() and snapshot() are not atomic
// across shards (docs/store.md, "Concurrency").
//
// Every change gets a store-wide, strictly increasing sequence number and
// becomes a StoreEvent in a bounded journal (realtime delivery resumes
// from it). JSON is serialised once per revision, on the writer side, as a
// JsonText whose sections are shared with other hosts' revisions.
//
// Time: first_seen/last_seen come from the observations (capture clock);
// TTL expiry uses the store's Clock (wall clock by default), counted from
// the last change, so a replayed old capture stays visible for the TTL.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "huginn/analyzer/analyzer.hpp"
#include "huginn/analyzer/observation.hpp"
#include "huginn/packet/ip_address.hpp"
#include "huginn/store/json_text.hpp"

namespace huginn::store {

struct StoreConfig {
  std::chrono::seconds ttl{3600};          // from the last change; zero disables expiry
  std::size_t max_profiles = 100'000;      // at least 1; the least recently changed is evicted
  std::size_t journal_capacity = 65'536;   // events kept for resume; at least 1
  std::size_t history_limit = 16;          // changes kept per profile
  // The store's seq before its first change. A process that restarts loses
  // its journal; a client still holding a seq of the earlier run must get
  // a reset, never a replay of this run's unrelated journal. serve sets
  // this to the wall clock in microseconds at start (app/serve.cpp): the
  // earlier run made fewer changes than microseconds passed, so each of its
  // seqs is below this run's first and changes_since() answers reset.
  std::uint64_t first_seq = 0;
};

// Which sections a profile has (query `has=`).
enum HasBits : std::uint8_t {
  kHasTcp = 1,
  kHasHttp = 2,
  kHasTls = 4,
  kHasHttp2 = 8,
};

// One immutable revision of one profile.
struct ProfileRevision {
  packet::IpAddress ip;
  std::string ip_text;     // RFC 5952 form, the API's key
  std::uint64_t seq = 0;   // sequence number of the change that made it
  std::int64_t first_seen_us = 0;
  std::int64_t last_seen_us = 0;
  std::uint64_t connections = 0;
  // Summary fields for filtering and sorting (also inside `json`).
  std::string os;       // best TCP OS label, empty when unknown
  std::string browser;  // HTTP app label or User-Agent product, empty when unknown
  std::string ja4;      // latest JA4, empty when none
  std::uint8_t has = 0; // HasBits
  JsonText json;        // the profile object, serialised once (shared pieces: json_text.hpp)
  std::string etag;     // strong validator for this revision ("\"<seq>\"" or similar)
};
using ProfilePtr = std::shared_ptr<const ProfileRevision>;

// kExpired covers both TTL expiry and eviction at max_profiles (the
// counters tell them apart: `expired` and `evicted`).
enum class EventType : std::uint8_t { kCreated, kUpdated, kExpired, kDeleted };
// "created", "updated", "expired", "deleted".
[[nodiscard]] std::string_view event_type_name(EventType type);

struct StoreEvent {
  std::uint64_t seq = 0;
  EventType type = EventType::kCreated;
  std::string ip_text;
  ProfilePtr profile;  // the new revision for created/updated; null otherwise
  // Listeners only: issued by republish(), the same content as the
  // previous revision (the journal does not keep this flag).
  bool republished = false;
};

struct Query {
  std::optional<std::string> os;       // case-insensitive substring of `os`
  std::optional<std::string> browser;  // case-insensitive substring of `browser`
  std::optional<std::string> ja4;      // exact JA4 (or prefix ending in '*')
  std::optional<std::string> q;        // case-insensitive substring of the JSON
  std::uint8_t has = 0;                // all of these HasBits
  enum class SortKey : std::uint8_t { kLastSeen, kFirstSeen, kIp, kConnections, kOs } sort = SortKey::kLastSeen;
  bool descending = true;
  std::size_t limit = 100;
  std::size_t offset = 0;
};

struct QueryResult {
  std::vector<ProfilePtr> profiles;  // the page
  std::size_t total = 0;             // matches before limit/offset
  std::uint64_t seq = 0;             // read before the scan: every change up to it is reflected
};

// The answer to changes_since(since, max): the journal after `since`.
// - reset: `since` is older than the journal keeps (since + 1 < oldest
//   journaled seq) or newer than the store's seq (a client of an earlier
//   store instance); `events` is empty and `seq` is the store's seq: take a
//   snapshot (query/snapshot) and continue from there.
// - Otherwise the caller is up to date through `seq` once it applied
//   `events` (ascending; `seq` == `since` when nothing happened). Passing
//   `seq` as the next `since` misses nothing.
// - Coalesced: a created/updated event is returned only while it is the
//   profile's newest revision (the journal keeps no old revisions); a
//   superseded one is skipped because a later event for the same IP follows
//   it, in this answer or the next. Treat created and updated alike
//   (upsert). Expired/deleted events are always returned.
struct Changes {
  bool reset = false;
  std::uint64_t seq = 0;
  std::vector<StoreEvent> events;
};

struct StoreCounters {
  std::uint64_t observations = 0;
  std::uint64_t created = 0;
  std::uint64_t updated = 0;
  std::uint64_t expired = 0;   // TTL
  std::uint64_t evicted = 0;   // cap, least recently seen first
  std::uint64_t deleted = 0;   // API deletes
  std::uint64_t republished = 0;  // republish() calls that issued a seq (not counted in updated)
  std::uint64_t journal_dropped = 0;  // events pushed out of the journal
  std::size_t profiles = 0;
  std::size_t approx_bytes = 0;
};

class ProfileStore {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  using Listener = std::function<void(const StoreEvent&)>;

  explicit ProfileStore(StoreConfig config, Clock clock = {});
  ~ProfileStore();
  ProfileStore(const ProfileStore&) = delete;
  ProfileStore& operator=(const ProfileStore&) = delete;

  // --- writers (serialised internally) ---
  void apply(const analyzer::Observation& obs);
  // Several observations at once (e.g. all that one packet produced): each
  // run of consecutive observations about the same IP is applied as one
  // change (one seq, one revision, one event), as if applied one by one
  // but without the intermediate revisions. `observations` counts each.
  void apply_batch(std::span<const analyzer::Observation> batch);
  std::size_t expire_now();  // drop profiles idle longer than the TTL; returns how many
  bool erase(const packet::IpAddress& ip);
  std::size_t clear();
  // Issues the profile's current revision again under a new seq: a journal
  // entry of type updated, listeners called as for any change, a revision
  // identical but for `seq` (its JSON `seq` field and its ETag). Counted in
  // `republished`, not `updated`; the TTL and LRU order are unchanged.
  // A no-op returning false when the profile is gone or its current
  // revision is no longer `seen_seq` (a newer seq was already issued for
  // it, so every listener has, or is being sent, something newer).
  // Why (docs/realtime.md "Coalescing"): the EventHub defers a change for
  // an IP inside its coalescing interval while events with higher seqs go
  // out; seqs sent must strictly increase, so at the end of the interval
  // the hub asks for the change again under a seq above all it has sent.
  // A journal reader between the old and the new seq gets the new one;
  // changes_since() skips the superseded old one.
  bool republish(const packet::IpAddress& ip, std::uint64_t seen_seq);

  // --- readers ---
  [[nodiscard]] ProfilePtr get(const packet::IpAddress& ip) const;
  [[nodiscard]] QueryResult query(const Query& q) const;
  [[nodiscard]] std::vector<ProfilePtr> snapshot() const;  // all, any order
  [[nodiscard]] std::uint64_t seq() const;
  [[nodiscard]] Changes changes_since(std::uint64_t since, std::size_t max_events) const;
  [[nodiscard]] StoreCounters counters() const;
  // Counts by OS label and by browser (for /api/stats), "unknown" for empty.
  struct Breakdown {
    std::vector<std::pair<std::string, std::size_t>> by_os, by_browser;
    std::size_t tcp = 0, http = 0, tls = 0, http2 = 0;
  };
  [[nodiscard]] Breakdown breakdown() const;

  // Called after every change, on the writer's thread, in sequence order,
  // while the writer mutex is held but no reader lock is: a listener may
  // call the reader methods, must not call writer methods, subscribe or
  // unsubscribe (deadlock), and must neither block nor throw. After unsubscribe returns
  // the listener is not called again. Returns an id for unsubscribe.
  std::uint64_t subscribe(Listener listener);
  void unsubscribe(std::uint64_t id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// An analyzer::ObservationSink that writes into a store.
class StoreSink final : public analyzer::ObservationSink {
 public:
  explicit StoreSink(ProfileStore& store) : store_(store) {}
  void on_observation(const analyzer::Observation& obs) override { store_.apply(obs); }

 private:
  ProfileStore& store_;
};

}  // namespace huginn::store
