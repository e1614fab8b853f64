// The store as a container: TTL with an injected clock, eviction order,
// sequence numbers, the journal and its reset rules, listeners, queries,
// breakdown, delete and clear, counters.
#include "huginn/store/profile_store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "observations.hpp"

namespace huginn::store {
namespace {

using namespace test;
using namespace std::chrono_literals;

struct FakeClock {
  std::shared_ptr<std::chrono::system_clock::time_point> now =
      std::make_shared<std::chrono::system_clock::time_point>(std::chrono::sys_days{std::chrono::November / 25 / 2026});
  ProfileStore::Clock fn() const {
    return [n = now] { return *n; };
  }
  void advance(std::chrono::seconds s) const { *now += s; }
};

StoreConfig config(std::size_t max_profiles = 100, std::size_t journal = 1000) {
  StoreConfig c;
  c.ttl = 60s;
  c.max_profiles = max_profiles;
  c.journal_capacity = journal;
  return c;
}

TEST(ProfileStore, TtlCountsFromTheLastChange) {
  FakeClock clock;
  ProfileStore store(config(), clock.fn());
  store.apply(syn(ip4(1), kT0));
  clock.advance(30s);
  store.apply(syn(ip4(2), kT0));
  clock.advance(29s);
  store.apply(mtu(ip4(1), kT0));  // refreshes 1: its TTL restarts
  clock.advance(2s);              // 2 is 31 s old, 1 is 2 s old
  EXPECT_EQ(store.expire_now(), 0U);
  clock.advance(29s);  // 2 is 60 s old
  EXPECT_EQ(store.expire_now(), 1U);
  EXPECT_FALSE(store.get(ip4(2)));
  EXPECT_TRUE(store.get(ip4(1)));
  clock.advance(31s);
  EXPECT_EQ(store.expire_now(), 1U);
  EXPECT_FALSE(store.get(ip4(1)));
  const StoreCounters c = store.counters();
  EXPECT_EQ(c.expired, 2U);
  EXPECT_EQ(c.evicted, 0U);
  EXPECT_EQ(c.profiles, 0U);
}

TEST(ProfileStore, ReplayedOldCaptureStaysForTheTtl) {
  FakeClock clock;
  ProfileStore store(config(), clock.fn());
  store.apply(syn(ip4(1), 1'000'000));  // capture time in 1970
  EXPECT_EQ(store.expire_now(), 0U);
  EXPECT_TRUE(store.get(ip4(1)));
}

TEST(ProfileStore, ApplyExpiresOnItsWay) {
  FakeClock clock;
  ProfileStore store(config(), clock.fn());
  store.apply(syn(ip4(1), kT0));
  clock.advance(61s);
  store.apply(syn(ip4(2), kT0));
  EXPECT_FALSE(store.get(ip4(1)));
  EXPECT_EQ(store.counters().expired, 1U);
}

TEST(ProfileStore, ZeroTtlDisablesExpiry) {
  FakeClock clock;
  StoreConfig c = config();
  c.ttl = 0s;
  ProfileStore store(c, clock.fn());
  store.apply(syn(ip4(1), kT0));
  clock.advance(100'000s);
  EXPECT_EQ(store.expire_now(), 0U);
  EXPECT_TRUE(store.get(ip4(1)));
}

TEST(ProfileStore, EvictsLeastRecentlyChangedAtTheCap) {
  FakeClock clock;
  ProfileStore store(config(3), clock.fn());
  std::vector<StoreEvent> events;
  store.subscribe([&](const StoreEvent& e) { events.push_back(e); });
  store.apply(syn(ip4(1), kT0));
  store.apply(syn(ip4(2), kT0));
  store.apply(syn(ip4(3), kT0));
  store.apply(mtu(ip4(1), kT0));  // 1 is now the most recent; 2 the least
  store.apply(syn(ip4(4), kT0));
  EXPECT_FALSE(store.get(ip4(2)));
  EXPECT_TRUE(store.get(ip4(1)));
  store.apply(syn(ip4(5), kT0));
  EXPECT_FALSE(store.get(ip4(3)));
  EXPECT_TRUE(store.get(ip4(1)));
  EXPECT_TRUE(store.get(ip4(4)));
  EXPECT_TRUE(store.get(ip4(5)));
  const StoreCounters c = store.counters();
  EXPECT_EQ(c.evicted, 2U);
  EXPECT_EQ(c.expired, 0U);
  EXPECT_EQ(c.profiles, 3U);
  // Eviction is an `expired` event, just before the creation that caused it.
  ASSERT_EQ(events.size(), 8U);
  EXPECT_EQ(events[4].type, EventType::kExpired);
  EXPECT_EQ(events[4].ip_text, "10.0.0.2");
  EXPECT_FALSE(events[4].profile);
  EXPECT_EQ(events[5].type, EventType::kCreated);
  EXPECT_EQ(events[5].ip_text, "10.0.0.4");
}

TEST(ProfileStore, SequenceNumbersStrictlyIncreaseAcrossEventTypes) {
  FakeClock clock;
  ProfileStore store(config(2), clock.fn());
  std::vector<StoreEvent> events;
  const auto id = store.subscribe([&](const StoreEvent& e) { events.push_back(e); });
  store.apply(syn(ip4(1), kT0));     // created
  store.apply(mtu(ip4(1), kT0));     // updated
  store.apply(syn(ip4(2), kT0));     // created
  store.apply(syn(ip4(3), kT0));     // expired (evicted 1), created
  EXPECT_TRUE(store.erase(ip4(2)));  // deleted
  EXPECT_FALSE(store.erase(ip4(2)));
  clock.advance(120s);
  EXPECT_EQ(store.expire_now(), 1U);  // expired
  ASSERT_EQ(events.size(), 7U);
  const EventType want[] = {EventType::kCreated, EventType::kUpdated, EventType::kCreated, EventType::kExpired,
                            EventType::kCreated, EventType::kDeleted, EventType::kExpired};
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].seq, i + 1) << i;
    EXPECT_EQ(events[i].type, want[i]) << i;
    if (events[i].profile) {
      EXPECT_EQ(events[i].profile->seq, events[i].seq);
    }
  }
  EXPECT_EQ(store.seq(), 7U);
  store.unsubscribe(id);
  store.apply(syn(ip4(4), kT0));
  EXPECT_EQ(events.size(), 7U);  // no calls after unsubscribe
  EXPECT_EQ(store.seq(), 8U);
}

TEST(ProfileStore, ListenersRunInOrderAndMayRead) {
  ProfileStore store(config());
  std::vector<std::pair<int, std::uint64_t>> calls;
  store.subscribe([&](const StoreEvent& e) {
    calls.emplace_back(1, e.seq);
    // Reader methods are allowed inside a listener; the new revision is visible.
    const ProfilePtr p = store.get(ip4(1));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->seq, e.seq);
    EXPECT_EQ(store.seq(), e.seq);
  });
  store.subscribe([&](const StoreEvent& e) { calls.emplace_back(2, e.seq); });
  store.apply(syn(ip4(1), kT0));
  store.apply(mtu(ip4(1), kT0));
  const std::vector<std::pair<int, std::uint64_t>> want = {{1, 1}, {2, 1}, {1, 2}, {2, 2}};
  EXPECT_EQ(calls, want);
}

TEST(ProfileStore, RevisionsAreImmutable) {
  ProfileStore store(config());
  store.apply(syn(ip4(1), kT0));
  const ProfilePtr first = store.get(ip4(1));
  const std::string json = first->json.str();
  store.apply(tls(ip4(1), kT0));
  EXPECT_TRUE(store.erase(ip4(1)));
  EXPECT_EQ(first->json.str(), json);
  EXPECT_EQ(first->seq, 1U);
  EXPECT_EQ(first->has, kHasTcp);
}

TEST(ProfileStore, EtagsDifferPerRevision) {
  ProfileStore store(config());
  store.apply(syn(ip4(1), kT0));
  const std::string a = store.get(ip4(1))->etag;
  store.apply(syn(ip4(1), kT0));
  EXPECT_NE(store.get(ip4(1))->etag, a);
}

TEST(ProfileStoreJournal, ChangesSinceReturnsWhatFollows) {
  ProfileStore store(config());
  Changes c = store.changes_since(0, 100);
  EXPECT_FALSE(c.reset);
  EXPECT_EQ(c.seq, 0U);
  EXPECT_TRUE(c.events.empty());

  store.apply(syn(ip4(1), kT0));  // 1
  store.apply(syn(ip4(2), kT0));  // 2
  store.apply(syn(ip4(3), kT0));  // 3
  c = store.changes_since(0, 100);
  EXPECT_FALSE(c.reset);
  EXPECT_EQ(c.seq, 3U);
  ASSERT_EQ(c.events.size(), 3U);
  EXPECT_EQ(c.events[0].seq, 1U);
  EXPECT_EQ(c.events[0].ip_text, "10.0.0.1");
  ASSERT_TRUE(c.events[0].profile);
  EXPECT_EQ(c.events[0].profile->seq, 1U);

  c = store.changes_since(1, 1);  // paging
  EXPECT_EQ(c.seq, 2U);
  ASSERT_EQ(c.events.size(), 1U);
  EXPECT_EQ(c.events[0].seq, 2U);
  c = store.changes_since(c.seq, 100);
  ASSERT_EQ(c.events.size(), 1U);
  EXPECT_EQ(c.events[0].seq, 3U);
  c = store.changes_since(3, 100);  // up to date
  EXPECT_FALSE(c.reset);
  EXPECT_EQ(c.seq, 3U);
  EXPECT_TRUE(c.events.empty());
}

// A restarted process starts its seqs above every seq of the earlier run
// (StoreConfig::first_seq); a client resuming from that run gets a reset,
// not this run's journal read as if it followed on.
TEST(ProfileStoreJournal, FirstSeqMakesAnEarlierRunsSeqsReset) {
  StoreConfig cfg = config();
  cfg.first_seq = 1'000;
  ProfileStore store(cfg);
  EXPECT_EQ(store.seq(), 1'000U);
  Changes c = store.changes_since(1'000, 100);  // up to date, nothing yet
  EXPECT_FALSE(c.reset);
  EXPECT_TRUE(c.events.empty());

  store.apply(syn(ip4(1), kT0));
  EXPECT_EQ(store.get(ip4(1))->seq, 1'001U);
  c = store.changes_since(1'000, 100);
  EXPECT_FALSE(c.reset);
  ASSERT_EQ(c.events.size(), 1U);
  EXPECT_EQ(c.events[0].seq, 1'001U);

  for (const std::uint64_t earlier : {0ULL, 1ULL, 998ULL}) {
    c = store.changes_since(earlier, 100);
    EXPECT_TRUE(c.reset) << earlier;
    EXPECT_EQ(c.seq, 1'001U);
  }
}

TEST(ProfileStoreJournal, SupersededRevisionsAreCoalesced) {
  ProfileStore store(config());
  store.apply(syn(ip4(1), kT0));  // 1 created (superseded by 3)
  store.apply(syn(ip4(2), kT0));  // 2 created (superseded by 5)
  store.apply(mtu(ip4(1), kT0));  // 3 updated
  store.apply(mtu(ip4(2), kT0));  // 4 updated (superseded by the deletion)
  EXPECT_TRUE(store.erase(ip4(2)));  // 5 deleted
  const Changes c = store.changes_since(0, 100);
  EXPECT_EQ(c.seq, 5U);
  ASSERT_EQ(c.events.size(), 2U);
  EXPECT_EQ(c.events[0].seq, 3U);
  EXPECT_EQ(c.events[0].type, EventType::kUpdated);
  EXPECT_EQ(c.events[0].profile->seq, 3U);
  EXPECT_EQ(c.events[1].seq, 5U);
  EXPECT_EQ(c.events[1].type, EventType::kDeleted);
  EXPECT_EQ(c.events[1].ip_text, "10.0.0.2");
  EXPECT_FALSE(c.events[1].profile);
  // A page ending on a superseded event still moves the caller forward.
  const Changes page = store.changes_since(0, 1);
  EXPECT_EQ(page.seq, 1U);
  EXPECT_TRUE(page.events.empty());
}

TEST(ProfileStoreJournal, RepublishIssuesTheSameRevisionUnderANewSeq) {
  FakeClock clock;
  ProfileStore store(config(), clock.fn());
  std::vector<StoreEvent> heard;
  store.subscribe([&](const StoreEvent& e) { heard.push_back(e); });
  store.apply(syn(ip4(1), kT0));  // 1 created
  store.apply(syn(ip4(2), kT0));  // 2 created
  store.apply(mtu(ip4(1), kT0));  // 3 updated
  const ProfilePtr before = store.get(ip4(1));
  clock.advance(30s);
  EXPECT_TRUE(store.republish(ip4(1), 3));  // 4
  const ProfilePtr after = store.get(ip4(1));
  EXPECT_EQ(after->seq, 4U);
  EXPECT_EQ(store.seq(), 4U);
  EXPECT_NE(after->etag, before->etag);
  // Identical but for the seq field.
  nlohmann::json a = nlohmann::json::parse(after->json.str());
  nlohmann::json b = nlohmann::json::parse(before->json.str());
  EXPECT_EQ(a["seq"], 4);
  a.erase("seq");
  b.erase("seq");
  EXPECT_EQ(a, b);
  EXPECT_EQ(after->os, before->os);
  EXPECT_EQ(after->connections, before->connections);
  ASSERT_EQ(heard.size(), 4U);
  EXPECT_EQ(heard.back().seq, 4U);
  EXPECT_EQ(heard.back().type, EventType::kUpdated);
  EXPECT_EQ(heard.back().profile, after);
  EXPECT_TRUE(heard.back().republished);
  EXPECT_FALSE(heard[2].republished);
  // The journal: 3 is superseded by 4; a reader between them gets 4.
  const Changes all = store.changes_since(0, 100);
  ASSERT_EQ(all.events.size(), 2U);
  EXPECT_EQ(all.events[0].seq, 2U);
  EXPECT_EQ(all.events[1].seq, 4U);
  const Changes mid = store.changes_since(3, 100);
  ASSERT_EQ(mid.events.size(), 1U);
  EXPECT_EQ(mid.events[0].seq, 4U);
  const StoreCounters c = store.counters();
  EXPECT_EQ(c.republished, 1U);
  EXPECT_EQ(c.updated, 1U);
  EXPECT_EQ(c.created, 2U);
  EXPECT_EQ(c.observations, 3U);
  // Not a change: the TTL still counts from the last apply (60 s).
  clock.advance(31s);
  EXPECT_EQ(store.expire_now(), 2U);
}

TEST(ProfileStoreJournal, RepublishDeclinesGoneOrSupersededProfiles) {
  ProfileStore store(config());
  std::size_t heard = 0;
  store.subscribe([&](const StoreEvent&) { ++heard; });
  store.apply(syn(ip4(1), kT0));  // 1
  store.apply(mtu(ip4(1), kT0));  // 2
  EXPECT_FALSE(store.republish(ip4(1), 1));  // 2 is newer
  EXPECT_FALSE(store.republish(ip4(9), 0));  // never seen
  EXPECT_TRUE(store.erase(ip4(1)));          // 3
  EXPECT_FALSE(store.republish(ip4(1), 2));  // gone
  EXPECT_EQ(store.seq(), 3U);
  EXPECT_EQ(heard, 3U);
  EXPECT_EQ(store.counters().republished, 0U);
}

TEST(ProfileStore, ApplyBatchMakesOneChangePerRunOfOneIp) {
  ProfileStore batched(config());
  ProfileStore single(config());
  std::vector<std::pair<EventType, std::uint64_t>> heard;
  batched.subscribe([&](const StoreEvent& e) { heard.emplace_back(e.type, e.seq); });
  const std::vector<analyzer::Observation> obs = {syn(ip4(1), kT0), mtu(ip4(1), kT0), syn(ip4(2), kT0 + 1),
                                                  mtu(ip4(1), kT0 + 2)};
  batched.apply_batch(obs);
  batched.apply_batch({});
  for (const auto& o : obs) single.apply(o);
  const std::vector<std::pair<EventType, std::uint64_t>> want = {
      {EventType::kCreated, 1}, {EventType::kCreated, 2}, {EventType::kUpdated, 3}};
  EXPECT_EQ(heard, want);
  EXPECT_EQ(batched.seq(), 3U);
  const StoreCounters c = batched.counters();
  EXPECT_EQ(c.observations, 4U);
  EXPECT_EQ(c.created, 2U);
  EXPECT_EQ(c.updated, 1U);
  // The same profiles as applying them one by one, but for seq.
  for (std::uint32_t n : {1U, 2U}) {
    nlohmann::json a = nlohmann::json::parse(batched.get(ip4(n))->json.str());
    nlohmann::json b = nlohmann::json::parse(single.get(ip4(n))->json.str());
    a.erase("seq");
    b.erase("seq");
    EXPECT_EQ(a, b) << n;
  }
}

TEST(ProfileStoreJournal, ResetRules) {
  ProfileStore store(config(100, 4));
  for (std::uint32_t i = 1; i <= 10; ++i) store.apply(syn(ip4(i), kT0));
  // Journal holds seqs 7..10 (capacity 4): since >= 6 is served.
  EXPECT_EQ(store.counters().journal_dropped, 6U);
  Changes c = store.changes_since(6, 100);
  EXPECT_FALSE(c.reset);
  ASSERT_EQ(c.events.size(), 4U);
  EXPECT_EQ(c.events.front().seq, 7U);
  c = store.changes_since(5, 100);  // seq 6 is gone
  EXPECT_TRUE(c.reset);
  EXPECT_EQ(c.seq, 10U);
  EXPECT_TRUE(c.events.empty());
  c = store.changes_since(0, 100);
  EXPECT_TRUE(c.reset);
  c = store.changes_since(11, 100);  // from the future: an earlier store instance
  EXPECT_TRUE(c.reset);
  EXPECT_EQ(c.seq, 10U);
  c = store.changes_since(10, 100);
  EXPECT_FALSE(c.reset);
  EXPECT_TRUE(c.events.empty());
}

TEST(ProfileStoreJournal, FreshStoreResetsClientsFromTheFuture) {
  ProfileStore store(config());
  const Changes c = store.changes_since(42, 10);
  EXPECT_TRUE(c.reset);
  EXPECT_EQ(c.seq, 0U);
}

TEST(ProfileStore, ClearDeletesEveryProfileWithEvents) {
  ProfileStore store(config());
  for (std::uint32_t i = 1; i <= 5; ++i) store.apply(syn(ip4(i), kT0));
  std::size_t deleted_events = 0;
  store.subscribe([&](const StoreEvent& e) { deleted_events += e.type == EventType::kDeleted ? 1 : 0; });
  EXPECT_EQ(store.clear(), 5U);
  EXPECT_EQ(deleted_events, 5U);
  EXPECT_TRUE(store.snapshot().empty());
  EXPECT_EQ(store.counters().deleted, 5U);
  EXPECT_EQ(store.counters().profiles, 0U);
  EXPECT_EQ(store.seq(), 10U);
  const Changes c = store.changes_since(5, 100);
  EXPECT_EQ(c.events.size(), 5U);
  // The store still works after a clear.
  store.apply(syn(ip4(1), kT0));
  EXPECT_TRUE(store.get(ip4(1)));
}

TEST(ProfileStore, CountersAndApproxBytes) {
  ProfileStore store(config());
  store.apply(syn(ip4(1), kT0));
  store.apply(tls(ip4(1), kT0));
  store.apply(syn(ip4(2), kT0));
  const StoreCounters c = store.counters();
  EXPECT_EQ(c.observations, 3U);
  EXPECT_EQ(c.created, 2U);
  EXPECT_EQ(c.updated, 1U);
  EXPECT_EQ(c.profiles, 2U);
  EXPECT_GT(c.approx_bytes, store.get(ip4(1))->json.size() + store.get(ip4(2))->json.size());
  EXPECT_LT(c.approx_bytes, 64U * 1024);
  store.clear();
  EXPECT_EQ(store.counters().approx_bytes, 0U);  // every interned string released too
}

class ProfileStoreQuery : public ::testing::Test {
 protected:
  void SetUp() override {
    // 1: Linux Chrome, TLS+H2, 3 connections, seen last.
    store_.apply(syn(ip4(1), kT0));
    store_.apply(syn(ip4(1), kT0 + 10));
    store_.apply(syn(ip4(1), kT0 + 20));
    store_.apply(tls(ip4(1), kT0 + 900));
    store_.apply(http2(ip4(1), kT0 + 900));
    // 2: Windows, curl over HTTP/1, first seen earliest.
    store_.apply(syn(ip4(2), kT0 - 100, "Windows 7 or 8"));
    store_.apply(http_request(ip4(2), kT0 + 500, "curl/8.1.2"));
    // 3: unknown OS, other JA4.
    store_.apply(syn(ip4(3), kT0 + 300, std::nullopt));
    store_.apply(tls(ip4(3), kT0 + 300, "t13d1715h2_5b57614c22b0_3d5424432f57"));
  }
  std::vector<std::string> ips(const QueryResult& r) {
    std::vector<std::string> out;
    for (const auto& p : r.profiles) out.push_back(p->ip_text);
    return out;
  }
  ProfileStore store_{config()};
};

TEST_F(ProfileStoreQuery, DefaultSortsByLastSeenNewestFirst) {
  const QueryResult r = store_.query({});
  EXPECT_EQ(r.total, 3U);
  EXPECT_EQ(r.seq, store_.seq());
  EXPECT_EQ(ips(r), (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3"}));
}

TEST_F(ProfileStoreQuery, Filters) {
  Query q;
  q.os = "linux";
  EXPECT_EQ(ips(store_.query(q)), std::vector<std::string>{"10.0.0.1"});
  q = {};
  q.browser = "CURL";
  EXPECT_EQ(ips(store_.query(q)), std::vector<std::string>{"10.0.0.2"});
  q = {};
  q.ja4 = kChromeJa4;
  EXPECT_EQ(ips(store_.query(q)), std::vector<std::string>{"10.0.0.1"});
  q.ja4 = "t13d1715*";
  EXPECT_EQ(ips(store_.query(q)), std::vector<std::string>{"10.0.0.3"});
  q.ja4 = "t13d*";
  EXPECT_EQ(store_.query(q).total, 2U);
  q = {};
  q.has = kHasTls | kHasHttp2;
  EXPECT_EQ(ips(store_.query(q)), std::vector<std::string>{"10.0.0.1"});
  q.has = kHasHttp;
  EXPECT_EQ(ips(store_.query(q)), std::vector<std::string>{"10.0.0.2"});
  q = {};
  q.q = "WWW.EXAMPLE";  // free text over the JSON, case-insensitive
  EXPECT_EQ(store_.query(q).total, 2U);
  q.q = "no such thing";
  EXPECT_EQ(store_.query(q).total, 0U);
  q = {};
  q.os = "windows";
  q.has = kHasTls;
  EXPECT_EQ(store_.query(q).total, 0U);
}

TEST_F(ProfileStoreQuery, SortKeysAndDirections) {
  Query q;
  q.sort = Query::SortKey::kFirstSeen;
  q.descending = false;
  EXPECT_EQ(ips(store_.query(q)), (std::vector<std::string>{"10.0.0.2", "10.0.0.1", "10.0.0.3"}));
  q.sort = Query::SortKey::kConnections;
  q.descending = true;
  EXPECT_EQ(ips(store_.query(q)).front(), "10.0.0.1");
  q.sort = Query::SortKey::kIp;
  q.descending = false;
  EXPECT_EQ(ips(store_.query(q)), (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3"}));
  q.sort = Query::SortKey::kOs;
  q.descending = false;  // "" < "Linux..." < "Windows..."
  EXPECT_EQ(ips(store_.query(q)), (std::vector<std::string>{"10.0.0.3", "10.0.0.1", "10.0.0.2"}));
}

TEST_F(ProfileStoreQuery, PagingKeepsTheTotal) {
  Query q;
  q.sort = Query::SortKey::kIp;
  q.descending = false;
  q.limit = 2;
  QueryResult r = store_.query(q);
  EXPECT_EQ(r.total, 3U);
  EXPECT_EQ(ips(r), (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
  q.offset = 2;
  r = store_.query(q);
  EXPECT_EQ(r.total, 3U);
  EXPECT_EQ(ips(r), std::vector<std::string>{"10.0.0.3"});
  q.offset = 3;
  r = store_.query(q);
  EXPECT_EQ(r.total, 3U);
  EXPECT_TRUE(r.profiles.empty());
  q.offset = 0;
  q.limit = 0;
  r = store_.query(q);
  EXPECT_EQ(r.total, 3U);
  EXPECT_TRUE(r.profiles.empty());
}

TEST_F(ProfileStoreQuery, Breakdown) {
  const ProfileStore::Breakdown b = store_.breakdown();
  EXPECT_EQ(b.tcp, 3U);
  EXPECT_EQ(b.http, 1U);
  EXPECT_EQ(b.tls, 2U);
  EXPECT_EQ(b.http2, 1U);
  using Counts = std::vector<std::pair<std::string, std::size_t>>;
  EXPECT_EQ(b.by_os, (Counts{{"Linux 3.11 and newer", 1}, {"Windows 7 or 8", 1}, {"unknown", 1}}));
  EXPECT_EQ(b.by_browser, (Counts{{"Chrome", 1}, {"curl", 1}, {"unknown", 1}}));
  store_.apply(syn(ip4(4), kT0));
  EXPECT_EQ(store_.breakdown().by_browser.front(), (std::pair<std::string, std::size_t>{"unknown", 2}));
}

TEST(ProfileStore, TheSameSynFromCaptureAndServerIsOneConnection) {
  ProfileStore store(config());
  auto first = syn(ip4(7), kT0);
  store.apply(first);
  store.apply(first);  // the capture path and TCP_SAVED_SYN report the same SYN
  EXPECT_EQ(store.get(ip4(7))->connections, 1U);
  auto other = first;
  other.client.port = static_cast<std::uint16_t>(first.client.port + 1);
  store.apply(other);
  EXPECT_EQ(store.get(ip4(7))->connections, 2U);
  auto other_server = first;
  other_server.server.port = 8443;
  store.apply(other_server);
  EXPECT_EQ(store.get(ip4(7))->connections, 3U);
}

TEST(ProfileStore, EventTypeNames) {
  EXPECT_EQ(event_type_name(EventType::kCreated), "created");
  EXPECT_EQ(event_type_name(EventType::kUpdated), "updated");
  EXPECT_EQ(event_type_name(EventType::kExpired), "expired");
  EXPECT_EQ(event_type_name(EventType::kDeleted), "deleted");
}

}  // namespace
}  // namespace huginn::store
