#pragma once
// JA4 TLS client fingerprint (FoxIO JA4 specification, BSD-3-Clause;
// technical_details/JA4.md), from a parsed ClientHello. docs/ja4.md
// describes every field and edge rule, and the "stable" variant below.
//
//   ja4    = ja4_a _ ja4_b _ ja4_c            e.g. t13d1516h2_8daaf6152771_e5627efa2ab1
//   ja4_a  = transport (t/q/d) + version (13,12,11,10,s3,s2,d1,d2,d3,00) + sni (d/i)
//            + cipher count (2 digits, max 99) + extension count (2 digits, max 99)
//            + ALPN first/last characters ("00" without ALPN)
//   ja4_b  = sha256("c1,c2,...")[0:12] over cipher suites sorted by hex
//   ja4_c  = sha256("e1,e2,..._s1,s2,...")[0:12] over extension types sorted
//            by hex without SNI (0000) and ALPN (0010), then signature
//            algorithms in wire order ("_" and the list only when non-empty)
//
// GREASE values (RFC 8701) are skipped everywhere, counts included. An
// empty list hashes to "000000000000". ja4_r prints the lists instead of
// their hashes; ja4_o / ja4_ro keep wire order and keep SNI and ALPN.
//
// Only JA4 itself is implemented: the other JA4+ methods are under a
// licence this project cannot use.
#include <cstdint>
#include <string>
#include <string_view>

#include "huginn/fingerprint/tls/client_hello.hpp"

namespace huginn::fingerprint::tls {

// How an ALPN value whose first or last byte is not an ASCII letter or
// digit is printed in ja4_a.
enum class AlpnRule : std::uint8_t {
  // The specification: the first and last characters of the hex form of the
  // whole first value (0xba 0xad -> "baad" -> "bd").
  kSpecHex,
  // The reference tools before the specification's 2025 revision (FoxIO's
  // Python, Rust and Wireshark code) print '9' for such a character
  // (0xba 0xad -> "99"). Fingerprint databases built with them, and the
  // reference output in our golden data, use this form.
  kLegacyNines,
};

struct Ja4 {
  std::string ja4;     // sorted, hashed
  std::string ja4_r;   // sorted, raw lists
  std::string ja4_o;   // wire order, hashed
  std::string ja4_ro;  // wire order, raw lists
};

// `transport` is 't' (TLS over TCP), 'q' (QUIC) or 'd' (DTLS), printed as
// given. Cannot fail: every ClientHello has a fingerprint.
[[nodiscard]] Ja4 compute_ja4(const ClientHello& hello, char transport = 't',
                              AlpnRule alpn_rule = AlpnRule::kSpecHex);

// Extensions left out of the stable variant. Evidence (docs/ja4.md): the
// same client sends pre_shared_key (and early_data, which RFC 8446 §4.2.10
// allows only with a PSK) only when resuming, and OpenSSL-based clients
// add padding (RFC 7685) only when the hello falls in a size window that a
// PSK identity, a longer SNI or a session ticket moves it out of.
// session_ticket and psk_key_exchange_modes are kept: a client sends them
// in fresh and resumed hellos alike (only their contents differ).
inline constexpr std::uint16_t kStableExcludedExtensions[] = {ext::kPadding, ext::kPreSharedKey,
                                                              ext::kEarlyData};

// "Stable" JA4: the same four forms, computed as if the extensions in
// kStableExcludedExtensions were absent (they are neither counted in ja4_a
// nor listed in ja4_c), so that a client's fresh and resumed sessions get
// the same fingerprint. Not part of the JA4 specification: never compare it
// with JA4 values from other tools.
[[nodiscard]] Ja4 compute_ja4_stable(const ClientHello& hello, char transport = 't',
                                     AlpnRule alpn_rule = AlpnRule::kSpecHex);

// compute_ja4() and compute_ja4_stable(...).ja4 at once, for the price of
// little more than the first: the stable form shares ja4_b (the cipher
// suites), and is ja4 itself when the hello has none of
// kStableExcludedExtensions.
struct Ja4WithStable {
  Ja4 ja4;
  std::string stable;  // compute_ja4_stable(...).ja4
};
[[nodiscard]] Ja4WithStable compute_ja4_with_stable(const ClientHello& hello, char transport = 't',
                                                    AlpnRule alpn_rule = AlpnRule::kSpecHex);

// The two-character version code of ja4_a for a wire version value.
[[nodiscard]] std::string_view ja4_version_code(std::uint16_t version);
// The two ALPN characters of ja4_a for the first ALPN value (raw bytes);
// "00" for an empty value.
[[nodiscard]] std::string format_ja4_alpn(std::string_view first_value,
                                          AlpnRule rule = AlpnRule::kSpecHex);
// SHA-256 of `text` as lower-case hex cut to 12 characters; "000000000000"
// when `text` is empty.
[[nodiscard]] std::string ja4_hash12(std::string_view text);

}  // namespace huginn::fingerprint::tls
