#pragma once
// HPACK decoding (RFC 7541) of one complete header block with nghttp2's
// inflater, bounded, keeping the ordered header list. Used for the client's
// first header block, so it starts from an empty dynamic table.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace huginn::fingerprint::http2 {

struct HeaderLimits {
  // Fields kept, pseudo-header fields included. Browsers send 10-20 on a
  // first request; 100 is huginn-net's HTTP header cap.
  std::size_t max_fields = 100;
  // Bytes kept of a name / a value. Names are lowercase tokens (RFC 9113
  // §8.2.1) well under 64 bytes in practice; values are hostile text that
  // reaches logs and the dashboard, so 1024 bytes, p0f's HTTP value cap
  // (config.h HTTP_MAX_HDR_VAL), as the HTTP/1 parser keeps.
  std::size_t max_name_length = 128;
  std::size_t max_value_length = 1024;
  // Decoded header list size as RFC 9113 §6.5.2 SETTINGS_MAX_HEADER_LIST_SIZE
  // counts it (name + value + 32 per field), counted before cutting. Decoding
  // stops past it; 64 KiB bounds the work a block that references large
  // table entries over and over can cause.
  std::size_t max_list_size = 64 * 1024;
  // Dynamic table size the decoder accepts (RFC 7541 §4.2). The encoder's
  // table is at most the server's SETTINGS_HEADER_TABLE_SIZE, which we may
  // not have seen; a larger decoder table decodes the same block (indices
  // count from the newest entry), so allow 64 KiB, well above the 4096
  // default and what servers announce.
  std::size_t max_table_size = 64 * 1024;
};

struct HeaderField {
  std::string name;   // as decoded (HPACK carries lowercase names; not re-checked)
  std::string value;  // cut at max_value_length; raw bytes, may be non-printable
  bool name_truncated = false;
  bool value_truncated = false;

  friend bool operator==(const HeaderField&, const HeaderField&) = default;
};

enum class HeaderStatus : std::uint8_t {
  kAbsent,     // no header block was seen
  kOk,         // every field decoded and kept
  kTruncated,  // max_fields or max_list_size reached: later fields are not kept
  kHpackError, // nghttp2 rejected the block (fields before the error are kept)
};

struct HeaderBlock {
  HeaderStatus status = HeaderStatus::kAbsent;
  std::vector<HeaderField> fields;  // wire order, at most max_fields
};

// Appends one decoded field to `block` under `limits`, cutting the name and
// value; `list_size` is the running RFC 9113 §6.5.2 size. Returns false, and
// sets block.status to kTruncated without appending, once max_fields or
// max_list_size would be exceeded. decode_header_block() and callers that
// get fields already decoded (an nghttp2 session) share this rule.
bool append_header_field(HeaderBlock& block, std::string_view name, std::string_view value,
                         const HeaderLimits& limits, std::size_t& list_size);

// Decodes `block` (a whole header block: HEADERS fragment + CONTINUATION
// fragments, padding removed) with a fresh nghttp2 inflater. Never throws
// for any input (std::bad_alloc aside); never reads outside `block`.
// Returns kOk, kTruncated or kHpackError (nghttp2 error, a block that ends
// inside a field, or allocation failure inside nghttp2).
[[nodiscard]] HeaderBlock decode_header_block(std::span<const std::uint8_t> block,
                                              const HeaderLimits& limits = {});

}  // namespace huginn::fingerprint::http2
