#pragma once
// HTTP/2 client fingerprint in the form of Akamai's "Passive Fingerprinting
// of HTTP/2 Clients" (Shuster, Black Hat EU 2017), as echo services print it:
//
//   SETTINGS|WINDOW_UPDATE|PRIORITY|PSEUDO_HEADER_ORDER
//   e.g. 1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p
//
//  - SETTINGS: `id:value` (decimal) of the client's first non-ACK SETTINGS,
//    wire order, joined by ';'. Duplicates and unknown ids are kept as sent
//    (the id set is itself a trait); reserved GREASE ids (is_grease_setting)
//    are left out so that a greasing client keeps one fingerprint, and
//    counted in `grease_settings`. Empty for a SETTINGS frame with no
//    parameters. In Upgrade mode the HTTP2-Settings header is that SETTINGS.
//  - WINDOW_UPDATE: increment of the first connection-level (stream 0)
//    WINDOW_UPDATE before the first HEADERS, decimal; "00" when none. Later
//    ones are counted in `window_updates` only. Stream-level ones are not
//    part of the fingerprint.
//  - PRIORITY: PRIORITY frames before the first HEADERS, as
//    `stream:exclusive:dependency:weight` (exclusive 0/1, weight = wire + 1)
//    joined by ','; "0" when none. At most max_priority_frames are shown;
//    if more were sent, a last element `+N` gives how many were left out.
//    Priority carried by the HEADERS frame itself (PRIORITY flag, as Chrome
//    sends it) is not a PRIORITY frame: it is kept in `headers_priority`
//    and shown by format_headers_priority(), not in this field.
//  - PSEUDO_HEADER_ORDER: the pseudo-header fields of the first header
//    block in order, `m` :method, `a` :authority, `s` :scheme, `p` :path,
//    `?` for any other (":protocol", ":status", unknown), joined by ','.
//    Pseudo-headers after a regular field are still listed (that order is
//    invalid, RFC 9113 §8.3, and worth seeing). Empty without a header block
//    (an Upgrade request with nothing after it).
//
// docs/http2-fingerprint.md has examples from real clients.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "huginn/fingerprint/http2/frame_reader.hpp"
#include "huginn/fingerprint/http2/header_block.hpp"

namespace huginn::fingerprint::http2 {

// SETTINGS identifiers, RFC 9113 §6.5.2 (+ RFC 8441, RFC 9218).
namespace setting {
inline constexpr std::uint16_t kHeaderTableSize = 0x1;
inline constexpr std::uint16_t kEnablePush = 0x2;
inline constexpr std::uint16_t kMaxConcurrentStreams = 0x3;
inline constexpr std::uint16_t kInitialWindowSize = 0x4;
inline constexpr std::uint16_t kMaxFrameSize = 0x5;
inline constexpr std::uint16_t kMaxHeaderListSize = 0x6;
inline constexpr std::uint16_t kEnableConnectProtocol = 0x8;   // RFC 8441 §3
inline constexpr std::uint16_t kNoRfc7540Priorities = 0x9;     // RFC 9218 §2.1
}  // namespace setting

struct Setting {
  std::uint16_t id = 0;
  std::uint32_t value = 0;
  friend bool operator==(const Setting&, const Setting&) = default;
};

// Reserved setting ids of the form 0x?a?a, which draft-bishop-httpbis-grease
// asks clients to send with random values so that servers keep ignoring
// unknown settings (RFC 9113 §6.5.2).
[[nodiscard]] constexpr bool is_grease_setting(std::uint16_t id) {
  return (id & 0x0f0f) == 0x0a0a;
}

struct FingerprintLimits {
  // PRIORITY frames shown in the fingerprint. Firefox sent 6, nghttp sends
  // 5; a hostile client could send thousands, so the string stays bounded.
  std::size_t max_priority_frames = 16;
  HeaderLimits headers;
  // Fragment bytes of the first header block buffered (see ReaderLimits).
  std::size_t max_header_block = 16384;
};

// Values taken from the frames; format_akamai() renders them.
struct ClientFingerprint {
  // First non-ACK SETTINGS, wire order, GREASE and unknown ids included.
  std::vector<Setting> settings;
  bool settings_seen = false;
  bool settings_from_upgrade = false;  // taken from HTTP2-Settings
  std::size_t grease_settings = 0;     // GREASE ids in `settings`

  // First stream-0 WINDOW_UPDATE increment before the first HEADERS.
  std::optional<std::uint32_t> window_update;
  std::size_t window_updates = 0;      // stream-0 WINDOW_UPDATEs before the first HEADERS

  std::vector<PrioritySpec> priority_frames;  // at most max_priority_frames
  std::size_t priority_frames_total = 0;      // sent before the first HEADERS

  // The first HEADERS frame: its stream and its PRIORITY-flag fields.
  std::optional<std::uint32_t> headers_stream_id;
  std::optional<PrioritySpec> headers_priority;
  // Its decoded header block (status kAbsent until the block is complete).
  HeaderBlock headers;
  // True when the fragments exceeded max_header_block (headers.status is
  // then kTruncated and nothing of the block was decoded).
  bool header_block_too_large = false;

  // "m,a,s,p" (see the file comment).
  std::string pseudo_header_order;

  // The first field named `name` (lowercase) in the header list, or nullopt.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
  [[nodiscard]] std::optional<std::string_view> method() const { return header(":method"); }
  [[nodiscard]] std::optional<std::string_view> path() const { return header(":path"); }
  [[nodiscard]] std::optional<std::string_view> authority() const { return header(":authority"); }
  [[nodiscard]] std::optional<std::string_view> user_agent() const { return header("user-agent"); }
};

// Accumulates one connection's client frames; a pure function of them.
// Frames come either raw (add_frame: type, flags, stream id, payload, as
// read_client_frames() lists them) or already decoded (the add_* calls, for
// an nghttp2 session's callbacks, which hand over decoded frames and header
// fields). Everything after the first complete header block is ignored.
// Invalid frames (wrong length, bad padding) are skipped: checking them is
// the reader's job, and the nghttp2 session rejects them before callbacks.
class ClientFingerprintBuilder {
 public:
  explicit ClientFingerprintBuilder(const FingerprintLimits& limits = {}) : limits_(limits) {}

  void add_frame(const Frame& frame);

  void add_settings(std::span<const Setting> settings, bool from_upgrade = false);
  void add_window_update(std::uint32_t stream_id, std::uint32_t increment);
  void add_priority(const PrioritySpec& priority);
  // A complete first header block as decoded fields (nghttp2's on_header
  // callback). Fields past limits.headers are cut as decode_header_block does.
  void add_headers(std::uint32_t stream_id, const std::optional<PrioritySpec>& priority,
                   std::span<const HeaderField> fields);

  // The first header block is complete; further input is ignored.
  [[nodiscard]] bool done() const { return done_; }
  [[nodiscard]] const ClientFingerprint& fingerprint() const { return fp_; }

 private:
  void finish_block();
  void set_headers(HeaderBlock block);

  FingerprintLimits limits_;
  ClientFingerprint fp_;
  std::vector<std::uint8_t> block_;  // fragments of the open header block
  bool block_open_ = false;
  bool done_ = false;
};

// The fingerprint of `frames` (e.g. FrameRead::frames).
[[nodiscard]] ClientFingerprint compute_client_fingerprint(std::span<const Frame> frames,
                                                           const FingerprintLimits& limits = {});

// "S|WU|P|PS" as described above.
[[nodiscard]] std::string format_akamai(const ClientFingerprint& fp);
// The pseudo-header letters of `fields` (the PSEUDO_HEADER_ORDER field).
[[nodiscard]] std::string format_pseudo_header_order(std::span<const HeaderField> fields);
// `stream:exclusive:dependency:weight` of the first HEADERS' priority, or
// "" when its PRIORITY flag was clear.
[[nodiscard]] std::string format_headers_priority(const ClientFingerprint& fp);

}  // namespace huginn::fingerprint::http2
