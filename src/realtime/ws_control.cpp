#include "realtime/ws_control.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "realtime/request_params.hpp"
#include "realtime/wire.hpp"

namespace huginn::realtime::detail {
namespace {

// Deepest nesting of objects and arrays in `text`, outside strings. Stops
// counting past `limit`. Malformed JSON is the parser's to reject; this
// only has to be right for text the parser would accept.
std::size_t nesting_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// One filter value: a non-empty string of at most kMaxParamBytes, the
// same rules as the query parameter of the same name.
bool filter_value(const nlohmann::json& v, std::string_view name, std::string& out, std::string& error) {
  if (!v.is_string()) {
    error = "filter." + std::string(name) + " must be a string";
    return false;
  }
  out = v.get<std::string>();
  if (out.empty()) {
    error = "filter." + std::string(name) + " is empty";
    return false;
  }
  if (out.size() > kMaxParamBytes) {
    error = "filter." + std::string(name) + " longer than " + std::to_string(kMaxParamBytes) + " bytes";
    return false;
  }
  return true;
}

bool parse_filter(const nlohmann::json& f, Filter& filter, std::string& error) {
  if (f.is_null()) return true;
  if (!f.is_object()) {
    error = "filter must be an object";
    return false;
  }
  for (const auto& [key, value] : f.items()) {
    if (value.is_null()) continue;  // {"ip":null}: no ip filter
    std::string text;
    if (key != "ip" && key != "os" && key != "ja4") {
      error = "unknown filter key " + json_quote(key.substr(0, 64)) + " (ip, os, ja4)";
      return false;
    }
    if (!filter_value(value, key, text, error)) return false;
    if (key == "ip") {
      filter.ip = normalise_ip(text);
      if (!filter.ip) {
        error = "filter.ip is not an IPv4 or IPv6 address";
        return false;
      }
    } else if (key == "os") {
      filter.os = std::move(text);
    } else {
      filter.ja4 = std::move(text);
    }
  }
  return true;
}

}  // namespace

std::optional<WsControl> parse_ws_control(std::string_view text, std::string& error) {
  if (nesting_depth(text, kMaxControlDepth) > kMaxControlDepth) {
    error = "control message nested deeper than " + std::to_string(kMaxControlDepth) + " levels";
    return std::nullopt;
  }
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    error = "control message is not JSON";
    return std::nullopt;
  }
  if (!j.is_object()) {
    error = "control message must be a JSON object";
    return std::nullopt;
  }
  const auto op = j.find("op");
  if (op == j.end() || !op->is_string()) {
    error = "control message needs \"op\" (subscribe, pause, resume, ping)";
    return std::nullopt;
  }
  WsControl c;
  const std::string& name = op->get_ref<const std::string&>();
  if (name == "subscribe") {
    c.op = WsOp::kSubscribe;
  } else if (name == "pause") {
    c.op = WsOp::kPause;
  } else if (name == "resume") {
    c.op = WsOp::kResume;
  } else if (name == "ping") {
    c.op = WsOp::kPing;
  } else {
    error = "unknown op " + json_quote(name.substr(0, 64)) + " (subscribe, pause, resume, ping)";
    return std::nullopt;
  }
  for (const auto& [key, value] : j.items()) {
    if (key == "op") continue;
    if (c.op != WsOp::kSubscribe || (key != "filter" && key != "last_event_id")) {
      error = "unknown field " + json_quote(key.substr(0, 64)) + " for op " + name;
      return std::nullopt;
    }
    if (key == "filter") {
      if (!parse_filter(value, c.filter, error)) return std::nullopt;
    } else if (value.is_number_unsigned()) {
      c.last_event_id = value.get<std::uint64_t>();
    } else if (value.is_string()) {
      // The id as a client may have kept it from an SSE `id:` line.
      c.last_event_id = parse_seq(value.get_ref<const std::string&>());
      if (!c.last_event_id) {
        error = "last_event_id is not a sequence number";
        return std::nullopt;
      }
    } else if (!value.is_null()) {
      error = "last_event_id must be a non-negative integer";
      return std::nullopt;
    }
  }
  return c;
}

void append_ws_subscribed(std::string& out, const Filter& filter, bool paused, std::uint64_t seq) {
  std::string data = "{\"filter\":{";
  bool first = true;
  auto add = [&](std::string_view key, const std::optional<std::string>& v) {
    if (!v) return;
    if (!first) data += ',';
    first = false;
    data += json_quote(key);
    data += ':';
    data += json_quote(*v);
  };
  add("ip", filter.ip);
  add("os", filter.os);
  add("ja4", filter.ja4);
  data += "},\"paused\":";
  data += paused ? "true" : "false";
  data += ",\"seq\":" + std::to_string(seq) + "}";
  append_ws_event(out, "subscribed", std::nullopt, data);
}

void append_ws_error(std::string& out, std::string_view message) {
  append_ws_event(out, "error", std::nullopt, "{\"message\":" + json_quote(message) + "}");
}

}  // namespace huginn::realtime::detail
