#pragma once
// Prometheus text exposition format 0.0.4
// (prometheus.io/docs/instrumenting/exposition_formats): one "# HELP" and
// one "# TYPE" line per metric family, then its samples. Family names are
// ours and fixed; label values may be any bytes and are escaped.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace huginn::api::detail {

class MetricsText {
 public:
  using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

  // Starts a family. `type` is "counter" or "gauge"; counter names end in
  // "_total" (OpenMetrics and promtool's lint require it).
  void family(std::string_view name, std::string_view type, std::string_view help);
  // A sample of the current family.
  void sample(std::uint64_t value, const Labels& labels = {});
  void sample(double value, const Labels& labels = {});

  [[nodiscard]] std::string take() { return std::move(out_); }

 private:
  void begin_sample(const Labels& labels);
  std::string out_;
  std::string name_;
};

}  // namespace huginn::api::detail
