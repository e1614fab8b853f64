// A revision's JSON as a rope of shared pieces (json_text.hpp): the text
// it stands for, sharing between hosts, the free-text search across piece
// boundaries, and lifetimes (a revision outliving its store).
#include "huginn/store/json_text.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "huginn/store/profile_store.hpp"
#include "observations.hpp"

namespace huginn::store {
namespace {

using namespace test;

// Every record a host can have; `ua` and `sni` unique per host when asked.
void full_profile(ProfileStore& store, std::uint32_t n, bool unique) {
  const auto ip = ip4(n);
  const std::string tag = unique ? " id/" + std::to_string(n) : std::string();
  store.apply(syn(ip, kT0));
  auto sa = syn_ack(kServer, kT0);
  sa.server.addr = ip;
  store.apply(sa);
  store.apply(mtu(ip, kT0));
  store.apply(uptime(ip, kT0));
  auto req = http_request(ip, kT0, kChromeLinuxUa + tag);
  if (unique) req.http.path = "/item/" + std::to_string(n);
  store.apply(req);
  auto resp = http_response(kServer, kT0);
  resp.server.addr = ip;
  store.apply(resp);
  auto hello = tls(ip, kT0);
  if (unique) hello.tls->sni = "host" + std::to_string(n) + ".example.com";
  store.apply(hello);
  store.apply(http2(ip, kT0, "1:65536;2:0|15663105|0|m,a,s,p", kChromeLinuxUa + tag));
}

char flip_case(char c) {
  if (c >= 'a' && c <= 'z') return static_cast<char>(c - 'a' + 'A');
  if (c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A' + 'a');
  return c;
}

bool reference_contains_ci(std::string haystack, std::string needle) {
  for (char& c : haystack) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : needle) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return haystack.find(needle) != std::string::npos;
}

TEST(StoreJsonText, FullProfileIsMostlySharedPieces) {
  ProfileStore store({});
  full_profile(store, 1, false);
  full_profile(store, 2, true);
  for (const std::uint32_t n : {1U, 2U}) {
    const ProfilePtr p = store.get(ip4(n));
    const std::string text = p->json.str();
    EXPECT_EQ(text.size(), p->json.size());
    EXPECT_TRUE(nlohmann::json::accept(text));
    EXPECT_GT(p->json.shared_pieces(), 10U);
    // The own block holds the address, times, counts, uptime and the
    // references, not the sections: well under a quarter of the text.
    EXPECT_LT(p->json.own_bytes() * 4, text.size()) << n;
    std::string appended = "prefix:";
    p->json.append_to(appended);
    EXPECT_EQ(appended, "prefix:" + text);
  }
  const JsonText copy = store.get(ip4(1))->json;
  EXPECT_EQ(copy.str(), store.get(ip4(1))->json.str());
  EXPECT_EQ(JsonText().str(), "");
  EXPECT_EQ(JsonText().size(), 0U);
}

TEST(StoreJsonText, ContainsCiFindsEverySubstringAcrossPieces) {
  ProfileStore store({});
  full_profile(store, 3, true);
  const JsonText& json = store.get(ip4(3))->json;
  const std::string text = json.str();
  ASSERT_GT(json.shared_pieces(), 10U);
  // Every substring of these lengths, in the other case: many of them
  // span two or more pieces.
  for (const std::size_t len : {1U, 2U, 3U, 7U, 16U, 41U, 300U}) {
    for (std::size_t at = 0; at + len <= text.size(); ++at) {
      std::string needle = text.substr(at, len);
      std::transform(needle.begin(), needle.end(), needle.begin(), flip_case);
      ASSERT_TRUE(json.contains_ci(needle)) << "at " << at << " len " << len << ": " << needle;
    }
  }
  EXPECT_TRUE(json.contains_ci(""));
  EXPECT_TRUE(json.contains_ci(text));
  EXPECT_FALSE(json.contains_ci(text + " "));
  EXPECT_FALSE(json.contains_ci("\x01"));  // control bytes are escaped in JSON
  EXPECT_FALSE(JsonText().contains_ci("a"));
  // Random needles over the text's own alphabet agree with a plain search.
  std::mt19937 rng(7);
  const std::string alphabet = "\":,{}_-./0123456789abcdefhilmnorstuxyACEHLMX ";
  int found = 0;
  for (int i = 0; i < 20'000; ++i) {
    std::string needle(1 + rng() % 4, ' ');
    for (char& c : needle) c = alphabet[rng() % alphabet.size()];
    const bool want = reference_contains_ci(text, needle);
    found += want ? 1 : 0;
    ASSERT_EQ(json.contains_ci(needle), want) << needle;
  }
  EXPECT_GT(found, 100);
  EXPECT_LT(found, 20'000);
}

TEST(StoreJsonText, RevisionsOutliveTheirStore) {
  ProfilePtr kept;
  std::string text;
  {
    ProfileStore store({});
    full_profile(store, 4, true);
    kept = store.get(ip4(4));
    text = kept->json.str();
    full_profile(store, 4, false);  // the kept revision is no longer current
    store.clear();
  }
  EXPECT_EQ(kept->json.str(), text);
  EXPECT_TRUE(kept->json.contains_ci("HOST4.example.com"));
}

TEST(StoreJsonText, SearchQueryMatchesAcrossPieces) {
  ProfileStore store({});
  full_profile(store, 5, true);
  full_profile(store, 6, false);
  Query q;
  // Spans the shared `"user_agent":"` piece and the host's own User-Agent.
  q.q = "\"USER_AGENT\":\"mozilla/5.0 (x11";
  EXPECT_EQ(store.query(q).total, 2U);
  q.q = "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 id/5\"";
  const QueryResult r = store.query(q);
  ASSERT_EQ(r.total, 1U);
  EXPECT_EQ(r.profiles[0]->ip_text, ip4(5).to_rfc5952_string());
}

}  // namespace
}  // namespace huginn::store
