#pragma once
// Test seams for the realtime tests: a ResponseWriter that records what a
// transport would send (with a queue limit the test controls), an
// event-stream parser written from the HTML standard, a steady clock the
// test moves, and request builders.
#include <chrono>
#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "../store/observations.hpp"
#include "huginn/realtime/event_hub.hpp"
#include "huginn/server/http_types.hpp"
#include "huginn/store/profile_store.hpp"

namespace huginn::realtime::test {

using namespace huginn::store::test;

// Records one exchange. write() keeps bytes "queued" until drain(); beyond
// `limit` queued bytes it refuses, as the server's writer does.
class FakeWriter final : public server::ResponseWriter {
 public:
  explicit FakeWriter(bool push_enabled = false, std::size_t limit = std::numeric_limits<std::size_t>::max())
      : push_enabled_(push_enabled), limit_(limit) {}

  bool send(server::Response response) override {
    std::lock_guard l(mu_);
    if (answered_ || closed_) return false;
    answered_ = true;
    sent_ = std::move(response);
    return true;
  }
  bool start_stream(int status, server::Headers headers) override {
    {
      std::lock_guard l(mu_);
      if (answered_ || closed_) return false;
      answered_ = streaming_ = true;
      status_ = status;
      headers_ = std::move(headers);
    }
    if (on_start_stream) on_start_stream();
    return true;
  }
  // Runs inside start_stream(), i.e. after the hub registered the stream
  // and before it reads the store for the catch-up.
  std::function<void()> on_start_stream;
  bool write(std::string chunk) override {
    std::lock_guard l(mu_);
    ++write_calls_;
    if (!streaming_ || finished_ || closed_) return false;
    if (queued_ + chunk.size() > limit_) return false;
    queued_ += chunk.size();
    body_ += chunk;
    return true;
  }
  void finish() override {
    std::function<void()> cb;
    {
      std::lock_guard l(mu_);
      if (finished_ || closed_) return;
      finished_ = true;
      cb = std::move(on_close_);
      on_close_ = nullptr;
    }
    if (cb) cb();
  }
  void on_close(std::function<void()> callback) override {
    {
      std::lock_guard l(mu_);
      if (!finished_ && !closed_) {
        on_close_ = std::move(callback);
        return;
      }
    }
    if (callback) callback();
  }
  [[nodiscard]] bool push_enabled() const override {
    std::lock_guard l(mu_);
    return push_enabled_ && !closed_;
  }
  bool push(std::string path, server::Response response) override {
    std::lock_guard l(mu_);
    if (!push_enabled_ || finished_ || closed_) return false;
    pushes_.emplace_back(std::move(path), std::move(response));
    return true;
  }

  // --- test controls ---
  void drain() {
    std::lock_guard l(mu_);
    queued_ = 0;
  }
  void set_limit(std::size_t limit) {
    std::lock_guard l(mu_);
    limit_ = limit;
  }
  // The peer goes away (reset, connection closed).
  void peer_close() {
    std::function<void()> cb;
    {
      std::lock_guard l(mu_);
      if (closed_) return;
      closed_ = true;
      cb = std::move(on_close_);
      on_close_ = nullptr;
    }
    if (cb) cb();
  }
  [[nodiscard]] std::string body() const {
    std::lock_guard l(mu_);
    return body_;
  }
  [[nodiscard]] bool finished() const {
    std::lock_guard l(mu_);
    return finished_;
  }
  [[nodiscard]] int status() const {
    std::lock_guard l(mu_);
    return streaming_ ? status_ : sent_ ? sent_->status : 0;
  }
  [[nodiscard]] std::optional<server::Response> sent() const {
    std::lock_guard l(mu_);
    return sent_;
  }
  [[nodiscard]] server::Headers headers() const {
    std::lock_guard l(mu_);
    return headers_;
  }
  [[nodiscard]] std::vector<std::pair<std::string, server::Response>> pushes() const {
    std::lock_guard l(mu_);
    return pushes_;
  }
  [[nodiscard]] std::size_t write_calls() const {
    std::lock_guard l(mu_);
    return write_calls_;
  }

 private:
  mutable std::mutex mu_;
  bool push_enabled_;
  std::size_t limit_;
  std::size_t queued_ = 0;
  bool answered_ = false, streaming_ = false, finished_ = false, closed_ = false;
  int status_ = 0;
  server::Headers headers_;
  std::optional<server::Response> sent_;
  std::string body_;
  std::size_t write_calls_ = 0;
  std::function<void()> on_close_;
  std::vector<std::pair<std::string, server::Response>> pushes_;
};

// An event-stream parser following HTML Living Standard §9.2.6
// "Interpreting an event stream": lines end in CRLF, LF or CR; a blank
// line dispatches; ':' starts a comment; "field: value" with one optional
// space after the colon; data lines join with LF; an id field sets the
// last event ID buffer (ignored if it contains NUL); retry takes ASCII
// digits only; an event with empty data is not dispatched.
struct SseEvent {
  std::string type;           // "message" when no event field
  std::string data;
  std::string last_event_id;  // the buffer's value when dispatched
  bool had_id = false;        // this block had an id field
};

class SseParser {
 public:
  void feed(std::string_view bytes) {
    buf_.append(bytes);
    std::size_t start = 0;
    for (;;) {
      const std::size_t eol = buf_.find_first_of("\r\n", start);
      if (eol == std::string::npos) break;
      if (buf_[eol] == '\r' && eol + 1 == buf_.size()) break;  // CR LF may be split
      line(std::string_view(buf_).substr(start, eol - start));
      start = eol + ((buf_[eol] == '\r' && buf_[eol + 1] == '\n') ? 2 : 1);
    }
    buf_.erase(0, start);
  }
  // Parses a whole stream from its start.
  static SseParser parse(std::string_view stream) {
    SseParser p;
    p.feed(stream);
    return p;
  }

  std::vector<SseEvent> events;
  std::vector<std::string> comments;
  std::optional<std::uint64_t> retry;
  std::string last_event_id;
  std::size_t malformed_retry = 0;
  std::string pending;  // bytes after the last complete line

 private:
  void line(std::string_view l) {
    if (l.empty()) {
      dispatch();
      return;
    }
    if (l.front() == ':') {
      l.remove_prefix(1);
      if (!l.empty() && l.front() == ' ') l.remove_prefix(1);
      comments.emplace_back(l);
      return;
    }
    std::string_view field = l, value;
    const std::size_t colon = l.find(':');
    if (colon != std::string_view::npos) {
      field = l.substr(0, colon);
      value = l.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "event") {
      type_ = value;
    } else if (field == "data") {
      data_.append(value);
      data_ += '\n';
    } else if (field == "id") {
      if (value.find('\0') == std::string_view::npos) {
        last_event_id = value;
        had_id_ = true;
      }
    } else if (field == "retry") {
      bool digits = !value.empty();
      for (char c : value) digits = digits && c >= '0' && c <= '9';
      if (digits) {
        retry = std::stoull(std::string(value));
      } else {
        ++malformed_retry;
      }
    }
  }
  void dispatch() {
    if (data_.empty()) {
      type_.clear();
      had_id_ = false;
      return;
    }
    data_.pop_back();  // the last LF
    events.push_back(SseEvent{type_.empty() ? "message" : type_, data_, last_event_id, had_id_});
    data_.clear();
    type_.clear();
    had_id_ = false;
  }

  std::string buf_, data_, type_;
  bool had_id_ = false;
};

// A steady clock the test moves.
struct ManualClock {
  std::shared_ptr<std::chrono::steady_clock::time_point> now =
      std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::time_point{} +
                                                              std::chrono::hours(1));
  [[nodiscard]] SteadyClock fn() const {
    return [n = now] { return *n; };
  }
  void advance(std::chrono::milliseconds d) const { *now += d; }
};

// A hub without its thread: the test calls run_once() and moves the clock.
inline HubConfig manual_config(const ManualClock& clock, std::chrono::milliseconds coalesce = std::chrono::milliseconds{0}) {
  HubConfig c;
  c.start_thread = false;
  c.clock = clock.fn();
  c.coalesce_interval = coalesce;
  c.heartbeat_interval = std::chrono::milliseconds{0};
  c.stats_interval = std::chrono::milliseconds{0};
  // Passes at once: pacing has its own tests (sse_test.cpp, "Pacing").
  c.fanout_cost_per_subscriber = std::chrono::nanoseconds{0};
  return c;
}

inline store::StoreConfig store_config(std::size_t journal = 10'000, std::size_t max_profiles = 10'000) {
  store::StoreConfig c;
  c.ttl = std::chrono::seconds{3600};
  c.journal_capacity = journal;
  c.max_profiles = max_profiles;
  return c;
}

inline server::Request get(std::string path, std::string query = {},
                           std::optional<std::string> last_event_id = std::nullopt) {
  server::Request r;
  r.method = "GET";
  r.path = std::move(path);
  r.query = std::move(query);
  r.target = r.path + (r.query.empty() ? "" : "?" + r.query);
  r.authority = "127.0.0.1";
  if (last_event_id) r.headers.emplace_back("last-event-id", *last_event_id);
  return r;
}

// Opens GET /events on a new FakeWriter.
inline std::shared_ptr<FakeWriter> open_sse(EventHub& hub, std::string query = {},
                                            std::optional<std::string> last_event_id = std::nullopt,
                                            std::size_t limit = std::numeric_limits<std::size_t>::max()) {
  auto w = std::make_shared<FakeWriter>(false, limit);
  hub.sse_handler()(get("/events", std::move(query), std::move(last_event_id)), w);
  return w;
}

// A store with changes by number (10.0.0.N), and a clock for the hub.
struct HubFixture : ::testing::Test {
  store::ProfileStore store{store_config()};
  ManualClock clock;
  std::int64_t ts = kT0;

  void change(std::uint32_t n) { store.apply(mtu(ip4(n), ts += 1000)); }
  std::string json_of(std::uint32_t n) const { return store.get(ip4(n))->json.str(); }
  std::uint64_t seq_of(std::uint32_t n) const { return store.get(ip4(n))->seq; }
};

inline std::string ip_text(std::uint32_t n) { return ip4(n).to_rfc5952_string(); }

// A deterministic mix of changes over `ips` addresses (10.0.0.1 on):
// mostly updates, about 1 in 19 a deletion (of a profile that may not
// exist, which changes nothing).
struct Churn {
  std::uint32_t x;
  std::uint32_t ips;
  std::int64_t ts = kT0;
  // One change; returns fresh random bits for the caller's own choices.
  std::uint32_t step(store::ProfileStore& s) {
    x = x * 1664525 + 1013904223;
    const std::uint32_t n = 1 + (x >> 20) % ips;
    if ((x >> 12) % 19 == 0) {
      s.erase(ip4(n));
    } else {
      s.apply(mtu(ip4(n), ts += 1000));
    }
    return x >> 4;
  }
};

// What a client ends up believing, built from the events it received.
struct ClientState {
  std::map<std::string, std::uint64_t> profiles;  // ip -> seq
  std::uint64_t last_id = 0;
  std::size_t events = 0;
  std::size_t resets = 0;

  void apply(const std::vector<SseEvent>& events_in) {
    for (const SseEvent& e : events_in) {
      if (e.type == "stats") continue;  // no id: it does not move Last-Event-ID
      const std::uint64_t id = std::stoull(e.last_event_id);
      if (events > 0) {
        ASSERT_GT(id, last_id) << "ids must strictly increase across reconnects";
      }
      last_id = id;
      ++events;
      const nlohmann::json d = nlohmann::json::parse(e.data);
      if (e.type == "reset") {
        ++resets;
        profiles.clear();
        for (const auto& p : d["profiles"]) profiles[p["ip"].get<std::string>()] = p["seq"].get<std::uint64_t>();
      } else if (e.type == "profile") {
        ASSERT_EQ(d["seq"].get<std::uint64_t>(), id);
        profiles[d["ip"].get<std::string>()] = id;
      } else if (e.type == "deleted" || e.type == "expired") {
        ASSERT_EQ(d["seq"].get<std::uint64_t>(), id);
        profiles.erase(d["ip"].get<std::string>());
      }
    }
  }
};

// ip -> seq of every profile in the store.
inline std::map<std::string, std::uint64_t> store_state(const store::ProfileStore& s) {
  std::map<std::string, std::uint64_t> m;
  for (const auto& r : s.snapshot()) m[r->ip_text] = r->seq;
  return m;
}

inline std::uint64_t counter(const EventHub& hub, std::string_view name) {
  for (const auto& [k, v] : hub.counters()) {
    if (k == name) return v;
  }
  return ~std::uint64_t{0};
}

}  // namespace huginn::realtime::test
