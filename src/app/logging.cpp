#include "huginn/app/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

namespace huginn::app {
namespace {

// Writes each record as one JSON object. The message is escaped by
// nlohmann::json, so hostile strings that reach a log line (interface names,
// file names, later User-Agents) cannot break the line structure.
class JsonLineSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    using namespace std::chrono;
    const auto us = duration_cast<microseconds>(msg.time.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char ts[40];
    const auto n = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(ts + n, sizeof ts - n, ".%06lldZ", static_cast<long long>(us % 1'000'000));
    nlohmann::json j = {
        {"ts", ts},
        {"level", spdlog::level::to_string_view(msg.level).data()},
        {"logger", std::string(msg.logger_name.begin(), msg.logger_name.end())},
        {"msg", std::string(msg.payload.begin(), msg.payload.end())},
    };
    const std::string line =
        j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

bool g_json_logging = false;

}  // namespace

bool json_logging_enabled() { return g_json_logging; }

void setup_logging(LogFormat format, const std::string& level) {
  std::shared_ptr<spdlog::logger> logger;
  g_json_logging = format == LogFormat::kJson;
  if (format == LogFormat::kJson) {
    logger = std::make_shared<spdlog::logger>("huginn", std::make_shared<JsonLineSink>());
  } else {
    logger = std::make_shared<spdlog::logger>(
        "huginn", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace huginn::app
