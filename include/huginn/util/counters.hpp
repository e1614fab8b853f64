#pragma once
// Named anomaly and progress counters (Zeek-style "weirds"): a name -> count
// table, so nothing is dropped silently. Each owner thread has its own
// Counters; snapshots are copied out for reporting (and, later, metrics).
//
// Not thread-safe: one owner thread per instance.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace huginn::util {

class Counters {
 public:
  void add(std::string_view name, std::uint64_t n = 1) {
    auto it = values_.find(name);
    if (it == values_.end()) it = values_.emplace(std::string(name), 0).first;
    it->second += n;
  }
  [[nodiscard]] std::uint64_t get(std::string_view name) const {
    auto it = values_.find(name);
    return it == values_.end() ? 0 : it->second;
  }
  void merge(const Counters& other) {
    for (const auto& [k, v] : other.values_) add(k, v);
  }
  [[nodiscard]] const std::map<std::string, std::uint64_t, std::less<>>& all() const {
    return values_;
  }

 private:
  std::map<std::string, std::uint64_t, std::less<>> values_;
};

}  // namespace huginn::util
