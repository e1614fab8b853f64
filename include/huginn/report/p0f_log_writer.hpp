#pragma once
// Writes Observations in exactly the line format of `p0f -o LOG`
// (p0f.c start_observation/add_observation_field):
//   [YYYY/MM/DD HH:MM:SS] mod=syn|cli=IP/PORT|srv=IP/PORT|subj=cli|os=...|dist=...|params=...|raw_sig=...
// The time is the capture time in the local time zone (as p0f's
// localtime()); addresses are printed as p0f prints them (IPv6 as eight
// uncompressed hex groups, not RFC 5952); unknown values are "???".
//
// Owner: one thread (the one calling the analyzer).
#include <cstdio>
#include <string>
#include <string_view>

#include "huginn/analyzer/analyzer.hpp"
#include "huginn/analyzer/observation.hpp"

namespace huginn::report {

// p0f's addr_to_str(): "1.2.3.4", or "2001:db8:0:0:0:0:0:1" for IPv6.
[[nodiscard]] std::string format_p0f_address(const packet::IpAddress& addr);

// "[2024/01/31 12:00:00]"-style body (without brackets) in local time.
[[nodiscard]] std::string format_p0f_time(std::int64_t ts_us);

class P0fLogWriter : public analyzer::ObservationSink {
 public:
  // Does not take ownership of `out`. line_buffered: flush after every
  // record (live capture); otherwise records are batched in a 1 MiB buffer
  // and written on flush(), when it fills, and on destruction.
  explicit P0fLogWriter(std::FILE* out, bool line_buffered = false);
  ~P0fLogWriter() override;
  P0fLogWriter(const P0fLogWriter&) = delete;
  P0fLogWriter& operator=(const P0fLogWriter&) = delete;

  // Writes p0f's kinds; kTlsClient/kHttp2Client are skipped (p0f has no
  // such records, and this format stays byte-identical to p0f's log).
  void on_observation(const analyzer::Observation& obs) override;
  // Writes buffered records to the stream and fflush()es it. Returns false
  // if the stream reported a write error (then or earlier).
  bool flush();

  // One record, without the trailing newline. For p0f's kinds exactly p0f's
  // line; kTlsClient/kHttp2Client are rendered as by format_log_line().
  [[nodiscard]] static std::string format_line(const analyzer::Observation& obs);
  // Any kind as a p0f-style line for human logs (serve's log). p0f's kinds
  // as format_line(); our own kinds, which on_observation() never writes:
  //   [...] mod=tls|cli=IP/PORT|srv=IP/PORT|subj=cli|ja4=...|sni=HOST|alpn=h2,http/1.1|hello=1|resumption=no
  //   [...] mod=http2|cli=...|srv=...|subj=cli|akamai=S|WU|P|PS|mode=prior_knowledge|complete=yes|ua=...
  // ("none" for an absent SNI/ALPN/User-Agent). Wire text is cut to 256
  // bytes ("..." marks a cut) and every byte outside printable ASCII, '|'
  // and '\' is written \xHH. The akamai value itself contains '|': it is
  // always four fields, so readers split it by count.
  [[nodiscard]] static std::string format_log_line(const analyzer::Observation& obs);
  // The same, appended to `out`, with `time` as the already formatted time.
  static void append_line(std::string& out, const analyzer::Observation& obs, std::string_view time);

 private:
  std::FILE* out_;
  bool line_buffered_;
  bool failed_ = false;
  std::string buf_;
  // Last formatted second: consecutive records mostly share it, and
  // localtime_r() is the costliest part of a line.
  std::int64_t cached_sec_ = -1;
  std::string cached_time_;
};

}  // namespace huginn::report
