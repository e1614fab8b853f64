#pragma once
// The p0f v3 fingerprint database (p0f.fp), loaded once at start-up into
// structures built for matching. Format: p0f README section 5; the loader is
// db/p0f_db_parser.hpp.
//
// Ownership: a P0fDb is immutable after load; matchers and the analyzer hold
// const references/pointers into it for the life of the process.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "huginn/util/limits.hpp"

namespace huginn::db {

// One entry of a "sys = @unix,Windows" line: the OS classes or names a
// userland tool is expected to run on (p0f flags a mismatch with the host's
// OS as a possible fake).
struct SysRef {
  bool is_class = false;  // "@name": id indexes P0fDb::classes, else P0fDb::names
  std::uint32_t id = 0;
  friend bool operator==(const SysRef&, const SysRef&) = default;
};

// "label = s|g:class:name:flavor" (p0f README "Signature labels").
struct Label {
  bool generic = false;                   // 'g' rather than 's'
  std::optional<std::uint32_t> class_id;  // index into P0fDb::classes; nullopt for '!' (userland tool)
  std::uint32_t name_id = 0;              // index into P0fDb::names
  std::string flavor;                     // may be empty
  // p0f's label id: 1 for the first OS/app label in the file, counting up;
  // always equals (index in P0fDb::labels) + 1. [mtu] labels are not counted.
  std::uint32_t label_id = 0;
  std::vector<SysRef> sys;                // "sys =" of a '!' label; empty for OS labels
  std::vector<std::string> sys_text;      // the same entries as written, '@' kept
  [[nodiscard]] bool is_user_app() const { return !class_id.has_value(); }
};

// How a database window size is written (p0f fp_tcp.h WIN_TYPE_*).
enum class WinType : std::uint8_t { kNormal, kAny, kMod, kMss, kMtu };

// One "sig =" line of [tcp:request] or [tcp:response]:
//   ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass
struct TcpSigPattern {
  std::optional<std::uint8_t> ip_ver;   // 4, 6, or nullopt for '*'
  std::uint8_t ittl = 0;                // initial TTL, with "+dist" already added (1..255)
  bool bad_ttl = false;                 // "NN-": TTL is randomised by this stack
  std::uint8_t ip_opt_len = 0;
  std::optional<std::uint16_t> mss;     // nullopt for '*'
  WinType win_type = WinType::kNormal;
  // kNormal: window value; kMod: modulus (2..65535); kMss/kMtu: multiplier
  // (1..1000); kAny: 0.
  std::uint16_t win = 0;
  std::optional<std::uint8_t> wscale;   // nullopt for '*'
  std::vector<std::uint8_t> olayout;    // option kinds (fingerprint::tcp::OptionKind or "?N"); EOL (0) only last
  std::uint8_t opt_eol_pad = 0;         // N of "eol+N"; 0 without EOL
  std::uint32_t quirks = 0;             // fingerprint::tcp::Quirk bits
  std::optional<bool> payload;          // pclass: nullopt '*', false '0', true '+'
};

struct TcpSigRecord {
  const Label* label = nullptr;  // points into the owning P0fDb::labels (see P0fDb)
  TcpSigPattern sig;
  std::string raw;               // the signature text as written
  std::uint32_t line_no = 0;     // 1-based line in the database file
};

// One "sig =" line of [http:request] or [http:response]:
// ver:horder:habsent:expsw (p0f README "HTTP signatures").
struct HttpHeaderPattern {
  std::string name;                  // as written; p0f compares header names case-sensitively
  std::optional<std::string> value;  // required value substring ("Name=[value]"), if any; never empty
  bool optional = false;             // "?Name"
};
struct HttpSigPattern {
  std::optional<std::uint8_t> http_ver;  // 0 or 1 (HTTP/1.0, 1.1); nullopt for '*'
  std::vector<HttpHeaderPattern> horder;  // at most 32 (p0f HTTP_MAX_HDRS)
  std::vector<std::string> habsent;       // at most 32
  std::string expsw;                 // expected software substring; may be empty
};
struct HttpSigRecord {
  const Label* label = nullptr;  // points into the owning P0fDb::labels (see P0fDb)
  HttpSigPattern sig;
  std::string raw;
  std::uint32_t line_no = 0;
};

// Invariant: every record's `label` points into this object's `labels`,
// which are never resized after load. Moving a P0fDb keeps the pointers
// valid (a moved std::vector hands over its buffer); copying is disabled
// because a copy's records would still point into the original.
struct P0fDb {
  P0fDb() = default;
  P0fDb(const P0fDb&) = delete;
  P0fDb& operator=(const P0fDb&) = delete;
  P0fDb(P0fDb&&) noexcept = default;
  P0fDb& operator=(P0fDb&&) noexcept = default;
  ~P0fDb() = default;

  std::string path;                  // the name given to the loader
  std::vector<std::string> classes;  // "classes = win,unix,other"
  // Every OS/app name seen in labels, "sys" and "ua_os", by name_id. Names
  // that differ only in case share one id and keep the first spelling (p0f).
  std::vector<std::string> names;
  std::vector<Label> labels;         // in file order; never resized after load
  // [mtu]: "sig = N" under "label = NAME". If a value repeats, the first
  // definition wins, as in p0f (its lookup returns the first one registered).
  std::unordered_map<std::uint16_t, std::string> mtu_to_link;
  std::vector<TcpSigRecord> tcp_request;   // file order = p0f's match order
  std::vector<TcpSigRecord> tcp_response;
  std::vector<HttpSigRecord> http_request;
  std::vector<HttpSigRecord> http_response;
  // "ua_os = Linux,iOS=[iPad],..." as (User-Agent keyword, OS name) pairs in
  // file order; the keyword is the bracketed text, else the name itself. The
  // name is the canonical spelling in `names`. Used by HTTP dishonesty checks.
  std::vector<std::pair<std::string, std::string>> ua_os;
};

// p0f's name lookup: ASCII case-insensitive. nullopt if the name is unknown.
[[nodiscard]] std::optional<std::uint32_t> find_name_id(const P0fDb& db, std::string_view name);

}  // namespace huginn::db
