#include "huginn/app/options.hpp"

#include <charconv>
#include <string_view>

namespace huginn::app {
namespace {

constexpr const char* kUsage = R"(Usage: huginn-profiler [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]

Passive network fingerprinting (p0f v3 TCP and HTTP signatures, TLS JA4,
HTTP/2) from live traffic or capture files, with a live dashboard and API.

Commands:
  analyze [options] FILE...     analyze pcap/pcapng files at full speed
  serve   [options] ['filter']  capture live traffic (or -r FILE), keep a
                                profile per IP and serve the dashboard and API

Options of both commands:
  -f FILE           p0f fingerprint database (default /etc/p0f/p0f.fp)
  -o FILE           write observations to FILE (analyze: default stdout)
  --format FMT      p0f (the lines p0f -o writes) or jsonl (one JSON object
                    per observation; see docs/formats.md); default p0f
  -m CONN,HOSTS     cap the flow and host tables (default 1000,10000)
  -t CONN,HOST      flow age limit in seconds, host idle limit in minutes
                    (default 30,120)

Options of serve:
  -i IFACE          interface to capture on (default any)
  -r FILE           read a capture file at full speed instead, then keep running
  -p                put the interface in promiscuous mode
  --snaplen N       bytes captured per packet (default 65535)
  --buffer-size N   kernel capture buffer in bytes (default 4194304)
  --no-capture      no packet capture: profile only the server's own visitors
  'filter'          a BPF expression, as for tcpdump and p0f
  --listen ADDR     cleartext HTTP/1.1 + HTTP/2 listener, HOST:PORT or
                    [V6]:PORT; repeatable; "none" disables (default
                    127.0.0.1:8080)
  --tls-listen ADDR HTTPS listener (ALPN h2, http/1.1); repeatable; "none"
                    disables (default 127.0.0.1:8443)
  --tls-cert FILE   certificate chain (PEM); with --tls-key. Without them a
                    self-signed certificate is made once in the state dir
  --tls-key FILE    private key (PEM)
  --state-dir DIR   kept across restarts (default /var/lib/huginn-profiler
                    as root, else $XDG_STATE_HOME/huginn-profiler)
  --io-threads N    server I/O threads (default 2)
  --profile-ttl S   forget a profile S seconds after its last change
                    (default 3600)
  --max-profiles N  profiles kept at most; the least recently seen goes
                    first (default 100000)
  --coalesce-interval MS
                    live events (SSE, /ws, streams) carry at most one change
                    per profile per MS milliseconds; 0 sends every change
                    (default 100)
  --heartbeat-interval S
                    SSE keep-alive comment every S seconds; 0 disables
                    (default 15)
  --fanout-delay MS longest pause between two passes that send live
                    events to many subscribers (5 us per subscriber, at
                    most MS milliseconds); what arrives meanwhile goes out
                    together; 0 sends every pass at once (default 50)
  --max-connections N
                    server connections at most; more are closed at once
                    (default 10000)

Global options:
  --log-level LVL   trace, debug, info, warn, error or off (default info)
  --log-format FMT  text (default) or json (one JSON object per line)
  -h, --help        show this help
  -V, --version     show the version
)";

bool parse_uint(std::string_view s, std::uint64_t max, std::uint64_t& out) {
  if (s.empty()) return false;
  const auto* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && p == end && out <= max;
}

// "A,B" as two unsigned integers, each in [1, max].
bool parse_pair(std::string_view s, std::uint64_t max, std::uint64_t& a, std::uint64_t& b) {
  const auto comma = s.find(',');
  if (comma == std::string_view::npos) return false;
  return parse_uint(s.substr(0, comma), max, a) && parse_uint(s.substr(comma + 1), max, b) &&
         a > 0 && b > 0;
}

bool is_log_level(std::string_view v) {
  for (const char* l : {"trace", "debug", "info", "warn", "error", "critical", "off"})
    if (v == l) return true;
  return false;
}

}  // namespace

const char* usage_text() { return kUsage; }

ParseResult parse_command_line(int argc, const char* const* argv) {
  Options o;
  bool have_command = false;
  std::string serve_only;  // first serve-only flag seen, to reject it for analyze
  std::vector<std::string> positional;

  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    // An option that takes a value reads it from the next argument.
    auto value = [&](std::string_view) -> std::optional<std::string_view> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string_view(argv[++i]);
    };
    auto missing = [&](std::string_view name) {
      return UsageError{"option " + std::string(name) + " needs a value"};
    };

    if (arg == "-h" || arg == "--help") return ShowHelp{};
    if (arg == "-V" || arg == "--version") return ShowVersion{};
    if (arg == "--") {
      for (++i; i < argc; ++i) positional.emplace_back(argv[i]);
      break;
    }
    if (arg == "--log-level") {
      auto v = value(arg);
      if (!v) return missing(arg);
      if (!is_log_level(*v)) return UsageError{"unknown log level '" + std::string(*v) + "'"};
      o.log_level = *v;
    } else if (arg == "--log-format") {
      auto v = value(arg);
      if (!v) return missing(arg);
      if (*v == "text") o.log_format = LogFormat::kText;
      else if (*v == "json") o.log_format = LogFormat::kJson;
      else return UsageError{"unknown log format '" + std::string(*v) + "' (text or json)"};
    } else if (arg == "-f") {
      auto v = value(arg);
      if (!v) return missing(arg);
      o.fp_file = *v;
    } else if (arg == "-o") {
      auto v = value(arg);
      if (!v) return missing(arg);
      o.out_path = std::string(*v);
    } else if (arg == "--format") {
      auto v = value(arg);
      if (!v) return missing(arg);
      if (*v == "p0f") o.format = OutputFormat::kP0f;
      else if (*v == "jsonl") o.format = OutputFormat::kJsonl;
      else return UsageError{"unknown output format '" + std::string(*v) + "' (p0f or jsonl)"};
    } else if (arg == "-m") {
      auto v = value(arg);
      if (!v) return missing(arg);
      std::uint64_t c = 0, h = 0;
      if (!parse_pair(*v, 10'000'000, c, h))
        return UsageError{"-m takes CONN,HOSTS (two positive integers), not '" + std::string(*v) + "'"};
      o.max_flows = c;
      o.max_hosts = h;
    } else if (arg == "-t") {
      auto v = value(arg);
      if (!v) return missing(arg);
      std::uint64_t c = 0, h = 0;
      if (!parse_pair(*v, 10'000'000, c, h))
        return UsageError{"-t takes CONN_SECONDS,HOST_MINUTES (two positive integers), not '" +
                          std::string(*v) + "'"};
      o.flow_max_age_s = static_cast<std::uint32_t>(c);
      o.host_idle_s = static_cast<std::uint32_t>(h * 60);
    } else if (arg == "-i") {
      if (serve_only.empty()) serve_only = arg;
      auto v = value(arg);
      if (!v) return missing(arg);
      o.iface = *v;
    } else if (arg == "-r") {
      if (serve_only.empty()) serve_only = arg;
      auto v = value(arg);
      if (!v) return missing(arg);
      o.read_file = std::string(*v);
    } else if (arg == "-p") {
      if (serve_only.empty()) serve_only = arg;
      o.promiscuous = true;
    } else if (arg == "--snaplen" || arg == "--buffer-size") {
      if (serve_only.empty()) serve_only = arg;
      auto v = value(arg);
      if (!v) return missing(arg);
      std::uint64_t n = 0;
      const std::uint64_t lo = arg == "--snaplen" ? 68 : 65536;
      if (!parse_uint(*v, 1u << 30, n) || n < lo)
        return UsageError{std::string(arg) + " takes an integer >= " + std::to_string(lo) +
                          ", not '" + std::string(*v) + "'"};
      (arg == "--snaplen" ? o.snaplen : o.buffer_bytes) = static_cast<int>(n);
    } else if (arg == "--no-capture") {
      if (serve_only.empty()) serve_only = arg;
      o.no_capture = true;
    } else if (arg == "--listen" || arg == "--tls-listen") {
      if (serve_only.empty()) serve_only = arg;
      auto v = value(arg);
      if (!v || v->empty()) return missing(arg);
      (arg == "--listen" ? o.listen : o.tls_listen).emplace_back(*v);
    } else if (arg == "--tls-cert" || arg == "--tls-key" || arg == "--state-dir") {
      if (serve_only.empty()) serve_only = arg;
      auto v = value(arg);
      if (!v || v->empty()) return missing(arg);
      (arg == "--tls-cert" ? o.tls_cert : arg == "--tls-key" ? o.tls_key : o.state_dir) =
          std::string(*v);
    } else if (arg == "--io-threads" || arg == "--profile-ttl" || arg == "--max-profiles" ||
               arg == "--max-connections") {
      if (serve_only.empty()) serve_only = arg;
      auto v = value(arg);
      if (!v) return missing(arg);
      const std::uint64_t max = arg == "--io-threads" ? 64 : arg == "--max-connections" ? 1'000'000 : 100'000'000;
      std::uint64_t n = 0;
      if (!parse_uint(*v, max, n) || n == 0)
        return UsageError{std::string(arg) + " takes an integer from 1 to " + std::to_string(max) +
                          ", not '" + std::string(*v) + "'"};
      if (arg == "--io-threads") o.io_threads = static_cast<unsigned>(n);
      else if (arg == "--profile-ttl") o.profile_ttl_s = static_cast<std::uint32_t>(n);
      else if (arg == "--max-connections") o.max_connections = n;
      else o.max_profiles = n;
    } else if (arg == "--coalesce-interval" || arg == "--heartbeat-interval" || arg == "--fanout-delay") {
      // Zero is allowed: it turns coalescing / heartbeats / pacing off.
      if (serve_only.empty()) serve_only = arg;
      auto v = value(arg);
      if (!v) return missing(arg);
      const std::uint64_t max = arg == "--coalesce-interval" ? 60'000 : arg == "--fanout-delay" ? 1'000 : 86'400;
      std::uint64_t n = 0;
      if (!parse_uint(*v, max, n))
        return UsageError{std::string(arg) + " takes an integer from 0 to " + std::to_string(max) +
                          ", not '" + std::string(*v) + "'"};
      (arg == "--coalesce-interval" ? o.coalesce_interval_ms
       : arg == "--fanout-delay"    ? o.fanout_delay_ms
                                    : o.heartbeat_interval_s) = static_cast<std::uint32_t>(n);
    } else if (arg.size() > 1 && arg[0] == '-') {
      return UsageError{"unknown option '" + std::string(arg) + "'"};
    } else if (!have_command) {
      if (arg == "analyze") o.command = Command::kAnalyze;
      else if (arg == "serve") o.command = Command::kServe;
      else return UsageError{"unknown command '" + std::string(arg) + "' (analyze or serve)"};
      have_command = true;
    } else {
      positional.emplace_back(arg);
    }
  }

  if (!have_command) return UsageError{"no command given (analyze or serve)"};
  if (o.command == Command::kAnalyze) {
    if (!serve_only.empty())
      return UsageError{"option " + serve_only + " belongs to serve, not analyze"};
    if (positional.empty()) return UsageError{"analyze needs at least one capture file"};
    o.files = std::move(positional);
  } else {
    if (o.tls_cert.has_value() != o.tls_key.has_value())
      return UsageError{"--tls-cert and --tls-key go together"};
    if (o.no_capture && (o.read_file || !positional.empty()))
      return UsageError{"--no-capture excludes -r and a capture filter"};
    // Like p0f and tcpdump, the filter may be one quoted argument or several words.
    for (const auto& w : positional) {
      if (!o.filter.empty()) o.filter += ' ';
      o.filter += w;
    }
  }
  return o;
}

}  // namespace huginn::app
