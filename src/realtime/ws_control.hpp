#pragma once
// Control messages a /ws client sends (docs/realtime.md "WebSocket"), one
// JSON object per text message:
//   {"op":"subscribe"[,"filter":{"ip":..,"os":..,"ja4":..}][,"last_event_id":N]}
//   {"op":"pause"}  {"op":"resume"}  {"op":"ping"}
// and the hub's answers to them. Strict like the query parser: an unknown
// op or field, a wrong type or a malformed filter value is an error with a
// sentence for the client, never a guess.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "huginn/realtime/event_hub.hpp"

namespace huginn::realtime::detail {

// Objects and arrays may nest this deep ({"filter":{...}} is 2). Checked
// before the JSON parser builds anything, so a message of 64 KiB of '['
// costs a scan, not a tree.
inline constexpr std::size_t kMaxControlDepth = 4;

enum class WsOp : std::uint8_t { kSubscribe, kPause, kResume, kPing };

struct WsControl {
  WsOp op = WsOp::kPing;
  Filter filter;                                 // kSubscribe only
  std::optional<std::uint64_t> last_event_id;    // kSubscribe only
};

// Parses one control message. nullopt with `error` set (a sentence) when
// it is not valid JSON, nests deeper than kMaxControlDepth, is not an
// object, or has an unknown op, an unknown field or a bad value.
[[nodiscard]] std::optional<WsControl> parse_ws_control(std::string_view text, std::string& error);

// {"event":"subscribed","data":{"filter":{..},"paused":B,"seq":N}}\n
// (absent filter keys omitted).
void append_ws_subscribed(std::string& out, const Filter& filter, bool paused, std::uint64_t seq);
// {"event":"error","data":{"message":"..."}}\n
void append_ws_error(std::string& out, std::string_view message);

}  // namespace huginn::realtime::detail
