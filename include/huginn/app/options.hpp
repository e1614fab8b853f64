#pragma once
// The parsed command line. Flags follow p0f's where p0f has one (-i -r -f -o
// -p -m -t and a trailing BPF filter), so p0f users feel at home.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "huginn/util/limits.hpp"

namespace huginn::app {

enum class Command { kAnalyze, kServe };
enum class OutputFormat { kP0f, kJsonl };
enum class LogFormat { kText, kJson };

struct Options {
  Command command = Command::kServe;
  std::string log_level = "info";
  LogFormat log_format = LogFormat::kText;

  std::string fp_file = "/etc/p0f/p0f.fp";
  std::optional<std::string> out_path;  // -o; analyze defaults to stdout
  OutputFormat format = OutputFormat::kP0f;

  // p0f -m CONN,HOSTS and -t CONN_AGE_S,HOST_IDLE_MIN.
  std::size_t max_flows = limits::kDefaultMaxFlows;
  std::size_t max_hosts = limits::kDefaultMaxHosts;
  std::uint32_t flow_max_age_s = limits::kDefaultFlowMaxAgeS;
  std::uint32_t host_idle_s = limits::kDefaultHostIdleS;

  // analyze
  std::vector<std::string> files;

  // serve
  std::string iface = "any";
  std::optional<std::string> read_file;  // -r
  bool promiscuous = false;
  int snaplen = limits::kDefaultSnaplen;
  int buffer_bytes = limits::kDefaultPcapBufferBytes;
  std::string filter;  // BPF expression; words after the options are joined with spaces
  bool no_capture = false;  // --no-capture: serve only the server's own visitors

  // serve: the HTTP server and the profile store (docs/server.md).
  // Empty lists mean the defaults; "none" as the only entry disables.
  std::vector<std::string> listen;      // --listen HOST:PORT (cleartext)
  std::vector<std::string> tls_listen;  // --tls-listen HOST:PORT
  std::optional<std::string> tls_cert;  // --tls-cert FILE (PEM chain)
  std::optional<std::string> tls_key;   // --tls-key FILE (PEM)
  std::optional<std::string> state_dir; // --state-dir DIR
  unsigned io_threads = 2;              // --io-threads N
  std::uint32_t profile_ttl_s = 3600;   // --profile-ttl SECONDS
  std::size_t max_profiles = 100'000;   // --max-profiles N
  std::uint32_t coalesce_interval_ms = 100;  // --coalesce-interval MS (0: every change)
  std::uint32_t fanout_delay_ms = 50;        // --fanout-delay MS (0: no pacing)
  std::uint32_t heartbeat_interval_s = 15;   // --heartbeat-interval S (0: none)
  std::size_t max_connections = 10'000;      // --max-connections N (ServerLimits)
};

// What parsing produced: options to run, or a request to print help/version,
// or a usage error (message without the program-name prefix).
struct ShowHelp {};
struct ShowVersion {};
struct UsageError {
  std::string message;
};
using ParseResult = std::variant<Options, ShowHelp, ShowVersion, UsageError>;

ParseResult parse_command_line(int argc, const char* const* argv);
const char* usage_text();

}  // namespace huginn::app
