#pragma once
// Every limit in one place, with the reason for its value. Defaults follow
// p0f 3.09b's config.h where p0f has the same knob, so that with equal
// limits we report what p0f reports.
#include <cstddef>
#include <cstdint>

namespace huginn::limits {

// p0f config.h MAX_TCP_OPT: options beyond this many are not recorded in
// olayout (p0f stops walking the option list there).
inline constexpr std::size_t kMaxTcpOptions = 24;

// p0f config.h MAX_DIST: a matched signature's TTL may exceed the observed
// TTL by at most this many hops before the match is treated as fuzzy.
inline constexpr int kMaxDist = 35;

// p0f config.h MAX_CONN / MAX_HOSTS (p0f -m c,h): flow and host table caps.
inline constexpr std::size_t kDefaultMaxFlows = 1000;
inline constexpr std::size_t kDefaultMaxHosts = 10000;

// p0f config.h CONN_MAX_AGE / HOST_IDLE_LIMIT (p0f -t c,h).
inline constexpr std::uint32_t kDefaultFlowMaxAgeS = 30;
inline constexpr std::uint32_t kDefaultHostIdleS = 120 * 60;

// p0f config.h MAX_FLOW_DATA: bytes of each direction kept per flow.
inline constexpr std::size_t kMaxFlowData = 8192;

// p0f config.h SNAPLEN; libpcap's default is 262144, p0f asks for 65535.
inline constexpr int kDefaultSnaplen = 65535;
// Kernel capture buffer; 4 MiB absorbs bursts of ~3k full-size packets.
inline constexpr int kDefaultPcapBufferBytes = 4 * 1024 * 1024;
// pcap read timeout; p0f notes "PCAP timeouts tend to be broken", so the
// capture loop also polls its stop flag at this interval.
inline constexpr int kPcapTimeoutMs = 100;

// p0f config.h uptime estimation bounds (fp_tcp.c check_ts_tcp).
inline constexpr double kMinTsScale = 0.7;     // MIN_TSCALE, Hz
inline constexpr double kMaxTsScale = 1500;    // MAX_TSCALE, Hz
inline constexpr std::uint32_t kMinTwaitMs = 25;               // MIN_TWAIT
inline constexpr std::uint32_t kMaxTwaitMs = 1000 * 60 * 10;   // MAX_TWAIT
inline constexpr std::uint32_t kTstampGraceMs = 100;           // TSTAMP_GRACE
inline constexpr std::uint64_t kMaxNatTsMs = 1000ull * 60 * 60 * 24;  // MAX_NAT_TS

// p0f config.h NAT detection thresholds.
inline constexpr int kMinPortDrop = 64;     // MIN_PORT_DROP
inline constexpr int kSmallTtlChg = 2;      // SMALL_TTL_CHG
inline constexpr int kLocalTtlLimit = 5;    // LOCAL_TTL_LIMIT
inline constexpr int kNearTtlLimit = 9;     // NEAR_TTL_LIMIT

// p0f-sendsyn probe markers (p0f config.h SPECIAL_MSS / SPECIAL_WIN).
inline constexpr std::uint16_t kSpecialMss = 1331;
inline constexpr std::uint16_t kSpecialWin = 1337;

// Stacked VLAN tags walked before giving up. Real networks use one or two
// (802.1ad QinQ); 8 leaves room for lab setups while bounding the loop.
inline constexpr std::size_t kMaxVlanTags = 8;
// IPv6 extension headers walked before giving up. RFC 8200 §4.1 allows each
// type once (destination options twice), so 8 covers any compliant chain.
inline constexpr std::size_t kMaxIpv6ExtHeaders = 8;

// p0f.fp loader: a line longer than this is rejected with file:line. p0f
// itself has no line limit; no real database comes near this, and a bound
// keeps a hostile or corrupt file from being parsed as one giant line.
inline constexpr std::size_t kMaxDbLineLength = 4096;

}  // namespace huginn::limits
