#include "huginn/fingerprint/http2/frame_reader.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "huginn/util/byte_reader.hpp"

namespace huginn::fingerprint::http2 {
namespace {

using util::ByteReader;

constexpr std::uint32_t kStreamIdMask = 0x7fffffffu;  // RFC 9113 §4.1: R bit is ignored
constexpr std::size_t kSettingLength = 6;              // RFC 9113 §6.5.1
constexpr std::size_t kPriorityLength = 5;             // RFC 9113 §6.3
constexpr std::size_t kWindowUpdateLength = 4;         // RFC 9113 §6.9
// Longest method token we wait for before deciding a stream is not an
// HTTP/1.x request (the registered methods are at most 17 characters:
// "VERSION-CONTROL", "BASELINE-CONTROL").
constexpr std::size_t kMaxMethodLength = 20;

FrameRead malformed(FrameRead&& r, MalformedReason reason) {
  r.status = ReadStatus::kMalformed;
  r.reason = reason;
  return std::move(r);
}

bool is_method_char(std::uint8_t c) { return (c >= 'A' && c <= 'Z') || c == '-' || c == '_'; }

// The HEADERS payload split, or the reason it cannot be (RFC 9113 §6.2:
// Pad Length?, Exclusive+Stream Dependency? + Weight?, fragment, padding).
std::variant<HeadersPayload, MalformedReason> split_headers(const Frame& f) {
  ByteReader r(f.payload);
  std::size_t pad = 0;
  if ((f.flags & frame_flag::kPadded) != 0) {
    auto p = r.u8();
    if (!p) return MalformedReason::kPaddingOverrun;
    pad = *p;
  }
  HeadersPayload out;
  if ((f.flags & frame_flag::kPriority) != 0) {
    auto dep = r.be32();
    auto weight = r.u8();
    if (!dep || !weight) return MalformedReason::kPriorityLength;
    out.priority = PrioritySpec{f.stream_id, (*dep & 0x80000000u) != 0, *dep & kStreamIdMask,
                                static_cast<std::uint16_t>(*weight + 1)};
  }
  // §6.2: padding that is not shorter than what is left is a connection
  // error (PROTOCOL_ERROR); an empty fragment is allowed.
  if (pad > r.remaining()) return MalformedReason::kPaddingOverrun;
  out.fragment = *r.bytes(r.remaining() - pad);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True when the comma-separated list `value` has the token `want`
// (RFC 9110 §5.6.1; protocol names compared case-insensitively, as servers do).
bool has_token(std::string_view value, std::string_view want) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    const std::string_view item = trim(value.substr(0, comma));
    // RFC 9110 §7.8: a protocol may carry "/version"; h2c has none.
    if (iequals(item, want)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

struct UpgradeHead {
  std::size_t head_length = 0;   // through the empty line
  std::size_t body_length = 0;   // Content-Length
  std::vector<std::uint8_t> settings;
};

// Parses the Upgrade request head (RFC 7540 §3.2). `head` ends with the
// CRLF CRLF. Only the fields this reader needs are interpreted; the rest of
// HTTP/1 parsing belongs to fingerprint/http.
std::variant<UpgradeHead, MalformedReason> parse_upgrade_head(std::string_view head,
                                                              const ReaderLimits& limits) {
  UpgradeHead out;
  out.head_length = head.size();
  bool upgrade_h2c = false;
  int settings_fields = 0;
  std::string_view settings_value;
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  bool bad_length = false;

  auto line_end = head.find("\r\n");
  std::string_view rest = head.substr(line_end + 2);  // skip the request line
  while (!rest.empty()) {
    line_end = rest.find("\r\n");
    const std::string_view line = rest.substr(0, line_end);
    rest.remove_prefix(line_end + 2);
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // not a field; HTTP/1 checks are not ours
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "upgrade")) {
      upgrade_h2c = upgrade_h2c || has_token(value, "h2c");
    } else if (iequals(name, "http2-settings")) {
      ++settings_fields;
      settings_value = value;
    } else if (iequals(name, "content-length")) {
      std::uint64_t n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc{} || end != value.data() + value.size() ||
          (content_length && *content_length != n)) {
        bad_length = true;
      } else {
        content_length = n;
      }
    } else if (iequals(name, "transfer-encoding")) {
      chunked = true;  // any coding: the body length is not known up front
    }
  }
  if (!upgrade_h2c) return MalformedReason::kNotUpgrade;
  // RFC 7540 §3.2.1: "exactly one HTTP2-Settings header field".
  if (settings_fields != 1) return MalformedReason::kUpgradeBadSettings;
  auto decoded = decode_base64url(settings_value);
  if (!decoded) return MalformedReason::kUpgradeBadSettings;
  if (decoded->size() % kSettingLength != 0) return MalformedReason::kSettingsLength;
  // The body precedes the preface on the stream (RFC 7540 §3.2: it "MUST be
  // sent before the client can send HTTP/2 frames"). One we cannot measure,
  // or that would not fit in the bytes we keep, ends the reading.
  if (chunked || bad_length) return MalformedReason::kUpgradeBody;
  if (content_length && *content_length > limits.max_upgrade_head) return MalformedReason::kUpgradeBody;
  out.body_length = content_length.value_or(0);
  out.settings = std::move(*decoded);
  return out;
}

}  // namespace

std::string_view reason_name(MalformedReason reason) {
  switch (reason) {
    case MalformedReason::kNone: return "";
    case MalformedReason::kBadPreface: return "h2_bad_preface";
    case MalformedReason::kNotUpgrade: return "h2_not_upgrade";
    case MalformedReason::kUpgradeHeadTooLarge: return "h2_upgrade_head_too_large";
    case MalformedReason::kUpgradeBadSettings: return "h2_upgrade_bad_settings";
    case MalformedReason::kUpgradeBody: return "h2_upgrade_body";
    case MalformedReason::kFrameTooLarge: return "h2_frame_too_large";
    case MalformedReason::kSettingsExpected: return "h2_settings_expected";
    case MalformedReason::kSettingsLength: return "h2_settings_length";
    case MalformedReason::kBadStreamId: return "h2_bad_stream_id";
    case MalformedReason::kWindowUpdateLength: return "h2_window_update_length";
    case MalformedReason::kPriorityLength: return "h2_priority_length";
    case MalformedReason::kPaddingOverrun: return "h2_padding_overrun";
    case MalformedReason::kContinuationExpected: return "h2_continuation_expected";
    case MalformedReason::kHeaderBlockTooLarge: return "h2_header_block_too_large";
  }
  return "h2_unknown_reason";
}

std::optional<std::vector<std::uint8_t>> decode_base64url(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;  // 6 bits cannot end a byte
  std::vector<std::uint8_t> out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char ch : text) {
    std::uint32_t v = 0;
    if (ch >= 'A' && ch <= 'Z') v = static_cast<std::uint32_t>(ch - 'A');
    else if (ch >= 'a' && ch <= 'z') v = static_cast<std::uint32_t>(ch - 'a' + 26);
    else if (ch >= '0' && ch <= '9') v = static_cast<std::uint32_t>(ch - '0' + 52);
    else if (ch == '-') v = 62;
    else if (ch == '_') v = 63;
    else return std::nullopt;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  return out;
}

std::optional<HeadersPayload> split_headers_payload(const Frame& frame) {
  auto r = split_headers(frame);
  if (auto* p = std::get_if<HeadersPayload>(&r)) return *p;
  return std::nullopt;
}

std::optional<PrioritySpec> decode_priority(const Frame& frame) {
  if (frame.payload.size() != kPriorityLength) return std::nullopt;
  ByteReader r(frame.payload);
  const std::uint32_t dep = *r.be32();
  const std::uint8_t weight = *r.u8();
  return PrioritySpec{frame.stream_id, (dep & 0x80000000u) != 0, dep & kStreamIdMask,
                      static_cast<std::uint16_t>(weight + 1)};
}

std::optional<std::uint32_t> decode_window_update(const Frame& frame) {
  if (frame.payload.size() != kWindowUpdateLength) return std::nullopt;
  ByteReader r(frame.payload);
  return *r.be32() & kStreamIdMask;  // §6.9: one reserved bit, then 31 bits
}

FrameRead read_client_frames(std::span<const std::uint8_t> stream, const ReaderLimits& limits) {
  FrameRead out;
  ByteReader r(stream);

  // Which start: the preface, or an HTTP/1.x request line. "P" could begin
  // either ("PRI *", "POST "), so the preface is compared first.
  const std::size_t n = std::min(stream.size(), kClientPreface.size());
  const bool preface_prefix = std::equal(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(n),
                                         kClientPreface.begin());
  if (preface_prefix) {
    if (n < kClientPreface.size()) return out;
    out.mode = StartMode::kPriorKnowledge;
    (void)r.skip(kClientPreface.size());
  } else {
    // An HTTP/1.x request starts with a method token and a space.
    // Counting one past the cap makes the verdict on a too-long token the
    // same whatever prefix of the stream is seen.
    std::size_t m = 0;
    while (m < stream.size() && m <= kMaxMethodLength && is_method_char(stream[m])) ++m;
    if (m > kMaxMethodLength) return malformed(std::move(out), MalformedReason::kBadPreface);
    if (m == stream.size()) return out;  // still a token
    // "PRI" is the method an HTTP/1.1 server sees in the preface (§3.4): a
    // damaged preface, not a request.
    const std::string_view method(reinterpret_cast<const char*>(stream.data()), m);
    if (m == 0 || stream[m] != ' ' || method == "PRI") {
      return malformed(std::move(out), MalformedReason::kBadPreface);
    }
    const std::string_view text(reinterpret_cast<const char*>(stream.data()),
                                std::min(stream.size(), limits.max_upgrade_head));
    const auto end = text.find("\r\n\r\n");
    if (end == std::string_view::npos) {
      if (stream.size() >= limits.max_upgrade_head) {
        return malformed(std::move(out), MalformedReason::kUpgradeHeadTooLarge);
      }
      return out;
    }
    auto parsed = parse_upgrade_head(text.substr(0, end + 4), limits);
    if (auto* reason = std::get_if<MalformedReason>(&parsed)) {
      return malformed(std::move(out), *reason);
    }
    auto& head = std::get<UpgradeHead>(parsed);
    out.mode = StartMode::kUpgrade;
    out.upgrade_settings = std::move(head.settings);
    Frame settings;
    settings.length = static_cast<std::uint32_t>(out.upgrade_settings.size());
    settings.type = frame_type::kSettings;
    settings.payload = out.upgrade_settings;
    settings.from_upgrade_header = true;
    out.frames.push_back(settings);
    (void)r.skip(head.head_length);
    if (!r.skip(head.body_length)) return out;
    out.consumed = r.position();
    // After the server's 101 the client sends the preface (RFC 7540 §3.5).
    const auto rest = r.rest();
    const std::size_t k = std::min(rest.size(), kClientPreface.size());
    if (!std::equal(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(k), kClientPreface.begin())) {
      return malformed(std::move(out), MalformedReason::kBadPreface);
    }
    if (k < kClientPreface.size()) return out;
    (void)r.skip(kClientPreface.size());
  }
  out.consumed = r.position();

  bool first = true;
  bool block_open = false;
  std::uint32_t block_stream = 0;
  std::size_t block_bytes = 0;
  std::size_t examined = 0;
  while (true) {
    if (examined == limits.max_frames) {
      out.status = ReadStatus::kOk;
      out.frame_cap_reached = true;
      return out;
    }
    ByteReader frame_reader(r.rest());
    auto length = frame_reader.be24();
    auto type = frame_reader.u8();
    auto flags = frame_reader.u8();
    auto sid = frame_reader.be32();
    if (!length || !type || !flags || !sid) return out;
    if (*length > limits.max_frame_payload) {
      return malformed(std::move(out), MalformedReason::kFrameTooLarge);
    }
    auto payload = frame_reader.bytes(*length);
    if (!payload) return out;
    Frame f{*length, *type, *flags, *sid & kStreamIdMask, *payload, false};

    // §3.4: the preface ends with a SETTINGS frame.
    if (first && (f.type != frame_type::kSettings || (f.flags & frame_flag::kAck) != 0)) {
      return malformed(std::move(out), MalformedReason::kSettingsExpected);
    }
    first = false;
    // §6.10: a header block is contiguous; nothing may interleave.
    if (block_open && (f.type != frame_type::kContinuation || f.stream_id != block_stream)) {
      return malformed(std::move(out), MalformedReason::kContinuationExpected);
    }
    bool done = false;
    switch (f.type) {
      case frame_type::kSettings:
        if (f.stream_id != 0) return malformed(std::move(out), MalformedReason::kBadStreamId);
        if (f.length % kSettingLength != 0 ||
            ((f.flags & frame_flag::kAck) != 0 && f.length != 0)) {
          return malformed(std::move(out), MalformedReason::kSettingsLength);
        }
        break;
      case frame_type::kWindowUpdate:
        if (f.length != kWindowUpdateLength) {
          return malformed(std::move(out), MalformedReason::kWindowUpdateLength);
        }
        break;
      case frame_type::kPriority:
        if (f.stream_id == 0) return malformed(std::move(out), MalformedReason::kBadStreamId);
        if (f.length != kPriorityLength) return malformed(std::move(out), MalformedReason::kPriorityLength);
        break;
      case frame_type::kHeaders: {
        if (f.stream_id == 0) return malformed(std::move(out), MalformedReason::kBadStreamId);
        auto split = split_headers(f);
        if (auto* reason = std::get_if<MalformedReason>(&split)) return malformed(std::move(out), *reason);
        block_bytes = std::get<HeadersPayload>(split).fragment.size();
        if (block_bytes > limits.max_header_block) {
          return malformed(std::move(out), MalformedReason::kHeaderBlockTooLarge);
        }
        block_open = (f.flags & frame_flag::kEndHeaders) == 0;
        block_stream = f.stream_id;
        done = !block_open;
        break;
      }
      case frame_type::kContinuation:
        // A CONTINUATION with no open block is a protocol error (§6.10) but
        // carries nothing we fingerprint; it is listed and skipped.
        if (block_open) {
          block_bytes += f.length;
          if (block_bytes > limits.max_header_block) {
            return malformed(std::move(out), MalformedReason::kHeaderBlockTooLarge);
          }
          block_open = (f.flags & frame_flag::kEndHeaders) == 0;
          done = !block_open;
        }
        break;
      case frame_type::kPing:
      case frame_type::kGoaway:
        if (f.stream_id != 0) return malformed(std::move(out), MalformedReason::kBadStreamId);
        done = f.type == frame_type::kGoaway;  // the client is closing
        break;
      case frame_type::kData:
        if (f.stream_id == 0) return malformed(std::move(out), MalformedReason::kBadStreamId);
        break;
      default:
        break;  // §5.5: unknown and extension types are ignored
    }
    (void)r.skip(kFrameHeaderLength + f.length);
    out.frames.push_back(f);
    out.consumed = r.position();
    ++examined;
    if (done) {
      out.status = ReadStatus::kOk;
      return out;
    }
  }
}

}  // namespace huginn::fingerprint::http2
