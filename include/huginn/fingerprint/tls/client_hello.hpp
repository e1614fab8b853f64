#pragma once
// ClientHello: the values of a TLS ClientHello that fingerprints use, as
// observed on the wire, and parse_client_hello(), which reads one from the
// first bytes a client sends on a TCP stream.
//
// Layout followed: RFC 8446 §5.1 (record layer), §4 (handshake header),
// §4.1.2 (ClientHello body), §4.2 (extensions); RFC 5246 §7.4.1.2 for the
// TLS 1.0-1.2 form, which is the same body with optional extensions.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace huginn::fingerprint::tls {

// RFC 8446 §5.1: a TLSPlaintext fragment "MUST NOT exceed 2^14 bytes";
// a longer one is not TLS (or is an attack on the parser).
inline constexpr std::size_t kMaxRecordPayload = 16384;
// Largest ClientHello handshake body we assemble. The wire field is 24 bits
// (16 MiB); real ClientHellos are 0.2-2 KiB, and post-quantum hybrids
// (X25519MLKEM768 key share, 1.2 KiB) stay under 4 KiB. 64 KiB leaves room
// for large PSK identities while bounding the copy made for a message that
// spans records.
inline constexpr std::size_t kMaxClientHelloLength = 64 * 1024;
// RFC 1035 §2.3.4 limits a DNS name to 255 octets; a longer SNI host name
// is kept cut to this length (and sni_truncated is set), since the value is
// hostile input that ends up in logs and the dashboard.
inline constexpr std::size_t kMaxHostNameLength = 255;

// Extension code points (IANA "TLS ExtensionType Values").
namespace ext {
inline constexpr std::uint16_t kServerName = 0x0000;           // RFC 6066 §3
inline constexpr std::uint16_t kSupportedGroups = 0x000a;      // RFC 8422 §5.1.1, RFC 7919
inline constexpr std::uint16_t kEcPointFormats = 0x000b;       // RFC 8422 §5.1.2
inline constexpr std::uint16_t kSignatureAlgorithms = 0x000d;  // RFC 8446 §4.2.3
inline constexpr std::uint16_t kAlpn = 0x0010;                 // RFC 7301 §3.1
inline constexpr std::uint16_t kPadding = 0x0015;              // RFC 7685
inline constexpr std::uint16_t kSessionTicket = 0x0023;        // RFC 5077 §3.2
inline constexpr std::uint16_t kPreSharedKey = 0x0029;         // RFC 8446 §4.2.11
inline constexpr std::uint16_t kEarlyData = 0x002a;            // RFC 8446 §4.2.10
inline constexpr std::uint16_t kSupportedVersions = 0x002b;    // RFC 8446 §4.2.1
inline constexpr std::uint16_t kPskKeyExchangeModes = 0x002d;  // RFC 8446 §4.2.9
}  // namespace ext

// Which lists carried at least one GREASE value (RFC 8701). The values
// themselves are kept in the lists below; fingerprints skip them.
struct GreaseFlags {
  bool cipher_suites = false;
  bool extensions = false;
  bool supported_versions = false;
  bool supported_groups = false;
  bool signature_algorithms = false;
  [[nodiscard]] bool any() const {
    return cipher_suites || extensions || supported_versions || supported_groups ||
           signature_algorithms;
  }
};

// Every list is in wire order and still contains GREASE values. A list
// whose extension is absent is empty; `extensions` tells absent from empty.
struct ClientHello {
  std::uint16_t record_version = 0;   // legacy_record_version of the first record (ignored by JA4)
  std::uint16_t legacy_version = 0;   // ClientHello.legacy_version (client_version in RFC 5246)
  std::size_t session_id_length = 0;  // 0..32 bytes
  std::vector<std::uint16_t> cipher_suites;
  std::vector<std::uint8_t> compression_methods;
  std::vector<std::uint16_t> extensions;          // extension types
  std::vector<std::uint16_t> supported_versions;  // RFC 8446 §4.2.1
  // RFC 6066 §3 host_name: the first name of type host_name, raw bytes (not
  // validated as DNS text; may contain anything), at most kMaxHostNameLength.
  std::string sni;
  bool sni_truncated = false;
  // RFC 7301 §3.1 ProtocolNameList, each name as raw bytes (opaque on the
  // wire: may be non-printable).
  std::vector<std::string> alpn;
  std::vector<std::uint16_t> supported_groups;      // RFC 8422 §5.1.1 / RFC 8446 §4.2.7
  std::vector<std::uint8_t> ec_point_formats;       // RFC 8422 §5.1.2
  std::vector<std::uint16_t> signature_algorithms;  // RFC 8446 §4.2.3
  // True when the client tries to resume: it sent pre_shared_key (RFC 8446
  // §4.2.11), early_data (§4.2.10, only allowed with a PSK), or a non-empty
  // session_ticket (RFC 5077 §3.2; an empty one only announces support).
  // A non-empty legacy session_id is not counted: TLS 1.3 clients send a
  // random one for middlebox compatibility (RFC 8446 Appendix D.4).
  bool resumption_attempt = false;
  GreaseFlags grease;

  [[nodiscard]] bool has_extension(std::uint16_t type) const;
};

enum class ParseStatus : std::uint8_t {
  kNeedMore,   // a prefix of a plausible ClientHello: call again with more bytes
  kMalformed,  // not a ClientHello, or a broken one: `reason` says which; give up on the stream
  kOk,         // `hello` is filled; `consumed` bytes of the stream were used
};

// Why a stream is not a usable ClientHello. Each has a counter name
// (reason_name) so nothing is dropped silently.
enum class MalformedReason : std::uint8_t {
  kNone,
  kNotHandshake,       // tls_not_handshake: first record is not content type 22
  kSslv2Hello,         // tls_sslv2_hello: SSL 2.0-compatible CLIENT-HELLO (RFC 6101 App. E)
  kBadRecordVersion,   // tls_bad_record_version: record version major byte is not 3
  kRecordTooLarge,     // tls_record_too_large: record length > kMaxRecordPayload
  kEmptyRecord,        // tls_empty_record: zero-length handshake record (RFC 8446 §5.1 forbids)
  kInterleavedRecord,  // tls_interleaved_record: non-handshake record inside the ClientHello
  kNotClientHello,     // tls_not_client_hello: first handshake message is not type 1
  kHelloTooLarge,      // tls_hello_too_large: handshake length > kMaxClientHelloLength
  kHelloOverrun,       // tls_hello_overrun: a fixed field or list runs past the message end
  kSessionIdTooLong,   // tls_session_id_too_long: legacy_session_id longer than 32
  kCipherListInvalid,  // tls_cipher_list_invalid: cipher_suites length is odd
  kExtensionOverrun,   // tls_extension_overrun: extension block or one extension overruns
  kExtensionMalformed, // tls_extension_malformed: a decoded extension's inner lengths are wrong
  kTrailingBytes,      // tls_hello_trailing_bytes: bytes after the extension block
};

// The counter name, e.g. "tls_record_too_large"; "" for kNone.
[[nodiscard]] std::string_view reason_name(MalformedReason reason);

struct ClientHelloParse {
  ParseStatus status = ParseStatus::kNeedMore;
  MalformedReason reason = MalformedReason::kNone;  // set iff status == kMalformed
  // kOk: bytes of the stream up to the end of the record that completed the
  // ClientHello (including any ChangeCipherSpec records skipped before it).
  // A second ClientHello (after a HelloRetryRequest) starts there.
  std::size_t consumed = 0;
  ClientHello hello;  // filled iff status == kOk
};

// Parses the ClientHello at the start of `stream`, the client-to-server
// bytes of a TCP connection in order from the first byte (or from the
// `consumed` offset of a previous kOk, for the second ClientHello).
//
// Accepts any record-layer minor version, a handshake message spread over
// several records, and leading ChangeCipherSpec records (RFC 8446
// Appendix D.4: a compatibility-mode client sends one before its second
// ClientHello). Bytes after the ClientHello message in its last record are
// not examined. Extensions other than those stored above are recorded by
// type only. Never throws; reads only inside `stream`; nothing is retained.
//
// Returns kNeedMore while `stream` is a valid prefix, kMalformed with a
// reason as soon as it cannot be one, else kOk.
[[nodiscard]] ClientHelloParse parse_client_hello(std::span<const std::uint8_t> stream);

}  // namespace huginn::fingerprint::tls
