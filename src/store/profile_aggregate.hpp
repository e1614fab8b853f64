#pragma once
// The writer-side state of one profile: what the store keeps to build the
// next revision. Compact on purpose (docs/store.md, "Memory"): no
// Observation is kept, every text field is an interned Atom, lists are kept
// as their rendered JSON array text, wire strings are cut to kMaxWireString.
//
// Thread ownership: the store's writer only (under its writer mutex).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "huginn/analyzer/observation.hpp"
#include "huginn/packet/ip_address.hpp"
#include "store/string_pool.hpp"

namespace huginn::store::detail {

// Untrusted strings (User-Agent, path, SNI, ALPN, Server) are kept to this
// many bytes; the cut may split a UTF-8 sequence, which JSON output then
// replaces with U+FFFD like any other invalid byte.
inline constexpr std::size_t kMaxWireString = 512;

// A p0f-style record: SYN, SYN+ACK, HTTP request or response.
struct SigSection {
  Atom signature;  // p0f raw_sig
  Atom label;      // matched label; null when unknown
  Atom params;     // p0f params, "none" when empty
  std::uint32_t line = 0;
  std::uint8_t dist = 0;
  bool is_app = false;  // label is a userland tool / app, not an OS
  bool generic = false;
  bool fuzzy = false;
  bool dist_upper_bound = false;
};

struct MtuSection {
  std::uint32_t value = 0;
  Atom link;  // null when unknown
};

struct UptimeSection {
  std::uint32_t minutes = 0;
  std::uint32_t modulo_days = 0;
  std::uint32_t freq_hz = 0;
};

struct HttpRequestSection {
  SigSection sig;
  Atom lang;        // null: none or unknown
  Atom user_agent;  // the last non-empty one on this address; null: none yet
  Atom method;
  Atom path;
  Atom header_order_json;  // rendered JSON array of names
  bool dishonest = false;
};

struct HttpResponseSection {
  SigSection sig;
  Atom server;  // Server header, null: none
  bool dishonest = false;
};

struct TlsSection {
  Atom ja4, ja4_r, ja4_o, ja4_ro, ja4_stable;
  Atom sni;        // null: no server_name
  Atom alpn_json;  // rendered JSON array
  bool offers_h2 = false;
};

struct Http2Section {
  Atom akamai;
  Atom pseudo_header_order;
  Atom user_agent;      // null: none
  Atom http_signature;  // null: none
};

enum class HistoryField : std::uint8_t { kOs, kUserAgent, kJa4, kHttp2, kHostChange, kIpSharing };
[[nodiscard]] std::string_view history_field_name(HistoryField field);

struct HistoryEntry {
  std::int64_t ts_us = 0;
  HistoryField field = HistoryField::kOs;
  std::uint16_t reasons = 0;  // analyzer::NatReason bits (host change / IP sharing)
  Atom from;                  // null: unknown or not applicable
  Atom to;
};

struct Aggregate {
  packet::IpAddress ip;
  std::int64_t first_seen_us = 0;
  std::int64_t last_seen_us = 0;
  std::int64_t changed_at_us = 0;  // store clock, for the TTL
  std::uint64_t connections = 0;
  // The last few connections' SYNs, as 4-tuple hashes (0: empty slot). The
  // same SYN reaches the store twice when serve both captures and accepts
  // a connection (capture path and TCP_SAVED_SYN); it is one connection.
  std::array<std::uint32_t, 4> recent_syns{};
  std::uint8_t recent_syn_next = 0;
  std::optional<SigSection> syn;
  std::optional<SigSection> syn_ack;
  std::optional<MtuSection> mtu;
  std::optional<UptimeSection> uptime;
  std::optional<HttpRequestSection> http_request;
  std::optional<HttpResponseSection> http_response;
  std::optional<TlsSection> tls;
  std::optional<Http2Section> http2;
  std::vector<HistoryEntry> history;  // oldest first, at most history_limit
};

// Folds one observation into `agg` (whose `ip` the caller has set).
void apply_observation(Aggregate& agg, const analyzer::Observation& obs, StringPool& pool,
                       std::size_t history_limit);

}  // namespace huginn::store::detail
