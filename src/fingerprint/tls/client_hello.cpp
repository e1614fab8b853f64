#include "huginn/fingerprint/tls/client_hello.hpp"

#include <algorithm>
#include <optional>

#include "huginn/fingerprint/tls/grease.hpp"
#include "huginn/util/byte_reader.hpp"

namespace huginn::fingerprint::tls {
namespace {

using util::ByteReader;

// RFC 8446 §5.1 ContentType and §4 HandshakeType values.
constexpr std::uint8_t kContentChangeCipherSpec = 20;
constexpr std::uint8_t kContentHandshake = 22;
constexpr std::uint8_t kHandshakeClientHello = 1;
// SSL 2.0 CLIENT-HELLO message type (RFC 6101 Appendix E.1 / E.2).
constexpr std::uint8_t kSslv2ClientHello = 1;
constexpr std::size_t kRecordHeaderLength = 5;
constexpr std::size_t kHandshakeHeaderLength = 4;
constexpr std::size_t kRandomLength = 32;
constexpr std::size_t kMaxSessionIdLength = 32;  // RFC 8446 §4.1.2 legacy_session_id<0..32>

ClientHelloParse malformed(MalformedReason reason) {
  ClientHelloParse r;
  r.status = ParseStatus::kMalformed;
  r.reason = reason;
  return r;
}

ClientHelloParse need_more() { return ClientHelloParse{}; }

// Reads a list of 16-bit values whose byte length is given by a prefix of
// `prefix_bytes` (1 or 2) and must be even and fill `r` exactly.
std::optional<std::vector<std::uint16_t>> read_u16_list(ByteReader r, int prefix_bytes) {
  std::optional<std::uint16_t> len;
  if (prefix_bytes == 1) {
    if (auto b = r.u8()) len = *b;
  } else {
    len = r.be16();
  }
  if (!len || *len % 2 != 0) return std::nullopt;
  auto list = r.sub(*len);
  if (!list || !r.empty()) return std::nullopt;
  std::vector<std::uint16_t> out;
  out.reserve(*len / 2);
  while (!list->empty()) out.push_back(*list->be16());  // even length: cannot fail
  return out;
}

bool any_grease(const std::vector<std::uint16_t>& v) {
  return std::any_of(v.begin(), v.end(), [](std::uint16_t x) { return is_grease(x); });
}

// RFC 6066 §3: ServerNameList of (NameType, opaque<1..2^16-1>) entries; the
// first host_name (type 0) is kept. An empty extension body is accepted
// (it is what servers echo), leaving the name empty.
bool decode_server_name(ByteReader r, ClientHello& h) {
  if (r.empty()) return true;
  auto len = r.be16();
  if (!len) return false;
  auto list = r.sub(*len);
  if (!list || !r.empty()) return false;
  bool have_name = false;
  while (!list->empty()) {
    auto type = list->u8();
    auto name_len = list->be16();
    if (!type || !name_len) return false;
    auto name = list->bytes(*name_len);
    if (!name) return false;
    if (*type == 0 && !have_name) {
      have_name = true;
      const std::size_t keep = std::min(name->size(), kMaxHostNameLength);
      h.sni.assign(name->begin(), name->begin() + static_cast<std::ptrdiff_t>(keep));
      h.sni_truncated = name->size() > kMaxHostNameLength;
    }
  }
  return true;
}

// RFC 7301 §3.1: ProtocolNameList of opaque<1..2^8-1> names. Empty names
// violate the RFC but are kept: JA4 defines an output for them.
bool decode_alpn(ByteReader r, ClientHello& h) {
  auto len = r.be16();
  if (!len) return false;
  auto list = r.sub(*len);
  if (!list || !r.empty()) return false;
  while (!list->empty()) {
    auto name_len = list->u8();
    if (!name_len) return false;
    auto name = list->bytes(*name_len);
    if (!name) return false;
    h.alpn.emplace_back(name->begin(), name->end());
  }
  return true;
}

// RFC 8422 §5.1.2: ECPointFormatList, uint8 length then one byte per format.
bool decode_point_formats(ByteReader r, ClientHello& h) {
  auto len = r.u8();
  if (!len) return false;
  auto list = r.bytes(*len);
  if (!list || !r.empty()) return false;
  h.ec_point_formats.assign(list->begin(), list->end());
  return true;
}

// Decodes the body of one extension into `h`. Only the first occurrence of
// a repeated extension (forbidden by RFC 8446 §4.2) is decoded.
bool decode_extension(std::uint16_t type, ByteReader body, bool first_time, ClientHello& h) {
  switch (type) {
    case ext::kServerName: return !first_time || decode_server_name(body, h);
    case ext::kAlpn: return !first_time || decode_alpn(body, h);
    case ext::kSupportedGroups: {
      if (!first_time) return true;
      auto v = read_u16_list(body, 2);
      if (!v) return false;
      h.supported_groups = std::move(*v);
      h.grease.supported_groups = any_grease(h.supported_groups);
      return true;
    }
    case ext::kEcPointFormats: return !first_time || decode_point_formats(body, h);
    case ext::kSignatureAlgorithms: {
      if (!first_time) return true;
      auto v = read_u16_list(body, 2);
      if (!v) return false;
      h.signature_algorithms = std::move(*v);
      h.grease.signature_algorithms = any_grease(h.signature_algorithms);
      return true;
    }
    case ext::kSupportedVersions: {
      if (!first_time) return true;
      // ClientHello form: versions<2..254>, a one-byte length (§4.2.1).
      auto v = read_u16_list(body, 1);
      if (!v) return false;
      h.supported_versions = std::move(*v);
      h.grease.supported_versions = any_grease(h.supported_versions);
      return true;
    }
    case ext::kSessionTicket:
      if (!body.empty()) h.resumption_attempt = true;
      return true;
    case ext::kPreSharedKey:
    case ext::kEarlyData: h.resumption_attempt = true; return true;
    default: return true;
  }
}

// RFC 8446 §4.1.2 ClientHello body (after the 4-byte handshake header).
ClientHelloParse decode_body(ByteReader r) {
  ClientHelloParse out;
  ClientHello& h = out.hello;

  auto version = r.be16();
  if (!version || !r.skip(kRandomLength)) return malformed(MalformedReason::kHelloOverrun);
  h.legacy_version = *version;

  auto sid_len = r.u8();
  if (!sid_len) return malformed(MalformedReason::kHelloOverrun);
  if (*sid_len > kMaxSessionIdLength) return malformed(MalformedReason::kSessionIdTooLong);
  if (!r.skip(*sid_len)) return malformed(MalformedReason::kHelloOverrun);
  h.session_id_length = *sid_len;

  auto cs_len = r.be16();
  if (!cs_len) return malformed(MalformedReason::kHelloOverrun);
  if (*cs_len % 2 != 0) return malformed(MalformedReason::kCipherListInvalid);
  auto cs = r.sub(*cs_len);
  if (!cs) return malformed(MalformedReason::kHelloOverrun);
  h.cipher_suites.reserve(*cs_len / 2);
  while (!cs->empty()) h.cipher_suites.push_back(*cs->be16());
  h.grease.cipher_suites = any_grease(h.cipher_suites);

  auto comp_len = r.u8();
  if (!comp_len) return malformed(MalformedReason::kHelloOverrun);
  auto comp = r.bytes(*comp_len);
  if (!comp) return malformed(MalformedReason::kHelloOverrun);
  h.compression_methods.assign(comp->begin(), comp->end());

  // RFC 5246 §7.4.1.2: a TLS 1.0-1.2 ClientHello may end here (no
  // extensions block at all), which is distinct from an empty block.
  if (r.empty()) {
    out.status = ParseStatus::kOk;
    return out;
  }
  auto ext_len = r.be16();
  if (!ext_len) return malformed(MalformedReason::kExtensionOverrun);
  auto exts = r.sub(*ext_len);
  if (!exts) return malformed(MalformedReason::kExtensionOverrun);
  if (!r.empty()) return malformed(MalformedReason::kTrailingBytes);

  while (!exts->empty()) {
    auto type = exts->be16();
    auto len = exts->be16();
    if (!type || !len) return malformed(MalformedReason::kExtensionOverrun);
    auto body = exts->sub(*len);
    if (!body) return malformed(MalformedReason::kExtensionOverrun);
    const bool first_time = !h.has_extension(*type);
    h.extensions.push_back(*type);
    if (!decode_extension(*type, *body, first_time, h))
      return malformed(MalformedReason::kExtensionMalformed);
  }
  h.grease.extensions = any_grease(h.extensions);
  out.status = ParseStatus::kOk;
  return out;
}

// Header plus body length, once the 4-byte handshake header is complete.
std::optional<std::size_t> message_length(const std::vector<std::uint8_t>& msg) {
  if (msg.size() < kHandshakeHeaderLength) return std::nullopt;
  return kHandshakeHeaderLength +
         ((std::size_t{msg[1]} << 16) | (std::size_t{msg[2]} << 8) | msg[3]);
}

// Checks what is known of the handshake header so far, so that non-TLS
// streams are rejected before a whole record arrives.
std::optional<MalformedReason> check_handshake_header(const std::vector<std::uint8_t>& msg) {
  if (!msg.empty() && msg[0] != kHandshakeClientHello) return MalformedReason::kNotClientHello;
  if (auto total = message_length(msg);
      total && *total - kHandshakeHeaderLength > kMaxClientHelloLength)
    return MalformedReason::kHelloTooLarge;
  return std::nullopt;
}

}  // namespace

bool ClientHello::has_extension(std::uint16_t type) const {
  return std::find(extensions.begin(), extensions.end(), type) != extensions.end();
}

std::string_view reason_name(MalformedReason reason) {
  switch (reason) {
    case MalformedReason::kNone: return "";
    case MalformedReason::kNotHandshake: return "tls_not_handshake";
    case MalformedReason::kSslv2Hello: return "tls_sslv2_hello";
    case MalformedReason::kBadRecordVersion: return "tls_bad_record_version";
    case MalformedReason::kRecordTooLarge: return "tls_record_too_large";
    case MalformedReason::kEmptyRecord: return "tls_empty_record";
    case MalformedReason::kInterleavedRecord: return "tls_interleaved_record";
    case MalformedReason::kNotClientHello: return "tls_not_client_hello";
    case MalformedReason::kHelloTooLarge: return "tls_hello_too_large";
    case MalformedReason::kHelloOverrun: return "tls_hello_overrun";
    case MalformedReason::kSessionIdTooLong: return "tls_session_id_too_long";
    case MalformedReason::kCipherListInvalid: return "tls_cipher_list_invalid";
    case MalformedReason::kExtensionOverrun: return "tls_extension_overrun";
    case MalformedReason::kExtensionMalformed: return "tls_extension_malformed";
    case MalformedReason::kTrailingBytes: return "tls_hello_trailing_bytes";
  }
  return "tls_unknown_reason";
}

ClientHelloParse parse_client_hello(std::span<const std::uint8_t> stream) {
  ByteReader r(stream);
  std::vector<std::uint8_t> msg;  // handshake header + body, gathered across records
  std::uint16_t first_record_version = 0;

  for (;;) {
    const auto type = r.peek(0);
    if (!type) return need_more();
    // An SSL 2.0 record header has the top bit of its first byte set
    // (2-byte length form); the message type follows the length.
    if ((*type & 0x80) != 0 && msg.empty()) {
      const auto msg_type = r.peek(2);
      if (!msg_type) return need_more();
      return malformed(*msg_type == kSslv2ClientHello ? MalformedReason::kSslv2Hello
                                                      : MalformedReason::kNotHandshake);
    }
    const bool ccs_allowed = msg.empty();
    if (*type != kContentHandshake && !(ccs_allowed && *type == kContentChangeCipherSpec))
      return malformed(msg.empty() ? MalformedReason::kNotHandshake
                                   : MalformedReason::kInterleavedRecord);
    if (const auto major = r.peek(1); major && *major != 3)
      return malformed(MalformedReason::kBadRecordVersion);
    if (r.remaining() < kRecordHeaderLength) return need_more();

    (void)r.u8();
    const std::uint16_t record_version = *r.be16();
    const std::uint16_t length = *r.be16();
    if (length > kMaxRecordPayload) return malformed(MalformedReason::kRecordTooLarge);

    if (*type == kContentChangeCipherSpec) {
      // RFC 8446 §5: the compatibility CCS is the single byte 0x01.
      const auto value = r.peek(0);
      if (length != 1 || (value && *value != 1)) return malformed(MalformedReason::kNotHandshake);
      if (!r.skip(1)) return need_more();
      continue;
    }
    if (length == 0) return malformed(MalformedReason::kEmptyRecord);
    if (msg.empty()) first_record_version = record_version;

    // Take what this record offers of the message, even if the record is
    // not complete yet, so that the header checks run early.
    auto chunk = r.rest().first(std::min<std::size_t>(length, r.remaining()));
    const bool record_complete = chunk.size() == length;
    if (msg.size() < kHandshakeHeaderLength) {
      const std::size_t n = std::min(kHandshakeHeaderLength - msg.size(), chunk.size());
      msg.insert(msg.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
      chunk = chunk.subspan(n);
    }
    if (auto bad = check_handshake_header(msg)) return malformed(*bad);
    const auto total = message_length(msg);
    if (total) {
      const std::size_t n = std::min(*total - msg.size(), chunk.size());
      msg.insert(msg.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    }
    if (!record_complete) return need_more();
    (void)r.skip(length);
    if (total && msg.size() == *total) break;
  }

  ByteReader body(std::span<const std::uint8_t>(msg).subspan(kHandshakeHeaderLength));
  ClientHelloParse out = decode_body(body);
  if (out.status == ParseStatus::kOk) {
    out.hello.record_version = first_record_version;
    out.consumed = r.position();
  }
  return out;
}

}  // namespace huginn::fingerprint::tls
