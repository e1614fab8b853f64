#pragma once
// HTTP/2 client frame reader: the frames at the start of a client->server
// stream, up to and including the client's first complete header block.
//
// Two ways in (RFC 9113 §3):
//  - prior knowledge (§3.3): the stream starts with the 24-byte client
//    connection preface (§3.4), then frames;
//  - HTTP/1.1 Upgrade (RFC 7540 §3.2, removed from RFC 9113 but still sent
//    by curl --http2 and nghttp -u): an HTTP/1.1 request with
//    `Upgrade: h2c` and one `HTTP2-Settings` header carrying the client's
//    SETTINGS payload base64url-encoded (RFC 7540 §3.2.1). After the
//    server's 101 the client sends the preface and frames on the same
//    stream. The decoded header becomes a SETTINGS frame at the front of
//    the frame list (FrameRead::upgrade_settings).
//
// Frames follow RFC 9113 §4.1: 9-byte header (24-bit length, type, flags,
// reserved bit + 31-bit stream id), then the payload. The reader checks the
// frame-level rules a fingerprint depends on (§6.2, §6.3, §6.5, §6.9,
// §6.10) and nothing about stream states.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace huginn::fingerprint::http2 {

// RFC 9113 §3.4.
inline constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
inline constexpr std::size_t kFrameHeaderLength = 9;  // RFC 9113 §4.1

// Frame types, RFC 9113 §6 (IANA "HTTP/2 Frame Type").
namespace frame_type {
inline constexpr std::uint8_t kData = 0x0;
inline constexpr std::uint8_t kHeaders = 0x1;
inline constexpr std::uint8_t kPriority = 0x2;
inline constexpr std::uint8_t kRstStream = 0x3;
inline constexpr std::uint8_t kSettings = 0x4;
inline constexpr std::uint8_t kPushPromise = 0x5;
inline constexpr std::uint8_t kPing = 0x6;
inline constexpr std::uint8_t kGoaway = 0x7;
inline constexpr std::uint8_t kWindowUpdate = 0x8;
inline constexpr std::uint8_t kContinuation = 0x9;
}  // namespace frame_type

// Frame flags, RFC 9113 §6. kAck shares bit 0 with kEndStream.
namespace frame_flag {
inline constexpr std::uint8_t kEndStream = 0x01;
inline constexpr std::uint8_t kAck = 0x01;
inline constexpr std::uint8_t kEndHeaders = 0x04;
inline constexpr std::uint8_t kPadded = 0x08;
inline constexpr std::uint8_t kPriority = 0x20;
}  // namespace frame_flag

// Limits, each with its reason.
struct ReaderLimits {
  // RFC 9113 §4.2: until the server's SETTINGS_MAX_FRAME_SIZE says more, a
  // frame payload is at most 2^14 bytes, its initial value. A client's
  // first flight is sent before it can know the server's value, so a
  // longer frame here is an attack or not HTTP/2. A caller that has seen
  // the server's SETTINGS (our own server) may raise this.
  std::size_t max_frame_payload = 16384;
  // Frames examined before giving up on reaching a header block. Real
  // clients send 2-9 frames before their first HEADERS (Firefox's six
  // PRIORITY frames are the most seen); 64 leaves room while bounding the
  // work a client that never sends HEADERS can cause.
  std::size_t max_frames = 64;
  // HEADERS + CONTINUATION fragments of the first header block, in bytes
  // (padding and priority fields excluded). Browsers' first requests
  // compress to under 1 KiB; 16 KiB is nghttp2's default for a whole header
  // list and more than a flow prefix (limits::kMaxFlowData) holds anyway.
  std::size_t max_header_block = 16384;
  // The HTTP/1.1 Upgrade request head, request line to the empty line.
  // Same bound as the flow prefix: a head that does not fit there cannot
  // complete anyway.
  std::size_t max_upgrade_head = 8192;
};

// One frame as on the wire. `payload` points into the stream passed to
// read_client_frames() (or into FrameRead::upgrade_settings for the frame
// decoded from HTTP2-Settings) and is valid as long as that storage.
struct Frame {
  std::uint32_t length = 0;  // payload length from the frame header
  std::uint8_t type = 0;     // frame_type::*; unknown types are kept
  std::uint8_t flags = 0;    // frame_flag::*
  std::uint32_t stream_id = 0;  // 31 bits; the reserved bit is dropped (§4.1: "MUST be ignored")
  std::span<const std::uint8_t> payload;
  // True for the SETTINGS frame made from the Upgrade request's
  // HTTP2-Settings header; it was never on the wire as a frame.
  bool from_upgrade_header = false;
};

// Priority fields (RFC 9113 §5.3.2, §6.3; deprecated by RFC 9113 but what
// Akamai's fingerprint records). `weight` is the wire byte + 1 (1..256),
// the weight the RFC defines and fingerprints show.
struct PrioritySpec {
  std::uint32_t stream_id = 0;   // the stream the priority is for
  bool exclusive = false;
  std::uint32_t dependency = 0;  // 31 bits
  std::uint16_t weight = 16;     // RFC 9113 §5.3.5 default (wire byte 15)

  friend bool operator==(const PrioritySpec&, const PrioritySpec&) = default;
};

// A HEADERS payload split into its parts (RFC 9113 §6.2).
struct HeadersPayload {
  std::optional<PrioritySpec> priority;  // present iff the PRIORITY flag is set
  std::span<const std::uint8_t> fragment;  // header block fragment, padding removed
};

enum class ReadStatus : std::uint8_t {
  kNeedMore,   // a valid prefix so far; call again with more of the stream
  kMalformed,  // not HTTP/2 or broken: `reason` says which; give up on the stream
  kOk,         // done: the first header block is complete, the client sent
               // GOAWAY, or max_frames were examined (`frame_cap_reached`)
};

// Why a stream was given up. Each has a counter name (reason_name).
enum class MalformedReason : std::uint8_t {
  kNone,
  kBadPreface,            // h2_bad_preface: neither the preface nor an HTTP/1.1 request
  kNotUpgrade,            // h2_not_upgrade: an HTTP/1.x request without Upgrade: h2c
  kUpgradeHeadTooLarge,   // h2_upgrade_head_too_large: no empty line within max_upgrade_head
  kUpgradeBadSettings,    // h2_upgrade_bad_settings: HTTP2-Settings missing, repeated or not base64url
  kUpgradeBody,           // h2_upgrade_body: a request body we cannot skip (chunked or bad Content-Length)
  kFrameTooLarge,         // h2_frame_too_large: payload length > max_frame_payload
  kSettingsExpected,      // h2_settings_expected: first frame after the preface is not SETTINGS (§3.4)
  kSettingsLength,        // h2_settings_length: SETTINGS length not a multiple of 6, or ACK with payload (§6.5)
  kBadStreamId,           // h2_bad_stream_id: connection frame on a stream or stream frame on 0 (§6)
  kWindowUpdateLength,    // h2_window_update_length: WINDOW_UPDATE payload is not 4 bytes (§6.9)
  kPriorityLength,        // h2_priority_length: PRIORITY payload is not 5 bytes, or HEADERS too short for its priority fields (§6.2, §6.3)
  kPaddingOverrun,        // h2_padding_overrun: pad length leaves no room (§6.2, §6.1)
  kContinuationExpected,  // h2_continuation_expected: a header block is open and the next frame is not its CONTINUATION (§6.10)
  kHeaderBlockTooLarge,   // h2_header_block_too_large: fragments exceed max_header_block
};

// The counter name, e.g. "h2_bad_preface"; "" for kNone.
[[nodiscard]] std::string_view reason_name(MalformedReason reason);

enum class StartMode : std::uint8_t {
  kUnknown,         // not decided yet (too few bytes) or malformed before deciding
  kPriorKnowledge,  // the stream starts with the preface
  kUpgrade,         // HTTP/1.1 Upgrade: h2c, then the preface
};

// Move-only: `frames` may point into `upgrade_settings`, whose heap buffer
// moves with it but would not be shared by a copy.
struct FrameRead {
  FrameRead() = default;
  FrameRead(FrameRead&&) = default;
  FrameRead& operator=(FrameRead&&) = default;
  FrameRead(const FrameRead&) = delete;
  FrameRead& operator=(const FrameRead&) = delete;

  ReadStatus status = ReadStatus::kNeedMore;
  MalformedReason reason = MalformedReason::kNone;  // set iff kMalformed
  StartMode mode = StartMode::kUnknown;
  // Every complete frame examined, in stream order, whatever the status (a
  // caller may fingerprint a stream that ended before its first HEADERS).
  // In Upgrade mode the first entry is the SETTINGS frame decoded from
  // HTTP2-Settings (from_upgrade_header).
  std::vector<Frame> frames;
  // Bytes of the stream up to the end of the last frame examined.
  std::size_t consumed = 0;
  // kOk because max_frames were examined without a complete header block.
  bool frame_cap_reached = false;
  // The decoded HTTP2-Settings value (Upgrade mode).
  std::vector<std::uint8_t> upgrade_settings;
};

// Reads the client frames at the start of `stream`, the client->server
// bytes of a TCP connection from its first byte. Stateless: call again
// with the longer stream when more arrives. Never throws; reads only inside
// `stream`; keeps no reference to it beyond the returned spans.
//
// Unknown frame types and frames of no interest (DATA, PING, RST_STREAM,
// extension and reserved "GREASE" types) are listed and skipped, as RFC 9113
// §5.5 asks of unknown types. Stops after the frame that completes the first
// header block (END_HEADERS on HEADERS or its last CONTINUATION), after a
// GOAWAY, or after max_frames.
[[nodiscard]] FrameRead read_client_frames(std::span<const std::uint8_t> stream,
                                           const ReaderLimits& limits = {});

// Splits a HEADERS payload by its PADDED and PRIORITY flags (RFC 9113 §6.2).
// nullopt when the pad length or the priority fields do not fit (the reader
// reports those as kPaddingOverrun / kPriorityLength).
[[nodiscard]] std::optional<HeadersPayload> split_headers_payload(const Frame& frame);

// A PRIORITY frame's fields (RFC 9113 §6.3); nullopt unless the payload is
// exactly 5 bytes.
[[nodiscard]] std::optional<PrioritySpec> decode_priority(const Frame& frame);

// The 4-byte big-endian value of a WINDOW_UPDATE (RFC 9113 §6.9), reserved
// bit dropped; nullopt unless the payload is exactly 4 bytes.
[[nodiscard]] std::optional<std::uint32_t> decode_window_update(const Frame& frame);

// RFC 4648 §5 base64url without padding, as RFC 7540 §3.2.1 requires for
// HTTP2-Settings; trailing '=' is tolerated. nullopt on any other character
// or an impossible length (4n+1).
[[nodiscard]] std::optional<std::vector<std::uint8_t>> decode_base64url(std::string_view text);

}  // namespace huginn::fingerprint::http2
