#include "api/detail/metrics_text.hpp"

#include <cmath>
#include <cstdio>

namespace huginn::api::detail {
namespace {

// HELP text escapes '\' and newline; label values also '"'.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '"':
        if (quote) {
          out += "\\\"";
        } else {
          out += c;
        }
        break;
      default: out += c;
    }
  }
}

}  // namespace

void MetricsText::family(std::string_view name, std::string_view type, std::string_view help) {
  name_ = std::string(name);
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_escaped(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void MetricsText::begin_sample(const Labels& labels) {
  out_ += name_;
  if (!labels.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += k;
      out_ += "=\"";
      append_escaped(out_, v, true);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
}

void MetricsText::sample(std::uint64_t value, const Labels& labels) {
  begin_sample(labels);
  out_ += std::to_string(value);
  out_ += '\n';
}

void MetricsText::sample(double value, const Labels& labels) {
  begin_sample(labels);
  if (std::isnan(value)) {
    out_ += "NaN";
  } else if (std::isinf(value)) {
    out_ += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    int n = std::snprintf(buf, sizeof buf, "%.17g", value);
    out_.append(buf, static_cast<std::size_t>(n));
  }
  out_ += '\n';
}

}  // namespace huginn::api::detail
