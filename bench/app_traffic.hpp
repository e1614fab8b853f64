#pragma once
// Application payloads for the benchmark captures (bench/gen_bench_capture
// --profile app) and the application-layer microbenchmarks
// (bench/bench_app_layer): TLS ClientHellos in the shapes of current
// browsers and of curl/OpenSSL, a TLS 1.3 server flight, HTTP/1.1 requests
// and responses with the header orders real clients and servers send, and
// HTTP/2 prior-knowledge openings (RFC 9113 §3.3) with HPACK from nghttp2.
//
// The shapes are written from the public behaviour of these clients (cipher
// and extension lists, header orders), not captured: they need to exercise
// the parsers the way real traffic does, not to reproduce any one build's
// fingerprint. Everything random comes from the caller's CraftRng, so a
// capture is a function of its seed.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "p0f_sig_crafter.hpp"

namespace huginn::bench {

using Bytes = std::vector<std::uint8_t>;

// Who a client host is, fixed for the host's lifetime so per-host HTTP and
// TLS history stay consistent (p0f links a host's User-Agent to its SYN).
enum class Persona : std::uint8_t { kChromium, kFirefox, kCurl, kWget };

// Server software; picks the HTTP/1.1 header order and Server value.
enum class ServerKind : std::uint8_t { kNginx, kApache, kCaddy, kIis };
inline constexpr std::size_t kServerKindCount = 4;

// --- TLS -------------------------------------------------------------------

// The TLS records of a ClientHello (RFC 8446 §4.1.2) as `persona` sends it.
// kChromium: GREASE (RFC 8701) cipher, extensions, group and version;
// extension order shuffled per connection as Chromium does since 2023; an
// X25519MLKEM768 key share (1216 bytes) so the one ~1.8 KB record spans two
// TCP segments; GREASE ECH. kFirefox: no GREASE, ECH, record_size_limit,
// delegated credentials, two key shares. kCurl / kWget: OpenSSL 3 defaults,
// 31 cipher suites, encrypt_then_mac, no GREASE. offer_h2 selects ALPN
// {h2, http/1.1}, otherwise {http/1.1}.
Bytes client_hello(Persona persona, std::string_view sni, bool offer_h2, test::CraftRng& rng);

// The server's first flight: ServerHello (TLS 1.3 via supported_versions,
// key share X25519MLKEM768 when pq, else X25519), the middlebox-compat
// ChangeCipherSpec, then `encrypted_len` bytes of application-data records
// standing for EncryptedExtensions..Finished.
Bytes server_tls_flight(bool pq, std::size_t encrypted_len, test::CraftRng& rng);

// The client's second flight in TLS 1.3: the middlebox-compat
// ChangeCipherSpec (RFC 8446 Appendix D.4), Finished as a 53-byte
// application-data record, then request_len bytes of request records.
Bytes client_tls_finish(std::size_t request_len, test::CraftRng& rng);

// `len` bytes of TLS 1.2/1.3 application-data records (at most 16 KiB of
// plaintext plus a 17-byte tag each, RFC 8446 §5.2) of random content.
Bytes tls_app_data(std::size_t len, test::CraftRng& rng);

// --- HTTP/1.1 ----------------------------------------------------------------

// A GET with `persona`'s header order and values; lang is the
// Accept-Language value (browsers only; empty leaves the header out).
std::string http1_request(Persona persona, std::string_view host, std::string_view path,
                          std::string_view lang);

// A 200 response with `kind`'s header order, a Date of unix_s and a body of
// body_len bytes of text.
std::string http1_response(ServerKind kind, std::int64_t unix_s, std::size_t body_len);

// RFC 9110 §5.6.7 IMF-fixdate.
std::string http_date(std::int64_t unix_s);

// --- HTTP/2 ------------------------------------------------------------------

// A prior-knowledge client opening: preface, SETTINGS, WINDOW_UPDATE and
// the HEADERS of stream 1, with `persona`'s settings, increment, pseudo-
// header order and PRIORITY flag.
Bytes h2c_client_opening(Persona persona, std::string_view authority, std::string_view path);

// The server side: SETTINGS, SETTINGS ACK, HEADERS (:status 200) and DATA
// frames of body_len bytes in total (at most 16 KiB each, the default
// SETTINGS_MAX_FRAME_SIZE).
Bytes h2c_server_reply(std::size_t body_len, test::CraftRng& rng);

// SETTINGS ACK, the client's answer to the server's SETTINGS.
Bytes h2_settings_ack();

// --- other -------------------------------------------------------------------

// An SSH identification line (RFC 4253 §4.2).
std::string ssh_banner(bool server, test::CraftRng& rng);

// `len` random bytes.
Bytes random_bytes(std::size_t len, test::CraftRng& rng);

}  // namespace huginn::bench
