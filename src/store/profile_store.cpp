#include "huginn/store/profile_store.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cstdint>
#include <list>
#include <mutex>
#include <random>
#include <shared_mutex>  // std::shared_lock
#include <string_view>
#include <unordered_map>
#include <utility>

#include "store/profile_aggregate.hpp"
#include "store/profile_json.hpp"
#include "store/rw_lock.hpp"
#include "store/string_pool.hpp"

namespace huginn::store {

std::string_view event_type_name(EventType type) {
  switch (type) {
    case EventType::kCreated: return "created";
    case EventType::kUpdated: return "updated";
    case EventType::kExpired: return "expired";
    case EventType::kDeleted: return "deleted";
  }
  return "unknown";
}

namespace {

using detail::Aggregate;

// Readers lock one shard at a time, so a writer publishing a revision waits
// at most for one shard's scan (1/kShards of the profiles), never for a
// whole one.
constexpr std::size_t kShards = 16;

// One profile as readers see it. The sort keys and filter fields are
// copied out of the revision so that a query scans contiguous rows instead
// of chasing a pointer per profile. The Atoms' texts (lowercase OS label and
// browser, JA4) are shared by many rows, so they stay in cache. Readers only
// call Atom::view(): copying or destroying an Atom is the writer's, under
// the shard's exclusive lock.
struct Row {
  ProfilePtr rev;
  std::int64_t last_seen_us = 0;
  std::int64_t first_seen_us = 0;
  std::uint64_t connections = 0;
  detail::Atom os_lower;
  detail::Atom browser_lower;
  detail::Atom ja4;
  std::uint8_t has = 0;
  std::list<Aggregate>::iterator agg;  // writer only
};

struct Shard {
  mutable detail::RwLock mu;
  // Mutated by the writer only, under `mu` exclusively; the writer may read
  // them without `mu` (readers never mutate them). rows[index[ip]].rev->ip == ip.
  std::unordered_map<packet::IpAddress, std::uint32_t> index;
  std::vector<Row> rows;

  [[nodiscard]] const Row* find(const packet::IpAddress& ip) const {
    const auto it = index.find(ip);
    return it == index.end() ? nullptr : &rows[it->second];
  }
};


struct JournalEntry {
  std::uint64_t seq = 0;
  packet::IpAddress ip;
  EventType type = EventType::kCreated;
};

// A rough per-profile figure for StoreCounters::approx_bytes: the
// aggregate's list node, the shard map node and bucket, the revision with
// its control block, and the heap blocks of its strings and of its JSON's
// own block (the shared pieces are counted once, in the pool).
std::size_t heap_bytes(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }
std::size_t profile_bytes(const ProfileRevision& rev) {
  constexpr std::size_t kFixed = sizeof(Aggregate) + 16 + sizeof(Row) + sizeof(packet::IpAddress) + 24 + 8 +
                                 sizeof(ProfileRevision) + 16;
  constexpr std::size_t kMallocHeader = 16;
  return kFixed + rev.json.own_bytes() + kMallocHeader + heap_bytes(rev.ip_text) + heap_bytes(rev.os) +
         heap_bytes(rev.browser) + heap_bytes(rev.ja4) + heap_bytes(rev.etag);
}

// The host an observation describes: its profile's key (docs/store.md, "Model").
const packet::IpAddress& subject_ip(const analyzer::Observation& obs) {
  return obs.subject == analyzer::Subject::kClient ? obs.client.addr : obs.server.addr;
}

// ASCII case folding: labels and products are ASCII, and the free-text
// search treats other bytes as they are.
char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool ja4_matches(std::string_view ja4, std::string_view pattern) {
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return ja4.substr(0, pattern.size()) == pattern;
  }
  return ja4 == pattern;
}

}  // namespace

struct ProfileStore::Impl {
  Impl(StoreConfig c, Clock clk) : config(c), clock(std::move(clk)) {
    config.max_profiles = std::max<std::size_t>(config.max_profiles, 1);
    config.journal_capacity = std::max<std::size_t>(config.journal_capacity, 1);
    if (!clock) clock = [] { return std::chrono::system_clock::now(); };
    next_seq = journal_newest = config.first_seq;
    seq.store(config.first_seq);
    // ETags must not repeat across restarts, where sequence numbers do.
    constexpr std::string_view kHex = "0123456789abcdef";
    std::random_device rd;
    const unsigned r = rd();
    for (int i = 0; i < 4; ++i) etag_prefix += kHex[(r >> (4 * i)) & 0xf];
    ring.resize(config.journal_capacity);
  }

  // --- writer state (write_mu) ---
  StoreConfig config;
  Clock clock;
  std::string etag_prefix;
  std::mutex write_mu;
  detail::StringPool pool;      // declared before `lru`: outlives every Atom
  std::list<Aggregate> lru;     // most recently changed first
  std::uint64_t next_seq = 0;
  std::size_t profile_bytes_total = 0;
  std::vector<std::pair<std::uint64_t, Listener>> listeners;
  std::uint64_t next_listener_id = 1;
  std::vector<StoreEvent> pending;  // this call's events, for listeners

  // --- reader-visible state ---
  std::array<Shard, kShards> shards;
  mutable detail::RwLock journal_mu;
  std::vector<JournalEntry> ring;  // journal: `count` entries from `head`, seqs contiguous
  std::size_t head = 0;
  std::size_t count = 0;
  std::uint64_t journal_newest = 0;
  std::atomic<std::uint64_t> seq{0};  // published after the journal entry

  std::atomic<std::uint64_t> observations{0}, created{0}, updated{0}, expired{0}, evicted{0}, deleted{0},
      republished{0}, journal_dropped{0};
  std::atomic<std::size_t> profiles{0}, approx_bytes{0};

  Shard& shard_for(const packet::IpAddress& ip) { return shards[ip.hash() % kShards]; }
  const Shard& shard_for(const packet::IpAddress& ip) const { return shards[ip.hash() % kShards]; }

  std::int64_t now_us() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(clock().time_since_epoch()).count();
  }

  Row row_of(ProfilePtr rev, std::list<Aggregate>::iterator agg) {
    Row r;
    r.last_seen_us = rev->last_seen_us;
    r.first_seen_us = rev->first_seen_us;
    r.connections = rev->connections;
    r.os_lower = pool.intern(lowercase(rev->os));
    r.browser_lower = pool.intern(lowercase(rev->browser));
    r.ja4 = pool.intern(rev->ja4);
    r.has = rev->has;
    r.rev = std::move(rev);
    r.agg = agg;
    return r;
  }

  void update_bytes() { approx_bytes.store(profile_bytes_total + pool.bytes(), std::memory_order_relaxed); }

  // Journal, publish and queue for listeners one change. Writer only.
  void emit(std::uint64_t s, EventType type, const packet::IpAddress& ip, const ProfilePtr& rev,
            bool reissue = false) {
    {
      std::unique_lock lock(journal_mu);
      assert(s == journal_newest + 1);
      if (count == ring.size()) {
        head = (head + 1) % ring.size();
        --count;
        journal_dropped.fetch_add(1, std::memory_order_relaxed);
      }
      ring[(head + count) % ring.size()] = JournalEntry{s, ip, type};
      ++count;
      journal_newest = s;
    }
    seq.store(s, std::memory_order_release);
    if (!listeners.empty()) {
      pending.push_back(StoreEvent{s, type, rev ? rev->ip_text : ip.to_rfc5952_string(), rev, reissue});
    }
  }

  // `ip` by value: callers pass lru.back().ip, which this erases.
  void remove(const packet::IpAddress ip, EventType type) {
    Shard& shard = shard_for(ip);
    const auto it = shard.index.find(ip);
    if (it == shard.index.end()) return;
    const std::uint32_t i = it->second;
    const auto agg = shard.rows[i].agg;
    Row old;  // freed after the shard lock is released
    {
      std::unique_lock lock(shard.mu);
      old = std::move(shard.rows[i]);
      // Swap-remove keeps the rows dense.
      if (i + 1 != shard.rows.size()) {
        shard.rows[i] = std::move(shard.rows.back());
        shard.index[shard.rows[i].rev->ip] = i;
      }
      shard.rows.pop_back();
      shard.index.erase(it);
    }
    lru.erase(agg);
    profile_bytes_total -= profile_bytes(*old.rev);
    old = Row();  // releases its Atoms before the pool's size is read
    if (lru.empty()) {
      pool.collect();
    } else {
      pool.maybe_collect();
    }
    profiles.store(lru.size(), std::memory_order_relaxed);
    update_bytes();
    emit(++next_seq, type, ip, nullptr);
  }

  std::size_t expire(std::int64_t now) {
    if (config.ttl.count() <= 0) return 0;
    const std::int64_t ttl_us = std::chrono::duration_cast<std::chrono::microseconds>(config.ttl).count();
    std::size_t n = 0;
    // `lru` is ordered by change, so the expired profiles are its tail
    // (if the clock stepped back, some stay until their turn: no full scan).
    while (!lru.empty() && lru.back().changed_at_us + ttl_us <= now) {
      remove(lru.back().ip, EventType::kExpired);
      expired.fetch_add(1, std::memory_order_relaxed);
      ++n;
    }
    return n;
  }

  void notify() {
    for (const StoreEvent& e : pending) {
      for (const auto& entry : listeners) entry.second(e);
    }
    pending.clear();
  }

  // `n` observations about the same IP (subject_ip), as one change.
  void apply(const analyzer::Observation* obs, std::size_t n, std::int64_t now) {
    const packet::IpAddress& ip = subject_ip(obs[0]);
    Shard& shard = shard_for(ip);
    const auto it = shard.index.find(ip);
    const bool is_new = it == shard.index.end();
    if (is_new) {
      while (lru.size() >= config.max_profiles) {
        remove(lru.back().ip, EventType::kExpired);
        evicted.fetch_add(1, std::memory_order_relaxed);
      }
      lru.emplace_front();
      lru.front().ip = ip;
    } else {
      lru.splice(lru.begin(), lru, shard.rows[it->second].agg);
    }
    Aggregate& agg = lru.front();
    for (std::size_t i = 0; i < n; ++i) detail::apply_observation(agg, obs[i], pool, config.history_limit);
    agg.changed_at_us = now;

    const std::uint64_t s = ++next_seq;
    // Built before any reader lock is taken: readers never wait for JSON.
    auto rev = std::make_shared<const ProfileRevision>(detail::build_revision(agg, s, etag_prefix, pool));
    profile_bytes_total += profile_bytes(*rev);
    Row next = row_of(rev, is_new ? lru.begin() : shard.rows[it->second].agg);
    Row old;  // freed after the shard lock is released
    {
      std::unique_lock lock(shard.mu);
      if (is_new) {
        // Eviction above may have changed this shard: index anew.
        shard.index.emplace(ip, static_cast<std::uint32_t>(shard.rows.size()));
        shard.rows.push_back(std::move(next));
      } else {
        old = std::exchange(shard.rows[it->second], std::move(next));
      }
    }
    if (old.rev) profile_bytes_total -= profile_bytes(*old.rev);
    old = Row();
    pool.maybe_collect();
    observations.fetch_add(n, std::memory_order_relaxed);
    (is_new ? created : updated).fetch_add(1, std::memory_order_relaxed);
    profiles.store(lru.size(), std::memory_order_relaxed);
    update_bytes();
    emit(s, is_new ? EventType::kCreated : EventType::kUpdated, ip, rev);
  }

  // The current revision again under a new seq (ProfileStore::republish).
  // Not a change: the LRU position, changed_at_us (TTL) and the counters
  // of changes stay as they are.
  bool republish(const packet::IpAddress& ip, std::uint64_t seen_seq) {
    Shard& shard = shard_for(ip);
    const auto it = shard.index.find(ip);
    if (it == shard.index.end() || shard.rows[it->second].rev->seq != seen_seq) return false;
    const auto agg = shard.rows[it->second].agg;
    const std::uint64_t s = ++next_seq;
    // The aggregate is unchanged, so the revision differs only in seq (its
    // JSON `seq` field and its ETag).
    auto rev = std::make_shared<const ProfileRevision>(detail::build_revision(*agg, s, etag_prefix, pool));
    profile_bytes_total += profile_bytes(*rev);
    Row next = row_of(rev, agg);
    Row old;  // freed after the shard lock is released
    {
      std::unique_lock lock(shard.mu);
      old = std::exchange(shard.rows[it->second], std::move(next));
    }
    profile_bytes_total -= profile_bytes(*old.rev);
    old = Row();
    pool.maybe_collect();
    republished.fetch_add(1, std::memory_order_relaxed);
    update_bytes();
    emit(s, EventType::kUpdated, ip, rev, true);
    return true;
  }

  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const Shard& shard : shards) {
      std::shared_lock lock(shard.mu);
      for (const Row& row : shard.rows) fn(row.rev);
    }
  }
};

ProfileStore::ProfileStore(StoreConfig config, Clock clock)
    : impl_(std::make_unique<Impl>(config, std::move(clock))) {}

ProfileStore::~ProfileStore() = default;

void ProfileStore::apply(const analyzer::Observation& obs) { apply_batch({&obs, 1}); }

void ProfileStore::apply_batch(std::span<const analyzer::Observation> batch) {
  if (batch.empty()) return;
  std::lock_guard lock(impl_->write_mu);
  const std::int64_t now = impl_->now_us();
  impl_->expire(now);
  // Each run of observations about one IP is one change.
  std::size_t start = 0;
  for (std::size_t i = 1; i <= batch.size(); ++i) {
    if (i == batch.size() || subject_ip(batch[i]) != subject_ip(batch[start])) {
      impl_->apply(&batch[start], i - start, now);
      start = i;
    }
  }
  impl_->notify();
}

std::size_t ProfileStore::expire_now() {
  std::lock_guard lock(impl_->write_mu);
  const std::size_t n = impl_->expire(impl_->now_us());
  impl_->notify();
  return n;
}

bool ProfileStore::erase(const packet::IpAddress& ip) {
  std::lock_guard lock(impl_->write_mu);
  if (impl_->shard_for(ip).find(ip) == nullptr) return false;
  impl_->remove(ip, EventType::kDeleted);
  impl_->deleted.fetch_add(1, std::memory_order_relaxed);
  impl_->notify();
  return true;
}

std::size_t ProfileStore::clear() {
  std::lock_guard lock(impl_->write_mu);
  std::size_t n = 0;
  // One deleted event per profile, so that journal readers converge; a
  // reader left behind by a large clear gets a reset.
  while (!impl_->lru.empty()) {
    impl_->remove(impl_->lru.back().ip, EventType::kDeleted);
    impl_->deleted.fetch_add(1, std::memory_order_relaxed);
    ++n;
  }
  impl_->notify();
  return n;
}

bool ProfileStore::republish(const packet::IpAddress& ip, std::uint64_t seen_seq) {
  std::lock_guard lock(impl_->write_mu);
  const bool done = impl_->republish(ip, seen_seq);
  impl_->notify();
  return done;
}

ProfilePtr ProfileStore::get(const packet::IpAddress& ip) const {
  const Shard& shard = impl_->shard_for(ip);
  std::shared_lock lock(shard.mu);
  const Row* row = shard.find(ip);
  return row == nullptr ? nullptr : row->rev;
}

std::vector<ProfilePtr> ProfileStore::snapshot() const {
  std::vector<ProfilePtr> out;
  out.reserve(impl_->profiles.load(std::memory_order_relaxed));
  impl_->for_each([&](const ProfilePtr& rev) { out.push_back(rev); });
  return out;
}

QueryResult ProfileStore::query(const Query& q) const {
  QueryResult result;
  // Read first: the result reflects at least every change up to `seq`, so a
  // poller continuing from it misses nothing (it may see a revision twice).
  result.seq = seq();
  const std::string os = q.os ? lowercase(*q.os) : std::string();
  const std::string browser = q.browser ? lowercase(*q.browser) : std::string();
  const bool text = q.q && !q.q->empty();
  const std::size_t want = q.limit == 0 ? 0 : q.offset + std::min(q.limit, SIZE_MAX - q.offset);

  // `rev` is valid under the shard lock (the row holds it) and, once
  // copied out, through `keep`.
  struct Candidate {
    std::int64_t key;
    const ProfileRevision* rev;
    std::uint32_t row;
    ProfilePtr keep;
  };
  const auto key_of = [&](const Row& r) -> std::int64_t {
    switch (q.sort) {
      case Query::SortKey::kLastSeen: return r.last_seen_us;
      case Query::SortKey::kFirstSeen: return r.first_seen_us;
      case Query::SortKey::kConnections:
        return static_cast<std::int64_t>(std::min<std::uint64_t>(r.connections, INT64_MAX));
      case Query::SortKey::kOs:
      case Query::SortKey::kIp: break;
    }
    return 0;
  };
  // Ties broken by IP, so pages are stable.
  const auto less = [&](const Candidate& a, const Candidate& b) {
    if (a.key != b.key) return a.key < b.key;
    if (q.sort == Query::SortKey::kOs && a.rev->os != b.rev->os) return a.rev->os < b.rev->os;
    return a.rev->ip < b.rev->ip;
  };
  const auto before = [&](const Candidate& a, const Candidate& b) { return q.descending ? less(b, a) : less(a, b); };

  std::vector<Candidate> picked;
  std::vector<Candidate> local;
  for (const Shard& shard : impl_->shards) {
    local.clear();
    std::shared_lock lock(shard.mu);
    // Summary-field filters and the selection of this shard's best `want`
    // run under the shared lock; only the survivors' pointers are copied.
    // The free-text search reads whole JSON texts: it runs after the lock.
    for (std::size_t i = 0; i < shard.rows.size(); ++i) {
      const Row& row = shard.rows[i];
      if ((row.has & q.has) != q.has) continue;
      if (q.os && row.os_lower.view().find(os) == std::string_view::npos) continue;
      if (q.browser && row.browser_lower.view().find(browser) == std::string_view::npos) continue;
      if (q.ja4 && !ja4_matches(row.ja4.view(), *q.ja4)) continue;
      local.push_back(Candidate{key_of(row), row.rev.get(), static_cast<std::uint32_t>(i), nullptr});
    }
    if (!text) {
      result.total += local.size();
      if (local.size() > want) {
        std::nth_element(local.begin(), local.begin() + static_cast<std::ptrdiff_t>(want), local.end(), before);
        local.resize(want);
      }
    }
    for (Candidate& c : local) {
      c.keep = shard.rows[c.row].rev;
      picked.push_back(std::move(c));
    }
  }
  if (text) {
    std::erase_if(picked, [&](const Candidate& c) { return !c.keep->json.contains_ci(*q.q); });
    result.total = picked.size();
  }
  if (q.offset >= picked.size() || want == 0) return result;
  const std::size_t end = std::min(want, picked.size());
  std::partial_sort(picked.begin(), picked.begin() + static_cast<std::ptrdiff_t>(end), picked.end(), before);
  result.profiles.reserve(end - q.offset);
  for (std::size_t i = q.offset; i < end; ++i) result.profiles.push_back(std::move(picked[i].keep));
  return result;
}

std::uint64_t ProfileStore::seq() const { return impl_->seq.load(std::memory_order_acquire); }

Changes ProfileStore::changes_since(std::uint64_t since, std::size_t max_events) const {
  Changes c;
  std::vector<JournalEntry> entries;
  {
    std::shared_lock lock(impl_->journal_mu);
    const std::uint64_t newest = impl_->journal_newest;
    const std::uint64_t oldest = impl_->count == 0 ? newest + 1 : impl_->ring[impl_->head].seq;
    if (since > newest || since + 1 < oldest) {
      c.reset = true;
      c.seq = newest;
      return c;
    }
    // Journaled seqs are contiguous, so the first entry after `since` is at
    // a fixed offset from the oldest.
    const auto skip = static_cast<std::size_t>(since + 1 - oldest);
    const std::size_t n = std::min(impl_->count - skip, max_events);
    entries.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      entries.push_back(impl_->ring[(impl_->head + skip + i) % impl_->ring.size()]);
    }
    c.seq = n == 0 ? since : entries.back().seq;
  }
  c.events.reserve(entries.size());
  for (const JournalEntry& e : entries) {
    if (e.type == EventType::kCreated || e.type == EventType::kUpdated) {
      // The shard is updated before the journal, so the current revision is
      // this one or a later one (then this event is superseded).
      ProfilePtr rev = get(e.ip);
      if (!rev || rev->seq != e.seq) continue;
      c.events.push_back(StoreEvent{e.seq, e.type, rev->ip_text, std::move(rev), false});
    } else {
      c.events.push_back(StoreEvent{e.seq, e.type, e.ip.to_rfc5952_string(), nullptr, false});
    }
  }
  return c;
}

StoreCounters ProfileStore::counters() const {
  const Impl& i = *impl_;
  StoreCounters c;
  c.observations = i.observations.load(std::memory_order_relaxed);
  c.created = i.created.load(std::memory_order_relaxed);
  c.updated = i.updated.load(std::memory_order_relaxed);
  c.expired = i.expired.load(std::memory_order_relaxed);
  c.evicted = i.evicted.load(std::memory_order_relaxed);
  c.deleted = i.deleted.load(std::memory_order_relaxed);
  c.republished = i.republished.load(std::memory_order_relaxed);
  c.journal_dropped = i.journal_dropped.load(std::memory_order_relaxed);
  c.profiles = i.profiles.load(std::memory_order_relaxed);
  c.approx_bytes = i.approx_bytes.load(std::memory_order_relaxed);
  return c;
}

ProfileStore::Breakdown ProfileStore::breakdown() const {
  Breakdown b;
  std::unordered_map<std::string, std::size_t> os, browser;
  for (const ProfilePtr& rev : snapshot()) {
    ++os[rev->os.empty() ? std::string("unknown") : rev->os];
    ++browser[rev->browser.empty() ? std::string("unknown") : rev->browser];
    if ((rev->has & kHasTcp) != 0) ++b.tcp;
    if ((rev->has & kHasHttp) != 0) ++b.http;
    if ((rev->has & kHasTls) != 0) ++b.tls;
    if ((rev->has & kHasHttp2) != 0) ++b.http2;
  }
  // Largest first, then by name: stable output for the API.
  const auto sorted = [](std::unordered_map<std::string, std::size_t>& m) {
    std::vector<std::pair<std::string, std::size_t>> v(std::make_move_iterator(m.begin()),
                                                       std::make_move_iterator(m.end()));
    std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) {
      return x.second != y.second ? x.second > y.second : x.first < y.first;
    });
    return v;
  };
  b.by_os = sorted(os);
  b.by_browser = sorted(browser);
  return b;
}

std::uint64_t ProfileStore::subscribe(Listener listener) {
  std::lock_guard lock(impl_->write_mu);
  const std::uint64_t id = impl_->next_listener_id++;
  impl_->listeners.emplace_back(id, std::move(listener));
  return id;
}

void ProfileStore::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(impl_->write_mu);
  std::erase_if(impl_->listeners, [id](const auto& entry) { return entry.first == id; });
}

}  // namespace huginn::store
