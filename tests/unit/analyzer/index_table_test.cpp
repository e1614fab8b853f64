#include "huginn/analyzer/index_table.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>

namespace huginn::analyzer {
namespace {

// Values stand for entries of a caller-owned vector; here entry v has key
// keys[v] and the "hash" is chosen by the test.
TEST(IndexTable, InsertFindErase) {
  IndexTable t;
  const std::uint64_t h = 0x1234;
  t.insert(h, 7);
  t.insert(h, 9);  // same hash, different entry
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.find(h, [](std::uint32_t v) { return v == 9; }), 9u);
  EXPECT_EQ(t.find(h, [](std::uint32_t v) { return v == 8; }), IndexTable::kNil);
  EXPECT_TRUE(t.erase(h, 7));
  EXPECT_FALSE(t.erase(h, 7));
  EXPECT_EQ(t.find(h, [](std::uint32_t v) { return v == 9; }), 9u);
  EXPECT_EQ(t.size(), 1u);
}

// Against a std::map model, with hashes squeezed into few home slots so that
// long runs wrap around the table end and backward-shift deletion is
// exercised; the table also grows from its minimum size.
TEST(IndexTable, MatchesModelUnderChurnAndCollisions) {
  std::mt19937_64 rng(42);
  IndexTable t;
  std::map<std::uint32_t, std::uint64_t> model;  // value -> hash
  for (int step = 0; step < 20000; ++step) {
    const auto v = static_cast<std::uint32_t>(rng() % 600);
    const std::uint64_t hash = (rng() % 7) * 0x9E3779B97F4A7C15ull + (v % 5) - 3;
    auto it = model.find(v);
    if (it == model.end()) {
      t.insert(hash, v);
      model.emplace(v, hash);
    } else if (rng() % 2 == 0) {
      ASSERT_TRUE(t.erase(it->second, v));
      model.erase(it);
    }
    if (step % 97 == 0) {
      ASSERT_EQ(t.size(), model.size());
      for (const auto& [mv, mh] : model) {
        ASSERT_EQ(t.find(mh, [mv = mv](std::uint32_t x) { return x == mv; }), mv);
      }
    }
  }
}

}  // namespace
}  // namespace huginn::analyzer
