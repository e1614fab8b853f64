#pragma once
// The p0f v3 fingerprint database (p0f.fp), loaded once at start-up into
// structures built for matching. Format: p0f README section 5 and readfp.c.
//
// Ownership: a P0fDb is immutable after load; matchers and the analyzer hold
// const references/pointers into it for the life of the process.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "huginn/util/limits.hpp"

namespace huginn::db {

// "label = s|g:class:name:flavor" (p0f README "Signature labels").
struct Label {
  bool generic = false;                 // 'g' rather than 's'
  std::optional<std::uint32_t> class_id;  // index into P0fDb::classes; nullopt for '!' (userland tool)
  std::uint32_t name_id = 0;            // index into P0fDb::names
  std::string flavor;                   // may be empty
  std::uint32_t label_id = 0;           // ordinal of the label line, shared by its sigs
  std::vector<std::uint32_t> sys;       // "sys =" for '!' labels: OS class/name ids (see SysRef)
  std::vector<std::string> sys_text;    // the same, as written (for display)
  [[nodiscard]] bool is_user_app() const { return !class_id.has_value(); }
};

// How a database window size is written (p0f fp_tcp.h WIN_TYPE_*).
enum class WinType : std::uint8_t { kNormal, kAny, kMod, kMss, kMtu };

// One "sig =" line of [tcp:request] or [tcp:response].
struct TcpSigPattern {
  std::optional<std::uint8_t> ip_ver;   // 4, 6, or nullopt for '*'
  std::uint8_t ittl = 0;                // initial TTL, with "+dist" already added (p0f readfp)
  bool bad_ttl = false;                 // "NN-": TTL is randomised by this stack
  std::uint8_t ip_opt_len = 0;
  std::optional<std::uint16_t> mss;     // nullopt for '*'
  WinType win_type = WinType::kNormal;
  std::uint16_t win = 0;                // value, modulus or multiplier, per win_type
  std::optional<std::uint8_t> wscale;   // nullopt for '*'
  std::vector<std::uint8_t> olayout;    // option kinds; EOL (0) only last
  std::uint8_t opt_eol_pad = 0;
  std::uint32_t quirks = 0;             // fingerprint::tcp::Quirk bits
  std::optional<bool> payload;          // pclass: nullopt '*', false '0', true '+'
};

struct TcpSigRecord {
  const Label* label = nullptr;  // points into P0fDb::labels (stable storage)
  TcpSigPattern sig;
  std::string raw;               // the signature text as written
  std::uint32_t line_no = 0;
};

// One "sig =" line of [http:request] or [http:response]:
// ver:horder:habsent:expsw (p0f README "HTTP signatures", fp_http.c).
struct HttpHeaderPattern {
  std::string name;                  // as written (case preserved)
  std::optional<std::string> value;  // required value substring ("Name=[value]"), if any
  bool optional = false;             // "?Name"
};
struct HttpSigPattern {
  std::optional<std::uint8_t> http_ver;  // 0 or 1 (HTTP/1.0, 1.1); nullopt for '*'
  std::vector<HttpHeaderPattern> horder;
  std::vector<std::string> habsent;
  std::string expsw;                 // expected software substring; may be empty
};
struct HttpSigRecord {
  const Label* label = nullptr;
  HttpSigPattern sig;
  std::string raw;
  std::uint32_t line_no = 0;
};

struct P0fDb {
  std::string path;
  std::vector<std::string> classes;  // "classes = win,unix,other"
  std::vector<std::string> names;    // every OS/app name seen in labels, by name_id
  std::vector<Label> labels;         // in file order; never resized after load
  // [mtu]: link name -> list of MTU values, resolved into a lookup table.
  std::unordered_map<std::uint16_t, std::string> mtu_to_link;  // first definition wins (p0f)
  std::vector<TcpSigRecord> tcp_request;   // file order = p0f's match order
  std::vector<TcpSigRecord> tcp_response;
  std::vector<HttpSigRecord> http_request;
  std::vector<HttpSigRecord> http_response;
  // "ua_os = Linux,Windows,..." pairs (User-Agent keyword -> OS name),
  // in file order; used by HTTP dishonesty checks.
  std::vector<std::pair<std::string, std::string>> ua_os;
};

}  // namespace huginn::db
