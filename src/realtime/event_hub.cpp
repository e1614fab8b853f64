#include "huginn/realtime/event_hub.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "realtime/request_params.hpp"
#include "realtime/wire.hpp"

namespace huginn::realtime {
namespace {

using TimePoint = std::chrono::steady_clock::time_point;
constexpr TimePoint kNever = TimePoint::max();
// How often a catch-up the transport refused is tried again: the
// ResponseWriter has no "queue drained" notification.
constexpr std::chrono::milliseconds kCatchupRetry{10};
// changes_since() page size while resuming.
constexpr std::size_t kJournalPage = 4096;
// A long poll waits at most this long, whatever the caller asks.
constexpr std::chrono::hours kMaxWait{24};
constexpr std::size_t kChannels = 3;

constexpr std::size_t index_of(Channel c) { return static_cast<std::size_t>(c); }

// One change as the hub publishes it, with its wire form for each channel
// that had subscribers when it was built: serialised once, shared by all.
struct Published {
  std::uint64_t seq = 0;
  store::EventType type = store::EventType::kCreated;
  std::string ip;
  store::ProfilePtr profile;  // null for expired/deleted
  std::string sse;
  std::string ndjson;        // with the profile JSON
  std::string ndjson_short;  // the push channel's progress line (profiles only)
};
using PublishedPtr = std::shared_ptr<const Published>;

bool icontains(std::string_view hay, std::string_view needle) {
  const auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != hay.end();
}

// Whether a revision matches the os/ja4 part of a filter.
bool matches_profile(const Filter& f, const store::ProfileRevision& p) {
  if (f.os && !icontains(p.os, *f.os)) return false;
  if (f.ja4 && p.ja4 != *f.ja4) return false;
  return true;
}

// The API's error shape ({error, message[, parameter]}, docs/api.md).
server::Response error_response(int status, std::string_view code, std::string_view message,
                                std::string_view parameter = {}) {
  server::Response r;
  r.status = status;
  r.headers = {{"content-type", "application/json"}, {"cache-control", "no-store"}};
  r.body = "{\"error\":" + detail::json_quote(code) + ",\"message\":" + detail::json_quote(message);
  if (!parameter.empty()) r.body += ",\"parameter\":" + detail::json_quote(parameter);
  r.body += "}";
  return r;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// What a new subscriber is sent before live events: `head`, then the
// reset snapshot's profiles joined by commas, `tail`, then journal events.
// Produced lazily in chunks, so a snapshot of 100k profiles costs a vector
// of pointers, not a copy of every JSON text.
struct Catchup {
  std::string head;
  std::vector<store::ProfilePtr> profiles;
  std::string tail;
  std::vector<store::StoreEvent> events;
  std::uint64_t through = 0;  // the subscriber has everything through this seq once done
  std::size_t next_profile = 0;
  std::size_t next_event = 0;
  bool head_done = false;
  bool tail_done = false;
  std::string chunk;  // built but not yet taken by the writer
  TimePoint started{};
};

// One stream. The hub's list holds it until it ends; the writer's on_close
// callback holds a weak reference.
struct Subscriber {
  Subscriber(Channel c, Filter f, std::shared_ptr<server::ResponseWriter> w)
      : channel(c), filter(std::move(f)), writer(std::move(w)) {}

  const Channel channel;
  const Filter filter;
  const std::shared_ptr<server::ResponseWriter> writer;
  std::atomic<bool> closed{false};   // the stream ended (on_close)
  std::atomic<bool> removed{false};  // taken out of the hub's list

  std::mutex mu;
  // Guarded by mu. Written by the subscribing I/O thread during catch-up
  // and by the dispatcher afterwards.
  bool has_catchup = false;  // the subscribing thread installed `catchup`
  bool ready = false;        // catch-up written: live events go to the writer
  bool dead = false;   // finished or closed: never written again
  std::uint64_t last_seq = 0;  // newest seq sent (dedup: only newer ones go out)
  Catchup catchup;
  std::vector<PublishedPtr> backlog;  // live events that arrived during catch-up
  std::size_t backlog_bytes = 0;
  // IPs sent under an os/ja4 filter, so their expiry/deletion passes it.
  std::unordered_set<std::string> sent_ips;
  bool sent_ips_full = false;
};
using SubPtr = std::shared_ptr<Subscriber>;
using SubList = std::vector<SubPtr>;

}  // namespace

struct EventHub::Impl {
  Impl(store::ProfileStore& s, HubConfig c) : store(s), cfg(std::move(c)) {
    if (!cfg.clock) cfg.clock = [] { return std::chrono::steady_clock::now(); };
    if (cfg.catchup_chunk_bytes == 0) cfg.catchup_chunk_bytes = 1;
    subs = std::make_shared<const SubList>();
    const TimePoint now = cfg.clock();
    next_heartbeat = now + cfg.heartbeat_interval;
    next_stats = now + cfg.stats_interval;
    latest_seq = store.seq();
  }

  store::ProfileStore& store;
  HubConfig cfg;
  std::uint64_t listener_id = 0;
  std::thread thread;

  std::mutex mu;
  std::condition_variable cv;
  // --- guarded by mu ---
  bool stopping = false;
  bool wake = false;
  std::uint64_t latest_seq = 0;  // newest seq the store reported
  // Coalescing: at most one pending event per IP, released in seq order.
  std::map<std::uint64_t, store::StoreEvent> pending;
  std::unordered_map<std::string, std::uint64_t> pending_by_ip;
  // When each IP was last published, for IPs published within the last
  // interval; `published_order` lets the old entries be pruned in order.
  std::unordered_map<std::string, TimePoint> last_published;
  std::deque<std::pair<TimePoint, std::string>> published_order;
  // Copy-on-write so the dispatcher takes the list without copying it.
  std::shared_ptr<const SubList> subs;
  std::array<std::size_t, kChannels> channel_count{};
  struct Waiter {
    WaitCallback callback;
    std::multimap<std::uint64_t, std::uint64_t>::iterator by_since;
    std::multimap<TimePoint, std::uint64_t>::iterator by_deadline;
  };
  std::unordered_map<std::uint64_t, Waiter> waiters;
  std::multimap<std::uint64_t, std::uint64_t> waiters_by_since;
  std::multimap<TimePoint, std::uint64_t> waiters_by_deadline;
  std::uint64_t next_waiter_id = 1;
  TimePoint next_heartbeat{};
  TimePoint next_stats{};
  // --- end of mu ---
  bool stopped = false;  // stop() ran; guarded by stop_mu
  std::mutex stop_mu;

  std::atomic<std::uint64_t> subscribers_total{0};
  std::atomic<std::uint64_t> dropped_slow{0};
  std::atomic<std::uint64_t> events_published{0};
  std::atomic<std::uint64_t> events_coalesced{0};
  std::atomic<std::uint64_t> bytes_sent{0};
  std::atomic<std::uint64_t> resets_sent{0};
  std::atomic<std::uint64_t> pushes_sent{0};
  std::atomic<std::uint64_t> waiters_rejected{0};

  // The store's listener: on the store's writer thread, with its writer
  // mutex held. Queues and wakes; no fan-out here.
  void on_store_event(const store::StoreEvent& ev) {
    std::lock_guard l(mu);
    if (stopping) return;
    latest_seq = std::max(latest_seq, ev.seq);
    auto [it, fresh] = pending_by_ip.try_emplace(ev.ip_text, ev.seq);
    if (!fresh) {
      // A newer change to this IP replaces the one still waiting: the
      // journal keeps only newest revisions too (Changes, "Coalesced").
      pending.erase(it->second);
      it->second = ev.seq;
      events_coalesced.fetch_add(1, std::memory_order_relaxed);
    }
    pending.emplace(ev.seq, ev);
    if (!wake) {
      wake = true;
      cv.notify_one();
    }
  }

  // --- per-subscriber work; the caller holds s.mu ---

  void remember_ip(Subscriber& s, const std::string& ip) const {
    if (s.sent_ips_full) return;
    if (s.sent_ips.size() >= cfg.max_filter_ips) {
      s.sent_ips_full = true;
      s.sent_ips.clear();
      return;
    }
    s.sent_ips.insert(ip);
  }

  // Filter rules (docs/realtime.md "Filters"): ip by the event's IP for
  // every event; os/ja4 by the revision, and an expiry/deletion passes them
  // only if this subscriber was sent that IP.
  bool passes(Subscriber& s, const std::string& ip, const store::ProfileRevision* profile) const {
    const Filter& f = s.filter;
    if (f.ip && *f.ip != ip) return false;
    if (!f.os && !f.ja4) return true;
    if (profile != nullptr) {
      if (!matches_profile(f, *profile)) return false;
      remember_ip(s, ip);
      return true;
    }
    if (s.sent_ips_full) return true;
    return s.sent_ips.erase(ip) > 0;
  }

  // HTTP/2 server push of one revision (RFC 9113 §8.4). Every current
  // browser refuses pushes (Chrome removed push in 106, Firefox in 132), so
  // only nghttp, libcurl's push callback and our own clients get here;
  // browsers use SSE. push_enabled() follows the peer's
  // SETTINGS_ENABLE_PUSH, which a client may turn off at any time: a
  // refused push falls back to the full NDJSON line.
  bool push(Subscriber& s, const store::ProfileRevision& p) {
    server::Response r;
    r.status = 200;
    r.headers = {{"content-type", "application/json"}, {"etag", p.etag}};
    r.body = p.json.str();
    if (!s.writer->push("/api/profiles/" + p.ip_text + "?rev=" + std::to_string(p.seq), std::move(r))) {
      return false;
    }
    pushes_sent.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  // Appends one event in `s`'s channel form to `out` unless it is a
  // duplicate or filtered out. `pub` carries prebuilt forms (may be null).
  void append_event(Subscriber& s, std::uint64_t seq, store::EventType type, const std::string& ip,
                    const store::ProfilePtr& profile, const Published* pub, std::string& out) {
    if (seq <= s.last_seq) return;
    s.last_seq = seq;
    if (!passes(s, ip, profile.get())) return;
    switch (s.channel) {
      case Channel::kSse:
        if (pub != nullptr && !pub->sse.empty()) {
          out += pub->sse;
        } else if (profile) {
          detail::append_sse_event(out, detail::sse_event_name(type), seq, profile->json);
        } else {
          detail::append_sse_event(out, detail::sse_event_name(type), seq, detail::removal_json(ip, seq));
        }
        return;
      case Channel::kPush:
        if (profile && push(s, *profile)) {
          if (pub != nullptr && !pub->ndjson_short.empty()) {
            out += pub->ndjson_short;
          } else {
            detail::append_ndjson_event(out, type, ip, seq, profile.get(), false);
          }
          return;
        }
        [[fallthrough]];
      case Channel::kNdjson:
        if (pub != nullptr && !pub->ndjson.empty()) {
          out += pub->ndjson;
        } else {
          detail::append_ndjson_event(out, type, ip, seq, profile.get(), true);
        }
        return;
    }
  }

  // Ends a subscriber that cannot keep up (counted as dropped_slow), or
  // quietly one whose peer is already gone.
  void cut_off(Subscriber& s) {
    if (s.dead) return;
    s.dead = true;
    s.catchup = Catchup{};
    s.backlog.clear();
    s.backlog_bytes = 0;
    if (s.closed.load()) return;
    dropped_slow.fetch_add(1, std::memory_order_relaxed);
    s.writer->finish();
  }

  // A live write: the transport's queue is the bound, a refusal cuts off.
  void write_live(Subscriber& s, std::string data) {
    const std::size_t n = data.size();
    if (s.writer->write(std::move(data))) {
      bytes_sent.fetch_add(n, std::memory_order_relaxed);
    } else {
      cut_off(s);
    }
  }

  // Fills s.catchup.chunk with up to catchup_chunk_bytes of what is left.
  void fill_chunk(Subscriber& s) {
    Catchup& c = s.catchup;
    while (c.chunk.size() < cfg.catchup_chunk_bytes) {
      if (!c.head_done) {
        c.chunk += c.head;
        c.head_done = true;
      } else if (c.next_profile < c.profiles.size()) {
        if (c.next_profile > 0) c.chunk += ',';
        detail::append_one_line(c.chunk, c.profiles[c.next_profile]->json);
        c.profiles[c.next_profile++].reset();  // the revision may go now
      } else if (!c.tail_done) {
        c.chunk += c.tail;
        c.tail_done = true;
      } else if (c.next_event < c.events.size()) {
        store::StoreEvent& e = c.events[c.next_event++];
        append_event(s, e.seq, e.type, e.ip_text, e.profile, nullptr, c.chunk);
        e.profile.reset();
      } else {
        break;
      }
    }
  }

  // Writes as much of the catch-up as the transport takes; when it is all
  // written, flushes the backlog and makes the subscriber live. A refusal
  // leaves the chunk for the next try (the dispatcher retries every
  // kCatchupRetry) until catchup_timeout.
  void progress_catchup(Subscriber& s, TimePoint now) {
    if (s.dead || s.ready) return;
    if (s.closed.load()) {
      cut_off(s);
      return;
    }
    for (;;) {
      if (s.catchup.chunk.empty()) fill_chunk(s);
      if (s.catchup.chunk.empty()) break;
      const std::size_t n = s.catchup.chunk.size();
      if (!s.writer->write(s.catchup.chunk)) {
        if (now - s.catchup.started > cfg.catchup_timeout) cut_off(s);
        return;
      }
      bytes_sent.fetch_add(n, std::memory_order_relaxed);
      s.catchup.chunk.clear();
    }
    s.last_seq = std::max(s.last_seq, s.catchup.through);
    s.catchup = Catchup{};
    s.ready = true;
    std::string out;
    for (const PublishedPtr& p : s.backlog) append_event(s, p->seq, p->type, p->ip, p->profile, p.get(), out);
    s.backlog.clear();
    s.backlog_bytes = 0;
    if (!out.empty()) write_live(s, std::move(out));
  }

  // --- hub-level work ---

  void remove(const SubPtr& s) {
    if (s->removed.exchange(true)) return;
    std::lock_guard l(mu);
    auto next = std::make_shared<SubList>();
    next->reserve(subs->size());
    for (const SubPtr& x : *subs) {
      if (x != s) next->push_back(x);
    }
    if (next->size() != subs->size()) --channel_count[index_of(s->channel)];
    subs = std::move(next);
  }

  // Builds the catch-up for a new subscriber: a journal replay from
  // `resume`, or (no resume point, or one the journal cannot serve) a
  // reset snapshot. Store reads only; the subscriber is already registered,
  // so every event after the catch-up's `through` reaches it live.
  Catchup build_catchup(Channel channel, const Filter& filter, std::optional<std::uint64_t> resume) {
    Catchup c;
    if (channel == Channel::kSse) c.head = "retry: " + std::to_string(cfg.sse_retry.count()) + "\n\n";
    bool reset = !resume.has_value();
    if (resume) {
      std::uint64_t since = *resume;
      const std::uint64_t target = store.seq();
      for (;;) {
        store::Changes ch = store.changes_since(since, kJournalPage);
        if (ch.reset) {
          reset = true;
          c.events.clear();
          break;
        }
        const bool progressed = ch.seq != since;
        since = ch.seq;
        for (store::StoreEvent& e : ch.events) c.events.push_back(std::move(e));
        // Events after `target` arrive live anyway; stop chasing a busy writer.
        if (!progressed || since >= target) break;
      }
      c.through = since;
    }
    if (reset) {
      // Every revision with seq <= S is in the snapshot (the store publishes
      // seq after the revision); newer revisions are left out because they
      // reach the subscriber live, which keeps "no revision twice".
      const std::uint64_t s = store.seq();
      std::vector<store::ProfilePtr> snap = store.snapshot();
      std::erase_if(snap, [&](const store::ProfilePtr& p) {
        return p->seq > s || (filter.ip && *filter.ip != p->ip_text) || !matches_profile(filter, *p);
      });
      std::sort(snap.begin(), snap.end(), [](const auto& a, const auto& b) { return a->seq < b->seq; });
      c.profiles = std::move(snap);
      const std::string seq_text = std::to_string(s);
      if (channel == Channel::kSse) {
        c.head += "event: reset\nid: " + seq_text + "\ndata: {\"seq\":" + seq_text + ",\"profiles\":[";
        c.tail = "]}\n\n";
      } else {
        c.head += "{\"type\":\"reset\",\"seq\":" + seq_text + ",\"profiles\":[";
        c.tail = "]}\n";
      }
      c.through = s;
      resets_sent.fetch_add(1, std::memory_order_relaxed);
    }
    return c;
  }

  bool subscribe(const std::shared_ptr<Impl>& self, std::shared_ptr<server::ResponseWriter> writer,
                 SubscribeOptions options) {
    auto sub = std::make_shared<Subscriber>(options.channel, std::move(options.filter), writer);
    {
      std::unique_lock l(mu);
      const char* refusal = stopping ? "the server is shutting down"
                            : subs->size() >= cfg.max_subscribers ? "too many event streams"
                                                                  : nullptr;
      if (refusal != nullptr) {
        l.unlock();
        writer->send(error_response(503, "service_unavailable", refusal));
        return false;
      }
      auto next = std::make_shared<SubList>(*subs);
      next->push_back(sub);
      subs = std::move(next);
      ++channel_count[index_of(sub->channel)];
    }
    subscribers_total.fetch_add(1, std::memory_order_relaxed);
    writer->on_close([weak_hub = std::weak_ptr<Impl>(self), weak_sub = std::weak_ptr<Subscriber>(sub)] {
      const SubPtr s = weak_sub.lock();
      if (!s) return;
      s->closed = true;
      if (const auto hub = weak_hub.lock()) hub->remove(s);
    });
    server::Headers headers;
    if (sub->channel == Channel::kSse) {
      headers.emplace_back("content-type", "text/event-stream; charset=utf-8");
    } else {
      headers.emplace_back("content-type", "application/x-ndjson");
    }
    headers.emplace_back("cache-control", "no-store");
    // nginx would otherwise buffer the stream (its proxy_buffering).
    headers.emplace_back("x-accel-buffering", "no");
    if (!writer->start_stream(200, std::move(headers))) {
      remove(sub);
      return false;
    }
    Catchup c = build_catchup(sub->channel, sub->filter, options.last_event_id);
    bool waiting = false;
    bool dead = false;
    {
      std::lock_guard l(sub->mu);
      if (!sub->dead) {
        if (sub->filter.os || sub->filter.ja4) {
          for (const store::ProfilePtr& p : c.profiles) remember_ip(*sub, p->ip_text);
        }
        sub->catchup = std::move(c);
        sub->has_catchup = true;
        sub->catchup.started = cfg.clock();
        progress_catchup(*sub, sub->catchup.started);
        waiting = !sub->ready && !sub->dead;
      }
      dead = sub->dead;
    }
    if (dead) remove(sub);
    if (waiting) {
      std::lock_guard l(mu);
      wake = true;
      cv.notify_one();
    }
    return true;
  }

  WaitStart wait(std::uint64_t since, std::chrono::milliseconds timeout, WaitCallback callback) {
    timeout = std::clamp<std::chrono::milliseconds>(timeout, std::chrono::milliseconds{0}, kMaxWait);
    std::lock_guard l(mu);
    if (stopping) return WaitStart::kStopped;
    if (waiters.size() >= cfg.max_waiters) {
      waiters_rejected.fetch_add(1, std::memory_order_relaxed);
      return WaitStart::kTooManyWaiters;
    }
    const std::uint64_t id = next_waiter_id++;
    Waiter w;
    w.callback = std::move(callback);
    w.by_since = waiters_by_since.emplace(since, id);
    w.by_deadline = waiters_by_deadline.emplace(cfg.clock() + timeout, id);
    waiters.emplace(id, std::move(w));
    if (!wake) {
      wake = true;
      cv.notify_one();
    }
    return WaitStart::kWaiting;
  }

  using Fired = std::vector<std::pair<WaitCallback, WaitResult>>;
  // Caller holds mu.
  void take_waiter(std::uint64_t id, WaitResult result, Fired& fired) {
    const auto it = waiters.find(id);
    if (it == waiters.end()) return;
    waiters_by_since.erase(it->second.by_since);
    waiters_by_deadline.erase(it->second.by_deadline);
    fired.emplace_back(std::move(it->second.callback), result);
    waiters.erase(it);
  }

  std::string stats_json(std::size_t subscribers) const {
    const store::StoreCounters c = store.counters();
    return "{\"seq\":" + std::to_string(store.seq()) + ",\"profiles\":" + std::to_string(c.profiles) +
           ",\"observations\":" + std::to_string(c.observations) + ",\"created\":" + std::to_string(c.created) +
           ",\"updated\":" + std::to_string(c.updated) + ",\"expired\":" + std::to_string(c.expired) +
           ",\"evicted\":" + std::to_string(c.evicted) + ",\"deleted\":" + std::to_string(c.deleted) +
           ",\"subscribers\":" + std::to_string(subscribers) + "}";
  }

  // One dispatcher pass: release due events, fan them out, heartbeats,
  // stats, stalled catch-ups, waiters. Returns when the next work is due.
  TimePoint round() {
    const TimePoint now = cfg.clock();
    std::vector<store::StoreEvent> released;
    Fired fired;
    std::uint64_t seq_now = 0;
    bool heartbeat = false;
    bool stats = false;
    std::shared_ptr<const SubList> list;
    std::array<std::size_t, kChannels> counts{};
    TimePoint next = kNever;
    {
      std::lock_guard l(mu);
      wake = false;
      if (stopping) return kNever;
      const auto interval = cfg.coalesce_interval;
      if (interval.count() > 0) {
        while (!published_order.empty() && published_order.front().first + interval <= now) {
          const auto it = last_published.find(published_order.front().second);
          if (it != last_published.end() && it->second == published_order.front().first) last_published.erase(it);
          published_order.pop_front();
        }
      }
      // In seq order; an IP still inside its interval holds the queue, so
      // ids stay ascending on every stream (header comment).
      while (!pending.empty()) {
        auto head = pending.begin();
        const std::string& ip = head->second.ip_text;
        if (interval.count() > 0) {
          const auto lp = last_published.find(ip);
          if (lp != last_published.end() && lp->second + interval > now) {
            next = std::min(next, lp->second + interval);
            break;
          }
          last_published[ip] = now;
          published_order.emplace_back(now, ip);
        }
        pending_by_ip.erase(ip);
        released.push_back(std::move(head->second));
        pending.erase(head);
      }
      seq_now = latest_seq;
      while (!waiters_by_since.empty() && waiters_by_since.begin()->first < latest_seq) {
        take_waiter(waiters_by_since.begin()->second, WaitResult::kChanged, fired);
      }
      while (!waiters_by_deadline.empty() && waiters_by_deadline.begin()->first <= now) {
        take_waiter(waiters_by_deadline.begin()->second, WaitResult::kTimeout, fired);
      }
      if (!waiters_by_deadline.empty()) next = std::min(next, waiters_by_deadline.begin()->first);
      if (cfg.heartbeat_interval.count() > 0) {
        if (now >= next_heartbeat) {
          heartbeat = true;
          next_heartbeat = now + cfg.heartbeat_interval;
        }
        next = std::min(next, next_heartbeat);
      }
      if (cfg.stats_interval.count() > 0) {
        if (now >= next_stats) {
          stats = true;
          next_stats = now + cfg.stats_interval;
        }
        next = std::min(next, next_stats);
      }
      list = subs;
      counts = channel_count;
    }

    std::vector<PublishedPtr> batch;
    batch.reserve(released.size());
    for (store::StoreEvent& e : released) {
      auto p = std::make_shared<Published>();
      p->seq = e.seq;
      p->type = e.type;
      p->ip = std::move(e.ip_text);
      p->profile = std::move(e.profile);
      const store::ProfileRevision* rev = p->profile.get();
      if (counts[index_of(Channel::kSse)] > 0) {
        if (rev != nullptr) {
          detail::append_sse_event(p->sse, detail::sse_event_name(p->type), p->seq, rev->json);
        } else {
          detail::append_sse_event(p->sse, detail::sse_event_name(p->type), p->seq, detail::removal_json(p->ip, p->seq));
        }
      }
      if (counts[index_of(Channel::kNdjson)] > 0 || counts[index_of(Channel::kPush)] > 0) {
        detail::append_ndjson_event(p->ndjson, p->type, p->ip, p->seq, rev, true);
      }
      if (counts[index_of(Channel::kPush)] > 0 && rev != nullptr) {
        detail::append_ndjson_event(p->ndjson_short, p->type, p->ip, p->seq, rev, false);
      }
      batch.push_back(std::move(p));
    }
    events_published.fetch_add(batch.size(), std::memory_order_relaxed);

    std::array<std::string, kChannels> stats_text;
    if (stats) {
      const std::string json = stats_json(list->size());
      detail::append_sse_event(stats_text[index_of(Channel::kSse)], "stats", std::nullopt, json);
      stats_text[index_of(Channel::kNdjson)] = "{\"type\":\"stats\",\"stats\":" + json + "}\n";
      stats_text[index_of(Channel::kPush)] = stats_text[index_of(Channel::kNdjson)];
    }
    // The whole batch in one string per channel for unfiltered subscribers
    // that are up to date: built on first use, then one copy per write().
    std::array<std::optional<std::string>, kChannels> joined;
    auto joined_for = [&](Channel c) -> const std::string& {
      auto& j = joined[index_of(c)];
      if (!j) {
        j.emplace();
        for (const PublishedPtr& p : batch) *j += c == Channel::kSse ? p->sse : p->ndjson;
      }
      return *j;
    };

    bool catching_up = false;
    std::vector<SubPtr> gone;
    for (const SubPtr& sp : *list) {
      Subscriber& s = *sp;
      std::lock_guard l(s.mu);
      if (s.dead) continue;
      if (s.closed.load()) {
        s.dead = true;
        gone.push_back(sp);
        continue;
      }
      if (!s.ready) {
        for (const PublishedPtr& p : batch) {
          s.backlog.push_back(p);
          s.backlog_bytes += p->sse.size() + p->ndjson.size() + sizeof(Published);
        }
        if (s.backlog_bytes > cfg.subscriber_queue_bytes) {
          cut_off(s);
        } else if (s.has_catchup) {
          // Before that, the subscribing thread is still reading the store:
          // writing now would put live events ahead of the catch-up.
          progress_catchup(s, now);
        }
        if (s.dead) gone.push_back(sp);
        catching_up = catching_up || !s.ready;
        continue;
      }
      std::string out;
      if (!batch.empty()) {
        if (!s.filter.active() && s.channel != Channel::kPush && batch.front()->seq > s.last_seq) {
          out = joined_for(s.channel);
          s.last_seq = batch.back()->seq;
        } else {
          for (const PublishedPtr& p : batch) append_event(s, p->seq, p->type, p->ip, p->profile, p.get(), out);
        }
      }
      if (heartbeat && s.channel == Channel::kSse) out += ": hb\n\n";
      if (stats) out += stats_text[index_of(s.channel)];
      if (!out.empty()) write_live(s, std::move(out));
      if (s.dead) gone.push_back(sp);
    }
    for (const SubPtr& sp : gone) remove(sp);
    for (auto& [callback, result] : fired) {
      if (callback) callback(result, seq_now);
    }
    if (catching_up) next = std::min(next, now + kCatchupRetry);
    return next;
  }

  void run() {
    for (;;) {
      TimePoint next = kNever;
      try {
        next = round();
      } catch (const std::exception&) {
        // Out of memory while building a batch: the events of this pass are
        // lost for live subscribers (a resume still finds them in the
        // journal); keep the thread alive for everyone else.
        next = cfg.clock() + kCatchupRetry;
      }
      std::unique_lock l(mu);
      if (stopping) return;
      const auto ready = [this] { return stopping || wake; };
      if (next == kNever) {
        cv.wait(l, ready);
      } else {
        cv.wait_until(l, next, ready);
      }
    }
  }

  void stop() {
    {
      std::lock_guard sl(stop_mu);
      if (stopped) return;
      stopped = true;
    }
    // Outside mu: the store calls the listener with its writer mutex held
    // and the listener takes mu.
    store.unsubscribe(listener_id);
    Fired fired;
    std::shared_ptr<const SubList> list;
    std::uint64_t seq_now = 0;
    {
      std::lock_guard l(mu);
      stopping = true;
      seq_now = latest_seq;
      while (!waiters.empty()) take_waiter(waiters.begin()->first, WaitResult::kStopped, fired);
      list = std::exchange(subs, std::make_shared<const SubList>());
      channel_count = {};
      cv.notify_all();
    }
    if (thread.joinable() && thread.get_id() != std::this_thread::get_id()) thread.join();
    for (const SubPtr& sp : *list) {
      sp->removed = true;
      std::lock_guard l(sp->mu);
      if (sp->dead) continue;
      sp->dead = true;
      sp->writer->finish();
    }
    for (auto& [callback, result] : fired) {
      if (callback) callback(result, seq_now);
    }
  }
};

EventHub::EventHub(store::ProfileStore& store, HubConfig config)
    : impl_(std::make_shared<Impl>(store, std::move(config))) {
  Impl* impl = impl_.get();
  impl_->listener_id = store.subscribe([impl](const store::StoreEvent& ev) { impl->on_store_event(ev); });
  if (impl_->cfg.start_thread) impl_->thread = std::thread([impl] { impl->run(); });
}

EventHub::~EventHub() { stop(); }

void EventHub::stop() { impl_->stop(); }

std::chrono::steady_clock::time_point EventHub::run_once() { return impl_->round(); }

bool EventHub::subscribe(std::shared_ptr<server::ResponseWriter> writer, SubscribeOptions options) {
  return impl_->subscribe(impl_, std::move(writer), std::move(options));
}

WaitStart EventHub::wait(std::uint64_t since, std::chrono::milliseconds timeout, WaitCallback callback) {
  return impl_->wait(since, timeout, std::move(callback));
}

namespace {

// A handler that parses the query (filters and the resume parameter
// `resume_name`), answers 400/503 itself, and lets `finish` pick the
// channel and adjust the options before subscribing.
template <typename Finish>
server::Handler stream_entry(std::weak_ptr<EventHub::Impl> weak, std::string_view resume_name, Finish finish) {
  return [weak = std::move(weak), resume_name, finish](server::Request req,
                                                       std::shared_ptr<server::ResponseWriter> writer) {
    const auto impl = weak.lock();
    if (!impl) {
      writer->send(error_response(503, "service_unavailable", "the server is shutting down"));
      return;
    }
    detail::ParamError err;
    auto params = detail::parse_stream_params(req.query, resume_name, err);
    if (!params) {
      writer->send(error_response(400, "bad_request", err.message, err.parameter));
      return;
    }
    SubscribeOptions o;
    o.filter = std::move(params->filter);
    o.last_event_id = params->resume;
    finish(req, *writer, o);
    impl->subscribe(impl, std::move(writer), std::move(o));
  };
}

}  // namespace

server::Handler EventHub::sse_handler() {
  return stream_entry(impl_, "last_event_id",
                      [](const server::Request& req, server::ResponseWriter&, SubscribeOptions& o) {
                        o.channel = Channel::kSse;
                        // HTML §9.2.4: a reconnecting EventSource sends the
                        // last id it saw. Ids that are not ours (another
                        // server, a proxy) cannot be resumed from: such a
                        // client starts again with a reset.
                        if (const auto h = req.header("last-event-id")) {
                          o.last_event_id = detail::parse_seq(trim(*h));
                        }
                      });
}

server::Handler EventHub::stream_handler() {
  return stream_entry(impl_, "since", [](const server::Request&, server::ResponseWriter& w, SubscribeOptions& o) {
    o.channel = w.push_enabled() ? Channel::kPush : Channel::kNdjson;
  });
}

std::vector<std::pair<std::string, std::uint64_t>> EventHub::counters() const {
  Impl& i = *impl_;
  std::uint64_t current = 0;
  std::uint64_t waiting = 0;
  {
    std::lock_guard l(i.mu);
    current = i.subs->size();
    waiting = i.waiters.size();
  }
  const auto r = std::memory_order_relaxed;
  return {
      {"subscribers_current", current},
      {"subscribers_total", i.subscribers_total.load(r)},
      {"dropped_slow", i.dropped_slow.load(r)},
      {"events_published", i.events_published.load(r)},
      {"events_coalesced", i.events_coalesced.load(r)},
      {"bytes_sent", i.bytes_sent.load(r)},
      {"resets_sent", i.resets_sent.load(r)},
      {"pushes_sent", i.pushes_sent.load(r)},
      {"waiters_current", waiting},
      {"waiters_rejected", i.waiters_rejected.load(r)},
  };
}

}  // namespace huginn::realtime
