#include "huginn/realtime/event_hub.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "realtime/request_params.hpp"
#include "realtime/wire.hpp"
#include "realtime/ws_control.hpp"

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
constexpr std::size_t kChannels = 4;

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
  std::string ws;            // the /ws message, '\n'-terminated (wire.hpp)
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

// GET /ws without a WebSocket handshake. RFC 6455 §4.4: a version we do
// not speak gets the versions we do in Sec-WebSocket-Version; RFC 9110
// §15.5.22: a 426 names the protocol to upgrade to in Upgrade. Upgrade is
// connection-specific, forbidden in HTTP/2 (RFC 9113 §8.2.2), where
// RFC 8441's extended CONNECT is the way in, so only HTTP/1.1 gets it.
server::Response upgrade_required(bool http11) {
  server::Response r = error_response(426, "upgrade_required",
                                      "this endpoint is a WebSocket (RFC 6455 version 13, or RFC 8441 over HTTP/2)");
  r.headers.emplace_back("sec-websocket-version", "13");
  if (http11) r.headers.emplace_back("upgrade", "websocket");
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
  // /ws only: `head` holds whole messages (control answers), the reset
  // message is `ws_reset_head`, profiles that fit, `tail`; profiles that
  // do not fit follow as id-less `profile` messages (HubConfig).
  bool reset = false;
  std::string ws_reset_head;
  bool ws_reset_done = false;
};

// One stream. The hub's list holds it until it ends; the writer's on_close
// callback holds a weak reference.
struct Subscriber {
  Subscriber(Channel c, Filter f, std::shared_ptr<server::ResponseWriter> w)
      : channel(c), filter(std::move(f)), writer(std::move(w)) {}

  const Channel channel;
  Filter filter;  // guarded by mu; only a /ws control message changes it
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
  // /ws only, guarded by mu. `ws` is null until the handshake is accepted.
  std::shared_ptr<server::WebSocket> ws;
  bool paused = false;  // live events are skipped; resume replays them
  // /ws: held while a control message is handled, so that two of them
  // never rebuild the subscription at once (the transport delivers them in
  // order on one thread today; this keeps it right if that changes).
  std::mutex control_mu;
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
  // Newest seq of a change the store reported. A republished revision is
  // not a change (its content was already issued under an older seq, which
  // woke every waiter below it), so it wakes no waiter.
  std::uint64_t latest_seq = 0;
  // Coalescing: at most one pending event per IP, released in seq order.
  std::map<std::uint64_t, store::StoreEvent> pending;
  std::unordered_map<std::string, std::uint64_t> pending_by_ip;
  // When each IP was last published, for IPs published within the last
  // interval; `published_order` lets the old entries be pruned in order.
  std::unordered_map<std::string, TimePoint> last_published;
  std::deque<std::pair<TimePoint, std::string>> published_order;
  // Created/updated changes of IPs still inside their interval, taken out
  // of the queue so that they hold no other IP's events: the newest seq
  // seen for the IP and when its interval ends. At `due` the store issues
  // the revision again under a new seq (republish), which is then queued
  // like any change (header comment, "Coalescing").
  struct Deferral {
    packet::IpAddress ip;
    std::uint64_t seq = 0;
    TimePoint due{};
  };
  std::unordered_map<std::string, Deferral> deferred;
  std::set<std::pair<TimePoint, std::string>> deferred_by_due;
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
  TimePoint next_fanout{};  // HubConfig::fanout_cost_per_subscriber

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
  std::atomic<std::uint64_t> ws_subscribers_total{0};
  std::atomic<std::uint64_t> ws_messages_in{0};
  std::atomic<std::uint64_t> ws_errors_sent{0};

  // The store's listener: on the store's writer thread, with its writer
  // mutex held. Queues and wakes; no fan-out here.
  void on_store_event(const store::StoreEvent& ev) {
    std::lock_guard l(mu);
    if (stopping) return;
    if (!ev.republished) latest_seq = std::max(latest_seq, ev.seq);
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
      case Channel::kWs: {
        const bool ws = s.channel == Channel::kWs;
        const std::string* built = pub == nullptr ? nullptr : ws ? &pub->ws : &pub->sse;
        if (built != nullptr && !built->empty()) {
          out += *built;
        } else {
          detail::append_change_event(out, ws, type, ip, seq, profile.get());
        }
        return;
      }
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
  // quietly one whose peer is already gone. A WebSocket is closed with
  // 1008 (RFC 6455 §7.4.1: the endpoint "received a message that violates
  // its policy" is the nearest code; 1011 would blame the server) and
  // `reason`, so that the client can tell a cut-off from a server stop.
  void cut_off(Subscriber& s, std::string_view reason = "too slow: send queue full") {
    if (s.dead) return;
    s.dead = true;
    s.catchup = Catchup{};
    s.backlog.clear();
    s.backlog_bytes = 0;
    if (s.closed.load()) return;
    dropped_slow.fetch_add(1, std::memory_order_relaxed);
    if (s.channel != Channel::kWs) {
      s.writer->finish();
    } else if (s.ws) {
      s.ws->close(server::WebSocket::kPolicyViolation, std::string(reason));
    }
  }

  // Hands `data` to a WebSocket, one send_text() per '\n'-terminated
  // message (wire.hpp). Returns the bytes taken: whole messages only.
  static std::size_t send_ws(Subscriber& s, std::string_view data) {
    if (!s.ws) return 0;
    std::size_t pos = 0;
    while (pos < data.size()) {
      const std::size_t eol = data.find('\n', pos);
      if (eol == std::string_view::npos) break;  // never: every message ends in '\n'
      if (!s.ws->send_text(std::string(data.substr(pos, eol - pos)))) break;
      pos = eol + 1;
    }
    return pos;
  }

  // A live write: the transport's queue is the bound, a refusal cuts off.
  void write_live(Subscriber& s, std::string data) {
    const std::size_t n = data.size();
    if (s.channel == Channel::kWs) {
      const std::size_t taken = send_ws(s, data);
      bytes_sent.fetch_add(taken, std::memory_order_relaxed);
      if (taken != n) cut_off(s);
    } else if (s.writer->write(std::move(data))) {
      bytes_sent.fetch_add(n, std::memory_order_relaxed);
    } else {
      cut_off(s);
    }
  }

  // A /ws control answer (subscribed, pong, error): after whatever of the
  // catch-up is built but not yet sent, else at once.
  void send_control(Subscriber& s, std::string message) {
    if (s.dead) return;
    if (s.ready) {
      write_live(s, std::move(message));
      return;
    }
    s.catchup.chunk += message;
    if (s.has_catchup) progress_catchup(s, cfg.clock());
  }

  // The control answers among the /ws messages in `chunk` (wire.hpp: one
  // per line), in order.
  static std::string control_answers(std::string_view chunk) {
    std::string out;
    while (!chunk.empty()) {
      const std::size_t eol = std::min(chunk.find('\n'), chunk.size() - 1);
      const std::string_view line = chunk.substr(0, eol + 1);
      chunk.remove_prefix(eol + 1);
      for (const std::string_view answer : {"{\"event\":\"subscribed\"", "{\"event\":\"error\"", "{\"event\":\"pong\""}) {
        if (line.starts_with(answer)) out += line;
      }
    }
    return out;
  }

  // Appends the catch-up's next journal event to its chunk (unless a
  // duplicate or filtered out); false when none is left.
  bool append_next_event(Subscriber& s) {
    Catchup& c = s.catchup;
    if (c.next_event >= c.events.size()) return false;
    store::StoreEvent& e = c.events[c.next_event++];
    append_event(s, e.seq, e.type, e.ip_text, e.profile, nullptr, c.chunk);
    e.profile.reset();
    return true;
  }

  // The /ws form of fill_chunk(): whole messages only (send_ws() sends
  // nothing else), the reset message at most ws_reset_message_bytes.
  void fill_ws_chunk(Subscriber& s) {
    Catchup& c = s.catchup;
    while (c.chunk.size() < cfg.catchup_chunk_bytes) {
      if (!c.head_done) {
        c.chunk += c.head;
        c.head_done = true;
      } else if (c.reset && !c.ws_reset_done) {
        const std::size_t start = c.chunk.size();
        c.chunk += c.ws_reset_head;
        bool first = true;
        while (c.next_profile < c.profiles.size()) {
          const store::ProfilePtr& p = c.profiles[c.next_profile];
          if (c.chunk.size() - start + p->json.size() + 1 + c.tail.size() > cfg.ws_reset_message_bytes) break;
          if (!first) c.chunk += ',';
          first = false;
          detail::append_one_line(c.chunk, p->json);
          c.profiles[c.next_profile++].reset();
        }
        c.chunk += c.tail;
        c.ws_reset_done = true;
      } else if (c.next_profile < c.profiles.size()) {
        // Past the reset's size: an upsert without id, so that it does not
        // move the client's resume point (every one has seq <= the reset's).
        detail::append_ws_event(c.chunk, "profile", std::nullopt, c.profiles[c.next_profile]->json);
        c.profiles[c.next_profile++].reset();
      } else if (!append_next_event(s)) {
        break;
      }
    }
  }

  // Fills s.catchup.chunk with up to catchup_chunk_bytes of what is left.
  void fill_chunk(Subscriber& s) {
    if (s.channel == Channel::kWs) {
      fill_ws_chunk(s);
      return;
    }
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
      } else if (!append_next_event(s)) {
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
      const std::size_t taken =
          s.channel == Channel::kWs ? send_ws(s, s.catchup.chunk) : s.writer->write(s.catchup.chunk) ? n : 0;
      bytes_sent.fetch_add(taken, std::memory_order_relaxed);
      s.catchup.chunk.erase(0, taken);
      if (taken != n) {
        if (now - s.catchup.started > cfg.catchup_timeout) cut_off(s, "too slow: catch-up not taken in time");
        return;
      }
    }
    s.last_seq = std::max(s.last_seq, s.catchup.through);
    s.catchup = Catchup{};
    s.ready = true;
    if (s.paused) {
      // Paused during the catch-up: what arrived meanwhile is replayed from
      // the journal on resume (after last_seq), so it is not sent now.
      s.backlog.clear();
      s.backlog_bytes = 0;
      return;
    }
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
      c.reset = true;
      if (channel == Channel::kSse) {
        c.head += "event: reset\nid: " + seq_text + "\ndata: {\"seq\":" + seq_text + ",\"profiles\":[";
        c.tail = "]}\n\n";
      } else if (channel == Channel::kWs) {
        c.ws_reset_head = "{\"event\":\"reset\",\"id\":" + seq_text + ",\"data\":{\"seq\":" + seq_text + ",\"profiles\":[";
        c.tail = "]}}\n";
      } else {
        c.head += "{\"type\":\"reset\",\"seq\":" + seq_text + ",\"profiles\":[";
        c.tail = "]}\n";
      }
      c.through = s;
      resets_sent.fetch_add(1, std::memory_order_relaxed);
    }
    return c;
  }

  // Puts `sub` on the list, or answers 503 (stopped, or max_subscribers).
  bool add(const SubPtr& sub, server::ResponseWriter& writer) {
    {
      std::unique_lock l(mu);
      const char* refusal = stopping ? "the server is shutting down"
                            : subs->size() >= cfg.max_subscribers ? "too many event streams"
                                                                  : nullptr;
      if (refusal != nullptr) {
        l.unlock();
        writer.send(error_response(503, "service_unavailable", refusal));
        return false;
      }
      auto next = std::make_shared<SubList>(*subs);
      next->push_back(sub);
      subs = std::move(next);
      ++channel_count[index_of(sub->channel)];
    }
    subscribers_total.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  bool subscribe(const std::shared_ptr<Impl>& self, std::shared_ptr<server::ResponseWriter> writer,
                 SubscribeOptions options) {
    auto sub = std::make_shared<Subscriber>(options.channel, std::move(options.filter), writer);
    if (sub->channel == Channel::kWs) return subscribe_ws(self, sub, options.last_event_id);
    if (!add(sub, *writer)) return false;
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
    install(sub, build_catchup(sub->channel, sub->filter, options.last_event_id), [](Subscriber&, Catchup&) {});
    return true;
  }

  // Gives `sub` the catch-up `c` (built from the store after `sub` left the
  // live path) and writes what the transport takes at once; the
  // dispatcher writes the rest. `prepare` runs first, under sub->mu.
  template <typename Prepare>
  void install(const SubPtr& sub, Catchup c, Prepare prepare) {
    bool waiting = false;
    bool dead = false;
    {
      std::lock_guard l(sub->mu);
      if (!sub->dead) {
        prepare(*sub, c);
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
  }

  // --- /ws ---

  bool subscribe_ws(const std::shared_ptr<Impl>& self, const SubPtr& sub, std::optional<std::uint64_t> resume) {
    server::ResponseWriter& writer = *sub->writer;
    if (!writer.is_websocket_request()) {
      writer.send(upgrade_required(false));
      return false;
    }
    if (!add(sub, writer)) return false;
    ws_subscribers_total.fetch_add(1, std::memory_order_relaxed);
    auto ws = writer.accept_websocket({});
    if (!ws) {
      remove(sub);
      return false;
    }
    {
      std::lock_guard l(sub->mu);
      sub->ws = ws;
      // Cut off (backlog overflow) before the handshake was accepted.
      if (sub->dead) ws->close(server::WebSocket::kPolicyViolation, "too slow: send queue full");
    }
    const std::weak_ptr<Impl> weak_hub = self;
    const std::weak_ptr<Subscriber> weak_sub = sub;
    ws->on_close([weak_hub, weak_sub] {
      const SubPtr s = weak_sub.lock();
      if (!s) return;
      s->closed = true;
      if (const auto hub = weak_hub.lock()) hub->remove(s);
    });
    ws->on_message([weak_hub, weak_sub](std::string_view text) {
      const SubPtr s = weak_sub.lock();
      const auto hub = weak_hub.lock();
      if (s && hub) hub->on_ws_message(s, text);
    });
    std::lock_guard cl(sub->control_mu);
    restart_ws(sub, std::nullopt, resume, false);
    return true;
  }

  // (Re)starts delivery to a /ws subscriber the way subscribe() starts a
  // stream: the subscriber leaves the live path first (live events wait in
  // its backlog), then the store is read, then the catch-up goes out, so
  // nothing is missed; last_seq keeps anything from going out twice.
  // `filter`: the new filter of a subscribe op. `resume`: replay the
  // journal after it (a reset when it cannot); none: a reset. `announce`:
  // answer `subscribed` before the catch-up. Caller holds control_mu.
  void restart_ws(const SubPtr& sub, std::optional<Filter> filter, std::optional<std::uint64_t> resume,
                  bool announce) {
    Filter f;
    {
      std::lock_guard l(sub->mu);
      if (sub->dead) return;
      if (filter) {
        sub->filter = std::move(*filter);
        sub->sent_ips.clear();
        sub->sent_ips_full = false;
      }
      f = sub->filter;
      sub->paused = false;
      sub->ready = false;
      sub->has_catchup = false;
      // Control answers built but not yet taken still go out first; the
      // rest of an earlier catch-up is replaced by this one (its events
      // could otherwise come after, or repeat, what this one sends).
      std::string answers = control_answers(sub->catchup.chunk);
      sub->catchup = Catchup{};
      sub->catchup.chunk = std::move(answers);
      sub->backlog.clear();
      sub->backlog_bytes = 0;
    }
    Catchup c = build_catchup(Channel::kWs, f, resume);
    install(sub, std::move(c), [&](Subscriber& s, Catchup& cu) {
      std::string head = std::move(s.catchup.chunk);
      if (announce) detail::append_ws_subscribed(head, f, false, cu.through);
      cu.head = std::move(head);  // build_catchup leaves it empty for /ws
      s.last_seq = cu.reset ? 0 : resume.value_or(0);
    });
  }

  // One control message (ws_control.hpp), on the connection's I/O thread.
  void on_ws_message(const SubPtr& sub, std::string_view text) {
    ws_messages_in.fetch_add(1, std::memory_order_relaxed);
    // A per-connection rate limit on control messages would sit here. None
    // yet: the costliest (subscribe) reads the store as a reconnect would,
    // and the transport bounds each message (ws_max_message_bytes).
    std::lock_guard cl(sub->control_mu);
    std::string error;
    const auto ctl = detail::parse_ws_control(text, error);
    if (!ctl) {
      ws_errors_sent.fetch_add(1, std::memory_order_relaxed);
      std::string m;
      detail::append_ws_error(m, error);
      std::lock_guard l(sub->mu);
      send_control(*sub, std::move(m));
      return;
    }
    std::optional<std::uint64_t> resume_from;
    {
      std::lock_guard l(sub->mu);
      std::string m;
      switch (ctl->op) {
        case detail::WsOp::kPing:
          send_control(*sub, "{\"event\":\"pong\"}\n");
          return;
        case detail::WsOp::kPause:
          // Delivery stops after what is already on its way (the catch-up
          // being written, up to `through`); `seq` is where resume picks up.
          sub->paused = true;
          detail::append_ws_subscribed(m, sub->filter, true,
                                       sub->ready ? sub->last_seq : std::max(sub->last_seq, sub->catchup.through));
          send_control(*sub, std::move(m));
          return;
        case detail::WsOp::kResume:
          if (!sub->paused || !sub->ready) {
            // Not paused, or paused before its catch-up ended: the catch-up
            // and its backlog go out as if never paused.
            sub->paused = false;
            detail::append_ws_subscribed(m, sub->filter, false,
                                         sub->ready ? sub->last_seq : std::max(sub->last_seq, sub->catchup.through));
            send_control(*sub, std::move(m));
            return;
          }
          resume_from = sub->last_seq;
          break;
        case detail::WsOp::kSubscribe:
          break;
      }
    }
    if (resume_from) {
      restart_ws(sub, std::nullopt, resume_from, true);
    } else {
      restart_ws(sub, ctl->filter, ctl->last_event_id, true);
    }
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

  // Caller holds mu.
  void drop_deferral(std::unordered_map<std::string, Deferral>::iterator it) {
    deferred_by_due.erase({it->second.due, it->first});
    deferred.erase(it);
  }

  // Deferrals whose interval ended by `now`, asked of the store again
  // under new seqs. republish() calls on_store_event() on this thread, so
  // mu is not held around it; the new events are queued before round()
  // takes the queue. A deferral the store declines (profile gone, or a
  // newer seq already issued and so queued here) needs nothing more.
  void republish_due(TimePoint now) {
    std::vector<std::pair<packet::IpAddress, std::uint64_t>> due;
    {
      std::lock_guard l(mu);
      if (stopping) return;
      while (!deferred_by_due.empty() && deferred_by_due.begin()->first <= now) {
        const auto it = deferred.find(deferred_by_due.begin()->second);
        due.emplace_back(it->second.ip, it->second.seq);
        drop_deferral(it);
      }
    }
    for (const auto& [ip, seq] : due) store.republish(ip, seq);
  }

  // One dispatcher pass: republish due deferrals, release due events, fan
  // them out, heartbeats, stats, stalled catch-ups, waiters. Returns when
  // the next work is due.
  TimePoint round() {
    const TimePoint now = cfg.clock();
    republish_due(now);
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
      // Paced (HubConfig::fanout_cost_per_subscriber): pending events wait
      // for the next pass and then go out with whatever joined them.
      const bool paced = !pending.empty() && now < next_fanout;
      if (paced) next = std::min(next, next_fanout);
      // In seq order. A created/updated change of an IP still inside its
      // interval (or already deferred) is deferred instead of holding the
      // queue; expired/deleted are final and go out at once, dropping the
      // IP's deferral (header comment, "Coalescing").
      while (!paced && !pending.empty()) {
        auto head = pending.begin();
        store::StoreEvent& ev = head->second;
        const std::string& ip = ev.ip_text;  // valid until `ev` is moved or erased, below
        pending_by_ip.erase(ip);
        if (interval.count() > 0) {
          const bool final_event = ev.profile == nullptr;
          const auto d = deferred.find(ip);
          if (final_event) {
            if (d != deferred.end()) {
              drop_deferral(d);
              events_coalesced.fetch_add(1, std::memory_order_relaxed);
            }
          } else if (d != deferred.end()) {
            d->second.seq = ev.seq;
            events_coalesced.fetch_add(1, std::memory_order_relaxed);
            pending.erase(head);
            continue;
          } else if (const auto lp = last_published.find(ip);
                     lp != last_published.end() && lp->second + interval > now) {
            const TimePoint due = lp->second + interval;
            deferred.emplace(ip, Deferral{ev.profile->ip, ev.seq, due});
            deferred_by_due.emplace(due, ip);
            pending.erase(head);
            continue;
          } else {
            last_published[ip] = now;
            published_order.emplace_back(now, ip);
          }
        }
        released.push_back(std::move(ev));
        pending.erase(head);
      }
      if (!released.empty()) {
        const auto pause = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::min<std::chrono::nanoseconds>(cfg.fanout_cost_per_subscriber * subs->size(),
                                               cfg.max_fanout_delay));
        next_fanout = now + pause;
      }
      if (!deferred_by_due.empty()) next = std::min(next, deferred_by_due.begin()->first);
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
      if (counts[index_of(Channel::kSse)] > 0) detail::append_change_event(p->sse, false, p->type, p->ip, p->seq, rev);
      if (counts[index_of(Channel::kWs)] > 0) detail::append_change_event(p->ws, true, p->type, p->ip, p->seq, rev);
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
      detail::append_ws_event(stats_text[index_of(Channel::kWs)], "stats", std::nullopt, json);
    }
    // The whole batch in one string per channel for unfiltered subscribers
    // that are up to date: built on first use, then one copy per write().
    std::array<std::optional<std::string>, kChannels> joined;
    auto joined_for = [&](Channel c) -> const std::string& {
      auto& j = joined[index_of(c)];
      if (!j) {
        j.emplace();
        for (const PublishedPtr& p : batch) {
          *j += c == Channel::kSse ? p->sse : c == Channel::kWs ? p->ws : p->ndjson;
        }
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
          s.backlog_bytes += p->sse.size() + p->ndjson.size() + p->ws.size() + sizeof(Published);
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
      // Paused (/ws): nothing is sent and last_seq stays, so resume
      // replays from the journal exactly what was skipped.
      if (s.paused) continue;
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
      if (sp->channel != Channel::kWs) {
        sp->writer->finish();
      } else if (sp->ws) {
        sp->ws->close(server::WebSocket::kGoingAway, "server stopping");
      }
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
// channel and adjust the options before subscribing, or answer the
// request itself and return false.
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
    if (!finish(req, *writer, o)) return;
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
                        return true;
                      });
}

server::Handler EventHub::stream_handler() {
  return stream_entry(impl_, "since", [](const server::Request&, server::ResponseWriter& w, SubscribeOptions& o) {
    o.channel = w.push_enabled() ? Channel::kPush : Channel::kNdjson;
    return true;
  });
}

server::Handler EventHub::ws_handler() {
  return stream_entry(impl_, "last_event_id",
                      [](const server::Request& req, server::ResponseWriter& w, SubscribeOptions& o) {
                        if (!w.is_websocket_request()) {
                          // A CONNECT that is not RFC 8441's websocket one
                          // gets the same answer: this path tunnels nothing.
                          w.send(upgrade_required(req.conn.version == server::HttpVersion::kHttp11));
                          return false;
                        }
                        o.channel = Channel::kWs;
                        return true;
                      });
}

std::vector<std::pair<std::string, std::uint64_t>> EventHub::counters() const {
  Impl& i = *impl_;
  std::uint64_t current = 0;
  std::uint64_t waiting = 0;
  std::uint64_t ws_current = 0;
  {
    std::lock_guard l(i.mu);
    current = i.subs->size();
    waiting = i.waiters.size();
    ws_current = i.channel_count[index_of(Channel::kWs)];
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
      {"ws_subscribers_current", ws_current},
      {"ws_subscribers_total", i.ws_subscribers_total.load(r)},
      {"ws_messages_in", i.ws_messages_in.load(r)},
      {"ws_errors_sent", i.ws_errors_sent.load(r)},
  };
}

}  // namespace huginn::realtime
