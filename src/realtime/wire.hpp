#pragma once
// Wire forms of hub events: Server-Sent Events blocks (HTML Living
// Standard §9.2 "Server-sent events", the event stream format of §9.2.5)
// and NDJSON lines (one JSON text per line, LF-terminated).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "huginn/store/profile_store.hpp"

namespace huginn::realtime::detail {

// Appends `json` with every CR and LF replaced by a space. Compact JSON has
// neither; in pretty JSON they are insignificant whitespace (RFC 8259 §2)
// and inside strings they must already be escaped, so the replacement
// never changes the value. It keeps one event on one `data:` line and one
// NDJSON record on one line.
void append_one_line(std::string& out, std::string_view json);
void append_one_line(std::string& out, const store::JsonText& json);

// Appends one SSE event block: "event: E\n", "id: N\n" when `id` is set,
// "data: D\n", then the blank line that dispatches it (§9.2.6).
void append_sse_event(std::string& out, std::string_view event, std::optional<std::uint64_t> id,
                      std::string_view data);
// The same with a profile revision's JSON as data (event `profile`).
void append_sse_event(std::string& out, std::string_view event, std::optional<std::uint64_t> id,
                      const store::JsonText& data);

// {"ip":"...","seq":N}: the data of an SSE expired/deleted event.
[[nodiscard]] std::string removal_json(std::string_view ip, std::uint64_t seq);

// The SSE event name for a store event: profile, expired or deleted.
[[nodiscard]] std::string_view sse_event_name(store::EventType type);

// NDJSON lines of the stream channels:
//   {"type":"profile","ip":..,"seq":..[,"profile":{...}]}
//   {"type":"expired"|"deleted","ip":..,"seq":..}
// `profile` null for expired/deleted; `with_profile` false gives the short
// progress line the push channel writes beside each push.
void append_ndjson_event(std::string& out, store::EventType type, std::string_view ip, std::uint64_t seq,
                         const store::ProfileRevision* profile, bool with_profile);

// One WebSocket message of the /ws channel (docs/realtime.md "WebSocket"),
// '\n'-terminated: {"event":E[,"id":N],"data":D}\n. `data` is the same
// bytes as the SSE event's data line. The hub keeps messages of one
// subscriber in one string separated by that '\n' (JSON made one-line by
// append_one_line never contains a raw LF) and sends each line as one text
// message; the '\n' itself is not sent.
void append_ws_event(std::string& out, std::string_view event, std::optional<std::uint64_t> id,
                     std::string_view data);
void append_ws_event(std::string& out, std::string_view event, std::optional<std::uint64_t> id,
                     const store::JsonText& data);

// One change (profile, expired, deleted) as an SSE event block (`ws`
// false) or a /ws message (`ws` true), id = seq: the data is the
// revision's JSON, or removal_json(ip, seq) when `profile` is null.
void append_change_event(std::string& out, bool ws, store::EventType type, std::string_view ip, std::uint64_t seq,
                         const store::ProfileRevision* profile);

// A JSON string literal for `text` (RFC 8259 §7).
[[nodiscard]] std::string json_quote(std::string_view text);

}  // namespace huginn::realtime::detail
